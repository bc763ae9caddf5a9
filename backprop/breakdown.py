"""Read one step's trace closely: per-cell sums, per-unit chain rule, diagnostics figures.

Everything here reads a ``Trace`` (and, for losses after an update, the network);
nothing changes weights. Numbers only: the words the step-through page puts
around them live in ``viz.step_text``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .activations import ACTIVATION_CLASSES, ACTIVATIONS
from .tracing import Block, Trace


# --------------------------------------------------------------- batches
def batch_indices(n: int, batch_size: int, seed: int, draw: int) -> np.ndarray:
    """Sorted random rows of a training set of n samples: min(batch_size, n) of them.

    The same (seed, draw) always gives the same batch, so a step can be reproduced.
    """
    if n < 1:
        raise ValueError("the training set is empty; choose a dataset with samples")
    rng = np.random.default_rng([int(seed), 11, int(draw)])
    return np.sort(rng.choice(n, size=min(int(batch_size), n), replace=False))


def loss_on_batch(net, trace: Trace) -> float:
    """The network's current loss on the trace's batch, same mode and dropout masks as the trace."""
    masks = {rec.name: rec.saved["mask"] for rec in trace.layers if "mask" in rec.saved}
    out = net.forward(
        trace.x, train=trace.train, dropout_masks=masks, check=False, probabilities=False
    ).output
    return float(net.loss_fn.function(out, trace.y)[0])


# --------------------------------------------------------- cell inspector
def upstream_gradient(rec: Block) -> tuple[np.ndarray, str]:
    """(gradient into the affine output, its name): dh with batch norm (whose output is z), else dz."""
    return rec.d_affine, ("dh" if rec.record("bn") is not None else "dz")


def _rows(m: np.ndarray, width: int) -> np.ndarray:
    """A batch as rows of ``width``: (N, width) as it is, a sequence (N, T, width) one row per position."""
    return m.reshape(-1, width)


def _row_label(row: int, shape: tuple):
    """Row ``row`` of ``_rows`` of an array of ``shape``: the sample n, or "n,t" for a sequence."""
    if len(shape) <= 2:
        return int(row)
    return f"{row // shape[1]},{row % shape[1]}"


def _at(m: np.ndarray, sample: int, position: int | None):
    """One sample's row of a batch (N, units), or one position's of a sequence (N, T, units)."""
    return m[sample] if position is None or m.ndim == 2 else m[sample, position]


def _check_unit(values: np.ndarray, sample: int, unit: int, position: int | None) -> None:
    n, units = values.shape[0], values.shape[-1]
    if not (0 <= unit < units and 0 <= sample < n):
        raise ValueError(f"unit {unit} / sample {sample} outside this layer's {units} units and {n} samples")
    if values.ndim == 3 and not (position is not None and 0 <= position < values.shape[1]):
        raise ValueError(f"give a position in [0, {values.shape[1] - 1}]: this layer sees sequences")


@dataclass
class WeightBreakdown:
    """dW[i, j] = Σₙ a_in[n, i]·g[n, j] for one weight, with the update that followed.

    terms: (N,) the products, in float64 (N·T for sequences: every position of every sample is a
    row); top: [(n, a_in, g, product)] by |product|, n written "n,t" for sequences;
    total: their sum; dW: the trace's value; weight: W[i, j] the step used;
    delta / new_value: the applied change and W + ΔW (None before an update).
    """

    layer: int
    i: int
    j: int
    grad_name: str
    terms: np.ndarray
    top: list
    total: float
    dW: float
    weight: float
    delta: float | None = None
    new_value: float | None = None


def weight_breakdown(rec: Block, i: int, j: int, top: int = 5) -> WeightBreakdown:
    """Decompose dW[i, j] of one layer record into its per-sample terms."""
    n_in, n_out = rec.W.shape
    if not (0 <= i < n_in and 0 <= j < n_out):
        raise ValueError(f"weight ({i}, {j}) is outside W of shape {rec.W.shape}")
    if rec.dW is None:
        raise ValueError("this trace has no gradients yet: run the backward pass first")
    grad, name = upstream_gradient(rec)
    a_in, g = _rows(rec.a_in, n_in), _rows(grad, n_out)
    terms = a_in[:, i].astype(np.float64) * g[:, j].astype(np.float64)
    order = np.argsort(-np.abs(terms), kind="stable")[:top]
    where = rec.a_in.shape
    rows = [(_row_label(n, where), float(a_in[n, i]), float(g[n, j]), float(terms[n])) for n in order]
    out = WeightBreakdown(
        rec.index, i, j, name, terms, rows, float(terms.sum()), float(rec.dW[i, j]), float(rec.W[i, j])
    )
    if rec.delta_W is not None:
        out.delta = float(rec.delta_W[i, j])
        out.new_value = float(rec.W[i, j] + rec.delta_W[i, j])
    return out


@dataclass
class UnitBreakdown:
    """The chain rule at one unit j of one layer for sample n.

    da: dL/da[n, j]; mask: the dropout factor (1 without dropout); slope: f′(z[n, j]);
    dz = da·mask·slope. da_terms: [(k, dz_next[n, k], W_next[j, k], product)] by
    |product| (empty for the output layer, whose da comes from the loss, and when the next
    block is not a dense layer: ``da_from`` names it). position: t for a sequence, else None.
    """

    layer: int
    unit: int
    sample: int
    z: float
    a: float
    da: float
    mask: float
    slope: float
    dz: float
    da_terms: list = field(default_factory=list)
    da_from_loss: bool = False
    da_from: str = ""
    position: int | None = None


def activation_slope(rec: Block) -> np.ndarray:
    """f′(z) for the block's batch, (N, n_out), from its z and a = f(z)."""
    activation = ACTIVATION_CLASSES[rec.activation]()
    return np.asarray(activation.slope(rec.z, rec.activation_output), dtype=np.float64)


