"""Figures for the "Draw & predict" page: probabilities, saliency, feature maps, activations, ΔW, confusion.

Pure functions from arrays (probabilities, feature maps, a gradient) to what the
page shows. The saliency map, the feature maps and the confusion matrix, which change
with every drawing or model, are payloads for the map view (``ui.map_view``): their
arrays as float32 or int32 bytes, drawn in the browser in place. The other charts are
plotly figures built as plain data: no ``make_subplots`` and no per-attribute
validation, which cost far more than the numbers. Small grids travel as heatmaps
with hover values, large ones as colour-mapped PNG images (``viz.heatmap``);
nothing is turned into Python lists.

Signed values use the one scale of ``viz.colors``: blue negative, white 0, red
positive, centred on 0, each figure with its legend.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

from .axes import AXIS_TITLE, COLOR_BAR, TICK_ROW, left_margin, text_px
from .colors import COLORSCALE, COUNT_LUT, LUT
from .encoding import b64
from .figure import figure
from .heatmap import abs_limit, gray_png_data_uri, matrix_trace, stats_text, summary_stats
from .tables import bar_html, table_html

PREDICTED = "#2563eb"
OTHER = "#94a3b8"
TRUE = "#16a34a"
# A feature map or a kernel per tile, tiles apart by this many pixels (drawn as gaps).
GAP = 1
# Tiles per row of a feature-map mosaic: 16 maps of 28×28 make two rows on a wide page.
MAPS_PER_ROW = 8


def label(value) -> str:
    """A class name (from a model file or a dataset's folder names) as literal text in a figure.

    Plotly reads a subset of HTML in titles, tick labels and hover text
    (``<b>``, ``<a href=...>``, entities); escaped, the name reads as it is.
    """
    return html.escape(str(value), quote=False)


def _scale_title(text: str, limit: float, values) -> dict:
    """A title whose second line is the legend of a signed figure: its scale and five-number summary."""
    return dict(
        text=f"{text} <span style='font-size:11px'>scale ±{limit:.3g}</span><br>"
        f"<span style='font-size:10px'>{stats_text(summary_stats(values))}</span>",
        font=dict(size=13),
        x=0,
        xanchor="left",
    )


def colorbar_trace(limit: float, title: str, axes: tuple[str, str] = ("x", "y")) -> dict:
    """An empty trace whose only mark is the colour bar of the diverging scale ±limit (for images,
    which have no colour bar of their own)."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        xaxis=axes[0],
        yaxis=axes[1],
        hoverinfo="skip",
        showlegend=False,
        marker=dict(
            colorscale=COLORSCALE,
            cmin=-limit,
            cmax=limit,
            color=[0.0],
            showscale=True,
            colorbar=dict(title=dict(text=title, side="right"), thickness=12, len=0.9),
        ),
    )


def probability_table(probs: np.ndarray | None, classes) -> str:
    """One row per class: its probability as a bar and a percentage (exact on hover), the most likely
    class in bold and its bar in the prediction's colour; None (nothing drawn yet): every class with
    an empty bar. Class names are escaped."""
    probs = None if probs is None else np.asarray(probs, dtype=np.float64).ravel()
    best = None if probs is None else int(probs.argmax())
    rows = []
    for k, name in enumerate(classes):
        shown = html.escape(str(name))
        rows.append(
            [
                f'<span style="display:inline-block;min-width:5em;text-align:right">'
                f"{f'<b>{shown}</b>' if k == best else shown}</span>",
                bar_html(
                    None if probs is None else float(probs[k]), PREDICTED if k == best else OTHER, width_em=12
                ),
            ]
        )
    return table_html("Probabilities", ["class", "probability"], rows)


def scores_table(scores: dict, classes) -> str:
    """Precision, recall and F1 of each class (three decimals) and its support, one row per class;
    ``scores`` as ``backprop.precision_recall_f1`` gives them. Class names are escaped."""
    rows = [
        [
            html.escape(str(name)),
            *(f"{float(scores[key][k]):.3f}" for key in ("precision", "recall", "f1")),
            f"{int(scores['support'][k]):,}",
        ]
        for k, name in enumerate(classes)
    ]
    return table_html("Per-class scores", ["class", "precision", "recall", "F1", "support"], rows)


