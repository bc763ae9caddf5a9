"""Figures of training runs: live curves, run comparisons, per-layer distributions, weight distances.

Every function reads plain data (``History`` objects, dicts from ``backprop.runs``) and returns a
plotly Figure built from plain dicts by ``viz.figure``. Nothing here changes a run.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from backprop import History
from backprop.runs import PERCENTILES, epoch_seconds

from .axes import (
    AXIS_TITLE,
    TICK_ROW,
    accuracy_range,
    ceiling_lines,
    left_margin,
    legend_below,
    log_ticks,
    text_px,
)
from .figure import figure

PALETTE = qualitative.Plotly
X_AXES = {"epoch": "epoch", "step": "step", "time": "wall time (s)"}
# Symmetric percentile pairs drawn as bands, widest first, as in TensorBoard's distributions.
BANDS = [(0, 8), (1, 7), (2, 6), (3, 5)]
MAX_STEP_POINTS = 1000
# Curves with at most this many points mark each one; longer curves are plain lines. Plotly draws each
# marker as an SVG element of its own: markers on a few hundred points were most of the time a changed
# chart took to redraw, and a line through that many points shows where they are anyway.
MARKERS_UP_TO = 12
# Margins that hold what sits in them: a log axis's tick labels, and the legend below (three rows of the
# line styles, or two of runs). Plotly widens a margin too small for them and then lays the whole chart
# out a second time, at every redraw: that second pass was some 40% of a Compare control's redraw.
COMPARE_MARGIN = dict(l=90, r=20, t=40, b=140)
GRAD_NORM_MARGIN = dict(l=90, r=120, t=50, b=70)  # labels up to "0.00035"; the legend of layers on the right
STYLE_COLOR = "#555555"
BAND_RGB = "31,119,180"
FONT = dict(size=12)


def _line_mode(points: int) -> str:
    return "lines+markers" if points <= MARKERS_UP_TO else "lines"


def ema(values, smoothing: float) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing); 0 leaves values as they are."""
    values = np.asarray(values, dtype=float)
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    if smoothing == 0 or values.size == 0:
        return values
    out = np.empty_like(values)
    running, weight = 0.0, 0.0
    for i, value in enumerate(values.tolist()):
        if math.isfinite(value):
            running = smoothing * running + (1 - smoothing) * value
            weight = smoothing * weight + (1 - smoothing)
        out[i] = running / weight if weight else np.nan
    return out


def epoch_x(history: History, x: str) -> np.ndarray:
    """Each epoch's position on the chosen axis: its number, its last step, or training seconds so far
    (a stalled epoch counted at the run's median, see ``backprop.runs.epoch_seconds``)."""
    if x == "epoch":
        return np.asarray(history.column("epoch"), dtype=float)
    if x == "step":
        return np.asarray(history.column("step"), dtype=float)
    if x == "time":
        return np.cumsum(epoch_seconds(history))
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
        else np.concatenate([[0.0], np.cumsum(epoch_seconds(history))])
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


def _series(history: History, column: str) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in history.column(column)], dtype=float)


