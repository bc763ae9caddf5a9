"""The runs' curves as the curve view receives them: every number the run saved, bit for bit, in the
panel and style it belongs to."""

import numpy as np
import pytest

from backprop import History
from viz.runs import (
    MARKERS_UP_TO,
    MAX_STEP_POINTS,
    compare_curves,
    distribution_curves,
    ema,
    grad_norm_curves,
)


def history_with_layer_stats(epochs: int, steps_per_epoch: int = 10) -> History:
    """One dense layer whose nine percentiles at epoch e are e + 0, e + 1, …, e + 8 (hand-checkable)."""
    records = []
    for e in range(1, epochs + 1):
        stats = [float(e + p) for p in range(9)]
        records.append(
            {
                "epoch": e,
                "step": steps_per_epoch * e,
                "train_loss": 1.0 / e,
                "val_loss": None if e == 2 else 1.5 / e,
                "train_accuracy": 1 - 0.5 / e,
                "learning_rate": 0.1,
                "seconds": 0.5,
                "layers": [{"W": stats, "a": stats, "dW": stats, "grad_norm": 0.1 * e}],
            }
        )
    return History(epochs=records, step_loss=[1.0 / s for s in range(1, steps_per_epoch * epochs + 1)])


def floats(values) -> np.ndarray:
    """A curve's values as the view is sent them: float64 exactly (``ui.curve_view`` packs them)."""
    assert isinstance(values, np.ndarray) and values.dtype == np.float64, (type(values), values)
    return values


def by_name(panel: dict) -> dict:
    return {series["name"]: series for series in panel["series"]}


def test_each_curve_carries_the_runs_numbers_in_its_panel_and_style():
    history = history_with_layer_stats(4)
    payload = compare_curves({"a": history, "b": history_with_layer_stats(3)}, x="epoch")
    loss, accuracy = payload["panels"]
    assert (loss["title"], accuracy["title"], accuracy["percent"], payload["x_title"]) == (
        "loss",
        "accuracy",
        True,
        "epoch",
    )
    curves = by_name(loss)
    np.testing.assert_array_equal(floats(curves["a · train loss"]["x"]), [1, 2, 3, 4])
    assert floats(curves["a · train loss"]["y"]).tolist() == [
        1.0,
        0.5,
        1 / 3,
        0.25,
    ]  # exactly the saved floats
    val = floats(curves["a · val loss"]["y"])
    assert np.isnan(val[1]) and val[0] == 1.5  # a missing value is a gap, not a zero
    assert curves["a · val loss"]["dash"] == "dash" and curves["a · train loss"]["dash"] == "solid"
    steps = curves["a · step loss"]
    assert steps["opacity"] == 0.3 and floats(steps["y"]).tolist() == history.step_loss
    np.testing.assert_allclose(floats(steps["x"])[[9, 19]], [1.0, 2.0])  # step 10 ends epoch 1
    assert list(by_name(accuracy)) == ["a · train acc", "b · train acc"]
    # one colour per run, shared by all its curves; the legend names each run once, then the styles
    assert {s["color"] for s in loss["series"] if s["group"] == "a"} == {payload["legend"][0]["color"]}
    assert [entry["label"] for entry in payload["legend"]] == [
        "a",
        "b",
        "training (solid)",
        "validation (dashed)",
        "each step's loss (faint)",
    ]
    assert [entry["group"] for entry in payload["legend"]] == ["a", "b", None, None, None]


def test_smoothing_log_scale_and_the_x_axis_change_what_is_sent():
    history = history_with_layer_stats(5)
    plain = by_name(compare_curves({"a": history})["panels"][0])
    smooth = by_name(compare_curves({"a": history}, smoothing=0.6)["panels"][0])
    assert floats(smooth["a · train loss"]["y"]).tolist() == ema(history.column("train_loss"), 0.6).tolist()
    assert not np.array_equal(floats(smooth["a · train loss"]["y"]), floats(plain["a · train loss"]["y"]))
    assert compare_curves({"a": history}, log_y=True)["panels"][0]["log"] is True
    assert compare_curves({"a": history})["panels"][0]["log"] is False
    by_step = compare_curves({"a": history}, x="step")
    assert floats(by_name(by_step["panels"][0])["a · train loss"]["x"]).tolist() == [10, 20, 30, 40, 50]
    by_time = compare_curves({"a": history}, x="time")
    np.testing.assert_allclose(
        floats(by_name(by_time["panels"][0])["a · train loss"]["x"]), [0.5, 1, 1.5, 2, 2.5]
    )
    assert (by_step["x_integer"], by_time["x_integer"]) == (True, False)
    no_steps = compare_curves({"a": history}, show_steps=False)
    assert "a · step loss" not in by_name(no_steps["panels"][0])
    assert "each step's loss (faint)" not in [entry["label"] for entry in no_steps["legend"]]
    with pytest.raises(ValueError, match="x axis"):
        compare_curves({"a": history}, x="minutes")