def probability_shift(before: np.ndarray, after: np.ndarray, classes, true_class: int) -> go.Figure:
    """Grouped bars: each class's probability before and after teaching, the true class marked."""
    labels = [f"{label(c)} ✓" if k == true_class else label(c) for k, c in enumerate(classes)]
    data = [
        dict(
            type="bar",
            name=name,
            x=labels,
            y=np.asarray(values, np.float64).ravel(),
            marker=dict(color=colour),
        )
        for name, values, colour in (("before", before, OTHER), ("after", after, PREDICTED))
    ]
    layout = dict(
        barmode="group",
        title=dict(text="Probability before and after teaching"),
        yaxis=dict(range=[0, 1], tickformat=".0%"),
        xaxis=dict(type="category"),
        legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom"),
        height=320,
        margin=dict(l=left_margin(["100%"]), r=10, t=40, b=TICK_ROW + max(0, text_px(labels) - 20)),
    )
    return figure(data, layout)


def saliency_payload(image: np.ndarray, saliency: np.ndarray, class_name) -> dict:
    """What the map view (``ui.map_view``) draws for the saliency: the model input beside dP/dx laid over it.

    image: (h, w) in [0, 1]; saliency: (h, w), the gradient of the class's probability. The two
    arrays go as float32 bytes (base64), so the values the view shows on hover are the engine's;
    the colour scale is ±max|dP/dx| on ``viz.colors.LUT`` (red raises the probability, blue lowers
    it), with its five-number summary for the legend. The class name is plain text: the view writes
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
        "input": b64(image),
        "saliency": b64(saliency),
        "lut": b64(LUT),
    }


def empty_saliency_payload(side: int, note: str) -> dict:
    """The saliency view before anything is drawn: a black input of ``side``×``side`` pixels, no
    gradient, and ``note`` (plain text) where the values go. The view stays on the page, so the first
    stroke redraws it in place."""
    blank = np.zeros((side, side), np.float32)
    return {**saliency_payload(blank, blank, ""), "note": str(note), "stats": ""}


def tile(maps: np.ndarray, per_row: int, gap: int = GAP) -> np.ndarray:
    """(C, h, w) maps laid out left to right, top to bottom, ``per_row`` to a row, NaN between them.

    Returns (rows·(h+gap) − gap, per_row·(w+gap) − gap) float64; a NaN pixel is drawn as a gap.
    """
    maps = np.asarray(maps, np.float64)
    count, h, w = maps.shape
    per_row = max(1, min(per_row, count))
    rows = math.ceil(count / per_row)
    mosaic = np.full((rows * (h + gap) - gap, per_row * (w + gap) - gap), np.nan)
    for k in range(count):
        top, left = (k // per_row) * (h + gap), (k % per_row) * (w + gap)
        mosaic[top : top + h, left : left + w] = maps[k]
    return mosaic


def feature_maps_payload(maps: np.ndarray, title: str, per_row: int = MAPS_PER_ROW) -> dict:
    """One layer's feature maps for one input, as the map view (``ui.map_view``) draws them: channel by
    channel, ``per_row`` to a row, on one diverging scale with its legend.

    maps: (C, h, w). The scale is ±max |value| of the layer, so channels compare; ReLU or pooling
    outputs, never negative, use only its red half. The values go as float32 bytes (base64), so the
    view reads the engine's numbers on hover; the title is plain text, written as text.
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
        "values": b64(maps),
        "lut": b64(LUT),
    }


def activations_payload(activations: list[np.ndarray], names: list[str], classes) -> dict:
    """The dense layers' activations for one input, as the map view (``ui.map_view``) draws them: one
    row of bars per layer, a bar per unit, coloured on the diverging scale; the last row is the
    output, its bars named by ``classes``.

    activations: per layer a (units,) array (one sample); names: a title per layer. Each row has its
    own scale, ±max |value| of that layer, and the view writes that limit beside the row. The values
    go as float32 bytes (base64), so the view reads the engine's numbers on hover; titles and class
    names are plain text, written as text.
    """
    if len(activations) != len(names) or not activations:
        raise ValueError(
            f"{len(activations)} layers of activations and {len(names)} names: one name per layer"
        )
    classes = [str(c) for c in classes]
    rows = []
    for values, name in zip(activations, names):
        values = np.asarray(values, dtype=np.float32).ravel()
        rows.append({"title": str(name), "limit": abs_limit(values), "values": b64(values)})
    if np.asarray(activations[-1]).size != len(classes):
        raise ValueError(
            f"the output has {np.asarray(activations[-1]).size} values for {len(classes)} classes"
        )
    rows[-1]["labels"] = classes
    return {"layout": "bars", "rows": rows, "lut": b64(LUT)}


