"""Home: what the app shows and where each screen lives."""

import streamlit as st

from ui.frame import inside_app_frame
from ui.navigation import SCREENS, page

inside_app_frame(__file__)


st.title("Backprop Visualizer")
st.markdown(
    "See backpropagation happen. A small neural network written from scratch in NumPy "
    "exposes every weight, bias, pre-activation, activation and gradient, so you can "
    "follow one training step from the input to the update, compare whole training runs "
    "side by side, and watch the network classify an image you draw."
)
st.info(
    "Opening this page trains nothing. Every screen starts from a default dataset, "
    "model and run; training only happens when you press a button.",
    icon=":material/info:",
)

st.subheader("Screens")
columns = st.columns(3)
for index, screen in enumerate(s for s in SCREENS if s.url_path):
    with columns[index % 3].container(border=True):
        st.page_link(page(screen.file))
        st.caption(screen.blurb)

st.subheader("The same runs from the command line")
st.markdown(
    "Training and prediction also work headless with `python -m backprop ...`; the app "
    "opens the runs it writes (in `runs/`, or `BACKPROP_RUNS_DIR` when set)."
)
