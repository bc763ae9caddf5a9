"""The step page's cell inspector: the worked numbers of one cell, as at a phase of the step.

A click in the player arrives as a request (block, tensor key, indices, phase);
``select_cell`` turns it into a selection of one of the kinds below, and
``inspector`` shows that cell's numbers from ``backprop.breakdown`` with the words of
``viz.step_text``. What a block offers depends on its kind: a dense layer's
weights, biases and units; a convolution's kernel weights, biases and map units;
attention's weights and query gradients; an embedding's table entries; and for any
block, any parameter or value it shows.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from backprop import gradcheck
from backprop.breakdown import (
    attention_weight_breakdown,
    bias_breakdown,
    check_entries,
    embedding_breakdown,
    feature_map_breakdown,
    forward_breakdown,
    kernel_breakdown,
    network_at_trace,
    query_gradient_breakdown,
    unit_breakdown,
    weight_breakdown,
    window_max,
)
from backprop.optimizers import decays
from viz.step_text import (
    attention_lines,
    bias_lines,
    embedding_lines,
    feature_map_lines,
    forward_lines,
    kernel_lines,
    markdown_table,
    not_yet,
    query_lines,
    sig,
    terms_table,
    unit_lines,
    weight_lines,
)
from viz.step_view import BACKWARD, FORWARD, LOSS, UPDATE

from .widgets import put

SELECTION_KEY = "step.selection"  # the cell the inspector explains
KINDS = {
    "weight": "a weight W[i, j]",
    "bias": "a bias b[j]",
    "unit": "a unit of one sample (z, a, dz, da)",
    "kernel": "a kernel weight K[o, c, i, j]",
    "map_unit": "a feature-map unit z[n, o, y, x]",
    "attention": "an attention weight a[t, j] of one head",
    "query": "a query gradient dQ[t, c]",
    "embedding": "a table entry table[v, d]",
    "parameter": "any parameter of the layer",
    "value": "any value the layer shows",
    "input": "an input value x",
    "output": "an output of one sample (output, p, y, dL/d(output))",
}
KINDS_OF_BLOCK = {
    "dense": ("weight", "bias", "unit", "parameter", "value"),
    "dense_staged": ("weight", "bias", "parameter", "value"),
    "conv": ("kernel", "bias", "map_unit", "parameter", "value"),
    "attn": ("attention", "query", "parameter", "value"),
    "embed": ("embedding", "parameter", "value"),
}
EVERY_BLOCK = ("input", "output")
# Which kind a click on a tensor asks for, by block kind and tensor key (else "value").
CLICKS = {
    "dense": {
        **dict.fromkeys(("W", "dW", "delta_W"), "weight"),
        **dict.fromkeys(
            ("b", "db", "delta_b", "gamma", "dgamma", "delta_gamma", "beta", "dbeta", "delta_beta"), "bias"
        ),
        **dict.fromkeys(("z", "a", "dz", "da", "normalized", "d_affine", "dropout_mask"), "unit"),
    },
    "conv": {
        **dict.fromkeys(("W", "dW", "delta_W", "K_matrix", "dK_matrix"), "kernel"),
        **dict.fromkeys(("b", "db", "delta_b"), "bias"),
        **dict.fromkeys(
            ("z", "dz", "a", "da", "switches", "pooled", "d_pooled", "cols", "d_cols", "dY"), "map_unit"
        ),
    },
    "attn": {
        **dict.fromkeys(("scores", "weights", "d_scores", "d_weights"), "attention"),
        **dict.fromkeys(("q", "dq"), "query"),
    },
    "embed": dict.fromkeys(("table", "dtable", "delta_table", "e", "de"), "embedding"),
}


def block_kind(block) -> str:
    """The inspector's kind of a player block: a dense block with stages beyond the textbook's
    (residual add, layer norm) has no unit breakdown."""
    if block.kind == "dense" and block.tensor("a") is None:
        return "dense_staged"
    return block.kind


def kinds_for(view, layer: int) -> list[str]:
    return list(KINDS_OF_BLOCK[block_kind(view.blocks[layer])]) + list(EVERY_BLOCK)


def select_cell(request: dict, view, trace) -> dict:
    """The selection a click in the player asks for, at the phase the player was at."""
    key, layer = request.get("tensor"), request.get("block")
    row, col = int(request.get("row", 0)), int(request.get("col", 0))
    index = [int(v) for v in request.get("index") or [row, col]]
    sample = request.get("sample")
    phase = int(request.get("phase", 0))
    if layer is None:
        if key == "x":
            selection = {"kind": "input", "idx": index, "n": row, "i": col}
        else:
            selection = {"kind": "output", "n": row, "j": col}
        return {**selection, "phase": phase, "clicked": key}
    block = view.blocks[layer]
    kind = CLICKS.get(block.kind, {}).get(key, "value")
    if kind == "unit" and block_kind(block) == "dense_staged":
        kind = "value"
    selection = {"kind": kind, "layer": layer}
    if kind == "weight":
        selection.update(i=row, j=col)
    elif kind == "bias":
        selection.update(j=col)
    elif kind == "unit":
        if sample is not None:  # a sequence: the row is the position
            selection.update(n=int(sample), t=row, j=col)
        else:
            selection.update(n=row, j=col)
    elif kind == "kernel":
        if key in ("K_matrix", "dK_matrix"):  # (o, c·k·k + …) of the matrix form
            shape = block.tensor("W").values.shape
            c, i, j = np.unravel_index(col, shape[1:])
            selection.update(o=row, c=int(c), ki=int(i), kj=int(j))
        else:
            o, c, i, j = index
            selection.update(o=o, c=c, ki=i, kj=j)
    elif kind == "map_unit":
        selection.update(map_unit_of(block, key, index, row, col, sample, trace))
    elif kind == "attention":
        _, h, t, j = index
        selection.update(n=int(sample or 0), h=h, t=t, k=j)
    elif kind == "query":
        selection.update(n=int(sample or 0), t=row, c=col)
    elif kind == "embedding":
        if key in ("e", "de"):  # a looked-up row: the table row of the token at that position
            token = int(np.asarray(trace.x)[int(sample or 0), row])
            selection.update(v=token, d=col)
        else:
            selection.update(v=row, d=col)
    else:
        tensor = block.tensor(key)
        if tensor is not None and is_parameter(block, tensor):
            selection["kind"] = "parameter"
        selection.update(tensor=key, idx=index)
    return {**selection, "phase": phase, "clicked": key}


def is_parameter(block, tensor) -> bool:
    """A parameter of the block: known before any data flows, with a gradient beside it."""
    return (
        tensor.known[0] == "ready"
        and tensor.group == "forward"
        and block.tensor(f"d{tensor.key}") is not None
    )


def map_unit_of(block, key, index, row, col, sample, trace) -> dict:
    """The conv output unit (n, o, y, x) a click on one of the block's maps or matrices stands for."""
    if key in ("cols", "d_cols", "dY"):  # a column of sample n's im2col form is one output position (y, x)
        wo = trace.blocks[block.source].transform.out.shape[3]
        y, x = divmod(int(col), wo)
        return {"n": int(sample or 0), "o": row if key == "dY" else 0, "y": y, "x": x}
    _, o, y, x = index
    if key in ("pooled", "d_pooled"):  # a pooled cell: the unit that was its window's max
        y, x = window_max(trace, block.source, o, y, x, int(sample or 0))
    return {"n": int(sample or 0), "o": o, "y": y, "x": x}


