"""Figures for sequence data and what a next-token model learned from it.

Token strips, the encoded input, the target distribution and one sample's prediction are HTML (crisp,
their numbers written out, and cheap for the browser to redraw); the accuracy curve is a payload of
``ui.curve_view`` and the probabilities of every window one of ``ui.map_view``; everything else is a
plotly Figure. Pure functions: arrays and strings in, figure, payload or HTML text out; every
token is escaped.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from .axes import (
    AXIS_TITLE,
    COLOR_BAR,
    LEGEND_ROW,
    TICK_ROW,
    left_margin,
    legend_below,
)
from .colors import COLORSCALE, COUNT_LUT
from .curves import accuracy_panel, curve, legend_entry
from .figure import figure
from .tables import bar_html, table_html

# One colour per vocabulary token, cycling past the palette (readable with black text).
TRAIN_COLOR, VAL_COLOR = "#4c78a8", "#f58518"  # the accuracy curves
PALETTE = [
    "#8dd3c7",
    "#ffd92f",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
]
HIGHLIGHT = "#d62728"  # the selected window / a mismatch
TARGET = "#1f4e9c"  # the token the window predicts
NETWORK, DATA = "#4c78a8", "#bbbbbb"  # the network's probabilities, the data's shares
ONE, ZERO = "rgb(8,48,107)", "rgb(247,251,255)"  # a one-hot entry: the ends of the probability scale
START = "#555555"  # the typed start of a generation (neither right nor wrong)


def token_colors(vocab) -> dict:
    """{token: colour}: the same token always gets the same colour on every figure."""
    return {token: PALETTE[i % len(PALETTE)] for i, token in enumerate(vocab)}


def _cell(token: str, color: str, border: str = "1px solid #ffffff", title: str = "") -> str:
    return (
        f'<span title="{html.escape(title)}" style="display:inline-block;width:1.9em;'
        f"height:1.9em;line-height:1.9em;text-align:center;background:{color};border:{border};"
        f"box-sizing:border-box;font-family:monospace;font-weight:600;color:#111;"
        f'margin:0 1px 0 0;border-radius:3px">{html.escape(token)}</span>'
    )


def _label(text: str) -> str:
    return (
        f'<span style="display:inline-block;width:3.2em;font-family:monospace;'
        f'color:#555">{html.escape(text)}</span>'
    )


def token_strip_html(
    tokens,
    vocab,
    label: str = "",
    window: tuple | None = None,
    target: int | None = None,
    mismatches=(),
    offset: int = 0,
    start: tuple | None = None,
) -> str:
    """One row of coloured token cells.

    window: (start, length) cells outlined in red as the selected context
    target: index of the cell outlined (dashed blue) as the predicted token
    mismatches: indices of cells outlined in red as wrong
    offset: empty cells before the first token (to align under another strip)
    start: (start, length) cells outlined (dashed grey) as the typed start of a generation
    """
    colors = token_colors(vocab)
    cells = [_label(label)] + [
        '<span style="display:inline-block;width:1.9em;margin-right:1px"></span>'
    ] * offset
    for i, token in enumerate(tokens):
        border = "1px solid #ffffff"
        if start is not None and start[0] <= i < start[0] + start[1]:
            border = f"3px dashed {START}"
        if window is not None and window[0] <= i < window[0] + window[1]:
            border = f"3px solid {HIGHLIGHT}"
        if target is not None and i == target:
            border = f"3px dashed {TARGET}"
        if i in mismatches:
            border = f"3px solid {HIGHLIGHT}"
        cells.append(_cell(token, colors.get(token, "#ffffff"), border, f"position {i}"))
    return f'<div style="white-space:nowrap;overflow-x:auto;margin:2px 0">{"".join(cells)}</div>'


def master_strips_html(masters, vocab, selected: tuple | None = None) -> str:
    """Every master as a strip (M1, M2, ...), plus a colour legend.

    selected: (master index, window start, context length, has_target) outlines
    that window (and, for next-token data, the token after it) on its strip.
    """
    rows = []
    for index, master in enumerate(masters):
        window = target = None
        if selected is not None and selected[0] == index:
            window = (selected[1], selected[2])
            target = selected[1] + selected[2] if selected[3] else None
        rows.append(token_strip_html(master, vocab, f"M{index + 1}", window=window, target=target))
    return "".join(rows) + legend_html(vocab)


def legend_html(vocab) -> str:
    colors = token_colors(vocab)
    cells = "".join(_cell(token, colors[token]) for token in vocab)
    return f'<div style="margin-top:6px;font-size:0.85em;color:#555">vocabulary {cells}</div>'


def generation_html(
    master: str | None, master_index: int | None, offset: int, start: str, generated, expected, vocab
) -> str:
    """The master the start came from, with the start + generated tokens aligned under it.

    The typed start is outlined dashed grey on both rows; generated tokens that differ from the
    master's continuation (``expected``) are outlined red; tokens past the master's end have nothing
    to compare with.
    """
    rows = []
    if master is not None:
        rows.append(token_strip_html(master, vocab, f"M{master_index + 1}", start=(offset, len(start))))
    sequence = list(start) + list(generated)
    mismatches = {len(start) + i for i, (got, want) in enumerate(zip(generated, expected)) if got != want}
    rows.append(
        token_strip_html(
            sequence,
            vocab,
            "net",
            start=(0, len(start)),
            mismatches=mismatches,
            offset=offset if master is not None else 0,
        )
    )
    return "".join(rows)


def _figure(data: list, title: str, height: int, margin: dict, **layout) -> go.Figure:
    """A titled figure of ``height`` pixels; ``margin`` (l, r, b) holds its labels (viz.axes)."""
    return figure(
        data, dict(title=dict(text=title), height=height, margin=dict(t=40, r=10) | margin) | layout
    )


def _number_cell(value: float) -> str:
    """A one-hot entry as a cell that shows it: 1 dark with white text, 0 light with grey text."""
    on = value >= 0.5
    background, color = (ONE, "#ffffff") if on else (ZERO, "#888888")
    return (
        f'<span style="display:inline-block;width:2.2em;line-height:1.9em;border-radius:3px;'
        f'background:{background};color:{color};font-family:monospace">{value:g}</span>'
    )


def encoded_input_html(x_row: np.ndarray, vocab, context: int, encoding: str) -> str:
    """One sample's network input as the numbers the network reads: positions × vocabulary one-hot,
    or the token id at each position of an embedding input. Tokens are escaped."""
    x_row = np.asarray(x_row)
    colors = token_colors(vocab)
    positions = [_label(f"pos {p}") for p in range(context)]
    if encoding == "embedding":
        tokens = [vocab[int(i)] for i in x_row]
        cells = [f"{_cell(token, colors[token])} id {int(i)}" for token, i in zip(tokens, x_row)]
        return table_html("Input: token ids (rows of the embedding table)", positions, [cells])
    grid = x_row.reshape(context, len(vocab))
    rows = [[positions[p]] + [_number_cell(float(v)) for v in grid[p]] for p in range(context)]
    return table_html(
        "Input: one-hot, position × token",
        [""] + [_cell(token, colors[token]) for token in vocab],
        rows,
        f"{_number_cell(1.0)} the position's token &nbsp; {_number_cell(0.0)} any other",
    )


def target_distribution_html(distribution: dict, vocab=None) -> str:
    """How often each class is the target over all samples (train + validation): a bar per class as
    long as its share, the share and the count written out. Class names are escaped."""
    colors = token_colors(vocab or [])
    total = sum(distribution.values())
    rows = []
    for name, count in distribution.items():
        color = colors.get(name, "#80b1d3")
        rows.append(
            [
                _cell(str(name), color),
                bar_html(count / total if total else 0.0, color, width_em=10),
                f'<span style="font-family:monospace">{int(count)}</span>',
            ]
        )
    return table_html(
        f"Target distribution (train + val: {total} samples)", ["target", "share", "samples"], rows
    )


def accuracy_curves(
    epochs, train_accuracy, val_accuracy, ceiling_train: float, ceiling_val: float | None = None
) -> dict:
    """Accuracy per epoch against the Bayes-optimal ceiling (values in [0, 1]), for ``ui.curve_view``.

    The axis spans the values and the ceilings (not 0–100%), so the distance to the ceiling can be
    read; of two ceilings, the view labels the higher above its line on the right and the lower
    below its line on the left, so their labels never overlap.
    """
    epochs = np.asarray(epochs, dtype=float)
    train = np.asarray(train_accuracy, dtype=float)
    val = np.asarray(val_accuracy, dtype=float)
    series = [curve("train accuracy", "train", epochs, train, TRAIN_COLOR)]
    legend = [legend_entry("train", TRAIN_COLOR, group="train")]
    if val.size and np.isfinite(val).any():
        series.append(curve("validation accuracy", "validation", epochs, val, VAL_COLOR))
        legend.append(legend_entry("validation", VAL_COLOR, group="validation"))
    lines = [("Bayes ceiling (train)", ceiling_train, "dash")]
    if ceiling_val is not None and np.isfinite(ceiling_val) and abs(ceiling_val - ceiling_train) > 1e-9:
        lines.append(("Bayes ceiling (val)", ceiling_val, "dot"))
    accuracy = accuracy_panel("", series, [train, val], lines)
    return dict(
        title="Accuracy per epoch against the Bayes-optimal ceiling",
        x_title="epoch",
        x_integer=True,
        height=260,
        panels=[accuracy],
        legend=legend,
    )


def sample_prediction_html(probabilities: np.ndarray, data_share: np.ndarray, classes, target: int) -> str:
    """One sample: the network's probability for each class next to how often that class follows this
    context in the data, one row per class, the true class marked. Class names are escaped."""
    colors = token_colors(classes)
    rows = []
    for k, name in enumerate(classes):
        name = str(name)
        mark = f'<b style="color:{TARGET}">true</b>' if k == target else ""
        rows.append(
            [
                _cell(name, colors.get(name, "#ffffff")),
                bar_html(float(probabilities[k]), NETWORK),
                bar_html(float(data_share[k]), DATA),
                mark,
            ]
        )
    return table_html("Predicted distribution vs the data", ["", "network", "data (this context)", ""], rows)


def probability_payload(
    probabilities: np.ndarray, row_labels, classes, targets: np.ndarray, title: str | None = None
) -> dict:
    """Rows × classes probabilities as the map view (``ui.map_view``) draws them: rows already in
    display order, each cell on ``viz.colors.COUNT_LUT`` from 0 (white) to 1 (dark blue), the true
    class ringed on every row (in TARGET) and the predicted class (the first largest probability)
    crossed out where it is wrong (in HIGHLIGHT).

    probabilities: (N, C); targets: (N,) the true class per row; row_labels: one text per row (the
    view writes every k-th beside the rows and each under the pointer). Labels and class names are
    plain text, written as text.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    targets = np.asarray(targets)
    labels = [str(label) for label in row_labels]
    classes = [str(name) for name in classes]
    n = len(labels)
    if probabilities.shape != (n, len(classes)):
        raise ValueError(
            f"probabilities for {n} rows and {len(classes)} classes are ({n}, {len(classes)}), "
            f"got {probabilities.shape}"
        )
    if targets.shape != (n,) or (n and (targets.min() < 0 or targets.max() >= len(classes))):
        raise ValueError(f"targets: one class index per row, 0 to {len(classes) - 1}; got {targets!r}")
    return {
        "layout": "probabilities",
        "title": title or "Every training sample, sorted by master and position",
        "marks": {"true": TARGET, "wrong": HIGHLIGHT},  # as on the strips: the target, a mismatch
        "classes": classes,
        "rows": labels,
        "p": probabilities,
        "targets": targets.astype(np.int32),
        "predicted": probabilities.argmax(axis=1).astype(np.int32) if n else np.zeros(0, np.int32),
        "lut": COUNT_LUT,
    }


