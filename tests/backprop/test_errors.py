"""What a user sees for bad input: a ValueError that names the problem and the bad value.
Also the classification metrics on a hand example."""

import json
import math
import re

import numpy as np
import pytest

from backprop import (
    Cosine,
    EarlyStopping,
    Network,
    ReduceOnPlateau,
    StepDecay,
    Trainer,
    accuracy,
    confusion_matrix,
    get_loss,
    make_optimizer,
    make_schedule,
    precision_recall_f1,
)
from backprop.activations import get_activation
from backprop.network import FINITE_BLOCK_NUMBERS, all_finite


def net(**options):
    return Network([3, 4, 2], **options)


X = np.zeros((5, 3))
Y = np.array([0, 1, 0, 1, 1])


# ----------------------------------------------------------------- inputs


@pytest.mark.parametrize("shape", [(5,), (5, 2), (5, 4), (5, 3, 1)])
def test_inputs_of_the_wrong_shape_are_rejected(shape):
    with pytest.raises(ValueError, match=r"expected inputs of shape \(N, 3\)"):
        net().gradients(np.zeros(shape), Y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_rejected(bad):
    x = X.copy()
    x[2, 1] = bad
    with pytest.raises(ValueError, match="inputs contain 1 non-finite values"):
        net().forward(x)


@pytest.mark.parametrize("rows, features", [(1, 3), (300, 784), (5000, 3), (1, 70_000)])
@pytest.mark.parametrize("where", ["none", "first", "block edge", "last"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_blocked_finite_check_equals_the_one_line_form(rows, features, where, bad):
    x = np.random.default_rng(0).standard_normal((rows, features)).astype(np.float32)
    block_rows = max(1, FINITE_BLOCK_NUMBERS // features)
    at = {"none": None, "first": 0, "block edge": min(block_rows, x.size - 1), "last": x.size - 1}[where]
    if at is not None:
        x.reshape(-1)[at] = bad
    assert all_finite(x) == bool(np.isfinite(x).all()) == (at is None)
    assert all_finite(x[:, ::2]) == bool(np.isfinite(x[:, ::2]).all())  # a strided view, not a copy


def test_inputs_too_large_for_float32_are_reported_as_too_large():
    x = np.ones((2, 3))
    x[1, 2] = -1e39
    with pytest.raises(
        ValueError, match="inputs contain values too large for float32; rescale the data or use float64"
    ):
        net().predict(x)
    net(dtype="float64").predict(x)  # fine in float64


def test_text_inputs_are_rejected():
    with pytest.raises(ValueError, match="inputs must be real numbers"):
        net().predict(np.array([["a", "b", "c"]]))


def test_an_empty_batch_is_rejected():
    with pytest.raises(ValueError, match="the batch is empty"):
        net().gradients(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_a_different_number_of_targets_and_inputs_is_rejected():
    with pytest.raises(ValueError, match="got 4 targets for 5 inputs"):
        net().gradients(X, Y[:4])


@pytest.mark.parametrize("labels", [[0, 1, 2, 0, 1], [0, -1, 0, 1, 1]])
def test_labels_out_of_range_are_rejected(labels):
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 1\]"):
        net().gradients(X, np.array(labels))


def test_fractional_labels_are_rejected():
    with pytest.raises(ValueError, match="class labels must be integers"):
        net().gradients(X, np.array([0, 0.5, 1, 1, 0]))


def test_one_hot_targets_of_the_wrong_width_are_rejected():
    with pytest.raises(ValueError, match=r"one-hot targets must have shape \(N, 2\)"):
        net().gradients(X, np.eye(3)[[0, 1, 2, 0, 1]])


def test_regression_targets_of_the_wrong_shape_and_non_finite_are_rejected():
    reg = Network([3, 4, 2], loss="mse")
    with pytest.raises(ValueError, match=r"regression targets must have shape \(N, 2\)"):
        reg.gradients(X, np.zeros(5))
    y = np.zeros((5, 2))
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match="targets contain non-finite values"):
        reg.gradients(X, y)


def test_token_ids_outside_the_vocabulary_are_rejected():
    emb = Network([2, 4, 2], embedding=(5, 3))
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 4\]"):
        emb.predict(np.array([[0, 5]]))
    with pytest.raises(ValueError, match="token ids must be integers"):
        emb.predict(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match=r"expected token ids of shape \(N, 2\)"):
        emb.predict(np.array([[0, 1, 2]]))


def test_predict_proba_needs_a_classifier():
    with pytest.raises(ValueError, match="predict_proba needs a cross_entropy network"):
        Network([3, 2], loss="mse").predict_proba(X)


# ---------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "kind, build",
    [
        ("activation", lambda: get_activation("Relu")),
        ("loss", lambda: net(loss="hinge")),
        ("loss", lambda: get_loss(None)),
        ("init", lambda: net(init="zeros")),
        ("optimizer", lambda: make_optimizer("lbfgs", 0.1)),
        ("optimizer", lambda: Trainer(net(), optimizer="lbfgs")),
        ("learning-rate schedule", lambda: make_schedule("linear")),
        ("learning-rate schedule", lambda: Trainer(net(), schedule={"schedule": "warmup"})),
    ],
)
def test_unknown_names_are_rejected_with_the_valid_choices(kind, build):
    with pytest.raises(ValueError, match=f"unknown {kind} .*; choose one of"):
        build()


def test_unknown_activation_in_a_network_names_the_layer_and_lists_the_registry():
    # sizes [3, 4, 2] with activation "swish": the name is checked before any layer text is written
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; choose one of relu, gelu, gelu_tanh"):
        net(activation="swish")


def test_unknown_optimizer_message_lists_the_registry():
    with pytest.raises(ValueError, match="choose one of sgd, momentum, rmsprop, adam"):
        make_optimizer("lbfgs", 0.1)


@pytest.mark.parametrize("sizes", [[3, 0, 2], [3, -4, 2], [3, True, 2], [3, 4.0, 2], [3], [], 5])
def test_layer_sizes_must_be_positive_integers(sizes):
    with pytest.raises(ValueError, match="layer sizes must be"):
        Network(sizes)


def test_layer_size_message_repeats_the_bad_value():
    with pytest.raises(ValueError, match=r"\[3, 0, 2\]"):
        Network([3, 0, 2])


def test_an_architecture_text_needs_the_input_shape_and_the_outputs():
    with pytest.raises(ValueError, match="give the input_shape of one sample and n_outputs"):
        Network("dense4-relu")


@pytest.mark.parametrize("batch_size", [0, -1, True, 2.0, "8"])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match=f"batch size must be a positive integer, got {batch_size!r}"):
        Trainer(net(), batch_size=batch_size)