def apply_selection(selection: dict) -> None:
    """Make ``selection`` the inspector's, its widgets included."""
    st.session_state[SELECTION_KEY] = selection
    for name, value in selection.items():
        if name != "idx":
            put(f"step.ins.{name}", value)
    for k, value in enumerate(selection.get("idx") or []):
        put(f"step.ins.idx{k}", value)


def number(label: str, name: str, upper: int, selection: dict, column) -> int:
    """A typed index of the inspector, kept in the selection so it outlives a closed view."""
    widget = f"step.ins.{name}"
    value = int(min(max(int(selection.get(name, 0) or 0), 0), max(upper - 1, 0)))
    put(widget, int(min(max(int(st.session_state.get(widget, value)), 0), max(upper - 1, 0))))
    chosen = int(column.number_input(f"{label} (< {upper})", 0, max(upper - 1, 0), key=widget, step=1))
    selection[name] = chosen
    return chosen


def inspector(model, state, view, start: int) -> None:
    """The worked numbers of one cell, as they stand at the chosen phase of the step."""
    trace = state.trace
    phases = view.phases
    n_layers = len(view.blocks)
    selection = st.session_state.setdefault(
        SELECTION_KEY, {"kind": "weight", "layer": n_layers - 1, "phase": start}
    )
    st.caption(
        "Click a cell in the player to explain it here, at the phase the player was at; "
        "or pick one by its indices."
    )
    top = st.columns([0.9, 1.4, 1.3])
    put(
        "step.ins.layer",
        min(int(st.session_state.get("step.ins.layer", selection.get("layer") or 0) or 0), n_layers - 1),
    )
    layer = int(
        top[0].selectbox(
            "Layer",
            range(n_layers),
            format_func=lambda k: f"{k + 1} · {view.blocks[k].kind}",
            key="step.ins.layer",
        )
    )
    kinds = kinds_for(view, layer)
    wanted = st.session_state.get("step.ins.kind", selection["kind"])
    put("step.ins.kind", wanted if wanted in kinds else kinds[0])
    kind = top[1].selectbox("Explain", kinds, format_func=KINDS.get, key="step.ins.kind")
    put(
        "step.ins.phase",
        min(
            int(st.session_state.get("step.ins.phase", selection.get("phase", len(phases) - 1))),
            len(phases) - 1,
        ),
    )
    phase = int(
        top[2].selectbox(
            "As at phase",
            range(len(phases)),
            format_func=lambda k: phases[k].label,
            key="step.ins.phase",
            help="What is known at this phase is shown; a click in the player sets the player's phase.",
        )
    )
    selection.update(kind=kind, layer=layer, phase=phase)
    context = Context(model, state, view, trace, layer, phase, selection)
    SHOW[kind](context)


