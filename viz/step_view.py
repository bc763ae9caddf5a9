"""One step's trace as plain data: blocks of named arrays, axes, sections and the phases that reveal them.

This module is the only reader of a ``Trace`` for the step player: the payload
builder, the player and the inspector's text all work from what it returns, so
the engine's record can change shape without them noticing. Nothing here
computes a number the engine did not record; it picks, slices and reshapes.

Every block of the trace becomes a block of the player, in one of four layouts:

- dense: W, b, z, a and their gradients as matrices (samples × units), as a textbook writes them;
- conv: the kernels (C_out × C_in tiles of k×k) and the feature maps of the shown sample
  (one k×k or H×W tile per channel), and the backward pass as it is computed (im2col);
- attn: the shown sample's Q, K, V (positions × numbers) and, per head, the T×T scores and
  attention weights with the future masked; its forward and backward phases stop at each stage;
- embed: the table (tokens × numbers), the rows the shown sample looked up, and the stages after.

A tensor is a "matrix" (2-D values) or "maps" (4-D values (A, B, h, w): an A×B grid of
h×w tiles). ``sample`` names the batch row a per-sample tensor shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

READY, FORWARD, LOSS, BACKWARD, UPDATE = "ready", "forward", "loss", "backward", "update"
# Attention's stops within its forward phase, in order; the backward phase walks them in reverse.
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(k: int) -> str:
    """Layer number as a superscript: sup(2) == '²'."""
    return str(k).translate(SUPERSCRIPTS)


ATTENTION_STAGES = (
    ("qkv", "Q, K, V"),
    ("scores", "scores"),
    ("softmax", "softmax"),
    ("mix", "weighted sum"),
    ("out", "output"),
)
# Layers that only pass their input on, or reshape it: not shown as a stage of their own.
PASS_THROUGH = ("res", "flatten")
# How a stage after the transform layer is written, by kind.
STAGE_FORMULAS = {
    "activation": "f(·)",
    "bn": "γ·x̂ + β",
    "dropout": "· ⊙ mask",
    "pos": "x + P",
    "ln": "γ·x̂ + β (layer norm)",
    "add": "f(x) + x (residual)",
    "last": "the last position",
    "maxpool": "max over windows",
    "avgpool": "mean over windows",
}
TEXTBOOK_STAGES = ("bn", "activation", "dropout")
HEADS = ("Forward", "Backward (gradients)", "Update (change applied)")


@dataclass(frozen=True)
class Phase:
    """One stop of the player. layer: 0-based block (None for ready, loss, update);
    stage: a stop within an attention block's phase ("qkv", "scores", …), else None."""

    kind: str
    layer: int | None
    label: str
    stage: str | None = None

    def __repr__(self) -> str:
        return f"Phase({self.label!r})"


@dataclass
class Axis:
    """What a dimension counts: name ("sample", "in1", "unit2", "b1.cout"), title and labels.

    labels: one per index, or None to number them; pixels: (rows, cols) when the
    dimension is a flattened image, so an index reads as a pixel position;
    unravel: the sizes an index is a flat position in, with their names (a row of the
    im2col matrix is (sample n, output row y, output column x)).
    """

    name: str
    title: str
    size: int
    labels: list[str] | None = None
    pixels: tuple[int, int] | None = None
    unravel: tuple[int, ...] | None = None
    unravel_names: tuple[str, ...] | None = None


@dataclass
class Tensor:
    """A named array of the step and the phase at which it becomes known.

    key: unique within its block ("W", "dz", "scores", "cols"); label: how the page writes it
    ("dz²"); values: (rows, cols) for a matrix, (A, B, h, w) for maps; rows/cols: Axis names
    (of the tile grid for maps, whose tiles run over the axes ``tile``); known: (phase kind,
    block[, stage]) that computes it; group: "forward", "backward" or "update";
    sample: the batch row it shows, None when it covers the batch or is a parameter;
    note: a few words under its caption.
    """

    key: str
    label: str
    values: np.ndarray
    rows: str
    cols: str
    known: tuple
    group: str
    layout: str = "matrix"
    tile: tuple[str, str] | None = None
    sample: int | None = None
    note: str = ""

    def __repr__(self) -> str:
        return f"Tensor({self.label}, {'×'.join(str(s) for s in self.values.shape)})"


@dataclass
class Section:
    """A titled part of a block's panel: rows of tensor keys, one per column (None: an empty cell)."""

    title: str
    heads: tuple[str, ...]
    rows: list[tuple[str | None, ...]]
    note: str = ""


