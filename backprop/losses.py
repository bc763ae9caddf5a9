"""Losses on the network's output layer; each returns the loss and dL/d(output).

Both losses average over the batch, so gradients do not grow with batch size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@functools.lru_cache(maxsize=16)
def _row_starts(rows: int, columns: int) -> np.ndarray:
    """Flat index of each row's first entry in a C-ordered (rows, columns) array."""
    starts = np.arange(0, rows * columns, columns)
    starts.flags.writeable = False
    return starts


def _shift_by_row_max(logits: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """logits minus each row's largest value. The max is picked by argmax: for a few classes
    per row that is several times faster than a max-reduction along the short axis, and
    the same values (NaN included: argmax points at it). Entries are picked by flat index,
    which costs about half of indexing with a (row, column) pair of arrays."""
    return logits - logits.reshape(-1).take(starts + logits.argmax(axis=1))[:, None]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of ``logits`` (N, C), stabilised by the row max."""
    shifted = _shift_by_row_max(logits, _row_starts(*logits.shape))
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``logits`` (N, C); rows sum to 1."""
    e = np.exp(_shift_by_row_max(logits, _row_starts(*logits.shape)))
    return e / np.add.reduce(e, axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Softmax fused with cross-entropy.

    logits: (N, C).  target: (N,) integer labels, or (N, C) one-hot / soft rows.
    Returns (loss, dL/dlogits (N, C), probabilities (N, C)).
    The fused gradient ``(p - y) / N`` never divides by a probability.
    """
    n = logits.shape[0]
    starts = _row_starts(*logits.shape)
    shifted = _shift_by_row_max(logits, starts)
    exp = np.exp(shifted)
    total = np.add.reduce(exp, axis=1)
    probs = exp / total[:, None]
    log_total = np.log(total)
    inv_n = logits.dtype.type(1.0 / n)
    grad = probs * inv_n
    if target.ndim == 1:
        label_at = starts + target  # flat index of each row's label
        loss = float(np.add.reduce(log_total - shifted.reshape(-1).take(label_at))) / n
        flat_grad = grad.reshape(-1)  # a view: grad is a fresh C-ordered array
        flat_grad[label_at] -= inv_n
    else:
        loss = -float(np.add.reduce(target * (shifted - log_total[:, None]), axis=None)) / n
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
