"""Streamlit glue for the "Draw & predict" page: model picker, canvas/upload, prediction, teaching.

Session-state keys (all under ``draw.``):
  draw.injected_image  an (H, W), (H, W, 3) or (H, W, 4) array used instead of the
                       canvas; the hook tests use, since nobody draws in AppTest
  draw.canvas          the canvas (ui.draw_canvas): its state holds the drawing it sent
                       last (strokes, undo, redo and Clear happen in the browser)
  draw.drawing         {"strokes", "image"}: the canvas's last drawing, read and kept
                       when it is sent, and while a picture is shown in its place
  draw.picture         {"name", "data"}: the picture file opened on the canvas (its
                       bytes; decoded, and cached, when the page runs), or absent
  draw.invert          "detect", "invert" or "keep": whether the picture's ink is dark
  draw.canvas_error    why the last drawing or picture sent could not be read, shown once
  draw.restore         {"strokes"}: the strokes the canvas is given back when
                       it is shown again after another page (fixed while it is
                       shown, so a stroke being drawn is never reset)
  draw.taught          model id -> {"net": session copy, "steps": int, "result": dict}
  draw.tab             the open tab (only the open tab is computed)
  draw.dw_layer        the layer whose ΔW Teach it's result shows (one at a time)

What does not change between reruns is cached: model files and runs' weights by
their modification time, the run listing by the run folders' state, decoded
uploads by their bytes, validation reports by model.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import streamlit as st

from backprop import SGD, limits, load_with_metadata, precision_recall_f1
from backprop.files import unpack_uint8
from backprop.metrics import validation_summary
from backprop.saliency import probability_gradient
from datasets import drawing

from .data import try_load_dataset
from .draw_canvas import PEN_WIDTH, drawing_canvas, read_drawing, read_width
from .draw_canvas import read_picture as read_canvas_picture
from .map_view import map_view
from .places import messages_in_place
from .report_view import report_view
from .text import plain
from .widgets import kept_tabs, seed

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
INJECT_KEY = "draw.injected_image"
CANVAS_KEY = "draw.canvas"
DRAWING_KEY = "draw.drawing"
RESTORE_KEY = "draw.restore"
PICTURE_KEY = "draw.picture"
INVERT_KEY = "draw.invert"
# How to read an opened picture's ink, as the canvas's menu offers it: value -> (whether to invert, as
# drawing.read_upload takes it: None decides from the border; the menu's label)
INKS = {
    "detect": (None, "Ink: decided from the border"),
    "invert": (True, "Ink: dark on light paper (invert)"),
    "keep": (False, "Ink: light on dark (keep)"),
}
CANVAS_ERROR_KEY = "draw.canvas_error"
STROKE_KEY = "draw.stroke"
TAUGHT_KEY = "draw.taught"
TAB_KEY = "draw.tab"
# Teach it's controls: the true label, the steps and the learning rate
LABEL_KEY, STEPS_KEY, RATE_KEY = "draw.label", "draw.steps", "draw.rate"
DW_LAYER_KEY = "draw.dw_layer"  # the layer whose ΔW Teach it's result shows
EXPLAIN_KEY = "draw.explain"  # the class the saliency map explains, or PREDICTED
PREDICTED = -1  # the explained class's pill for the predicted class
PROBABILITIES_KEY, STAGES_KEY = "draw.probabilities", "draw.stages"  # their places, with or without a drawing
STAGE_WIDTH = 112  # CSS pixels per preprocessing stage
CANVAS_SIDE = 280
# The first is the page's default model.
BUILTIN_ORDER = ("mnist", "digits", "shapes", "fashion")
TABS = ("Saliency", "Feature maps", "Activations", "Teach it", "Validation")
GALLERY = 24
DRAW_PROMPT = "Draw something on the canvas (or open a picture on it) to see a prediction."


@dataclass
class Model:
    """The chosen model: the network used for predictions (a taught copy if any) and its card."""

    id: str
    net: object
    original: object
    meta: dict
    style: drawing.InputStyle
    taught_steps: int = 0


@dataclass
class LayerMaps:
    """One convolution block's feature maps for the drawing.

    before: (C, H, W) the convolution's output (after batch norm, if any), before the activation;
    after: (C, h, w) what the next layer reads, after the activation and pooling. before_words
    and after_words name the layers that made each ("conv16k3p1", "relu-maxpool2").
    """

    title: str
    before: np.ndarray
    after: np.ndarray
    before_words: str
    after_words: str


@dataclass
class Prediction:
    probs: np.ndarray  # (C,)
    predicted: int
    explained: int  # class whose saliency is shown
    saliency: np.ndarray  # (h, w) dP_explained/dx
    activations: list  # per dense block (units,), the output logits last
    layer_names: list
    feature_maps: list[LayerMaps] = field(default_factory=list)
    seconds: float = 0.0


# ------------------------------------------------------------------ models
@st.cache_data(show_spinner=False, max_entries=16)
def _load_file(path: str, mtime: float):
    return load_with_metadata(path)


def _run_store():
    try:
        from backprop.runs import RunStore
    except ImportError:
        return None
    return RunStore()


def _folder_state(store) -> tuple:
    """What the run listing depends on, read with a few stat calls: each run folder and its files' times."""
    state = []
    for name in store.names():
        path = store.root / name
        times = []
        for file in ("config.json", "history.json", "latest.npz", "best.npz"):
            try:
                times.append((path / file).stat().st_mtime_ns)
            except OSError:
                times.append(None)
        state.append((name, *times))
    return tuple(state)


