"""Saliency dP_c/dx agrees with centred finite differences, and the shipped models load."""

import json
from pathlib import Path

import numpy as np
import pytest

from backprop import Network, load_with_metadata
from backprop.saliency import probability_gradient

MODELS = Path(__file__).resolve().parents[2] / "models"


def finite_difference(net, x, target, eps=1e-6):
    grad = np.zeros_like(x)
    for i in range(x.shape[1]):
        up, down = x.copy(), x.copy()
        up[0, i] += eps
        down[0, i] -= eps
        grad[0, i] = (net.predict_proba(up)[0, target] - net.predict_proba(down)[0, target]) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh"])
@pytest.mark.parametrize("target", [None, 0, 3])
def test_probability_gradient_matches_finite_differences(activation, target):
    net = Network([9, 7, 5, 4], activation=activation, seed=1, dtype="float64")
    x = np.random.default_rng(0).normal(size=(1, 9))
    probs, grad, _ = probability_gradient(net, x, target)
    chosen = int(probs.argmax()) if target is None else target
    np.testing.assert_allclose(grad, finite_difference(net, x, chosen), rtol=1e-5, atol=1e-8)


def test_probability_gradient_of_a_batch_matches_each_row_alone():
    net = Network([6, 5, 3], activation="gelu", seed=2, dtype="float64")
    x = np.random.default_rng(1).normal(size=(4, 6))
    _, batch_grad, _ = probability_gradient(net, x, 1)
    for row in range(4):
        _, single, _ = probability_gradient(net, x[row : row + 1], 1)
        np.testing.assert_allclose(batch_grad[row], single[0], rtol=1e-10)


def test_gradients_over_all_classes_sum_to_zero():
    # Probabilities sum to one, so their gradients cancel.
    net = Network([5, 4, 3], seed=3, dtype="float64")
    x = np.random.default_rng(2).normal(size=(1, 5))
    total = sum(probability_gradient(net, x, c)[1] for c in range(3))
    np.testing.assert_allclose(total, 0, atol=1e-12)


def test_saliency_refuses_a_regression_network_and_a_bad_class():
    with pytest.raises(ValueError, match="cross_entropy"):
        probability_gradient(Network([2, 1], loss="mse"), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"target class must be in \[0, 2\]"):
        probability_gradient(Network([2, 3]), np.zeros((1, 2)), 5)


@pytest.mark.parametrize("name,min_accuracy", [("digits", 0.97), ("shapes", 0.98)])
def test_shipped_model_carries_its_card(name, min_accuracy):
    net, meta = load_with_metadata(MODELS / f"{name}.npz")
    for key in (
        "name",
        "dataset",
        "dataset_params",
        "classes",
        "input_shape",
        "val_accuracy",
        "architecture",
        "command",
    ):
        assert key in meta, key
    assert meta["val_accuracy"] >= min_accuracy
    assert meta["command"] == f"python -m models.train {name}"
    assert net.n_outputs == len(meta["classes"])
    assert net.n_inputs == int(np.prod(meta["input_shape"]))
    json.dumps(meta)


@pytest.mark.parametrize("name", ["digits", "shapes"])
def test_shipped_model_accuracy_is_what_its_card_says(name):
    import datasets

    net, meta = load_with_metadata(MODELS / f"{name}.npz")
    data = datasets.load(meta["dataset"], **meta["dataset_params"])
    measured = float(np.mean(net.predict(data.x_val) == data.y_val))
    assert abs(measured - meta["val_accuracy"]) < 1e-3