def weight_change(delta_W: np.ndarray, title: str) -> go.Figure:
    """ΔW on the diverging scale (red increased, blue decreased) with its legend.

    delta_W: a dense layer's (n_in, n_out), drawn one row per unit and one column per input;
    or a convolution's (C_out, C_in, k, k), drawn as its k×k kernels, one column per output
    channel and one row per input channel.
    """
    delta_W = np.asarray(delta_W, np.float64)
    limit = abs_limit(delta_W)
    if delta_W.ndim == 4:
        c_out, c_in, k, _ = delta_W.shape
        grid = delta_W.transpose(1, 0, 2, 3).reshape(c_in * c_out, k, k)
        matrix = tile(grid, per_row=c_out)
        across, down = "output channel", "input channel"
    else:
        matrix = delta_W.T
        across, down = "input", "unit"
    trace = matrix_trace(matrix, limit, "ΔW")
    if delta_W.ndim == 4:
        trace["hoverinfo"] = "skip"
        trace.pop("hovertemplate", None)
    else:
        trace["hovertemplate"] = "unit %{y}, input %{x}: %{z:.3g}<extra></extra>"
    height = int(min(420, max(200, 120 + 4 * matrix.shape[0])))
    layout = dict(
        title=_scale_title(title, limit, delta_W),
        xaxis=dict(title=dict(text=across), showgrid=False, zeroline=False, showticklabels=delta_W.ndim != 4),
        yaxis=dict(
            title=dict(text=down),
            autorange="reversed",
            showgrid=False,
            zeroline=False,
            showticklabels=delta_W.ndim != 4,
        ),
        height=height,
        margin=dict(
            l=left_margin(["000"] if delta_W.ndim != 4 else [], title=True),
            r=COLOR_BAR,
            t=56,
            b=(TICK_ROW if delta_W.ndim != 4 else 10) + AXIS_TITLE,
        ),
    )
    return figure([trace, colorbar_trace(limit, "ΔW")], layout)


def gallery_html(images, captions, width: int) -> str:
    """Small grey pictures side by side, each with its caption under it, as one block of HTML.

    images: uint8 2-D arrays, each drawn ``width`` CSS pixels wide with square, unsmoothed pixels, from
    an inline PNG, so the block needs no request of its own. A caption is text, escaped in an element of
    its own; the block is meant for ``st.html``, which reads no Markdown.
    """
    figures = []
    for image, caption in zip(images, captions):
        image = np.asarray(image)
        height = round(width * image.shape[0] / image.shape[1])
        figures.append(
            f'<figure style="margin:0;width:{width}px">'
            f'<img src="{gray_png_data_uri(image)}" width="{width}" height="{height}" alt="" '
            'style="display:block;image-rendering:pixelated;border-radius:2px">'
            '<figcaption style="font-size:0.78rem;line-height:1.3;color:#475569;margin-top:3px;'
            f'overflow-wrap:anywhere">{html.escape(str(caption))}</figcaption></figure>'
        )
    return (
        f'<div class="bp-gallery" style="display:flex;flex-wrap:wrap;gap:10px 14px">{"".join(figures)}</div>'
    )


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
        "counts": b64(matrix.astype(np.int32)),
        "lut": b64(COUNT_LUT),
    }


__all__ = [
    "probability_table",
    "probability_shift",
    "saliency_payload",
    "empty_saliency_payload",
    "feature_maps_payload",
    "tile",
    "activations_payload",
    "weight_change",
    "confusion_payload",
    "gallery_html",
    "colorbar_trace",
    "label",
]