@st.cache_data(show_spinner=False, max_entries=4)
def _image_runs(root: str, state: tuple) -> dict[str, str]:
    """run id -> label of every undamaged run trained on an image dataset for at least one epoch."""
    import datasets
    from backprop.runs import RunStore

    options = {}
    for info in RunStore(root).list():
        if info.damaged or info.config is None:
            continue
        try:
            kind = datasets.spec(info.config.dataset).kind
        except (KeyError, ValueError):
            continue
        if kind == "image" and info.summary.get("epochs"):
            options[f"run:{info.name}"] = f"{info.name} (run, {info.config.dataset})"
    return options


def model_options() -> dict[str, str]:
    """id -> label: the shipped models, then every undamaged run trained on an image dataset."""
    options = {}
    for name in BUILTIN_ORDER:
        path = MODELS_DIR / f"{name}.npz"
        if path.is_file():
            options[f"builtin:{name}"] = f"{name} (built-in)"
    for path in sorted(MODELS_DIR.glob("*.npz")):
        options.setdefault(f"builtin:{path.stem}", f"{path.stem} (built-in)")
    store = _run_store()
    if store is not None:
        with contextlib.suppress(OSError):  # an unreadable store lists no runs; the built-ins remain
            options.update(_image_runs(str(store.root), _folder_state(store)))
    return options


@st.cache_data(show_spinner="Reading the run…", max_entries=8)
def _load_run(root: str, name: str, state: tuple):
    """(best network, model card) of run ``name``; cached until its files change (``state``)."""
    from backprop.cli import train_command
    from backprop.runs import RunStore

    run = RunStore(root).open(name)
    net = run.load_network("best")
    config = run.config
    dataset, error = try_load_dataset(config.dataset, config.dataset_params)
    if error:
        raise ValueError(error)
    meta = {
        "name": name,
        "dataset": config.dataset,
        "dataset_params": config.dataset_params,
        "classes": [str(c) for c in dataset.classes],
        "input_shape": list(dataset.input_shape),
        "val_accuracy": run.summary.get("best_val_accuracy"),
        "command": train_command(config, f"runs/{run.name}"),
        "description": f"run {name} (best epoch): {config.describe()}",
    }
    return net, meta


def _load_model(model_id: str):
    """(net, meta) for an option id; ValueError says what is wrong."""
    kind, name = model_id.split(":", 1)
    if kind == "builtin":
        path = MODELS_DIR / f"{name}.npz"
        net, meta = _load_file(str(path), path.stat().st_mtime)
        return net, dict(meta)
    store = _run_store()
    state = next((row for row in _folder_state(store) if row[0] == name), (name,))
    return _load_run(str(store.root), name, state)