def unit_breakdown(
    trace: Trace, layer: int, unit: int, sample: int = 0, top: int = 5, position: int | None = None
) -> UnitBreakdown:
    """dz = da·f′(z) at (sample, unit) of dense block ``layer``, and da = dz_next·W_nextᵀ term by term.

    position: the position t when the block sees sequences (N, T, units).
    """
    if not 0 <= layer < len(trace.blocks):
        raise ValueError(f"layer must be in [0, {len(trace.blocks) - 1}], got {layer!r}")
    rec = trace.blocks[layer]
    if rec.da is None:
        raise ValueError("this trace has no gradients yet: run the backward pass first")
    _check_unit(rec.z, sample, unit, position)
    t = position if rec.z.ndim == 3 else None
    mask = 1.0 if rec.dropout_mask is None else float(_at(rec.dropout_mask, sample, t)[unit])
    slope = float(_at(activation_slope(rec), sample, t)[unit])
    out = UnitBreakdown(
        layer,
        unit,
        sample,
        float(_at(rec.z, sample, t)[unit]),
        float(_at(rec.a, sample, t)[unit]),
        float(_at(rec.da, sample, t)[unit]),
        mask,
        slope,
        float(_at(rec.dz, sample, t)[unit]),
        position=t,
    )
    if layer + 1 < len(trace.blocks) and trace.blocks[layer + 1].kind == "dense":
        nxt = trace.blocks[layer + 1]
        grad, _ = upstream_gradient(nxt)
        g = _at(grad, sample, t)
        products = g.astype(np.float64) * nxt.W[unit].astype(np.float64)
        order = np.argsort(-np.abs(products), kind="stable")[:top]
        out.da_terms = [(int(k), float(g[k]), float(nxt.W[unit, k]), float(products[k])) for k in order]
    elif layer + 1 < len(trace.blocks):
        out.da_from = trace.blocks[layer + 1].transform.name
    else:
        out.da_from_loss = True
    return out


