"""Words around one step's numbers: phase equations, worked sums, plain-language diagnosis.

The engine returns numbers (``backprop.breakdown``); this module writes them the way
the step-through page explains them. Each activation's, loss's and optimizer's
formula is read from its registry entry, declared beside its implementation.
Numbers are written with significant digits (``sig``), so a product of two small
values can be checked by hand instead of showing as -0.0001.
"""

from __future__ import annotations

import math

import numpy as np

from backprop.activations import ACTIVATIONS
from backprop.losses import LOSSES
from backprop.optimizers import OPTIMIZERS, make_optimizer

from .step_view import BACKWARD, FORWARD, LOSS, READY, UPDATE, Phase, StepView, sup

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


# What a layer after the transform does, forward and backward, in one line each.
STAGE_LINES = {
    "pos": (
        "h = x + P  (a learned vector P[t] per position t)",
        "dP = Σₙ dh  (summed over samples);  dx = dh",
    ),
    "ln": (
        "LN: x̂ = (x − μ)/√(σ² + ε) over each position's own numbers, out = γ·x̂ + β",
        "dx through the layer norm's own μ and σ;  dγ = Σ dout·x̂,  dβ = Σ dout",
    ),
    "add": (
        "out = f(x) + x  (the residual connection adds the branch's input back)",
        "the gradient goes both ways: into the branch f and straight back to x",
    ),
    "res": ("a residual connection starts here: x is kept for the add", "dx = d(branch) + d(skip)"),
    "last": (
        "the last position's vector is read: (N, T, D) → (N, D)",
        "dx = dout at the last position, 0 elsewhere",
    ),
    "flatten": (
        "flatten: (C, H, W) → one row of C·H·W numbers per sample",
        "dout reshaped back to (C, H, W)",
    ),
    "dropout": ("· ⊙ mask  (dropout, kept units scaled by 1/keep)", "d· ⊙ mask"),
    "bn": ("batch norm: γ·(x − μ_batch)/√(σ²_batch + ε) + β", "through μ and σ of the batch"),
}
ATTENTION_FORWARD = {
    "qkv": (
        "Q = x·Wq + bq,  K = x·Wk + bk,  V = x·Wv + bv  (x: the T positions of a sample, D numbers each)",
        "each split into {heads} head{s} of d = {width} numbers",
    ),
    "scores": (
        "scores = Q·Kᵀ/√d for each head: scores[t, j] = Σ_c Q[t, c]·K[j, c]/√{width}",
        "scores[t, j] = −∞ for j > t: a position attends to itself and the past only",
    ),
    "softmax": ("a[t, ·] = softmax(scores[t, ·]) = exp(s − max)/Σ exp(s − max): each row sums to 1",),
    "mix": ("Z = a·V for each head, heads joined: Z[t] = Σⱼ a[t, j]·V[j]",),
    "out": ("o = Z·Wo + bo",),
}
ATTENTION_BACKWARD = {
    "out": ("do = the gradient arriving at the attention's output", "dWo = Zᵀ·do,  dbo = Σ do,  dZ = do·Woᵀ"),
    "mix": ("dA = dZ·Vᵀ for each head,  dV = aᵀ·dZ",),
    "softmax": (
        "dscores[t, j] = a[t, j]·(dA[t, j] − Σₖ a[t, k]·dA[t, k])  (the softmax Jacobian, row by row)",
    ),
    "scores": ("dQ = dscores·K/√d,  dK = dscoresᵀ·Q/√d  (masked cells carry no gradient)",),
    "qkv": (
        "dWq = xᵀ·dQ,  dWk = xᵀ·dK,  dWv = xᵀ·dV  (rows: every position of every sample),  db = Σ d·",
        "dx = dQ·Wqᵀ + dK·Wkᵀ + dV·Wvᵀ",
    ),
}
ATTENTION_SUMMARIES = {
    (FORWARD, "qkv"): "Layer {k} projects each position of the input to a query, a key and a value.",
    (
        FORWARD,
        "scores",
    ): "Each query is compared with the keys of its own and earlier positions: one score per pair and head.",
    (FORWARD, "softmax"): "Each row of scores becomes attention weights that sum to 1; the future gets 0.",
    (FORWARD, "mix"): "Each position takes the weighted sum of the values it attends to.",
    (
        FORWARD,
        "out",
    ): "The heads are joined and projected by Wo; the residual connection adds the input back.",
    (BACKWARD, "out"): "The gradient arrives at layer {k}'s output: dWo, dbo and dZ.",
    (BACKWARD, "mix"): "Back through the weighted sum: the gradient of each attention weight (dA) and of V.",
    (
        BACKWARD,
        "softmax",
    ): "Back through the softmax: each score's gradient is its weight times its dA minus the row's weighted mean of dA.",
    (BACKWARD, "scores"): "Back through the scores: dQ from the keys, dK from the queries.",
    (BACKWARD, "qkv"): "Back through the projections: dWq, dWk, dWv and the gradient for the input.",
}


