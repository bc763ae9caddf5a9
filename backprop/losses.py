"""Losses on the network's output layer; each returns the loss and dL/d(output).

Both losses average over the batch, so gradients do not grow with batch size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .options import Declared


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``logits`` (N, C), stabilised by subtracting each row's max; rows sum to 1."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of ``logits`` (N, C), stabilised by the row max."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Softmax fused with cross-entropy.

    logits: (N, C).  target: (N,) integer labels, or (N, C) one-hot / soft rows.
    Returns (loss, dL/dlogits (N, C), probabilities (N, C)).
    The fused gradient ``(p − y) / N`` never divides by a probability.
    """
    n = logits.shape[0]
    log_probs = log_softmax(logits)
    probs = np.exp(log_probs)
    grad = probs.copy()
    if target.ndim == 1:
        rows = np.arange(n)
        loss = -float(log_probs[rows, target].sum()) / n
        grad[rows, target] -= 1
    else:
        loss = -float((target * log_probs).sum()) / n
        grad -= target
    grad /= logits.dtype.type(n)
    return loss, grad, probs


def mean_squared_error(output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, None]:
    """Mean over all N·D entries of (output - target)².

    output, target: (N, D).  Returns (loss, dL/doutput = 2(output - target)/(N·D), None).
    """
    diff = output - target
    loss = float(np.mean(diff * diff))
    return loss, diff * (2.0 / diff.size), None


@dataclass(frozen=True)
class Loss:
    """A loss: its declaration (name, label, equation, facts) and function(output, target) -> (loss, dL/doutput, probs)."""

    declared: Declared
    function: Callable[[np.ndarray, np.ndarray], tuple]

    @property
    def name(self) -> str:
        return self.declared.name

    @property
    def label(self) -> str:
        return self.declared.label

    @property
    def formula(self) -> str:
        return self.declared.equation

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            Declared(
                "cross_entropy",
                "softmax cross-entropy",
                "L = −(1/N) Σₙ log softmax(zₙ)[yₙ]",
                help="For classes: softmax turns outputs into probabilities; the loss is −log p(true class).",
                facts={"gradient": "dL/dz = (softmax(z) − y) / N"},
            ),
            cross_entropy,
        ),
        Loss(
            Declared(
                "mse",
                "mean squared error",
                "L = (1/ND) Σₙⱼ (aₙⱼ − yₙⱼ)²",
                help="For numbers: the mean of squared differences.",
                facts={"gradient": "dL/da = 2(a − y) / (N·D)"},
            ),
            mean_squared_error,
        ),
    )
}


def get_loss(name: str) -> Loss:
    """Look up a loss by name; unknown names raise ValueError listing the valid ones."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
