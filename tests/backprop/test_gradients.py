"""Backprop against centred finite differences (float64), and GELU against math.erf.

Every check here runs through a whole network of at least three dense blocks, so a
wrong derivative anywhere in the chain shows up in some parameter's gradient.
(Each layer kind on its own, convolutions and pooling: test_layers.py.)
"""

import math

import numpy as np
import pytest

import backprop
from backprop import ACTIVATIONS, Network, check_network, gradcheck, make_activation
from backprop.activations import Tanh

TOLERANCE = 1e-6


def float_batch(n=6, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)), rng.integers(0, classes, size=n)


def assert_all_close(results, tolerance=TOLERANCE):
    assert results, "no parameter was checked"
    for result in results:
        assert result.relative_error < tolerance, result


def before_batch_norm(net):
    """Names of the layers whose output goes straight into a batch norm."""
    return {a.name for a, b in zip(net.layers, net.layers[1:]) if b.kind == "bn"}


def assert_network_gradients(net, x, y, **options):
    """check_network, except a bias followed by batch norm: its gradient is 0 in theory."""
    results = check_network(net, x, y, **options)
    assert results, "no parameter was checked"
    cancelled = before_batch_norm(net)
    for result in results:
        if result.layer in cancelled and result.param == "b":
            # The mean subtraction cancels b exactly; both sides must agree that it is ~0.
            assert np.max(np.abs(result.backprop)) < 1e-9
            assert np.max(np.abs(result.numeric)) < 1e-7
        else:
            assert result.relative_error < TOLERANCE, result
    return results


def mask_of(trace, name):
    return trace.record(name).saved["mask"]


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_activation_gradient_matches_finite_differences_through_three_blocks(activation):
    x, y = float_batch()
    net = Network([4, 5, 5, 3], activation=activation, seed=1, dtype="float64")
    results = assert_network_gradients(net, x, y)
    # two hidden blocks and the output block, W and b each
    assert [(r.layer, r.param) for r in results] == [
        ("dense1", "W"),
        ("dense1", "b"),
        ("dense2", "W"),
        ("dense2", "b"),
        ("dense3", "W"),
        ("dense3", "b"),
    ]


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_activation_slope_matches_its_function_elementwise(activation):
    act = make_activation(activation)
    # points away from ReLU's kink at 0, where the slope is not defined
    z = np.array([-3.1, -1.2, -0.4, 0.3, 0.9, 2.5])
    a = act.f(z)
    eps = 1e-6
    numeric = (act.f(z + eps) - act.f(z - eps)) / (2 * eps)
    np.testing.assert_allclose(act.slope(z, a), numeric, rtol=1e-7, atol=1e-9)
    # and the layer's own passes use them: forward is f(z), backward is dout ⊙ f′(z)
    np.testing.assert_array_equal(act.forward(z), a)
    dout = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 2.0])
    np.testing.assert_array_equal(act.backward(dout), dout * act.slope(z, a))


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_activation_declares_its_name_label_and_equation(activation):
    act = make_activation(activation)
    assert act.declared is ACTIVATIONS[activation]
    assert act.declared.name == activation == act.spec()
    assert act.declared.label and act.declared.equation
    assert "slope" in act.declared.facts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_exactly_max_z_0_and_its_kink_slope_is_0(dtype):
    z = np.array([-2.5, -0.0, 0.0, 1e-30, 3.0, -1e-30, np.nan, np.inf, -np.inf], dtype=dtype)
    act = make_activation("relu")
    a = act.f(z)
    # bit for bit: no -0.0 for negative z, NaN stays NaN
    np.testing.assert_array_equal(a, [0, 0, 0, dtype(1e-30), 3, 0, np.nan, np.inf, 0])
    assert not np.any(np.signbit(a[~np.isnan(a)]))
    assert a.dtype == dtype
    slope = act.slope(z, a)
    assert slope.dtype == dtype
    np.testing.assert_array_equal(slope, [0, 0, 0, 1, 1, 0, 0, 1, 0])
    # each call returns its own array: writing into one leaves the next call's alone
    a[:] = 7
    assert act.f(z)[0] == 0
    np.testing.assert_array_equal(act.f(z[:4]), [0, 0, 0, dtype(1e-30)])