@dataclass
class Block:
    """One block of the player: a transform layer (dense, conv, attn, embed) and the layers after it.

    index: its place among the player's blocks (its index in ``trace.blocks`` too, ``source``);
    n_in / n_out: numbers per sample it reads and gives (the diagram's column sizes);
    title: one line saying what it is; edge: the words on its edges in the diagram; sub: the
    words under its column; out_key / grad_key: the tensors the diagram colours its column with.
    """

    index: int
    activation: str
    stages: tuple
    n_in: int
    n_out: int
    tensors: list[Tensor] = field(default_factory=list)
    source: int = 0
    kind: str = "dense"
    title: str = ""
    edge: str = ""
    sub: str = ""
    sections: list[Section] = field(default_factory=list)
    out_key: str = "a"
    grad_key: str = "dz"
    update: str = ""
    stage_specs: tuple = ()  # (kind, architecture word) of each layer after the transform
    heads: int = 0  # attention: heads and numbers per head
    head_width: int = 0

    @property
    def label(self) -> str:
        return f"Layer {self.index + 1}"

    def tensor(self, key: str) -> Tensor | None:
        return next((t for t in self.tensors if t.key == key), None)


@dataclass
class StepView:
    """A step as the player shows it: input, blocks, output, loss and phases.

    sample: the batch row whose feature maps, sequences and attention are shown.
    """

    blocks: list[Block]
    inputs: list[Tensor]
    outputs: list[Tensor]
    axes: dict[str, Axis]
    phases: list[Phase]
    loss: float | None
    loss_name: str
    updated: bool
    train: bool
    batch_size: int
    sample: int = 0

    def phase_index(self, kind: str, layer: int | None = None, stage: str | None = None) -> int | None:
        """Index of the first phase (kind, layer[, stage]), or None if this step has none (no update)."""
        return next(
            (
                k
                for k, p in enumerate(self.phases)
                if p.kind == kind
                and (layer is None or p.layer == layer)
                and (stage is None or p.stage == stage)
            ),
            None,
        )

    def known_at(self, tensor: Tensor) -> int:
        """The phase index from which the tensor is shown."""
        index = self.phase_index(*tensor.known)
        return len(self.phases) if index is None else index

    def tensors(self):
        """(block index or None, tensor) for every array: inputs, blocks in order, outputs."""
        for t in self.inputs:
            yield None, t
        for block in self.blocks:
            for t in block.tensors:
                yield block.index, t
        for t in self.outputs:
            yield None, t


def as_rows(values) -> np.ndarray:
    """A 2-D array: a vector becomes one row."""
    m = np.asarray(values)
    return m.reshape(1, -1) if m.ndim == 1 else m.reshape(m.shape[0], -1)


def phases(trace) -> list[Phase]:
    """Ready, Forward 1 … L, Loss, Backward L … 1, and Update when the step was applied.

    An attention block's forward phase stops at each of its stages (Q, K, V; scores; softmax;
    weighted sum; output) and its backward phase at each in reverse. Reads trace.blocks and
    trace.updated.
    """
    out = [Phase(READY, None, "Ready")]
    for k, block in enumerate(trace.blocks):
        if block.kind == "attn":
            out += [
                Phase(FORWARD, k, f"Forward {k + 1} · {label}", stage) for stage, label in ATTENTION_STAGES
            ]
        else:
            out.append(Phase(FORWARD, k, f"Forward {k + 1}"))
    out.append(Phase(LOSS, None, "Loss"))
    for k in reversed(range(len(trace.blocks))):
        if trace.blocks[k].kind == "attn":
            out += [
                Phase(BACKWARD, k, f"Backward {k + 1} · {label}", stage)
                for stage, label in reversed(ATTENTION_STAGES)
            ]
        else:
            out.append(Phase(BACKWARD, k, f"Backward {k + 1}"))
    if trace.updated:
        out.append(Phase(UPDATE, None, "Update"))
    return out


# ------------------------------------------------------------------ builders
class _Builder:
    """Collects one block's tensors and the axes they use."""

    def __init__(self, k: int, axes: dict, sample: int):
        self.k, self.n, self.axes, self.sample = k, sup(k + 1), axes, sample
        self.tensors: list[Tensor] = []
        self.fwd, self.bwd, self.upd = (FORWARD, k), (BACKWARD, k), (UPDATE, None)

    def axis(self, name, title, size, labels=None, **more) -> str:
        if name not in self.axes:
            self.axes[name] = Axis(name, title, int(size), labels, **more)
        return name

    def add(self, key, label, values, rows, cols, known, group, **more) -> str | None:
        if values is None:
            return None
        values = np.asarray(values)
        if more.get("layout") != "maps":
            values = as_rows(values)
        self.tensors.append(Tensor(key, label, values, rows, cols, known, group, **more))
        return key

    def param(self, key, label, values, rows, cols, grad, delta) -> tuple:
        """A parameter, its gradient and its change: one row of the panel."""
        return (
            self.add(key, label, values, rows, cols, (READY, None), "forward"),
            self.add(f"d{key}", f"d{label}", grad, rows, cols, self.bwd, "backward"),
            self.add(f"delta_{key}", f"Δ{label}", delta, rows, cols, self.upd, "update"),
        )

    # one sample's part of a batch array, with the axes it runs over
    def per_sample(self, values, cols: str) -> tuple[np.ndarray | None, str]:
        if values is None:
            return None, "sample"
        values = np.asarray(values)
        if values.ndim == 3:  # a sequence: the shown sample's positions
            return values[self.sample], "pos"
        return values, "sample"

    def batch(self, key, label, values, cols, known, group, **more) -> str | None:
        """A batch array (N, units) as it is, or a sequence's (N, T, units) shown sample."""
        shown, rows = self.per_sample(values, cols)
        sample = self.sample if rows == "pos" else None
        return self.add(key, label, shown, rows, cols, known, group, sample=sample, **more)


