"""One way to describe a network: a list of layer words joined by "-".

    conv8k3-relu-maxpool2-conv16k3-relu-maxpool2-flatten-dense10
    dense64-bn-relu-dropout0.2-dense32-gelu

The sidebar, the command line (``--layers``), run folders, model files and
links all carry this text. Words, each declared once below with its options:

    dense<units>                     fully connected layer
    conv<channels>k<kernel>[s<stride>][p<padding>]   2-D convolution
    maxpool<size>, avgpool<size>     pooling over size×size windows (pool<size> = maxpool)
    flatten                          feature maps to one row per sample
    bn                               batch normalisation
    dropout<rate>                    inverted dropout
    embed<dim>                       token ids to learned vectors
    relu, gelu, tanh, …              an activation (see ACTIVATIONS)

The output layer is added for the data: a dense layer with one unit per class
(or target) follows the description unless it already ends with one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATION_CLASSES, ACTIVATIONS
from .attention import (
    LastPosition,
    LayerNorm,
    PositionEmbedding,
    ResidualAdd,
    ResidualStart,
    SelfAttention,
    Skip,
)
from .layers import AvgPool2D, BatchNorm, Conv2D, Dense, Dropout, Embedding, Flatten, Layer, MaxPool2D
from .options import Option

MAX_WORDS = 40


@dataclass(frozen=True)
class LayerKind:
    """A kind of layer as it is written: its word, the options in the word, its shape rule and how to build it.

    pattern: regular expression of the word with one named group per option.
    example: a valid word, shown in error messages.
    output(values, shape) -> the per-sample output shape (ValueError saying why the input does not fit);
    parameters(values, shape) -> how many numbers it learns; build(values, shape, context) -> Layer;
    held(values, shape) -> the numbers one sample keeps inside the layer besides its output while a
    batch passes (a convolution's im2col columns, attention's scores); None when there are none.
    """

    keyword: str
    label: str
    pattern: str
    options: tuple
    example: str
    help: str
    output: Callable[[dict, tuple], tuple]
    parameters: Callable[[dict, tuple], int]
    build: Callable[..., Layer]
    forward: str = ""
    backward: str = ""
    held: Callable[[dict, tuple], int] | None = None

    def parse(self, word: str) -> dict | None:
        """The option values in ``word`` (validated), or None if the word is not of this kind."""
        match = re.fullmatch(self.pattern, word)
        if match is None:
            return None
        values = {}
        for option in self.options:
            text = match.group(option.name)
            if text is None:
                values[option.name] = option.default
                continue
            try:
                values[option.name] = option.parse_text(text)
            except ValueError as err:
                raise ValueError(f"{word!r}: {err}") from None
        return values


@dataclass
class BuildContext:
    """What building a layer needs besides its options: random numbers, dtype, init, vocabulary."""

    rng: np.random.Generator
    dropout_rng: np.random.Generator
    dtype: np.dtype
    init: str = "xavier"
    init_std: float = 0.01
    vocab_size: int | None = None


def _units(name, label, high):
    return Option(name, "int", 1, label=label, low=1, high=high)


UNITS = _units("units", "units", 4096)
CHANNELS = _units("channels", "output channels", 512)
KERNEL = _units("kernel", "kernel size", 15)
STRIDE = Option("stride", "int", 1, label="stride", low=1, high=8)
PADDING = Option("padding", "int", 0, label="padding", low=0, high=7)
POOL = _units("size", "window size", 8)
RATE = Option("rate", "float", 0.5, label="dropout rate", low=0.0, high=1.0, high_open=True)
DIM = _units("dim", "embedding width", 1024)
HEADS = _units("heads", "attention heads", 16)


# ------------------------------------------------------------- shape rules
def _flat(values, shape):
    if len(shape) == 2:  # a sequence of vectors: the same weights at every position
        return (shape[0], values["units"])
    if len(shape) != 1:
        raise ValueError(
            f"needs one row of features per sample but gets {_describe(shape)}: put flatten before it"
        )
    return (values["units"],)


def _sequence(shape, what):
    if len(shape) != 2:
        raise ValueError(f"{what} but gets {_describe(shape)}")
    return shape


def _attention_output(values, shape):
    t, d = _sequence(shape, "needs a sequence of vectors (put embed<dim> first)")
    if d % values["heads"]:
        raise ValueError(
            f"splits each vector into {values['heads']} heads, but {d} numbers do not split evenly"
        )
    return shape


def _norm_output(values, shape):
    return shape if len(shape) == 1 else _sequence(shape, "normalises one vector per sample or per position")


def _images(shape, what):
    if len(shape) != 3:
        raise ValueError(f"needs {what} (channels × height × width) but gets {_describe(shape)}")
    return shape


def conv_output(values, shape):
    c, h, w = _images(shape, "images or feature maps")
    k, s, p = values["kernel"], values["stride"], values["padding"]
    if h + 2 * p < k or w + 2 * p < k:
        raise ValueError(
            f"has a {k}×{k} kernel, larger than its {h}×{w} input" + (f" padded by {p}" if p else "")
        )
    return (values["channels"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)


def pool_output(values, shape):
    c, h, w = _images(shape, "feature maps")
    size = values["size"]
    if h < size or w < size:
        raise ValueError(f"has a {size}×{size} window, larger than its {h}×{w} input")
    return (c, h // size, w // size)


def _normalised(values, shape):
    if len(shape) not in (1, 3):
        raise ValueError(f"normalises features or channels but gets {_describe(shape)}")
    return shape


def _embedded(values, shape):
    if len(shape) != 1:
        raise ValueError(f"needs token ids (one row of ids per sample) but gets {_describe(shape)}")
    return (shape[0], values["dim"])


def _same(values, shape):
    return shape


def _none(values, shape):
    return 0


# ----------------------------------------------------------------- builders
def _dense(values, shape, ctx):
    return Dense(
        shape[-1], values["units"], rng=ctx.rng, init=ctx.init, init_std=ctx.init_std, dtype=ctx.dtype
    )


def _conv(values, shape, ctx):
    return Conv2D(
        shape[0],
        values["channels"],
        values["kernel"],
        stride=values["stride"],
        padding=values["padding"],
        rng=ctx.rng,
        init=ctx.init,
        init_std=ctx.init_std,
        dtype=ctx.dtype,
    )


def _embed(values, shape, ctx):
    return Embedding(ctx.vocab_size, values["dim"], rng=ctx.rng, dtype=ctx.dtype)


LAYER_KINDS: dict[str, LayerKind] = {
    kind.keyword: kind
    for kind in (
        LayerKind(
            "dense",
            "Dense",
            r"dense(?P<units>\d+)",
            (UNITS,),
            "dense64",
            "A fully connected layer with the given number of units.",
            _flat,
            lambda values, shape: (shape[-1] + 1) * values["units"],
            _dense,
            "z = a_in·W + b",
            "dW = a_inᵀ·dz,  db = Σₙ dz,  da_in = dz·Wᵀ",
        ),
        LayerKind(
            "conv",
            "Conv2D",
            r"conv(?P<channels>\d+)k(?P<kernel>\d+)(?:s(?P<stride>\d+))?(?:p(?P<padding>\d+))?",
            (CHANNELS, KERNEL, STRIDE, PADDING),
            "conv8k3",
            "A 2-D convolution: output channels, k×k kernel, optional stride s and zero padding p.",
            conv_output,
            lambda values, shape: (shape[0] * values["kernel"] ** 2 + 1) * values["channels"],
            _conv,
            "cols[n] = im2col(a_in[n]);  Y[n] = K·cols[n] + b",
            "dK = Σₙ dY[n]·cols[n]ᵀ,  db = Σ dY,  da_in = col2im(Kᵀ·dY[n])",
            held=lambda values, shape: (
                shape[0] * values["kernel"] ** 2 * math.prod(conv_output(values, shape)[1:])
            ),
        ),
        LayerKind(
            "maxpool",
            "MaxPool2D",
            r"(?:max)?pool(?P<size>\d+)",
            (POOL,),
            "maxpool2",
            "The maximum of each size×size window (stride = size).",
            pool_output,
            _none,
            lambda values, shape, ctx: MaxPool2D(values["size"]),
            "y = max over each window",
            "the gradient goes to each window's maximum",
        ),
        LayerKind(
            "avgpool",
            "AvgPool2D",
            r"avgpool(?P<size>\d+)",
            (POOL,),
            "avgpool2",
            "The mean of each size×size window (stride = size).",
            pool_output,
            _none,
            lambda values, shape, ctx: AvgPool2D(values["size"]),
            "y = mean of each window",
            "each input gets 1/size² of its window's gradient",
        ),
        LayerKind(
            "flatten",
            "Flatten",
            r"flatten",
            (),
            "flatten",
            "Feature maps to one row per sample.",
            lambda values, shape: (int(np.prod(shape)),),
            _none,
            lambda values, shape, ctx: Flatten(),
            "a = reshape(a_in, (N, C·H·W))",
            "da_in = reshape(da)",
        ),
        LayerKind(
            "bn",
            "BatchNorm",
            r"(?:bn|batchnorm)",
            (),
            "bn",
            "Normalises each feature (or channel) over the batch, then scales by γ and shifts by β.",
            _normalised,
            lambda values, shape: 2 * shape[0],
            lambda values, shape, ctx: BatchNorm(shape[0], dtype=ctx.dtype),
            "x̂ = (x − μ_batch)/√(σ²_batch + ε),  y = γ·x̂ + β",
            "dγ = Σ dy·x̂,  dβ = Σ dy,  dx through μ and σ of the batch",
        ),
        LayerKind(
            "dropout",
            "Dropout",
            r"(?:dropout|drop)(?P<rate>\d*\.?\d+)",
            (RATE,),
            "dropout0.2",
            "Zeroes each unit with probability rate while training; kept units are scaled by 1/(1 − rate).",
            _same,
            _none,
            lambda values, shape, ctx: Dropout(values["rate"], ctx.dropout_rng),
            "a = a_in ⊙ mask",
            "da_in = da ⊙ mask",
        ),
        LayerKind(
            "pos",
            "PositionEmbedding",
            r"pos",
            (),
            "pos",
            "Adds a learned vector per position, so attention can tell positions apart.",
            lambda values, shape: _sequence(shape, "adds a vector per position of a sequence"),
            lambda values, shape: shape[0] * shape[1],
            lambda values, shape, ctx: PositionEmbedding(shape[0], shape[1], rng=ctx.rng, dtype=ctx.dtype),
            "out[n, t] = x[n, t] + P[t]",
            "dP[t] = Σₙ dout[n, t],  dx = dout",
        ),
        LayerKind(
            "ln",
            "LayerNorm",
            r"(?:ln|layernorm)",
            (),
            "ln",
            "Normalises each vector over its own numbers, then scales by γ and shifts by β.",
            _norm_output,
            lambda values, shape: 2 * shape[-1],
            lambda values, shape, ctx: LayerNorm(shape[-1], dtype=ctx.dtype),
            "x̂ = (x − μ)/√(σ² + ε) over the vector,  y = γ·x̂ + β",
            "dγ = Σ dy·x̂,  dβ = Σ dy,  dx through the vector's μ and σ",
        ),
        LayerKind(
            "attn",
            "SelfAttention",
            r"attn(?P<heads>\d+)",
            (HEADS,),
            "attn2",
            "Causal self-attention with the given number of heads: each position mixes the ones up to it.",
            _attention_output,
            lambda values, shape: 4 * (shape[1] + 1) * shape[1],
            lambda values, shape, ctx: SelfAttention(
                shape[1], values["heads"], rng=ctx.rng, init=ctx.init, init_std=ctx.init_std, dtype=ctx.dtype
            ),
            "A = softmax(Q·Kᵀ/√d + causal mask);  out = (A·V)·Wo + bo",
            "dS = A ⊙ (dA − Σ_k A·dA);  dQ = dS·K/√d,  dK = dSᵀ·Q/√d,  dV = Aᵀ·dZ",
            # Q, K, V and the mixed values (T × D each), and the scores and weights (heads × T × T each)
            held=lambda values, shape: 4 * shape[0] * shape[1] + 2 * values["heads"] * shape[0] ** 2,
        ),
        LayerKind(
            "res",
            "ResidualStart",
            r"res",
            (),
            "res",
            "Starts a residual connection: the input is kept and added back at the matching add.",
            _same,
            _none,
            None,
            "keep x",
            "dx = d(branch) + d(skip)",
        ),
        LayerKind(
            "add",
            "ResidualAdd",
            r"add",
            (),
            "add",
            "Ends a residual connection: out = f(x) + x, with x kept at the matching res.",
            _same,
            _none,
            None,
            "out = f(x) + x",
            "the gradient goes into f and straight to x",
        ),
        LayerKind(
            "last",
            "LastPosition",
            r"last",
            (),
            "last",
            "The vector at the last position of each sequence, where the next token is read.",
            lambda values, shape: (_sequence(shape, "takes the last vector of a sequence")[1],),
            _none,
            lambda values, shape, ctx: LastPosition(),
            "a = x[:, −1]",
            "dx[:, −1] = da, 0 elsewhere",
        ),
        LayerKind(
            "embed",
            "Embedding",
            r"embed(?P<dim>\d+)",
            (DIM,),
            "embed8",
            "Token ids to rows of a learned table (the first layer for embedding-encoded sequences).",
            _embedded,
            lambda values, shape: 0,
            _embed,
            "a[n, t] = table[ids[n, t]]",
            "dtable[v] = Σ of da at every position holding token v",
        ),
    )
}


# Architectures to start from, by what the data gives the first layer.
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "features": (
        ("two hidden layers of 8, GELU", "dense8-gelu-dense8-gelu"),
        ("three hidden layers of 16, ReLU", "dense16-relu-dense16-relu-dense16-relu"),
        ("one hidden layer of 4, tanh", "dense4-tanh"),
        ("with batch norm and dropout", "dense32-bn-relu-dropout0.1-dense32-bn-relu"),
        ("no hidden layer (a linear model)", ""),
    ),
    "images": (
        ("one hidden layer of 64", "dense64-relu"),
        ("two hidden layers, 256 and 64", "dense256-relu-dense64-relu"),
        ("small CNN", "conv8k3-relu-maxpool2-conv16k3-relu-maxpool2-flatten"),
        (
            "CNN with batch norm and dropout",
            "conv16k3p1-bn-relu-maxpool2-conv32k3p1-bn-relu-maxpool2-flatten-dropout0.25-dense128-relu",
        ),
    ),
    "tokens": (
        ("one hidden layer of 32", "dense32-relu"),
        ("embedding, then 32 units", "embed8-flatten-dense32-relu"),
    ),
}


def _describe(shape: tuple) -> str:
    if len(shape) == 3:
        return f"feature maps {shape[0]}×{shape[1]}×{shape[2]}"
    if len(shape) == 2:
        return f"a sequence of {shape[0]} vectors of {shape[1]}"
    return f"{shape[0]} features"


def split_words(text) -> list[str]:
    """The words of a description: lower case, "-" or spaces between them; ValueError if empty or too long."""
    if not isinstance(text, str):
        raise ValueError(f"an architecture is text such as 'dense64-relu', got {text!r}")
    words = [w for w in re.split(r"[-\s,]+", text.strip().lower()) if w]
    if len(words) > MAX_WORDS:
        raise ValueError(f"an architecture has at most {MAX_WORDS} layers, got {len(words)}")
    return words


def parse_word(word: str, position: int) -> tuple[str, dict]:
    """(kind keyword or activation name, option values) for one word; ValueError naming the bad word."""
    if word in ACTIVATIONS:
        return word, {}
    for kind in LAYER_KINDS.values():
        try:
            values = kind.parse(word)
        except ValueError as err:
            raise ValueError(f"layer {position} {err}") from None
        if values is not None:
            return kind.keyword, values
    examples = ", ".join(kind.example for kind in LAYER_KINDS.values())
    raise ValueError(
        f"layer {position} {word!r} is not a layer; write one of {examples} or an activation "
        f"({', '.join(ACTIVATIONS)})"
    )


def check_spec(text) -> str:
    """The description in its canonical form (each word parsed and validated), without building anything."""
    return "-".join(_canonical(*parse_word(word, k + 1)) for k, word in enumerate(split_words(text)))


def _canonical(keyword: str, values: dict) -> str:
    if keyword in ACTIVATIONS:
        return keyword
    if keyword == "conv":
        return (
            f"conv{values['channels']}k{values['kernel']}"
            + (f"s{values['stride']}" if values["stride"] != 1 else "")
            + (f"p{values['padding']}" if values["padding"] else "")
        )
    if keyword == "dropout":
        return f"dropout{values['rate']:g}"
    option = LAYER_KINDS[keyword].options
    return keyword + (str(values[option[0].name]) if option else "")


@dataclass(frozen=True)
class Planned:
    """One layer of a plan: its word, kind and options, the shapes in and out, and its parameter count."""

    word: str
    keyword: str
    values: dict
    input_shape: tuple
    output_shape: tuple
    parameters: int
    numbers: int  # held by one sample while a batch passes: the output and what the layer keeps inside


def numbers_per_sample(planned: list[Planned]) -> int:
    """The numbers one sample's forward pass keeps (its input, every layer's output and inside values):
    a batch's forward values are this times the batch size, and its gradients about as many again."""
    return math.prod(planned[0].input_shape) + sum(step.numbers for step in planned)