def _stage_line(rec_kind: str, spec: str, backward: bool, n: str) -> str | None:
    if rec_kind == "activation":
        if backward:
            return f"dz{n} = da{n} ⊙ f′(z{n})"
        return f"a{n} = f(z{n}),  f = {spec}: f(z) = {ACTIVATIONS[spec].equation}"
    lines = STAGE_LINES.get(rec_kind)
    return None if lines is None else lines[1 if backward else 0]


def block_equations(view: StepView, phase: Phase) -> tuple[str, ...]:
    """The lines of a forward or backward phase of any kind of block."""
    block = view.blocks[phase.layer]
    k = block.index
    n, backward = sup(k + 1), phase.kind == BACKWARD
    last = k == len(view.blocks) - 1
    stages = [(kind, spec) for kind, spec in block.stage_specs]
    if block.kind == "dense" and all(kind in ("activation", "dropout", "bn") for kind, _ in stages):
        if backward:
            return backward_equations(k, block.activation, block.stages, last)
        return forward_equations(k, block.activation, block.stages)
    arriving = "dL/d(output), from the loss" if last else f"from layer {k + 2}"
    if block.kind == "attn":
        width = block.head_width
        table = ATTENTION_BACKWARD if backward else ATTENTION_FORWARD
        lines = [
            line.format(heads=block.heads, s="s" if block.heads > 1 else "", width=width)
            for line in table[phase.stage]
        ]
        after = [_stage_line(kind, spec, backward, n) for kind, spec in stages]
        if phase.stage == "out":
            after = [line for line in after if line]
            lines = (
                lines + after if not backward else [f"the gradient arrives {arriving}"] + after[::-1] + lines
            )
        return tuple(lines)
    if block.kind == "conv":
        if not backward:
            lines = [
                f"z{n} = x ⊛ K{n} + b{n}: each k×k patch of x (a column of cols[n]) times each kernel, "
                f"z[n] = K{n}·cols[n] + b{n} for every sample n"
            ]
            for kind, spec in stages:
                if kind in ("maxpool", "avgpool"):
                    word = "max" if kind == "maxpool" else "mean"
                    lines.append(
                        f"p{n} = {word} of each window"
                        + ("  (switches remember where each max sat)" if kind == "maxpool" else "")
                    )
                else:
                    line = _stage_line(kind, spec, False, n)
                    if line:
                        lines.append(line)
            return tuple(lines)
        lines = [f"dp{n} arrives {arriving}"]
        for kind, spec in reversed(stages):
            if kind == "maxpool":
                lines.append(f"da{n}: each window's gradient goes to its max (the switch), the others get 0")
            elif kind == "avgpool":
                lines.append(f"da{n}: each window's gradient is shared equally by its entries")
            elif kind != "flatten":
                line = _stage_line(kind, spec, True, n)
                if line:
                    lines.append(line)
        lines.append(
            f"dK{n} = Σₙ dY[n]·cols[n]ᵀ  (summed over every sample and position),  db{n} = Σ dY  (dY = dz{n})"
        )
        if k > 0:
            lines.append(
                f"dcols[n] = K{n}ᵀ·dY[n],  dx = col2im(dcols): each column added back onto its patch"
            )
        return tuple(lines)
    if block.kind == "embed":
        if not backward:
            lines = [f"e{n} = table{n}[ids]: token v at position t reads row v of the table"]
            lines += [line for kind, spec in stages if (line := _stage_line(kind, spec, False, n))]
            return tuple(lines)
        lines = [f"the gradient arrives {arriving}"]
        lines += [line for kind, spec in reversed(stages) if (line := _stage_line(kind, spec, True, n))]
        lines.append(f"dtable{n}[v] = Σ of de{n}[n, t] over the positions (n, t) holding token v")
        return tuple(lines)
    # a dense layer with stages after it (residual add, layer norm, last position)
    if not backward:
        lines = [f"z{n} = a_in·W{n} + b{n}  (at every position)"]
        lines += [line for kind, spec in stages if (line := _stage_line(kind, spec, False, n))]
        return tuple(lines)
    lines = [f"the gradient arrives {arriving}"]
    lines += [line for kind, spec in reversed(stages) if (line := _stage_line(kind, spec, True, n))]
    lines.append(f"dW{n} = a_inᵀ·dz{n},  db{n} = Σ dz{n}  (rows: every position of every sample)")
    return tuple(lines)


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
    return block_equations(view, phase)


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
    block = view.blocks[phase.layer]
    source = "the input x" if k == 1 else f"layer {k - 1}'s output"
    arriving = "the loss" if k == last else f"layer {k + 1}"
    if block.kind == "attn":
        return ATTENTION_SUMMARIES[(phase.kind, phase.stage)].format(k=k)
    if block.kind == "conv":
        pooled = (
            " and pools each window"
            if any(kind in ("maxpool", "avgpool") for kind, _ in block.stage_specs)
            else ""
        )
        if phase.kind == FORWARD:
            return (
                f"Layer {k} of {last} slides its kernels over {source}, adds the biases, "
                f"applies {block.activation}{pooled}."
            )
        return (
            f"The gradient arrives at layer {k} from {arriving}: back through the pooling and f′(z), "
            f"then dK = Σₙ dY[n]·cols[n]ᵀ" + (" and dx by col2im." if k > 1 else ".")
        )
    if block.kind == "embed":
        if phase.kind == FORWARD:
            return f"Layer {k} looks up each token's row of the table and adds what follows it."
        return f"The gradient arrives at layer {k}: each table row gets the sum over the positions holding its token."
    if phase.kind == FORWARD:
        extra = "" if block.activation == "linear" else " and applies its activation"
        return f"Layer {k} of {last} takes {source}, multiplies by W{sup(k)}, adds b{sup(k)}{extra}."
    return f"The gradient arrives at layer {k} from {arriving}: dz{sup(k)}, then dW{sup(k)} and db{sup(k)}."