def _units_axis(b: _Builder, k: int, size: int, labels=None) -> str:
    """The axis of block k−1's output units, which block k reads (k ≥ 1)."""
    return b.axis(f"unit{k}", "unit j", size, labels)


def _stage_rows(b: _Builder, records, width_axis: str) -> list[tuple]:
    """Rows for the layers after a transform that are not textbook stages: each one's parameters,
    its output and the gradient at its output (the shown sample's when it sees sequences)."""
    rows = []
    for rec in records:
        if rec.kind in PASS_THROUGH:
            continue
        formula = STAGE_FORMULAS.get(rec.kind, rec.kind)
        for name, value in rec.params.items():
            rows_axis = "pos" if name == "table" else "one"
            label = "P" if name == "table" else {"gamma": "γ", "beta": "β"}.get(name, name)
            rows.append(
                b.param(
                    f"{rec.name}.{name}",
                    f"{label}({rec.name})",
                    value,
                    rows_axis,
                    width_axis,
                    rec.grads.get(name),
                    rec.deltas.get(name),
                )
            )
        out_axis = (
            width_axis
            if np.shape(rec.out)[-1] == b.axes[width_axis].size
            else b.axis(f"b{b.k + 1}.{rec.name}", "j", np.shape(rec.out)[-1])
        )
        rows.append(
            (
                b.batch(f"{rec.name}.out", f"{rec.name} = {formula}", rec.out, out_axis, b.fwd, "forward"),
                b.batch(f"{rec.name}.dout", f"d{rec.name}", rec.dout, out_axis, b.bwd, "backward"),
            )
        )
    return rows


def _textbook(block) -> bool:
    return all(rec.kind in TEXTBOOK_STAGES for rec in block.records[1:])


def dense_block(rec, k: int, axes: dict, sample: int, class_labels=None, last=False) -> Block:
    """A dense block: W, b (γ, β, x̂), z, a (mask) and their gradients and changes, as the textbook
    writes them; stages the textbook block has not (residual add, layer norm, last position) follow
    as rows of their own. A block that sees sequences shows the shown sample's positions."""
    b = _Builder(k, axes, sample)
    n = b.n
    n_in, n_out = rec.W.shape
    inp = "in1" if k == 0 else f"unit{k}"
    if k > 0:
        _units_axis(b, k, n_in)
    labels = list(class_labels) if last and class_labels is not None and len(class_labels) == n_out else None
    unit = b.axis(f"unit{k + 1}", "class c" if labels else "unit j", n_out, labels)
    rows = [
        b.param("W", f"W{n}", rec.W, inp, unit, rec.dW, rec.delta_W),
        b.param("b", f"b{n}", rec.b, "one", unit, rec.db, rec.delta_b),
    ]
    if _textbook(rec):
        if rec.normalized is not None:
            rows += [
                b.param("gamma", f"γ{n}", rec.gamma, "one", unit, rec.dgamma, rec.delta_gamma),
                b.param("beta", f"β{n}", rec.beta, "one", unit, rec.dbeta, rec.delta_beta),
                (
                    b.batch("normalized", f"x̂{n}", rec.normalized, unit, b.fwd, "forward"),
                    b.batch("d_affine", f"dh{n}", rec.d_affine, unit, b.bwd, "backward"),
                ),
            ]
        rows += [
            (
                b.batch("z", f"z{n}", rec.z, unit, b.fwd, "forward"),
                b.batch("dz", f"dz{n}", rec.dz, unit, b.bwd, "backward"),
            ),
            (
                b.batch("a", f"a{n}", rec.a, unit, b.fwd, "forward"),
                b.batch("da", f"da{n}", rec.da, unit, b.bwd, "backward"),
            ),
        ]
        if rec.dropout_mask is not None:
            rows.append((b.batch("dropout_mask", f"mask{n}", rec.dropout_mask, unit, b.fwd, "forward"), None))
        out_key, grad_key = "a", "dz"
    else:
        rows.append(
            (
                b.batch("z", f"z{n} = a_in·W{n} + b{n}", rec.affine, unit, b.fwd, "forward"),
                b.batch("dz", f"dz{n}", rec.d_affine, unit, b.bwd, "backward"),
            )
        )
        rows += _stage_rows(b, rec.records[1:], unit)
        out_key, grad_key = rows[-1][0], rows[-1][1]
    sequence = np.ndim(rec.a_in) == 3
    block = Block(
        k,
        rec.activation,
        tuple(rec.stages),
        n_in if not sequence else int(np.prod(np.shape(rec.a_in)[1:])),
        n_out if not sequence else int(np.prod(np.shape(rec.a)[1:])),
        b.tensors,
        rec.index,
        kind="dense",
        title=f"dense · {rec.activation} · {n_in} → {n_out} units"
        + (" at every position" if sequence else ""),
        edge=f"W{n} {n_in}×{n_out}",
        sub=rec.activation if _textbook(rec) else "-".join(r.spec for r in rec.records[1:]) or "linear",
        sections=[Section("", HEADS, rows)],
        out_key=out_key,
        grad_key=grad_key,
        update=f"W{n} ← W{n} + ΔW{n}",
    )
    return block


