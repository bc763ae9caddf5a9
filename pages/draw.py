"""Draw & predict: draw a digit or a shape, see what the network thinks and why."""

import streamlit as st

from datasets import drawing
from ui import draw as ui
from ui.frame import inside_app_frame
from ui.text import plain
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
with right:
    if prepared is None or prepared.empty:
        st.info(
            "Draw something on the canvas (or upload a picture) to see a prediction.", icon=":material/draw:"
        )
        prediction = None
    else:
        explain = st.selectbox(
            "Explain class",
            [None, *range(len(classes))],
            key="draw.explain",
            format_func=lambda k: "the predicted class" if k is None else classes[k],
        )
        prediction = ui.predict(model, prepared, explain)
        top = ui.top_k(prediction.probs, classes)
        cols = st.columns(4)
        # Class names come from the model file or the dataset's folders; metric values are Markdown.
        cols[0].metric(
            "Prediction", plain(top[0][0]), f"{top[0][1]:.1%} sure", delta_color="off", delta_arrow="off"
        )
        for col, (name, p) in zip(cols[1:], top[1:]):
            col.metric("next", plain(name), f"{p:.1%}", delta_color="off", delta_arrow="off")
        st.plotly_chart(figures.probability_bars(prediction.probs, classes), key="draw.probs")

if prepared is not None and not prepared.empty:
    st.subheader("From your drawing to the model's input")
    ui.stage_images(prepared)

tabs = st.tabs(["Saliency", "Activations", "Teach it", "Validation"])
with tabs[0]:
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
            "Blue pixels raise the probability of the explained class when made brighter, red ones "
            "lower it: the gradient ∂P/∂x, computed by backpropagating to the input."
        )
with tabs[1]:
    if prediction is None:
        st.info("The activations appear once you draw something.")
    else:
        st.plotly_chart(
            figures.layer_activations(prediction.activations, prediction.layer_names), key="draw.activations"
        )
with tabs[2]:
    if prediction is None:
        st.info("Draw something first, then tell the network what it is.")
    else:
        cols = st.columns(3)
        label = cols[0].selectbox(
            "True label",
            range(len(classes)),
            index=prediction.predicted,
            format_func=classes.__getitem__,
            key="draw.label",
        )
        steps = cols[1].number_input("Backprop steps", 1, 50, 1, key="draw.steps")
        rate = cols[2].select_slider(
            "Learning rate (SGD)", [0.001, 0.01, 0.05, 0.1, 0.5, 1.0], 0.1, key="draw.rate"
        )
        teach_col, reset_col = st.columns(2)
        if teach_col.button("Teach it", type="primary", icon=":material/school:"):
            ui.teach(model, prepared.x, label, int(steps), rate)
            st.rerun()
        if reset_col.button("Reset to the original model", disabled=not model.taught_steps):
            ui.reset_teaching(model)
            st.rerun()
        result = ui.last_teaching(model)
        if result is not None:
            st.plotly_chart(
                figures.probability_shift(result["before"], result["after"], classes, result["label"]),
                key="draw.shift",
            )
            for k, delta in enumerate(result["delta_W"]):
                st.plotly_chart(
                    figures.weight_change(delta, f"ΔW of layer {k + 1} after {result['steps']} step(s)"),
                    key=f"draw.dw{k}",
                )
with tabs[3]:
    if st.toggle("Score the original model on its validation set", key="draw.validate"):
        ui.validation_ui(model)
    else:
        st.caption("Confusion matrix, per-class precision / recall / F1 and the misclassified images.")

if prediction is not None:
    st.caption(
        f"Preprocessing aside, prediction and saliency took {prediction.seconds * 1000:.1f} ms ({source})."
    )