def test_leaky_relu_keeps_a_hundredth_of_negative_inputs():
    act = make_activation("leaky_relu")
    z = np.array([-2.0, -0.5, 0.5, 3.0])
    a = act.f(z)
    # −2·0.01 = −0.02, −0.5·0.01 = −0.005; positive inputs pass unchanged
    np.testing.assert_allclose(a, [-0.02, -0.005, 0.5, 3.0], rtol=1e-15)
    np.testing.assert_array_equal(act.slope(z, a), [0.01, 0.01, 1.0, 1.0])


def test_cross_entropy_with_integer_labels_gradient_matches_finite_differences():
    x, y = float_batch(classes=3)
    net = Network([4, 6, 5, 3], activation="tanh", loss="cross_entropy", seed=2, dtype="float64")
    assert_network_gradients(net, x, y)


def test_cross_entropy_with_one_hot_and_soft_targets_gradient_matches_finite_differences():
    x, labels = float_batch(classes=3)
    one_hot = np.eye(3)[labels]
    soft = np.random.default_rng(3).dirichlet(np.ones(3), size=len(labels))
    net = Network([4, 6, 5, 3], activation="gelu", seed=2, dtype="float64")
    assert_network_gradients(net, x, one_hot)
    assert_network_gradients(net, x, soft)


def test_one_hot_targets_give_the_same_loss_and_gradient_as_integer_labels():
    x, labels = float_batch(classes=3)
    net = Network([4, 6, 3], seed=2, dtype="float64")
    by_label = net.gradients(x, labels)
    by_row = net.gradients(x, np.eye(3)[labels])
    assert by_label.loss == pytest.approx(by_row.loss, rel=1e-12)
    np.testing.assert_allclose(by_label.layers[0].grads["W"], by_row.layers[0].grads["W"], rtol=1e-12)


def test_mse_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    net = Network([4, 6, 5, 2], activation="sigmoid", loss="mse", seed=3, dtype="float64")
    assert_network_gradients(net, x, y)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_each_loss_gradient_matches_finite_differences_of_its_own_value(loss):
    rng = np.random.default_rng(5)
    output = rng.normal(size=(4, 3))
    target = rng.integers(0, 3, size=4) if loss == "cross_entropy" else rng.normal(size=(4, 3))
    function = backprop.get_loss(loss).function
    _, grad, _ = function(output, target)
    eps = 1e-6
    numeric = np.empty_like(output)
    for idx in np.ndindex(output.shape):
        plus, minus = output.copy(), output.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (function(plus, target)[0] - function(minus, target)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1, 2.5])
def test_weight_decay_gradient_matches_finite_differences_of_the_penalised_loss(weight_decay):
    x, y = float_batch()
    net = Network([4, 6, 5, 3], activation="relu", seed=5, dtype="float64")
    results = assert_network_gradients(net, x, y, weight_decay=weight_decay)
    plain = {(r.layer, r.param): r.backprop for r in check_network(net, x, y)}
    for r in results:
        if r.param == "W" and weight_decay:
            # the decay term λW is really part of what was checked
            assert not np.allclose(r.backprop, plain[(r.layer, r.param)])
        elif r.param == "b":
            np.testing.assert_array_equal(r.backprop, plain[(r.layer, r.param)])


def test_dropout_with_a_replayed_mask_gradient_matches_finite_differences():
    x, y = float_batch(n=8)
    net = Network([4, 7, 6, 3], activation="tanh", dropout=[0.5, 0.3], seed=6, dtype="float64")
    assert net.spec == "dense7-tanh-dropout0.5-dense6-tanh-dropout0.3-dense3"
    results = assert_network_gradients(net, x, y)
    assert len(results) == 6
    # dropout is on: the training trace really zeroes some units
    trace = net.astype("float64").gradients(x, y)
    assert np.any(trace.blocks[0].dropout_mask == 0)


