"""What one step computed: the record every figure is drawn from.

A trace holds references to the arrays the step computed anyway: each layer's
input, output, the intermediates it kept, and in the backward pass the gradient
of its output, of its input and of its parameters. Nothing is formed when a field
is read. An optimizer assigns new parameter arrays instead of writing into the
old ones, so the weights a trace shows stay the ones its forward pass used, and
it records in ``deltas`` the very arrays it added.
"""

from __future__ import annotations

import numpy as np

# Layers that start a block: the ones with weights that transform their input. Attention is one:
# its four projections and its mixing of positions are the block's work, and the residual add
# (and the last-position pick) after it belong to it, as an activation belongs to a dense layer.
TRANSFORMS = ("dense", "conv", "embed", "attn")
# How a block's stages are named in the textbook dense block (other kinds keep their own name).
STAGE_NAMES = {"dense": "affine", "bn": "batch_norm"}


class LayerRecord:
    """One layer's part of one step.

    name: unique in the network ("dense1"); kind: "dense", "activation", …; spec: its
    architecture word ("dense64", "relu"). x: the layer's input; out: its output; params: the parameter arrays the
    forward pass used; saved: intermediates it kept (mask, im2col cols, switches…).
    After the backward pass: dout = dL/d(out), dx = dL/dx (None when the input is
    data), grads = dL/d(param) by name, saved_backward = the backward pass's intermediates
    (a convolution's dcols, attention's dQ, dK, dV, dscores). After an update: deltas = the change applied.
    """

    def __init__(
        self, name: str, kind: str, spec: str, x: np.ndarray, out: np.ndarray, params: dict, saved: dict
    ):
        self.name, self.kind, self.spec = name, kind, spec
        self.x, self.out = x, out
        self.params, self.saved = params, saved
        self.dout: np.ndarray | None = None
        self.dx: np.ndarray | None = None
        self.saved_backward: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.deltas: dict[str, np.ndarray] = {}

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the record under a flat name (for export)."""
        out = {"x": self.x, "out": self.out, **self.params, **self.saved, **self.saved_backward}
        out.update({"dout": self.dout, "dx": self.dx})
        out.update({f"d{name}": value for name, value in self.grads.items()})
        out.update({f"delta_{name}": value for name, value in self.deltas.items()})
        return {name: value for name, value in out.items() if value is not None}

    def __repr__(self) -> str:
        state = "updated" if self.deltas else "gradients" if self.dout is not None else "forward"
        return f"LayerRecord({self.name!r}, in {tuple(self.x.shape)}, out {tuple(self.out.shape)}, {state})"


class Block:
    """A view of the records of one block: a transform layer (dense, conv, embed, attn) and what follows
    it up to the next one (batch norm, activation, dropout, pooling, flatten, residual add, layer norm).

    Names follow the textbook dense block: a_in → affine = a_in·W + b → [batch norm] z
    → a = f(z) → [dropout]; and backward da, dz, d_affine, dW, db. Every field returns
    a record's array; none computes anything.
    """

    def __init__(self, index: int, records: list[LayerRecord]):
        self.index = index
        self.records = records
        self.transform = records[0]
        by_kind: dict[str, LayerRecord] = {}
        for rec in records[1:]:
            by_kind.setdefault("activation" if rec.kind == "activation" else rec.kind, rec)
        self._by_kind = by_kind

    def record(self, kind: str) -> LayerRecord | None:
        """The block's first record of ``kind`` ("bn", "activation", "dropout", "maxpool", …), or None."""
        return self._by_kind.get(kind)

    @property
    def kind(self) -> str:
        return self.transform.kind

    @property
    def activation(self) -> str:
        rec = self.record("activation")
        return "linear" if rec is None else rec.spec

    @property
    def stages(self) -> tuple:
        return tuple(STAGE_NAMES.get(rec.kind, rec.kind) for rec in self.records)

    # forward
    @property
    def a_in(self):
        return self.transform.x

    @property
    def W(self):
        return self.transform.params.get("W")

    @property
    def b(self):
        return self.transform.params.get("b")

    @property
    def affine(self):
        return self.transform.out

    @property
    def z(self):
        """The pre-activation: the input of the activation (the affine output, or batch norm's)."""
        act = self.record("activation")
        return act.x if act is not None else self._pre_pool().out

    @property
    def activation_output(self):
        act = self.record("activation")
        return act.out if act is not None else self.z

    @property
    def a(self):
        """The block's output, what the next block reads."""
        return self.records[-1].out

    @property
    def dropout_mask(self):
        rec = self.record("dropout")
        return None if rec is None else rec.saved.get("mask")

    # batch norm
    @property
    def gamma(self):
        return self._bn("params", "gamma")

    @property
    def beta(self):
        return self._bn("params", "beta")

    @property
    def normalized(self):
        return self._bn("saved", "normalized")

    @property
    def dgamma(self):
        return self._bn("grads", "gamma")

    @property
    def dbeta(self):
        return self._bn("grads", "beta")

    @property
    def delta_gamma(self):
        return self._bn("deltas", "gamma")

    @property
    def delta_beta(self):
        return self._bn("deltas", "beta")

    # backward
    @property
    def da(self):
        return self.records[-1].dout

    @property
    def dz(self):
        act = self.record("activation")
        return act.dx if act is not None else self._pre_pool().dout

    @property
    def d_affine(self):
        return self.transform.dout

    @property
    def d_in(self):
        return self.transform.dx

    @property
    def dW(self):
        return self.transform.grads.get("W")

    @property
    def db(self):
        return self.transform.grads.get("b")

    @property
    def delta_W(self):
        return self.transform.deltas.get("W")

    @property
    def delta_b(self):
        return self.transform.deltas.get("b")

    def _bn(self, field: str, name: str):
        rec = self.record("bn")
        return None if rec is None else getattr(rec, field).get(name)

    def _pre_pool(self) -> LayerRecord:
        """The last record before any pooling or flatten (the block's pre-activation without an activation)."""
        rec = self.transform
        for candidate in self.records[1:]:
            if candidate.kind in ("maxpool", "avgpool", "flatten", "dropout"):
                break
            rec = candidate
        return rec

    def __repr__(self) -> str:
        return f"Block({self.index}, {'-'.join(r.name for r in self.records)})"