def _map_axes(b: _Builder, prefix: str, shape: tuple, title: str) -> tuple[str, str]:
    """The row and column axes of one tile of a map of ``shape`` (…, h, w)."""
    h, w = shape[-2:]
    return (
        b.axis(f"b{b.k + 1}.{prefix}y", f"{title} row y", h),
        b.axis(f"b{b.k + 1}.{prefix}x", f"{title} column x", w),
    )


def _channels(b: _Builder, name: str, count: int, letter: str) -> str:
    return b.axis(f"b{b.k + 1}.{name}", f"channel {letter}", count, [f"{letter}{c}" for c in range(count)])


def _maps(b: _Builder, key, label, values, channel_axis, tile, known, group, note="") -> str | None:
    """One sample's feature maps (C, h, w) as a 1×C grid of tiles."""
    if values is None:
        return None
    m = np.asarray(values)[b.sample]
    return b.add(
        key,
        label,
        m[None],
        "one",
        channel_axis,
        known,
        group,
        layout="maps",
        tile=tile,
        sample=b.sample,
        note=note,
    )


def _switch_grid(switches: np.ndarray, sample: int, size: int) -> np.ndarray:
    """One sample's max-pooling switches as maps (C, Ho·size, Wo·size), laid out like the input
    they cover: each entry's share of its window's gradient (1 at the max, 0 elsewhere, 1/m
    for m tied maxima, as the engine's backward splits it).

    switches: the engine's bool stack (size², N, C, Ho, Wo), place i·size + j of each window.
    """
    shown = switches[:, sample]  # (size², C, Ho, Wo)
    share = shown / shown.sum(axis=0, dtype=np.float32)
    _, c, ho, wo = shown.shape
    return share.reshape(size, size, c, ho, wo).transpose(2, 3, 0, 4, 1).reshape(c, ho * size, wo * size)