@dataclass
class BiasBreakdown:
    """db[j] = Σₙ g[n, j] for one bias, g the gradient at the affine output, with the update.

    terms: (N,) the per-sample gradients in float64; top: [(n, g)] by |g|; total: their
    sum; db: the trace's value; bias: b[j] the step used; delta / new_value after an update.
    """

    layer: int
    j: int
    grad_name: str
    terms: np.ndarray
    top: list
    total: float
    db: float
    bias: float
    delta: float | None = None
    new_value: float | None = None


def bias_breakdown(rec: Block, j: int, top: int = 5) -> BiasBreakdown:
    """Decompose db[j] of one dense or convolution block into its per-sample terms (per sample and
    output position for a convolution, whose row labels read "n,y,x")."""
    n_out = rec.b.shape[0]
    if not 0 <= j < n_out:
        raise ValueError(f"bias {j} is outside b of length {n_out}")
    if rec.db is None:
        raise ValueError("this trace has no gradients yet: run the backward pass first")
    grad, name = upstream_gradient(rec)
    if grad.ndim == 4:  # a convolution's (N, C, H, W): one row per sample and position
        n, _, h, w = grad.shape
        terms = grad[:, j].reshape(-1).astype(np.float64)

        def label(r):
            return f"{r // (h * w)},{r // w % h},{r % w}"
    else:
        terms = _rows(grad, n_out)[:, j].astype(np.float64)

        def label(r):
            return _row_label(r, grad.shape)

    order = np.argsort(-np.abs(terms), kind="stable")[:top]
    out = BiasBreakdown(
        rec.index,
        j,
        name,
        terms,
        [(label(r), float(terms[r])) for r in order],
        float(terms.sum()),
        float(rec.db[j]),
        float(rec.b[j]),
    )
    if rec.delta_b is not None:
        out.delta = float(rec.delta_b[j])
        out.new_value = float(rec.b[j] + rec.delta_b[j])
    return out


@dataclass
class ForwardBreakdown:
    """The forward pass at one unit j of one layer for sample n (and position t of a sequence).

    affine = Σᵢ a_in[n, i]·W[i, j] + b[j]; terms: [(i, a_in, W, product)] by |product|;
    with batch norm, normalized = (affine − μ)/σ and z = γ·normalized + β; a = f(z)
    (times the dropout mask, ``mask``, when the layer drops units).
    """

    layer: int
    unit: int
    sample: int
    terms: list
    bias: float
    affine: float
    total: float
    z: float
    activation_output: float
    a: float
    mask: float = 1.0
    normalized: float | None = None
    gamma: float | None = None
    beta: float | None = None
    position: int | None = None


def forward_breakdown(
    trace: Trace, layer: int, unit: int, sample: int = 0, top: int = 5, position: int | None = None
) -> ForwardBreakdown:
    """z = a_in·W + b at (sample, unit) of dense block ``layer`` term by term, and a = f(z).

    position: the position t when the block sees sequences (N, T, units).
    """
    if not 0 <= layer < len(trace.blocks):
        raise ValueError(f"layer must be in [0, {len(trace.blocks) - 1}], got {layer!r}")
    rec = trace.blocks[layer]
    _check_unit(rec.affine, sample, unit, position)
    t = position if rec.affine.ndim == 3 else None
    a_in = _at(rec.a_in, sample, t)
    products = a_in.astype(np.float64) * rec.W[:, unit].astype(np.float64)
    order = np.argsort(-np.abs(products), kind="stable")[:top]
    out = ForwardBreakdown(
        layer,
        unit,
        sample,
        [(int(i), float(a_in[i]), float(rec.W[i, unit]), float(products[i])) for i in order],
        float(rec.b[unit]),
        float(_at(rec.affine, sample, t)[unit]),
        float(products.sum() + float(rec.b[unit])),
        float(_at(rec.z, sample, t)[unit]),
        float(_at(rec.activation_output, sample, t)[unit]),
        float(_at(rec.a, sample, t)[unit]),
        position=t,
    )
    if rec.dropout_mask is not None:
        out.mask = float(_at(rec.dropout_mask, sample, t)[unit])
    if rec.normalized is not None:
        out.normalized = float(_at(rec.normalized, sample, t)[unit])
        out.gamma, out.beta = float(rec.gamma[unit]), float(rec.beta[unit])
    return out


