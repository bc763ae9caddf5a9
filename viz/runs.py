"""What the Runs and Compare pages draw of training runs: live curves, run comparisons, per-layer
distributions, gradient norms and weight distances.

Every function reads plain data (``History`` objects, dicts from ``backprop.runs``). The curves,
distributions and gradient norms are payloads of ``ui.curve_view``, a view drawn in the browser that
keeps its element from one click to the next (a changed plotly figure is a new element, which the
browser builds from scratch); each curve travels as float64 bytes, so what the view reads under the
pointer is the number the run saved. The weight distances, drawn once per page, are a plotly Figure
built from plain dicts by ``viz.figure``. Nothing here changes a run.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from backprop import History
from backprop.runs import PERCENTILES, epoch_seconds

from .axes import AXIS_TITLE, TICK_ROW, left_margin, text_px
from .curves import MARKERS_UP_TO, accuracy_panel, curve, legend_entry, panel
from .figure import figure

PALETTE = qualitative.Plotly
X_AXES = {"epoch": "epoch", "step": "step", "time": "wall time (s)"}
# Symmetric percentile pairs drawn as bands, widest first, as in TensorBoard's distributions.
BANDS = [(0, 8), (1, 7), (2, 6), (3, 5)]
BAND_OPACITIES = [0.15, 0.33, 0.51, 0.69]  # darker inside
MAX_STEP_POINTS = 1000
STYLE_COLOR = "#555555"
BAND_COLOR = "#1f77b4"
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
    return _floats(history.column(column))


def _floats(values) -> np.ndarray:
    """The values as a float array, NaN (a gap in a curve) where one is missing (None)."""
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def compare_curves(
    histories: dict[str, History],
    x: str = "epoch",
    smoothing: float = 0.0,
    log_y: bool = False,
    bayes_accuracy: float | dict[str, float] | None = None,
    show_steps: bool = True,
    height: int = 340,
) -> dict:
    """Loss (left) and accuracy (right) of several runs on one x axis, for ``ui.curve_view``.

    histories: run name -> History. One colour per run (one legend entry each, which hides or
    shows the run); training is solid, validation dashed, and with show_steps the loss of every
    step is drawn faintly behind (the line styles have legend entries of their own). smoothing: the
    EMA of ``ema``, taken before long step curves are thinned to ``MAX_STEP_POINTS``.
    bayes_accuracy: the best accuracy any model can reach (sequence data), one value or one per
    split ({"train": …, "validation": …}), drawn as lines with the accuracy axis spanning them and
    the curves.
    """
    loss_series: list[dict] = []
    accuracy_series: list[dict] = []
    accuracies: list[np.ndarray] = []
    legend: list[dict] = []
    for i, (name, history) in enumerate(histories.items()):
        color = PALETTE[i % len(PALETTE)]
        legend.append(legend_entry(name, color, group=name))
        xs = epoch_x(history, x)
        if show_steps and history.step_loss:
            sx, sy = _thin(step_x(history, x), ema(history.step_loss, smoothing))
            loss_series.append(curve(f"{name} · step loss", name, sx, sy, color, width=1, opacity=0.3))
        for column, label, dash in (
            ("train_loss", "train loss", "solid"),
            ("val_loss", "val loss", "dash"),
            ("train_accuracy", "train acc", "solid"),
            ("val_accuracy", "val acc", "dash"),
        ):
            values = _series(history, column)
            if values.size == 0 or np.all(np.isnan(values)):
                continue
            ys = ema(values, smoothing)
            target = loss_series if column.endswith("loss") else accuracy_series
            if target is accuracy_series:
                accuracies.append(ys)
            target.append(curve(f"{name} · {label}", name, xs, ys, color, dash))
    styles = [("training (solid)", "solid", 1.0), ("validation (dashed)", "dash", 1.0)]
    if show_steps:
        styles.append(("each step's loss (faint)", "solid", 0.3))
    legend += [legend_entry(label, STYLE_COLOR, dash=dash, opacity=o) for label, dash, o in styles]
    if isinstance(bayes_accuracy, dict):
        ceilings = [(f"Bayes-optimal ({split})", value, "dot") for split, value in bayes_accuracy.items()]
    elif bayes_accuracy is not None:
        ceilings = [("Bayes-optimal", bayes_accuracy, "dot")]
    else:
        ceilings = []
    accuracy = accuracy_panel(
        "accuracy", accuracy_series, accuracies, ceilings, empty="No epoch finished yet."
    )
    return dict(
        x_title=X_AXES[x],
        x_integer=x != "time",
        height=height,
        panels=[
            panel("loss", loss_series, y_title="loss", log=log_y, empty="No step trained yet."),
            accuracy,
        ],
        legend=legend,
    )


QUANTITY_TITLES = {
    "W": "weights W",
    "a": "activations a (probe batch)",
    "dW": "gradients dL/dW (probe batch)",
}


def distribution_curves(history: History, quantity: str = "W", height: int = 240) -> dict:
    """Per layer, percentile bands of W, a or dW over epochs (TensorBoard's distributions view), for
    ``ui.curve_view``: one panel per layer.

    Bands are min–max, 7th–93rd, 16th–84th and 31st–69th percentiles, darker inside; the line is the
    median, and pointing at it reads all nine percentiles of that epoch. The legend names each band once.
    """
    if quantity not in QUANTITY_TITLES:
        raise ValueError(f"quantity must be W, a or dW, got {quantity!r}")
    records = [r for r in history.epochs if r.get("layers")]
    n_layers = len(records[0]["layers"]) if records else 0
    epochs = np.asarray([r["epoch"] for r in records], dtype=np.float64)
    panels = []
    for k in range(n_layers):
        table = np.asarray([r["layers"][k][quantity] for r in records], dtype=np.float64)  # (epochs, 9)
        series = [
            curve(_band_name(lo, hi), None, epochs, table[:, lo], BAND_COLOR, opacity=opacity)
            | dict(upper=table[:, hi], markers=False)
            for (lo, hi), opacity in zip(BANDS, BAND_OPACITIES)
        ]
        median = curve(f"layer {k + 1} median", None, epochs, table[:, 4], BAND_COLOR)
        median["detail"] = [dict(label=_percentile_name(p), y=table[:, j]) for j, p in enumerate(PERCENTILES)]
        panels.append(panel(f"layer {k + 1}", [*series, median]))
    legend = [
        legend_entry(_band_name(lo, hi), BAND_COLOR, dash="band", opacity=opacity)
        for (lo, hi), opacity in zip(BANDS, BAND_OPACITIES)
    ] + [legend_entry("median", BAND_COLOR)]
    return dict(
        title=QUANTITY_TITLES[quantity],
        x_title="epoch",
        x_integer=True,
        height=height,
        panels=panels,
        legend=legend,
    )


def _band_name(lo: int, hi: int) -> str:
    return f"p{PERCENTILES[lo]}–p{PERCENTILES[hi]}" if lo else "min–max"


def _percentile_name(p: float) -> str:
    return {0: "min", 50: "median", 100: "max"}.get(p, f"p{p:g}")


def grad_norm_curves(history: History, log_y: bool = True, height: int = 260) -> dict:
    """‖(dW, db)‖ per layer on the probe batch, one line per layer, over epochs, for ``ui.curve_view``."""
    records = [r for r in history.epochs if r.get("layers")]
    epochs = np.asarray([r["epoch"] for r in records], dtype=np.float64)
    n_layers = len(records[0]["layers"]) if records else 0
    series, legend = [], []
    for k in range(n_layers):
        color = PALETTE[k % len(PALETTE)]
        norms = _floats(r["layers"][k]["grad_norm"] for r in records)
        series.append(curve(f"layer {k + 1}", f"layer {k + 1}", epochs, norms, color))
        legend.append(legend_entry(f"layer {k + 1}", color, group=f"layer {k + 1}"))
    return dict(
        title="gradient norm per layer (probe batch)",
        x_title="epoch",
        x_integer=True,
        height=height,
        panels=[panel("", series, y_title="gradient norm", log=log_y)],
        legend=legend,
    )


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
