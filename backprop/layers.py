"""The layers a network is a list of, each with its forward and backward pass.

Every layer follows one small interface (as in the CS231n layers):

    out = layer.forward(x, train)      # keeps what backward needs on the layer
    dx = layer.backward(dout)          # fills layer.grads (same keys as layer.params)

``params`` maps names ("W", "b", …) to arrays; an optimizer assigns new arrays
rather than writing into them, so an array a past step used stays as it was.
Which shapes fit which layer is worked out in ``backprop.architecture``.
``saved()`` names the intermediates a forward pass kept (a dropout mask, the
im2col matrix, pooling switches) so a trace can show them without recomputing.

Shapes: dense data is (N, features); images are (N, channels, height, width).
"""

from __future__ import annotations

import numpy as np

from .options import Declared, Option

BATCH_NORM_EPS = 1e-5
BATCH_NORM_MOMENTUM = 0.9

INIT_STD = Option(
    "init_std",
    "float",
    0.01,
    label="Init σ",
    low=0.0,
    high=10.0,
    low_open=True,
    log=True,
    help="Standard deviation of the normal init.",
)
INITIALIZERS: dict[str, Declared] = {
    d.name: d
    for d in (
        Declared(
            "xavier",
            "Xavier (Glorot) uniform",
            "W ~ U(−√(6/(fan_in+fan_out)), +√(6/(fan_in+fan_out)))",
            help="Keeps the variance of activations and gradients about equal across layers.",
        ),
        Declared(
            "he", "He normal", "W ~ N(0, 2/fan_in)", help="Suited to ReLU: keeps the variance of activations."
        ),
        Declared(
            "normal",
            "Normal",
            "W ~ N(0, σ²)",
            options=(INIT_STD,),
            help="A plain normal with a chosen σ; too small or too large shows vanishing or exploding signals.",
        ),
    )
}
INITS = tuple(INITIALIZERS)


def init_weights(
    init: str, shape: tuple, fan_in: int, fan_out: int, rng: np.random.Generator, std: float, dtype
) -> np.ndarray:
    """Initial weights of ``shape``: xavier = Glorot uniform, he = He normal, normal = N(0, std²)."""
    if init == "xavier":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, size=shape)
    elif init == "he":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    elif init == "normal":
        w = rng.normal(0.0, std, size=shape)
    else:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    return w.astype(dtype)


