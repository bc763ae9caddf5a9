"""Optimizers that apply a trace's gradients and record the change they made.

``opt.step(net, trace)`` assembles each parameter's gradient (data gradient plus
weight decay λ·W on weights), clips the global norm if asked, turns it into a
change ΔP by the optimizer's rule, assigns ``P + ΔP`` as a *new* array (so the
trace's reference to the old P stays valid), and stores ΔP in the trace.
Rules linear in the gradient (SGD, momentum) without decay or clipping take
−η·g directly; for a dense block's W and b that is a_inᵀ·s and Σₙ s with one
scaled copy s = −η·d_affine.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .trace import Trace


def _positive(name: str, value, allow_zero: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


# where a record keeps each parameter's applied change
DELTA_FIELDS = {name: f"delta_{name}" for name in ("W", "b", "gamma", "beta", "table")}


def decays(param_name: str) -> bool:
    """Weight decay applies to weight matrices only, not to biases, batch-norm or embeddings."""
    return param_name == "W"


def effective_gradient(
    param_name: str, param: np.ndarray, grad: np.ndarray, weight_decay: float
) -> np.ndarray:
    """dL/dP of the regularised loss L + (λ/2)·ΣW²: grad + λ·W for weights."""
    if weight_decay and decays(param_name):
        return grad + param.dtype.type(weight_decay) * param
    return grad


def l2_penalty(net, weight_decay: float) -> float:
    """(λ/2)·ΣW² over every weight matrix: the term weight decay adds to the loss."""
    if not weight_decay:
        return 0.0
    return 0.5 * weight_decay * sum(float(np.sum(layer.W.astype(np.float64) ** 2)) for layer in net.layers)


class Optimizer:
    """Base: learning rate, weight decay (L2, on weights) and global-norm gradient clipping."""

    name = "optimizer"

    def __init__(
        self, learning_rate: float = 0.01, weight_decay: float = 0.0, clip_norm: float | None = None
    ):
        self.learning_rate = _positive("learning rate", learning_rate)
        self.weight_decay = _positive("weight decay", weight_decay, allow_zero=True)
        self.clip_norm = None if clip_norm in (None, 0) else _positive("clip norm", clip_norm)
        self.state: dict = {}
        self.steps = 0
        self.last_grad_norm: float | None = None
        self.last_clip_scale = 1.0

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _positive("learning rate", value)

    # True for rules whose change is a function of −η·g alone (SGD, momentum): they take
    # −η·g, which for a weight matrix comes straight out of the weight-gradient product.
    linear_in_gradient = False
    # True when the change is −η·g itself and the rule keeps no reference to it (SGD).
    change_is_scaled_gradient = False

    def _delta(self, key, grad: np.ndarray) -> np.ndarray:
        """ΔP from the gradient g (non-linear rules such as Adam)."""
        raise NotImplementedError

    def _delta_from_step(self, key, scaled: np.ndarray) -> np.ndarray:
        """ΔP from s = −η·g (rules with linear_in_gradient)."""
        raise NotImplementedError

    def step(self, net, trace: Trace) -> Trace:
        """Apply one update from ``trace`` to ``net``; record ΔP in the trace and return it.

        P + ΔP is a new array (for plain SGD's W, the buffer ΔW was formed in), so
        the trace keeps the weights its forward pass used. Without weight decay or
        clipping, SGD and momentum never form dW or db: −η·dW is the product
        a_inᵀ·(−η·d_affine) and −η·db the batch sum of −η·d_affine, equal to them
        up to float rounding.
        """
        if not trace.has_gradients:
            raise ValueError("this trace has no gradients: create it with net.gradients(x, y)")
        self.steps += 1
        self.last_clip_scale = 1.0
        rate = -self.learning_rate
        if self.linear_in_gradient and not self.weight_decay and self.clip_norm is None:
            in_place, from_step = self.change_is_scaled_gradient, self._delta_from_step
            for key, owner, rec in self._records(net, trace):
                for name, scaled in rec.scaled_gradients(rate):
                    if in_place and name == "W":
                        # ΔW is a fresh array nobody else holds: W + ΔW goes into its
                        # buffer, which saves a new (n_in, n_out) array per step, and the
                        # record keeps ΔW as its recipe.
                        owner.W = np.add(owner.W, scaled, out=scaled)
                        rec.record_delta_W_as_scaled_gradient(rate)
                    else:
                        self._apply(owner, rec, name, from_step((key, name), scaled))
        else:
            entries = [
                ((key, name), owner, rec, name)
                for key, owner, rec in self._records(net, trace)
                for name in rec.param_names()
            ]
            grads = self._gradients(entries)
            if self.linear_in_gradient:
                # the clip scale and −η in one multiplication
                factor = rate * self.last_clip_scale
                for (state_key, owner, rec, name), grad in zip(entries, grads):
                    delta = self._delta_from_step(state_key, grad * grad.dtype.type(factor))
                    self._apply(owner, rec, name, delta)
            else:
                scale = self.last_clip_scale
                for (state_key, owner, rec, name), grad in zip(entries, grads):
                    if scale != 1.0:
                        grad = grad * grad.dtype.type(scale)
                    self._apply(owner, rec, name, self._delta(state_key, grad))
        if trace.train:
            net.commit_batch_statistics(trace)
        trace.updated = True
        trace.learning_rate = self.learning_rate
        trace.optimizer = self.name
        return trace

    def state_finite(self) -> bool:
        """True if every running average the rule keeps (velocity, moments) is finite."""
        return all(
            np.isfinite(a).all()
            for value in self.state.values()
            for a in (value if isinstance(value, tuple) else (value,))
        )

    @staticmethod
    def _records(net, trace: Trace):
        """(state key, parameter owner, record) for the embedding (if any) and each dense block."""
        for key, rec in trace.parameter_records():
            yield key, net.embedding if key == "embedding" else net.layers[key], rec

    def _gradients(self, entries) -> list[np.ndarray]:
        """Each entry's gradient of the regularised loss; sets the clip scale from their global norm."""
        weight_decay = self.weight_decay
        grads = []
        for _, _, rec, name in entries:
            grad = getattr(rec, "d" + name)
            if weight_decay:
                grad = effective_gradient(name, getattr(rec, name), grad, weight_decay)
            grads.append(grad)
        if self.clip_norm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            self.last_grad_norm = norm
            if norm > self.clip_norm:
                self.last_clip_scale = self.clip_norm / norm
        return grads

    @staticmethod
    def _apply(owner, rec, name: str, delta: np.ndarray) -> None:
        setattr(owner, name, getattr(owner, name) + delta)
        setattr(rec, DELTA_FIELDS[name], delta)

    def config(self) -> dict:
        return {
            "optimizer": self.name,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "clip_norm": self.clip_norm,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "optimizer")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """ΔP = −η·g."""

    name = "sgd"
    linear_in_gradient = True
    change_is_scaled_gradient = True

    def _delta_from_step(self, key, scaled):
        return scaled


class Momentum(Optimizer):
    """v ← μv − η·g; ΔP = v, or with Nesterov ΔP = μv − η·g (the look-ahead form)."""

    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not (isinstance(momentum, numbers.Real) and 0 <= momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    linear_in_gradient = True

    def _delta_from_step(self, key, scaled):
        mu = scaled.dtype.type(self.momentum)
        velocity = self.state.get(key)
        velocity = scaled if velocity is None else mu * velocity + scaled
        self.state[key] = velocity
        return mu * velocity + scaled if self.nesterov else velocity

    def config(self):
        return {**super().config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; ΔP = −η·m̂/(√v̂ + ε) with bias-corrected m̂, v̂."""

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        **kwargs,
    ):
        super().__init__(learning_rate, **kwargs)
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not (isinstance(beta, numbers.Real) and 0 <= beta < 1):
                raise ValueError(f"{label} must be in [0, 1), got {beta!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), _positive("eps", eps)

    def _delta(self, key, grad):
        dt = grad.dtype.type
        m, v = self.state.get(key, (None, None))
        if m is None:
            m, v = np.zeros_like(grad), np.zeros_like(grad)
        m *= dt(self.beta1)
        m += dt(1 - self.beta1) * grad
        v *= dt(self.beta2)
        v += dt(1 - self.beta2) * (grad * grad)
        self.state[key] = (m, v)
        t = self.steps
        step_size = self.learning_rate * math.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        # eps scaled so that it matches ε added to sqrt(v̂) in the uncorrected form.
        return dt(-step_size) * m / (np.sqrt(v) + dt(self.eps * math.sqrt(1 - self.beta2**t)))

    def config(self):
        return {**super().config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, Adam)}


def make_optimizer(name: str, learning_rate: float, **options) -> Optimizer:
    """Build an optimizer by registry name; options that the optimizer does not take are rejected."""
    try:
        cls = OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    try:
        return cls(learning_rate, **options)
    except TypeError as err:
        raise ValueError(f"optimizer {name!r} got an option it does not take: {err}") from None
