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
from .trace import Block, Trace

SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(k: int) -> str:
    """Layer number as a superscript: sup(2) == '²'."""
    return str(k).translate(SUPERSCRIPTS)


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
    """(gradient into the affine output, its name): d_affine with batch norm, else dz."""
    if rec.d_affine is not None and rec.d_affine is not rec.dz:
        return rec.d_affine, "dh"
    return rec.dz, "dz"


@dataclass
class WeightBreakdown:
    """dW[i, j] = Σₙ a_in[n, i]·g[n, j] for one weight, with the update that followed.

    terms: (N,) the products, in float64; top: [(n, a_in, g, product)] by |product|;
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
    terms = rec.a_in[:, i].astype(np.float64) * grad[:, j].astype(np.float64)
    order = np.argsort(-np.abs(terms), kind="stable")[:top]
    rows = [(int(n), float(rec.a_in[n, i]), float(grad[n, j]), float(terms[n])) for n in order]
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
    |product| (empty for the output layer, whose da comes from the loss).
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


def activation_slope(rec: Block) -> np.ndarray:
    """f′(z) for the block's batch, (N, n_out), from its z and a = f(z)."""
    activation = ACTIVATION_CLASSES[rec.activation]()
    return np.asarray(activation.slope(rec.z, rec.activation_output), dtype=np.float64)


def unit_breakdown(trace: Trace, layer: int, unit: int, sample: int = 0, top: int = 5) -> UnitBreakdown:
    """dz = da·f′(z) at (sample, unit) of ``layer``, and da = dz_next·W_nextᵀ term by term."""
    if not 0 <= layer < len(trace.blocks):
        raise ValueError(f"layer must be in [0, {len(trace.blocks) - 1}], got {layer!r}")
    rec = trace.blocks[layer]
    if rec.da is None:
        raise ValueError("this trace has no gradients yet: run the backward pass first")
    n, units = rec.z.shape
    if not (0 <= unit < units and 0 <= sample < n):
        raise ValueError(f"unit {unit} / sample {sample} outside this layer's {units} units and {n} samples")
    mask = 1.0 if rec.dropout_mask is None else float(rec.dropout_mask[sample, unit])
    slope = float(activation_slope(rec)[sample, unit])
    out = UnitBreakdown(
        layer,
        unit,
        sample,
        float(rec.z[sample, unit]),
        float(rec.a[sample, unit]),
        float(rec.da[sample, unit]),
        mask,
        slope,
        float(rec.dz[sample, unit]),
    )
    if layer + 1 < len(trace.blocks):
        nxt = trace.blocks[layer + 1]
        grad, _ = upstream_gradient(nxt)
        products = grad[sample].astype(np.float64) * nxt.W[unit].astype(np.float64)
        order = np.argsort(-np.abs(products), kind="stable")[:top]
        out.da_terms = [
            (int(k), float(grad[sample, k]), float(nxt.W[unit, k]), float(products[k])) for k in order
        ]
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
    """Decompose db[j] of one layer record into its per-sample terms."""
    n_out = rec.W.shape[1]
    if not 0 <= j < n_out:
        raise ValueError(f"bias {j} is outside b of length {n_out}")
    if rec.db is None:
        raise ValueError("this trace has no gradients yet: run the backward pass first")
    grad, name = upstream_gradient(rec)
    terms = grad[:, j].astype(np.float64)
    order = np.argsort(-np.abs(terms), kind="stable")[:top]
    out = BiasBreakdown(
        rec.index,
        j,
        name,
        terms,
        [(int(n), float(terms[n])) for n in order],
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
    """The forward pass at one unit j of one layer for sample n.

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


def forward_breakdown(trace: Trace, layer: int, unit: int, sample: int = 0, top: int = 5) -> ForwardBreakdown:
    """z = a_in·W + b at (sample, unit) of ``layer`` term by term, and a = f(z)."""
    if not 0 <= layer < len(trace.blocks):
        raise ValueError(f"layer must be in [0, {len(trace.blocks) - 1}], got {layer!r}")
    rec = trace.blocks[layer]
    n, units = rec.z.shape
    if not (0 <= unit < units and 0 <= sample < n):
        raise ValueError(f"unit {unit} / sample {sample} outside this layer's {units} units and {n} samples")
    products = rec.a_in[sample].astype(np.float64) * rec.W[:, unit].astype(np.float64)
    order = np.argsort(-np.abs(products), kind="stable")[:top]
    out = ForwardBreakdown(
        layer,
        unit,
        sample,
        [(int(i), float(rec.a_in[sample, i]), float(rec.W[i, unit]), float(products[i])) for i in order],
        float(rec.b[unit]),
        float(rec.affine[sample, unit]),
        float(products.sum() + float(rec.b[unit])),
        float(rec.z[sample, unit]),
        float(rec.activation_output[sample, unit]),
        float(rec.a[sample, unit]),
    )
    if rec.dropout_mask is not None:
        out.mask = float(rec.dropout_mask[sample, unit])
    if rec.normalized is not None:
        out.normalized = float(rec.normalized[sample, unit])
        out.gamma, out.beta = float(rec.gamma[unit]), float(rec.beta[unit])
    return out


# ------------------------------------------------------------ diagnostics
@dataclass
class LayerDiagnostics:
    """Health figures of one dense block for one step (None where they do not apply)."""

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


def layer_diagnostics(trace: Trace) -> list[LayerDiagnostics]:
    """Per layer: ‖dW‖, ‖W‖, ‖ΔW‖/‖W‖ (after an update), dead and saturated shares.

    dead: share of units whose output is 0 for every sample of the batch (ReLU only);
    saturated: share of tanh/sigmoid outputs within the flat ends (|a| > 0.97; a < 0.03 or > 0.97).
    """
    out = []
    for rec in trace.blocks:
        facts = ACTIVATIONS[rec.activation].facts
        weight_norm = _norm(rec.W)
        ratio = None
        if rec.delta_W is not None:
            ratio = _norm(rec.delta_W) / weight_norm if weight_norm > 0 else math.inf
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
        grad_norm = _norm(rec.dW) if rec.dW is not None else math.nan
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
