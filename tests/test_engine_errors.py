"""What a user sees for bad input: a ValueError that names the problem and the bad value.
Also the classification metrics on a hand example."""

import math

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
    get_activation,
    get_loss,
    make_optimizer,
    make_schedule,
    precision_recall_f1,
)


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


def test_inputs_too_large_for_float32_are_reported_as_too_large():
    x = np.ones((2, 3))
    x[1, 2] = -1e39
    with pytest.raises(ValueError, match="inputs contain 1 values too large for float32"):
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
        ("activation", lambda: net(activation="swish")),
        ("activation", lambda: get_activation("Relu")),
        ("loss", lambda: net(loss="hinge")),
        ("loss", lambda: get_loss(None)),
        ("init", lambda: net(init="zeros")),
        ("optimizer", lambda: make_optimizer("rmsprop", 0.1)),
        ("optimizer", lambda: Trainer(net(), optimizer="lbfgs")),
        ("learning-rate schedule", lambda: make_schedule("linear")),
        ("learning-rate schedule", lambda: Trainer(net(), schedule={"schedule": "warmup"})),
    ],
)
def test_unknown_names_are_rejected_with_the_valid_choices(kind, build):
    with pytest.raises(ValueError, match=f"unknown {kind} .*; choose one of"):
        build()


def test_unknown_activation_message_lists_the_registry():
    with pytest.raises(ValueError, match="relu, gelu, gelu_tanh"):
        net(activation="swish")


@pytest.mark.parametrize("sizes", [[3, 0, 2], [3, -4, 2], [3, True, 2], [3, 4.0, 2], [3], [], 5, "34"])
def test_layer_sizes_must_be_positive_integers(sizes):
    with pytest.raises(ValueError, match="layer sizes must be"):
        Network(sizes)


def test_layer_size_message_repeats_the_bad_value():
    with pytest.raises(ValueError, match=r"\[3, 0, 2\]"):
        Network([3, 0, 2])


@pytest.mark.parametrize("batch_size", [0, -1, True, 2.0, "8"])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch size must be a positive integer"):
        Trainer(net(), batch_size=batch_size)


@pytest.mark.parametrize("epochs", [0, -2, True, 1.5])
def test_epochs_must_be_a_positive_integer(epochs):
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        Trainer(net()).run(X, Y, epochs=epochs)


def test_run_needs_epochs_or_steps():
    with pytest.raises(ValueError, match="give the number of epochs or steps"):
        Trainer(net()).run(X, Y)


@pytest.mark.parametrize("rate", [0, 0.0, -0.1, math.nan, math.inf, True, "0.1"])
def test_learning_rate_must_be_a_finite_positive_number(rate):
    with pytest.raises(ValueError, match="learning rate must be a finite number > 0"):
        make_optimizer("sgd", rate)
    with pytest.raises(ValueError, match="learning rate"):
        net().fit(X, Y, epochs=1, learning_rate=rate)


def test_learning_rate_cannot_be_set_to_zero_later():
    opt = make_optimizer("adam", 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        opt.learning_rate = 0.0


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("weight_decay", -0.1, "weight decay must be a finite number >= 0"),
        ("clip_norm", -1.0, "clip norm must be a finite number > 0"),
        ("momentum", 1.0, r"momentum must be in \[0, 1\)"),
    ],
)
def test_optimizer_options_out_of_range_are_rejected(option, value, words):
    name = "momentum" if option == "momentum" else "sgd"
    with pytest.raises(ValueError, match=words):
        make_optimizer(name, 0.1, **{option: value})


def test_adam_betas_out_of_range_are_rejected():
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\)"):
        make_optimizer("adam", 0.1, beta1=1.0)
    with pytest.raises(ValueError, match=r"beta2 must be in \[0, 1\)"):
        make_optimizer("adam", 0.1, beta2=-0.1)


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, math.nan, True])
def test_dropout_must_be_in_zero_to_one(rate):
    with pytest.raises(ValueError, match=r"dropout rate must be in \[0, 1\)"):
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
    with pytest.raises(ValueError, match=f"{option} lists {len(value)} values for 1 hidden layers"):
        Network([3, 4, 2], **{option: value})


@pytest.mark.parametrize(
    "options, words",
    [
        ({"dtype": "float16"}, "dtype must be one of float32, float64"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": 1.5}, "seed must be a non-negative integer"),
        ({"init_std": 0.0}, "init_std must be a positive number"),
        ({"embedding": (0, 3)}, "embedding vocab_size and dim must be >= 1"),
        ({"embedding": 5}, r"embedding must be \(vocab_size, dim\)"),
    ],
)
def test_other_network_settings_out_of_range_are_rejected(options, words):
    with pytest.raises(ValueError, match=words):
        Network([3, 4, 2], **options)


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: StepDecay(epochs=[]), "step decay needs epochs >= 1"),
        (lambda: StepDecay(epochs=[2], factor=1.5), r"decay factor must be in \(0, 1\)"),
        (lambda: Cosine(total_epochs=0), "cosine schedule needs total_epochs >= 1"),
        (lambda: ReduceOnPlateau(patience=0), "plateau patience must be an integer >= 1"),
        (lambda: EarlyStopping(patience=0), "early-stopping patience must be an integer >= 1"),
        (lambda: make_schedule({"schedule": "step", "epochs": [1], "gamma": 0.5}), "schedule 'step'"),
    ],
)
def test_schedule_settings_out_of_range_are_rejected(build, words):
    with pytest.raises(ValueError, match=words):
        build()


def test_set_weights_names_missing_and_unknown_arrays():
    with pytest.raises(ValueError, match=r"missing \['layer1.b'\], unknown \['layer9.W'\]"):
        weights = net().get_weights()
        del weights["layer1.b"]
        weights["layer9.W"] = np.zeros(1)
        net().set_weights(weights)


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


@pytest.mark.parametrize("value", [True, 2.5, "5"])
def test_early_stopping_must_be_a_patience_or_an_early_stopping(value):
    with pytest.raises(ValueError, match="early stopping must be None, an EarlyStopping or a patience"):
        Trainer(net(), early_stopping=value)


@pytest.mark.parametrize("value", [0, -3])
def test_early_stopping_patience_must_be_at_least_one(value):
    with pytest.raises(ValueError, match="early-stopping patience must be an integer >= 1"):
        Trainer(net(), early_stopping=value)