# ------------------------------------------------------------ convolution
def _block(trace: Trace, layer: int, kind: str) -> Block:
    if not 0 <= layer < len(trace.blocks):
        raise ValueError(f"layer must be in [0, {len(trace.blocks) - 1}], got {layer!r}")
    block = trace.blocks[layer]
    if block.kind != kind:
        raise ValueError(f"block {layer + 1} is a {block.kind} block ({block.transform.name}), not {kind}")
    return block


def _geometry(rec) -> dict:
    """A convolution's kernel, stride and padding, read from its architecture word."""
    from .architecture import parse_word

    return parse_word(rec.spec, 0)[1]


def _grad_columns(rec) -> np.ndarray:
    """dY of a convolution as the engine multiplies it: (N, C_out, Ho·Wo), one column per position."""
    n, c_out = rec.dout.shape[:2]
    return rec.dout.reshape(n, c_out, -1)


@dataclass
class KernelBreakdown:
    """dK[o, c, i, j] = Σ over samples n and output positions (y, x) of dY[n, o, y·Wo + x]·cols[n, (c, i, j), y·Wo + x].

    cols[n, (c, i, j), y·Wo + x] is the input pixel the kernel weight saw at that position:
    x_padded[n, c, y·stride + i, x·stride + j]. terms: (N·Ho·Wo,) the products in float64, samples first;
    top: [(n, y, x, input value, dY value, product)] by |product|; total: their sum;
    dK: the trace's value; weight: K[o, c, i, j]; delta / new_value after an update.
    """

    layer: int
    index: tuple
    column: int
    terms: np.ndarray
    top: list
    total: float
    dK: float
    weight: float
    stride: int
    padding: int
    delta: float | None = None
    new_value: float | None = None


def kernel_breakdown(
    trace: Trace, layer: int, o: int, c: int, i: int, j: int, top: int = 6
) -> KernelBreakdown:
    """Decompose the gradient of kernel weight K[o, c, i, j] of conv block ``layer`` into its terms."""
    block = _block(trace, layer, "conv")
    rec = block.transform
    kernel = rec.params["W"]
    if not all(0 <= v < size for v, size in zip((o, c, i, j), kernel.shape)):
        raise ValueError(f"kernel weight {(o, c, i, j)} is outside K of shape {kernel.shape}")
    if rec.dout is None:
        raise ValueError("this trace has no gradients yet: run the backward pass first")
    k = kernel.shape[2]
    column = (c * k + i) * k + j  # the row of cols (and column of K as a matrix) this weight multiplies
    inputs = rec.saved["cols"][:, column, :]  # (N, Ho·Wo): the pixel it saw at every position
    d_out = _grad_columns(rec)[:, o, :]  # (N, Ho·Wo)
    terms = (inputs.astype(np.float64) * d_out.astype(np.float64)).reshape(-1)
    order = np.argsort(-np.abs(terms), kind="stable")[:top]
    n, _, ho, wo = rec.dout.shape
    rows = []
    for r in order:
        sample, position = divmod(int(r), ho * wo)
        y, x = divmod(position, wo)
        rows.append(
            (sample, y, x, float(inputs[sample, position]), float(d_out[sample, position]), float(terms[r]))
        )
    geometry = _geometry(rec)
    out = KernelBreakdown(
        layer,
        (o, c, i, j),
        column,
        terms,
        rows,
        float(terms.sum()),
        float(rec.grads["W"][o, c, i, j]),
        float(kernel[o, c, i, j]),
        geometry["stride"],
        geometry["padding"],
    )
    if "W" in rec.deltas:
        out.delta = float(rec.deltas["W"][o, c, i, j])
        out.new_value = float(kernel[o, c, i, j] + rec.deltas["W"][o, c, i, j])
    return out


