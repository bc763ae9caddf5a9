"""Draw & predict: draw a digit or a shape, see what the network thinks and why."""

import streamlit as st

from ui import draw as ui
from ui.frame import inside_app_frame

inside_app_frame(__file__)

st.title("Draw & predict")
st.caption(
    "Draw with the mouse, a finger or a pen: white ink on black, like the training images. "
    "Every stage of the preprocessing is shown, so you can see why a sloppy drawing fails."
)

model = ui.model_picker_ui()
ui.model_card(model)
ui.drawing_section(model)  # a stroke, Clear or a picture reruns this section alone
