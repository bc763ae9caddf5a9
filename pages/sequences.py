"""Sequences: build toy next-token data, see its structure, then see what the network learned."""

import streamlit as st

from ui import sequence_views as views
from ui import sequences as ui
from ui.frame import inside_app_frame

inside_app_frame(__file__)

st.title("Sequences")
st.caption(
    "Windows cut from master sequences: the context is the input, the next token "
    "(or the master it came from) is the target. Structure in, structure learned."
)
ui.show_messages()

st.header("Explore the data")
params = ui.dataset_controls()
ds, valid = ui.load_sequences(params)
if ds is None:
    st.stop()
index = views.data_view(params, ds)
ui.use_dataset_controls(params, ds, valid)

st.header("What the network learned")
model, applied = views.applied_model(params, valid)  # stops the page when it is no sequence network
with views.network_sections(shown=applied):  # on other settings: drawn on its own data, hidden
    ui.train_controls(model, params)
    views.accuracy_view(model)
    views.sample_view(model, min(index, model.dataset.n_train - 1))  # hidden: the network's own data
    views.mistakes_view(model)
    views.generation_view(model)
    views.embedding_view(model)
