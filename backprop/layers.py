"""The building blocks: a dense block (affine, batch norm, activation, dropout) and an embedding stage."""

from __future__ import annotations

import numpy as np

from .activations import get_activation
from .trace import EmbeddingTrace, LayerTrace

INITS = ("xavier", "he", "normal")
BATCH_NORM_EPS = 1e-5
BATCH_NORM_MOMENTUM = 0.9


def init_weights(init: str, n_in: int, n_out: int, rng: np.random.Generator, std: float, dtype) -> np.ndarray:
    """Weights (n_in, n_out): xavier = Glorot uniform, he = He normal, normal = N(0, std²)."""
    if init == "xavier":
        limit = np.sqrt(6.0 / (n_in + n_out))
        w = rng.uniform(-limit, limit, size=(n_in, n_out))
    elif init == "he":
        w = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
    elif init == "normal":
        w = rng.normal(0.0, std, size=(n_in, n_out))
    else:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    return w.astype(dtype)


def _is_scratch(array: np.ndarray, rec: LayerTrace) -> bool:
    """True if ``array`` owns its memory and is none of the arrays the record keeps."""
    if array.base is not None or array is rec.z or array is rec.activation_output:
        return False
    kept = rec.activation_kept
    if isinstance(kept, tuple):
        return all(array is not k for k in kept)
    return array is not kept


class Dense:
    """One dense block: affine, then optional batch norm, activation, optional inverted dropout.

    W: (n_in, n_out), b: (n_out,); with batch norm also gamma, beta (n_out,) and
    the running statistics used in eval mode.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
        init: str = "xavier",
        init_std: float = 0.01,
        rng: np.random.Generator,
        dtype=np.float32,
        index: int = 0,
    ):
        self.index = index
        self.activation = get_activation(activation)
        self.batch_norm = bool(batch_norm)
        self.dropout = float(dropout)
        self.dtype = np.dtype(dtype)
        self.W = init_weights(init, n_in, n_out, rng, init_std, self.dtype)
        self.b = np.zeros(n_out, dtype=self.dtype)
        if self.batch_norm:
            self.gamma = np.ones(n_out, dtype=self.dtype)
            self.beta = np.zeros(n_out, dtype=self.dtype)
            self.running_mean = np.zeros(n_out, dtype=self.dtype)
            self.running_var = np.ones(n_out, dtype=self.dtype)
        self.stages = (
            ("affine",)
            + (("batch_norm",) if self.batch_norm else ())
            + ("activation",)
            + (("dropout",) if self.dropout > 0 else ())
        )

    @property
    def activation(self):
        return self._activation

    @activation.setter
    def activation(self, activation) -> None:
        self._activation = activation
        # bound once here: they are called per layer per step
        self._linear = activation.name == "linear"
        self._apply, self._slope = activation.apply, activation.derivative_from

    @property
    def n_in(self) -> int:
        return self.W.shape[0]

    @property
    def n_out(self) -> int:
        return self.W.shape[1]

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("W", "b", "gamma", "beta") if self.batch_norm else ("W", "b")

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.param_names}

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("running_mean", "running_var") if self.batch_norm else ()

    @property
    def state(self) -> dict[str, np.ndarray]:
        """Non-trained arrays saved with the weights (batch-norm running statistics)."""
        return {name: getattr(self, name) for name in self.state_names}

    def forward(
        self,
        a_in: np.ndarray,
        *,
        train: bool,
        rng: np.random.Generator | None,
        dropout_mask: np.ndarray | None = None,
    ) -> LayerTrace:
        """Run the block on a_in (N, n_in); returns the record whose ``a`` feeds the next block.

        train: batch statistics and dropout (when the block has them); eval: running
        statistics, no dropout. ``dropout_mask`` (N, n_out), already scaled by
        1/keep, replays a given mask (gradient checks); otherwise one is drawn from rng.
        """
        affine = a_in @ self.W
        affine += self.b
        rec = LayerTrace(self.index, self.activation.name, self.stages, train, self.W, self.b, a_in, affine)
        if self.batch_norm:
            rec.gamma, rec.beta = self.gamma, self.beta
            if train:
                mean = affine.mean(axis=0)
                var = affine.var(axis=0)
                rec.batch_mean, rec.batch_var = mean, var
            else:
                mean, var = self.running_mean, self.running_var
            rec.inv_std = 1.0 / np.sqrt(var + self.dtype.type(BATCH_NORM_EPS))
            rec.normalized = (affine - mean) * rec.inv_std
            rec.z = rec.normalized * self.gamma + self.beta
        if not self._linear:
            rec.activation_output, rec.activation_kept = self._apply(rec.z)
            rec.a = rec.activation_output
        if self.dropout > 0 and train:
            if dropout_mask is None:
                keep = 1.0 - self.dropout
                dropout_mask = (rng.random(rec.z.shape) < keep).astype(self.dtype)
                dropout_mask *= self.dtype.type(1.0 / keep)
            rec.dropout_mask = dropout_mask
            rec.a = rec.activation_output * dropout_mask
        return rec

    def backward(self, rec: LayerTrace, da: np.ndarray, *, need_input_grad: bool) -> np.ndarray | None:
        """Fill rec's gradients from da = dL/da (N, n_out); return dL/da_in, or None if not needed.

        dW and db are left to the record, which forms them from d_affine when first read.
        """
        rec.da = da
        d_act = da if rec.dropout_mask is None else da * rec.dropout_mask
        if self._linear:
            rec.dz = d_act
        else:
            slope = self._slope(rec.z, rec.activation_output, rec.activation_kept)
            if slope.dtype == d_act.dtype and _is_scratch(slope, rec):
                # a fresh float slope nobody else holds: multiply into it, one array fewer
                rec.dz = np.multiply(slope, d_act, out=slope)
            else:
                rec.dz = d_act * slope
        if self.batch_norm:
            rec.dgamma = np.add.reduce(rec.dz * rec.normalized, axis=0)
            rec.dbeta = np.add.reduce(rec.dz, axis=0)
            d_norm = rec.dz * rec.gamma
            if rec.train:
                n = d_norm.shape[0]
                rec.d_affine = (rec.inv_std / n) * (
                    n * d_norm - d_norm.sum(axis=0) - rec.normalized * (d_norm * rec.normalized).sum(axis=0)
                )
            else:
                rec.d_affine = d_norm * rec.inv_std
        else:
            rec.d_affine = rec.dz
        if need_input_grad:
            rec.d_in = rec.d_affine @ rec.W.T
        return rec.d_in

    def commit_batch_statistics(self, rec: LayerTrace) -> None:
        """Move the running statistics toward this training step's batch statistics."""
        if self.batch_norm and rec.batch_mean is not None:
            m = self.dtype.type(BATCH_NORM_MOMENTUM)
            self.running_mean = m * self.running_mean + (1 - m) * rec.batch_mean
            self.running_var = m * self.running_var + (1 - m) * rec.batch_var

    def __repr__(self) -> str:
        extras = "".join(
            [
                ", batch_norm" if self.batch_norm else "",
                f", dropout={self.dropout:g}" if self.dropout > 0 else "",
            ]
        )
        return f"Dense({self.n_in}→{self.n_out}, {self.activation.name}{extras})"


