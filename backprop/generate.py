"""Looking inside a next-token model: generation, principal directions, and the Bayes ceiling.

NumPy only. The model and the dataset come in as functions or plain values, so
any predictor can be driven and nothing here depends on the datasets package.

    result = generate(net.predict_proba, ds.encode, "abc", steps=8, context=3, vocab=ds.vocab)
    coords, explained = principal_components(net.embedding.table)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Generation:
    """tokens: the k generated tokens; probabilities: (k, V), the distribution each was read from."""

    start: str
    tokens: list
    probabilities: np.ndarray

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    def __repr__(self) -> str:
        return f"Generation({self.start!r} -> {self.text!r})"


def generate(
    predict_proba: Callable, encode: Callable, start: str, steps: int, context: int, vocab
) -> Generation:
    """Continue ``start`` greedily for ``steps`` tokens, feeding the last ``context`` tokens each time.

    predict_proba: (1, n_features) -> (1, V) probabilities over ``vocab``
    encode: a context string of ``context`` tokens -> (1, n_features)
    start: at least ``context`` tokens (only the last ``context`` are read first)
    """
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if len(start) < context:
        raise ValueError(
            f"start {start!r} has {len(start)} tokens; type at least {context} "
            f"(the context length) to generate from"
        )
    sequence = list(start)
    tokens, rows = [], []
    for _ in range(int(steps)):
        window = "".join(sequence[-context:])
        proba = np.asarray(predict_proba(encode(window)))[0]
        token = vocab[int(np.argmax(proba))]
        tokens.append(token)
        rows.append(proba)
        sequence.append(token)
    return Generation(start=start, tokens=tokens, probabilities=np.stack(rows))


def expected_continuation(masters, start: str, steps: int) -> tuple:
    """(master index, offset of ``start`` in it, the master's next ``steps`` tokens) or (None, None, []).

    Uses the first master (and first place in it) containing ``start``; the
    continuation stops where the master ends.
    """
    for index, master in enumerate(masters):
        offset = master.find(start)
        if offset >= 0:
            begin = offset + len(start)
            return index, offset, list(master[begin : begin + steps])
    return None, None, []


def principal_components(table: np.ndarray, n: int = 2) -> tuple:
    """Rows of ``table`` (V, D) in their first ``n`` principal directions.

    Returns (coords (V, n), explained (n,) share of variance per direction).
    Signs are fixed so each direction's largest coordinate is positive (SVD signs
    are arbitrary, and a flipping plot between reruns would look like learning).
    Missing directions (n > rank) are zeros.
    """
    table = np.asarray(table, dtype=np.float64)
    centred = table - table.mean(axis=0, keepdims=True)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    coords = np.zeros((table.shape[0], n))
    explained = np.zeros(n)
    k = min(n, s.size)
    coords[:, :k] = u[:, :k] * s[:k]
    total = float(np.sum(s**2))
    if total > 0:
        explained[:k] = s[:k] ** 2 / total
    for j in range(k):
        if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
            coords[:, j] *= -1
    return coords, explained


def explain_ambiguous(ambiguous) -> list[str]:
    """[(context, {target: count}), ...] -> "cca is followed by d 34× and a 18× → best guess d, 65%"."""
    lines = []
    for context, counts in ambiguous:
        parts = [f"{target} {count}×" for target, count in counts.items()]
        listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        best, best_count = next(iter(counts.items()))
        share = best_count / sum(counts.values())
        lines.append(f"{context} is followed by {listed} → best guess {best}, {share:.0%}")
    return lines


def context_distribution(windows, targets: np.ndarray, n_classes: int, window: str) -> np.ndarray:
    """(n_classes,) share of each target after ``window`` in the data (zeros if never seen)."""
    targets = np.asarray(targets)
    mask = np.fromiter((w == window for w in windows), dtype=bool, count=len(windows))
    counts = np.bincount(targets[mask], minlength=n_classes).astype(np.float64)
    return counts / counts.sum() if counts.sum() else counts


def ceiling_reading(accuracy: float, ceiling: float) -> str:
    """One line comparing an accuracy with the Bayes-optimal ceiling (both in [0, 1])."""
    gap = (ceiling - accuracy) * 100
    if gap <= 1e-6:
        if ceiling >= 1 - 1e-9:
            return "At the ceiling: every sample is predicted right."
        return "At the ceiling: the remaining errors are ambiguous contexts no model can get right."
    return f"Below the ceiling by {gap:.1f} points: train longer or use a bigger network."


def sample_order(sources: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Indices sorting samples by master, then window start (stable)."""
    return np.lexsort((positions, sources))