def model_picker_ui() -> Model:
    options = model_options()
    if not options:
        st.error("No model found: run `python -m models.train mnist` to create models/mnist.npz.")
        st.stop()
    # One pill per model: every model in sight, and a click on a pill answers sooner than a list that
    # opens, closes and then asks for the run. Labels hold run and dataset names: plain text.
    model_id = st.pills(
        "Model",
        list(options),
        format_func=lambda option: plain(options[option]),
        key="draw.model",
        default=next(iter(options)),
        required=True,
        persist_state="session",  # the model chosen is still chosen after another page
    )
    try:
        original, meta = _load_model(model_id)
        style = drawing.style_for(meta["dataset"], meta.get("input_shape"))
        if original.n_inputs != style.size**2 or original.n_outputs != len(meta["classes"]):
            raise ValueError(
                f"the network has {original.n_inputs} inputs and {original.n_outputs} outputs, "
                f"which do not match {meta['dataset']} images"
            )
    except (ValueError, OSError, KeyError) as err:
        st.error(plain(f"Cannot use {options[model_id]}: {err}. Pick another model."))
        st.stop()
    return Model(model_id, original, original, meta, style)


def with_teaching(model: Model) -> Model:
    """The model as this session has taught it (*Teach it*), read now: its taught copy and step count,
    or the original. Teaching and its reset rerun the drawing's section alone, which reads them here."""
    taught = st.session_state.get(TAUGHT_KEY, {}).get(model.id)
    if not taught:
        return replace(model, net=model.original, taught_steps=0)
    return replace(model, net=taught["net"], taught_steps=taught["steps"])


def model_card(model: Model) -> None:
    meta = model.meta
    accuracy = meta.get("val_accuracy")
    with st.container(border=True):
        cols = st.columns([3, 2, 1])
        cols[0].markdown(
            f"**{plain(meta.get('name', model.id))}**: {plain(meta.get('description', meta['dataset']))}  \n"
            f"Classes: {plain(', '.join(map(str, meta['classes'])))}"
        )
        cols[1].markdown(
            f"Architecture: {plain(meta.get('architecture') or model.original.describe())}  \n"
            f"Input: {model.style.size}×{model.style.size}"
        )
        # two decimals: the card stores 4 digits, and 98.75 % must not read as 98.8 %
        cols[2].metric("Validation accuracy", "n/a" if accuracy is None else f"{accuracy:.2%}")
        st.caption("Reproduce:")
        st.code(str(meta.get("command", "?")), language="bash")


# ------------------------------------------------------------------- the page
@st.fragment
def page_body() -> None:
    """The model picker, its card and the drawing's section. Picking a model reruns these alone: the
    page's title and the app's navigation around them are the same for every model."""
    model = model_picker_ui()
    model_card(model)
    drawing_section(model)


# ------------------------------------------------------------------- the drawing and its prediction
@st.fragment
def drawing_section(model: Model) -> None:
    """The canvas, the prediction, the preprocessing stages and the views under them. A stroke, Clear,
    a picture opened on the canvas, Back to drawing, a tab or a control in one, Teach it and its reset
    rerun this section alone: the model picker and its card above are the same for every drawing."""
    from viz.draw import probability_table

    model = with_teaching(model)
    classes = [str(c) for c in model.meta["classes"]]
    left, right = st.columns([1, 2], gap="large")
    with left:
        image, source = drawing_input_ui()
    prepared = drawing.prepare(image, model.style) if image is not None else None
    prediction = None
    with right:
        if prepared is None or prepared.empty:
            no_prediction_ui(classes)
        else:
            prediction = predict(model, prepared)
            prediction_ui(prediction, classes)
            report_view(probability_table(prediction.probs, classes), key=PROBABILITIES_KEY)
        if model.taught_steps:
            st.warning(
                f"Predicted by a session copy taught for {model.taught_steps} step(s); "
                "reset it in *Teach it*. The model file is unchanged.",
                icon=":material/school:",
            )
    # The stages' place and the timing line stay on the page while nothing is drawn, as the
    # prediction's does: the next stroke fills them in instead of building them.
    st.subheader("From your drawing to the model's input")
    if prediction is None:
        no_stage_images()
    else:
        stage_images(prepared)
    views(model, prepared, prediction, classes)
    st.caption(
        "Nothing drawn: no prediction timed yet."
        if prediction is None
        else f"Preprocessing aside, prediction and saliency took {prediction.seconds * 1000:.1f} ms ({source})."
    )


