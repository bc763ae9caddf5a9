"""Step through: one training step of the session's network, forward, loss, backward, update."""

import streamlit as st

from ui import step
from ui.frame import inside_app_frame
from ui.places import messages_in_place
from ui.session import active_model
from ui.sidebar import config_sidebar
from ui.text import plain

inside_app_frame(__file__)

config = config_sidebar()
model = active_model()

st.title("Step through one training step")
st.caption(
    f"{config.describe()} · {model.net.n_parameters:,} parameters · "
    "Next ▸ walks forward layer by layer, the loss, backward, then the update — in your browser."
)


@st.fragment
def stepper():
    """Controls, the player and the open view: a click here reruns only this part of the page."""
    model = active_model()
    settings = step.input_controls(model)
    state = step.step_buttons(model, settings)
    # in a place there on every run: the player after it keeps its place
    messages_in_place([("success", plain(state.notice or "")), ("error", plain(state.error or ""))])
    if state.trace is None:
        return
    st.markdown(step.describe_input(model, state))
    step.player(model, state)
    step.views(model, state)


step.pending_training(model)
stepper()