def compare_figure(
    histories: dict[str, History],
    x: str = "epoch",
    smoothing: float = 0.0,
    log_y: bool = False,
    bayes_accuracy: float | dict[str, float] | None = None,
    show_steps: bool = True,
    height: int = 480,
) -> go.Figure:
    """Loss (left) and accuracy (right) of several runs on one x axis.

    histories: run name -> History. One colour per run (one legend entry each); training is solid,
    validation dashed, and with show_steps the loss of every step is drawn faintly behind (the line
    styles have legend entries of their own). bayes_accuracy: the best accuracy any model can reach
    (sequence data), one value or one per split ({"train": …, "validation": …}), drawn as lines with
    the accuracy axis spanning them and the curves.
    """
    data: list[dict] = []
    losses: list[np.ndarray] = []
    accuracies: list[np.ndarray] = []
    for i, (name, history) in enumerate(histories.items()):
        color = PALETTE[i % len(PALETTE)]
        xs = epoch_x(history, x)
        first = True

        def add(trace: dict, color=color, name=name) -> None:
            nonlocal first
            trace.update(legendgroup=name, name=name, showlegend=first)
            trace.setdefault("line", {})["color"] = color
            first = False
            data.append(trace)

        for column, label, dash, axis in (
            ("train_loss", "train loss", "solid", 1),
            ("val_loss", "val loss", "dash", 1),
            ("train_accuracy", "train acc", "solid", 2),
            ("val_accuracy", "val acc", "dash", 2),
        ):
            values = _series(history, column)
            if values.size == 0 or np.all(np.isnan(values)):
                continue
            ys = ema(values, smoothing)
            (losses if axis == 1 else accuracies).append(ys)
            add(
                dict(
                    type="scatter",
                    x=xs,
                    y=ys,
                    mode=_line_mode(len(xs)),
                    line=dict(dash=dash, width=2),
                    marker=dict(size=4),
                    xaxis="x" if axis == 1 else "x2",
                    yaxis="y" if axis == 1 else "y2",
                    hovertemplate=f"{name} · {label}: %{{y:.4g}}<extra></extra>",
                )
            )
        if show_steps and history.step_loss:
            sx, sy = _thin(step_x(history, x), ema(history.step_loss, smoothing))
            losses.append(sy)
            add(
                dict(
                    type="scatter",
                    x=sx,
                    y=sy,
                    mode="lines",
                    line=dict(width=1),
                    opacity=0.3,
                    xaxis="x",
                    yaxis="y",
                    hovertemplate=f"{name} · step loss: %{{y:.4g}}<extra></extra>",
                )
            )
    styles = [("training (solid)", "solid", 1.0), ("validation (dashed)", "dash", 1.0)]
    if show_steps:
        styles.append(("each step's loss (faint)", "solid", 0.3))
    for label, dash, opacity in styles:
        data.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="lines",
                name=label,
                legendgroup="styles",
                line=dict(color=STYLE_COLOR, dash=dash, width=2),
                opacity=opacity,
                hoverinfo="skip",
            )
        )
    yaxis = dict(title=dict(text="loss"), domain=[0, 1], anchor="x")
    if log_y:
        yaxis["type"] = "log"
        positive = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in losses]) if losses else np.empty(0)
        if positive.size:
            yaxis["tickvals"], yaxis["ticktext"] = log_ticks(float(positive.min()), float(positive.max()))
    if isinstance(bayes_accuracy, dict):
        ceilings = [(f"Bayes-optimal ({split})", value, "dot") for split, value in bayes_accuracy.items()]
    elif bayes_accuracy is not None:
        ceilings = [("Bayes-optimal", bayes_accuracy, "dot")]
    else:
        ceilings = []
    shapes, annotations = ceiling_lines(ceilings, "x2 domain", "y2")
    yaxis2 = dict(title=dict(text="accuracy"), domain=[0, 1], anchor="x2", tickformat=".0%")
    if ceilings:
        low, high, step = accuracy_range(accuracies or [np.nan], [value for _, value, _ in ceilings])
        yaxis2.update(range=[low, high], dtick=step)
    layout = dict(
        height=height,
        margin=COMPARE_MARGIN,
        font=FONT,
        xaxis=dict(domain=[0, 0.45], title=dict(text=X_AXES[x]), anchor="y"),
        xaxis2=dict(domain=[0.55, 1], title=dict(text=X_AXES[x]), anchor="y2"),
        yaxis=yaxis,
        yaxis2=yaxis2,
        legend=legend_below(height, COMPARE_MARGIN["t"], COMPARE_MARGIN["b"]),
        annotations=[_panel_title("loss", 0.225), _panel_title("accuracy", 0.775), *annotations],
        shapes=shapes,
    )
    return figure(data, layout)


def _panel_title(text: str, x: float) -> dict:
    return dict(
        text=f"<b>{text}</b>",
        xref="paper",
        x=x,
        xanchor="center",
        yref="paper",
        y=1.0,
        yanchor="bottom",
        showarrow=False,
        font=dict(size=13),
    )


QUANTITY_TITLES = {
    "W": "weights W",
    "a": "activations a (probe batch)",
    "dW": "gradients dL/dW (probe batch)",
}