# ------------------------------------------------------------------- input
def drawing_input_ui() -> tuple[np.ndarray | None, str]:
    """(image array or None, where it came from): the picture opened on the canvas, else the drawing.

    An opened picture is shown on the canvas in the drawing's place, as the model reads it, so what
    is shown is what is predicted; the drawing is kept and comes back with *Back to drawing*.
    """
    from viz.heatmap import gray_png_data_uri

    opened = st.session_state.get(PICTURE_KEY)
    ink = st.session_state.get(INVERT_KEY, "detect")
    picture = None
    if opened is not None:
        try:
            picture = read_picture(opened["data"], opened["name"], INKS[ink][0])
        except (drawing.UploadError, limits.OverBudget) as err:
            st.session_state.pop(PICTURE_KEY)
            st.session_state[CANVAS_ERROR_KEY] = f"{err}. Your drawing is still on the canvas."
    shown = None
    if picture is not None:
        gray, inverted = picture
        shown = {
            "src": gray_png_data_uri(_picture_as_read(gray, inverted)),
            "status": opened["name"]
            + (" · inverted: dark ink on light paper" if inverted else "")
            + " · shown as the model reads it",
            "ink": ink,
            "inks": [[value, label] for value, (_, label) in INKS.items()],
        }
    image = _canvas_ui(shown)
    if picture is not None:
        return picture[0], "picture"
    injected = st.session_state.get(INJECT_KEY)
    if injected is not None:
        return np.asarray(injected), "injected"
    return image, "canvas"


def _canvas_ui(picture: dict | None) -> np.ndarray | None:
    """The canvas, with the drawing and the stroke width given back after another page, and the
    opened picture shown in the drawing's place."""
    if CANVAS_KEY not in st.session_state:
        # The canvas was not on screen in the last run (another page), so Streamlit dropped its
        # state and it comes back empty: give it the strokes.
        _set_drawing_aside()
    restore = st.session_state.get(RESTORE_KEY)
    drawing_canvas(
        CANVAS_KEY,
        CANVAS_SIDE,
        st.session_state.get(STROKE_KEY, PEN_WIDTH),
        restore["strokes"] if restore else None,
        on_change=_take_drawing,
        picture=picture,
        on_picture=_take_picture,
        on_ink=_take_ink,
        on_width=_take_width,
        max_bytes=limits.IMAGE_FILE_BYTES.value(),
    )
    messages_in_place([("error", plain(st.session_state.pop(CANVAS_ERROR_KEY, None) or ""))])
    kept = st.session_state.get(DRAWING_KEY)
    return kept["image"] if kept else None


def _take_drawing() -> None:
    """Keep the drawing the canvas sent (at the start of the run it causes): it replaces an injected
    image too. A drawing that cannot be read leaves the one before it in place and says why."""
    try:
        sent = read_drawing(st.session_state[CANVAS_KEY].get("drawing"), CANVAS_SIDE)
    except ValueError as err:
        st.session_state[CANVAS_ERROR_KEY] = (
            f"The canvas's drawing could not be read ({err}); the drawing before it is kept."
        )
        return
    st.session_state[DRAWING_KEY] = {"strokes": sent.strokes, "image": sent.image}
    st.session_state.pop(INJECT_KEY, None)


def _take_picture() -> None:
    """Keep the picture opened on the canvas (its bytes; decoded when the page runs), or put it away.
    One that cannot be read leaves the drawing in place and says why."""
    try:
        opened = read_canvas_picture(
            (st.session_state.get(CANVAS_KEY) or {}).get("picture"), limits.IMAGE_FILE_BYTES.value()
        )
    except ValueError as err:
        st.session_state[CANVAS_ERROR_KEY] = f"{err}. Your drawing is still on the canvas."
        return
    if opened is None:
        st.session_state.pop(PICTURE_KEY, None)
    else:
        st.session_state[PICTURE_KEY] = {"name": opened.name, "data": opened.data}
        st.session_state[INVERT_KEY] = "detect"  # a new picture: decided from its own border
    st.session_state.pop(INJECT_KEY, None)


def _take_ink() -> None:
    """The ink the canvas's menu chose for the opened picture (anything else is ignored)."""
    ink = (st.session_state.get(CANVAS_KEY) or {}).get("ink")
    if isinstance(ink, str) and ink in INKS:
        st.session_state[INVERT_KEY] = ink


def _take_width() -> None:
    """Keep the stroke width the canvas's control sent, to give it back to the canvas shown again."""
    try:
        st.session_state[STROKE_KEY] = read_width((st.session_state.get(CANVAS_KEY) or {}).get("width"))
    except ValueError as err:
        st.session_state[CANVAS_ERROR_KEY] = f"The canvas's stroke width could not be read: {err}."