@dataclass
class FeatureMapBreakdown:
    """One unit of a convolution's output map: channel o at (y, x) for sample n.

    Forward: z = Σ_{c, i, j} patch[c, i, j]·K[o, c, i, j] + b[o], patch being the C×k×k input
    window at (y·stride, x·stride) (column y·Wo + x of the sample's cols); terms: [(c, i, j, input, K, product)]
    by |product|; a = f(z). Pooling after it: window (wy, wx) of the pooled map, ``share`` its
    part of that window's gradient (1 for the max, 0 for the others, 1/size² for averaging,
    None when the window was cropped away) and the pooled value.
    Backward: da = share·d_pooled (or the gradient arriving when there is no pooling),
    dz = da·f′(z) (dz_trace: the trace's value).
    """

    layer: int
    sample: int
    channel: int
    y: int
    x: int
    terms: list
    total: float
    bias: float
    affine: float
    z: float
    a: float
    pool: str | None = None
    window: tuple | None = None
    share: float | None = None
    pooled: float | None = None
    d_pooled: float | None = None
    da: float | None = None
    slope: float | None = None
    dz: float | None = None
    dz_trace: float | None = None


def feature_map_breakdown(
    trace: Trace, layer: int, channel: int, y: int, x: int, sample: int = 0, top: int = 6
) -> FeatureMapBreakdown:
    """The forward sum and the chain rule at one unit of conv block ``layer``'s output map."""
    block = _block(trace, layer, "conv")
    rec = block.transform
    n, c_out, ho, wo = rec.out.shape
    if not (0 <= sample < n and 0 <= channel < c_out and 0 <= y < ho and 0 <= x < wo):
        raise ValueError(f"map unit {(sample, channel, y, x)} is outside the maps of shape {rec.out.shape}")
    kernel = rec.params["W"]
    k = kernel.shape[2]
    patch = rec.saved["cols"][sample, :, y * wo + x].astype(np.float64)  # (C_in·k·k,)
    weights = kernel[channel].reshape(-1).astype(np.float64)
    products = patch * weights
    order = np.argsort(-np.abs(products), kind="stable")[:top]
    terms = []
    for q in order:
        c, i, j = np.unravel_index(int(q), (kernel.shape[1], k, k))
        terms.append((int(c), int(i), int(j), float(patch[q]), float(weights[q]), float(products[q])))
    bias = float(rec.params["b"][channel])
    at = (sample, channel, y, x)
    out = FeatureMapBreakdown(
        layer,
        sample,
        channel,
        y,
        x,
        terms,
        float(products.sum() + bias),
        bias,
        float(rec.out[at]),
        float(block.z[at]),
        float(block.activation_output[at]),
    )
    pool = block.record("maxpool") or block.record("avgpool")
    if pool is not None:
        size = parse_pool_size(pool.spec)
        wy, wx = y // size, x // size
        out.pool = pool.kind
        if wy < pool.out.shape[2] and wx < pool.out.shape[3]:
            out.window = (wy, wx)
            out.pooled = float(pool.out[sample, channel, wy, wx])
            if pool.kind == "maxpool":
                # switches (size², N, C, Ho, Wo): True where each place of the window held the max;
                # tied maxima split the gradient equally, as the engine's backward does
                window = pool.saved["switches"][:, sample, channel, wy, wx]
                out.share = float(window[(y % size) * size + x % size]) / float(window.sum())
            else:
                out.share = 1.0 / (size * size)
            if pool.dout is not None:
                out.d_pooled = float(pool.dout[sample, channel, wy, wx])
        else:
            out.share = None  # a cropped row or column: no window reads it
    if rec.dout is not None:
        act = block.record("activation")
        out.da = float(act.dout[at]) if act is not None else float(block.dz[at])
        out.slope = float(activation_slope(block)[at])
        out.dz = out.da * out.slope
        out.dz_trace = float(block.dz[at])
    return out


def window_max(trace: Trace, layer: int, channel: int, y: int, x: int, sample: int = 0) -> tuple[int, int]:
    """The map position (y, x) of the maximum that window (y, x) of a max-pooled conv block took."""
    block = _block(trace, layer, "conv")
    pool = block.record("maxpool")
    if pool is None:
        raise ValueError(f"block {layer + 1} has no max pooling")
    size = parse_pool_size(pool.spec)
    window = pool.saved["switches"][:, sample, channel, y, x]  # (size²,): place i·size + j held the max
    i, j = divmod(int(np.argmax(window)), size)
    return y * size + i, x * size + j


