"""The Draw & predict page under AppTest, fed through the draw.injected_image hook."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from tests.map_views import drawn_maps, reports, sent, table_text
from tests.markdown_text import shown
from ui.draw import INJECT_KEY, TAB_KEY, TAUGHT_KEY, model_options

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "draw.py")

WHITE = (255, 255, 255, 255)


def canvas(paint):
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    paint(ImageDraw.Draw(image))
    return np.asarray(image)


VERTICAL_BAR = canvas(lambda d: d.line([(140, 50), (140, 230)], fill=WHITE, width=18))
TRIANGLE = canvas(lambda d: d.line([(140, 40), (240, 220), (40, 220), (140, 40)], fill=WHITE, width=14))


SEVEN = canvas(lambda d: d.line([(80, 60), (200, 60), (120, 230)], fill=WHITE, width=18))


def open_page(image=None, model=None, tab=None):
    app = AppTest.from_file(PAGE, default_timeout=30)
    if image is not None:
        app.session_state[INJECT_KEY] = image
    if tab is not None:
        app.session_state[TAB_KEY] = tab
    app.run()
    if model is not None:
        app.pills(key="draw.model").set_value(model).run()
    assert not app.exception, app.exception
    return app


def metric(app, label):
    return next(m.value for m in app.metric if m.label == label)


def test_first_open_shows_the_mnist_cnn_and_asks_for_a_drawing():
    app = open_page()
    assert app.pills(key="draw.model").value == "builtin:mnist"
    assert metric(app, "Validation accuracy") == "98.75%"  # as the card stores it, not rounded up
    assert "digits (built-in)" in map(shown, app.pills(key="draw.model").options)  # the 8×8 model stays
    assert any("Draw something" in caption.value for caption in app.caption)
    assert metric(app, "Prediction") == "—"  # its place, empty
    assert not app.error


@pytest.mark.parametrize("model", ["builtin:mnist", "builtin:digits"])
def test_a_vertical_bar_is_a_one_and_a_seven_a_seven(model):
    app = open_page(VERTICAL_BAR, model=model)
    assert metric(app, "Prediction") == "1"
    app.session_state[INJECT_KEY] = SEVEN
    app.run()
    assert metric(app, "Prediction") == "7"


def test_only_the_open_tab_is_computed():
    app = open_page(VERTICAL_BAR)
    views = [element.proto.component_name for element in app.get("bidi_component")]
    # the canvas, the probabilities, the stages, and the open tab's saliency
    assert views == [
        "backprop.draw_canvas",
        "backprop.report_view",
        "backprop.report_view",
        "backprop.map_view",
    ]
    assert not app.get("plotly_chart") and not app.get("html")
    probabilities, stages = reports(app)
    assert probabilities["title"] == "Probabilities" and len(probabilities["rows"]) == 10  # a row per class
    assert stages["kind"] == "pictures" and stages["captions"][-1] == "model input 28×28"
    assert "draw.map_stage" not in [r.key for r in app.radio]  # feature maps: not drawn
    assert "draw.label" not in [s.key for s in app.selectbox]  # teaching: not drawn
    app.session_state[TAB_KEY] = "Activations"
    app.run()
    assert not app.get("plotly_chart")  # the activations are drawn in the browser, from the numbers
    assert [layer["layout"] for layer in drawn_maps(app)] == ["bars"]
    assert not any("∂P/∂x" in c.value for c in app.caption)


def test_the_saliency_view_and_its_class_stay_in_place_while_nothing_is_drawn():
    """Before a drawing and after one, the tab holds the same elements (the first stroke redraws them in
    place): the class to explain, which can be picked before drawing, and the map view, empty with a
    note. A class picked first is the one explained once there is a drawing."""
    app = open_page()
    explain = app.pills(key="draw.explain")
    assert not explain.disabled
    (empty,) = drawn_maps(app)
    assert empty["layout"] == "saliency" and "once you draw" in empty["note"]
    assert not sent(empty["saliency"], np.float32).any()
    explain.set_value(3).run()
    (still_empty,) = drawn_maps(app)
    assert "once you draw" in still_empty["note"]
    app.session_state[INJECT_KEY] = VERTICAL_BAR
    app.run()
    assert app.pills(key="draw.explain").value == 3
    (drawn,) = drawn_maps(app)
    assert "note" not in drawn and drawn["class_name"] == "3"
    assert sent(drawn["saliency"], np.float32).any()


def canvas_data(app) -> dict:
    (canvas,) = [e for e in app.get("bidi_component") if e.proto.component_name == "backprop.draw_canvas"]
    return json.loads(canvas.proto.json)


def test_the_stroke_width_is_the_canvass_own_control_and_is_given_back_to_it():
    """No slider on the page: the width is the canvas's, which starts at the width it last sent."""
    from ui.draw import STROKE_KEY
    from ui.draw_canvas import PEN_WIDTH, PEN_WIDTHS

    app = open_page()
    assert not app.slider
    assert (canvas_data(app)["stroke_width"], canvas_data(app)["widths"]) == (PEN_WIDTH, list(PEN_WIDTHS))
    app.session_state[STROKE_KEY] = 31  # as the canvas's width callback keeps it
    app.run()
    assert canvas_data(app)["stroke_width"] == 31