class Layer:
    """Base of every layer: parameters, their gradients, and the two passes.

    kind: the word that names the layer in an architecture ("dense", "conv", …);
    name: its unique name in a network ("dense1", "conv2"), set by the network.
    """

    kind = "layer"

    def __init__(self):
        self.name = self.kind
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}  # saved with the weights, not trained

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Gradient for the input (None when ``input_grad`` is False: the input is data)."""
        raise NotImplementedError

    def saved(self) -> dict:
        """Intermediates of the last forward pass worth showing, by name."""
        return {}

    def saved_backward(self) -> dict:
        """Intermediates of the last backward pass worth showing, by name."""
        return {}

    def spec(self) -> str:
        """This layer as a word of an architecture description, e.g. "dense64"."""
        return self.kind

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec()})"


class WeightedLayer(Layer):
    """A layer with a weight array W and a bias b, readable and settable by those names."""

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @W.setter
    def W(self, value: np.ndarray) -> None:
        self.params["W"] = value

    @property
    def b(self) -> np.ndarray:
        return self.params["b"]

    @b.setter
    def b(self, value: np.ndarray) -> None:
        self.params["b"] = value


# ------------------------------------------------------------------ dense
class Dense(WeightedLayer):
    """Fully connected: out = x·W + b.  x (N, n_in), W (n_in, n_out), b (n_out,).

    A sequence of vectors x (N, T, n_in) gets the same weights at every position.
    """

    kind = "dense"

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        rng: np.random.Generator,
        init: str = "xavier",
        init_std: float = 0.01,
        dtype=np.float32,
    ):
        super().__init__()
        self.params = {
            "W": init_weights(init, (n_in, n_out), n_in, n_out, rng, init_std, dtype),
            "b": np.zeros(n_out, dtype=dtype),
        }

    @property
    def n_in(self) -> int:
        return self.params["W"].shape[0]

    @property
    def n_out(self) -> int:
        return self.params["W"].shape[1]

    def forward(self, x, train=False):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout, input_grad=True):
        x = self.x.reshape(-1, self.n_in)  # every position of every sample is a row
        d = dout.reshape(-1, self.n_out)
        self.grads = {"W": x.T @ d, "b": d.sum(axis=0)}
        return dout @ self.params["W"].T if input_grad else None

    def spec(self):
        return f"dense{self.n_out}"


# ------------------------------------------------------------ convolution
def im2col(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """The kernel×kernel patches of each image of x (N, C, H, W) as columns: (N, C·kernel·kernel, Ho·Wo).

    Column (y·Wo + x) of sample n is the patch under output pixel (y, x), channel by
    channel, in the order of the kernel's weights. One copy of a strided view: whole
    output rows are copied at a time.
    """
    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (N, C, Ho, Wo, k, k), a view
    n, c, ho, wo = windows.shape[:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel * kernel, ho * wo)


def col2im(cols: np.ndarray, input_shape: tuple, kernel: int, stride: int) -> np.ndarray:
    """The adjoint of im2col: add each patch column back where it came from, (N, C, H, W).

    A pixel inside several patches collects a contribution from each. The loop runs
    over the kernel's kernel×kernel offsets, adding one strided slice per offset.
    Every sample is added alike, so the samples go to the last axis: each add then
    moves runs of N numbers instead of runs of Wo (short runs are what NumPy adds
    slowly). Conv2D.backward makes its dcols with the samples last already, so moving
    them there costs nothing.
    """
    n, c, h, w = input_shape
    ho, wo = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    # (C, k, k, Ho, Wo, N): patches[ch, i, j, y, x] holds every sample's entry at offset (i, j)
    patches = np.ascontiguousarray(cols.transpose(1, 2, 0)).reshape(c, kernel, kernel, ho, wo, n)
    dx = np.zeros((c, h, w, n), dtype=cols.dtype)
    for i in range(kernel):
        for j in range(kernel):
            window = dx[:, i : i + stride * ho : stride, j : j + stride * wo : stride]
            window += patches[:, i, j]  # in place through the view: no copy written back
    return np.ascontiguousarray(dx.transpose(3, 0, 1, 2))


class Conv2D(WeightedLayer):
    """2-D convolution by im2col: Y[n] = K·cols[n] + b for every sample n, as (N, C_out, Ho, Wo).

    x (N, C_in, H, W); K (C_out, C_in, k, k), used as a (C_out, C_in·k·k) matrix; b (C_out,);
    cols (N, C_in·k·k, Ho·Wo). Ho = (H + 2p − k) // s + 1.
    Backward: dK = Σₙ dY[n]·cols[n]ᵀ, db = Σ dY, dcols[n] = Kᵀ·dY[n], and dx = col2im(dcols).
    """

    kind = "conv"

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        *,
        stride: int = 1,
        padding: int = 0,
        rng: np.random.Generator,
        init: str = "xavier",
        init_std: float = 0.01,
        dtype=np.float32,
    ):
        super().__init__()
        self.stride, self.padding = int(stride), int(padding)
        fan_in, fan_out = c_in * kernel * kernel, c_out * kernel * kernel
        self.params = {
            "W": init_weights(init, (c_out, c_in, kernel, kernel), fan_in, fan_out, rng, init_std, dtype),
            "b": np.zeros(c_out, dtype=dtype),
        }
        self.d_cols = None

    @property
    def kernel(self) -> int:
        return self.params["W"].shape[2]

    @property
    def c_out(self) -> int:
        return self.params["W"].shape[0]

    def forward(self, x, train=False):
        p = self.padding
        self.x = x
        self.padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        self.cols = im2col(self.padded, self.kernel, self.stride)  # (N, C_in·k·k, Ho·Wo)
        n, _, h, w = self.padded.shape
        ho, wo = (h - self.kernel) // self.stride + 1, (w - self.kernel) // self.stride + 1
        kernels = self.params["W"].reshape(self.c_out, -1)  # (C_out, C_in·k·k)
        out = kernels @ self.cols  # (N, C_out, Ho·Wo): every sample at once
        out += self.params["b"][:, None]
        return out.reshape(n, self.c_out, ho, wo)

    def backward(self, dout, input_grad=True):
        n = dout.shape[0]
        d_rows = dout.reshape(n, self.c_out, -1)  # dY: (N, C_out, Ho·Wo)
        kernels = self.params["W"].reshape(self.c_out, -1)
        dk = (d_rows @ self.cols.transpose(0, 2, 1)).sum(axis=0)  # Σₙ dY[n]·cols[n]ᵀ
        # db = Σₙ Σₚ dY: over samples first, a sum of whole (C_out, Ho·Wo) planes, then over positions
        self.grads = {"W": dk.reshape(self.params["W"].shape), "b": d_rows.sum(axis=0).sum(axis=1)}
        if not input_grad:
            self.d_cols = None
            return None
        # dcols[n] = Kᵀ·dY[n] for every sample in one product, the samples on the last axis (as
        # col2im adds them): (C_in·k·k, C_out)·(C_out, Ho·Wo·N), seen as (N, C_in·k·k, Ho·Wo)
        samples_last = d_rows.transpose(1, 2, 0).reshape(self.c_out, -1)
        self.d_cols = (kernels.T @ samples_last).reshape(kernels.shape[1], -1, n).transpose(2, 0, 1)
        dx = col2im(self.d_cols, self.padded.shape, self.kernel, self.stride)
        p = self.padding
        return dx[:, :, p : dx.shape[2] - p, p : dx.shape[3] - p] if p else dx

    def saved(self):
        return {"cols": self.cols}

    def saved_backward(self):
        return {} if self.d_cols is None else {"d_cols": self.d_cols}

    def spec(self):
        return (
            f"conv{self.c_out}k{self.kernel}"
            + (f"s{self.stride}" if self.stride != 1 else "")
            + (f"p{self.padding}" if self.padding else "")
        )


# ---------------------------------------------------------------- pooling
def pool_views(x: np.ndarray, size: int) -> list[np.ndarray]:
    """The size² strided views of x (N, C, H, W), one per place in a size×size window: view (i, j)
    holds every window's entry at row i, column j, as (N, C, H//size, W//size). Rows and columns
    that do not fill a window are left out."""
    ho, wo = x.shape[2] // size, x.shape[3] // size
    return [x[:, :, i : ho * size : size, j : wo * size : size] for i in range(size) for j in range(size)]


class MaxPool2D(Layer):
    """Max over non-overlapping size×size windows (stride = size); a last partial row/column is dropped.

    The switches record where each window's maximum was, one boolean array per place in
    the window (switches[i·size + j] is True where row i, column j held the maximum):
    backward routes the window's gradient there. At a tie the max has no derivative; the gradient is shared equally
    among the tied entries (a valid subgradient, and exactly what centred differences
    give for a two-way tie).
    """

    kind = "maxpool"

    def __init__(self, size: int = 2):
        super().__init__()
        self.size = int(size)

    def forward(self, x, train=False):
        # one copy of the strided views; max and switches then read a contiguous stack
        windows = np.stack(pool_views(x, self.size))  # (size², N, C, Ho, Wo): each window's entries
        out = windows.max(axis=0)
        self.input_shape = x.shape
        self.switches = windows == out  # (size², N, C, Ho, Wo): where the max was
        return out

    def backward(self, dout, input_grad=True):
        share = dout / self.switches.sum(axis=0, dtype=dout.dtype)  # split between tied maxima
        dx = np.zeros(self.input_shape, dtype=dout.dtype)
        for d_view, switch in zip(pool_views(dx, self.size), self.switches):
            np.multiply(switch, share, out=d_view)  # written straight into dx: no temporary
        return dx

    def saved(self):
        return {"switches": self.switches}

    def spec(self):
        return f"maxpool{self.size}"


class AvgPool2D(Layer):
    """Mean over non-overlapping size×size windows; each input of a window gets 1/size² of its gradient."""

    kind = "avgpool"

    def __init__(self, size: int = 2):
        super().__init__()
        self.size = int(size)

    def forward(self, x, train=False):
        self.input_shape = x.shape
        return sum(pool_views(x, self.size)) / x.dtype.type(self.size * self.size)

    def backward(self, dout, input_grad=True):
        dx = np.zeros(self.input_shape, dtype=dout.dtype)
        share = dout / dout.dtype.type(self.size * self.size)
        for d_view in pool_views(dx, self.size):
            d_view[...] = share
        return dx

    def spec(self):
        return f"avgpool{self.size}"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C·H·W), channel by channel; backward reshapes back."""

    kind = "flatten"

    def forward(self, x, train=False):
        self.input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout, input_grad=True):
        return dout.reshape(self.input_shape)