def _set_drawing_aside() -> None:
    """Keep the canvas's strokes to give back when the canvas is shown again (it is not shown now)."""
    kept = st.session_state.get(DRAWING_KEY)
    if kept and kept.get("strokes") is not None:
        st.session_state[RESTORE_KEY] = {"strokes": kept["strokes"]}


@st.cache_data(show_spinner=False, max_entries=8)
def _decoded(data: bytes, name: str, invert: bool | None, max_pixels: int) -> tuple[np.ndarray, bool]:
    return drawing.read_upload(data, invert=invert, name=name, max_pixels=max_pixels)


def read_picture(data: bytes, name: str, invert: bool | None) -> tuple[np.ndarray, bool]:
    """An upload as (gray, inverted), held to the upload budget; UploadError says what to change.

    The budget (``limits.UPLOAD_PIXELS``) is checked from the picture's header
    before anything is decoded, so a huge picture costs nothing. A picture is
    decoded once; reruns reuse it.
    """
    try:
        return _decoded(data, name, invert, limits.UPLOAD_PIXELS.value())
    except drawing.ImageTooLarge as err:
        raise drawing.ImageTooLarge(
            f"{err}; the limit is {limits.UPLOAD_PIXELS.env} if you trust a larger picture"
        ) from None


def _picture_as_read(gray: np.ndarray, inverted: bool) -> np.ndarray:
    """The upload's grey levels as the person sees the file (dark ink stays dark), at most the canvas's size."""
    shown = 1.0 - gray if inverted else gray
    step = max(1, int(np.ceil(max(gray.shape) / CANVAS_SIDE)))
    return drawing.to_uint8(shown[::step, ::step])


# --------------------------------------------------------------- predicting
def predict(model: Model, prepared: drawing.Prepared, explain: int | None = None) -> Prediction:
    """Probabilities, dP/dx, the dense layers' activations and the conv layers' feature maps for one drawing."""
    start = time.perf_counter()
    probs, grad, trace = probability_gradient(model.net, prepared.x, explain)
    probs = probs[0]
    predicted = int(probs.argmax())
    side = model.style.size
    activations, names, maps = [], [], []
    for block in trace.blocks[:-1]:
        words = "-".join(rec.spec for rec in block.records)
        if block.kind == "conv":
            title = f"layer {block.index + 1} ({block.transform.spec})"
            # the block runs on to flatten and dropout; its maps end at the last 4-D output
            last = max(k for k, rec in enumerate(block.records) if rec.out.ndim == 4)
            before = "-".join(rec.spec for rec in block.records if rec.kind in ("conv", "bn"))
            after = "-".join(rec.spec for rec in block.records[1 : last + 1]) or before
            maps.append(LayerMaps(title, block.z[0], block.records[last].out[0], before, after))
        else:
            activations.append(block.a[0].ravel())
            names.append(f"layer {block.index + 1} ({words}), {block.a[0].size} values")
    activations.append(trace.blocks[-1].a[0].ravel())
    names.append(f"output logits ({trace.blocks[-1].a.shape[1]})")
    return Prediction(
        probs,
        predicted,
        predicted if explain is None else int(explain),
        grad[0].reshape(side, side),
        activations,
        names,
        maps,
        time.perf_counter() - start,
    )


