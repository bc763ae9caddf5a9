"""Compare runs: curves on one chart, the settings that differ, best metrics, and how far forks drift apart."""

import streamlit as st

from ui import runs
from ui.curve_view import curve_view
from ui.frame import inside_app_frame
from viz.runs import X_AXES, compare_curves, distance_figure

inside_app_frame(__file__)

st.title("Compare runs")

runs.show_messages()
infos = runs.listing()
runs.show_damaged(infos)
if len(runs.healthy(infos)) == 0:
    st.info(
        "No runs yet. Create and train runs on the **Runs** page, or with `python -m backprop train`, "
        "or start from two trained examples:"
    )
    runs.example_runs_button()
    st.stop()

picked = runs.compare_picker(infos)
following = runs.watch(picked)  # before the runs are read: a last save is never missed
chosen = runs.open_chosen(picked)
if not chosen:
    st.info("Pick one or more runs above.")
    st.stop()
ceiling = runs.bayes_accuracy(chosen)


@st.fragment
def curves():
    """The chart and its controls: changing one redraws only this part of the page."""
    cols = st.columns([2, 2, 1, 1])
    x_axis = cols[0].radio(
        "x axis",
        list(X_AXES),
        horizontal=True,
        key="compare.x",
        format_func=X_AXES.get,
        persist_state="session",
    )
    smoothing = cols[1].slider(
        "Smoothing (EMA)", 0.0, 0.99, 0.0, 0.01, key="compare.smoothing", persist_state="session"
    )
    log_y = cols[2].checkbox("Log-scale loss", key="compare.log", persist_state="session")
    show_steps = cols[3].checkbox("Step loss", value=True, key="compare.steps", persist_state="session")
    payload = compare_curves(
        runs.histories(chosen),
        x=x_axis,
        smoothing=smoothing,
        log_y=log_y,
        bayes_accuracy=ceiling,
        show_steps=show_steps,
    )
    curve_view(payload, key="compare.chart")


curves()
st.caption(
    "Solid: training; dashed: validation; faint: the loss of every step. "
    "Wall time counts training time only (not evaluation). " + runs.STALL_NOTE
)

st.subheader("Best and final metrics")
st.dataframe(runs.metrics_table(chosen), width="stretch", column_config=runs.METRICS_COLUMNS)

st.subheader("Settings")
styled, differing = runs.config_table(chosen)
st.caption(
    "Differing settings, highlighted: " + (", ".join(differing) or "none")
    if len(chosen) > 1
    else "Pick another run above to see which settings differ."
)
st.dataframe(styled, width="stretch", height="content")

distances = runs.fork_distances(chosen)
if distances:
    st.subheader("Weight distance between forks")
    st.plotly_chart(distance_figure(distances), key="compare.distance")
    st.caption(
        "‖W_a − W_b‖ per layer from per-epoch weight snapshots (kept for networks up to 500k "
        "parameters). Forks with the same initial weights start at 0."
    )

runs.follow(following)