def parse_pool_size(spec: str) -> int:
    """The window size of a pooling word ("maxpool2" -> 2)."""
    from .architecture import parse_word

    return int(parse_word(spec, 0)[1]["size"])


# -------------------------------------------------------------- attention
def _head_slice(block: Block, head: int) -> tuple[int, int, int]:
    """(heads, width per head, first column of this head in Q, K, V)."""
    heads = block.transform.saved["weights"].shape[1]
    if not 0 <= head < heads:
        raise ValueError(f"head must be in [0, {heads - 1}], got {head!r}")
    width = block.transform.saved["q"].shape[-1] // heads
    return heads, width, head * width


@dataclass
class AttentionWeightBreakdown:
    """One attention weight a[t, j] of head h for sample n: its forward pass and the softmax Jacobian.

    Forward: score[t, j] = Σ_c Q[t, c]·K[j, c] / √d over the head's d columns (dot: the sum, in float64;
    score_terms: the largest [(c, Q, K, product)]), masked when j > t; a[t, ·] = softmax of the row's scores.
    Backward: dA[t, j] = dZ[t, ·]·V[j, ·] (from the trace); with s = Σ_k a[t, k]·dA[t, k] over the row
    (row: [(k, a, dA, a·dA)]), dscore[t, j] = a[t, j]·(dA[t, j] − s); dscore_trace: the trace's.
    """

    layer: int
    sample: int
    head: int
    query: int
    key: int
    scale: float
    masked: bool
    score: float
    weight: float
    score_terms: list
    row_scores: list
    dot: float = 0.0
    d_weight: float | None = None
    row: list = field(default_factory=list)
    row_sum: float | None = None
    d_score: float | None = None
    d_score_trace: float | None = None


def attention_weight_breakdown(
    trace: Trace, layer: int, head: int, query: int, key: int, sample: int = 0, top: int = 6
) -> AttentionWeightBreakdown:
    """Attention weight [query, key] of ``head`` in attention block ``layer``, forward and backward."""
    block = _block(trace, layer, "attn")
    rec = block.transform
    weights, scores = rec.saved["weights"], rec.saved["scores"]
    n, _, t_len, _ = weights.shape
    if not (0 <= sample < n and 0 <= query < t_len and 0 <= key < t_len):
        raise ValueError(
            f"attention weight (sample {sample}, query {query}, key {key}) is outside {n} samples × "
            f"{t_len} positions"
        )
    _, width, first = _head_slice(block, head)
    q = rec.saved["q"][sample, query, first : first + width].astype(np.float64)
    k = rec.saved["k"][sample, key, first : first + width].astype(np.float64)
    scale = 1.0 / math.sqrt(width)
    products = q * k
    order = np.argsort(-np.abs(products), kind="stable")[:top]
    masked = key > query
    out = AttentionWeightBreakdown(
        layer,
        sample,
        head,
        query,
        key,
        scale,
        masked,
        float(scores[sample, head, query, key]),
        float(weights[sample, head, query, key]),
        [(int(c), float(q[c]), float(k[c]), float(products[c])) for c in order],
        [float(v) for v in scores[sample, head, query, : query + 1]],
        float(products.sum()),
    )
    if "d_weights" in rec.saved_backward:
        a = weights[sample, head, query, : query + 1].astype(np.float64)
        da = rec.saved_backward["d_weights"][sample, head, query, : query + 1].astype(np.float64)
        out.row = [(int(j), float(a[j]), float(da[j]), float(a[j] * da[j])) for j in range(query + 1)]
        out.row_sum = float((a * da).sum())
        out.d_weight = float(rec.saved_backward["d_weights"][sample, head, query, key])
        out.d_score = 0.0 if masked else float(a[key] * (da[key] - out.row_sum))
        out.d_score_trace = float(rec.saved_backward["d_scores"][sample, head, query, key])
    return out