def phase_flow(view: StepView, phase: Phase) -> str:
    """The words over the lit edges of the diagram while ``phase`` is current ("" when none are lit)."""
    if phase.layer is None:
        return ""
    block = view.blocks[phase.layer]
    n, k = sup(phase.layer + 1), phase.layer
    if block.kind == "attn":
        return (
            {
                "qkv": "x → Q, K, V",
                "scores": "Q·Kᵀ/√d",
                "softmax": "softmax → a",
                "mix": "a·V → Z",
                "out": "Z·Wo + bo (+ x)",
            }[phase.stage]
            if phase.kind == FORWARD
            else {
                "out": "dWo ← do",
                "mix": "dA, dV ← dZ",
                "softmax": "dscores ← dA",
                "scores": "dQ, dK ← dscores",
                "qkv": "dWq, dWk, dWv, dx",
            }[phase.stage]
        )
    if block.kind == "conv":
        return f"z{n} = x ⊛ K{n} + b{n}" if phase.kind == FORWARD else f"dK{n} = Σₙ dY[n]·cols[n]ᵀ"
    if block.kind == "embed":
        return "table[ids]" if phase.kind == FORWARD else "dtable ← de"
    if phase.kind == FORWARD:
        return f"a{'⁰=x' if k == 0 else sup(k)} → z{n} = a·W{n} + b{n} → a{n}"
    return f"dW{n}, db{n} ← dz{n} ← da{n}"


