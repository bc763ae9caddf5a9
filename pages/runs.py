"""Training runs: create a run, train it, look inside its layers, fork and manage it."""

import streamlit as st

from ui import runs
from ui.frame import inside_app_frame
from ui.sidebar import link_notices

inside_app_frame(__file__)

st.title("Training runs")
st.caption(
    "A run is a saved experiment: settings, every epoch's metrics and its weights. "
    "Fork a run to change one setting and compare fairly: same seed, initial weights and batch order."
)

link_notices()
runs.show_messages()
following = runs.watch(runs.store().names())  # before any run is read: a last save is never missed
infos = runs.listing()
runs.show_damaged(infos)
names = [info.name for info in runs.healthy(infos)]

new_run = st.expander("New run", expanded=not names, key="runs.new_open", on_change="rerun")
if new_run.open:  # drawn only while open
    with new_run:
        runs.create_run_form(names)

if not names:
    st.info(
        "No runs yet. Set up the run under **New run**, name it and press **Create run**, "
        "or start from two trained examples:"
    )
    runs.example_runs_button()
    st.stop()

runs.run_panel(infos)
runs.training_sidebar()
runs.follow(following)