# ---------------------------------------------------------- normalisation
class BatchNorm(Layer):
    """Batch normalisation of each feature (N, D) or each channel (N, C, H, W).

    Training: x̂ = (x − μ_batch)/√(σ²_batch + ε), out = γ·x̂ + β; evaluation uses the
    running statistics instead, which move toward each training step's batch
    statistics when the step's update is applied (``update_running_statistics``).
    """

    kind = "bn"

    def __init__(self, features: int, dtype=np.float32):
        super().__init__()
        self.params = {"gamma": np.ones(features, dtype=dtype), "beta": np.zeros(features, dtype=dtype)}
        self.state = {
            "running_mean": np.zeros(features, dtype=dtype),
            "running_var": np.ones(features, dtype=dtype),
        }

    def _axes_and_shape(self, x):
        # statistics per feature of (N, D), per channel of (N, C, H, W)
        if x.ndim == 2:
            return (0,), (1, -1)
        return (0, 2, 3), (1, -1, 1, 1)

    def forward(self, x, train=False):
        axes, shape = self._axes_and_shape(x)
        if train:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
        else:
            mean, var = self.state["running_mean"], self.state["running_var"]
        self.train, self.mean, self.var = train, mean, var
        self.inv_std = 1.0 / np.sqrt(var + x.dtype.type(BATCH_NORM_EPS))
        self.normalized = (x - mean.reshape(shape)) * self.inv_std.reshape(shape)
        return self.normalized * self.params["gamma"].reshape(shape) + self.params["beta"].reshape(shape)

    def backward(self, dout, input_grad=True):
        axes, shape = self._axes_and_shape(dout)
        self.grads = {"gamma": (dout * self.normalized).sum(axis=axes), "beta": dout.sum(axis=axes)}
        d_norm = dout * self.params["gamma"].reshape(shape)
        if not self.train:
            return d_norm * self.inv_std.reshape(shape)
        # through the batch mean and variance: dx = (1/m)·inv_std·(m·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂))
        m = dout.size // dout.shape[1]
        return (self.inv_std.reshape(shape) / m) * (
            m * d_norm
            - d_norm.sum(axis=axes).reshape(shape)
            - self.normalized * (d_norm * self.normalized).sum(axis=axes).reshape(shape)
        )

    def update_running_statistics(self, mean: np.ndarray, var: np.ndarray) -> None:
        """After a training step: move the running statistics toward that step's batch statistics."""
        m = mean.dtype.type(BATCH_NORM_MOMENTUM)
        self.state = {
            "running_mean": m * self.state["running_mean"] + (1 - m) * mean,
            "running_var": m * self.state["running_var"] + (1 - m) * var,
        }

    def saved(self):
        return {"normalized": self.normalized, "mean": self.mean, "var": self.var}


