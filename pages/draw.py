"""Draw & predict: draw a digit or a shape, see what the network thinks and why."""

import streamlit as st

from datasets import drawing
from ui import draw as ui
from ui.frame import inside_app_frame
from viz import draw as figures

inside_app_frame(__file__)

st.title("Draw & predict")
st.caption(
    "Draw with the mouse: white ink on black, like the training images. "
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
        st.info(
            "Draw something on the canvas (or upload a picture) to see a prediction.", icon=":material/draw:"
        )
    else:
        explain = st.selectbox(
            "Explain class",
            [None, *range(len(classes))],
            key="draw.explain",
            format_func=lambda k: "the predicted class" if k is None else classes[k],
        )
        prediction = ui.predict(model, prepared, explain)
        ui.prediction_ui(prediction, classes)
        st.plotly_chart(figures.probability_bars(prediction.probs, classes), key="draw.probs")

if prediction is not None:
    st.subheader("From your drawing to the model's input")
    ui.stage_images(prepared)

# Only the open tab is computed: switching tabs reruns the page.
saliency, maps, activations, teaching, validation = st.tabs(
    ui.TABS, key=ui.TAB_KEY, on_change="rerun", default=ui.TABS[0]
)
if saliency.open:
    with saliency:
        if prediction is None:
            st.info("The saliency map appears once you draw something.")
        else:
            st.plotly_chart(
                figures.saliency_overlay(
                    prepared.model_input, prediction.saliency, classes[prediction.explained]
                ),
                key="draw.saliency",
            )
            st.caption(
                "Red pixels raise the probability of the explained class when made brighter, blue ones "
                "lower it: the gradient ∂P/∂x, computed by backpropagating to the input."
            )
if maps.open:
    with maps:
        if prediction is None:
            st.info("The feature maps appear once you draw something.")
        elif not prediction.feature_maps:
            st.info("This model has no convolution layers: its layers are under Activations.")
        else:
            ui.feature_maps_ui(prediction)
if activations.open:
    with activations:
        if prediction is None:
            st.info("The activations appear once you draw something.")
        else:
            if prediction.feature_maps:
                st.caption("The convolution layers are under Feature maps; here are the dense layers.")
            st.plotly_chart(
                figures.layer_activations(prediction.activations, prediction.layer_names),
                key="draw.activations",
            )
            st.caption("Each layer on its own scale: red positive, white 0, blue negative.")
if teaching.open:
    with teaching:
        if prediction is None:
            st.info("Draw something first, then tell the network what it is.")
        else:
            ui.teaching_ui(model, prepared, prediction, classes)
if validation.open:
    with validation:
        ui.validation_ui(model)

if prediction is not None:
    st.caption(
        f"Preprocessing aside, prediction and saliency took {prediction.seconds * 1000:.1f} ms ({source})."
    )
