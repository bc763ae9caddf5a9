"""The network: a stack of dense blocks (optionally fed by an embedding stage) and a loss."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .layers import INITS, Dense, Embedding
from .losses import get_loss, softmax
from .trace import Trace

DTYPES = ("float32", "float64")


def _per_hidden(value, n_hidden: int, what: str) -> list:
    """Expand one setting to one per hidden layer, or check a given list's length."""
    if isinstance(value, (list, tuple)):
        if len(value) != n_hidden:
            raise ValueError(
                f"{what} lists {len(value)} values for {n_hidden} hidden layers; "
                f"give one value or exactly {n_hidden}: got {list(value)!r}"
            )
        return list(value)
    return [value] * n_hidden


def _check_sizes(sizes) -> list[int]:
    try:
        sizes = list(sizes)
    except TypeError:
        raise ValueError(f"layer sizes must be a list of positive integers, got {sizes!r}") from None
    if len(sizes) < 2 or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
    ):
        raise ValueError(
            f"layer sizes must be at least two positive integers (inputs, ..., outputs), got {sizes!r}"
        )
    return [int(s) for s in sizes]


class Network:
    """A multilayer perceptron whose every step can be recorded.

    sizes: [n_inputs, hidden..., n_outputs]; with ``embedding=(vocab_size, dim)``
      n_inputs is the number of tokens per sample (the context length).
    activation: one name, or one per hidden layer; the output layer is linear.
    loss: "cross_entropy" (softmax fused; labels or one-hot) or "mse".
    init: "xavier" (Glorot uniform), "he" (He normal) or "normal" (std ``init_std``).
    batch_norm, dropout: one value or one per hidden layer.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Sequence[str] = "relu",
        loss: str = "cross_entropy",
        init: str = "xavier",
        init_std: float = 0.01,
        seed: int = 0,
        dtype: str = "float32",
        batch_norm: bool | Sequence[bool] = False,
        dropout: float | Sequence[float] = 0.0,
        embedding: Sequence[int] | None = None,
    ):
        self.sizes = _check_sizes(sizes)
        n_hidden = len(self.sizes) - 2
        self.activations = _per_hidden(activation, n_hidden, "activation")
        for name in self.activations:
            get_activation(name)
        self.loss_fn = get_loss(loss)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        if not (isinstance(init_std, numbers.Real) and init_std > 0 and np.isfinite(init_std)):
            raise ValueError(f"init_std must be a positive number, got {init_std!r}")
        if str(dtype) not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.batch_norms = [bool(v) for v in _per_hidden(batch_norm, n_hidden, "batch_norm")]
        self.dropouts = _per_hidden(dropout, n_hidden, "dropout")
        for rate in self.dropouts:
            if not (isinstance(rate, numbers.Real) and 0 <= rate < 1):
                raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        self.init, self.init_std, self.seed = init, float(init_std), int(seed)
        self.dtype = np.dtype(str(dtype))
        rng = np.random.default_rng(self.seed)
        self.embedding: Embedding | None = None
        n_in = self.sizes[0]
        if embedding is not None:
            try:
                vocab_size, dim = (int(v) for v in embedding)
            except (TypeError, ValueError):
                raise ValueError(f"embedding must be (vocab_size, dim), got {embedding!r}") from None
            if vocab_size < 1 or dim < 1:
                raise ValueError(f"embedding vocab_size and dim must be >= 1, got {embedding!r}")
            self.embedding = Embedding(vocab_size, dim, self.sizes[0], rng=rng, dtype=self.dtype)
            n_in = self.embedding.n_out
        self.layers: list[Dense] = []
        fan_ins = [n_in] + self.sizes[1:-1]
        for k, (fan_in, fan_out) in enumerate(zip(fan_ins, self.sizes[1:])):
            hidden = k < n_hidden
            self.layers.append(
                Dense(
                    fan_in,
                    fan_out,
                    activation=self.activations[k] if hidden else "linear",
                    batch_norm=self.batch_norms[k] if hidden else False,
                    dropout=self.dropouts[k] if hidden else 0.0,
                    init=init,
                    init_std=init_std,
                    rng=rng,
                    dtype=self.dtype,
                    index=k,
                )
            )
        # Dropout draws from its own stream so that it never shifts the weight init.
        self.dropout_rng = np.random.default_rng([self.seed, 1])

    # ----------------------------------------------------------------- config
    @property
    def loss(self) -> str:
        return self.loss_fn.name

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    @property
    def is_classifier(self) -> bool:
        return self.loss_fn.name == "cross_entropy"

    def config(self) -> dict[str, Any]:
        """JSON-ready arguments that rebuild this architecture with ``Network(**config)``."""
        return {
            "sizes": list(self.sizes),
            "activation": list(self.activations),
            "loss": self.loss,
            "init": self.init,
            "init_std": self.init_std,
            "seed": self.seed,
            "dtype": self.dtype.name,
            "batch_norm": list(self.batch_norms),
            "dropout": [float(d) for d in self.dropouts],
            "embedding": None if self.embedding is None else [self.embedding.vocab_size, self.embedding.dim],
        }

    # ---------------------------------------------------------------- weights
    def parameter_owners(self):
        """(key, owner) pairs: ("embedding", Embedding) first if any, then (k, Dense)."""
        if self.embedding is not None:
            yield "embedding", self.embedding
        for layer in self.layers:
            yield layer.index, layer

    def weight_references(self) -> list[tuple[object, str, np.ndarray]]:
        """(owner, name, array) for every parameter and running statistic, without copies.

        Updates assign new arrays rather than write into these, so the list keeps
        today's values; ``restore_references`` puts them back.
        """
        return [
            (owner, name, getattr(owner, name))
            for _, owner in self.parameter_owners()
            for name in owner.param_names + owner.state_names
        ]

    @staticmethod
    def restore_references(refs: list[tuple[object, str, np.ndarray]]) -> None:
        for owner, name, value in refs:
            setattr(owner, name, value)

    def weights_finite(self) -> bool:
        """True if every parameter and running statistic is finite."""
        return all(np.isfinite(value).all() for _, _, value in self.weight_references())

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and running statistic under flat names ("layer1.W", ...)."""
        out = {}
        if self.embedding is not None:
            out["embedding.table"] = self.embedding.table.copy()
        for layer in self.layers:
            for name, value in {**layer.params, **layer.state}.items():
                out[f"layer{layer.index + 1}.{name}"] = value.copy()
        return out

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load arrays named as by ``get_weights``; shapes must match exactly."""
        expected = self.get_weights()
        missing = sorted(set(expected) - set(weights))
        unknown = sorted(set(weights) - set(expected))
        if missing or unknown:
            raise ValueError(f"weights do not fit this network: missing {missing}, unknown {unknown}")
        for name, value in weights.items():
            value = np.asarray(value)
            if value.shape != expected[name].shape:
                raise ValueError(
                    f"weight {name!r} has shape {value.shape}, this network needs {expected[name].shape}"
                )
            owner_name, attr = name.split(".", 1)
            owner = self.embedding if owner_name == "embedding" else self.layers[int(owner_name[5:]) - 1]
            setattr(owner, attr, value.astype(self.dtype, copy=True))

    def copy(self) -> Network:
        return self.astype(self.dtype.name)

    def astype(self, dtype: str) -> Network:
        """A new network with the same architecture and weights in another dtype."""
        twin = Network(**{**self.config(), "dtype": str(dtype)})
        twin.set_weights(self.get_weights())
        twin.dropout_rng = np.random.default_rng([self.seed, 1])
        return twin

    @property
    def n_parameters(self) -> int:
        return sum(v.size for _, owner in self.parameter_owners() for v in owner.params.values())

    # ------------------------------------------------------------ validation
    def check_inputs(self, x) -> np.ndarray:
        """Return x as the array the network reads, or raise ValueError saying what is wrong."""
        x = np.asarray(x)
        if self.embedding is not None:
            if x.ndim != 2 or x.shape[1] != self.n_inputs:
                raise ValueError(f"expected token ids of shape (N, {self.n_inputs}), got {x.shape}")
            if not np.issubdtype(x.dtype, np.integer) and (
                not np.all(np.isfinite(x)) or not np.all(x == np.round(x))
            ):
                raise ValueError("token ids must be integers")
            x = x.astype(np.int64, copy=False)
            if x.size and (x.min() < 0 or x.max() >= self.embedding.vocab_size):
                raise ValueError(
                    f"token ids must be in [0, {self.embedding.vocab_size - 1}], "
                    f"got values from {x.min()} to {x.max()}"
                )
        else:
            if x.ndim != 2 or x.shape[1] != self.n_inputs:
                raise ValueError(f"expected inputs of shape (N, {self.n_inputs}), got {x.shape}")
            if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
                raise ValueError(f"inputs must be real numbers, got dtype {x.dtype}")
            original = x
            # Σx² is finite exactly when every entry is (non-negative terms cannot cancel an
            # inf, and NaN propagates), unless it overflows: then the exact test decides.
            # One BLAS dot reads x once, several times faster than isfinite or a float64 sum.
            # Overflow, in the cast or in Σx², is reported below or harmless: no warning.
            with np.errstate(over="ignore"):
                x = x.astype(self.dtype, copy=False)
                flat = x.ravel()
                squares_finite = np.isfinite(np.dot(flat, flat))
            if not squares_finite and not np.all(np.isfinite(x)):
                bad = int(np.size(original) - np.count_nonzero(np.isfinite(original)))
                if bad:
                    raise ValueError(f"inputs contain {bad} non-finite values (NaN or inf); clean the data")
                big = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
                raise ValueError(
                    f"inputs contain {big} values too large for {self.dtype.name}; "
                    f"rescale the data or use float64"
                )
        if x.shape[0] < 1:
            raise ValueError("the batch is empty: give at least one sample")
        return x

    def check_targets(self, y, n: int) -> np.ndarray:
        """Return targets in the loss's form: int labels (N,) or (N, C) rows; (N, D) for mse."""
        y = np.asarray(y)
        if y.shape[:1] != (n,):
            raise ValueError(f"got {y.shape[0] if y.ndim else 0} targets for {n} inputs")
        if self.is_classifier:
            c = self.n_outputs
            if y.ndim == 1:
                if not (
                    np.issubdtype(y.dtype, np.integer)
                    or (np.all(np.isfinite(y)) and np.all(y == np.round(y)))
                ):
                    raise ValueError("class labels must be integers (or pass one-hot rows)")
                y = y.astype(np.int64, copy=False)
                if y.min() < 0 or y.max() >= c:
                    raise ValueError(f"class labels must be in [0, {c - 1}], got {y.min()}..{y.max()}")
                return y
            if y.ndim != 2 or y.shape[1] != c:
                raise ValueError(f"one-hot targets must have shape (N, {c}), got {y.shape}")
        else:
            if y.ndim == 1 and self.n_outputs == 1:
                y = y.reshape(-1, 1)
            if y.ndim != 2 or y.shape[1] != self.n_outputs:
                raise ValueError(f"regression targets must have shape (N, {self.n_outputs}), got {y.shape}")
        y = y.astype(self.dtype, copy=False)
        if not np.all(np.isfinite(y)):
            raise ValueError("targets contain non-finite values (NaN or inf); clean the data")
        return y

    # ---------------------------------------------------------------- passes
    def forward(
        self,
        x,
        *,
        train: bool = False,
        dropout_masks: Sequence | None = None,
        check: bool = True,
        probabilities: bool = True,
    ) -> Trace:
        """Forward pass only. train=True uses batch statistics and dropout.

        probabilities: fill ``trace.probs`` for classifiers (the loss does it itself).
        """
        if check:
            x = self.check_inputs(x)
        emb = None
        a = x
        if self.embedding is not None:
            emb = self.embedding.forward(x)
            a = emb.a
        records = []
        for layer in self.layers:
            mask = dropout_masks[layer.index] if dropout_masks is not None else None
            rec = layer.forward(a, train=train, rng=self.dropout_rng, dropout_mask=mask)
            records.append(rec)
            a = rec.a
        trace = Trace(x, None, train, records, a, emb)
        if probabilities and self.is_classifier:
            trace.probs = softmax(a)
        return trace

    def gradients(
        self,
        x,
        y,
        *,
        train: bool = True,
        dropout_masks: Sequence | None = None,
        input_gradient: bool = False,
        check: bool = True,
    ) -> Trace:
        """Forward and backward on (x, y) without updating anything.

        x: (N, n_inputs) floats, or (N, context) token ids with an embedding.
        y: (N,) class labels or (N, C) one-hot for cross-entropy; (N, D) for mse.
        train: batch-norm batch statistics and dropout on (the training step's view).
        input_gradient: also fill ``trace.dx`` = dL/dx (float inputs only).
        """
        if check:
            x = self.check_inputs(x)
            y = self.check_targets(y, x.shape[0])
        trace = self.forward(x, train=train, dropout_masks=dropout_masks, check=False, probabilities=False)
        trace.y = y
        loss, d_out, probs = self.loss_fn.function(trace.output, y)
        trace.loss, trace.d_output = loss, d_out
        if probs is not None:
            trace.probs = probs
        need_first = input_gradient or self.embedding is not None
        da = d_out
        for layer, rec in zip(reversed(self.layers), reversed(trace.layers)):
            da = layer.backward(rec, da, need_input_grad=layer.index > 0 or need_first)
        if self.embedding is not None:
            self.embedding.backward(trace.embedding, da)
        elif input_gradient:
            trace.dx = da
        return trace

    def commit_batch_statistics(self, trace: Trace) -> None:
        """After a training step: fold its batch statistics into the running ones."""
        for layer, rec in zip(self.layers, trace.layers):
            if layer.batch_norm:
                layer.commit_batch_statistics(rec)

    def output(self, x, batch_size: int = 2048) -> np.ndarray:
        """The last layer's values in eval mode (logits for cross-entropy), (N, n_outputs)."""
        x = self.check_inputs(x)
        parts = [
            self.forward(x[i : i + batch_size], check=False, probabilities=False).output
            for i in range(0, x.shape[0], batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def predict_proba(self, x, batch_size: int = 2048) -> np.ndarray:
        """Class probabilities (N, classes); cross-entropy networks only."""
        if not self.is_classifier:
            raise ValueError("predict_proba needs a cross_entropy network; this one uses mse: call predict")
        return softmax(self.output(x, batch_size))

    def predict(self, x, batch_size: int = 2048) -> np.ndarray:
        """Class indices (N,) for cross-entropy, output values (N, D) for mse."""
        out = self.output(x, batch_size)
        return out.argmax(axis=1) if self.is_classifier else out

    def evaluate(self, x, y, batch_size: int = 2048) -> dict[str, float]:
        """Mean loss (and accuracy for classifiers) in eval mode over the whole set."""
        x = self.check_inputs(x)
        y = self.check_targets(y, x.shape[0])
        out = np.concatenate(
            [
                self.forward(x[i : i + batch_size], check=False, probabilities=False).output
                for i in range(0, x.shape[0], batch_size)
            ],
            axis=0,
        )
        loss = self.loss_fn.function(out, y)[0]
        result = {"loss": float(loss)}
        if self.is_classifier:
            labels = y if y.ndim == 1 else y.argmax(axis=1)
            result["accuracy"] = float(np.mean(out.argmax(axis=1) == labels))
        return result

    def fit(
        self,
        x,
        y,
        epochs: int = 10,
        batch_size: int = 64,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        validation=None,
        callback=None,
        **options,
    ):
        """Train for ``epochs`` epochs; returns the History. See ``backprop.training.Trainer``."""
        from .training import Trainer

        trainer = Trainer(
            self, optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size, **options
        )
        return trainer.run(x, y, epochs=epochs, validation=validation, callback=callback)

    def __repr__(self) -> str:
        parts = ([repr(self.embedding)] if self.embedding is not None else []) + [
            repr(l) for l in self.layers
        ]
        return f"Network([{', '.join(parts)}], loss={self.loss!r}, dtype={self.dtype.name})"


__all__ = ["Network", "ACTIVATIONS", "DTYPES"]