def distribution_figure(history: History, quantity: str = "W", height: int = 340) -> go.Figure:
    """Per layer, percentile bands of W, a or dW over epochs (TensorBoard's distributions view).

    Bands are min–max, 7th–93rd, 16th–84th and 31st–69th percentiles, darker inside; the line is the
    median. The legend names each band once.
    """
    if quantity not in QUANTITY_TITLES:
        raise ValueError(f"quantity must be W, a or dW, got {quantity!r}")
    records = [r for r in history.epochs if r.get("layers")]
    n_layers = len(records[0]["layers"]) if records else 0
    columns = max(n_layers, 1)
    gap = 0.04 if columns > 1 else 0.0
    width = (1 - gap * (columns - 1)) / columns
    epochs = np.asarray([r["epoch"] for r in records], dtype=float)
    data: list[dict] = []
    layout = dict(
        height=height,
        margin=dict(l=50, r=20, t=78, b=100),
        font=FONT,
        title=dict(
            text=QUANTITY_TITLES[quantity], x=0, xanchor="left", y=0.97, yref="container", font=dict(size=14)
        ),
        legend=legend_below(height, 78, 100),
        annotations=[],
    )
    for k in range(columns):
        suffix = "" if k == 0 else str(k + 1)
        left = k * (width + gap)
        layout[f"xaxis{suffix}"] = dict(
            domain=[left, left + width], anchor=f"y{suffix}", title=dict(text="epoch")
        )
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}")
        if k < n_layers:
            layout["annotations"].append(_panel_title(f"layer {k + 1}", left + width / 2))
    for k in range(n_layers):
        suffix = "" if k == 0 else str(k + 1)
        axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        table = np.asarray([r["layers"][k][quantity] for r in records], dtype=float)  # (epochs, 9)
        # One closed outline per band (low edge forwards, high edge back), filled: half the traces of
        # a pair of lines filled to the next, and fewer traces redraw faster.
        around = np.concatenate([epochs, epochs[::-1]])
        for depth, (lo, hi) in enumerate(BANDS):
            band = f"p{PERCENTILES[lo]}–p{PERCENTILES[hi]}" if lo else "min–max"
            data.append(
                dict(
                    type="scatter",
                    x=around,
                    y=np.concatenate([table[:, lo], table[::-1, hi]]),
                    mode="lines",
                    line=dict(width=0),
                    fill="toself",
                    fillcolor=f"rgba({BAND_RGB},{0.15 + 0.18 * depth:.2f})",
                    name=band,
                    legendgroup=band,
                    showlegend=k == 0,
                    hoverinfo="skip",
                    **axes,
                )
            )
        data.append(
            dict(
                type="scatter",
                x=epochs,
                y=table[:, 4],
                mode="lines",
                line=dict(color=f"rgb({BAND_RGB})"),
                name="median",
                legendgroup="median",
                showlegend=k == 0,
                hovertemplate=f"layer {k + 1}, epoch %{{x}}: median %{{y:.4g}}<extra></extra>",
                **axes,
            )
        )
    return figure(data, layout)


def grad_norm_figure(history: History, log_y: bool = True, height: int = 300) -> go.Figure:
    """‖(dW, db)‖ per layer on the probe batch, one line per layer, over epochs."""
    records = [r for r in history.epochs if r.get("layers")]
    data = []
    values = []
    if records:
        epochs = [r["epoch"] for r in records]
        for k in range(len(records[0]["layers"])):
            norms = [r["layers"][k]["grad_norm"] for r in records]
            values.extend(norms)
            data.append(
                dict(
                    type="scatter",
                    x=epochs,
                    y=norms,
                    mode=_line_mode(len(epochs)),
                    name=f"layer {k + 1}",
                    line=dict(color=PALETTE[k % len(PALETTE)]),
                )
            )
    yaxis = dict(title=dict(text="gradient norm"), type="log" if log_y else "linear")
    positive = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if log_y and positive:
        yaxis["tickvals"], yaxis["ticktext"] = log_ticks(min(positive), max(positive))
    layout = dict(
        height=height,
        margin=GRAD_NORM_MARGIN,
        font=FONT,
        xaxis=dict(title=dict(text="epoch")),
        yaxis=yaxis,
        title=dict(text="gradient norm per layer (probe batch)", x=0, font=dict(size=14)),
        legend=dict(title=dict(text="")),
    )
    return figure(data, layout)


def distance_figure(distances: dict[str, dict], height: int = 320) -> go.Figure:
    """Per-layer ‖W_a − W_b‖ over epochs for pairs of runs.

    distances: "a vs b" -> {"epochs": [...], "layers": {"layer1.W": [...], ...}} (backprop.runs.weight_distances).
    """
    data = []
    for i, (pair, result) in enumerate(distances.items()):
        for j, (layer, values) in enumerate(result["layers"].items()):
            data.append(
                dict(
                    type="scatter",
                    x=result["epochs"],
                    y=values,
                    mode=_line_mode(len(values)),
                    name=f"{pair} · {layer}",
                    line=dict(color=PALETTE[j % len(PALETTE)], dash=["solid", "dash", "dot"][i % 3]),
                )
            )
    layout = dict(
        height=height,
        # the legend, on the right, names each pair and layer (mostly lower-case letters: narrower than
        # the digits text_px counts with)
        margin=dict(
            l=left_margin(["0.00"], title=True),
            r=50 + round(0.8 * text_px(trace["name"] for trace in data)),
            t=50,
            b=TICK_ROW + AXIS_TITLE,
        ),
        font=FONT,
        xaxis=dict(title=dict(text="epoch")),
        yaxis=dict(title=dict(text="‖W_a − W_b‖₂")),
        title=dict(text="distance between the runs' weights, per layer", x=0, font=dict(size=14)),
    )
    return figure(data, layout)