class Embedding:
    """Token ids (N, context) -> concatenated rows of a learned table, (N, context·dim)."""

    def __init__(
        self, vocab_size: int, dim: int, context: int, *, rng: np.random.Generator, dtype=np.float32
    ):
        self.vocab_size, self.dim, self.context = vocab_size, dim, context
        self.dtype = np.dtype(dtype)
        # Unit-variance rows divided by sqrt(dim) keep each embedding's norm near 1.
        self.table = (rng.normal(0.0, 1.0, size=(vocab_size, dim)) / np.sqrt(dim)).astype(self.dtype)

    param_names = ("table",)
    state_names = ()

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {"table": self.table}

    @property
    def n_out(self) -> int:
        return self.context * self.dim

    def forward(self, ids: np.ndarray) -> EmbeddingTrace:
        a = self.table[ids].reshape(ids.shape[0], self.n_out)
        return EmbeddingTrace(ids=ids, table=self.table, a=a)

    def backward(self, rec: EmbeddingTrace, da: np.ndarray) -> None:
        rec.da = da
        dtable = np.zeros_like(self.table)
        # A token used at several positions or samples collects every contribution.
        np.add.at(dtable, rec.ids.ravel(), da.reshape(-1, self.dim))
        rec.dtable = dtable

    def __repr__(self) -> str:
        return f"Embedding(vocab={self.vocab_size}, dim={self.dim}, context={self.context})"
