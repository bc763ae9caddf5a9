"""Sequences: build toy next-token data, see its structure, then see what the network learned."""

import streamlit as st

from ui import sequence_views as views
from ui import sequences as ui
from ui.frame import inside_app_frame
from ui.session import active_model

inside_app_frame(__file__)

st.title("Sequences")
st.caption(
    "Windows cut from master sequences: the context is the input, the next token "
    "(or the master it came from) is the target. Structure in, structure learned."
)
ui.show_messages()
views.hiding_rule()

params = views.data_half()  # the settings, the samples and the network's status: reruns on its own
if not ui.is_sequence_network():
    st.stop()
model = active_model()
with views.network_sections():  # on other settings: drawn on its own data, hidden by the data half
    ui.train_controls(model, params)
    views.accuracy_view(model)
    views.mistakes_view(model)
    views.generation_view(model)
    views.embedding_view(model)