class Dropout(Layer):
    """Inverted dropout: in training each unit is kept with probability 1 − rate and scaled by 1/(1 − rate).

    Evaluation passes the input through unchanged. A gradient check sets
    ``fixed_mask`` (already scaled) to replay the mask of the step it checks.
    """

    kind = "dropout"

    def __init__(self, rate: float, rng: np.random.Generator):
        super().__init__()
        self.rate, self.rng = float(rate), rng
        self.mask = None
        self.fixed_mask = None

    def forward(self, x, train=False):
        if not train or self.rate == 0:
            self.mask = None
            return x
        if self.fixed_mask is not None:
            self.mask = self.fixed_mask
        else:
            keep = 1.0 - self.rate
            self.mask = (self.rng.random(x.shape) < keep).astype(x.dtype) / x.dtype.type(keep)
        return x * self.mask

    def backward(self, dout, input_grad=True):
        return dout if self.mask is None else dout * self.mask

    def saved(self):
        return {} if self.mask is None else {"mask": self.mask}

    def spec(self):
        return f"dropout{self.rate:g}"


# -------------------------------------------------------------- embedding
class Embedding(Layer):
    """Token ids (N, T) -> rows of a learned table, (N, T, dim).

    Backward adds each position's gradient into the row of its token, so a token
    used several times collects every contribution.
    """

    kind = "embed"

    @property
    def table(self) -> np.ndarray:
        return self.params["table"]

    def __init__(self, vocab_size: int, dim: int, *, rng: np.random.Generator, dtype=np.float32):
        super().__init__()
        # Unit-variance rows divided by sqrt(dim) keep each embedding's norm near 1.
        self.params = {"table": (rng.normal(0.0, 1.0, size=(vocab_size, dim)) / np.sqrt(dim)).astype(dtype)}

    @property
    def vocab_size(self) -> int:
        return self.params["table"].shape[0]

    @property
    def dim(self) -> int:
        return self.params["table"].shape[1]

    def forward(self, x, train=False):
        self.ids = x
        return self.params["table"][x]

    def backward(self, dout, input_grad=True):
        # Scatter-add: np.add.at adds repeated indices one by one, so a token used several times
        # collects every contribution. SPEED: on the flattened table, with one index per (token, number):
        # NumPy's add.at takes a fast path on 1-D arrays, 4x quicker than adding whole rows, with the
        # same additions in the same order (test_layers checks it equals np.add.at on rows bit for bit).
        table = self.params["table"]
        flat_index = (self.ids.reshape(-1, 1) * self.dim + np.arange(self.dim)).ravel()
        dtable = np.zeros(table.size, dtype=table.dtype)
        np.add.at(dtable, flat_index, dout.ravel())
        self.grads = {"table": dtable.reshape(table.shape)}
        return None  # token ids have no gradient

    def spec(self):
        return f"embed{self.dim}"