def conv_block(rec, k: int, axes: dict, sample: int) -> Block:
    """A convolution block: kernels, the shown sample's maps through activation and pooling, their
    gradients, and the backward pass as it is computed on the im2col matrix."""
    from backprop.breakdown import parse_pool_size

    b = _Builder(k, axes, sample)
    n = b.n
    conv = rec.transform
    kernels = conv.params["W"]
    c_out, c_in, kh, kw = kernels.shape
    ho, wo = conv.out.shape[2:]
    cin_axis, cout_axis = _channels(b, "cin", c_in, "c"), _channels(b, "cout", c_out, "o")
    ktile = (b.axis(f"b{k + 1}.ki", "kernel row i", kh), b.axis(f"b{k + 1}.kj", "kernel column j", kw))
    in_tile = _map_axes(b, "in", conv.x.shape, "input")
    out_tile = _map_axes(b, "z", conv.out.shape, "output")
    first_data = k == 0
    rows = [
        (
            _maps(
                b,
                "x_maps",
                f"x (input of layer {k + 1})",
                conv.x,
                cin_axis,
                in_tile,
                (READY, None) if first_data else (FORWARD, k - 1),
                "forward",
            ),
            _maps(b, "dx_maps", "dx = col2im(dcols)", conv.dx, cin_axis, in_tile, b.bwd, "backward"),
        ),
        (
            b.add(
                "W",
                f"K{n}",
                kernels,
                cout_axis,
                cin_axis,
                (READY, None),
                "forward",
                layout="maps",
                tile=ktile,
            ),
            b.add(
                "dW",
                f"dK{n}",
                conv.grads.get("W"),
                cout_axis,
                cin_axis,
                b.bwd,
                "backward",
                layout="maps",
                tile=ktile,
            ),
            b.add(
                "delta_W",
                f"ΔK{n}",
                conv.deltas.get("W"),
                cout_axis,
                cin_axis,
                b.upd,
                "update",
                layout="maps",
                tile=ktile,
            ),
        ),
        b.param("b", f"b{n}", conv.params["b"], "one", cout_axis, conv.grads.get("b"), conv.deltas.get("b")),
    ]
    bn = rec.record("bn")
    if bn is not None:
        rows += [
            b.param(
                "gamma",
                f"γ{n}",
                bn.params["gamma"],
                "one",
                cout_axis,
                bn.grads.get("gamma"),
                bn.deltas.get("gamma"),
            ),
            b.param(
                "beta",
                f"β{n}",
                bn.params["beta"],
                "one",
                cout_axis,
                bn.grads.get("beta"),
                bn.deltas.get("beta"),
            ),
        ]
    rows.append(
        (
            _maps(
                b,
                "z",
                f"z{n} = x ⊛ K{n} + b{n}" if bn is None else f"z{n} = BN(x ⊛ K{n} + b{n})",
                rec.z,
                cout_axis,
                out_tile,
                b.fwd,
                "forward",
            ),
            _maps(b, "dz", f"dz{n} = da ⊙ f′(z)", rec.dz, cout_axis, out_tile, b.bwd, "backward"),
        )
    )
    act = rec.record("activation")
    if act is not None:
        rows.append(
            (
                _maps(b, "a", f"a{n} = {act.spec}(z{n})", act.out, cout_axis, out_tile, b.fwd, "forward"),
                _maps(b, "da", f"da{n}", act.dout, cout_axis, out_tile, b.bwd, "backward"),
            )
        )
    pool = rec.record("maxpool") or rec.record("avgpool")
    out_key, grad_key = ("a", "dz") if act is not None else ("z", "dz")
    if pool is not None:
        size = parse_pool_size(pool.spec)
        pool_tile = _map_axes(b, "p", pool.out.shape, "pooled")
        word = "max" if pool.kind == "maxpool" else "mean"
        rows.append(
            (
                _maps(
                    b,
                    "pooled",
                    f"p{n} = {word} of each {size}×{size} window",
                    pool.out,
                    cout_axis,
                    pool_tile,
                    b.fwd,
                    "forward",
                ),
                _maps(
                    b,
                    "d_pooled",
                    f"dp{n} (arrives from layer {k + 2})",
                    pool.dout,
                    cout_axis,
                    pool_tile,
                    b.bwd,
                    "backward",
                ),
            )
        )
        out_key, grad_key = "pooled", "d_pooled"
        if pool.kind == "maxpool":
            grid = _switch_grid(pool.saved["switches"], sample, size)
            switch_tile = _map_axes(b, "s", grid.shape, "window")
            rows.append(
                (
                    b.add(
                        "switches",
                        f"switches{n}: where each window's max sat",
                        grid[None],
                        "one",
                        cout_axis,
                        b.fwd,
                        "forward",
                        layout="maps",
                        tile=switch_tile,
                        sample=b.sample,
                        note="1 = the max, gets the window's gradient (tied maxima share it)",
                    ),
                    None,
                )
            )
    drop = rec.record("dropout")
    if drop is not None and "mask" in drop.saved:
        mask = drop.saved["mask"]
        if mask.ndim == 4:
            rows.append(
                (
                    _maps(
                        b,
                        "dropout_mask",
                        f"mask{n}",
                        mask,
                        cout_axis,
                        _map_axes(b, "m", mask.shape, "map"),
                        b.fwd,
                        "forward",
                    ),
                    None,
                )
            )
    # the backward pass as it is computed, on the shown sample's im2col matrix: Y[n] = K·cols[n] + b
    k_total = c_in * kh * kw
    position = b.axis(
        f"b{k + 1}.pos",
        "output position (y, x)",
        ho * wo,
        unravel=(ho, wo),
        unravel_names=("y", "x"),
    )
    entry = b.axis(
        f"b{k + 1}.col",
        "kernel entry (c, i, j)",
        k_total,
        unravel=(c_in, kh, kw),
        unravel_names=("c", "i", "j"),
    )
    cout_rows = b.axis(f"b{k + 1}.coutr", "output channel o", c_out, [f"o{c}" for c in range(c_out)])
    d_cols = conv.saved_backward.get("d_cols")
    grads = conv.grads.get("W")
    computed = [
        (
            b.add(
                "cols",
                f"cols{n}[n] (im2col of x)",
                conv.saved["cols"][sample],
                entry,
                position,
                (FORWARD, k),
                "forward",
                sample=sample,
                note="one column per output position: the patch under it",
            ),
            b.add(
                "d_cols",
                f"dcols{n}[n] = K{n}ᵀ·dY[n]",
                None if d_cols is None else d_cols[sample],
                entry,
                position,
                b.bwd,
                "backward",
                sample=sample,
            ),
        ),
        (
            b.add(
                "K_matrix",
                f"K{n} as a matrix",
                kernels.reshape(c_out, -1),
                cout_rows,
                entry,
                (READY, None),
                "forward",
            ),
            b.add(
                "dY",
                f"dY{n}[n] = dz{n}[n] as a matrix",
                None if conv.dout is None else conv.dout[sample].reshape(c_out, -1),
                cout_rows,
                position,
                b.bwd,
                "backward",
                sample=sample,
            ),
        ),
        (
            None,
            b.add(
                "dK_matrix",
                f"dK{n} = Σₙ dY[n]·cols[n]ᵀ",
                None if grads is None else grads.reshape(c_out, -1),
                cout_rows,
                entry,
                b.bwd,
                "backward",
                note="summed over every sample of the batch, not only n",
            ),
        ),
    ]
    geometry = f"{c_out} kernels {c_in}×{kh}×{kw}"
    sub = "-".join(r.spec for r in rec.records[1:])
    out = rec.records[-1].out
    return Block(
        k,
        rec.activation,
        tuple(rec.stages),
        int(np.prod(conv.x.shape[1:])),
        int(np.prod(out.shape[1:])),
        b.tensors,
        rec.index,
        kind="conv",
        title=f"convolution · {geometry} · {sub or 'linear'} · maps of sample n = {sample}",
        edge=f"K{n} {c_out}×{c_in}×{kh}×{kw}",
        sub=f"{sub} · " if sub else "",
        sections=[
            Section("Kernels and feature maps", HEADS, rows),
            Section(
                "The backward pass as it is computed (im2col)",
                ("Forward: what was multiplied", "Backward: what is computed"),
                computed,
                note=(
                    f"cols[n] holds each k×k patch of sample n = {sample}'s input as a column; the forward "
                    "pass was Y[n] = K·cols[n] + b for every sample n. dK = Σₙ dY[n]·cols[n]ᵀ sums over "
                    "every sample and position"
                    + (
                        "; dcols[n] = Kᵀ·dY[n], and col2im adds each column of dcols[n] back onto the "
                        "pixels of its patch, which is dx."
                        if conv.dx is not None
                        else ". The input is data: no dcols, no dx."
                    )
                ),
            ),
        ],
        out_key=out_key,
        grad_key=grad_key,
        update=f"K{n} ← K{n} + ΔK{n}",
    )