class Context:
    """What every kind's view needs: the step, the chosen layer and phase, the selection."""

    def __init__(self, model, state, view, trace, layer, phase, selection):
        self.model, self.state, self.view, self.trace = model, state, view, trace
        self.layer, self.phase, self.selection = layer, phase, selection
        self.block = view.blocks[layer]
        self.record = trace.blocks[self.block.source]
        self.current = view.phases[phase].label
        self.columns = st.columns(4)

    def reached(self, kind: str, layer: int | None = None, stage: str | None = None) -> bool:
        index = self.view.phase_index(kind, layer, stage)
        return index is not None and self.phase >= index

    def label_of(self, kind: str, layer: int | None = None, stage: str | None = None) -> str:
        index = self.view.phase_index(kind, layer, stage)
        return "the update" if index is None else self.view.phases[index].label

    def number(self, label, name, upper, column: int) -> int:
        return number(label, name, upper, self.selection, self.columns[column])

    def table(self, rows, headers) -> None:
        # a Markdown table: a few rows need no data grid (nor pandas and Arrow on the server)
        st.markdown(markdown_table(terms_table(rows, headers), headers))


# ------------------------------------------------------------------ kinds
def show_weight(cx: Context) -> None:
    rec = cx.record
    i = cx.number("row i (input)", "i", rec.W.shape[0], 0)
    j = cx.number("column j (unit)", "j", rec.W.shape[1], 1)
    w = weight_breakdown(rec, i, j)
    at_backward = cx.reached(BACKWARD, cx.layer)
    for line in weight_lines(w, cx.layer, at_backward, cx.reached(UPDATE)):
        st.markdown(line)
    if at_backward:
        st.caption("The largest terms of the sum:")
        where = "sample n" if np.ndim(rec.a_in) == 2 else "sample n, position t"
        cx.table(w.top, [where, f"a_in[n,{i}]", f"{w.grad_name}[n,{j}]", "product"])
        gradient_check(cx, rec.transform.name, "W", (i, j), rec.W.shape)
    else:
        st.info(
            not_yet(f"dW[{i},{j}]", cx.label_of(BACKWARD, cx.layer), cx.current), icon=":material/schedule:"
        )
    if cx.view.updated and not cx.reached(UPDATE):
        st.caption("The update comes at the Update phase.")


