"""Figures of one training step: per-layer matrix stacks, the network graph, task views.

All read a ``Trace`` (or the network for task views on a grid); none change anything.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from backprop.inspect import sup

from .heatmap import (
    COLORSCALE,
    PLAIN,
    abs_limit,
    as_matrix,
    matrix_axes,
    matrix_trace,
    shared_limit,
    stats_text,
    summary_stats,
)

# Row share of each panel in a layer's stack: the weight matrix gets the most room.
PANEL_HEIGHTS = {"W": 0.46, "b": 0.08, "z": 0.23, "a": 0.23}
GRAPH_MAX_UNITS = 16
GRAPH_MAX_EDGES = 1200
COLOR_BUCKETS = 9
WIDTH_BUCKETS = (0.6, 1.6, 3.2)


def forward_panels(rec) -> list[tuple[str, np.ndarray]]:
    """(label, matrix) of a layer's forward column: W (n_in, n_out), b, z (N, n_out), a.

    With batch norm the affine output h = a_in·W + b comes before z; with dropout the
    scaled mask follows a (a = f(z)·mask).
    """
    n = sup(rec.index + 1)
    panels = [(f"W{n}", rec.W), (f"b{n}", rec.b)]
    if rec.normalized is not None:
        panels.append((f"h{n}", rec.affine))
    panels += [(f"z{n}", rec.z), (f"a{n}", rec.a)]
    if rec.dropout_mask is not None:
        panels.append((f"mask{n}", rec.dropout_mask))
    return panels


def backward_panels(rec) -> list[tuple[str, np.ndarray]]:
    """(label, matrix) of a layer's backward column: dW, db, dz, da (and dh with batch norm)."""
    n = sup(rec.index + 1)
    panels = [(f"dW{n}", rec.dW), (f"db{n}", rec.db)]
    if rec.normalized is not None and rec.d_affine is not None:
        panels.append((f"dh{n}", rec.d_affine))
    return panels + [(f"dz{n}", rec.dz), (f"da{n}", rec.da)]


def update_panels(rec) -> list[tuple[str, np.ndarray]]:
    n = sup(rec.index + 1)
    return [(f"ΔW{n}", rec.delta_W), (f"Δb{n}", rec.delta_b)]


def column_limit(panel_lists) -> float:
    """The shared scale of a column: the largest max |value| over all its panels."""
    return shared_limit(m for panels in panel_lists for _, m in panels)


def stack_figure(
    panels, limit: float | None = None, title: str = "", height: int = 430, highlight: bool = False
) -> go.Figure:
    """Several matrices with the same number of columns stacked in one figure, x axis shared.

    panels: [(label, matrix)], each matrix (rows, n_out) or a vector (n_out,).
    limit: one scale for every panel; None gives each panel its own ±max|value|.
    highlight: draw an orange frame (the current phase).
    """
    panels = [(label, as_matrix(m)) for label, m in panels]
    weights = [PANEL_HEIGHTS.get(label.rstrip("⁰¹²³⁴⁵⁶⁷⁸⁹").lstrip("dΔ"), 0.2) for label, _ in panels]
    top = 54 if title else 30
    gap = min(0.3, 26 / max(height - top - 16, 1))
    free = 1 - gap * (len(panels) - 1)
    layout = dict(
        height=height,
        margin=dict(l=34, r=8, t=top, b=16),
        template={},
        annotations=[],
        shapes=[],
        title=dict(text=title, font=dict(size=13)) if title else None,
    )
    data, y_top = [], 1.0
    for row, ((label, m), weight) in enumerate(zip(panels, weights), start=1):
        own = abs_limit(m) if limit is None else limit
        suffix = "" if row == 1 else str(row)
        y_bottom = max(0.0, y_top - free * weight / sum(weights))
        xaxis, yaxis = matrix_axes(*m.shape)
        xaxis.update(anchor=f"y{suffix}", domain=[0, 1], showticklabels=row == len(panels))
        if row > 1:
            xaxis["matches"] = "x"
        yaxis.update(anchor=f"x{suffix}", domain=[y_bottom, y_top])
        layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"] = xaxis, yaxis
        trace = matrix_trace(m, own, label)
        trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        data.append(trace)
        layout["annotations"].append(
            dict(
                text=f"<b>{label}</b> {m.shape[0]}×{m.shape[1]} ±{own:.2g} · {stats_text(summary_stats(m))}",
                x=0,
                y=y_top,
                xref="paper",
                yref="paper",
                xanchor="left",
                yanchor="bottom",
                align="left",
                showarrow=False,
                font=dict(size=10),
            )
        )
        y_top = y_bottom - gap
    if highlight:
        layout["shapes"].append(
            dict(
                type="rect",
                xref="paper",
                yref="paper",
                x0=-0.02,
                y0=-0.02,
                x1=1.01,
                y1=1.01,
                line=dict(color="#f08c00", width=3),
            )
        )
    return go.Figure(dict(data=data, layout=layout), _validate=False)


