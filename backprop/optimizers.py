"""Optimizers: turn a trace's gradients into a change of every parameter, and record it.

``opt.step(net, trace)`` takes each parameter's gradient g (plus λ·W on weight
arrays when there is weight decay), scales all of them down together when their
global norm exceeds ``clip_norm``, computes the change ΔP by the optimizer's rule,
assigns P + ΔP as a new array (so the trace keeps the weights its forward pass
used), and stores ΔP in the trace.

Each optimizer declares its name, label, rule and options once, beside its code;
the sidebar, the command line, run settings and the step-through read them there.
"""

from __future__ import annotations

import math

import numpy as np

from .options import Declared, Option
from .tracing import Trace

LEARNING_RATE = Option(
    "learning_rate",
    "float",
    0.03,
    label="Learning rate η",
    low=0.0,
    high=10.0,
    low_open=True,
    log=True,
    cli="--lr",
    aliases=("--learning-rate",),
    help="Step size: how far each update moves the weights.",
)
WEIGHT_DECAY = Option(
    "weight_decay",
    "float",
    0.0,
    label="Weight decay λ (L2)",
    low=0.0,
    high=1.0,
    cli="--l2",
    aliases=("--weight-decay",),
    help="Adds (λ/2)·ΣW² to the loss: pulls weights toward 0.",
)
CLIP_NORM = Option(
    "clip_norm",
    "float",
    None,
    label="Clip gradient norm",
    low=0.0,
    high=1e4,
    low_open=True,
    optional=True,
    help="Scales all gradients down together when their global norm exceeds this.",
)
MOMENTUM = Option(
    "momentum",
    "float",
    0.9,
    label="Momentum μ",
    low=0.0,
    high=1.0,
    high_open=True,
    help="Share of the previous change carried into the next.",
)
NESTEROV = Option(
    "nesterov", "bool", False, label="Nesterov", help="Take the gradient's step from the look-ahead point."
)
BETA1 = Option(
    "beta1",
    "float",
    0.9,
    label="β₁",
    low=0.0,
    high=1.0,
    high_open=True,
    help="Decay of the running mean of gradients.",
)
BETA2 = Option(
    "beta2",
    "float",
    0.999,
    label="β₂",
    low=0.0,
    high=1.0,
    high_open=True,
    help="Decay of the running mean of squared gradients.",
)
RHO = Option(
    "rho",
    "float",
    0.9,
    label="ρ",
    low=0.0,
    high=1.0,
    high_open=True,
    help="Decay of the running mean of squared gradients.",
)
EPS = Option(
    "eps",
    "float",
    1e-8,
    label="ε",
    low=0.0,
    high=1.0,
    low_open=True,
    log=True,
    help="Keeps the division finite where gradients are tiny.",
)


def decays(param_name: str) -> bool:
    """Weight decay applies to weight arrays (W, and attention's Wq, Wk, Wv, Wo) only, not to biases,
    normalisation or embeddings."""
    return param_name.startswith("W")


def effective_gradient(
    param_name: str, param: np.ndarray, grad: np.ndarray, weight_decay: float
) -> np.ndarray:
    """dL/dP of the regularised loss L + (λ/2)·ΣW²: grad + λ·W for weight arrays."""
    if weight_decay and decays(param_name):
        return grad + param.dtype.type(weight_decay) * param
    return grad


def l2_penalty(net, weight_decay: float) -> float:
    """(λ/2)·ΣW² over every weight array: the term weight decay adds to the loss."""
    if not weight_decay:
        return 0.0
    squares = sum(
        float(np.sum(value.astype(np.float64) ** 2))
        for layer in net.layers
        for name, value in layer.params.items()
        if decays(name)
    )
    return 0.5 * weight_decay * squares


