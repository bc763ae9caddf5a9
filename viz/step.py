"""What the network does with its input, for the step-through page: boundary, curve, image, loss.

The step's matrices and the network diagram are drawn by the step player in the
browser (``viz.step_payload``); these task views read the network on a grid or one
sample of the trace, and change nothing.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .axes import COLOR_BAR, LEGEND_ROW, TICK_ROW, left_margin, legend_below
from .colors import ACCENT, COLORSCALE
from .figure import PLAIN


# ----------------------------------------------------------- task views
def finite_rows(x, y):
    """Rows of (x, y) whose inputs are all finite, x as float64: a NaN must not break a view."""
    x = np.asarray(x, dtype=np.float64)
    keep = np.all(np.isfinite(x.reshape(len(x), -1)), axis=1)
    if not keep.any():
        raise ValueError("every input row contains NaN or inf; clean the data")
    return x[keep], np.asarray(y)[keep]


def decision_boundary(net, x, y, classes, resolution: int = 70, highlight=None) -> go.Figure:
    """Class probabilities of a 2-D classifier on a grid, with the points coloured by label.

    Two classes: P(class 1) on the diverging scale; more: the winning class.
    highlight: row indices of x drawn larger (the current batch or sample).
    """
    marked = (
        None
        if highlight is None or not len(highlight)
        else np.asarray(x, dtype=np.float64)[np.asarray(highlight)]
    )
    x, y = finite_rows(x, y)
    pad = 0.1 * (x.max(axis=0) - x.min(axis=0) + 1e-9)
    lo, hi = x.min(axis=0) - pad, x.max(axis=0) + pad
    gx, gy = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    probs = net.predict_proba(grid)
    if probs.shape[1] == 2:
        z, zmin, zmax, title = probs[:, 1], 0.0, 1.0, f"P({classes[1]})"
    else:
        z, zmin, zmax, title = probs.argmax(axis=1).astype(float), 0, probs.shape[1] - 1, "predicted class"
    fig = go.Figure(
        go.Heatmap(
            x=gx,
            y=gy,
            z=z.reshape(resolution, resolution),
            zmin=zmin,
            zmax=zmax,
            colorscale=COLORSCALE,
            opacity=0.55,
            colorbar=dict(title=dict(text=title, side="right"), thickness=10),
            hovertemplate="(%{x:.2f}, %{y:.2f}) " + title + " %{z:.3f}<extra></extra>",
        )
    )
    for c, name in enumerate(classes):
        rows = np.flatnonzero(np.asarray(y) == c)
        fig.add_trace(
            go.Scatter(
                x=x[rows, 0],
                y=x[rows, 1],
                mode="markers",
                name=str(name),
                marker=dict(size=5, line=dict(width=0.5, color="#222")),
            )
        )
    if marked is not None:
        fig.add_trace(
            go.Scatter(
                x=marked[:, 0],
                y=marked[:, 1],
                mode="markers",
                name="this step",
                marker=dict(size=11, color="rgba(0,0,0,0)", line=dict(width=2, color=ACCENT)),
            )
        )
    height, top, bottom = 420, 30, TICK_ROW + LEGEND_ROW
    fig.update_layout(
        height=height,
        margin=dict(l=left_margin(["−1.5"]), r=COLOR_BAR, t=top, b=bottom),
        template=PLAIN,
        title="Decision boundary",
        title_font_size=13,
        # below the plot: at the right it would cover the colour bar's title
        legend=legend_below(height, top, bottom, gap=TICK_ROW),
    )
    return fig


def fitted_curve(net, x, y, highlight=None, points: int = 200) -> go.Figure:
    """A 1-D regression set (x, y) and the network's curve over the data's x range."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
    marked = None if highlight is None or not len(highlight) else np.asarray(highlight)
    marked = None if marked is None else (x[marked, 0], y[marked, 0])
    x, y = finite_rows(x, y)
    x, y = x[:, 0], y[:, 0]
    grid = np.linspace(x.min(), x.max(), points)
    curve = net.output(grid.reshape(-1, 1))[:, 0]
    fig = go.Figure(
        [
            go.Scatter(x=x, y=y, mode="markers", name="data", marker=dict(size=4)),
            go.Scatter(x=grid, y=curve, mode="lines", name="network", line=dict(width=3)),
        ]
    )
    if marked is not None:
        fig.add_trace(
            go.Scatter(
                x=marked[0],
                y=marked[1],
                mode="markers",
                name="this step",
                marker=dict(size=10, color="rgba(0,0,0,0)", line=dict(width=2, color=ACCENT)),
            )
        )
    height, top, bottom = 340, 30, TICK_ROW + LEGEND_ROW
    fig.update_layout(
        height=height,
        margin=dict(l=left_margin(["−1.5"]), r=20, t=top, b=bottom),
        template=PLAIN,
        title="Fitted curve",
        title_font_size=13,
        legend=legend_below(height, top, bottom, gap=TICK_ROW),
    )
    return fig


def regression_surface(net, x, y, resolution: int = 50) -> go.Figure:
    """A 2-D-input regression: the network's output on a grid, points coloured by target."""
    x, y = finite_rows(x, y)
    gx = np.linspace(x[:, 0].min(), x[:, 0].max(), resolution)
    gy = np.linspace(x[:, 1].min(), x[:, 1].max(), resolution)
    grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    out = net.output(grid)[:, 0].reshape(resolution, resolution)
    target = np.asarray(y, dtype=np.float64).reshape(len(x), -1)[:, 0]
    fig = go.Figure(
        [
            go.Heatmap(
                x=gx,
                y=gy,
                z=out,
                colorscale="Viridis",
                opacity=0.7,
                colorbar=dict(title="output", thickness=10),
            ),
            go.Scatter(
                x=x[:, 0],
                y=x[:, 1],
                mode="markers",
                name="target",
                marker=dict(size=5, color=target, colorscale="Viridis", line=dict(width=0.5, color="#222")),
            ),
        ]
    )
    fig.update_layout(
        height=360,
        margin=dict(l=left_margin(["−1.5"]), r=COLOR_BAR, t=30, b=TICK_ROW),
        template=PLAIN,
        title="Network output (background) vs targets (points)",
        title_font_size=13,
    )
    return fig


def image_figure(sample, input_shape, title: str) -> go.Figure:
    """One image sample (flattened) shown the way a person reads it, grey or RGB."""
    values = np.asarray(sample, dtype=np.float64)
    shape = tuple(input_shape) if input_shape else (1, values.size)
    img = values.reshape(shape)
    lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
    scaled = np.nan_to_num((img - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)
    if scaled.ndim == 2:
        scaled = np.repeat(scaled[:, :, None], 3, axis=2)
    fig = go.Figure(go.Image(z=scaled, hoverinfo="skip"))
    fig.update_layout(
        height=260, margin=dict(l=10, r=10, t=36, b=10), template=PLAIN, title=title, title_font_size=13
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