# Attention weights are ≥ 0: the positive half of the one signed scale, white at 0, red at 1.
WEIGHT_SCALE = [[0.0, COLORSCALE[len(COLORSCALE) // 2][1]]] + [
    [(2 * position - 1), color] for position, color in COLORSCALE[len(COLORSCALE) // 2 + 1 :]
]
MASKED = "#d0d0d0"


def attention_figure(weights: np.ndarray, tokens, title: str = "Attention") -> go.Figure:
    """Each head's attention for one sample: rows are the positions that ask (queries), columns the
    positions they look at (keys). weights: (H, T, T), rows summing to 1; tokens: the T tokens.

    Causal attention gives the future no weight: those cells are drawn grey with "masked" (a legend
    entry says so). The prediction is read at the last row.
    """
    weights = np.asarray(weights, dtype=float)
    heads, t, _ = weights.shape
    tokens = [str(token) for token in tokens]
    names = [f"{p}: {tok}" for p, tok in enumerate(tokens)]
    future = np.triu(np.ones((t, t), dtype=bool), k=1)
    gap = 0.08 if heads > 1 else 0.0
    width = (1 - gap * (heads - 1)) / heads
    height, top, bottom = 150 + 46 * t, 70, TICK_ROW + AXIS_TITLE + LEGEND_ROW
    data, layout = (
        [],
        dict(
            title=dict(text=title),
            height=height,
            margin=dict(l=left_margin(names, title=True), r=COLOR_BAR, t=top, b=bottom),
            annotations=[],
            legend=legend_below(height, top, bottom),
        ),
    )
    for h in range(heads):
        suffix = "" if h == 0 else str(h + 1)
        visible = np.where(future, np.nan, weights[h])
        text = np.where(future, "masked", np.char.mod("%.2f", weights[h]))
        data.append(
            dict(
                type="heatmap",
                z=np.where(future, 1.0, np.nan),
                x=names,
                y=names,
                colorscale=[[0, MASKED], [1, MASKED]],
                showscale=False,
                hoverinfo="skip",
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
            )
        )
        data.append(
            dict(
                type="heatmap",
                z=visible,
                x=names,
                y=names,
                zmin=0,
                zmax=1,
                colorscale=WEIGHT_SCALE,
                text=text,
                texttemplate="%{text}",
                showscale=h == heads - 1,
                colorbar=dict(title=dict(text="weight"), len=0.9),
                hovertemplate=f"head {h + 1}: %{{y}} looks at %{{x}} with weight %{{z:.3f}}<extra></extra>",
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
            )
        )
        left = h * (width + gap)
        layout[f"xaxis{suffix}"] = dict(
            domain=[left, left + width * 0.92],
            anchor=f"y{suffix}",
            title=dict(text="looks at (key position)"),
            tickangle=0,
        )
        layout[f"yaxis{suffix}"] = dict(
            anchor=f"x{suffix}",
            autorange="reversed",
            title=dict(text="position asking (query)") if h == 0 else None,
            showticklabels=True,
        )
        layout["annotations"].append(
            dict(
                text=f"<b>head {h + 1}</b>",
                xref="paper",
                x=left + width * 0.46,
                xanchor="center",
                yref="paper",
                y=1.0,
                yanchor="bottom",
                showarrow=False,
            )
        )
    data.append(
        dict(
            type="scatter",
            x=[None],
            y=[None],
            mode="markers",
            name="masked: a later position, not visible to the query",
            marker=dict(symbol="square", size=12, color=MASKED),
            hoverinfo="skip",
        )
    )
    return figure(data, layout)


def embedding_table_figure(table: np.ndarray, vocab) -> go.Figure:
    """The learned embedding table: one row per token, one column per dimension."""
    table = np.asarray(table, dtype=float)
    bound = float(np.abs(table).max()) or 1.0
    trace = dict(
        type="heatmap",
        z=table,
        y=list(vocab),
        x=np.arange(table.shape[1]),
        colorscale=COLORSCALE,
        zmid=0,
        zmin=-bound,
        zmax=bound,
        hovertemplate="token %{y}, dim %{x}: %{z:.3f}<extra></extra>",
    )
    return _figure(
        [trace],
        "Embedding table (vocabulary × dimensions)",
        120 + 30 * len(vocab),
        dict(l=left_margin(vocab), r=COLOR_BAR, b=TICK_ROW + AXIS_TITLE),
        xaxis=dict(title=dict(text="dimension")),
        yaxis=dict(autorange="reversed"),
    )


def embedding_pca_figure(coords: np.ndarray, explained: np.ndarray, vocab) -> go.Figure:
    """Tokens as points in the table's first two principal directions."""
    coords = np.asarray(coords, dtype=float)
    colors = token_colors(vocab)
    trace = dict(
        type="scatter",
        x=coords[:, 0],
        y=coords[:, 1],
        mode="markers+text",
        text=list(vocab),
        textposition="top center",
        marker=dict(size=18, color=[colors[t] for t in vocab], line=dict(color="#333", width=1)),
        hovertemplate="%{text}: (%{x:.2f}, %{y:.2f})<extra></extra>",
    )
    return _figure(
        [trace],
        "Tokens in the first two principal directions",
        360,
        dict(l=left_margin(["−0.25"], title=True), b=TICK_ROW + AXIS_TITLE),
        xaxis=dict(title=dict(text=f"PC1 ({explained[0]:.0%} of variance)"), zeroline=True),
        yaxis=dict(title=dict(text=f"PC2 ({explained[1]:.0%} of variance)"), zeroline=True, scaleanchor="x"),
    )
