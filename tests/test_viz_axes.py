"""Tick labels of the log axes: enough of them among the values, and each written in full."""

import pytest

from viz.axes import log_ticks


@pytest.mark.parametrize(
    "low, high",
    [(0.15, 0.25), (0.18, 0.21), (0.11, 0.9), (0.003, 0.2), (0.04, 0.12), (1e-5, 3e-5), (1e-6, 1.0)],
)
def test_at_least_three_distinct_labels_fall_among_the_values(low, high):
    values, labels = log_ticks(low, high)
    shown = [label for value, label in zip(values, labels) if low <= value <= high]
    assert len(shown) >= 3, (low, high, labels)
    assert len(set(labels)) == len(labels)
    assert all(float(label) == pytest.approx(value) for value, label in zip(values, labels))


def test_wide_spans_keep_their_powers_of_ten():
    values, labels = log_ticks(1e-6, 1.0)
    assert labels == ["1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1", "1"]
    assert log_ticks(0.01, 0.5)[1][:4] == ["0.01", "0.02", "0.05", "0.1"]
