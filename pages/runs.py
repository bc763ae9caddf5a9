"""Training runs: create a run from the sidebar setup, train it, look inside its layers, fork and manage it."""

import streamlit as st

from ui import runs
from ui.frame import inside_app_frame
from ui.sidebar import config_sidebar
from ui.text import plain
from viz.runs import distribution_figure, grad_norm_figure

inside_app_frame(__file__)

st.title("Training runs")
st.caption(
    "A run is a saved experiment: settings, every epoch's metrics and its weights. "
    "Fork a run to change one setting and compare fairly: same seed, initial weights and batch order."
)

config = config_sidebar()
runs.show_messages()
infos = runs.store().list()
runs.show_damaged(infos)
names = [info.name for info in runs.healthy(infos)]

with st.expander("New run", expanded=not names):
    runs.create_run_form(config, names)

if not names:
    st.info(
        "No runs yet. Set up the network in the sidebar, name the run and press **Create run**, "
        "or start from two trained examples:"
    )
    runs.example_runs_button()
    st.stop()

name = runs.run_picker(infos)
if name is None:
    st.info("Choose a run to train it, or create a new one above.")
    st.stop()
runs.ensure_active(name)
run = runs.store().open(name)
st.caption(
    f"Active run **{plain(name)}**: {plain(run.config.describe())}"
    + (f" · forked from **{plain(run.parent)}**" if run.parent else "")
    + " · the Step through page shows this network."
)

train_tab, layers_tab, fork_tab, manage_tab = st.tabs(["Train", "Inside the layers", "Fork", "Manage"])

with train_tab:
    runs.train_panel(name)
    history = runs.store().open(name).history
    if history.epochs:
        st.dataframe(runs.epoch_table(history), hide_index=True, width="stretch")

with layers_tab:
    if not history.epochs:
        st.info("Train at least one epoch: per-layer statistics are recorded at the end of each epoch.")
    else:
        quantity = st.radio(
            "Show",
            ["W", "a", "dW"],
            horizontal=True,
            key="runs.quantity",
            format_func={"W": "weights W", "a": "activations a", "dW": "gradients dL/dW"}.get,
        )
        st.plotly_chart(distribution_figure(history, quantity), key="runs.distribution")
        st.caption(
            "Bands: min–max, 7–93, 16–84 and 31–69th percentiles; line: median. Activations and "
            "gradients are measured on a fixed batch of validation samples at each epoch's end."
        )
        st.plotly_chart(grad_norm_figure(history), key="runs.grad_norm")

with fork_tab:
    runs.fork_form(name)

with manage_tab:
    runs.manage_panel(name)
