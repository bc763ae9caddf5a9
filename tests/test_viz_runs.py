"""The run figures: what each trace draws, and that long curves are sent as plain lines."""

import numpy as np

from backprop import History
from viz.runs import MARKERS_UP_TO, compare_figure, distribution_figure


def history_with_layer_stats(epochs: int) -> History:
    """One dense layer whose nine percentiles at epoch e are e + 0, e + 1, …, e + 8 (hand-checkable)."""
    records = []
    for e in range(1, epochs + 1):
        stats = [float(e + p) for p in range(9)]
        records.append(
            {
                "epoch": e,
                "step": 10 * e,
                "train_loss": 1.0 / e,
                "learning_rate": 0.1,
                "layers": [{"W": stats, "a": stats, "dW": stats, "grad_norm": 1.0}],
            }
        )
    return History(epochs=records, step_loss=[1.0 / s for s in range(1, 10 * epochs + 1)])


def test_each_band_is_one_closed_outline_from_its_low_edge_to_its_high_edge():
    figure = distribution_figure(history_with_layer_stats(3), "W")
    bands = [trace for trace in figure.data if trace.fill == "toself"]

    assert [trace.name for trace in bands] == ["min–max", "p7–p93", "p16–p84", "p31–p69"]
    widest = bands[0]
    np.testing.assert_array_equal(widest.x, [1, 2, 3, 3, 2, 1])
    np.testing.assert_array_equal(widest.y, [1, 2, 3, 11, 10, 9])  # min forwards, max back
    median = [trace for trace in figure.data if trace.name == "median"][0]
    np.testing.assert_array_equal(median.y, [5, 6, 7])


def test_short_curves_mark_their_points_and_long_ones_are_lines():
    short = compare_figure({"run": history_with_layer_stats(MARKERS_UP_TO)}, show_steps=False)
    long = compare_figure({"run": history_with_layer_stats(MARKERS_UP_TO + 1)}, show_steps=False)

    assert short.data[0].mode == "lines+markers"
    assert long.data[0].mode == "lines"