def batch_bytes(planned: list[Planned], batch_size: int, itemsize: int = 4) -> int:
    """Bytes one batch keeps while it passes forward and back: every number its samples keep, once as
    a value and once as a gradient, in float32 (``itemsize`` 4)."""
    return 2 * itemsize * batch_size * numbers_per_sample(planned)


def plan(text: str, input_shape: tuple, n_outputs: int, vocab_size: int | None = None) -> list[Planned]:
    """Every layer of ``text`` for samples of ``input_shape``, with the output layer added, and nothing built.

    ValueError names the layer (its position and word) and the shapes when they do not fit.
    """
    words = split_words(text) if text else []
    parsed = [parse_word(word, k + 1) for k, word in enumerate(words)]
    if not parsed or parsed[-1][0] != "dense" or parsed[-1][1]["units"] != n_outputs:
        parsed.append(("dense", {"units": int(n_outputs)}))
        words.append(f"dense{n_outputs}")
    shape = tuple(int(s) for s in input_shape)
    layers = []
    open_residuals: list[tuple[int, tuple]] = []  # (layer number, shape) of each res not yet added back
    for k, ((keyword, values), word) in enumerate(zip(parsed, words)):
        if keyword == "res":
            open_residuals.append((k + 1, shape))
        elif keyword == "add":
            if not open_residuals:
                raise ValueError(f"layer {k + 1} 'add' has no res before it to add back")
            start, kept = open_residuals.pop()
            if kept != shape:
                raise ValueError(
                    f"layer {k + 1} 'add' gets {_describe(shape)}, but layer {start} 'res' kept "
                    f"{_describe(kept)}: a residual branch must keep the shape"
                )
        if keyword in ACTIVATIONS:
            out, count, held = shape, 0, 0
        else:
            if k == 0 and (vocab_size is not None) != (keyword == "embed"):
                raise ValueError(
                    f"layer 1 {word!r}: "
                    + (
                        f"token ids need an embedding first, e.g. embed8-flatten-{word}"
                        if vocab_size is not None
                        else "an embedding needs token ids: use it with sequence data encoded as embedding ids"
                    )
                )
            if k > 0 and keyword == "embed":
                raise ValueError(f"layer {k + 1} {word!r}: an embedding can only be the first layer")
            kind = LAYER_KINDS[keyword]
            try:
                out = kind.output(values, shape)
            except ValueError as err:
                raise ValueError(f"layer {k + 1} {word!r} {err}") from None
            count = kind.parameters(values, shape) if keyword != "embed" else vocab_size * values["dim"]
            held = kind.held(values, shape) if kind.held else 0
        out = tuple(int(s) for s in out)
        layers.append(
            Planned(_canonical(keyword, values), keyword, values, shape, out, count, math.prod(out) + held)
        )
        shape = layers[-1].output_shape
    if open_residuals:
        raise ValueError(f"layer {open_residuals[-1][0]} 'res' is never added back: end its branch with add")
    if len(shape) != 1:
        raise ValueError(
            f"the network ends with {_describe(shape)}, not one vector per sample: "
            f"put last (a sequence's last position) or flatten before the output layer"
        )
    return layers