def show_bias(cx: Context) -> None:
    rec = cx.record
    j = cx.number("channel o" if rec.kind == "conv" else "unit j", "j", rec.b.shape[0], 0)
    b = bias_breakdown(rec, j)
    at_backward = cx.reached(BACKWARD, cx.layer)
    over = "samples and positions" if rec.kind == "conv" else "samples"
    for line in bias_lines(b, cx.layer, at_backward, cx.reached(UPDATE), over=over):
        st.markdown(line)
    if at_backward:
        where = "n,y,x" if rec.kind == "conv" else "sample n"
        cx.table(b.top, [where, f"{b.grad_name}[{where},{j}]"])
    else:
        st.info(not_yet(f"db[{j}]", cx.label_of(BACKWARD, cx.layer), cx.current), icon=":material/schedule:")


def show_unit(cx: Context) -> None:
    rec = cx.record
    n = cx.number("sample n", "n", cx.view.batch_size, 0)
    position = None
    if np.ndim(rec.z) == 3:
        position = cx.number("position t", "t", np.shape(rec.z)[1], 2)
    j = cx.number("unit j", "j", np.shape(rec.z)[-1], 1)
    at = f"[{n},{j}]" if position is None else f"[{n},{position},{j}]"
    if cx.reached(FORWARD, cx.layer):
        f = forward_breakdown(cx.trace, cx.block.source, j, n, position=position)
        for line in forward_lines(f, cx.block.activation):
            st.markdown(line)
        row = f"{n}" if position is None else f"{n},{position}"
        cx.table(f.terms, ["input i", f"a_in[{row},i]", f"W[i,{j}]", "product"])
    else:
        st.info(
            not_yet(f"z{at} and a{at}", cx.label_of(FORWARD, cx.layer), cx.current),
            icon=":material/schedule:",
        )
    if cx.reached(BACKWARD, cx.layer):
        u = unit_breakdown(cx.trace, cx.block.source, j, n, position=position)
        for line in unit_lines(u):
            st.markdown(line)
        if u.da_terms:
            cx.table(u.da_terms, ["k", f"dz_next[{n},k]", f"W_next[{j},k]", "product"])
        elif u.da_from:
            st.caption(f"da comes back from {u.da_from}; pick that layer to follow it further.")
    else:
        st.info(
            not_yet(f"dz{at} and da{at}", cx.label_of(BACKWARD, cx.layer), cx.current),
            icon=":material/schedule:",
        )


def show_kernel(cx: Context) -> None:
    kernels = cx.record.W
    o = cx.number("output channel o", "o", kernels.shape[0], 0)
    c = cx.number("input channel c", "c", kernels.shape[1], 1)
    i = cx.number("kernel row i", "ki", kernels.shape[2], 2)
    j = cx.number("kernel column j", "kj", kernels.shape[3], 3)
    kb = kernel_breakdown(cx.trace, cx.block.source, o, c, i, j)
    at_backward = cx.reached(BACKWARD, cx.layer)
    for line in kernel_lines(kb, at_backward, cx.reached(UPDATE)):
        st.markdown(line)
    if at_backward:
        st.caption("The largest terms of the sum (each an output position of a sample):")
        cx.table(kb.top, ["sample n", "y", "x", "input (cols)", f"dY[n,{o},y,x]", "product"])
        gradient_check(cx, cx.record.transform.name, "W", (o, c, i, j), kernels.shape)
    else:
        st.info(
            not_yet(f"dK[{o},{c},{i},{j}]", cx.label_of(BACKWARD, cx.layer), cx.current),
            icon=":material/schedule:",
        )