@dataclass
class QueryGradientBreakdown:
    """dQ[t, c] = Σ_j dscore[t, j]·K[j, c] / √d for sample n, over the keys j ≤ t of c's head.

    terms: [(j, dscore, K, product / √d)] for every visible key; total: their sum; dq: the trace's.
    """

    layer: int
    sample: int
    position: int
    column: int
    head: int
    scale: float
    terms: list
    total: float
    dq: float


def query_gradient_breakdown(
    trace: Trace, layer: int, position: int, column: int, sample: int = 0
) -> QueryGradientBreakdown:
    """Decompose dQ[sample, position, column] of attention block ``layer`` over the keys."""
    block = _block(trace, layer, "attn")
    rec = block.transform
    if "dq" not in rec.saved_backward:
        raise ValueError("this trace has no gradients yet: run the backward pass first")
    n, t_len, d = rec.saved["q"].shape
    if not (0 <= sample < n and 0 <= position < t_len and 0 <= column < d):
        raise ValueError(f"dQ entry {(sample, position, column)} is outside Q of shape {(n, t_len, d)}")
    heads = rec.saved["weights"].shape[1]
    width = d // heads
    head = column // width
    scale = 1.0 / math.sqrt(width)
    d_scores = rec.saved_backward["d_scores"][sample, head, position, : position + 1].astype(np.float64)
    keys = rec.saved["k"][sample, : position + 1, column].astype(np.float64)
    products = d_scores * keys * scale
    terms = [(int(j), float(d_scores[j]), float(keys[j]), float(products[j])) for j in range(position + 1)]
    return QueryGradientBreakdown(
        layer,
        sample,
        position,
        column,
        head,
        scale,
        terms,
        float(products.sum()),
        float(rec.saved_backward["dq"][sample, position, column]),
    )


# -------------------------------------------------------------- embedding
@dataclass
class EmbeddingBreakdown:
    """dtable[v, d] = Σ over the positions (n, t) that hold token v of de[n, t, d].

    terms: [(n, t, de)] for every such position (empty when v is not in the batch: its gradient is 0);
    total: their sum; dtable: the trace's value; value: table[v, d]; delta / new_value after an update.
    """

    layer: int
    token: int
    dim: int
    terms: list
    total: float
    dtable: float | None
    value: float
    delta: float | None = None
    new_value: float | None = None


def embedding_breakdown(trace: Trace, layer: int, token: int, dim: int) -> EmbeddingBreakdown:
    """Decompose the gradient of table[token, dim] of embedding block ``layer`` over the batch."""
    block = _block(trace, layer, "embed")
    rec = block.transform
    table = rec.params["table"]
    if not (0 <= token < table.shape[0] and 0 <= dim < table.shape[1]):
        raise ValueError(f"table entry {(token, dim)} is outside the table of shape {table.shape}")
    terms = []
    if rec.dout is not None:
        for n, t in zip(*np.nonzero(rec.x == token)):
            terms.append((int(n), int(t), float(rec.dout[n, t, dim])))
    out = EmbeddingBreakdown(
        layer,
        token,
        dim,
        terms,
        float(sum(np.float64(v) for _, _, v in terms)),
        float(rec.grads["table"][token, dim]) if "table" in rec.grads else None,
        float(table[token, dim]),
    )
    if "table" in rec.deltas:
        out.delta = float(rec.deltas["table"][token, dim])
        out.new_value = float(table[token, dim] + rec.deltas["table"][token, dim])
    return out


# ------------------------------------------------------------ diagnostics
@dataclass
class LayerDiagnostics:
    """Health figures of one block for one step (None where they do not apply).

    grad_norm, weight_norm: over the transform's weights (every weight matrix of attention together).
    """

    layer: int
    activation: str
    grad_norm: float
    weight_norm: float
    update_ratio: float | None
    dead_share: float | None
    saturated_share: float | None

    def row(self) -> dict:
        return {
            "layer": self.layer + 1,
            "activation": self.activation,
            "‖dW‖": self.grad_norm,
            "‖W‖": self.weight_norm,
            "‖ΔW‖/‖W‖": self.update_ratio,
            "dead units": self.dead_share,
            "saturated": self.saturated_share,
        }


