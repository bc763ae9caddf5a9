"""Words around one step's numbers: phase equations, worked sums, plain-language diagnosis.

The engine returns numbers (``backprop.inspect``); this module writes them the way
the step-through page explains them. Each activation's, loss's and optimizer's
formula is read from its registry entry, declared beside its implementation.
Numbers are written with significant digits (``sig``), so a product of two small
values can be checked by hand instead of showing as -0.0001.
"""

from __future__ import annotations

import math

import numpy as np

from backprop.activations import ACTIVATIONS
from backprop.inspect import sup
from backprop.losses import LOSSES
from backprop.optimizers import OPTIMIZERS, make_optimizer

from .step_view import FORWARD, LOSS, READY, UPDATE, Phase, StepView

DIGITS = 6


def sig(value, digits: int = DIGITS) -> str:
    """A number with ``digits`` significant digits: sig(-0.000123456789) == '-0.000123457'.

    Plain notation from 1e-5 up to 1e6, scientific outside; -0 prints as 0.
    """
    if value is None:
        return "—"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    if -5 <= exponent < 6:
        decimals = max(digits - 1 - exponent, 0)
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mantissa, power = f"{value:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{power}"


# --------------------------------------------------------------- equations
def forward_equations(k: int, activation: str, stages: tuple) -> tuple[str, ...]:
    """The forward equations of block k (0-based), one stage per line."""
    n, prev = sup(k + 1), ("x" if k == 0 else f"a{sup(k)}")
    batch_norm = "batch_norm" in stages
    lines = [f"h{n} = {prev}·W{n} + b{n}" if batch_norm else f"z{n} = {prev}·W{n} + b{n}"]
    if batch_norm:
        lines.append(f"z{n} = γ{n}·(h{n} − μ_batch)/√(σ²_batch + ε) + β{n}")
    if activation == "linear":
        lines.append(f"a{n} = z{n}  (no activation)")
    else:
        lines.append(f"a{n} = f(z{n}),  f = {activation}: f(z) = {ACTIVATIONS[activation].equation}")
    if "dropout" in stages:
        lines.append(f"a{n} ← a{n} ⊙ mask{n}  (dropout, kept units scaled by 1/keep)")
    return tuple(lines)


def backward_equations(k: int, activation: str, stages: tuple, last: bool) -> tuple[str, ...]:
    """The backward equations of block k, from the gradient arriving to dW."""
    n = sup(k + 1)
    lines = [f"da{n} = dL/d(output), from the loss" if last else f"da{n} = dz{sup(k + 2)}·W{sup(k + 2)}ᵀ"]
    if "dropout" in stages:
        lines.append(f"da{n} ← da{n} ⊙ mask{n}")
    lines.append(f"dz{n} = da{n} ⊙ f′(z{n})" if activation != "linear" else f"dz{n} = da{n}")
    if "batch_norm" in stages:
        lines.append(f"dh{n} = batch-norm backward of dz{n} (through μ and σ of the batch)")
        lines.append(f"dW{n} = a_inᵀ·dh{n},  db{n} = Σₙ dh{n}")
    else:
        lines.append(f"dW{n} = a_inᵀ·dz{n},  db{n} = Σₙ dz{n}")
    return tuple(lines)


def update_rule(optimizer: str, weight_decay: float = 0.0, options: dict | None = None) -> str:
    """The optimizer's rule as declared beside it, in the form its options give it (Nesterov's look-ahead),
    with g = dW (+ λW under weight decay)."""
    if optimizer not in OPTIMIZERS:
        return f"P ← P + ΔP ({optimizer})"
    rule = make_optimizer(optimizer, 0.01, **(options or {})).equation
    gradient = "g = dW + λW for weights (λ = weight decay), g = db for biases" if weight_decay else "g = dP"
    return f"{rule};  P ← P + ΔP,  {gradient}"


def loss_equation(loss_name: str) -> str:
    return LOSSES[loss_name].formula if loss_name in LOSSES else f"L = {loss_name}"


def phase_equations(
    view: StepView,
    phase: Phase,
    optimizer: str = "sgd",
    weight_decay: float = 0.0,
    options: dict | None = None,
):
    """The lines shown while ``phase`` is current; options: the optimizer's own settings."""
    if phase.kind == READY:
        return ("The weights W and biases b of every layer, before any data flows.",)
    if phase.kind == LOSS:
        return (loss_equation(view.loss_name),)
    if phase.kind == UPDATE:
        return (update_rule(optimizer, weight_decay, options),)
    block = view.blocks[phase.layer]
    if phase.kind == FORWARD:
        return forward_equations(block.index, block.activation, block.stages)
    return backward_equations(
        block.index, block.activation, block.stages, block.index == len(view.blocks) - 1
    )


