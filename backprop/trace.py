"""What one step computed: the record every figure is drawn from.

A trace holds references to arrays the step computed anyway; parameters are
never updated in place (optimizers assign new arrays), so the ``W`` a trace
refers to stays the one its forward pass used, without a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray | None


def weight_gradient(a_in: np.ndarray, d_affine: np.ndarray) -> np.ndarray:
    """a_inᵀ · d_affine (n_in, n_out): dL/dW from a block's input and the gradient at its affine output.

    Called with ``factor · d_affine`` it gives ``factor · dL/dW`` from the same matrix
    product, which is how SGD and momentum get −η·dW without a pass over dW.
    """
    if a_in.shape[0] == 1:
        # One sample: an outer product. matmul's (n_in, 1) view of a_in is not a BLAS
        # layout and takes a slow loop; the broadcast product is the same numbers.
        return np.multiply(a_in.reshape(-1, 1), d_affine)
    return a_in.T @ d_affine


class _GradientFormedOnRead:
    """A record's parameter gradient, formed from its d_affine the first time it is read
    and kept in ``_<name>``; None before the backward pass. Setting it stores the value."""

    def __init__(self, form, doc: str):
        self.form, self.__doc__ = form, doc + "; None before the backward pass."

    def __set_name__(self, owner, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, rec, owner=None):
        if rec is None:
            return self
        value = getattr(rec, self.slot)
        if value is None and rec.d_affine is not None:
            value = self.form(rec)
            setattr(rec, self.slot, value)
        return value

    def __set__(self, rec, value) -> None:
        setattr(rec, self.slot, value)


class LayerTrace:
    """One dense block's forward and backward arrays for a batch of N samples.

    Forward, in the order the block runs its stages:
      a_in (N, n_in) -> affine = a_in·W + b (N, n_out)
      -> [batch_norm] normalized = (affine - batch_mean)·inv_std, z = gamma·normalized + beta
      -> activation_output = f(z) -> [dropout] a = activation_output · dropout_mask
    Without batch norm ``z is affine``; without dropout ``a is activation_output``.
    Backward: da = dL/da, dz = dL/dz, d_affine = dL/d(affine), dW, db, dgamma, dbeta,
    d_in = dL/da_in (None for the first layer unless an input gradient was asked for).
    dW = a_inᵀ·d_affine and db = Σₙ d_affine are formed the first time they are read,
    from arrays the record holds, so a training step whose optimizer never needs the
    gradients themselves (plain SGD, momentum) skips them: it takes −η·dW and −η·db
    from one scaled copy of d_affine (``scaled_gradients``).
    After an optimizer step: delta_W, delta_b (and delta_gamma, delta_beta), the applied change.
    Plain SGD writes W + ΔW into ΔW's own buffer; the record then keeps ΔW as its
    recipe, −η folded into a_inᵀ·d_affine, and re-forms it bit for bit when it is read.

    A plain class rather than a dataclass: one is made per layer per training step,
    and setting only the fields a block ran (the rest read as the class's None)
    keeps that cheap.
    """

    # Fields a block sets only when it runs the stage; None otherwise.
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
    dgamma: Array = None
    dbeta: Array = None
    d_in: Array = None
    delta_b: Array = None
    delta_gamma: Array = None
    delta_beta: Array = None
    activation_kept: object = None  # forward intermediates the activation's slope reuses
    _dW: Array = None
    _db: Array = None
    _delta_W: Array = None
    _delta_W_factor: float | None = None

    def __init__(
        self,
        index: int,
        activation: str,
        stages: tuple,
        train: bool,
        W: np.ndarray,
        b: np.ndarray,
        a_in: np.ndarray,
        affine: np.ndarray,
    ):
        """The record of a block whose stages so far are the affine one: z, activation_output
        and a start as ``affine``; the block replaces them as it runs its other stages."""
        self.index, self.activation, self.stages, self.train = index, activation, stages, train
        self.W, self.b, self.a_in = W, b, a_in
        self.affine = self.z = self.activation_output = self.a = affine

    dW = _GradientFormedOnRead(
        lambda rec: weight_gradient(rec.a_in, rec.d_affine), "dL/dW (n_in, n_out), a_inᵀ·d_affine"
    )
    db = _GradientFormedOnRead(
        lambda rec: np.add.reduce(rec.d_affine, axis=0), "dL/db (n_out,), the batch sum of d_affine"
    )

    @property
    def delta_W(self) -> Array:
        """The change the optimizer applied to W (None before an update)."""
        if self._delta_W is None and self._delta_W_factor is not None:
            self._delta_W = weight_gradient(self.a_in, self._scaled_d_affine(self._delta_W_factor))
        return self._delta_W

    @delta_W.setter
    def delta_W(self, value: Array) -> None:
        self._delta_W, self._delta_W_factor = value, None

    def record_delta_W_as_scaled_gradient(self, factor: float) -> None:
        """Record ΔW as the W entry of ``scaled_gradients(factor)``, formed again when read."""
        self._delta_W, self._delta_W_factor = None, factor

    def param_names(self) -> tuple[str, ...]:
        return ("W", "b", "gamma", "beta") if self.gamma is not None else ("W", "b")

    def _scaled_d_affine(self, factor: float) -> np.ndarray:
        # The one place s = factor·d_affine is formed, so ΔW re-formed from its recipe
        # has the bits of the ΔW the optimizer applied.
        return self.d_affine * self.d_affine.dtype.type(factor)

    def scaled_gradients(self, factor: float) -> tuple[tuple[str, np.ndarray], ...]:
        """(name, factor · dL/d(name)) for each parameter, in ``param_names`` order.

        W and b come from one scaled copy s = factor·d_affine: a_inᵀ·s and Σₙ s, which
        equal factor·dW and factor·db up to float rounding. Scaling the (N, n_out)
        array costs less than scaling dW, and neither gradient has to be formed.
        The same factor always gives the same bits, whatever was read before.
        """
        scaled = self._scaled_d_affine(factor)
        out = (("W", weight_gradient(self.a_in, scaled)), ("b", np.add.reduce(scaled, axis=0)))
        if self.gamma is None:
            return out
        dtype = self.d_affine.dtype.type
        return out + (("gamma", self.dgamma * dtype(factor)), ("beta", self.dbeta * dtype(factor)))

    def _by_param(self, *values) -> dict:
        return dict(zip(self.param_names(), values))

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameters this step used, by name (W, b, and gamma, beta with batch norm)."""
        return self._by_param(self.W, self.b, self.gamma, self.beta)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """dL/d(parameter), same keys as ``params``."""
        return self._by_param(self.dW, self.db, self.dgamma, self.dbeta)

    @property
    def deltas(self) -> dict[str, Array]:
        """The applied change per parameter (None before an update)."""
        return self._by_param(self.delta_W, self.delta_b, self.delta_gamma, self.delta_beta)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array this record holds, by field name (None fields left out)."""
        skip = {"index", "activation", "stages", "train", "activation_kept"}
        out = {
            name: value
            for name, value in vars(self).items()
            # private slots hold the fields formed on first read, added below by name
            if name not in skip and not name.startswith("_") and isinstance(value, np.ndarray)
        }
        for name in ("dW", "db", "delta_W"):  # formed on first read
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

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

    def param_names(self) -> tuple[str, ...]:
        return ("table",)

    def scaled_gradients(self, factor: float) -> tuple[tuple[str, np.ndarray], ...]:
        return (("table", self.dtable * self.dtable.dtype.type(factor)),)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}

    def __repr__(self) -> str:
        return f"EmbeddingTrace(N={self.ids.shape[0]}, table={self.table.shape})"


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

    probs: Array = None
    loss: float | None = None
    d_output: Array = None
    dx: Array = None
    updated: bool = False
    learning_rate: float | None = None
    optimizer: str | None = None

    def __init__(
        self,
        x: np.ndarray,
        y: Array,
        train: bool,
        layers: list[LayerTrace],
        output: np.ndarray,
        embedding: EmbeddingTrace | None = None,
    ):
        self.x, self.y, self.train, self.layers, self.output = x, y, train, layers, output
        self.embedding = embedding
        self.extra: dict = {}

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
        return f"Trace(N={self.x.shape[0]}, layers={len(self.layers)}, loss={loss}, updated={self.updated})"