@pytest.mark.parametrize("epochs", [0, -2, True, 1.5])
def test_epochs_must_be_a_positive_integer(epochs):
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        Trainer(net()).run(X, Y, epochs=epochs)


def test_run_needs_epochs_or_steps():
    with pytest.raises(ValueError, match="give the number of epochs or steps"):
        Trainer(net()).run(X, Y)


@pytest.mark.parametrize("rate", [0, 0.0, -0.1, math.nan, math.inf, True, "0.1", 20000])
def test_learning_rate_must_be_a_number_in_zero_to_ten(rate):
    shown = re.escape(repr(rate))
    with pytest.raises(ValueError, match=rf"learning_rate must be a number in \(0, 10\], got {shown}"):
        make_optimizer("sgd", rate)
    with pytest.raises(ValueError, match="learning_rate must be"):
        net().fit(X, Y, epochs=1, learning_rate=rate)


def test_learning_rate_cannot_be_set_to_zero_later():
    opt = make_optimizer("adam", 0.1)
    with pytest.raises(ValueError, match=r"learning_rate must be a number in \(0, 10\], got 0.0"):
        opt.learning_rate = 0.0
    assert opt.learning_rate == 0.1


@pytest.mark.parametrize(
    "name, option, value, words",
    [
        ("sgd", "weight_decay", -0.1, r"weight_decay must be a number in \[0, 1\], got -0.1"),
        ("sgd", "clip_norm", -1.0, r"clip_norm must be a number in \(0, 10000\], or off, got -1.0"),
        ("momentum", "momentum", 1.0, r"momentum must be a number in \[0, 1\), got 1.0"),
        ("momentum", "nesterov", "yes", r"nesterov must be true or false, got 'yes'"),
        ("adam", "beta1", 1.0, r"beta1 must be a number in \[0, 1\), got 1.0"),
        ("adam", "beta2", -0.1, r"beta2 must be a number in \[0, 1\), got -0.1"),
        ("adam", "eps", 0.0, r"eps must be a number in \(0, 1\], got 0.0"),
        ("rmsprop", "rho", 1.0, r"rho must be a number in \[0, 1\), got 1.0"),
    ],
)
def test_optimizer_options_out_of_range_are_rejected(name, option, value, words):
    with pytest.raises(ValueError, match=words):
        make_optimizer(name, 0.1, **{option: value})