def test_gradcheck_replays_a_given_steps_dropout_masks():
    x, y = float_batch(n=8)
    net = Network([4, 7, 6, 3], activation="tanh", dropout=[0.5, 0.3], seed=6, dtype="float64")
    net.gradients(x, y)
    trace = net.gradients(x, y)  # a later step: its masks are not a fresh copy's first draw
    masks = {name: mask_of(trace, name) for name in ("dropout1", "dropout2")}
    for k, name in enumerate(("dense1", "dense2", "dense3")):
        result = gradcheck(net, x, y, layer=name, param="W", dropout_masks=masks)
        assert result.relative_error < TOLERANCE, result
        # the checked gradient is that step's, not one with freshly drawn masks
        np.testing.assert_allclose(
            result.backprop, [trace.blocks[k].dW[i] for i in result.indices], rtol=1e-12, atol=1e-15
        )
    own = gradcheck(net, x, y, layer="dense1", param="W")
    assert not np.allclose(own.backprop, [trace.blocks[0].dW[i] for i in own.indices])


def test_gradcheck_refuses_a_dropout_mask_for_a_layer_the_network_does_not_have():
    x, y = float_batch(n=8)
    net = Network([4, 7, 6, 3], activation="tanh", dropout=[0.5, 0.3], seed=6, dtype="float64")
    with pytest.raises(ValueError, match="dropout9"):
        gradcheck(net, x, y, layer="dense1", dropout_masks={"dropout9": np.ones((8, 7))})


def test_batch_norm_in_train_mode_gradient_matches_finite_differences():
    x, y = float_batch(n=8)
    net = Network([4, 7, 6, 3], activation="gelu", batch_norm=True, seed=7, dtype="float64")
    results = assert_network_gradients(net, x, y)
    checked = {(r.layer, r.param) for r in results}
    assert {("bn1", "gamma"), ("bn1", "beta"), ("bn2", "gamma"), ("bn2", "beta")} <= checked


def test_batch_norm_in_eval_mode_gradient_matches_finite_differences():
    x, y = float_batch(n=8)
    net = Network([4, 7, 6, 3], activation="tanh", batch_norm=True, seed=7, dtype="float64")
    bn = net.layers[1]
    assert bn.name == "bn1"
    bn.state = {"running_mean": np.linspace(-0.5, 0.5, 7), "running_var": np.linspace(0.5, 2.0, 7)}
    results = check_network(net, x, y, train=False)
    # in eval mode the bias is not cancelled: it is checked like any other
    assert ("dense1", "b") in {(r.layer, r.param) for r in results}
    assert_all_close(results)


def test_batch_norm_and_dropout_together_gradient_matches_finite_differences():
    x, y = float_batch(n=8)
    net = Network(
        [4, 7, 6, 3], activation="leaky_relu", batch_norm=True, dropout=0.4, seed=8, dtype="float64"
    )
    assert_network_gradients(net, x, y)


def test_mixed_per_layer_settings_gradient_matches_finite_differences():
    x, y = float_batch(n=8)
    net = Network(
        [4, 6, 6, 5, 3],
        activation=["gelu", "sigmoid", "gelu_tanh"],
        batch_norm=[True, False, True],
        dropout=[0.0, 0.25, 0.0],
        seed=9,
        dtype="float64",
    )
    assert [block.activation for block in net.blocks()] == ["gelu", "sigmoid", "gelu_tanh", "linear"]
    assert net.spec == "dense6-bn-gelu-dense6-sigmoid-dropout0.25-dense5-bn-gelu_tanh-dense3"
    results = assert_network_gradients(net, x, y)
    assert len(results) == 2 * 4 + 2 * 2