def show_map_unit(cx: Context) -> None:
    out = cx.record.transform.out
    n = cx.number("sample n", "n", out.shape[0], 0)
    o = cx.number("channel o", "o", out.shape[1], 1)
    y = cx.number("row y", "y", out.shape[2], 2)
    x = cx.number("column x", "x", out.shape[3], 3)
    if not cx.reached(FORWARD, cx.layer):
        st.info(
            not_yet(f"z[{n},{o},{y},{x}]", cx.label_of(FORWARD, cx.layer), cx.current),
            icon=":material/schedule:",
        )
        return
    at_backward = cx.reached(BACKWARD, cx.layer)
    f = feature_map_breakdown(cx.trace, cx.block.source, o, y, x, sample=n)
    for line in feature_map_lines(f, cx.block.activation, at_backward):
        st.markdown(line)
    st.caption("The largest terms of the patch sum:")
    cx.table(f.terms, ["c", "i", "j", "input", f"K[{o},c,i,j]", "product"])
    if not at_backward:
        st.info(
            not_yet(f"dz[{n},{o},{y},{x}]", cx.label_of(BACKWARD, cx.layer), cx.current),
            icon=":material/schedule:",
        )


def show_attention(cx: Context) -> None:
    weights = cx.record.transform.saved["weights"]
    n = cx.number("sample n", "n", weights.shape[0], 0)
    h = cx.number("head h", "h", weights.shape[1], 1)
    t = cx.number("query t", "t", weights.shape[2], 2)
    k = cx.number("key j", "k", weights.shape[3], 3)
    if not cx.reached(FORWARD, cx.layer, "softmax"):
        st.info(
            not_yet(f"a[{t},{k}]", cx.label_of(FORWARD, cx.layer, "softmax"), cx.current),
            icon=":material/schedule:",
        )
        return
    at_back = cx.reached(BACKWARD, cx.layer, "softmax")
    a = attention_weight_breakdown(cx.trace, cx.block.source, h, t, k, sample=n)
    for line in attention_lines(a, at_back):
        st.markdown(line)
    if not a.masked:
        st.caption("The largest products of the score (Q·K over the head's numbers):")
        cx.table(a.score_terms, ["c", f"Q[{t},c]", f"K[{k},c]", "product"])
    if at_back and a.row:
        st.caption(f"The softmax Jacobian's row {t}: Σₖ a·dA over the keys 0…{t}:")
        cx.table(a.row, ["key k", f"a[{t},k]", f"dA[{t},k]", "a·dA"])
        gradient_check(
            cx,
            cx.record.transform.name,
            "Wq",
            (0, h * cx.block.head_width),
            cx.record.transform.params["Wq"].shape,
        )
    elif not at_back:
        st.info(
            not_yet(f"dscore[{t},{k}]", cx.label_of(BACKWARD, cx.layer, "softmax"), cx.current),
            icon=":material/schedule:",
        )


def show_query(cx: Context) -> None:
    q = cx.record.transform.saved["q"]
    n = cx.number("sample n", "n", q.shape[0], 0)
    t = cx.number("position t", "t", q.shape[1], 1)
    c = cx.number("number c", "c", q.shape[2], 2)
    value = f"**Q[{t},{c}]** (sample {n}) = {sig(q[n, t, c])}"
    if not cx.reached(FORWARD, cx.layer, "qkv"):
        st.info(
            not_yet(f"Q[{t},{c}]", cx.label_of(FORWARD, cx.layer, "qkv"), cx.current),
            icon=":material/schedule:",
        )
        return
    st.markdown(value)
    if not cx.reached(BACKWARD, cx.layer, "scores"):
        st.info(
            not_yet(f"dQ[{t},{c}]", cx.label_of(BACKWARD, cx.layer, "scores"), cx.current),
            icon=":material/schedule:",
        )
        return
    qb = query_gradient_breakdown(cx.trace, cx.block.source, t, c, sample=n)
    for line in query_lines(qb):
        st.markdown(line)
    cx.table(qb.terms, ["key j", f"dscore[{t},j]", f"K[j,{c}]", "dscore·K/√d"])