def phase_summary(view: StepView, phase: Phase, loss_after: float | None = None) -> str:
    """One sentence saying what happens in ``phase``, in words (loss_after: the batch's loss after
    the update)."""
    last = len(view.blocks)
    if phase.kind == READY:
        return "Ready: the weights as they are now. Next ▸ sends the batch through layer 1."
    if phase.kind == LOSS:
        loss = "" if view.loss is None else f" = {sig(view.loss)}"
        return (
            f"The loss compares the output with the targets: L{loss}. Its gradient starts the backward pass."
        )
    if phase.kind == UPDATE:
        after = (
            ""
            if loss_after is None
            else f" The loss on this batch goes {sig(view.loss)} → {sig(loss_after)}."
        )
        return "The optimizer moves every weight and bias against its gradient: ΔW, Δb." + after
    k = phase.layer + 1
    if phase.kind == FORWARD:
        source = "the input x" if k == 1 else f"layer {k - 1}'s output a{sup(k - 1)}"
        return f"Layer {k} of {last} takes {source}, multiplies by W{sup(k)}, adds b{sup(k)} and applies its activation."
    source = "the loss" if k == last else f"layer {k + 1}"
    return f"The gradient arrives at layer {k} from {source}: dz{sup(k)}, then dW{sup(k)} and db{sup(k)}."


# --------------------------------------------------------------- inspector
def terms_table(rows, headers) -> list[dict]:
    """Rows of numbers as dicts of strings (significant digits), for a table."""
    return [
        {h: (str(v) if isinstance(v, (int, np.integer)) else sig(v)) for h, v in zip(headers, row)}
        for row in rows
    ]


def not_yet(what: str, at: str, current: str) -> str:
    return f"{what} is computed at **{at}**; the player was at **{current}** — step on to see it."


def weight_lines(w, layer: int, at_backward: bool, at_update: bool) -> list[str]:
    """Markdown lines for W[i, j]: its value, dW as a sum over the batch, the update (as revealed)."""
    n = sup(layer + 1)
    lines = [f"**W{n}[{w.i}, {w.j}]** = {sig(w.weight)} (the value this step used)"]
    if at_backward:
        g = w.grad_name
        lines.append(
            f"dW{n}[{w.i},{w.j}] = Σₙ a_in[n,{w.i}]·{g}[n,{w.j}] over {len(w.terms)} samples "
            f"= **{sig(w.total)}** (trace: {sig(w.dW)})"
        )
    if at_update and w.delta is not None:
        lines.append(
            f"Update: ΔW = {sig(w.delta)}, new W = {sig(w.weight)} + ({sig(w.delta)}) = **{sig(w.new_value)}**"
        )
    return lines


def bias_lines(b, layer: int, at_backward: bool, at_update: bool) -> list[str]:
    n = sup(layer + 1)
    lines = [f"**b{n}[{b.j}]** = {sig(b.bias)}"]
    if at_backward:
        lines.append(
            f"db{n}[{b.j}] = Σₙ {b.grad_name}[n,{b.j}] over {len(b.terms)} samples "
            f"= **{sig(b.total)}** (trace: {sig(b.db)})"
        )
    if at_update and b.delta is not None:
        lines.append(
            f"Update: Δb = {sig(b.delta)}, new b = {sig(b.bias)} + ({sig(b.delta)}) = **{sig(b.new_value)}**"
        )
    return lines


def forward_lines(f, activation: str) -> list[str]:
    """z = Σᵢ a_in·W + b, (batch norm,) a = f(z) at one unit with numbers."""
    n = sup(f.layer + 1)
    name = "h" if f.normalized is not None else "z"
    lines = [
        f"**{name}{n}[{f.sample},{f.unit}]** = Σᵢ a_in[{f.sample},i]·W{n}[i,{f.unit}] + b{n}[{f.unit}] "
        f"= {sig(f.total - f.bias)} + ({sig(f.bias)}) = **{sig(f.affine)}**"
    ]
    if f.normalized is not None:
        lines.append(
            f"z{n} = γ·x̂ + β = {sig(f.gamma)}·{sig(f.normalized)} + ({sig(f.beta)}) = **{sig(f.z)}**"
        )
    if activation == "linear":
        lines.append(f"a{n} = z{n} = **{sig(f.a)}**")
    else:
        formula = ACTIVATIONS[activation].equation
        lines.append(f"a{n} = {activation}(z) = {formula} at z = {sig(f.z)}: **{sig(f.activation_output)}**")
        if f.mask != 1.0:
            lines.append(f"dropout: a = {sig(f.activation_output)} · mask {sig(f.mask)} = **{sig(f.a)}**")
    return lines