def test_embedding_table_gradient_with_repeated_tokens_matches_finite_differences():
    # token 2 appears in two positions of one sample and in several samples
    ids = np.array([[2, 2, 0], [1, 2, 3], [3, 0, 2], [2, 1, 1]])
    y = np.array([0, 1, 2, 1])
    net = Network([3, 6, 5, 3], activation="tanh", embedding=(5, 2), seed=10, dtype="float64")
    results = check_network(net, ids, y)
    table = next(r for r in results if r.layer == "embed1")
    assert table.param == "table" and len(table.indices) == 5 * 2
    assert_all_close(results)
    # token 4 is never used: its rows get no gradient
    trace = net.gradients(ids, y)
    np.testing.assert_array_equal(trace.record("embed1").grads["table"][4], 0.0)


def test_input_gradient_matches_finite_differences():
    x, y = float_batch(n=3)
    net = Network([4, 5, 5, 3], activation="gelu", seed=11, dtype="float64")
    dx = net.gradients(x, y, input_gradient=True).dx
    eps = 1e-6
    numeric = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (net.gradients(plus, y).loss - net.gradients(minus, y).loss) / (2 * eps)
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-9)


def test_gradcheck_does_not_change_the_network():
    x, y = float_batch()
    net = Network([4, 5, 3], seed=0)
    before = net.get_weights()
    gradcheck(net, x, y, layer="dense2", param="W")
    after = net.get_weights()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert net.dtype == np.float32


def test_gradcheck_accepts_a_layer_by_name_or_by_index():
    x, y = float_batch()
    net = Network([4, 5, 3], seed=0)
    by_name = gradcheck(net, x, y, layer="dense2", param="b")
    by_index = gradcheck(net, x, y, layer=2, param="b")
    assert by_name.layer == by_index.layer == "dense2"
    np.testing.assert_array_equal(by_name.backprop, by_index.backprop)


def test_gradcheck_reports_a_large_error_for_a_corrupted_derivative(monkeypatch):
    x, y = float_batch()
    honest = gradcheck(Network([4, 5, 5, 3], activation="tanh", seed=12), x, y, layer="dense1", param="W")
    assert honest.relative_error < TOLERANCE

    monkeypatch.setattr(Tanh, "slope", lambda self, z, a: 1.01 * (1 - a * a))
    result = gradcheck(Network([4, 5, 5, 3], activation="tanh", seed=12), x, y, layer="dense1", param="W")
    assert result.relative_error > 1e-3
    assert result.max_rel_error > 1e-3


def test_gradcheck_rejects_unknown_layers_and_parameters():
    x, y = float_batch()
    net = Network([4, 5, 3])
    with pytest.raises(ValueError, match="dense1 has no parameter 'gamma'; it has W, b"):
        gradcheck(net, x, y, layer="dense1", param="gamma")
    with pytest.raises(ValueError, match="relu1 has no parameter 'W'; it has none"):
        gradcheck(net, x, y, layer="relu1", param="W")
    with pytest.raises(ValueError, match=r"layer must be a name or an index in \[0, 2\], got 5"):
        gradcheck(net, x, y, layer=5)
    with pytest.raises(
        ValueError, match="this network has no layer 'embedding'; it has dense1, relu1, dense2"
    ):
        gradcheck(net, x, y, layer="embedding", param="table")


# ------------------------------------------------------------------ GELU


def test_gelu_matches_math_erf_at_hand_picked_points():
    z = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in z])
    got = make_activation("gelu").f(z)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-16)
    # GELU(1) = Φ(1) = 0.841344746068543 (standard normal table)
    assert got[5] == pytest.approx(0.841344746068543, abs=1e-15)
    assert got[3] == 0.0


def test_gelu_is_accurate_far_in_the_tails():
    z = np.array([-30.0, -10.0, 10.0, 30.0])
    got = make_activation("gelu").f(z)
    # z·Φ(z): Φ(−10) = 7.619853024160527e-24
    assert got[1] == pytest.approx(-10 * 7.619853024160527e-24, rel=1e-12)
    assert got[2] == 10.0 and got[3] == 30.0
    assert np.all(np.isfinite(got))


