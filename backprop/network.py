"""The network: a list of layers, a loss, and a forward and backward pass that record everything.

net = Network("conv8k3-relu-maxpool2-flatten", input_shape=(28, 28), n_outputs=10, seed=0)
net = Network([784, 256, 64, 10], activation="gelu")        # a multilayer perceptron by sizes
trace = net.gradients(x, y)       # forward + backward, nothing changed
trace.layers[0].grads["W"], trace.blocks[0].dW
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .architecture import BuildContext, build_layers, check_spec, mlp_spec, numbers_per_sample, plan
from .layers import INITS, BatchNorm, Dropout, Embedding, Layer
from .losses import get_loss, softmax
from .options import Option
from .tracing import STAGE_NAMES, LayerRecord, Trace, group_by_transform

DTYPES = ("float32", "float64")
# Evaluation over a whole set goes in passes of at most this many numbers (64 MB in float32), so that
# a wide convolution over thousands of images never holds them all at once.
EVALUATION_NUMBERS = 1 << 24
SEED = Option(
    "seed",
    "int",
    0,
    label="Seed",
    low=0,
    high=2**31 - 1,
    help="Fixes the initial weights, the batch order and dropout.",
)
IMAGE_KINDS = ("conv", "maxpool", "avgpool")
# Rows checked at a time by all_finite: about 256 KB of float32, which stays in the CPU's cache.
FINITE_BLOCK_NUMBERS = 1 << 16


def all_finite(x: np.ndarray) -> bool:
    """np.isfinite(x).all() for rows x (N, features), a block of rows at a time.

    The same answer as the one-line form, which makes a boolean array as large as the data (47 MB
    for Fashion-MNIST's 60,000 training rows) before reducing it; a block's booleans are reduced
    while they are still in the cache, which takes about two thirds of the time.
    """
    rows = max(1, FINITE_BLOCK_NUMBERS // max(1, x.shape[1]))
    return all(bool(np.isfinite(x[i : i + rows]).all()) for i in range(0, x.shape[0], rows))


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


def described_by_sizes(sizes, activation="relu", batch_norm=False, dropout=0.0, embedding=None) -> dict:
    """A multilayer perceptron given by its sizes [n_inputs, hidden..., n_outputs], as the arguments
    ``architecture``, ``input_shape``, ``n_outputs`` and ``vocab_size`` of a Network."""
    sizes = _check_sizes(sizes)
    vocab_size = dim = None
    if embedding is not None:
        try:
            vocab_size, dim = (int(v) for v in embedding)
        except (TypeError, ValueError):
            raise ValueError(f"embedding must be (vocab_size, dim), got {embedding!r}") from None
        if vocab_size < 1 or dim < 1:
            raise ValueError(f"embedding vocab_size and dim must be >= 1, got {embedding!r}")
    return {
        "architecture": mlp_spec(sizes[1:-1], activation, batch_norm, dropout, embedding_dim=dim),
        "input_shape": (sizes[0],),
        "n_outputs": sizes[-1],
        "vocab_size": vocab_size,
    }


def planned_parameters(architecture: str, input_shape, n_outputs: int, vocab_size: int | None = None) -> int:
    """How many numbers the network would learn, worked out from its plan without building anything."""
    spec = check_spec(architecture) if architecture else ""
    steps = plan(spec, first_layer_shape(spec, tuple(input_shape)), int(n_outputs), vocab_size)
    return sum(step.parameters for step in steps)


def first_layer_shape(spec: str, input_shape: tuple) -> tuple:
    """The per-sample shape the first layer of ``spec`` reads, for data samples of ``input_shape``:
    images as (channels, height, width) when it starts with a convolution or pooling, token ids
    as they are for an embedding, else the sample flattened."""
    first = spec.split("-", 1)[0] if spec else ""
    if first.startswith(("conv", "maxpool", "avgpool", "pool")):
        if len(input_shape) == 2:
            return (1, *input_shape)
        if len(input_shape) == 3:
            height, width, channels = input_shape
            return (channels, height, width)
        raise ValueError(
            f"layer 1 {first!r} needs images, but each sample is {int(np.prod(input_shape))} numbers"
        )
    if first.startswith("embed"):
        return tuple(input_shape)
    return (int(np.prod(input_shape)),)


class LayerBlock:
    """The layers of one block: a transform layer (dense, conv, embed, attn) and what follows it."""

    def __init__(self, index: int, layers: list[Layer]):
        self.index, self.layers = index, layers
        self.transform = layers[0]

    @property
    def activation(self) -> str:
        words = [layer.spec() for layer in self.layers if layer.kind == "activation"]
        return words[0] if words else "linear"

    @property
    def stages(self) -> tuple:
        return tuple(STAGE_NAMES.get(layer.kind, layer.kind) for layer in self.layers)

    def __repr__(self) -> str:
        return f"LayerBlock({self.index}, {'-'.join(layer.spec() for layer in self.layers)})"


class Network:
    """A list of layers and a loss; every pass returns a Trace of what it computed.

    architecture: the layers as text ("dense64-relu", see ``backprop.architecture``) or,
      for a multilayer perceptron, sizes [n_inputs, hidden..., n_outputs] with one
      ``activation`` (or one per hidden layer), ``batch_norm``, ``dropout`` and
      ``embedding=(vocab_size, dim)`` given the same way.
    input_shape: one sample's shape as the data gives it: (features,), (height, width),
      (height, width, channels) or (context,) token ids. Rows arrive flat, (N, features);
      a network that starts with a convolution or pooling reads them as images.
    n_outputs: classes (cross-entropy) or targets (mse); the output layer is added for it.
    vocab_size: the number of token ids, when the network starts with an embedding.
    loss: "cross_entropy" (softmax fused; labels or one-hot) or "mse".
    init: "xavier", "he" or "normal" (std ``init_std``); seed fixes the weights and dropout.
    """

    def __init__(
        self,
        architecture: str | Sequence[int],
        *,
        input_shape: Sequence[int] | None = None,
        n_outputs: int | None = None,
        vocab_size: int | None = None,
        loss: str = "cross_entropy",
        init: str = "xavier",
        init_std: float = 0.01,
        seed: int = 0,
        dtype: str = "float32",
        activation: str | Sequence[str] = "relu",
        batch_norm: bool | Sequence[bool] = False,
        dropout: float | Sequence[float] = 0.0,
        embedding: Sequence[int] | None = None,
    ):
        if not isinstance(architecture, str):
            described = described_by_sizes(architecture, activation, batch_norm, dropout, embedding)
            architecture, input_shape = described["architecture"], described["input_shape"]
            n_outputs, vocab_size = described["n_outputs"], described["vocab_size"]
        if input_shape is None or n_outputs is None:
            raise ValueError("give the input_shape of one sample and n_outputs with an architecture text")
        self.loss_fn = get_loss(loss)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        if not (isinstance(init_std, numbers.Real) and init_std > 0 and np.isfinite(init_std)):
            raise ValueError(f"init_std must be a positive number, got {init_std!r}")
        if str(dtype) not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.n_outputs = int(n_outputs)
        self.vocab_size = None if vocab_size is None else int(vocab_size)
        self.init, self.init_std, self.seed = init, float(init_std), SEED.check(seed)
        self.dtype = np.dtype(str(dtype))
        # Dropout draws from its own stream so that it never shifts the weight init.
        self.dropout_rng = np.random.default_rng([self.seed, 1])
        context = BuildContext(
            rng=np.random.default_rng(self.seed),
            dropout_rng=self.dropout_rng,
            dtype=self.dtype,
            init=init,
            init_std=self.init_std,
            vocab_size=self.vocab_size,
        )
        spec = check_spec(architecture) if architecture else ""
        self.plan = plan(spec, first_layer_shape(spec, self.input_shape), self.n_outputs, self.vocab_size)
        self.layers: list[Layer] = build_layers(self.plan, context)
        self.shapes = [step.input_shape for step in self.plan] + [self.plan[-1].output_shape]
        self.spec = "-".join(step.word for step in self.plan)
        self._words = [step.word for step in self.plan]

    # ----------------------------------------------------------------- config
    @property
    def loss(self) -> str:
        return self.loss_fn.name

    @property
    def n_inputs(self) -> int:
        """Numbers per sample as the data gives them (token ids for an embedding)."""
        return int(np.prod(self.input_shape))

    @property
    def is_classifier(self) -> bool:
        return self.loss_fn.name == "cross_entropy"

    @property
    def embedding(self) -> Embedding | None:
        """The embedding layer, when the network reads token ids."""
        first = self.layers[0]
        return first if isinstance(first, Embedding) else None

    def config(self) -> dict[str, Any]:
        """JSON-ready arguments that rebuild this network with ``Network(**config)``."""
        return {
            "architecture": self.spec,
            "input_shape": list(self.input_shape),
            "n_outputs": self.n_outputs,
            "vocab_size": self.vocab_size,
            "loss": self.loss,
            "init": self.init,
            "init_std": self.init_std,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    # ---------------------------------------------------------------- weights
    def blocks(self) -> list[LayerBlock]:
        """The layers grouped as a trace groups its records: a transform layer and what follows it."""
        return [LayerBlock(k, group) for k, group in enumerate(group_by_transform(self.layers))]

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and running statistic under flat names ("dense1.W", "bn1.running_mean")."""
        return {
            f"{layer.name}.{name}": value.copy()
            for layer in self.layers
            for name, value in {**layer.params, **layer.state}.items()
        }

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load arrays named as by ``get_weights`` (or by older files, see legacy_names); shapes must match."""
        weights = dict(weights)
        legacy = self.legacy_names()
        if weights and all(name in legacy for name in weights):
            weights = {legacy[name]: value for name, value in weights.items()}
        expected = self.get_weights()
        missing, unknown = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        if missing or unknown:
            raise ValueError(f"weights do not fit this network: missing {missing}, unknown {unknown}")
        by_name = {layer.name: layer for layer in self.layers}
        for name, value in weights.items():
            value = np.asarray(value)
            if value.shape != expected[name].shape:
                raise ValueError(
                    f"weight {name!r} has shape {value.shape}, this network needs {expected[name].shape}"
                )
            owner, attr = name.split(".", 1)
            layer = by_name[owner]
            (layer.params if attr in layer.params else layer.state)[attr] = value.astype(
                self.dtype, copy=True
            )

    def legacy_names(self) -> dict[str, str]:
        """Names older files gave this network's arrays: the k-th dense layer was "layer<k>", the batch
        norm after it stored its arrays under "layer<k>" too, and the embedding was "embedding"."""
        names, dense = {}, 0
        for layer in self.layers:
            if layer.kind == "dense":
                dense += 1
                owner = f"layer{dense}"
            elif layer.kind == "bn":
                owner = f"layer{dense}"  # it belonged to the dense block before it
            elif layer.kind == "embed":
                owner = "embedding"
            else:
                continue
            for name in {**layer.params, **layer.state}:
                names[f"{owner}.{name}"] = f"{layer.name}.{name}"
        return names

    def weight_references(self) -> list[tuple[Layer, dict, dict]]:
        """(layer, params, state) for every layer, as dict copies holding today's arrays (no array copies).

        Updates assign new arrays, so these keep today's values; ``restore_references`` puts them back.
        """
        return [(layer, dict(layer.params), dict(layer.state)) for layer in self.layers]

    @staticmethod
    def restore_references(refs) -> None:
        for layer, params, state in refs:
            layer.params, layer.state = dict(params), dict(state)

    def weights_finite(self) -> bool:
        """True if every parameter and running statistic is finite."""
        return all(
            np.isfinite(value).all()
            for layer in self.layers
            for value in (*layer.params.values(), *layer.state.values())
        )

    def copy(self) -> Network:
        return self.astype(self.dtype.name)

    def astype(self, dtype: str) -> Network:
        """A new network with the same architecture and weights in another dtype."""
        twin = Network(**{**self.config(), "dtype": str(dtype)})
        twin.set_weights(self.get_weights())
        return twin

    @property
    def n_parameters(self) -> int:
        return sum(v.size for layer in self.layers for v in layer.params.values())

    # ------------------------------------------------------------ validation
    def check_inputs(self, x) -> np.ndarray:
        """x as the first layer reads it, or ValueError saying what is wrong.

        Rows come flat, (N, features), or already in the first layer's shape; images are
        reshaped to (N, channels, height, width), reading colour pixels channels-last.
        Token ids must be integers below vocab_size.
        """
        x = np.asarray(x)
        if x.ndim == 1 + len(self.shapes[0]) and x.shape[1:] == self.shapes[0] and x.ndim > 2:
            x = self.as_rows(x)  # already shaped for the first layer: checked as rows, shaped back below
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            what = "token ids" if self.embedding is not None else "inputs"
            raise ValueError(f"expected {what} of shape (N, {self.n_inputs}), got {x.shape}")
        if x.shape[0] < 1:
            raise ValueError("the batch is empty: give at least one sample")
        if self.embedding is not None:
            if not np.issubdtype(x.dtype, np.integer) and (
                not np.all(np.isfinite(x)) or not np.all(x == np.round(x))
            ):
                raise ValueError("token ids must be integers")
            x = x.astype(np.int64, copy=False)
            if x.min() < 0 or x.max() >= self.vocab_size:
                raise ValueError(
                    f"token ids must be in [0, {self.vocab_size - 1}], got values from {x.min()} to {x.max()}"
                )
            return x
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise ValueError(f"inputs must be real numbers, got dtype {x.dtype}")
        with np.errstate(over="ignore"):
            converted = x.astype(self.dtype, copy=False)
        if not all_finite(converted):  # one pass over the data when it is clean
            bad = int(x.size - np.count_nonzero(np.isfinite(x)))
            if bad:
                raise ValueError(f"inputs contain {bad} non-finite values (NaN or inf); clean the data")
            raise ValueError(
                f"inputs contain values too large for {self.dtype.name}; rescale the data or use float64"
            )
        x = converted
        first = self.shapes[0]
        if len(first) == 3:
            if len(self.input_shape) == 3:  # colour rows are height × width × channels
                height, width, channels = self.input_shape
                return x.reshape(-1, height, width, channels).transpose(0, 3, 1, 2)
            return x.reshape(-1, *first)
        return x

    def as_rows(self, x: np.ndarray) -> np.ndarray:
        """The inverse of check_inputs' reshaping: arrays in the first layer's shape back to flat rows."""
        if x.ndim == 4 and len(self.input_shape) == 3:
            return x.transpose(0, 2, 3, 1).reshape(x.shape[0], -1)
        return x.reshape(x.shape[0], -1)

    def check_targets(self, y, n: int) -> np.ndarray:
        """Targets in the loss's form: int labels (N,) or (N, C) rows; (N, D) for mse."""
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
        dropout_masks: dict | None = None,
        check: bool = True,
        probabilities: bool = True,
    ) -> Trace:
        """Forward pass only; train=True uses batch statistics and dropout.

        dropout_masks: {dropout layer name: mask} to replay (gradient checks).
        probabilities: fill ``trace.probs`` for classifiers.
        """
        a = self.check_inputs(x) if check else x
        if dropout_masks is not None:
            names = {layer.name for layer in self.layers if isinstance(layer, Dropout)}
            unknown = sorted(set(dropout_masks) - names)
            if unknown:
                raise ValueError(
                    f"no dropout layer is called {', '.join(unknown)}; this network's: "
                    f"{', '.join(sorted(names)) or 'none'}"
                )
        records = []
        for layer, word in zip(self.layers, self._words):
            if dropout_masks is not None and isinstance(layer, Dropout):
                layer.fixed_mask = dropout_masks.get(layer.name)
            x_in = a
            a = layer.forward(x_in, train)
            records.append(
                LayerRecord(layer.name, layer.kind, word, x_in, a, dict(layer.params), layer.saved())
            )
            if isinstance(layer, Dropout):
                layer.fixed_mask = None
        trace = Trace(records[0].x, train, records, a)
        if probabilities and self.is_classifier:
            trace.probs = softmax(a)
        return trace

    def gradients(
        self,
        x,
        y,
        *,
        train: bool = True,
        dropout_masks: dict | None = None,
        input_gradient: bool = False,
        check: bool = True,
    ) -> Trace:
        """Forward and backward on (x, y) without changing any weight.

        x: (N, features) rows (or token ids); y: (N,) labels or (N, C) rows for
        cross-entropy, (N, D) for mse. train: batch statistics and dropout on.
        input_gradient: also fill ``trace.dx`` = dL/dx in the shape the first layer reads.
        """
        if check:
            x = self.check_inputs(x)
            y = self.check_targets(y, x.shape[0])
        trace = self.forward(x, train=train, dropout_masks=dropout_masks, check=False, probabilities=False)
        trace.y = y
        trace.loss, trace.d_output, trace.probs = self.loss_fn.function(trace.output, y)
        dout = trace.d_output
        for k in reversed(range(len(self.layers))):
            layer, rec = self.layers[k], trace.layers[k]
            rec.dout = dout
            # the first layer's input is data: its gradient is only formed when asked for
            dout = layer.backward(dout, input_grad=k > 0 or input_gradient)
            rec.dx, rec.grads = dout, layer.grads
            rec.saved_backward = layer.saved_backward()
        trace.dx = trace.layers[0].dx if input_gradient else None
        return trace

    def commit_batch_statistics(self, trace: Trace) -> None:
        """After a training step: move batch norm's running statistics toward that step's batch's."""
        for layer, rec in zip(self.layers, trace.layers):
            if isinstance(layer, BatchNorm) and trace.train:
                layer.update_running_statistics(rec.saved["mean"], rec.saved["var"])

    def evaluation_rows(self) -> int:
        """How many samples one evaluation pass takes: at most 2048, and few enough that the pass's
        values (numbers_per_sample of them each) stay within EVALUATION_NUMBERS."""
        return int(np.clip(EVALUATION_NUMBERS // numbers_per_sample(self.plan), 1, 2048))

    def output(self, x, batch_size: int | None = None) -> np.ndarray:
        """The last layer's values in eval mode (logits for cross-entropy), (N, n_outputs), computed
        ``batch_size`` samples at a time (by default ``evaluation_rows()``)."""
        x = self.check_inputs(x)
        batch_size = batch_size or self.evaluation_rows()
        parts = [
            self.forward(x[i : i + batch_size], check=False, probabilities=False).output
            for i in range(0, x.shape[0], batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def predict_proba(self, x, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities (N, classes); cross-entropy networks only."""
        if not self.is_classifier:
            raise ValueError("predict_proba needs a cross_entropy network; this one uses mse: call predict")
        return softmax(self.output(x, batch_size))

    def predict(self, x, batch_size: int | None = None) -> np.ndarray:
        """Class indices (N,) for cross-entropy, output values (N, D) for mse."""
        out = self.output(x, batch_size)
        return out.argmax(axis=1) if self.is_classifier else out

    def evaluate(self, x, y, batch_size: int | None = None) -> dict[str, float]:
        """Mean loss (and accuracy for classifiers) in eval mode over the whole set."""
        out = self.output(x, batch_size)
        y = self.check_targets(y, out.shape[0])
        result = {"loss": float(self.loss_fn.function(out, y)[0])}
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

    def describe(self) -> str:
        """One line: the layers and the number of parameters, e.g. ``dense64-relu-dense10 · 50,890 parameters``."""
        return f"{self.spec} · {self.n_parameters:,} parameters"

    def __repr__(self) -> str:
        return (
            f"Network({self.spec!r}, input {self.input_shape}, loss={self.loss!r}, dtype={self.dtype.name})"
        )


__all__ = ["DTYPES", "Network"]