def top_k(probs: np.ndarray, classes, k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(probs)[::-1][:k]
    return [(str(classes[i]), float(probs[i])) for i in order]


def prediction_ui(prediction: Prediction, classes) -> None:
    """The top class, large and whole (long class names are never cut), then the next two."""
    top = top_k(prediction.probs, classes)
    # Class names come from the model file or the dataset's folders; metric values are Markdown.
    st.metric("Prediction", plain(top[0][0]), f"{top[0][1]:.1%} sure", delta_color="off", delta_arrow="off")
    st.caption(plain("then " + " · ".join(f"{name} ({p:.1%})" for name, p in top[1:])))


def no_prediction_ui(classes) -> None:
    """Before anything is drawn: the prediction's place, empty, and the classes the model knows. The
    same elements as a prediction's, so the first stroke fills them in instead of building them."""
    from viz.draw import probability_table

    st.metric("Prediction", "—", "nothing drawn", delta_color="off", delta_arrow="off")
    st.caption(DRAW_PROMPT)
    report_view(probability_table(None, classes), key=PROBABILITIES_KEY)


def no_stage_images() -> None:
    """Before anything is drawn: the stages' place, saying what appears there (the first stroke draws the
    stages in it)."""
    from viz.tables import pictures

    note = (
        "Each stage from your drawing to the model's input (cropped to the ink, scaled, centred) "
        "appears here once you draw."
    )
    report_view(pictures([], [], width=STAGE_WIDTH, note=note), key=STAGES_KEY)


def stage_images(prepared: drawing.Prepared) -> None:
    """Every preprocessing stage, small, left to right, its pixels square and crisp."""
    from viz.tables import pictures

    titles, images = zip(*prepared.stages)
    report_view(pictures(images, titles, width=STAGE_WIDTH), key=STAGES_KEY)


MAP_STAGES = {
    "after": "after the activation and pooling: what the next layer reads",
    "before": "before the activation: the convolution's output",
}


def feature_maps_ui(prediction: Prediction) -> None:
    """Each convolution block's maps for this drawing, one figure per block, at the chosen stage."""
    from viz.draw import feature_maps_payload

    stage = st.radio(
        "Feature maps",
        list(MAP_STAGES),
        format_func=MAP_STAGES.get,
        horizontal=True,
        key="draw.map_stage",
        persist_state="session",
    )
    for k, layer in enumerate(prediction.feature_maps):
        values = layer.after if stage == "after" else layer.before
        words = layer.after_words if stage == "after" else layer.before_words
        title = f"{layer.title}: {values.shape[0]} maps of {values.shape[1]}×{values.shape[2]} after {words}"
        map_view(feature_maps_payload(values, title), key=f"draw.maps{k}")
    if stage == "after":
        st.caption(
            "After ReLU (and pooling) a map is never negative, so only the red half of the scale is used: "
            "white where a filter found nothing, red where it responded. Switch to *before the activation* "
            "to see where it responded negatively (blue). Each layer has one scale for all its channels, "
            "channel 1 at the top left."
        )
    else:
        st.caption(
            "The convolution's output z = K * x + b for each channel, red positive, blue negative; ReLU "
            "then keeps only the red. Each layer has one scale for all its channels, channel 1 at the top left."
        )


# ---------------------------------------------------------------- the views under the prediction
def views(model: Model, prepared, prediction: Prediction | None, classes: list[str]) -> None:
    """Saliency, feature maps, activations, teaching and validation, one tab each. Only the open tab is
    computed."""
    from viz import draw as figures

    saliency, maps, activations, teaching, validation = kept_tabs(TABS, TAB_KEY)
    if saliency.open:
        with saliency:
            # The same elements with or without a drawing, so a stroke redraws them in place; the pills
            # stay enabled while nothing is drawn (a class picked first is explained once there is a
            # drawing), so the first stroke and Clear do not redraw every pill. A pill per class: one
            # click, and it asks for the rerun at once (a select box opens a list, and closes it before
            # it asks). A class kept from a model with more classes than this one: the predicted class,
            # picked, as it is explained.
            choices = list(range(PREDICTED, len(classes)))
            seed(EXPLAIN_KEY, PREDICTED, choices)
            picked = st.pills(
                "Explain class",
                choices,
                key=EXPLAIN_KEY,
                format_func=lambda k: "the predicted class" if k == PREDICTED else plain(classes[k]),
                required=True,
                persist_state="session",  # kept on other pages
            )
            explain = None if picked == PREDICTED else picked
            if prediction is None:
                payload = figures.empty_saliency_payload(
                    model.style.size, "The saliency map appears here once you draw something."
                )
            else:
                if explain is not None and explain != prediction.explained:
                    prediction = predict(model, prepared, explain)
                payload = figures.saliency_payload(
                    prepared.model_input, prediction.saliency, classes[prediction.explained]
                )
            map_view(payload, key="draw.saliency")
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
                feature_maps_ui(prediction)
    if activations.open:
        with activations:
            if prediction is None:
                st.info("The activations appear once you draw something.")
            else:
                if prediction.feature_maps:
                    st.caption("The convolution layers are under Feature maps; here are the dense layers.")
                map_view(
                    figures.activations_payload(prediction.activations, prediction.layer_names, classes),
                    key="draw.activations",
                )
                st.caption(
                    "A bar per unit, each layer on its own scale (±its largest |value|, written beside it): "
                    "red positive, white 0, blue negative."
                )
    if teaching.open:
        with teaching:
            if prediction is None:
                st.info("Draw something first, then tell the network what it is.")
            else:
                teaching_ui(model, prepared, prediction, classes)
    if validation.open:
        with validation:
            validation_ui(model)


# ---------------------------------------------------------------- teaching
def teach(model: Model, x: np.ndarray, label: int, steps: int, learning_rate: float) -> dict:
    """``steps`` SGD steps on (x, label) applied to the session copy; returns the before/after record.

    Called by *Teach it* before the run it causes, which then predicts with the copy it taught."""
    from viz.draw import weight_change_payload

    store = st.session_state.setdefault(TAUGHT_KEY, {})
    entry = store.get(model.id) or {"net": model.original.copy(), "steps": 0}
    net = entry["net"]
    before = net.predict_proba(x)[0]
    optimizer = SGD(learning_rate=learning_rate)
    weighted = [layer for layer in net.layers if "W" in layer.params]
    names = [f"layer {k + 1} ({layer.spec()})" for k, layer in enumerate(weighted)]
    deltas = [np.zeros_like(layer.params["W"]) for layer in weighted]  # dense (n_in, n_out), conv 4-D
    for _ in range(steps):
        trace = optimizer.step(net, net.gradients(x, np.array([label]), train=False))
        for total, rec in zip(deltas, [rec for rec in trace.layers if "W" in rec.deltas]):
            total += rec.deltas["W"]
    entry["steps"] += steps
    entry["result"] = {
        "before": before,
        "after": net.predict_proba(x)[0],
        "label": label,
        "steps": steps,
        "learning_rate": learning_rate,
        "delta_W": deltas,
        "layers": names,
        "largest": [float(np.abs(delta).max()) for delta in deltas],  # each layer's largest |ΔW|
        # the views of ΔW, built once: every run while the result is shown mounts the one picked as it is
        "views": [
            weight_change_payload(delta, f"ΔW of {name} after {steps} step(s)")
            for delta, name in zip(deltas, names)
        ],
    }
    store[model.id] = entry
    return entry["result"]


def teaching_ui(model: Model, prepared: drawing.Prepared, prediction: Prediction, classes) -> None:
    """Pick the true label, steps and rate; Teach it trains the session copy; show what changed."""
    from viz.draw import probability_shift

    cols = st.columns(3)
    cols[0].selectbox(
        "True label",
        range(len(classes)),
        index=prediction.predicted,
        format_func=classes.__getitem__,
        key=LABEL_KEY,
    )
    # the label follows each drawing's prediction; how to teach is kept on other pages
    cols[1].number_input("Backprop steps", 1, 50, 1, key=STEPS_KEY, persist_state="session")
    cols[2].select_slider(
        "Learning rate (SGD)",
        [0.001, 0.01, 0.05, 0.1, 0.5, 1.0],
        0.1,
        key=RATE_KEY,
        persist_state="session",
    )
    teach_col, reset_col = st.columns(2)
    # Both act before the run they cause, so that run predicts with the copy as they left it.
    teach_col.button(
        "Teach it",
        type="primary",
        icon=":material/school:",
        on_click=_teach_it,
        args=(model, prepared.x),
    )
    reset_col.button(
        "Reset to the original model",
        disabled=not model.taught_steps,
        on_click=reset_teaching,
        args=(model,),
    )
    result = last_teaching(model)
    if result is None:
        return
    report_view(
        probability_shift(result["before"], result["after"], classes, result["label"]), key="draw.shift"
    )
    weight_changes(model)


@st.fragment
def weight_changes(model: Model) -> None:
    """One layer's ΔW at a time: each pill names a layer and its largest change, so the layer that
    moved most reads at a glance; the output layer first, where the true class's row stands out. A
    pill reruns this alone: the drawing, its prediction and the teaching above are the same for every
    layer shown."""
    result = last_teaching(model)
    if result is None:
        return
    views = result["views"]
    layers = list(range(len(views)))
    seed(DW_LAYER_KEY, len(views) - 1, layers)
    shown = st.pills(
        "ΔW of layer",
        layers,
        format_func=lambda k: plain(f"{result['layers'][k]} · max |ΔW| {result['largest'][k]:.3g}"),
        key=DW_LAYER_KEY,
        required=True,
    )
    map_view(views[shown], key="draw.dw")
    st.caption(
        "Red: the weight grew, blue: it shrank, white: unchanged. A dense layer's ΔW has a row per unit and "
        "a column per input; a convolution's, its kernels, a column per output channel and a row per input "
        "channel."
    )


def _teach_it(model: Model, x: np.ndarray) -> None:
    """*Teach it*: the label, steps and rate as the controls hold them at the click (one typed just
    before it included)."""
    state = st.session_state
    teach(model, x, int(state[LABEL_KEY]), int(state[STEPS_KEY]), float(state[RATE_KEY]))


def reset_teaching(model: Model) -> None:
    st.session_state.setdefault(TAUGHT_KEY, {}).pop(model.id, None)


def last_teaching(model: Model) -> dict | None:
    entry = st.session_state.get(TAUGHT_KEY, {}).get(model.id)
    return entry.get("result") if entry else None


# -------------------------------------------------------------- validation
def report_from_card(card: dict, classes: list[str]) -> dict:
    """The Validation view's report from the one a built-in model's card stores (measured when it was
    trained): nothing is rebuilt or predicted. ValueError when the card's report is malformed."""
    try:
        matrix = np.asarray(card["confusion"], dtype=np.int64)
        wrong = list(card["misclassified"])
        images = unpack_uint8(card["images"])
        if matrix.shape != (len(classes), len(classes)) or images.shape[0] != len(wrong):
            raise ValueError("its sizes do not agree")
        captions = [
            f"true {classes[int(e['true'])]} → {classes[int(e['predicted'])]} ({float(e['probability']):.0%})"
            for e in wrong
        ]
        return _report(matrix, classes, list(images), captions, int(card["n_wrong"]))
    except (KeyError, TypeError, IndexError, ValueError) as err:
        raise ValueError(f"the model card's validation report is not readable ({err})") from None


@st.cache_data(show_spinner="Scoring the validation set…", max_entries=8)
def _computed_report(model_id: str, _net, meta_json: str) -> dict:
    """The report for a model whose card has none (a run): predicts its whole validation set, once."""
    meta = json.loads(meta_json)
    data, error = try_load_dataset(meta["dataset"], meta["dataset_params"])
    if error:
        raise ValueError(error)
    classes = [str(c) for c in meta["classes"]]
    card = validation_summary(data.y_val, _net.predict_proba(data.x_val), len(classes), keep=GALLERY)
    side = int(np.sqrt(data.x_val.shape[1]))
    shown = [entry["index"] for entry in card["misclassified"]]
    images = drawing.to_uint8(data.x_val[shown].reshape(len(shown), side, side))
    captions = [
        f"true {classes[e['true']]} → {classes[e['predicted']]} ({e['probability']:.0%})"
        for e in card["misclassified"]
    ]
    return _report(np.asarray(card["confusion"]), classes, list(images), captions, card["n_wrong"])


def _report(matrix: np.ndarray, classes: list[str], images: list, captions: list[str], n_wrong: int) -> dict:
    return {
        "matrix": matrix,
        "scores": precision_recall_f1(matrix),
        "images": images,
        "captions": captions,
        "n_wrong": n_wrong,
        "n": int(matrix.sum()),
    }


def validation_ui(model: Model) -> None:
    from viz.draw import confusion_payload, scores_table
    from viz.tables import pictures

    classes = [str(c) for c in model.meta["classes"]]
    try:
        card = model.meta.get("validation")
        if card is not None:
            report = report_from_card(card, classes)
        else:
            meta_json = json.dumps(model.meta, sort_keys=True, default=str)
            report = _computed_report(model.id, model.original, meta_json)
    except ValueError as err:  # e.g. datasets.DatasetUnavailable, a damaged card
        st.error(plain(f"Cannot show the validation of {model.meta['dataset']}: {err}"))
        return
    left, right = st.columns([3, 2])
    with left:
        map_view(confusion_payload(report["matrix"], classes), key="draw.confusion")
    # a plain table: a few rows read best without a grid's scrolling and sorting
    with right:
        report_view(scores_table(report["scores"], classes), key="draw.scores")
    st.markdown(
        f"**{report['n_wrong']} of {report['n']} validation images misclassified**"
        + (f"; the first {len(report['images'])}:" if report["images"] else ".")
    )
    if report["images"]:  # one block of pictures, sent as their bytes: no request per picture
        report_view(pictures(report["images"], report["captions"], width=84), key="draw.misclassified")
