"""What one step computed: the record every figure is drawn from.

A trace holds references to arrays the step computed anyway; parameters are
never updated in place (optimizers assign new arrays), so the ``W`` a trace
refers to stays the one its forward pass used, without a copy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

Array = Optional[np.ndarray]


@dataclass(eq=False)
class LayerTrace:
    """One dense block's forward and backward arrays for a batch of N samples.

    Forward, in the order the block runs its stages:
      a_in (N, n_in) -> affine = a_in·W + b (N, n_out)
      -> [batch_norm] normalized = (affine - batch_mean)·inv_std, z = gamma·normalized + beta
      -> activation_output = f(z) -> [dropout] a = activation_output · dropout_mask
    Without batch norm ``z is affine``; without dropout ``a is activation_output``.
    Backward: da = dL/da, dz = dL/dz, d_affine = dL/d(affine), dW, db, dgamma, dbeta,
    d_in = dL/da_in (None for the first layer unless an input gradient was asked for).
    After an optimizer step: delta_W, delta_b (and delta_gamma, delta_beta), the applied change.
    """

    index: int
    activation: str
    stages: tuple
    train: bool
    W: np.ndarray
    b: np.ndarray
    a_in: np.ndarray
    affine: np.ndarray
    z: np.ndarray
    activation_output: np.ndarray
    a: np.ndarray
    gamma: Array = None
    beta: Array = None
    normalized: Array = None
    batch_mean: Array = None
    batch_var: Array = None
    inv_std: Array = None
    dropout_mask: Array = None
    da: Array = None
    dz: Array = None
    d_affine: Array = None
    dW: Array = None
    db: Array = None
    dgamma: Array = None
    dbeta: Array = None
    d_in: Array = None
    delta_W: Array = None
    delta_b: Array = None
    delta_gamma: Array = None
    delta_beta: Array = None
    activation_kept: object = None   # forward intermediates the activation's slope reuses

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameters this step used, by name (W, b, and gamma, beta with batch norm)."""
        out = {"W": self.W, "b": self.b}
        if self.gamma is not None:
            out.update(gamma=self.gamma, beta=self.beta)
        return out

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """dL/d(parameter), same keys as ``params``."""
        out = {"W": self.dW, "b": self.db}
        if self.gamma is not None:
            out.update(gamma=self.dgamma, beta=self.dbeta)
        return out

    @property
    def deltas(self) -> dict[str, Array]:
        """The applied change per parameter (None before an update)."""
        out = {"W": self.delta_W, "b": self.delta_b}
        if self.gamma is not None:
            out.update(gamma=self.delta_gamma, beta=self.delta_beta)
        return out

    def set_delta(self, name: str, value: np.ndarray) -> None:
        setattr(self, f"delta_{name}", value)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array this record holds, by field name (None fields left out)."""
        skip = {"index", "activation", "stages", "train", "activation_kept"}
        return {
            name: value
            for name, value in vars(self).items()
            if name not in skip and isinstance(value, np.ndarray)
        }

    def __repr__(self) -> str:
        n, k = self.a_in.shape[0], self.W.shape[1]
        return f"LayerTrace(layer={self.index}, N={n}, units={k}, stages={'→'.join(self.stages)})"


@dataclass(eq=False)
class EmbeddingTrace:
    """The embedding input stage: token ids (N, context) -> a (N, context·dim).

    ``table`` (vocab, dim) is the table the step used; ``dtable`` its gradient,
    ``da`` the gradient arriving from the first dense block, ``delta_table`` the update.
    """

    ids: np.ndarray
    table: np.ndarray
    a: np.ndarray
    da: Array = None
    dtable: Array = None
    delta_table: Array = None

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {"table": self.table}

    @property
    def grads(self) -> dict[str, Array]:
        return {"table": self.dtable}

    @property
    def deltas(self) -> dict[str, Array]:
        return {"table": self.delta_table}

    def set_delta(self, name: str, value: np.ndarray) -> None:
        self.delta_table = value

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}

    def __repr__(self) -> str:
        return f"EmbeddingTrace(N={self.ids.shape[0]}, table={self.table.shape})"


@dataclass(eq=False)
class Trace:
    """One forward (and usually backward) pass of a network on a batch.

    x: the input batch; y: the targets (None for a forward-only trace);
    output: the last layer's values (logits for cross-entropy); probs: softmax
    of the logits (cross-entropy only); loss: the mean data loss.
    ``layers[k]`` is the k-th dense block's LayerTrace; ``embedding`` the
    embedding stage's record, if the network has one; ``dx`` the gradient with
    respect to a float input when it was asked for.
    ``updated`` tells whether an optimizer applied this step's gradients, with
    which ``learning_rate``.
    """

    x: np.ndarray
    y: Array
    train: bool
    layers: list[LayerTrace]
    output: np.ndarray
    embedding: Optional[EmbeddingTrace] = None
    probs: Array = None
    loss: Optional[float] = None
    d_output: Array = None
    dx: Array = None
    updated: bool = False
    learning_rate: Optional[float] = None
    optimizer: Optional[str] = None
    extra: dict = field(default_factory=dict)

    @property
    def has_gradients(self) -> bool:
        return self.d_output is not None

    def parameter_records(self):
        """(key, record) pairs of everything with parameters: ("embedding", e), (0, layer0), ..."""
        if self.embedding is not None:
            yield "embedding", self.embedding
        for layer in self.layers:
            yield layer.index, layer

    def arrays(self) -> dict[str, np.ndarray]:
        """Every tensor of the step under a flat name ("layer1.dW", "embedding.table", "x")."""
        out: dict[str, np.ndarray] = {"x": self.x, "output": self.output}
        for name in ("y", "probs", "d_output", "dx"):
            value = getattr(self, name)
            if value is not None:
                out[name] = np.asarray(value)
        if self.embedding is not None:
            out.update({f"embedding.{k}": v for k, v in self.embedding.arrays().items()})
        for layer in self.layers:
            out.update({f"layer{layer.index + 1}.{k}": v for k, v in layer.arrays().items()})
        return out

    def __repr__(self) -> str:
        loss = "None" if self.loss is None else f"{self.loss:.6g}"
        return (f"Trace(N={self.x.shape[0]}, layers={len(self.layers)}, loss={loss}, "
                f"updated={self.updated})")