def attention_block(rec, k: int, axes: dict, sample: int) -> Block:
    """An attention block: the shown sample's Q, K, V, scores and weights per head, the weighted sum
    and the output, then the stages after it (residual add, layer norm, last position)."""
    b = _Builder(k, axes, sample)
    n = b.n
    attn = rec.transform
    p, s, sb = attn.params, attn.saved, attn.saved_backward
    heads = s["weights"].shape[1]
    dim = p["Wq"].shape[0]
    width = dim // heads
    dim_axis = b.axis(
        f"b{k + 1}.dim", "number c", dim, [f"{c}·h{c // width}" if heads > 1 else str(c) for c in range(dim)]
    )
    in_axis = b.axis(f"b{k + 1}.din", "input number", dim)
    head_axis = b.axis(f"b{k + 1}.head", "head h", heads, [f"head {h}" for h in range(heads)])
    positions = axes["pos"].labels if "pos" in axes else None
    length = s["weights"].shape[2]
    tile = (b.axis("pos.q", "query t", length, positions), b.axis("pos.k", "key j", length, positions))

    def at(stage):
        return (FORWARD, k, stage)

    def back(stage):
        return (BACKWARD, k, stage)

    def seq(key, label, values, known, group, note=""):
        return b.add(
            key,
            label,
            None if values is None else values[sample],
            "pos",
            dim_axis,
            known,
            group,
            sample=sample,
            note=note,
        )

    future = np.triu(np.ones(s["weights"].shape[2:], dtype=bool), k=1)

    def per_head(key, label, values, known, group, note=""):
        if values is None:
            return None
        m = np.where(future, np.nan, values[sample])  # the masked future reads as NaN
        return b.add(
            key,
            label,
            m[None],
            "one",
            head_axis,
            known,
            group,
            layout="maps",
            tile=tile,
            sample=sample,
            note=note,
        )

    masked = "grey cells: future keys (j > t), masked"
    flow = [
        (
            seq("x", f"x (input of layer {k + 1})", attn.x, at("qkv"), "forward"),
            seq("dx", "dx = dQ·Wqᵀ + dK·Wkᵀ + dV·Wvᵀ", attn.dx, back("qkv"), "backward"),
        ),
        (
            seq("q", f"Q{n} = x·Wq + bq", s["q"], at("qkv"), "forward"),
            seq("dq", "dQ = dscores·K/√d", sb.get("dq"), back("scores"), "backward"),
        ),
        (
            seq("k", f"K{n} = x·Wk + bk", s["k"], at("qkv"), "forward"),
            seq("dk", "dK = dscoresᵀ·Q/√d", sb.get("dk"), back("scores"), "backward"),
        ),
        (
            seq("v", f"V{n} = x·Wv + bv", s["v"], at("qkv"), "forward"),
            seq("dv", "dV = weightsᵀ·dZ", sb.get("dv"), back("mix"), "backward"),
        ),
    ]
    heads_rows = [
        (
            per_head("scores", f"scores{n} = Q·Kᵀ/√{width}", s["scores"], at("scores"), "forward", masked),
            per_head(
                "d_scores",
                "dscores = a ⊙ (dA − Σₖ a·dA)",
                sb.get("d_scores"),
                back("softmax"),
                "backward",
                "the softmax Jacobian, row by row",
            ),
        ),
        (
            per_head(
                "weights",
                f"a{n} = softmax of each row",
                s["weights"],
                at("softmax"),
                "forward",
                "each row sums to 1",
            ),
            per_head(
                "d_weights",
                "dA = dZ·Vᵀ",
                sb.get("d_weights"),
                back("mix"),
                "backward",
                "grey: future keys, whose a = 0",
            ),
        ),
    ]
    out_rows = [
        (seq("z", f"Z{n} = a·V (heads joined)", s.get("z"), at("mix"), "forward"), None),
        (
            seq("out", f"o{n} = Z·Wo + bo", attn.out, at("out"), "forward"),
            seq("dout", f"do{n} (arrives)", attn.dout, back("out"), "backward"),
        ),
    ]
    b.fwd, b.bwd = at("out"), back("out")  # the stages after attention come with its output
    out_rows += _stage_rows(b, rec.records[1:], dim_axis)
    b.bwd = back("qkv")  # the projections' gradients come last, from dQ, dK, dV
    projections = []
    for name in ("q", "k", "v", "o"):
        weight_back = back("out") if name == "o" else back("qkv")
        b.bwd = weight_back
        projections.append(
            b.param(
                f"W{name}",
                f"W{name}{n}",
                p[f"W{name}"],
                in_axis,
                dim_axis,
                attn.grads.get(f"W{name}"),
                attn.deltas.get(f"W{name}"),
            )
        )
        projections.append(
            b.param(
                f"b{name}",
                f"b{name}{n}",
                p[f"b{name}"],
                "one",
                dim_axis,
                attn.grads.get(f"b{name}"),
                attn.deltas.get(f"b{name}"),
            )
        )
    last = rec.records[-1]
    out_key = out_rows[-1][0]
    return Block(
        k,
        "linear",
        tuple(rec.stages),
        int(np.prod(attn.x.shape[1:])),
        int(np.prod(last.out.shape[1:])),
        b.tensors,
        rec.index,
        kind="attn",
        title=f"causal self-attention · {heads} head{'s' if heads > 1 else ''} of {width} · sample n = {sample}",
        edge=f"attention, {heads} head{'s' if heads > 1 else ''}",
        sub="-".join(r.spec for r in rec.records[1:]) + " · " if len(rec.records) > 1 else "",
        sections=[
            Section(f"Queries, keys and values of sample n = {sample} (rows: positions)", HEADS[:2], flow),
            Section(
                "Scores and attention weights per head (rows: query t, columns: key j)", HEADS[:2], heads_rows
            ),
            Section("Weighted sum and output", HEADS[:2], out_rows),
            Section("Projection weights", HEADS, projections),
        ],
        out_key=out_key,
        grad_key=out_rows[-1][1],
        update=f"Wq…Wo{n} ← + ΔW",
        heads=heads,
        head_width=width,
    )