def build_layers(planned: list[Planned], ctx: BuildContext) -> list[Layer]:
    """The layers of a plan, each named by its kind and count ("dense1", "relu2")."""
    layers, counts, skips = [], {}, []
    for step in planned:
        if step.keyword in ACTIVATIONS:
            layer = ACTIVATION_CLASSES[step.keyword]()
        elif step.keyword == "res":
            skips.append(Skip())
            layer = ResidualStart(skips[-1])
        elif step.keyword == "add":
            layer = ResidualAdd(skips.pop())
        else:
            layer = LAYER_KINDS[step.keyword].build(step.values, step.input_shape, ctx)
        counts[step.keyword] = counts.get(step.keyword, 0) + 1
        layer.name = f"{step.keyword}{counts[step.keyword]}"
        layers.append(layer)
    return layers


def mlp_spec(
    hidden, activation="relu", batch_norm=False, dropout=0.0, embedding_dim: int | None = None
) -> str:
    """The description of a multilayer perceptron given the older way: hidden sizes and per-layer settings.

    activation, batch_norm and dropout: one value for every hidden layer or one per layer.
    embedding_dim: start with embed<dim>-flatten (sequence data given as token ids).
    """
    hidden = list(hidden)

    def per_layer(value, what):
        values = list(value) if isinstance(value, list | tuple) else [value] * len(hidden)
        if len(values) != len(hidden):
            raise ValueError(f"{len(values)} {what} values for {len(hidden)} hidden layers")
        return values

    words = [f"embed{DIM.check(embedding_dim)}", "flatten"] if embedding_dim else []
    for size, act, norm, rate in zip(
        hidden,
        per_layer(activation, "activation"),
        per_layer(batch_norm, "batch_norm"),
        per_layer(dropout, "dropout"),
    ):
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)}")
        if not isinstance(norm, bool):
            raise ValueError(f"batch_norm must be true or false, got {norm!r}")
        words.append(f"dense{UNITS.check(size)}")
        if norm:
            words.append("bn")
        words.append(act)
        if RATE.check(rate):
            words.append(f"dropout{rate:g}")
    return "-".join(words)