def vector_bar(values, title: str) -> go.Figure:
    """A small bar chart of a vector (e.g. one sample's probabilities)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    fig = go.Figure(go.Bar(x=np.arange(values.size), y=values))
    fig.update_layout(title=title, height=220, margin=dict(l=30, r=10, t=40, b=20), template=PLAIN)
    return fig


# --------------------------------------------------------------- graph
def graph_fits(sizes) -> bool:
    """The network graph is drawn only when every layer has at most GRAPH_MAX_UNITS units."""
    return max(sizes) <= GRAPH_MAX_UNITS


def network_graph(trace, sample: int | None = None) -> go.Figure:
    """Nodes coloured by activation (batch mean, or one sample), edges by weight, width by |dW|.

    Edges are bucketed by weight (COLOR_BUCKETS colours) and |dW| (three widths) so the
    figure has at most 27 line traces whatever the number of edges.
    """
    layers = [block for block in trace.blocks if block.kind == "dense"]
    values = [layers[0].a_in] + [rec.a for rec in layers]
    values = [np.asarray(v, dtype=np.float64) for v in values]
    values = [v[sample] if sample is not None else v.mean(axis=0) for v in values]
    sizes = [v.size for v in values]
    positions = [
        np.stack([np.full(s, float(k)), (np.arange(s) - (s - 1) / 2)], axis=1) for k, s in enumerate(sizes)
    ]
    fig = go.Figure()
    w_limit = shared_limit(rec.W for rec in layers)
    g_limit = max(shared_limit(rec.dW for rec in layers if rec.dW is not None), 1e-12)
    colors = np.linspace(-w_limit, w_limit, COLOR_BUCKETS)
    buckets: dict[tuple[int, int], list] = {}
    for k, rec in enumerate(layers):
        W = np.asarray(rec.W, dtype=np.float64)
        dW = np.zeros_like(W) if rec.dW is None else np.abs(np.asarray(rec.dW, dtype=np.float64))
        c_idx = np.clip(np.round((W / w_limit + 1) / 2 * (COLOR_BUCKETS - 1)), 0, COLOR_BUCKETS - 1).astype(
            int
        )
        w_idx = np.clip((dW / g_limit * len(WIDTH_BUCKETS)).astype(int), 0, len(WIDTH_BUCKETS) - 1)
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                p, q = positions[k][i], positions[k + 1][j]
                buckets.setdefault((c_idx[i, j], w_idx[i, j]), []).append((p, q))
    from plotly.colors import sample_colorscale

    palette = sample_colorscale(COLORSCALE, list(np.linspace(0, 1, COLOR_BUCKETS)))
    for (c, w), segments in sorted(buckets.items()):
        xs, ys = [], []
        for p, q in segments[:GRAPH_MAX_EDGES]:
            xs += [p[0], q[0], None]
            ys += [p[1], q[1], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line=dict(color=palette[c], width=WIDTH_BUCKETS[w]),
                name=f"W≈{colors[c]:.2g}",
            )
        )
    node_x = np.concatenate([p[:, 0] for p in positions])
    node_y = np.concatenate([p[:, 1] for p in positions])
    node_v = np.concatenate(values)
    labels = [("x" if k == 0 else f"a{sup(k)}") + f"[{u}]" for k, s in enumerate(sizes) for u in range(s)]
    a_limit = abs_limit(node_v)
    fig.add_trace(
        go.Scatter(
            x=node_x,
            y=node_y,
            mode="markers",
            showlegend=False,
            text=labels,
            customdata=node_v,
            hovertemplate="%{text} = %{customdata:.4g}<extra></extra>",
            marker=dict(
                size=16,
                color=node_v,
                colorscale=COLORSCALE,
                cmin=-a_limit,
                cmax=a_limit,
                line=dict(color="#444", width=1),
                showscale=True,
                colorbar=dict(title="activation", thickness=10),
            ),
        )
    )
    fig.update_layout(
        height=360,
        margin=dict(l=10, r=10, t=30, b=10),
        template=PLAIN,
        title="Edges: colour = weight, width = |gradient|; nodes: activation"
        + (f" of sample {sample}" if sample is not None else " (batch mean)"),
        title_font_size=12,
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


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
            colorbar=dict(title=title, thickness=10),
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
                marker=dict(size=11, color="rgba(0,0,0,0)", line=dict(width=2, color="#f08c00")),
            )
        )
    fig.update_layout(
        height=380,
        margin=dict(l=30, r=10, t=30, b=30),
        template=PLAIN,
        title="Decision boundary",
        title_font_size=13,
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
                marker=dict(size=10, color="rgba(0,0,0,0)", line=dict(width=2, color="#f08c00")),
            )
        )
    fig.update_layout(
        height=340,
        margin=dict(l=30, r=10, t=30, b=30),
        template=PLAIN,
        title="Fitted curve",
        title_font_size=13,
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
        margin=dict(l=30, r=10, t=30, b=30),
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


def loss_bars(before: float, after: float) -> go.Figure:
    """Loss on the same batch before and after the update."""
    fig = go.Figure(
        go.Bar(
            x=["before update", "after update"],
            y=[before, after],
            marker_color=["#888", "#2b8a3e" if after <= before else "#c92a2a"],
            text=[f"{before:.5g}", f"{after:.5g}"],
            textposition="auto",
        )
    )
    fig.update_layout(
        height=220,
        margin=dict(l=30, r=10, t=30, b=20),
        template=PLAIN,
        title="Loss on this batch",
        title_font_size=13,
    )
    return fig