def show_embedding(cx: Context) -> None:
    table = cx.record.transform.params["table"]
    v = cx.number("token v", "v", table.shape[0], 0)
    d = cx.number("number d", "d", table.shape[1], 1)
    e = embedding_breakdown(cx.trace, cx.block.source, v, d)
    vocab = cx.view.axes.get("vocab")
    token = vocab.labels[v] if vocab is not None and vocab.labels else str(v)
    at_backward = cx.reached(BACKWARD, cx.layer)
    for line in embedding_lines(e, token, at_backward, cx.reached(UPDATE)):
        st.markdown(line)
    if at_backward and e.terms:
        cx.table(e.terms, ["sample n", "position t", f"de[n,t,{d}]"])
    elif not at_backward:
        st.info(
            not_yet(f"dtable[{v},{d}]", cx.label_of(BACKWARD, cx.layer), cx.current),
            icon=":material/schedule:",
        )
    if at_backward:
        gradient_check(cx, cx.record.transform.name, "table", (v, d), table.shape)


def _pick_tensor(cx: Context, keys: list, default: str) -> object:
    labels = {t.key: t.label for t in cx.block.tensors}
    wanted = st.session_state.get("step.ins.tensor", cx.selection.get("tensor", default))
    put("step.ins.tensor", wanted if wanted in keys else keys[0])
    key = cx.columns[0].selectbox("tensor", keys, format_func=labels.get, key="step.ins.tensor")
    cx.selection["tensor"] = key
    return cx.block.tensor(key)


def _indices(cx: Context, tensor, start: int = 1) -> tuple:
    """Number inputs for every dimension of a tensor's values, named by its axes."""
    axes = cx.view.axes
    names = [tensor.rows, tensor.cols] + (list(tensor.tile) if tensor.layout == "maps" else [])
    idx = []
    for k, size in enumerate(tensor.values.shape):
        axis = axes.get(names[k]) if k < len(names) else None
        title = axis.title if axis is not None and axis.title else f"index {k}"
        column = min(start + k, 3) if len(tensor.values.shape) <= 3 else k
        if size == 1:
            idx.append(0)
            continue
        idx.append(number(title, f"idx{k}", size, cx.selection, cx.columns[column]))
    return tuple(idx)


def show_parameter(cx: Context) -> None:
    params = [t.key for t in cx.block.tensors if is_parameter(cx.block, t)]
    tensor = _pick_tensor(cx, params, params[0])
    if tensor.layout == "maps":
        cx.columns = st.columns(4)
    idx = _indices(cx, tensor, start=1 if tensor.layout != "maps" else 0)
    grad, delta = cx.block.tensor(f"d{tensor.key}"), cx.block.tensor(f"delta_{tensor.key}")
    where = ",".join(str(v) for v in idx)
    st.markdown(f"**{short(tensor)}[{where}]** = {sig(tensor.values[idx])} (the value this step used)")
    if cx.view.known_at(grad) <= cx.phase:
        st.markdown(
            f"{short(grad)}[{where}] = **{sig(grad.values[idx])}** (the gradient the backward pass left)"
        )
    else:
        at = cx.view.phases[cx.view.known_at(grad)].label
        st.info(not_yet(f"{short(grad)}[{where}]", at, cx.current), icon=":material/schedule:")
    if delta is not None and cx.view.known_at(delta) <= cx.phase:
        value, change = float(tensor.values[idx]), float(delta.values[idx])
        st.markdown(
            f"Update: {short(delta)} = {sig(change)}, new value = {sig(value)} + ({sig(change)}) "
            f"= **{sig(value + change)}**"
        )


def show_value(cx: Context) -> None:
    keys = [t.key for t in cx.block.tensors]
    tensor = _pick_tensor(cx, keys, keys[0])
    if tensor.layout == "maps":
        cx.columns = st.columns(4)
    idx = _indices(cx, tensor, start=1 if tensor.layout != "maps" else 0)
    where = ",".join(str(v) for v in idx)
    known = cx.view.known_at(tensor)
    if known > cx.phase:
        label = cx.view.phases[known].label if known < len(cx.view.phases) else "the update"
        st.info(not_yet(f"{short(tensor)}[{where}]", label, cx.current), icon=":material/schedule:")
        return
    value = tensor.values[idx]
    shown = "masked (a future position)" if not np.isfinite(value) else f"**{sig(value)}**"
    st.markdown(f"**{short(tensor)}[{where}]** = {shown}  ({tensor.label})")
    if tensor.sample is not None:
        st.caption(f"Of sample n = {tensor.sample}, the sample the player shows.")


