"""Streamlit glue for the "Draw & predict" page: model picker, canvas/upload, prediction, teaching.

Session-state keys (all under ``draw.``):
  draw.injected_image  an (H, W), (H, W, 3) or (H, W, 4) array used instead of the
                       canvas; the hook tests use, since custom components do not
                       render in AppTest
  draw.canvas_round    bumped by "Clear" to give the canvas a fresh, empty key
  draw.taught          model id -> {"net": session copy, "steps": int, "result": dict}
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

import datasets
from backprop import SGD, confusion_matrix, limits, load_with_metadata, precision_recall_f1
from backprop.saliency import probability_gradient
from datasets import drawing

from .text import plain

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
INJECT_KEY = "draw.injected_image"
CANVAS_ROUND_KEY = "draw.canvas_round"
TAUGHT_KEY = "draw.taught"
CANVAS_SIDE = 280
BUILTIN_ORDER = ("digits", "shapes", "fashion")


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
class Prediction:
    probs: np.ndarray  # (C,)
    predicted: int
    explained: int  # class whose saliency is shown
    saliency: np.ndarray  # (h, w) dP_explained/dx
    activations: list  # per layer (units,)
    layer_names: list
    seconds: float


# ------------------------------------------------------------------ models
@st.cache_data(show_spinner=False)
def _load_file(path: str, mtime: float):
    return load_with_metadata(path)


@st.cache_data(show_spinner="Reading the run's dataset…")
def _image_dataset_facts(name: str, params_json: str):
    import json

    data = datasets.load(name, **json.loads(params_json))
    return list(map(str, data.classes)), list(data.input_shape)


def _run_store():
    try:
        from backprop.runs import RunStore
    except ImportError:
        return None
    return RunStore()


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
        try:
            infos = store.list()
        except OSError:
            infos = []
        for info in infos:
            if info.damaged or info.config is None:
                continue
            try:
                kind = datasets.spec(info.config.dataset).kind
            except (KeyError, ValueError):
                continue
            if kind == "image" and info.summary.get("epochs"):
                options[f"run:{info.name}"] = f"{info.name} (run, {info.config.dataset})"
    return options


def _load_model(model_id: str):
    """(net, meta) for an option id; ValueError says what is wrong."""
    kind, name = model_id.split(":", 1)
    if kind == "builtin":
        path = MODELS_DIR / f"{name}.npz"
        net, meta = _load_file(str(path), path.stat().st_mtime)
        return net, dict(meta)
    import json

    run = _run_store().open(name)
    net = run.load_network("best")
    config = run.config
    classes, input_shape = _image_dataset_facts(config.dataset, json.dumps(config.dataset_params))
    try:
        from backprop.cli import train_command

        command = train_command(config, f"runs/{run.name}")
    except ImportError:
        command = f"python -m backprop export-model --run runs/{run.name} --out models/{name}.npz"
    meta = {
        "name": name,
        "dataset": config.dataset,
        "dataset_params": config.dataset_params,
        "classes": classes,
        "input_shape": input_shape,
        "val_accuracy": run.summary.get("best_val_accuracy"),
        "command": command,
        "description": f"run {name} (best epoch): {config.describe()}",
    }
    return net, meta


def model_picker_ui() -> Model:
    options = model_options()
    if not options:
        st.error("No model found: run `python -m models.train digits` to create models/digits.npz.")
        st.stop()
    model_id = st.selectbox("Model", list(options), format_func=options.get, key="draw.model")
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
    taught = st.session_state.setdefault(TAUGHT_KEY, {}).get(model_id)
    if taught:
        return Model(model_id, taught["net"], original, meta, style, taught["steps"])
    return Model(model_id, original, original, meta, style)


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
        cols[2].metric("Validation accuracy", "n/a" if accuracy is None else f"{accuracy:.1%}")
        st.caption("Reproduce:")
        st.code(str(meta.get("command", "?")), language="bash")
        if model.taught_steps:
            st.warning(
                f"Predictions use a session copy taught for {model.taught_steps} step(s); "
                "reset it in *Teach it*. The model file is unchanged.",
                icon=":material/school:",
            )


# ------------------------------------------------------------------- input
def drawing_input_ui() -> tuple[np.ndarray | None, str]:
    """(image array or None, where it came from). The canvas is always shown, so it is never lost."""
    injected = st.session_state.get(INJECT_KEY)
    stroke = st.slider("Stroke width", 4, 40, 18, key="draw.stroke")
    canvas_round = st.session_state.setdefault(CANVAS_ROUND_KEY, 0)
    image = None
    try:
        from streamlit_drawable_canvas import st_canvas
    except ImportError:
        st.error(
            "The drawing canvas needs `pip install streamlit-drawable-canvas`; upload a picture instead."
        )
    else:
        result = st_canvas(
            stroke_width=stroke,
            stroke_color="#FFFFFF",
            background_color="#000000",
            height=CANVAS_SIDE,
            width=CANVAS_SIDE,
            drawing_mode="freedraw",
            return_image_data=True,
            key=f"draw.canvas.{canvas_round}",
        )
        if result is not None and result.image_data is not None:
            image = result.image_data
    if st.button("Clear", icon=":material/delete:", help="Start a new drawing"):
        st.session_state[CANVAS_ROUND_KEY] = canvas_round + 1
        st.session_state.pop(INJECT_KEY, None)
        st.rerun()
    with st.expander("…or upload a picture", expanded=False):
        upload = st.file_uploader("PNG, JPEG or WebP", type=["png", "jpg", "jpeg", "webp"], key="draw.upload")
        invert = st.radio(
            "Dark ink on light paper?",
            ["detect", "invert", "keep"],
            horizontal=True,
            key="draw.invert",
            help="Models expect light strokes on black.",
        )
    if upload is not None:
        try:
            gray, inverted = read_picture(
                upload.getvalue(), upload.name, {"detect": None, "invert": True, "keep": False}[invert]
            )
        except drawing.UploadError as err:
            st.error(plain(f"{err}. Your drawing is still on the canvas."))
        else:
            st.caption(
                plain(f"Using {upload.name}{' (inverted)' if inverted else ''}; remove it to use the canvas.")
            )
            return gray, "upload"
    if injected is not None:
        return np.asarray(injected), "injected"
    return image, "canvas"


def read_picture(data: bytes, name: str, invert: bool | None) -> tuple[np.ndarray, bool]:
    """An upload as (gray, inverted), held to the upload budget; UploadError says what to change.

    The budget (``limits.UPLOAD_PIXELS``) is checked from the picture's header
    before anything is decoded, so a huge picture costs nothing.
    """
    try:
        return drawing.read_upload(data, invert=invert, name=name, max_pixels=limits.UPLOAD_PIXELS.value())
    except drawing.ImageTooLarge as err:
        raise drawing.ImageTooLarge(
            f"{err}; the limit is {limits.UPLOAD_PIXELS.env} if you trust a larger picture"
        ) from None


# --------------------------------------------------------------- predicting
def predict(model: Model, prepared: drawing.Prepared, explain: int | None = None) -> Prediction:
    """Probabilities, per-layer activations and dP/dx for one prepared drawing."""
    start = time.perf_counter()
    probs, grad, trace = probability_gradient(model.net, prepared.x, explain)
    probs = probs[0]
    predicted = int(probs.argmax())
    side = model.style.size
    blocks = trace.blocks
    names = [
        f"layer {block.index + 1} ({'-'.join(rec.spec for rec in block.records)}, {block.a[0].size} values)"
        for block in blocks[:-1]
    ] + [f"output logits ({blocks[-1].a.shape[1]})"]
    return Prediction(
        probs,
        predicted,
        predicted if explain is None else int(explain),
        grad[0].reshape(side, side),
        [block.a[0].ravel() for block in blocks],
        names,
        time.perf_counter() - start,
    )


def top_k(probs: np.ndarray, classes, k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(probs)[::-1][:k]
    return [(str(classes[i]), float(probs[i])) for i in order]


def stage_images(prepared: drawing.Prepared) -> None:
    """Every preprocessing stage, small, left to right."""
    cols = st.columns(len(prepared.stages))
    for col, (title, image) in zip(cols, prepared.stages):
        col.image(_enlarge(image, 112), caption=title, width=112)


def _enlarge(image: np.ndarray, side: int) -> np.ndarray:
    """Nearest-neighbour upscale of a small uint8 image so its pixels stay crisp."""
    factor = max(1, side // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


# ---------------------------------------------------------------- teaching
def teach(model: Model, x: np.ndarray, label: int, steps: int, learning_rate: float) -> dict:
    """``steps`` SGD steps on (x, label) applied to the session copy; returns the before/after record."""
    store = st.session_state.setdefault(TAUGHT_KEY, {})
    entry = store.get(model.id) or {"net": model.original.copy(), "steps": 0}
    net = entry["net"]
    before = net.predict_proba(x)[0]
    optimizer = SGD(learning_rate=learning_rate)
    deltas = [np.zeros_like(layer.params["W"]) for layer in net.layers if "W" in layer.params]
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
    }
    store[model.id] = entry
    return entry["result"]


def reset_teaching(model: Model) -> None:
    st.session_state.setdefault(TAUGHT_KEY, {}).pop(model.id, None)


def last_teaching(model: Model) -> dict | None:
    entry = st.session_state.get(TAUGHT_KEY, {}).get(model.id)
    return entry.get("result") if entry else None


# -------------------------------------------------------------- validation
@st.cache_data(show_spinner="Scoring the validation set…")
def validation_report(model_id: str, _net, meta_json: str, gallery: int = 24) -> dict:
    """Confusion matrix, per-class precision/recall/F1 and misclassified images of the original model."""
    import json

    meta = json.loads(meta_json)
    data = datasets.load(meta["dataset"], **meta["dataset_params"])
    probs = _net.predict_proba(data.x_val)
    predicted = probs.argmax(axis=1)
    matrix = confusion_matrix(data.y_val, predicted, n_classes=len(meta["classes"]))
    scores = precision_recall_f1(matrix)
    wrong = np.flatnonzero(predicted != data.y_val)[:gallery]
    side = int(np.sqrt(data.x_val.shape[1]))
    images = [_enlarge(drawing.to_uint8(data.x_val[i].reshape(side, side)), 84) for i in wrong]
    classes = [str(c) for c in meta["classes"]]
    captions = [
        f"true {classes[data.y_val[i]]} → {classes[predicted[i]]} ({probs[i, predicted[i]]:.0%})"
        for i in wrong
    ]
    table = {
        "class": classes,
        "precision": scores["precision"].round(3),
        "recall": scores["recall"].round(3),
        "F1": scores["f1"].round(3),
        "support": scores["support"],
    }
    return {
        "matrix": matrix,
        "table": table,
        "images": images,
        "captions": captions,
        "n_wrong": int(np.count_nonzero(predicted != data.y_val)),
        "n": int(len(data.y_val)),
    }


def validation_ui(model: Model) -> None:
    import json

    try:
        report = validation_report(model.id, model.original, json.dumps(model.meta, sort_keys=True))
    except ValueError as err:  # e.g. datasets.DatasetUnavailable
        st.error(plain(f"Cannot load the validation images of {model.meta['dataset']}: {err}"))
        return
    from viz.draw import confusion

    left, right = st.columns([3, 2])
    left.plotly_chart(confusion(report["matrix"], model.meta["classes"]), key="draw.confusion")
    right.dataframe(report["table"], hide_index=True)
    st.markdown(
        f"**{report['n_wrong']} of {report['n']} validation images misclassified**"
        + (f"; the first {len(report['images'])}:" if report["images"] else ".")
    )
    if report["images"]:
        st.image(report["images"], caption=report["captions"], width=84)