def group_by_transform(items: list) -> list[list]:
    """Layers or records (anything with ``kind``) in groups, each starting at a transform layer."""
    groups: list[list] = []
    for item in items:
        if not groups or item.kind in TRANSFORMS:
            groups.append([])
        groups[-1].append(item)
    return groups


def group_blocks(records: list[LayerRecord]) -> list[Block]:
    """Records grouped into blocks, each starting at a transform layer (the first block at record 0)."""
    return [Block(k, group) for k, group in enumerate(group_by_transform(records))]


class Trace:
    """One step: the batch, every layer's record, the loss and, after an update, the changes.

    x: the batch as the first layer reads it (rows, images (N, C, H, W) or token ids);
    y: targets in the loss's form.
    layers: one LayerRecord per layer; blocks: the same records grouped by transform layer.
    output: the last layer's values (logits for cross-entropy); probs: softmax of them.
    loss, d_output = dL/d(output), dx = dL/dx when asked for (saliency).
    """

    def __init__(self, x: np.ndarray, train: bool, layers: list[LayerRecord], output: np.ndarray):
        self.x, self.train, self.layers, self.output = x, train, layers, output
        self.blocks = group_blocks(layers)
        self.y: np.ndarray | None = None
        self.probs: np.ndarray | None = None
        self.loss: float | None = None
        self.d_output: np.ndarray | None = None
        self.dx: np.ndarray | None = None
        self.updated = False
        self.learning_rate: float | None = None
        self.optimizer: str | None = None

    @property
    def has_gradients(self) -> bool:
        return self.d_output is not None

    def record(self, name: str) -> LayerRecord:
        """The record of the layer called ``name`` ("dense1", "conv2"…)."""
        for rec in self.layers:
            if rec.name == name:
                return rec
        raise KeyError(f"this trace has no layer {name!r}; it has {', '.join(r.name for r in self.layers)}")

    def parameter_records(self) -> list[LayerRecord]:
        """The records of layers with parameters, in forward order."""
        return [rec for rec in self.layers if rec.params]

    def arrays(self) -> dict[str, np.ndarray]:
        """Every tensor of the step under flat names ("dense1.W", "dense1.dout", "loss", …)."""
        out = {"x": self.x, "output": self.output}
        for name in ("y", "probs", "d_output", "dx"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.loss is not None:
            out["loss"] = np.asarray(self.loss)
        for rec in self.layers:
            out.update({f"{rec.name}.{key}": value for key, value in rec.arrays().items()})
        return out

    def __repr__(self) -> str:
        loss = "" if self.loss is None else f", loss={self.loss:.4g}"
        return f"Trace({len(self.layers)} layers, batch {self.x.shape[0]}{loss}{', updated' if self.updated else ''})"
