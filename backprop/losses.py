"""Losses on the network's output layer; each returns the loss and dL/d(output).

Both losses average over the batch, so gradients do not grow with batch size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def _row_max(logits: np.ndarray) -> np.ndarray:
    """Each row's largest value, (N, 1). Picked by argmax: for a few classes per row that is
    several times faster than a max-reduction along the short axis, and the same values
    (NaN included: argmax points at it)."""
    n = logits.shape[0]
    return logits[np.arange(n), logits.argmax(axis=1)].reshape(n, 1)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of ``logits`` (N, C), stabilised by the row max."""
    shifted = logits - _row_max(logits)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``logits`` (N, C); rows sum to 1."""
    e = np.exp(logits - _row_max(logits))
    return e / np.add.reduce(e, axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Softmax fused with cross-entropy.

    logits: (N, C).  target: (N,) integer labels, or (N, C) one-hot / soft rows.
    Returns (loss, dL/dlogits (N, C), probabilities (N, C)).
    The fused gradient ``(p - y) / N`` never divides by a probability.
    """
    n = logits.shape[0]
    shifted = logits - _row_max(logits)
    exp = np.exp(shifted)
    total = np.add.reduce(exp, axis=1, keepdims=True)
    probs = exp / total
    log_total = np.log(total)
    inv_n = logits.dtype.type(1.0 / n)
    grad = probs * inv_n
    if target.ndim == 1:
        rows = np.arange(n)
        loss = float(np.add.reduce(log_total[:, 0] - shifted[rows, target])) / n
        grad[rows, target] -= inv_n
    else:
        loss = -float(np.add.reduce(target * (shifted - log_total), axis=None)) / n
        grad -= target * inv_n
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
