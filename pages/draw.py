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

ui.page_body()  # a model picked reruns the body alone; a stroke, a tab or Teach it, the drawing's section