def embed_block(rec, k: int, axes: dict, sample: int, vocab=None) -> Block:
    """An embedding block: the table, the rows the shown sample's tokens looked up, their gradients
    (a row's gradient is the sum over the positions holding its token), then positions and norms."""
    b = _Builder(k, axes, sample)
    n = b.n
    embed = rec.transform
    table = embed.params["table"]
    v_size, dim = table.shape
    tokens = list(vocab) if vocab is not None and len(vocab) == v_size else [str(v) for v in range(v_size)]
    vocab_axis = b.axis("vocab", "token v", v_size, tokens)
    dim_axis = b.axis(f"b{k + 1}.dim", "number d", dim)
    rows = [
        b.param(
            "table",
            f"table{n}",
            table,
            vocab_axis,
            dim_axis,
            embed.grads.get("table"),
            embed.deltas.get("table"),
        ),
        (
            b.batch("e", f"e{n} = table[ids] (sample n = {sample})", embed.out, dim_axis, b.fwd, "forward"),
            b.batch("de", f"de{n}", embed.dout, dim_axis, b.bwd, "backward"),
        ),
    ]
    rows += _stage_rows(b, rec.records[1:], dim_axis)
    return Block(
        k,
        "linear",
        tuple(rec.stages),
        int(np.prod(np.shape(embed.x)[1:])),
        int(np.prod(np.shape(rec.a)[1:])),
        b.tensors,
        rec.index,
        kind="embed",
        title=f"embedding · {v_size} tokens × {dim} numbers · sample n = {sample}",
        edge=f"table{n} {v_size}×{dim}",
        sub="-".join(r.spec for r in rec.records[1:]) + " · " if len(rec.records) > 1 else "",
        sections=[
            Section(
                "",
                HEADS,
                rows,
                note="dtable[v] adds de over the positions holding token v; other rows get 0.",
            )
        ],
        out_key=rows[-1][0],
        grad_key=rows[-1][1],
        update=f"table{n} ← + Δtable{n}",
    )


def blocks(trace, axes: dict | None = None, sample: int = 0, class_labels=None, vocab=None) -> list[Block]:
    """Every block of the trace, in the layout of its kind. Reads trace.blocks (their records)."""
    axes = {} if axes is None else axes
    out = []
    last = len(trace.blocks) - 1
    for k, rec in enumerate(trace.blocks):
        if rec.kind == "conv":
            out.append(conv_block(rec, k, axes, sample))
        elif rec.kind == "attn":
            out.append(attention_block(rec, k, axes, sample))
        elif rec.kind == "embed":
            out.append(embed_block(rec, k, axes, sample, vocab))
        else:
            out.append(dense_block(rec, k, axes, sample, class_labels, last=k == last))
        out[-1].stage_specs = tuple((r.kind, r.spec) for r in rec.records[1:])
    return out