def unit_lines(u) -> list[str]:
    """dz = da·f′(z) at one unit with numbers."""
    n = sup(u.layer + 1)
    mask = f" · mask {sig(u.mask)}" if u.mask != 1.0 else ""
    lines = [
        f"**dz{n}[{u.sample},{u.unit}]** = da{mask} · f′(z) = {sig(u.da)}{mask} · {sig(u.slope)} "
        f"= **{sig(u.dz)}**  (z = {sig(u.z)})"
    ]
    if u.da_from_loss:
        lines.append(f"da{n} comes straight from the loss: dL/d(output)[{u.sample},{u.unit}] = {sig(u.da)}.")
    else:
        lines.append(
            f"da{n}[{u.sample},{u.unit}] = Σₖ dz{sup(u.layer + 2)}[{u.sample},k]·W{sup(u.layer + 2)}[{u.unit},k] "
            f"= {sig(u.da)}; the largest terms:"
        )
    return lines


# ------------------------------------------------------------- diagnostics
EXPLODING_NORM = 1e3
VANISHING_RATIO = 1e-3
DEAD_WARNING = 0.5
SATURATED_WARNING = 0.5
LARGE_UPDATE = 0.1


def _share(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def diagnostics_rows(diagnostics) -> list[dict]:
    """One row of text per layer; '—' where a figure does not apply (said in the column's help)."""
    return [
        {
            "layer": str(d.layer + 1),
            "activation": d.activation,
            "‖dW‖": sig(d.grad_norm, 4) if math.isfinite(d.grad_norm) else str(d.grad_norm),
            "‖W‖": sig(d.weight_norm, 4),
            "‖ΔW‖/‖W‖": "—" if d.update_ratio is None else sig(d.update_ratio, 3),
            "dead units": _share(d.dead_share),
            "saturated": _share(d.saturated_share),
        }
        for d in diagnostics
    ]


DIAGNOSTICS_HELP = {
    "‖ΔW‖/‖W‖": "Size of this step's change relative to the weights; — until an update is applied (Train mode).",
    "dead units": "Share of units whose output is 0 for every sample of the batch; — for activations other than ReLU.",
    "saturated": "Share of tanh/sigmoid outputs on the flat ends, where f′(z) ≈ 0; — for other activations.",
}


def diagnostic_notes(
    diagnostics, loss_before: float | None = None, loss_after: float | None = None
) -> list[str]:
    """Plain-language remarks about what looks off in this step (empty when nothing does)."""
    notes = []
    norms = [d.grad_norm for d in diagnostics]
    if any(not math.isfinite(g) for g in norms):
        notes.append(
            "Some gradients are not finite (NaN or inf): training has diverged. "
            "Reset to the initial weights and lower the learning rate."
        )
    elif max(norms, default=0) > EXPLODING_NORM:
        worst = int(np.argmax(norms))
        notes.append(
            f"Exploding gradients: ‖dW‖ of layer {worst + 1} is {norms[worst]:.3g}. "
            "Lower the learning rate or turn on gradient clipping."
        )
    elif len(norms) > 1 and norms[-1] > 0 and norms[0] / norms[-1] < VANISHING_RATIO:
        notes.append(
            f"Vanishing gradients: layer 1 gets a gradient {norms[0] / norms[-1]:.1e} "
            "times the last layer's, so it barely learns. Try ReLU/GELU, He init or batch norm."
        )
    for d in diagnostics:
        if d.dead_share is not None and d.dead_share >= DEAD_WARNING:
            notes.append(
                f"Dead ReLUs: {d.dead_share:.0%} of layer {d.layer + 1}'s units output 0 "
                "for every sample in this batch, so they get no gradient. A smaller learning "
                "rate, Leaky ReLU or GELU avoids this."
            )
        if d.saturated_share is not None and d.saturated_share >= SATURATED_WARNING:
            notes.append(
                f"Saturation: {d.saturated_share:.0%} of layer {d.layer + 1}'s {d.activation} "
                "outputs sit on the flat ends, where f′(z) ≈ 0."
            )
        if d.update_ratio is not None and d.update_ratio > LARGE_UPDATE:
            notes.append(
                f"Large update: layer {d.layer + 1}'s weights changed by {d.update_ratio:.0%} "
                "of their size in one step (around 0.1 % is typical)."
            )
    if loss_before is not None and loss_after is not None:
        if not math.isfinite(loss_after):
            notes.append(
                f"The loss became {loss_after} after the update: the learning rate is far "
                "too high. Reset to the initial weights and lower it."
            )
        elif loss_after > loss_before:
            notes.append(
                f"The loss rose on this same batch, {loss_before:.4g} → {loss_after:.4g}: "
                "the step overshot. The learning rate may be too high."
            )
    return notes