def test_the_cnn_shows_the_feature_maps_of_each_convolution_before_and_after_relu():
    app = open_page(SEVEN, tab="Feature maps")
    assert not app.exception
    after = drawn_maps(app)  # one view per conv layer
    assert [(m["layout"], m["channels"], m["height"]) for m in after] == [
        ("mosaic", 16, 14),
        ("mosaic", 32, 7),
    ]
    assert "after relu-maxpool2" in after[0]["title"]
    assert min(sent(m["values"], np.float32).min() for m in after) >= 0
    assert any("never negative" in c.value for c in app.caption)
    app.radio(key="draw.map_stage").set_value("before").run()
    before = drawn_maps(app)
    assert not app.exception and [(m["channels"], m["height"]) for m in before] == [(16, 28), (32, 14)]
    assert sent(before[0]["values"], np.float32).min() < 0  # before ReLU
    assert any("red positive, blue negative" in c.value for c in app.caption)


@pytest.mark.parametrize("model", ["builtin:mnist", "builtin:digits"])
def test_the_activations_are_the_networks_own_dense_layers_and_logits_for_the_drawing(model):
    from datasets import drawing
    from ui.draw import _load_model

    app = open_page(SEVEN, model=model, tab="Activations")
    (bars,) = drawn_maps(app)
    rows = [sent(row["values"], np.float32) for row in bars["rows"]]
    net, meta = _load_model(model)
    x = drawing.prepare(SEVEN, drawing.style_for(meta["dataset"], meta.get("input_shape"))).x
    logits = rows[-1].astype(np.float64)
    softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(softmax, net.predict_proba(x)[0], rtol=1e-4, atol=1e-6)  # the logits behind P
    assert int(np.argmax(logits)) == 7 and bars["rows"][-1]["labels"] == [str(c) for c in meta["classes"]]
    dense = [layer for layer in net.layers if layer.spec().startswith("dense")]
    assert [row.size for row in rows] == [
        layer.params["W"].shape[1] for layer in dense
    ]  # a row per dense layer
    if model == "builtin:digits":  # dense64-relu-dense10: the hidden row is relu(x W + b)
        first = dense[0].params
        np.testing.assert_allclose(
            rows[0], np.maximum(x @ first["W"] + first["b"], 0)[0], rtol=1e-5, atol=1e-6
        )


def test_a_model_without_convolutions_says_where_its_layers_are():
    app = open_page(VERTICAL_BAR, model="builtin:digits", tab="Feature maps")
    assert any("no convolution layers" in info.value for info in app.info)


def test_triangle_is_read_as_a_triangle_by_the_shapes_model():
    app = open_page(TRIANGLE, model="builtin:shapes")
    assert metric(app, "Prediction") == "triangle"


@pytest.mark.parametrize("tab", ["Saliency", "Feature maps", "Activations", "Teach it", "Validation"])
def test_every_builtin_model_predicts_and_shows_every_tab_without_error(tab):
    app = open_page(TRIANGLE, tab=tab)
    for option in ("builtin:mnist", "builtin:digits", "builtin:shapes", "builtin:fashion"):
        app.pills(key="draw.model").set_value(option).run()
        assert not app.exception and not app.error, (option, [e.value for e in app.error])
        assert metric(app, "Prediction") not in ("—", None)  # a class, predicted


def test_explaining_another_class_keeps_the_prediction():
    app = open_page(VERTICAL_BAR)
    app.pills(key="draw.explain").set_value(7).run()
    assert not app.exception
    assert metric(app, "Prediction") == "1"


def test_a_class_the_next_model_lacks_is_explained_and_shown_as_the_predicted_class():
    from ui.draw import PREDICTED

    app = open_page(VERTICAL_BAR)
    assert app.pills(key="draw.explain").value == PREDICTED  # picked, as it is explained
    app.pills(key="draw.explain").set_value(7).run()
    (view,) = drawn_maps(app)
    assert view["class_name"] == "7"
    app.pills(key="draw.model").set_value("builtin:shapes").run()  # three classes: no class 7
    assert not app.exception and not app.warning
    explain = app.pills(key="draw.explain")
    assert explain.value == PREDICTED
    assert list(explain.proto.raw_values) == ["the predicted class"]  # the pill the browser shows picked
    (view,) = drawn_maps(app)
    assert view["class_name"] == metric(app, "Prediction")
    app.pills(key="draw.model").set_value("builtin:fashion").run()
    assert app.pills(key="draw.explain").value == PREDICTED  # not 7 again: the choice was the predicted class