class Optimizer:
    """Base: learning rate, weight decay (L2, on weight arrays) and global-norm gradient clipping.

    Subclasses declare themselves and give ``change(key, g)`` -> ΔP for one parameter.
    """

    declared: Declared

    def __init__(
        self,
        learning_rate: float = 0.01,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        **options,
    ):
        self.learning_rate = learning_rate
        self.weight_decay = WEIGHT_DECAY.check(weight_decay)
        self.clip_norm = CLIP_NORM.check(clip_norm or None)
        self.options = self.declared.check_options(options, "optimizer")
        self.state: dict = {}
        self.steps = 0
        self.last_grad_norm: float | None = None
        self.last_clip_scale = 1.0

    @property
    def name(self) -> str:
        return self.declared.name

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = LEARNING_RATE.check(value)

    @property
    def equation(self) -> str:
        """The rule as this optimizer applies it (its options filled in where they change the form)."""
        return self.declared.equation

    def change(self, key, grad: np.ndarray) -> np.ndarray:
        """ΔP for the parameter ``key`` from its gradient g."""
        raise NotImplementedError

    def step(self, net, trace: Trace) -> Trace:
        """Apply one update from ``trace`` to ``net``; record ΔP in the trace and return it."""
        if not trace.has_gradients:
            raise ValueError("this trace has no gradients: create it with net.gradients(x, y)")
        self.steps += 1
        entries = [(layer, rec, name) for layer, rec in zip(net.layers, trace.layers) for name in rec.params]
        grads = [
            effective_gradient(name, rec.params[name], rec.grads[name], self.weight_decay)
            for _, rec, name in entries
        ]
        self.last_clip_scale = self.clip_scale(grads)
        for (layer, rec, name), grad in zip(entries, grads):
            if self.last_clip_scale != 1.0:
                grad = grad * grad.dtype.type(self.last_clip_scale)
            delta = self.change((layer.name, name), grad)
            layer.params[name] = layer.params[name] + delta
            rec.deltas[name] = delta
        if trace.train:
            net.commit_batch_statistics(trace)
        trace.updated = True
        trace.learning_rate = self.learning_rate
        trace.optimizer = self.name
        return trace

    def clip_scale(self, grads: list[np.ndarray]) -> float:
        """clip_norm / ‖g‖ when the global norm of all gradients exceeds clip_norm, else 1."""
        if self.clip_norm is None:
            return 1.0
        norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
        self.last_grad_norm = norm
        return self.clip_norm / norm if norm > self.clip_norm else 1.0

    def state_finite(self) -> bool:
        """True if every running average the rule keeps (velocity, moments) is finite."""
        return all(
            np.isfinite(a).all()
            for value in self.state.values()
            for a in (value if isinstance(value, tuple) else (value,))
        )

    def config(self) -> dict:
        return {
            "optimizer": self.name,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "clip_norm": self.clip_norm,
            **self.options,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "optimizer")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    declared = Declared("sgd", "SGD", "ΔP = −η·g", help="Plain gradient descent.")

    def change(self, key, grad):
        return -self.learning_rate * grad


class Momentum(Optimizer):
    declared = Declared(
        "momentum",
        "SGD with momentum",
        "v ← μ·v − η·g;  ΔP = v   (Nesterov: ΔP = μ·v − η·g)",
        options=(MOMENTUM, NESTEROV),
        help="Keeps a velocity: steps add up along directions the gradient keeps pointing to.",
    )

    @property
    def equation(self):
        return (
            "v ← μ·v − η·g;  ΔP = μ·v − η·g  (Nesterov)"
            if self.options["nesterov"]
            else "v ← μ·v − η·g;  ΔP = v"
        )

    def change(self, key, grad):
        step = -self.learning_rate * grad
        velocity = self.state.get(key)
        velocity = step if velocity is None else self.options["momentum"] * velocity + step
        self.state[key] = velocity
        return self.options["momentum"] * velocity + step if self.options["nesterov"] else velocity


class RMSprop(Optimizer):
    declared = Declared(
        "rmsprop",
        "RMSprop",
        "s ← ρ·s + (1 − ρ)·g²;  ΔP = −η·g / (√s + ε)",
        options=(RHO, EPS),
        help="Divides each step by a running size of its recent gradients.",
    )

    def change(self, key, grad):
        rho = self.options["rho"]
        mean_square = self.state.get(key, np.zeros_like(grad))
        mean_square = rho * mean_square + (1 - rho) * grad * grad
        self.state[key] = mean_square
        return -self.learning_rate * grad / (np.sqrt(mean_square) + self.options["eps"])


class Adam(Optimizer):
    declared = Declared(
        "adam",
        "Adam",
        "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  ΔP = −η·m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)",
        options=(BETA1, BETA2, EPS),
        help="Momentum and RMSprop together, with bias-corrected running means.",
    )

    def change(self, key, grad):
        beta1, beta2, t = self.options["beta1"], self.options["beta2"], self.steps
        m, v = self.state.get(key, (np.zeros_like(grad), np.zeros_like(grad)))
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        self.state[key] = (m, v)
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return -self.learning_rate * m_hat / (np.sqrt(v_hat) + self.options["eps"])


OPTIMIZER_CLASSES: dict[str, type[Optimizer]] = {
    cls.declared.name: cls for cls in (SGD, Momentum, RMSprop, Adam)
}
OPTIMIZERS: dict[str, Declared] = {name: cls.declared for name, cls in OPTIMIZER_CLASSES.items()}


def make_optimizer(
    name: str, learning_rate: float, weight_decay: float = 0.0, clip_norm: float | None = None, **options
) -> Optimizer:
    """Build an optimizer by registry name; options it does not declare raise ValueError."""
    try:
        cls = OPTIMIZER_CLASSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    return cls(learning_rate, weight_decay=weight_decay, clip_norm=clip_norm, **options)