def _norm(m) -> float:
    return float(np.linalg.norm(np.asarray(m, dtype=np.float64)))


def _norm_all(arrays) -> float:
    """The norm of several arrays taken as one vector."""
    return math.sqrt(sum(_norm(m) ** 2 for m in arrays))


def _weight_arrays(block: Block) -> tuple[list, list, list]:
    """(weights, their gradients, their applied changes) of a block's transform: its parameters of
    two or more dimensions (W, an embedding's table, attention's Wq, Wk, Wv, Wo), not its biases."""
    rec = block.transform
    names = [name for name, value in rec.params.items() if np.ndim(value) >= 2]
    return (
        [rec.params[name] for name in names],
        [rec.grads[name] for name in names if name in rec.grads],
        [rec.deltas[name] for name in names if name in rec.deltas],
    )


def layer_diagnostics(trace: Trace) -> list[LayerDiagnostics]:
    """Per layer: ‖dW‖, ‖W‖, ‖ΔW‖/‖W‖ (after an update), dead and saturated shares.

    dead: share of units whose output is 0 for every sample of the batch (ReLU only);
    saturated: share of tanh/sigmoid outputs within the flat ends (|a| > 0.97; a < 0.03 or > 0.97).
    """
    out = []
    for rec in trace.blocks:
        facts = ACTIVATIONS[rec.activation].facts
        weights, grads, deltas = _weight_arrays(rec)
        weight_norm = _norm_all(weights)
        ratio = None
        if deltas:
            ratio = _norm_all(deltas) / weight_norm if weight_norm > 0 else math.inf
        dead = None
        if facts.get("can_die"):
            dead = float(np.mean(np.all(rec.activation_output <= 0, axis=0)))
        saturated = None
        if "saturated_above" in facts:
            saturated = float(np.mean(np.abs(rec.activation_output) > facts["saturated_above"]))
        elif "saturated_within" in facts:
            edge = facts["saturated_within"]
            act = rec.activation_output
            saturated = float(np.mean((act < edge) | (act > 1 - edge)))
        grad_norm = _norm_all(grads) if grads else math.nan
        out.append(
            LayerDiagnostics(rec.index, rec.activation, grad_norm, weight_norm, ratio, dead, saturated)
        )
    return out


# ------------------------------------------------------------ check, export
def network_at_trace(net, trace: Trace):
    """A copy of ``net`` holding the parameters the trace's forward pass used (pre-update)."""
    twin = net.copy()
    layers = {layer.name: layer for layer in twin.layers}
    for rec in trace.parameter_records():
        for name, value in rec.params.items():
            layers[rec.name].params[name] = np.array(value, dtype=twin.dtype, copy=True)
    return twin


def check_entries(shape: tuple, chosen: tuple, count: int = 8, seed: int = 0) -> list[tuple]:
    """The chosen index first, then up to count − 1 other seeded random indices of a matrix."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    picks = rng.choice(size, size=min(count, size), replace=False)
    others = [tuple(int(v) for v in np.unravel_index(p, shape)) for p in picks]
    chosen = tuple(int(v) for v in chosen)
    return [chosen] + [idx for idx in others if idx != chosen][: max(count - 1, 0)]


def trace_npz_bytes(trace: Trace, config: dict | None = None) -> bytes:
    """Every tensor of the step (Trace.arrays() names) as one .npz; the config as 'config.json' text."""
    import io
    import json

    arrays = dict(trace.arrays())
    if config is not None:
        arrays["config.json"] = np.array(json.dumps(config))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def top_predictions(probs: np.ndarray, classes: list, k: int = 3) -> list[list[tuple[str, float]]]:
    """Per row of probs (N, C): the k most likely (class name, probability), best first."""
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(str(classes[c]), float(probs[n, c])) for c in row] for n, row in enumerate(order)]