def test_teaching_moves_the_session_copy_and_reset_restores_the_original():
    app = open_page(VERTICAL_BAR, model="builtin:digits", tab="Teach it")
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


def test_teaching_the_cnn_changes_its_kernels_and_shows_every_layers_change():
    app = open_page(SEVEN, tab="Teach it")
    app.selectbox(key="draw.label").set_value(1).run()
    next(b for b in app.button if b.label == "Teach it").click().run()
    assert not app.exception
    taught = app.session_state[TAUGHT_KEY]["builtin:mnist"]
    assert taught["steps"] == 1 and taught["result"]["delta_W"][0].ndim == 4  # 16 kernels of 1×3×3
    assert np.abs(taught["result"]["delta_W"][0]).max() > 0
    # the probabilities before/after, and one ΔW per layer with weights (2 conv, 2 dense), drawn in the
    # browser from the step's own numbers
    assert not app.get("plotly_chart")
    assert any(report.get("title") == "Probability before and after teaching" for report in reports(app))
    # one layer at a time, the output layer first; each pill names a layer and its largest |ΔW|
    pills = app.get("button_group")[-1]
    largest = [float(np.abs(delta).max()) for delta in taught["result"]["delta_W"]]
    assert [shown(option.content) for option in pills.proto.options] == [
        f"{name} · max |ΔW| {value:.3g}"
        for name, value in zip(
            ["layer 1 (conv16k3p1)", "layer 2 (conv32k3p1)", "layer 3 (dense128)", "layer 4 (dense10)"],
            largest,
        )
    ]
    titles = []
    for layer in (3, 0, 1, 2):
        if layer != 3:
            app.session_state["draw.dw_layer"] = layer
            app.run()
        (view,) = drawn_maps(app)
        titles.append(view["title"])
        delta = taught["result"]["delta_W"][layer]
        values = sent(view["values"], np.float32)
        tiles = delta.transpose(1, 0, 2, 3) if delta.ndim == 4 else delta.T  # as the view lays them out
        assert np.array_equal(values, tiles.astype(np.float32).ravel())
    assert titles == [
        "ΔW of layer 4 (dense10) after 1 step(s)",
        "ΔW of layer 1 (conv16k3p1) after 1 step(s)",
        "ΔW of layer 2 (conv32k3p1) after 1 step(s)",
        "ΔW of layer 3 (dense128) after 1 step(s)",
    ]


def test_validation_of_a_builtin_model_comes_from_its_card_without_rebuilding_the_data(monkeypatch):
    import datasets

    def no_data(*args, **kwargs):
        raise AssertionError("the validation view rebuilt a data set")

    monkeypatch.setattr(datasets, "load", no_data)
    st.cache_data.clear()  # nothing from earlier tests: what the view needs, it reads now
    st.cache_resource.clear()
    for model in ("builtin:mnist", "builtin:digits", "builtin:shapes"):
        app = open_page(model=model, tab="Validation")
        assert not app.exception and not app.error, [e.value for e in app.error]
        said = next(m.value for m in app.markdown if "misclassified" in m.value)
        wrong, total = map(int, re.match(r"\*\*(\d+) of (\d+) validation images", said).groups())
        (scores,) = [report for report in reports(app) if report.get("title") == "Per-class scores"]
        assert scores["head"] == ["class", "precision", "recall", "F1", "support"]
        (matrix,) = [m for m in drawn_maps(app) if m["layout"] == "confusion"]
        counts = sent(matrix["counts"], np.int32).reshape(len(matrix["classes"]), -1)
        assert counts.sum() == total and counts.trace() == total - wrong  # the matrix agrees with the count
        rows = table_text(scores)  # a row per class, its support the images of that class
        assert [row[0] for row in rows] == matrix["classes"]
        assert [int(row[4].replace(",", "")) for row in rows] == counts.sum(axis=1).tolist()


@pytest.mark.parametrize("image", [np.zeros((280, 280, 4), np.uint8), np.zeros((50, 50), np.uint8)])
def test_blank_input_does_not_predict_noise(image):
    app = open_page(image)
    assert metric(app, "Prediction") == "—"  # its place, empty
    assert any("Draw something" in caption.value for caption in app.caption)


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
    app.pills(key="draw.model").set_value("run:tiny-digits").run()
    assert not app.exception and not app.error
    assert metric(app, "Prediction") not in ("—", None)  # a class, predicted
    assert any("runs/tiny-digits" in c.value for c in app.code)