def test_gelu_slope_matches_phi_plus_z_times_density_at_hand_picked_points():
    z = np.array([-2.0, -0.5, 0.0, 1.0])
    gelu = make_activation("gelu")
    # Φ(z) + z·φ(z); at 0 that is ½, at 1 it is 0.841344746 + 0.241970725 = 1.083315471
    expected = [
        0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi) for v in z
    ]
    np.testing.assert_allclose(gelu.slope(z, gelu.f(z)), expected, rtol=1e-14)
    assert gelu.slope(np.array([1.0]), None)[0] == pytest.approx(1.0833154705876864, rel=1e-14)


def test_gelu_float32_forward_and_slope_agree_with_float64():
    z64 = np.linspace(-8, 8, 20001)
    z32 = z64.astype(np.float32)
    gelu = make_activation("gelu")
    a32 = gelu.f(z32)
    a64 = gelu.f(z32.astype(np.float64))
    assert a32.dtype == np.float32
    assert np.max(np.abs(a32.astype(np.float64) - a64)) < 1e-6
    slope32 = gelu.slope(z32, a32)
    slope64 = gelu.slope(z32.astype(np.float64), a64)
    assert slope32.dtype == np.float32
    assert np.max(np.abs(slope32.astype(np.float64) - slope64)) < 1e-6


def test_exact_gelu_and_tanh_approximation_are_different_options():
    z = np.array([-2.0, -1.0, 1.0, 2.0])
    exact = make_activation("gelu").f(z)
    approx = make_activation("gelu_tanh").f(z)
    # they agree to about 1e-3 but are not the same function
    assert np.max(np.abs(exact - approx)) < 1e-3
    assert np.min(np.abs(exact - approx)) > 1e-5
    x, _ = float_batch()
    out_exact = Network([4, 5, 3], activation="gelu", seed=0).output(x)
    out_approx = Network([4, 5, 3], activation="gelu_tanh", seed=0).output(x)
    assert not np.array_equal(out_exact, out_approx)


def test_float32_network_gradients_agree_with_float64():
    x, y = float_batch(n=16)
    net = Network([4, 8, 8, 3], activation="gelu", batch_norm=True, seed=13)
    t32 = net.gradients(x, y)
    t64 = net.astype("float64").gradients(x, y)
    assert t32.layers[0].grads["W"].dtype == np.float32
    assert t32.loss == pytest.approx(t64.loss, rel=1e-5)
    compared = 0
    for r32, r64 in zip(t32.layers, t64.layers):
        if "W" in r32.grads:
            np.testing.assert_allclose(r32.grads["W"], r64.grads["W"], rtol=1e-3, atol=1e-5)
            compared += 1
    assert compared == 3


def test_activation_registry_is_what_the_package_exports():
    from backprop.activations import ACTIVATION_CLASSES

    assert backprop.ACTIVATIONS is ACTIVATIONS
    assert set(ACTIVATIONS) == {"relu", "gelu", "gelu_tanh", "tanh", "sigmoid", "leaky_relu", "linear"}
    assert set(ACTIVATION_CLASSES) == set(ACTIVATIONS)


def test_single_sample_gradients_match_finite_differences_and_the_batch_formula():
    x, y = float_batch(n=1)
    net = Network([4, 5, 5, 3], activation="gelu", seed=14, dtype="float64")
    assert_network_gradients(net, x, y)
    trace = net.gradients(x, y)
    for block in trace.blocks:
        # one sample: dW = a_inᵀ·d_affine is the outer product of two vectors
        np.testing.assert_array_equal(block.dW, np.outer(block.a_in[0], block.d_affine[0]))


def test_a_single_sample_step_gives_the_same_update_as_that_sample_in_a_batch_of_copies():
    x, y = float_batch(n=1)
    net = Network([4, 5, 3], activation="relu", seed=15, dtype="float64")
    one = net.gradients(x, y)
    many = net.gradients(np.repeat(x, 3, axis=0), np.repeat(y, 3))
    # the loss is a mean, so three copies give the same gradient
    np.testing.assert_allclose(one.layers[0].grads["W"], many.layers[0].grads["W"], rtol=1e-12, atol=1e-15)
