"""Figures for the "Draw & predict" page: probabilities, saliency, feature maps, activations, ΔW, confusion.

Pure functions from arrays (probabilities, feature maps, a gradient) to what the
page shows. The saliency map, the feature maps, the activations, ΔW and the confusion
matrix, which change with every drawing, model or teaching step, are payloads for the
map view (``ui.map_view``): their arrays as float32 or int32 NumPy arrays, sent as
their bytes and drawn in the browser in place; nothing is turned into Python lists.
Probabilities, their shift after teaching and the per-class scores are tables for
``ui.report_view`` (``viz.tables``), plain data written out as text.

Signed values use the one scale of ``viz.colors``: blue negative, white 0, red
positive, centred on 0, each figure with its legend.
"""

from __future__ import annotations

import numpy as np

from .colors import COUNT_LUT, DOWN, LUT, UP
from .heatmap import abs_limit, stats_text, summary_stats
from .tables import bar, table, text

PREDICTED = "#2563eb"
OTHER = "#94a3b8"
# Tiles per row of a feature-map mosaic: 16 maps of 28×28 make two rows on a wide page.
MAPS_PER_ROW = 8


def probability_table(probs: np.ndarray | None, classes) -> dict:
    """For ``ui.report_view``: one row per class, its probability as a bar and a percentage (exact on
    hover), the most likely class in bold and its bar in the prediction's colour; None (nothing drawn
    yet): every class with an empty bar. Class names are text."""
    probs = None if probs is None else np.asarray(probs, dtype=np.float64).ravel()
    best = None if probs is None else int(probs.argmax())
    rows = [
        [
            text(name, bold=k == best),
            bar(None if probs is None else float(probs[k]), PREDICTED if k == best else OTHER, width_em=12),
        ]
        for k, name in enumerate(classes)
    ]
    return table("Probabilities", ["class", "probability"], rows, align=["right", "left"])


def scores_table(scores: dict, classes) -> dict:
    """For ``ui.report_view``: precision, recall and F1 of each class (three decimals) and its support, one
    row per class; ``scores`` as ``backprop.precision_recall_f1`` gives them. Class names are text."""
    rows = [
        [
            text(name),
            *(text(f"{float(scores[key][k]):.3f}") for key in ("precision", "recall", "f1")),
            text(f"{int(scores['support'][k]):,}"),
        ]
        for k, name in enumerate(classes)
    ]
    return table("Per-class scores", ["class", "precision", "recall", "F1", "support"], rows)


def probability_shift(before: np.ndarray, after: np.ndarray, classes, true_class: int) -> dict:
    """For ``ui.report_view``: one row per class, its probability before and after teaching as bars (the
    exact value on hover), and the change in percentage points, red up and blue down as every signed
    value in the app; the true class marked ✓ and in bold. Class names are text."""
    before = np.asarray(before, np.float64).ravel()
    after = np.asarray(after, np.float64).ravel()
    rows = []
    for k, name in enumerate(classes):
        change = 100 * (after[k] - before[k])
        rows.append(
            [
                text(f"{name} ✓", bold=True) if k == true_class else text(name),
                bar(float(before[k]), OTHER, width_em=9),
                bar(float(after[k]), PREDICTED, width_em=9),
                # a change too small for one decimal keeps its significant digits, not "-0.0"
                text(
                    f"{f'{change:+.1f}' if abs(change) >= 0.05 or change == 0 else f'{change:+.2g}'} pp",
                    mono=True,
                    color=UP if change > 0 else DOWN if change < 0 else "#555867",
                ),
            ]
        )
    return table(
        "Probability before and after teaching",
        ["class", "before", "after", "change"],
        rows,
        note="✓ the label taught; pp: percentage points.",
    )


def saliency_payload(image: np.ndarray, saliency: np.ndarray, class_name) -> dict:
    """What the map view (``ui.map_view``) draws for the saliency: the model input beside dP/dx laid over it.

    image: (h, w) in [0, 1]; saliency: (h, w), the gradient of the class's probability. The two
    arrays go as float32 (``ui.map_view`` packs them), so the values the view shows on hover are the
    engine's; the colour scale is ±max|dP/dx| on ``viz.colors.LUT`` (red raises the probability, blue
    lowers it), with its five-number summary for the legend. The class name is plain text: the view writes
    it as text, never as markup.
    """
    image = np.asarray(image, dtype=np.float32)
    saliency = np.asarray(saliency, dtype=np.float32)
    if image.ndim != 2 or image.shape != saliency.shape:
        raise ValueError(f"image {image.shape} and saliency {saliency.shape} must be the same (h, w)")
    return {
        "layout": "saliency",
        "rows": int(image.shape[0]),
        "cols": int(image.shape[1]),
        "class_name": str(class_name),
        "limit": abs_limit(saliency),
        "stats": stats_text(summary_stats(saliency)),
        "input": image,
        "saliency": saliency,
        "lut": LUT,
    }


