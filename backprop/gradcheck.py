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


def _layer(net, layer):
    """The layer called ``layer`` ("dense1"), or at index ``layer`` of net.layers."""
    if isinstance(layer, str):
        for candidate in net.layers:
            if candidate.name == layer:
                return candidate
        raise ValueError(
            f"this network has no layer {layer!r}; it has {', '.join(l.name for l in net.layers)}"
        )
    if isinstance(layer, int | np.integer) and 0 <= layer < len(net.layers):
        return net.layers[int(layer)]
    raise ValueError(f"layer must be a name or an index in [0, {len(net.layers) - 1}], got {layer!r}")


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
    """Check dL/d(param) of ``layer`` (a name like "dense1" or an index) by centred differences.

    numeric = (L(P + ε) − L(P − ε)) / 2ε, in float64 on a copy of the network (``net`` is
    not changed). Dropout masks of the backprop pass are replayed in every perturbed
    pass, and batch norm uses batch statistics in train mode, so both sides see the
    same function. dropout_masks: {dropout layer name: mask}, e.g. a trace's, to check
    the function that step computed; by default the backprop pass draws its own.
    entries: None (all entries if at most ``max_entries``, else a seeded sample),
    an int (that many sampled entries) or a list of index tuples.
    weight_decay: check the gradient of the loss plus (λ/2)·ΣW² the optimizer uses.
    """
    net64 = net.astype("float64")
    target = _layer(net64, layer)
    if param not in target.params:
        raise ValueError(
            f"{target.name} has no parameter {param!r}; it has {', '.join(target.params) or 'none'}"
        )
    x = net64.check_inputs(x)
    y = net64.check_targets(y, x.shape[0])
    if dropout_masks is not None:
        dropout_masks = {
            name: None if m is None else np.asarray(m, dtype=np.float64) for name, m in dropout_masks.items()
        }
    trace = net64.gradients(x, y, train=train, dropout_masks=dropout_masks, check=False)
    masks = {rec.name: rec.saved["mask"] for rec in trace.layers if "mask" in rec.saved}
    record = trace.record(target.name)
    values = target.params[param]
    analytic = effective_gradient(param, values, record.grads[param], weight_decay)

    if entries is None:
        entries = values.size if values.size <= max_entries else max_entries
    if isinstance(entries, int | np.integer):
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
        t = net64.forward(x, train=train, dropout_masks=masks, check=False, probabilities=False)
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
    return GradCheckResult(target.name, param, indices, backprop, numeric, rel, relative, eps)


def input_gradcheck(
    net, x, y, entries=None, eps: float = 1e-6, train: bool = True, max_entries: int = 40, seed: int = 0
) -> GradCheckResult:
    """Check dL/dx (the gradient a layer passes to its input, all the way down) by centred differences."""
    net64 = net.astype("float64")
    x = np.array(net64.check_inputs(x), dtype=np.float64)
    y = net64.check_targets(y, x.shape[0])
    trace = net64.gradients(x, y, train=train, check=False, input_gradient=True)
    masks = {rec.name: rec.saved["mask"] for rec in trace.layers if "mask" in rec.saved}
    count = min(max_entries if entries is None else int(entries), x.size)
    flat = np.sort(np.random.default_rng(seed).choice(x.size, size=count, replace=False))
    indices = [tuple(int(i) for i in np.unravel_index(f, x.shape)) for f in flat]
    numeric = np.empty(len(indices))
    for k, idx in enumerate(indices):
        original = x[idx]
        losses = []
        for shift in (eps, -eps):
            x[idx] = original + shift
            out = net64.forward(x, train=train, dropout_masks=masks, check=False, probabilities=False).output
            losses.append(net64.loss_fn.function(out, y)[0])
        x[idx] = original
        numeric[k] = (losses[0] - losses[1]) / (2 * eps)
    backprop = np.array([trace.dx[idx] for idx in indices])
    rel = np.abs(backprop - numeric) / np.maximum(
        np.maximum(np.abs(backprop), np.abs(numeric)), RELATIVE_FLOOR
    )
    denom = max(np.linalg.norm(backprop) + np.linalg.norm(numeric), RELATIVE_FLOOR)
    return GradCheckResult(
        "input", "x", indices, backprop, numeric, rel, float(np.linalg.norm(backprop - numeric) / denom), eps
    )


def check_network(net, x, y, **options) -> list[GradCheckResult]:
    """gradcheck for every parameter of every layer of ``net``."""
    return [
        gradcheck(net, x, y, layer=layer.name, param=name, **options)
        for layer in net.layers
        for name in layer.params
    ]