def test_long_step_curves_are_thinned_after_smoothing():
    history = history_with_layer_stats(3, steps_per_epoch=700)
    steps = by_name(compare_curves({"a": history}, smoothing=0.5)["panels"][0])["a · step loss"]
    ys = floats(steps["y"])
    assert len(ys) == MAX_STEP_POINTS
    full = ema(history.step_loss, 0.5)
    assert ys[0] == full[0] and ys[-1] == full[-1]


def test_the_bayes_ceiling_sets_the_accuracy_range_and_is_labelled():
    payload = compare_curves(
        {"a": history_with_layer_stats(3)}, bayes_accuracy={"train": 0.9, "validation": 0.85}
    )
    accuracy = payload["panels"][1]
    assert [c["label"] for c in accuracy["ceilings"]] == [
        "Bayes-optimal (train) 90.0%",
        "Bayes-optimal (validation) 85.0%",
    ]
    low, high = accuracy["range"]
    assert low <= 0.5 and high > 1.0 and accuracy["step"] in (0.05, 0.1)
    assert compare_curves({"a": history_with_layer_stats(3)})["panels"][1]["ceilings"] == []


def test_short_curves_mark_their_points_and_long_ones_are_lines():
    short = compare_curves({"run": history_with_layer_stats(MARKERS_UP_TO)}, show_steps=False)
    long = compare_curves({"run": history_with_layer_stats(MARKERS_UP_TO + 1)}, show_steps=False)
    assert short["panels"][0]["series"][0]["markers"] is True
    assert long["panels"][0]["series"][0]["markers"] is False


def test_each_band_runs_from_its_low_percentile_to_its_high_one_and_the_median_reads_all_nine():
    payload = distribution_curves(history_with_layer_stats(3), "W")
    (panel,) = payload["panels"]
    assert panel["title"] == "layer 1" and payload["title"] == "weights W"
    bands = [s for s in panel["series"] if "upper" in s]
    assert [s["name"] for s in bands] == ["min–max", "p7–p93", "p16–p84", "p31–p69"]
    widest = bands[0]
    np.testing.assert_array_equal(floats(widest["x"]), [1, 2, 3])
    np.testing.assert_array_equal(floats(widest["y"]), [1, 2, 3])  # min
    np.testing.assert_array_equal(floats(widest["upper"]), [9, 10, 11])  # max
    assert [s["opacity"] for s in bands] == sorted(s["opacity"] for s in bands)  # darker inside
    median = panel["series"][-1]
    np.testing.assert_array_equal(floats(median["y"]), [5, 6, 7])
    assert [d["label"] for d in median["detail"]] == [
        "min",
        "p7",
        "p16",
        "p31",
        "median",
        "p69",
        "p84",
        "p93",
        "max",
    ]
    np.testing.assert_array_equal(floats(median["detail"][8]["y"]), [9, 10, 11])
    with pytest.raises(ValueError, match="quantity"):
        distribution_curves(history_with_layer_stats(3), "z")


def test_gradient_norms_one_curve_per_layer_on_a_log_axis():
    payload = grad_norm_curves(history_with_layer_stats(4))
    (panel,) = payload["panels"]
    assert (
        panel["log"] is True
        and grad_norm_curves(history_with_layer_stats(4), log_y=False)["panels"][0]["log"] is False
    )
    (series,) = panel["series"]
    assert series["name"] == "layer 1" and floats(series["y"]).tolist() == [0.1 * e for e in range(1, 5)]
    assert grad_norm_curves(History())["panels"][0]["series"] == []


def test_a_run_with_nothing_trained_says_so_in_each_panel():
    loss, accuracy = compare_curves({"fresh": History()})["panels"]
    assert (loss["series"], accuracy["series"]) == ([], [])
    assert (loss["empty"], accuracy["empty"]) == ("No step trained yet.", "No epoch finished yet.")


def test_runs_of_different_lengths_share_the_accuracy_axis_with_the_ceiling():
    short, long = history_with_layer_stats(3), history_with_layer_stats(7)
    accuracy = compare_curves({"short": short, "long": long}, bayes_accuracy=0.95)["panels"][1]
    low, high = accuracy["range"]
    assert (
        low <= 0.5 <= 1.0 < high
    )  # spans both runs' accuracies (the lowest, 0.5, at epoch 1) and the ceiling
    assert [s["name"] for s in accuracy["series"]] == ["short · train acc", "long · train acc"]