def test_a_clip_norm_of_zero_means_off():
    assert make_optimizer("sgd", 0.1, clip_norm=0).clip_norm is None


@pytest.mark.parametrize("rate", [1.0, 1.5, True])
def test_dropout_must_be_in_zero_to_one(rate):
    with pytest.raises(ValueError, match=rf"^rate must be a number in \[0, 1\), got {rate}"):
        Network([3, 4, 2], dropout=rate)


@pytest.mark.parametrize("rate", [-0.1, math.nan])
def test_a_negative_or_nan_dropout_rate_is_named_in_the_message(rate):
    with pytest.raises(ValueError, match=rf"rate must be a number in \[0, 1\), got {rate}"):
        Network([3, 4, 2], dropout=rate)


@pytest.mark.parametrize(
    "option, value",
    [
        ("activation", ["relu", "tanh"]),
        ("batch_norm", [True, False]),
        ("dropout", [0.1, 0.2, 0.3]),
    ],
)
def test_per_layer_lists_must_have_one_value_per_hidden_layer(option, value):
    with pytest.raises(ValueError, match=f"{len(value)} {option} values for 1 hidden layers"):
        Network([3, 4, 2], **{option: value})


@pytest.mark.parametrize(
    "options, words",
    [
        ({"dtype": "float16"}, "dtype must be one of float32, float64, got 'float16'"),
        ({"init_std": 0.0}, "init_std must be a positive number, got 0.0"),
        ({"embedding": (0, 3)}, r"embedding vocab_size and dim must be >= 1, got \(0, 3\)"),
        ({"embedding": 5}, r"embedding must be \(vocab_size, dim\), got 5"),
    ],
)
def test_other_network_settings_out_of_range_are_rejected(options, words):
    with pytest.raises(ValueError, match=words):
        Network([3, 4, 2], **options)


@pytest.mark.parametrize("seed", [-1, 1.5])
def test_the_network_seed_must_be_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match=f"seed must be an integer .*got {seed}"):
        Network([3, 4, 2], seed=seed)


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: StepDecay(epochs=[]), r"step decay needs at least one epoch to drop at, e.g. epochs=\[10\]"),
        (lambda: StepDecay(epochs=[0]), r"epochs must be a list of integers in \[1, 100000\]"),
        (lambda: StepDecay(epochs=[2], factor=1.5), r"factor must be a number in \(0, 1\), got 1.5"),
        (lambda: Cosine(total_epochs=0), r"total_epochs must be an integer in \[1, 100000\], got 0"),
        (lambda: Cosine(min_rate=-1.0), r"min_rate must be a number in \[0, 10\], got -1.0"),
        (lambda: ReduceOnPlateau(patience=0), r"patience must be an integer in \[1, 1000\], got 0"),
        (
            lambda: ReduceOnPlateau(monitor="accuracy"),
            "monitor must be one of val_loss, val_accuracy, train_loss",
        ),
        (lambda: EarlyStopping(patience=0), r"patience must be an integer in \[1, 1000\], got 0"),
        (
            lambda: make_schedule({"schedule": "step", "epochs": [1], "gamma": 0.5}),
            "schedule 'step' has no option gamma; it takes epochs, factor",
        ),
    ],
)
def test_schedule_settings_out_of_range_are_rejected(build, words):
    with pytest.raises(ValueError, match=words):
        build()


def test_set_weights_names_missing_and_unknown_arrays():
    weights = net().get_weights()
    del weights["dense1.b"]
    weights["dense9.W"] = np.zeros(1)
    with pytest.raises(ValueError, match=r"missing \['dense1.b'\], unknown \['dense9.W'\]"):
        net().set_weights(weights)


