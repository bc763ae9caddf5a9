"""Losses on the network's output layer; each returns the loss and dL/d(output).

Both losses average over the batch, so gradients do not grow with batch size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of ``logits`` (N, C), stabilised by the row max."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``logits`` (N, C); rows sum to 1."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Softmax fused with cross-entropy.

    logits: (N, C).  target: (N,) integer labels, or (N, C) one-hot / soft rows.
    Returns (loss, dL/dlogits (N, C), probabilities (N, C)).
    The fused gradient ``(p - y) / N`` never divides by a probability.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    probs = exp / total
    log_total = np.log(total)
    grad = probs.copy()
    if target.ndim == 1:
        rows = np.arange(n)
        loss = float((log_total[:, 0] - shifted[rows, target]).sum()) / n
        grad[rows, target] -= 1
    else:
        loss = -float((target * (shifted - log_total)).sum()) / n
        grad -= target
    grad /= n
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
    name: str
    label: str
    formula: str
    function: Callable[[np.ndarray, np.ndarray], tuple]

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("cross_entropy", "softmax cross-entropy", "L = −(1/N) Σₙ log softmax(zₙ)[yₙ]", cross_entropy),
        Loss("mse", "mean squared error", "L = (1/ND) Σₙⱼ (aₙⱼ − yₙⱼ)²", mean_squared_error),
    )
}


def get_loss(name: str) -> Loss:
    """Look up a loss by name; unknown names raise ValueError listing the valid ones."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
