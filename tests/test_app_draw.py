"""The Draw & predict page under AppTest, fed through the draw.injected_image hook."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from ui.draw import INJECT_KEY, TAUGHT_KEY, model_options

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "draw.py")

WHITE = (255, 255, 255, 255)


def canvas(paint):
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    paint(ImageDraw.Draw(image))
    return np.asarray(image)


VERTICAL_BAR = canvas(lambda d: d.line([(140, 50), (140, 230)], fill=WHITE, width=18))
TRIANGLE = canvas(lambda d: d.line([(140, 40), (240, 220), (40, 220), (140, 40)], fill=WHITE, width=14))


def open_page(image=None, model=None):
    app = AppTest.from_file(PAGE, default_timeout=30)
    if image is not None:
        app.session_state[INJECT_KEY] = image
    app.run()
    if model is not None:
        app.selectbox(key="draw.model").set_value(model).run()
    assert not app.exception, app.exception
    return app


def metric(app, label):
    return next(m.value for m in app.metric if m.label == label)


def test_first_open_shows_the_digits_model_and_asks_for_a_drawing():
    app = open_page()
    assert app.selectbox(key="draw.model").value == "builtin:digits"
    assert metric(app, "Validation accuracy") == "97.2%"
    assert any("Draw something" in info.value for info in app.info)
    assert not [m for m in app.metric if m.label == "Prediction"]
    assert not app.error


def test_vertical_bar_is_read_as_a_one_by_the_digits_model():
    app = open_page(VERTICAL_BAR)
    assert metric(app, "Prediction") == "1"
    assert len(app.get("plotly_chart")) >= 3  # probabilities, saliency, activations


def test_triangle_is_read_as_a_triangle_by_the_shapes_model():
    app = open_page(TRIANGLE, model="builtin:shapes")
    assert metric(app, "Prediction") == "triangle"


def test_every_builtin_model_predicts_without_error():
    app = open_page(TRIANGLE)
    for option in ("builtin:digits", "builtin:shapes", "builtin:fashion"):
        app.selectbox(key="draw.model").set_value(option).run()
        assert not app.exception and not app.error
        assert [m for m in app.metric if m.label == "Prediction"]


def test_explaining_another_class_keeps_the_prediction():
    app = open_page(VERTICAL_BAR)
    app.selectbox(key="draw.explain").set_value(7).run()
    assert not app.exception
    assert metric(app, "Prediction") == "1"


def test_teaching_moves_the_session_copy_and_reset_restores_the_original():
    app = open_page(VERTICAL_BAR)
    app.selectbox(key="draw.label").set_value(7).run()
    app.number_input(key="draw.steps").set_value(20).run()
    app.select_slider(key="draw.rate").set_value(1.0).run()
    next(b for b in app.button if b.label == "Teach it").click().run()
    assert not app.exception
    assert metric(app, "Prediction") == "7"
    assert app.session_state[TAUGHT_KEY]["builtin:digits"]["steps"] == 20
    assert any("session copy" in w.value for w in app.warning)
    next(b for b in app.button if b.label == "Reset to the original model").click().run()
    assert metric(app, "Prediction") == "1"
    assert not app.warning


def test_validation_view_shows_the_confusion_matrix_and_scores():
    app = open_page()
    app.toggle(key="draw.validate").set_value(True).run()
    assert not app.exception and not app.error
    assert any("misclassified" in m.value for m in app.markdown)
    assert app.dataframe[0].value.shape == (10, 5)


def test_clear_drops_the_injected_drawing():
    app = open_page(VERTICAL_BAR)
    next(b for b in app.button if b.label == "Clear").click().run()
    assert not app.exception
    assert any("Draw something" in info.value for info in app.info)


@pytest.mark.parametrize("image", [np.zeros((280, 280, 4), np.uint8), np.zeros((50, 50), np.uint8)])
def test_blank_input_does_not_predict_noise(image):
    app = open_page(image)
    assert not [m for m in app.metric if m.label == "Prediction"]
    assert any("Draw something" in info.value for info in app.info)


def test_runs_trained_on_image_datasets_are_listed_and_usable(isolated_runs_dir):
    pytest.importorskip("backprop.runs")
    import datasets
    from backprop import RunConfig
    from backprop.runs import RunStore, train_run

    store = RunStore(isolated_runs_dir)
    digits = datasets.load("digits")
    train_run(
        store.create(
            "tiny-digits", RunConfig(dataset="digits", layers="dense16-gelu", epochs=2), dataset=digits
        ),
        digits,
        epochs=2,
    )
    circle = datasets.load("circle")
    train_run(
        store.create("circle-run", RunConfig(dataset="circle", epochs=1), dataset=circle), circle, epochs=1
    )

    app = open_page(VERTICAL_BAR)
    ids = list(model_options())
    assert "run:tiny-digits" in ids and "run:circle-run" not in ids
    app.selectbox(key="draw.model").set_value("run:tiny-digits").run()
    assert not app.exception and not app.error
    assert [m for m in app.metric if m.label == "Prediction"]
    assert any("runs/tiny-digits" in c.value for c in app.code)
