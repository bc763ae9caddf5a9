"""Training runs: create a run from the sidebar setup, train it, look inside its layers, fork and manage it."""

import streamlit as st

from ui import runs
from ui.frame import inside_app_frame
from ui.sidebar import config_sidebar
from ui.text import plain

inside_app_frame(__file__)

st.title("Training runs")
st.caption(
    "A run is a saved experiment: settings, every epoch's metrics and its weights. "
    "Fork a run to change one setting and compare fairly: same seed, initial weights and batch order."
)

config = config_sidebar()
runs.show_messages()
following = runs.watch(runs.store().names())  # before any run is read: a last save is never missed
infos = runs.listing()
runs.show_damaged(infos)
names = [info.name for info in runs.healthy(infos)]

new_run = st.expander("New run", expanded=not names, key="runs.new_open", on_change="rerun")
if new_run.open:  # drawn only while open
    with new_run:
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
run = runs.view(name)
st.caption(
    f"Active run **{plain(name)}**: {runs.describe_run(run)} · {plain(run.config.describe())}"
    + (f" · forked from **{plain(run.parent)}**" if run.parent else "")
    + " · the Step through page shows this network."
)

runs.train_controls(name, run)
runs.run_tabs(name)

runs.follow(following)