def short(tensor) -> str:
    """A tensor's name without its formula: "V²" of "V² = x·Wv + bv"."""
    return tensor.label.split(" = ")[0].split(" (")[0]


def show_input(cx: Context) -> None:
    x = cx.view.inputs[0]
    cx.columns = st.columns(4)
    n_axis = "sample n"
    if x.layout == "maps":
        idx = _indices(cx, x, start=0)
        st.markdown(
            f"**x[{x.sample},{idx[1]},{idx[2]},{idx[3]}]** = {sig(x.values[idx])} — sample {x.sample}'s pixel, "
            "known before the step starts."
        )
        return
    n = number(n_axis, "n", cx.view.batch_size, cx.selection, cx.columns[0])
    i = number(
        "feature i" if x.cols == "in1" else "position t", "i", x.values.shape[1], cx.selection, cx.columns[1]
    )
    value = sig(x.values[n, i])
    vocab = cx.view.axes.get("vocab")
    if x.cols == "pos" and vocab is not None and vocab.labels:
        value += f" (token “{vocab.labels[int(x.values[n, i])]}”)"
    st.markdown(f"**{x.label}[{n}, {i}]** = {value} — the input, known before the step starts.")


def show_output(cx: Context) -> None:
    view = cx.view
    n = cx.number("sample n", "n", view.batch_size, 0)
    j = cx.number("output j", "j", view.blocks[-1].n_out, 1)
    for t in view.outputs:
        known = view.known_at(t) <= cx.phase
        value = sig(t.values[n, j]) if known else f"not computed yet at {cx.current}"
        st.markdown(f"**{t.label}[{n}, {j}]** = {value}")
    if cx.reached(LOSS):
        st.caption(f"Loss of the batch: L = {sig(view.loss)}.")


SHOW = {
    "weight": show_weight,
    "bias": show_bias,
    "unit": show_unit,
    "kernel": show_kernel,
    "map_unit": show_map_unit,
    "attention": show_attention,
    "query": show_query,
    "embedding": show_embedding,
    "parameter": show_parameter,
    "value": show_value,
    "input": show_input,
    "output": show_output,
}


def gradient_check(cx: Context, layer_name: str, param: str, chosen: tuple, shape: tuple) -> None:
    """Finite differences for this parameter entry and a few others of its layer, one click away."""
    model, state, trace = cx.model, cx.state, cx.trace
    masks = {rec.name: rec.saved["mask"] for rec in trace.layers if "mask" in rec.saved}
    if st.button(f"Check {layer_name}.{param}'s gradient by finite differences", key="step.gradcheck"):
        twin = network_at_trace(model.net, trace)
        entries = check_entries(shape, chosen, count=8, seed=model.config.seed)
        try:
            state.gradcheck = gradcheck(
                twin,
                trace.x,
                trace.y,
                layer=layer_name,
                param=param,
                entries=entries,
                weight_decay=model.config.weight_decay,
                train=trace.train,
                dropout_masks=masks,
            )
        except ValueError as err:
            st.error(f"Gradient check failed: {err}")
    result = state.gradcheck
    if result is not None and result.layer == layer_name and result.param == param:
        rows = [
            {k: (sig(v) if isinstance(v, float) else str(v)) for k, v in row.items()} for row in result.rows()
        ]
        st.markdown(markdown_table(rows, list(rows[0]) if rows else []))
        verdict = "agree" if result.max_rel_error < 1e-4 else "disagree — look closer"
        decay = f" (+λ·{param} with weight decay {model.config.weight_decay:g})" if decays(param) else ""
        st.caption(
            f"Layer {cx.layer + 1}, {param}{decay}, float64: "
            f"backprop and centred differences {verdict} (max relative error {result.max_rel_error:.2e})."
            + (
                " The step's own dropout masks are replayed in the check and in every perturbed pass."
                if masks
                else ""
            )
        )
