"""Classification metrics from labels: accuracy, confusion matrix, per-class precision/recall/F1."""

from __future__ import annotations

import numpy as np


def _labels(values) -> np.ndarray:
    """Class indices from labels (N,) or from scores/probabilities/one-hot (N, C)."""
    values = np.asarray(values)
    return values.argmax(axis=1) if values.ndim == 2 else values.astype(np.int64)


def accuracy(y_true, y_pred) -> float:
    """Share of samples whose predicted class equals the true class."""
    t, p = _labels(y_true), _labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"got {t.shape[0]} true labels and {p.shape[0]} predictions")
    if t.size == 0:
        raise ValueError("accuracy of an empty set is undefined: give at least one sample")
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    t, p = _labels(y_true), _labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"got {t.shape[0]} true labels and {p.shape[0]} predictions")
    c = n_classes if n_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    matrix = np.zeros((c, c), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix


def precision_recall_f1(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support from a confusion matrix.

    A class never predicted has precision 0; one never present has recall 0 (as
    in common practice, with no division warning).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual.astype(np.int64)}


def validation_summary(y_true, probs, n_classes: int, keep: int = 24) -> dict:
    """What a classifier gets wrong on a labelled set, JSON-ready (a model card stores it).

    y_true: (N,) labels; probs: (N, C) predicted probabilities; keep: how many of the
    misclassified samples to list (the first ones, in data order).
    Returns {"n", "n_wrong", "confusion": C×C counts (row true, column predicted),
    "misclassified": [{"index", "true", "predicted", "probability"}, ...]}.
    """
    y_true = np.asarray(y_true).astype(np.int64)
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[0] != y_true.shape[0]:
        raise ValueError(f"got {y_true.shape[0]} labels and probabilities of shape {probs.shape}")
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    return {
        "n": int(y_true.size),
        "n_wrong": int(wrong.size),
        "confusion": confusion_matrix(y_true, predicted, n_classes).tolist(),
        "misclassified": [
            {
                "index": int(i),
                "true": int(y_true[i]),
                "predicted": int(predicted[i]),
                "probability": round(float(probs[i, predicted[i]]), 4),
            }
            for i in wrong[:keep]
        ],
    }
