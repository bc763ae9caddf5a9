"""Centred finite differences against backprop, in float64, for any parameter of any layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .optimizers import effective_gradient, l2_penalty

RELATIVE_FLOOR = 1e-8


@dataclass
class GradCheckResult:
    """Backprop vs numeric gradient for chosen entries of one parameter.

    indices: list of index tuples into the parameter; backprop, numeric, rel_error:
    arrays of the same length. rel_error = |b − n| / max(|b|, |n|, 1e-8).
    relative_error: ‖b − n‖ / max(‖b‖ + ‖n‖, 1e-8) over the checked entries.
    """

    layer: object
    param: str
    indices: list
    backprop: np.ndarray
    numeric: np.ndarray
    rel_error: np.ndarray
    relative_error: float
    eps: float

    @property
    def max_rel_error(self) -> float:
        return float(self.rel_error.max()) if self.rel_error.size else 0.0

    def rows(self) -> list[dict]:
        """One dict per checked entry, for tables."""
        return [
            {"index": idx, "backprop": float(b), "numeric": float(n), "rel_error": float(r)}
            for idx, b, n, r in zip(self.indices, self.backprop, self.numeric, self.rel_error)
        ]

    def __repr__(self) -> str:
        return (
            f"GradCheckResult(layer={self.layer!r}, param={self.param!r}, entries={len(self.indices)}, "
            f"relative_error={self.relative_error:.3g}, max_rel_error={self.max_rel_error:.3g})"
        )


def _owner(net, layer):
    if layer == "embedding":
        if net.embedding is None:
            raise ValueError("this network has no embedding stage to check")
        return net.embedding
    if not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(net.layers):
        raise ValueError(
            f"layer must be 'embedding' or an index in [0, {len(net.layers) - 1}], got {layer!r}"
        )
    return net.layers[layer]


def gradcheck(
    net,
    x,
    y,
    layer=0,
    param: str = "W",
    entries=None,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    train: bool = True,
    max_entries: int = 40,
    seed: int = 0,
    dropout_masks=None,
) -> GradCheckResult:
    """Check dL/d(param) of ``layer`` by centred differences (L(P+ε) − L(P−ε)) / 2ε.

    The network is copied to float64 first; ``net`` is not changed. Dropout masks
    of the backprop pass are replayed in every perturbed pass, and batch norm
    uses batch statistics in train mode, so both sides see the same function.
    dropout_masks: one per dense block (None where it has no dropout), e.g. a
    trace's, to check the function that step computed; by default the backprop
    pass draws its own.
    entries: None (all entries if at most ``max_entries``, else a seeded sample),
    an int (that many sampled entries) or a list of index tuples.
    weight_decay: check the gradient of the loss plus (λ/2)·ΣW² the optimizer uses.
    """
    net64 = net.astype("float64")
    owner = _owner(net64, layer)
    if param not in owner.param_names:
        raise ValueError(f"{layer!r} has no parameter {param!r}; it has {', '.join(owner.param_names)}")
    x = net64.check_inputs(x)
    y = net64.check_targets(y, x.shape[0])
    if dropout_masks is not None:
        if len(dropout_masks) != len(net64.layers):
            raise ValueError(f"got {len(dropout_masks)} dropout masks for {len(net64.layers)} layers")
        dropout_masks = [None if m is None else np.asarray(m, dtype=np.float64) for m in dropout_masks]
    trace = net64.gradients(x, y, train=train, dropout_masks=dropout_masks, check=False)
    masks = [rec.dropout_mask for rec in trace.layers]
    record = trace.embedding if layer == "embedding" else trace.layers[layer]
    values = getattr(owner, param)
    analytic = effective_gradient(param, values, record.grads[param], weight_decay)

    if entries is None:
        entries = values.size if values.size <= max_entries else max_entries
    if isinstance(entries, (int, np.integer)):
        rng = np.random.default_rng(seed)
        flat = rng.choice(values.size, size=min(int(entries), values.size), replace=False)
        indices = [np.unravel_index(i, values.shape) for i in np.sort(flat)]
    else:
        indices = [tuple(np.atleast_1d(i)) for i in entries]
        for idx in indices:
            if len(idx) != values.ndim or any(not 0 <= i < s for i, s in zip(idx, values.shape)):
                raise ValueError(f"index {idx} is outside {param} of shape {values.shape}")
    indices = [tuple(int(i) for i in idx) for idx in indices]

    def loss_at() -> float:
        t = net64.forward(x, train=train, dropout_masks=masks, check=False)
        return net64.loss_fn.function(t.output, y)[0] + l2_penalty(net64, weight_decay)

    numeric = np.empty(len(indices))
    for k, idx in enumerate(indices):
        original = values[idx]
        values[idx] = original + eps
        plus = loss_at()
        values[idx] = original - eps
        minus = loss_at()
        values[idx] = original
        numeric[k] = (plus - minus) / (2 * eps)
    backprop = np.array([analytic[idx] for idx in indices], dtype=np.float64)
    diff = np.abs(backprop - numeric)
    rel = diff / np.maximum(np.maximum(np.abs(backprop), np.abs(numeric)), RELATIVE_FLOOR)
    # The floor keeps gradients that are zero in theory (a bias before batch norm) from reading as 100 %.
    denom = max(np.linalg.norm(backprop) + np.linalg.norm(numeric), RELATIVE_FLOOR)
    relative = float(np.linalg.norm(backprop - numeric) / denom)
    return GradCheckResult(layer, param, indices, backprop, numeric, rel, relative, eps)


def check_network(net, x, y, **options) -> list[GradCheckResult]:
    """gradcheck for every parameter of every stage of ``net``."""
    results = []
    for key, owner in net.parameter_owners():
        for name in owner.param_names:
            results.append(gradcheck(net, x, y, layer=key, param=name, **options))
    return results