def empty_saliency_payload(side: int, note: str) -> dict:
    """The saliency view before anything is drawn: a black input of ``side``×``side`` pixels, no
    gradient, and ``note`` (plain text) where the values go. The view stays on the page, so the first
    stroke redraws it in place."""
    blank = np.zeros((side, side), np.float32)
    return {**saliency_payload(blank, blank, ""), "note": str(note), "stats": ""}


def feature_maps_payload(maps: np.ndarray, title: str, per_row: int = MAPS_PER_ROW) -> dict:
    """One layer's feature maps for one input, as the map view (``ui.map_view``) draws them: channel by
    channel, ``per_row`` to a row, on one diverging scale with its legend.

    maps: (C, h, w). The scale is ±max |value| of the layer, so channels compare; ReLU or pooling
    outputs, never negative, use only its red half. The values go as float32 (``ui.map_view`` packs
    them), so the view reads the engine's numbers on hover; the title is plain text, written as text.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"feature maps must be (channels, height, width), got shape {maps.shape}")
    return {
        "layout": "mosaic",
        "title": str(title),
        "channels": int(maps.shape[0]),
        "height": int(maps.shape[1]),
        "width": int(maps.shape[2]),
        "per_row": int(per_row),
        "limit": abs_limit(maps),
        "stats": stats_text(summary_stats(maps)),
        "values": maps,
        "lut": LUT,
    }


def activations_payload(activations: list[np.ndarray], names: list[str], classes) -> dict:
    """The dense layers' activations for one input, as the map view (``ui.map_view``) draws them: one
    row of bars per layer, a bar per unit, coloured on the diverging scale; the last row is the
    output, its bars named by ``classes``.

    activations: per layer a (units,) array (one sample); names: a title per layer. Each row has its
    own scale, ±max |value| of that layer, and the view writes that limit beside the row. The values
    go as float32 (``ui.map_view`` packs them), so the view reads the engine's numbers on hover;
    titles and class names are plain text, written as text.
    """
    if len(activations) != len(names) or not activations:
        raise ValueError(
            f"{len(activations)} layers of activations and {len(names)} names: one name per layer"
        )
    classes = [str(c) for c in classes]
    layers = [np.asarray(values, dtype=np.float32).ravel() for values in activations]
    if layers[-1].size != len(classes):
        raise ValueError(f"the output has {layers[-1].size} values for {len(classes)} classes")
    rows = [
        {"title": str(name), "limit": abs_limit(values), "values": values}
        for values, name in zip(layers, names)
    ]
    rows[-1]["labels"] = classes
    return {"layout": "bars", "rows": rows, "lut": LUT}


def weight_change_payload(delta_W: np.ndarray, title: str) -> dict:
    """ΔW as the map view's mosaic (``ui.map_view``) draws it, on the diverging scale (red increased,
    blue decreased) with its legend; the pointer reads each weight's place and change.

    delta_W: a dense layer's (n_in, n_out), drawn one row per unit and one column per input;
    or a convolution's (C_out, C_in, k, k), drawn as its k×k kernels, one column of kernels per output
    channel and one row per input channel. The values go as float32 (``ui.map_view`` packs them).
    """
    delta_W = np.asarray(delta_W, np.float32)
    if delta_W.ndim == 4:
        c_out, c_in, k, _ = delta_W.shape
        tiles = delta_W.transpose(1, 0, 2, 3).reshape(c_in * c_out, k, k)  # input channel by input channel
        payload = feature_maps_payload(tiles, title, per_row=c_out)
        return {**payload, "tile_axes": ["input channel", "output channel"]}
    if delta_W.ndim != 2:
        raise ValueError(f"ΔW is (n_in, n_out) or (C_out, C_in, k, k), got shape {delta_W.shape}")
    payload = feature_maps_payload(delta_W.T[None], title, per_row=1)
    return {**payload, "cell_axes": ["unit", "input"]}


def confusion_payload(matrix: np.ndarray, classes) -> dict:
    """A confusion matrix as the map view (``ui.map_view``) draws it: counts (C, C), rows the true
    class and columns the prediction, each cell coloured on ``viz.colors.COUNT_LUT`` from 0 to the
    largest count and written in it. Class names are plain text, written as text."""
    matrix = np.asarray(matrix)
    classes = [str(c) for c in classes]
    if matrix.ndim != 2 or matrix.shape != (len(classes), len(classes)):
        raise ValueError(
            f"a confusion matrix for {len(classes)} classes is ({len(classes)}, {len(classes)}), got {matrix.shape}"
        )
    if matrix.size and (
        not np.all(np.isfinite(matrix)) or matrix.min() < 0 or np.any(matrix != np.round(matrix))
    ):
        raise ValueError("a confusion matrix holds counts: whole numbers, 0 or more")
    return {
        "layout": "confusion",
        "title": "Confusion matrix (validation)",
        "classes": classes,
        "counts": matrix.astype(np.int32),
        "lut": COUNT_LUT,
    }


__all__ = [
    "probability_table",
    "probability_shift",
    "saliency_payload",
    "empty_saliency_payload",
    "feature_maps_payload",
    "activations_payload",
    "weight_change_payload",
    "confusion_payload",
]
