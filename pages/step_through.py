"""Step through: one training step of the session's network, forward, loss, backward, update."""

import streamlit as st

from ui import step
from ui.frame import inside_app_frame
from ui.session import active_model
from ui.sidebar import config_sidebar

inside_app_frame()

config = config_sidebar()
model = active_model()

st.title("Step through one training step")
st.caption(
    f"{config.describe()} · {model.net.n_parameters:,} parameters · "
    "Next ▸ walks forward layer by layer, the loss, backward, then the update."
)


@st.fragment
def stepper():
    """Controls and figures: a click here reruns only this part of the page."""
    model = active_model()
    settings = step.input_controls(model)
    state = step.step_buttons(model, settings)
    if state.notice:
        st.success(state.notice)
    if state.error:
        st.error(state.error)
    if state.trace is None:
        return
    step.phase_bar(state, settings)
    description, _ = step.sample_view(model, state)
    st.markdown(description)
    shared = st.toggle(
        "One colour scale per column (off: a scale per matrix)", value=False, key="step.shared_scale"
    )
    step.matrix_columns(state, settings, shared)
    step.update_view(state, settings, shared)

    inspect_tab, network_tab, health_tab, share_tab = st.tabs(
        ["Cell inspector", "Network & task", "Diagnostics", "Share & export"]
    )
    with inspect_tab:
        step.inspector(model, state)
    with network_tab:
        graph, task = st.columns(2)
        with graph:
            step.graph_view(model, state)
        with task:
            step.task_view(model, state)
    with health_tab:
        step.diagnostics(state)
    with share_tab:
        step.share_and_export(model, state)


step.pending_training(model)
stepper()
