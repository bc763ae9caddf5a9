"""One step's trace as plain data: blocks of named matrices, axes and the phases that reveal them.

This module is the only reader of a ``Trace`` for the step player: the payload
builder, the player and the inspector's text all work from what it returns, so
the engine's record can change shape without them noticing. Every matrix is a
2-D float array (a vector is one row); nothing here computes a number the
engine did not record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backprop.inspect import sup

READY, FORWARD, LOSS, BACKWARD, UPDATE = "ready", "forward", "loss", "backward", "update"


@dataclass(frozen=True)
class Phase:
    """One stop of the player. layer: 0-based block (None for ready, loss, update)."""

    kind: str
    layer: int | None
    label: str

    def __repr__(self) -> str:
        return f"Phase({self.label!r})"


@dataclass
class Axis:
    """What a matrix dimension counts: name ("sample", "in1", "unit2", "class"), title and labels.

    labels: one per index, or None to number them; pixels: (rows, cols) when the
    dimension is a flattened image, so an index reads as a pixel position.
    """

    name: str
    title: str
    size: int
    labels: list[str] | None = None
    pixels: tuple[int, int] | None = None


@dataclass
class Tensor:
    """A named matrix of the step and the phase at which it becomes known.

    key: the field it came from ("W", "dz", "delta_W", "output", ...); label: how
    the page writes it ("dz²"); values: (rows, cols); rows/cols: Axis names;
    known: (phase kind, block) that computes it.
    """

    key: str
    label: str
    values: np.ndarray
    rows: str
    cols: str
    known: tuple[str, int | None]
    group: str  # "forward", "backward" or "update": where the player puts it

    def __repr__(self) -> str:
        return f"Tensor({self.label}, {self.values.shape[0]}×{self.values.shape[1]})"


@dataclass
class Block:
    """One dense block: a_in·W + b, its optional stages, the activation, and the gradients.

    index: its place among the player's blocks; source: its index in ``trace.blocks``
    (the engine's numbering, which counts an embedding stage too).
    """

    index: int
    activation: str
    stages: tuple
    n_in: int
    n_out: int
    tensors: list[Tensor] = field(default_factory=list)
    source: int = 0

    @property
    def label(self) -> str:
        return f"Layer {self.index + 1}"

    def tensor(self, key: str) -> Tensor | None:
        return next((t for t in self.tensors if t.key == key), None)


@dataclass
class StepView:
    """A step as the player shows it: input, blocks, output, loss and phases."""

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

    def phase_index(self, kind: str, layer: int | None = None) -> int | None:
        """Index of the phase (kind, layer), or None if this step has none (no update)."""
        return next(
            (k for k, p in enumerate(self.phases) if p.kind == kind and (layer is None or p.layer == layer)),
            None,
        )

    def known_at(self, tensor: Tensor) -> int:
        """The phase index from which the tensor is shown."""
        kind, layer = tensor.known
        index = self.phase_index(kind, layer)
        return len(self.phases) if index is None else index

    def tensors(self):
        """(block index or None, tensor) for every matrix: inputs, blocks in order, outputs."""
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


def dense_blocks(trace) -> list:
    """The trace's dense blocks, the ones the player draws; an embedding before them is the input stage."""
    return [block for block in trace.blocks if block.kind == "dense"]


def phases(trace) -> list[Phase]:
    """Ready, Forward 1 … L, Loss, Backward L … 1, and Update when the step was applied.

    Reads the number of dense blocks and trace.updated.
    """
    count = len(dense_blocks(trace))
    out = [Phase(READY, None, "Ready")]
    out += [Phase(FORWARD, k, f"Forward {k + 1}") for k in range(count)]
    out.append(Phase(LOSS, None, "Loss"))
    out += [Phase(BACKWARD, k, f"Backward {k + 1}") for k in reversed(range(count))]
    if trace.updated:
        out.append(Phase(UPDATE, None, "Update"))
    return out


def block_tensors(rec, k: int) -> list[Tensor]:
    """The matrices of the player's block k, a dense block record, in the order the player stacks them.

    Reads rec.{stages, W, b, gamma, beta, normalized, z, a, dropout_mask, dW, db,
    d_affine, dgamma, dbeta, dz, da, delta_W, delta_b, delta_gamma, delta_beta}.
    """
    n = sup(k + 1)
    inp, unit = ("in1" if k == 0 else f"unit{k}"), f"unit{k + 1}"
    weights, forward, backward, update = (READY, None), (FORWARD, k), (BACKWARD, k), (UPDATE, None)
    batch_norm = rec.normalized is not None
    specs = [
        ("W", f"W{n}", rec.W, inp, unit, weights, "forward"),
        ("b", f"b{n}", rec.b, "one", unit, weights, "forward"),
    ]
    if batch_norm:
        specs += [
            ("gamma", f"γ{n}", rec.gamma, "one", unit, weights, "forward"),
            ("beta", f"β{n}", rec.beta, "one", unit, weights, "forward"),
            ("normalized", f"x̂{n}", rec.normalized, "sample", unit, forward, "forward"),
        ]
    specs += [
        ("z", f"z{n}", rec.z, "sample", unit, forward, "forward"),
        ("a", f"a{n}", rec.a, "sample", unit, forward, "forward"),
    ]
    if rec.dropout_mask is not None:
        specs.append(("dropout_mask", f"mask{n}", rec.dropout_mask, "sample", unit, forward, "forward"))
    specs += [
        ("dW", f"dW{n}", rec.dW, inp, unit, backward, "backward"),
        ("db", f"db{n}", rec.db, "one", unit, backward, "backward"),
    ]
    if batch_norm:
        specs += [
            ("dgamma", f"dγ{n}", rec.dgamma, "one", unit, backward, "backward"),
            ("dbeta", f"dβ{n}", rec.dbeta, "one", unit, backward, "backward"),
            ("d_affine", f"dh{n}", rec.d_affine, "sample", unit, backward, "backward"),
        ]
    specs += [
        ("dz", f"dz{n}", rec.dz, "sample", unit, backward, "backward"),
        ("da", f"da{n}", rec.da, "sample", unit, backward, "backward"),
        ("delta_W", f"ΔW{n}", rec.delta_W, inp, unit, update, "update"),
        ("delta_b", f"Δb{n}", rec.delta_b, "one", unit, update, "update"),
    ]
    if batch_norm:
        specs += [
            ("delta_gamma", f"Δγ{n}", rec.delta_gamma, "one", unit, update, "update"),
            ("delta_beta", f"Δβ{n}", rec.delta_beta, "one", unit, update, "update"),
        ]
    return [
        Tensor(key, label, as_rows(values), rows, cols, known, group)
        for key, label, values, rows, cols, known, group in specs
        if values is not None
    ]


def blocks(trace) -> list[Block]:
    """Every dense block of the trace. Reads their {index, activation, stages, W} and everything
    ``block_tensors`` reads."""
    out = []
    for k, rec in enumerate(dense_blocks(trace)):
        n_in, n_out = rec.W.shape
        out.append(Block(k, rec.activation, tuple(rec.stages), n_in, n_out, block_tensors(rec, k), rec.index))
    return out


def input_tensors(trace) -> list[Tensor]:
    """The input the first dense block reads: its a_in, called x when it is trace.x itself
    (an embedded input, such as token ids looked up in a table, is called e)."""
    a_in = dense_blocks(trace)[0].a_in
    plain = a_in is trace.x
    return [Tensor("x", "x" if plain else "e", as_rows(a_in), "sample", "in1", (READY, None), "forward")]


def output_tensors(trace) -> list[Tensor]:
    """What the loss reads and returns. Reads trace.{output, probs, y, d_output}."""
    last = len(dense_blocks(trace)) - 1
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


def axes(trace, sample_labels=None, feature_labels=None, class_labels=None, input_pixels=None) -> dict:
    """The dimensions matrices share. Reads trace.x (batch size), the dense blocks' W (sizes).

    sample_labels: one per batch row (e.g. the training row it came from);
    feature_labels: one per input feature; class_labels: one per output unit;
    input_pixels: (rows, cols) of an image input.
    """
    n = int(np.shape(trace.x)[0])
    dense = dense_blocks(trace)
    sizes = [dense[0].W.shape[0]] + [rec.W.shape[1] for rec in dense]
    out = {
        "sample": Axis("sample", "sample n", n, list(sample_labels) if sample_labels is not None else None),
        "one": Axis("one", "", 1, [""]),
        "in1": Axis(
            "in1",
            "input i",
            sizes[0],
            list(feature_labels) if feature_labels is not None and len(feature_labels) == sizes[0] else None,
            tuple(input_pixels) if input_pixels and int(np.prod(input_pixels)) == sizes[0] else None,
        ),
    }
    for k, size in enumerate(sizes[1:], start=1):
        last = k == len(sizes) - 1
        labels = (
            list(class_labels) if last and class_labels is not None and len(class_labels) == size else None
        )
        out[f"unit{k}"] = Axis(f"unit{k}", "class c" if labels else "unit j", size, labels)
    return out


def step_view(
    trace,
    net,
    sample_labels=None,
    feature_labels=None,
    class_labels=None,
    input_pixels=None,
) -> StepView:
    """The whole step. Reads trace.{x, loss, train, updated} and what the helpers above read;
    net.loss_fn.name for the loss's name."""
    return StepView(
        blocks=blocks(trace),
        inputs=input_tensors(trace),
        outputs=output_tensors(trace),
        axes=axes(trace, sample_labels, feature_labels, class_labels, input_pixels),
        phases=phases(trace),
        loss=None if trace.loss is None else float(trace.loss),
        loss_name=net.loss_fn.name,
        updated=bool(trace.updated),
        train=bool(trace.train),
        batch_size=int(np.shape(trace.x)[0]),
    )
