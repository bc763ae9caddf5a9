"""Home: what the app shows and where each screen lives."""

import streamlit as st

from ui.frame import inside_app_frame, page_file

inside_app_frame()


# What each screen is for; titles and icons come from the navigation in streamlit_app.py.
SCREENS = [
    (
        page_file("step_through.py"),
        "Run forward, loss, backward and update one layer at a time, "
        "and click any cell to see the numbers that made it.",
    ),
    (
        page_file("runs.py"),
        "Create and train runs that differ in one setting, with live curves and a stop button.",
    ),
    (page_file("compare.py"), "Put the loss and accuracy curves of several runs on one chart."),
    (page_file("sequences.py"), "Build toy sequence datasets and inspect their structure."),
    (
        page_file("draw.py"),
        "Draw a digit or a shape and see probabilities, per-layer activations "
        "and the pixels that pushed the prediction.",
    ),
]

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
for index, (path, blurb) in enumerate(SCREENS):
    with columns[index % 3].container(border=True):
        st.page_link(path)
        st.caption(blurb)

st.subheader("The same runs from the command line")
st.markdown(
    "Training and prediction also work headless with `python -m backprop ...`; the app "
    "opens the runs it writes (in `runs/`, or `BACKPROP_RUNS_DIR` when set)."
)
