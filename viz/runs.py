"""Figures of training runs: live curves, run comparisons, per-layer distributions, weight distances.

Every function reads plain data (``History`` objects, dicts from ``backprop.runs``)
and returns a plotly Figure; nothing here changes a run.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from backprop import History
from backprop.runs import PERCENTILES

PALETTE = qualitative.Plotly
X_AXES = {"epoch": "epoch", "step": "step", "time": "wall time (s)"}
# Symmetric percentile pairs drawn as bands, widest first, as in TensorBoard's distributions.
BANDS = [(0, 8), (1, 7), (2, 6), (3, 5)]
MAX_STEP_POINTS = 2000


def ema(values, smoothing: float) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing); 0 leaves values as they are."""
    values = np.asarray(values, dtype=float)
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    if smoothing == 0 or values.size == 0:
        return values
    out = np.empty_like(values)
    running, weight = 0.0, 0.0
    for i, value in enumerate(values):
        if np.isfinite(value):
            running = smoothing * running + (1 - smoothing) * value
            weight = smoothing * weight + (1 - smoothing)
        out[i] = running / weight if weight else np.nan
    return out


def epoch_x(history: History, x: str) -> np.ndarray:
    """Each epoch's position on the chosen axis: its number, its last step, or wall seconds so far."""
    if x == "epoch":
        return np.asarray(history.column("epoch"), dtype=float)
    if x == "step":
        return np.asarray(history.column("step"), dtype=float)
    if x == "time":
        return np.cumsum([r.get("seconds") or 0.0 for r in history.epochs])
    raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, got {x!r}")


def step_x(history: History, x: str) -> np.ndarray:
    """Each step's position: step number, fractional epoch, or wall time spread evenly within its epoch."""
    n = len(history.step_loss)
    steps = np.arange(1, n + 1, dtype=float)
    if x == "step" or not history.epochs:
        return steps
    ends = np.asarray([0] + history.column("step"), dtype=float)
    marks = (
        np.arange(len(ends), dtype=float)
        if x == "epoch"
        else np.concatenate([[0.0], np.cumsum([r.get("seconds") or 0.0 for r in history.epochs])])
    )
    # Steps after the last finished epoch continue at the last epoch's pace.
    return (
        np.interp(steps, ends, marks, right=None)
        if steps[-1] <= ends[-1]
        else _extrapolate(steps, ends, marks)
    )


def _extrapolate(steps, ends, marks):
    slope = (marks[-1] - marks[0]) / max(ends[-1] - ends[0], 1)
    inside = np.interp(steps, ends, marks)
    beyond = steps > ends[-1]
    inside[beyond] = marks[-1] + (steps[beyond] - ends[-1]) * slope
    return inside


def _thin(xs: np.ndarray, ys: np.ndarray, limit: int = MAX_STEP_POINTS):
    """Every k-th point so a long run sends at most ``limit`` points (the EMA is taken before)."""
    if len(xs) <= limit:
        return xs, ys
    keep = np.linspace(0, len(xs) - 1, limit).astype(int)
    return xs[keep], ys[keep]


