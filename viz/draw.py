"""Figures for the "Draw & predict" page: probabilities, activations, saliency, ΔW, confusion.

Pure functions from arrays (probabilities, a Trace, a gradient) to plotly
figures. Images travel as uint8 (``go.Image``) and small grids as heatmaps of
NumPy arrays, never as Python lists.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PREDICTED = "#2563eb"
OTHER = "#94a3b8"
TRUE = "#16a34a"
# Blue where the input pushed the probability up, red where it pushed it down.
DIVERGING = "RdBu"
_BLUE = np.array([37, 99, 235], np.float32)
_RED = np.array([220, 38, 38], np.float32)


def label(value) -> str:
    """A class name (from a model file or a dataset's folder names) as literal text in a figure.

    Plotly reads a subset of HTML in titles, tick labels and hover text
    (``<b>``, ``<a href=...>``, entities); escaped, the name reads as it is.
    """
    return html.escape(str(value), quote=False)


def _compact(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def probability_bars(probs: np.ndarray, classes, title: str = "Probabilities") -> go.Figure:
    """Horizontal bars of (C,) probabilities, the most likely class highlighted."""
    probs = np.asarray(probs, dtype=np.float64).ravel()
    labels = [label(c) for c in classes]
    colours = np.where(np.arange(probs.size) == probs.argmax(), PREDICTED, OTHER)
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=labels,
            orientation="h",
            marker_color=colours,
            text=[f"{p:.1%}" for p in probs],
            textposition="outside",
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 1.15], tickformat=".0%")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(title=title, showlegend=False)
    return _compact(fig, 60 + 26 * len(labels))


def probability_shift(before: np.ndarray, after: np.ndarray, classes, true_class: int) -> go.Figure:
    """Grouped bars: each class's probability before and after teaching, the true class marked."""
    labels = [f"{label(c)} ✓" if k == true_class else label(c) for k, c in enumerate(classes)]
    fig = go.Figure(
        [
            go.Bar(name="before", x=labels, y=np.asarray(before, np.float64).ravel(), marker_color=OTHER),
            go.Bar(name="after", x=labels, y=np.asarray(after, np.float64).ravel(), marker_color=PREDICTED),
        ]
    )
    fig.update_layout(
        barmode="group",
        title="Probability before and after teaching",
        yaxis=dict(range=[0, 1], tickformat=".0%"),
        legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom"),
    )
    fig.update_xaxes(type="category")
    return _compact(fig, 320)


def layer_activations(activations: list[np.ndarray], names: list[str]) -> go.Figure:
    """One bar row per layer: each unit's activation for this input.

    activations: per layer a (units,) array (one sample); names: a title per layer.
    """
    rows = len(activations)
    fig = make_subplots(rows=rows, cols=1, subplot_titles=names, vertical_spacing=0.5 / max(rows, 1) ** 1.2)
    for k, values in enumerate(activations, start=1):
        values = np.asarray(values, np.float64).ravel()
        fig.add_trace(
            go.Bar(
                x=np.arange(values.size),
                y=values,
                marker_color=np.where(values >= 0, PREDICTED, "#dc2626"),
                hovertemplate="unit %{x}: %{y:.3f}<extra></extra>",
            ),
            row=k,
            col=1,
        )
        fig.update_xaxes(title_text="unit", row=k, col=1)
    fig.update_layout(showlegend=False)
    return _compact(fig, 40 + 170 * rows)


def saliency_overlay(image: np.ndarray, saliency: np.ndarray, class_name: str) -> go.Figure:
    """The model input beside dP/dx laid over it (blue raises the class's probability, red lowers it).

    image: (h, w) in [0, 1]; saliency: (h, w) gradient of the class's probability.
    """
    image = np.asarray(image, np.float64)
    saliency = np.asarray(saliency, np.float64)
    limit = float(np.abs(saliency).max()) or 1.0
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        subplot_titles=("model input", f"∂P({label(class_name)})/∂pixel over the input"),
    )
    fig.add_trace(
        go.Heatmap(
            z=image,
            colorscale="gray",
            zmin=0,
            zmax=1,
            showscale=False,
            hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(z=image, colorscale="gray", zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Heatmap(
            z=saliency,
            colorscale=DIVERGING,
            zmid=0,
            zmin=-limit,
            zmax=limit,
            opacity=0.75,
            colorbar=dict(title="∂P/∂x", len=0.9),
            hovertemplate="row %{y}, col %{x}: %{z:.3g}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    for col in (1, 2):
        fig.update_yaxes(
            autorange="reversed",
            scaleanchor=f"x{'' if col == 1 else col}",
            showticklabels=False,
            row=1,
            col=col,
        )
        fig.update_xaxes(showticklabels=False, constrain="domain", row=1, col=col)
    return _compact(fig, 340)


def diverging_rgb(values: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8: white at 0, blue for positive, red for negative, scaled by max |value|."""
    values = np.asarray(values, np.float32)
    limit = float(np.abs(values).max()) or 1.0
    strength = np.clip(np.abs(values) / limit, 0, 1)[..., None]
    colour = np.where(values[..., None] >= 0, _BLUE, _RED)
    rgb = 255.0 * (1 - strength) + colour * strength
    return np.round(rgb).astype(np.uint8)


def weight_change(delta_W: np.ndarray, title: str) -> go.Figure:
    """ΔW (n_in, n_out) as an image, one row per unit (blue increased, red decreased)."""
    delta_W = np.asarray(delta_W)
    if delta_W.ndim > 2:  # a convolution's kernels: one row per output channel
        delta_W = delta_W.reshape(delta_W.shape[0], -1).T
    fig = go.Figure(
        go.Image(z=diverging_rgb(delta_W.T), hovertemplate="unit %{y}, input %{x}<extra></extra>")
    )
    limit = float(np.abs(delta_W).max())
    fig.update_layout(title=f"{title} (max |ΔW| = {limit:.2g})")
    fig.update_xaxes(title_text="input", showgrid=False)
    fig.update_yaxes(title_text="unit", showgrid=False)
    return _compact(fig, min(420, 120 + 4 * delta_W.shape[1]))


def confusion(matrix: np.ndarray, classes) -> go.Figure:
    """Counts (C, C), rows the true class and columns the prediction."""
    matrix = np.asarray(matrix)
    labels = [label(c) for c in classes]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            colorscale="Blues",
            showscale=False,
            text=matrix.astype(str),
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="predicted", type="category", side="bottom")
    fig.update_yaxes(title_text="true", type="category", autorange="reversed")
    fig.update_layout(title="Confusion matrix (validation)")
    return _compact(fig, 140 + 34 * len(labels))


__all__ = [
    "probability_bars",
    "probability_shift",
    "layer_activations",
    "saliency_overlay",
    "diverging_rgb",
    "weight_change",
    "confusion",
    "label",
]