def test_set_weights_names_an_array_of_the_wrong_shape():
    weights = net().get_weights()
    weights["dense2.W"] = np.zeros((2, 4))
    with pytest.raises(
        ValueError, match=r"weight 'dense2.W' has shape \(2, 4\), this network needs \(4, 2\)"
    ):
        net().set_weights(weights)


@pytest.mark.parametrize("value", [True, 2.5, "5"])
def test_early_stopping_must_be_a_patience_or_an_early_stopping(value):
    with pytest.raises(ValueError, match="early stopping must be None, an EarlyStopping or a patience"):
        Trainer(net(), early_stopping=value)


@pytest.mark.parametrize("value", [0, -3])
def test_early_stopping_patience_must_be_at_least_one(value):
    with pytest.raises(ValueError, match=rf"patience must be an integer in \[1, 1000\], got {value}"):
        Trainer(net(), early_stopping=value)


# ---------------------------------------------------------------- metrics


# true:      0 0 0 1 1 2
# predicted: 0 1 0 1 2 2
TRUE = np.array([0, 0, 0, 1, 1, 2])
PRED = np.array([0, 1, 0, 1, 2, 2])


def test_accuracy_on_a_hand_example():
    # correct at positions 0, 2, 3, 5: 4 of 6
    assert accuracy(TRUE, PRED) == pytest.approx(4 / 6)
    # scores or one-hot rows count by their argmax
    assert accuracy(np.eye(3)[TRUE], np.eye(3)[PRED] * 0.7) == pytest.approx(4 / 6)


def test_confusion_matrix_on_a_hand_example():
    # rows are true classes, columns predictions
    expected = [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    np.testing.assert_array_equal(confusion_matrix(TRUE, PRED), expected)
    assert confusion_matrix(TRUE, PRED, n_classes=4).shape == (4, 4)


def test_precision_recall_f1_on_a_hand_example():
    scores = precision_recall_f1(confusion_matrix(TRUE, PRED, n_classes=4))
    # precision = diagonal / column sums = [2/2, 1/2, 1/2, 0 (never predicted)]
    np.testing.assert_allclose(scores["precision"], [1.0, 0.5, 0.5, 0.0])
    # recall = diagonal / row sums = [2/3, 1/2, 1/1, 0 (never present)]
    np.testing.assert_allclose(scores["recall"], [2 / 3, 0.5, 1.0, 0.0])
    # f1 = 2pr/(p + r): class 0 = (4/3)/(5/3) = 0.8, class 1 = 0.5, class 2 = 1/1.5
    np.testing.assert_allclose(scores["f1"], [0.8, 0.5, 2 / 3, 0.0])
    np.testing.assert_array_equal(scores["support"], [3, 2, 1, 0])


def test_metrics_reject_mismatched_or_empty_inputs():
    with pytest.raises(ValueError, match="got 6 true labels and 5 predictions"):
        accuracy(TRUE, PRED[:5])
    with pytest.raises(ValueError, match="accuracy of an empty set is undefined"):
        accuracy([], [])
    with pytest.raises(ValueError, match="got 6 true labels and 5 predictions"):
        confusion_matrix(TRUE, PRED[:5])


def test_large_finite_inputs_whose_squares_overflow_are_accepted():
    x = np.full((2, 3), 3e19)  # x² overflows float32, x itself is fine
    assert net().forward(x, probabilities=False).output.shape == (2, 2)


def test_validation_summary_counts_and_lists_what_is_misclassified():
    from backprop.metrics import validation_summary

    # predictions (argmax) are PRED: samples 1 (0 -> 1) and 4 (1 -> 2) are wrong
    probs = np.eye(3)[PRED] * 0.6 + 0.4 / 3
    summary = validation_summary(TRUE, probs, n_classes=3, keep=1)
    assert summary["n"] == 6 and summary["n_wrong"] == 2
    assert summary["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # only the first wrong one is listed (keep=1), with the probability of what was predicted
    assert summary["misclassified"] == [{"index": 1, "true": 0, "predicted": 1, "probability": 0.7333}]
    assert validation_summary(TRUE, probs, n_classes=3)["misclassified"][1]["index"] == 4
    json.dumps(summary)  # a model card stores it as it is
    with pytest.raises(ValueError, match="6 labels and probabilities of shape"):
        validation_summary(TRUE, probs[:4], n_classes=3)
