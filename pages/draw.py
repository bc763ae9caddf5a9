"""Draw & predict: draw a digit or a shape, see what the network thinks and why."""

import streamlit as st

from datasets import drawing
from ui import draw as ui
from ui.frame import inside_app_frame
from viz import draw as figures

inside_app_frame(__file__)

st.title("Draw & predict")
st.caption(
    "Draw with the mouse, a finger or a pen: white ink on black, like the training images. "
    "Every stage of the preprocessing is shown, so you can see why a sloppy drawing fails."
)

model = ui.model_picker_ui()
ui.model_card(model)
classes = [str(c) for c in model.meta["classes"]]

left, right = st.columns([1, 2], gap="large")
with left:
    image, source = ui.drawing_input_ui()

prepared = drawing.prepare(image, model.style) if image is not None else None
prediction = None
with right:
    if prepared is None or prepared.empty:
        ui.no_prediction_ui(classes)
    else:
        prediction = ui.predict(model, prepared)
        ui.prediction_ui(prediction, classes)
        st.html(figures.probability_table(prediction.probs, classes))

# The stages' place and the timing line stay on the page while nothing is drawn, as the prediction's
# does: the next stroke fills them in instead of building them.
st.subheader("From your drawing to the model's input")
if prediction is None:
    ui.no_stage_images()
else:
    ui.stage_images(prepared)

ui.views(model, prepared, prediction, classes)

st.caption(
    "Nothing drawn: no prediction timed yet."
    if prediction is None
    else f"Preprocessing aside, prediction and saliency took {prediction.seconds * 1000:.1f} ms ({source})."
)