def compare_figure(
    histories: dict[str, History],
    x: str = "epoch",
    smoothing: float = 0.0,
    log_y: bool = False,
    bayes_accuracy: float | None = None,
    show_steps: bool = True,
    height: int = 420,
) -> go.Figure:
    """Loss (left) and accuracy (right) of several runs on one x axis.

    histories: run name -> History. Train is solid, validation dashed, one colour
    per run; with show_steps the per-step training loss is drawn faintly behind.
    bayes_accuracy: the best accuracy any model can reach (sequence data), as a line.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"), horizontal_spacing=0.08)
    for i, (name, history) in enumerate(histories.items()):
        color = PALETTE[i % len(PALETTE)]
        xs = epoch_x(history, x)
        if show_steps and history.step_loss:
            sx, sy = _thin(step_x(history, x), ema(history.step_loss, smoothing))
            fig.add_trace(
                go.Scattergl(
                    x=sx,
                    y=sy,
                    mode="lines",
                    name=f"{name} · step loss",
                    legendgroup=name,
                    line=dict(color=color, width=1),
                    opacity=0.35,
                ),
                row=1,
                col=1,
            )
        for column, label, dash, col in (
            ("train_loss", "train loss", "solid", 1),
            ("val_loss", "val loss", "dash", 1),
            ("train_accuracy", "train acc", "solid", 2),
            ("val_accuracy", "val acc", "dash", 2),
        ):
            values = np.asarray([np.nan if v is None else v for v in history.column(column)], dtype=float)
            if values.size == 0 or np.all(np.isnan(values)):
                continue
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ema(values, smoothing),
                    mode="lines+markers",
                    name=f"{name} · {label}",
                    legendgroup=name,
                    line=dict(color=color, dash=dash),
                    marker=dict(size=4),
                ),
                row=1,
                col=col,
            )
    if bayes_accuracy is not None:
        fig.add_hline(
            y=bayes_accuracy,
            line=dict(color="black", dash="dot"),
            row=1,
            col=2,
            annotation_text=f"Bayes-optimal {bayes_accuracy:.3f}",
            annotation_position="bottom right",
        )
    fig.update_xaxes(title_text=X_AXES[x])
    if log_y:
        fig.update_yaxes(type="log", row=1, col=1)
    fig.update_layout(
        height=height, margin=dict(l=40, r=20, t=40, b=40), legend=dict(orientation="h", y=-0.2)
    )
    return fig


def distribution_figure(history: History, quantity: str = "W", height: int = 300) -> go.Figure:
    """Per layer, percentile bands of W, a or dW over epochs (TensorBoard's distributions view).

    Bands are min–max, 7th–93rd, 16th–84th and 31st–69th percentiles, darker inside; the line is the median.
    """
    if quantity not in ("W", "a", "dW"):
        raise ValueError(f"quantity must be W, a or dW, got {quantity!r}")
    records = [r for r in history.epochs if r.get("layers")]
    n_layers = len(records[0]["layers"]) if records else 0
    fig = make_subplots(
        rows=1,
        cols=max(n_layers, 1),
        subplot_titles=[f"layer {k + 1}" for k in range(n_layers)],
        horizontal_spacing=0.04,
    )
    epochs = [r["epoch"] for r in records]
    for k in range(n_layers):
        table = np.asarray([r["layers"][k][quantity] for r in records], dtype=float)  # (epochs, 9)
        for depth, (lo, hi) in enumerate(BANDS):
            opacity = 0.15 + 0.18 * depth
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=table[:, lo],
                    mode="lines",
                    line=dict(width=0),
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=1,
                col=k + 1,
            )
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=table[:, hi],
                    mode="lines",
                    line=dict(width=0),
                    fill="tonexty",
                    fillcolor=f"rgba(31,119,180,{opacity:.2f})",
                    showlegend=False,
                    name=f"p{PERCENTILES[lo]}–p{PERCENTILES[hi]}",
                ),
                row=1,
                col=k + 1,
            )
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=table[:, 4],
                mode="lines",
                line=dict(color="rgb(31,119,180)"),
                name="median",
                showlegend=False,
            ),
            row=1,
            col=k + 1,
        )
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(
        height=height,
        margin=dict(l=40, r=20, t=40, b=40),
        title=dict(
            text={
                "W": "weights W",
                "a": "activations a (probe batch)",
                "dW": "gradients dL/dW (probe batch)",
            }[quantity],
            x=0,
            font=dict(size=14),
        ),
    )
    return fig


def grad_norm_figure(history: History, log_y: bool = True, height: int = 280) -> go.Figure:
    """‖(dW, db)‖ per layer on the probe batch, one line per layer, over epochs."""
    records = [r for r in history.epochs if r.get("layers")]
    fig = go.Figure()
    if records:
        epochs = [r["epoch"] for r in records]
        for k in range(len(records[0]["layers"])):
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=[r["layers"][k]["grad_norm"] for r in records],
                    mode="lines+markers",
                    name=f"layer {k + 1}",
                )
            )
    fig.update_layout(
        height=height,
        margin=dict(l=40, r=20, t=40, b=40),
        xaxis_title="epoch",
        yaxis_title="gradient norm",
        yaxis_type="log" if log_y else "linear",
        title=dict(text="gradient norm per layer (probe batch)", x=0, font=dict(size=14)),
    )
    return fig


def distance_figure(distances: dict[str, dict], height: int = 300) -> go.Figure:
    """Per-layer ‖W_a − W_b‖ over epochs for pairs of runs.

    distances: "a vs b" -> {"epochs": [...], "layers": {"layer1.W": [...], ...}} (backprop.runs.weight_distances).
    """
    fig = go.Figure()
    for i, (pair, data) in enumerate(distances.items()):
        for j, (layer, values) in enumerate(data["layers"].items()):
            fig.add_trace(
                go.Scatter(
                    x=data["epochs"],
                    y=values,
                    mode="lines+markers",
                    name=f"{pair} · {layer}",
                    line=dict(color=PALETTE[j % len(PALETTE)], dash=["solid", "dash", "dot"][i % 3]),
                )
            )
    fig.update_layout(
        height=height,
        margin=dict(l=40, r=20, t=40, b=40),
        xaxis_title="epoch",
        yaxis_title="‖W_a − W_b‖₂",
        title=dict(text="distance between the runs' weights, per layer", x=0, font=dict(size=14)),
    )
    return fig