def input_tensors(trace, sample: int = 0) -> list[Tensor]:
    """The batch as the first block reads it: rows of features (x), images (the shown sample's
    channels as maps) or token ids."""
    x = np.asarray(trace.x)
    if x.ndim == 4:
        return [
            Tensor(
                "x",
                f"x (sample n = {sample})",
                x[sample][None],
                "one",
                "x.c",
                (READY, None),
                "forward",
                layout="maps",
                tile=("x.y", "x.x"),
                sample=sample,
            )
        ]
    if trace.blocks[0].kind == "embed":
        return [Tensor("x", "token ids", x.astype(np.float32), "sample", "pos", (READY, None), "forward")]
    return [Tensor("x", "x", as_rows(x), "sample", "in1", (READY, None), "forward")]


def output_tensors(trace) -> list[Tensor]:
    """What the loss reads and returns. Reads trace.{output, probs, y, d_output}."""
    last = len(trace.blocks) - 1
    unit = f"unit{last + 1}"
    specs = [("output", "output", trace.output, (FORWARD, last), "forward")]
    if trace.probs is not None:
        specs.append(("probs", "p = softmax", trace.probs, (FORWARD, last), "forward"))
    if trace.y is not None:
        y = np.asarray(trace.y)
        if y.ndim == 1 and np.shape(trace.output)[1] > 1:  # class labels: shown one-hot, like p
            y = np.eye(np.shape(trace.output)[1], dtype=np.float32)[y.astype(int)]
        specs.append(("y", "y (target)", y, (READY, None), "forward"))
    if trace.d_output is not None:
        specs.append(("d_output", "dL/d(output)", trace.d_output, (LOSS, None), "backward"))
    return [
        Tensor(key, label, as_rows(values).astype(np.float32), "sample", unit, known, group)
        for key, label, values, known, group in specs
    ]


def axes(
    trace, sample_labels=None, feature_labels=None, input_pixels=None, vocab=None, sample: int = 0
) -> dict:
    """The dimensions the input and the batch share. Reads trace.x and the first block.

    sample_labels: one per batch row (e.g. the training row it came from);
    feature_labels: one per input feature; input_pixels: (rows, cols) of an image input;
    vocab: token names, to label the shown sample's positions.
    """
    x = np.asarray(trace.x)
    n = int(x.shape[0])
    out = {
        "sample": Axis("sample", "sample n", n, list(sample_labels) if sample_labels is not None else None),
        "one": Axis("one", "", 1, [""]),
    }
    first = trace.blocks[0]
    if x.ndim == 4:
        c, h, w = x.shape[1:]
        out["x.c"] = Axis("x.c", "channel c", c, [f"c{k}" for k in range(c)])
        out["x.y"], out["x.x"] = Axis("x.y", "pixel row y", h), Axis("x.x", "pixel column x", w)
    elif first.kind == "dense":
        size = first.W.shape[0]
        out["in1"] = Axis(
            "in1",
            "input i",
            size,
            list(feature_labels) if feature_labels is not None and len(feature_labels) == size else None,
            tuple(input_pixels) if input_pixels and int(np.prod(input_pixels)) == size else None,
        )
    if x.ndim == 2 and first.kind == "embed":
        ids = x[sample]
        names = [vocab[int(v)] if vocab is not None and int(v) < len(vocab) else str(int(v)) for v in ids]
        out["pos"] = Axis(
            "pos", "position t", int(x.shape[1]), [f"{t}:{name}" for t, name in enumerate(names)]
        )
    return out


def step_view(
    trace,
    net,
    sample_labels=None,
    feature_labels=None,
    class_labels=None,
    input_pixels=None,
    vocab=None,
    sample: int = 0,
) -> StepView:
    """The whole step. Reads trace.{x, loss, train, updated} and what the helpers above read;
    net.loss_fn.name for the loss's name. sample: the batch row whose maps and sequences are shown."""
    n = int(np.shape(trace.x)[0])
    sample = int(min(max(sample, 0), n - 1))
    shared = axes(trace, sample_labels, feature_labels, input_pixels, vocab, sample)
    if "pos" not in shared and any(np.ndim(block.a_in) == 3 for block in trace.blocks):
        length = next(np.shape(block.a_in)[1] for block in trace.blocks if np.ndim(block.a_in) == 3)
        shared["pos"] = Axis("pos", "position t", int(length))
    return StepView(
        blocks=blocks(trace, shared, sample, class_labels, vocab),
        inputs=input_tensors(trace, sample),
        outputs=output_tensors(trace),
        axes=shared,
        phases=phases(trace),
        loss=None if trace.loss is None else float(trace.loss),
        loss_name=net.loss_fn.name,
        updated=bool(trace.updated),
        train=bool(trace.train),
        batch_size=n,
        sample=sample,
    )