# --------------------------------------------------------------- inspector
def terms_table(rows, headers) -> list[dict]:
    """Rows of numbers as dicts of strings (significant digits), for a table; text stays as it is."""
    return [
        {h: (str(v) if isinstance(v, (int, np.integer, str)) else sig(v)) for h, v in zip(headers, row)}
        for row in rows
    ]


def markdown_table(rows: list[dict], headers: list[str]) -> str:
    """Rows of text as a Markdown table, numbers right-aligned: light to send and to draw."""

    def cell(text) -> str:
        return str(text).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---:|" * len(headers)]
    lines += ["| " + " | ".join(cell(row.get(h, "")) for h in headers) + " |" for row in rows]
    return "\n".join(lines)


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


def bias_lines(b, layer: int, at_backward: bool, at_update: bool, over: str = "samples") -> list[str]:
    """b[j], db[j] as a sum over the batch (``over``: "samples", or "samples and positions"), the update."""
    n = sup(layer + 1)
    lines = [f"**b{n}[{b.j}]** = {sig(b.bias)}"]
    if at_backward:
        total = f"Σₙ {b.grad_name}[n,{b.j}]" if over == "samples" else f"Σ {b.grad_name}[n,{b.j},y,x]"
        lines.append(
            f"db{n}[{b.j}] = {total} over {len(b.terms)} {over} = **{sig(b.total)}** (trace: {sig(b.db)})"
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


def kernel_lines(kb, at_backward: bool, at_update: bool) -> list[str]:
    """K[o, c, i, j]: its value, dK as a sum over samples and positions of dY·cols, the update."""
    n = sup(kb.layer + 1)
    o, c, i, j = kb.index
    where = f"[{o},{c},{i},{j}]"
    lines = [f"**K{n}{where}** = {sig(kb.weight)} (the value this step used)"]
    if at_backward:
        shift = f"y·{kb.stride}+{i}" if kb.stride != 1 else f"y+{i}"
        shift_x = f"x·{kb.stride}+{j}" if kb.stride != 1 else f"x+{j}"
        pad = f" (x padded by {kb.padding})" if kb.padding else ""
        lines.append(
            f"dK{n}{where} = Σ over samples n and output positions (y, x) of dY[n,{o},y,x]·cols[n,({c},{i},{j}),(y,x)] "
            f"over {len(kb.terms)} terms = **{sig(kb.total)}** (trace: {sig(kb.dK)})"
        )
        lines.append(
            f"cols[n,({c},{i},{j}),(y,x)] is the input pixel x[n,{c},{shift},{shift_x}]{pad} this weight saw."
        )
    if at_update and kb.delta is not None:
        lines.append(
            f"Update: ΔK = {sig(kb.delta)}, new K = {sig(kb.weight)} + ({sig(kb.delta)}) = **{sig(kb.new_value)}**"
        )
    return lines


def feature_map_lines(f, activation: str, at_backward: bool) -> list[str]:
    """A feature-map unit: its patch sum, a = f(z), its pooling window and, at the backward pass, dz."""
    n = sup(f.layer + 1)
    where = f"[{f.sample},{f.channel},{f.y},{f.x}]"
    lines = [
        f"**z{n}{where}** = Σ over c, i, j of patch[c,i,j]·K{n}[{f.channel},c,i,j] + b{n}[{f.channel}] "
        f"= {sig(f.total - f.bias)} + ({sig(f.bias)}) = **{sig(f.affine)}**  (the patch is column "
        f"(y={f.y}, x={f.x}) of cols[{f.sample}])"
    ]
    if activation != "linear":
        formula = ACTIVATIONS[activation].equation
        lines.append(f"a{n}{where} = {activation}(z) = {formula} at z = {sig(f.z)}: **{sig(f.a)}**")
    if f.pool is not None:
        if f.window is None:
            lines.append(
                "Pooling drops this row or column (it does not fill a whole window): no gradient reaches it."
            )
        elif f.pool == "maxpool":
            role = "is the max" if f.share == 1.0 else "ties for the max" if f.share else "is not the max"
            lines.append(
                f"Max pooling: window ({f.window[0]},{f.window[1]}) gives p = {sig(f.pooled)}; this unit {role} "
                f"(switch {sig(f.share)})."
            )
        else:
            lines.append(
                f"Average pooling: window ({f.window[0]},{f.window[1]}) gives p = {sig(f.pooled)}; this unit gets {sig(f.share)} of its gradient."
            )
    if at_backward and f.da is not None:
        if f.pool is not None and f.window is not None:
            lines.append(f"da = switch · dp = {sig(f.share)} · {sig(f.d_pooled)} = {sig(f.da)}")
        elif f.pool is not None:
            lines.append("da = 0: the unit is outside every pooling window.")
        lines.append(
            f"**dz{n}{where}** = da · f′(z) = {sig(f.da)} · {sig(f.slope)} = **{sig(f.dz)}** (trace: {sig(f.dz_trace)})"
        )
    return lines


def attention_lines(a, at_softmax_backward: bool) -> list[str]:
    """An attention weight: its score, the softmax of its row, and the softmax Jacobian for dscore."""
    n = sup(a.layer + 1)
    where = f"[{a.query},{a.key}]"
    head = f"head {a.head}, sample {a.sample}"
    if a.masked:
        lines = [
            f"**a{n}{where}** ({head}) = 0: key {a.key} comes after query {a.query}, so its score is set to −∞ "
            "before the softmax (a position never looks ahead)."
        ]
        if at_softmax_backward:
            lines.append(f"dscore{where} = a·(dA − Σ) = 0 · (…) = **0** (trace: {sig(a.d_score_trace)})")
        return lines
    lines = [
        f"score{where} = Σ_c Q[{a.query},c]·K[{a.key},c] · 1/√d = {sig(a.dot)} · "
        f"{sig(a.scale)} = **{sig(a.score)}**  ({head}; the largest products below)",
        f"**a{n}{where}** = exp(score[{a.query},{a.key}] − max) / Σⱼ exp(score[{a.query},j] − max) over the keys "
        f"0…{a.query} = **{sig(a.weight)}**  (the row's scores: {', '.join(sig(v, 4) for v in a.row_scores)})",
    ]
    if at_softmax_backward and a.d_score is not None:
        lines.append(
            f"dA{where} = dZ[{a.query},·]·V[{a.key},·] = {sig(a.d_weight)} (from the trace, the gradient of this weight)"
        )
        lines.append(f"Σₖ a[{a.query},k]·dA[{a.query},k] over the row = **{sig(a.row_sum)}** (terms below)")
        lines.append(
            f"**dscore{where}** = a·(dA − Σ) = {sig(a.weight)} · ({sig(a.d_weight)} − ({sig(a.row_sum)})) "
            f"= **{sig(a.d_score)}** (trace: {sig(a.d_score_trace)})"
        )
    return lines


def query_lines(q) -> list[str]:
    n = sup(q.layer + 1)
    where = f"[{q.position},{q.column}]"
    return [
        f"**dQ{n}{where}** (sample {q.sample}, head {q.head}) = Σ over keys j ≤ {q.position} of "
        f"dscore[{q.position},j]·K[j,{q.column}]·1/√d over {len(q.terms)} keys = **{sig(q.total)}** "
        f"(trace: {sig(q.dq)});  1/√d = {sig(q.scale)}"
    ]


def embedding_lines(e, token: str, at_backward: bool, at_update: bool) -> list[str]:
    n = sup(e.layer + 1)
    where = f"[{e.token},{e.dim}]"
    lines = [f"**table{n}{where}** = {sig(e.value)}: number {e.dim} of the row of token “{token}”"]
    if at_backward:
        if e.terms:
            lines.append(
                f"dtable{n}{where} = Σ of de[n,t,{e.dim}] over the {len(e.terms)} positions (n, t) holding “{token}” "
                f"= **{sig(e.total)}** (trace: {sig(e.dtable)})"
            )
        else:
            lines.append(
                f"dtable{n}{where} = **0**: no position of this batch holds “{token}” (trace: {sig(e.dtable)})"
            )
    if at_update and e.delta is not None:
        lines.append(
            f"Update: Δ = {sig(e.delta)}, new value = {sig(e.value)} + ({sig(e.delta)}) = **{sig(e.new_value)}**"
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
