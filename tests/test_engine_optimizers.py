"""Optimizer updates against their formulas, written out step by step, on real traces."""

import math

import numpy as np
import pytest

from backprop import SGD, Adam, Momentum, Network, make_optimizer

LR = 0.1


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)


def small_net(**options):
    return Network([3, 4, 2], activation="tanh", dtype="float64", seed=1, **options)


def test_sgd_changes_each_parameter_by_minus_learning_rate_times_gradient():
    net = small_net()
    x, y = batch()
    before = {k: (layer.W, layer.b) for k, layer in enumerate(net.layers)}
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    for k, rec in enumerate(trace.layers):
        # −η folded into d_affine before the weight-gradient product and the batch sum:
        # equal to −η·dW and −η·db up to float64 rounding
        np.testing.assert_allclose(rec.delta_W, -LR * rec.dW, rtol=1e-13, atol=1e-18)
        np.testing.assert_allclose(rec.delta_b, -LR * rec.db, rtol=1e-13, atol=1e-18)
        np.testing.assert_array_equal(net.layers[k].W, before[k][0] + rec.delta_W)
        np.testing.assert_array_equal(net.layers[k].b, before[k][1] + rec.delta_b)
    assert trace.updated and trace.learning_rate == LR and trace.optimizer == "sgd"


@pytest.mark.parametrize(
    "make, forms_gradients",
    [
        (lambda: SGD(learning_rate=LR), False),
        (lambda: Momentum(learning_rate=LR, nesterov=True), False),
        (lambda: SGD(learning_rate=LR, weight_decay=0.1), True),
        (lambda: SGD(learning_rate=LR, clip_norm=1.0), True),
        (lambda: Adam(learning_rate=LR), True),
    ],
)
def test_only_rules_that_need_the_gradient_itself_form_dW_and_db(make, forms_gradients):
    net = small_net()
    x, y = batch()
    trace = make().step(net, net.gradients(x, y))
    assert all((rec._dW is not None) == forms_gradients for rec in trace.layers)
    assert all((rec._db is not None) == forms_gradients for rec in trace.layers)
    # reading them afterwards forms them from the record's a_in and d_affine
    rec = trace.layers[1]
    np.testing.assert_array_equal(rec.dW, rec.a_in.T @ rec.d_affine)
    np.testing.assert_array_equal(rec.db, rec.d_affine.sum(axis=0))


def test_float32_sgd_step_matches_minus_learning_rate_times_gradient_to_float32_rounding():
    net = Network([6, 16, 3], activation="relu", seed=3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 6)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    w_before = net.layers[0].W
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    rec = trace.layers[0]
    assert rec.delta_W.dtype == np.float32
    expected = -LR * rec.dW.astype(np.float64)
    scale = np.abs(rec.a_in.astype(np.float64)).T @ np.abs(rec.d_affine.astype(np.float64)) * LR
    assert np.all(np.abs(rec.delta_W - expected) <= 4 * np.finfo(np.float32).eps * scale + 1e-12)
    np.testing.assert_array_equal(net.layers[0].W, w_before + rec.delta_W)


@pytest.mark.parametrize("batch_size", [1, 64])
def test_sgd_delta_w_formed_again_on_read_is_exactly_the_change_applied(batch_size):
    # large enough for the threaded matrix product; W + ΔW went into ΔW's buffer
    net = Network([300, 200, 5], activation="relu", seed=4)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(batch_size, 300)).astype(np.float32)
    y = rng.integers(0, 5, batch_size)
    w_before = net.layers[0].W
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    rec = trace.layers[0]
    assert rec._delta_W is None  # kept as its recipe until read
    np.testing.assert_array_equal(net.layers[0].W, w_before + rec.delta_W)
    first = rec.delta_W
    rec._delta_W = None
    np.testing.assert_array_equal(rec.delta_W, first)  # the same bits every time
    assert "delta_W" in rec.arrays() and "dW" in rec.arrays()


def test_the_trace_keeps_the_weights_its_step_used():
    net = small_net()
    x, y = batch()
    old_w = net.layers[0].W.copy()
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    assert trace.layers[0].W is not net.layers[0].W
    np.testing.assert_array_equal(trace.layers[0].W, old_w)
    assert not np.array_equal(net.layers[0].W, old_w)


def test_weight_decay_adds_lambda_w_to_weights_but_not_to_biases():
    net = small_net()
    x, y = batch()
    lam = 0.5
    w_before = [layer.W for layer in net.layers]
    trace = SGD(learning_rate=LR, weight_decay=lam).step(net, net.gradients(x, y))
    for w, rec in zip(w_before, trace.layers):
        np.testing.assert_allclose(rec.delta_W, -LR * (rec.dW + lam * w), rtol=1e-15)
        np.testing.assert_array_equal(rec.delta_b, -LR * rec.db)


def test_weight_decay_leaves_batch_norm_and_embedding_parameters_alone():
    net = Network([2, 4, 2], embedding=(5, 3), batch_norm=True, dtype="float64", seed=2)
    ids = np.array([[0, 1], [2, 3], [4, 0]])
    trace = SGD(learning_rate=LR, weight_decay=1.0).step(net, net.gradients(ids, np.array([0, 1, 1])))
    rec = trace.layers[0]
    np.testing.assert_array_equal(rec.delta_gamma, -LR * rec.dgamma)
    np.testing.assert_array_equal(rec.delta_beta, -LR * rec.dbeta)
    np.testing.assert_array_equal(trace.embedding.delta_table, -LR * trace.embedding.dtable)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_over_three_steps_follows_the_velocity_formula(nesterov):
    mu = 0.9
    net = small_net()
    opt = Momentum(learning_rate=LR, momentum=mu, nesterov=nesterov)
    velocity = np.zeros_like(net.layers[0].W)
    for step in range(3):
        x, y = batch(seed=step)
        w_before = net.layers[0].W
        rec = opt.step(net, net.gradients(x, y)).layers[0]
        # v ← μv − ηg;  ΔW = v, or μv − ηg with Nesterov's look-ahead
        velocity = mu * velocity - LR * rec.dW
        expected = mu * velocity - LR * rec.dW if nesterov else velocity
        np.testing.assert_allclose(rec.delta_W, expected, rtol=1e-13, atol=1e-16)
        np.testing.assert_array_equal(net.layers[0].W, w_before + rec.delta_W)


def test_nesterov_is_a_different_update_from_plain_momentum():
    x, y = batch()
    deltas = []
    for nesterov in (False, True):
        net = small_net()
        opt = Momentum(learning_rate=LR, momentum=0.9, nesterov=nesterov)
        opt.step(net, net.gradients(x, y))
        deltas.append(opt.step(net, net.gradients(x, y)).layers[0].delta_W)
    assert not np.allclose(deltas[0], deltas[1])


def test_adam_first_step_moves_each_weight_by_about_the_learning_rate():
    net = small_net()
    x, y = batch()
    rec = Adam(learning_rate=1e-3).step(net, net.gradients(x, y)).layers[0]
    # m̂ = g and v̂ = g² after one step, so ΔW = −η·g/(|g| + ε) ≈ −η·sign(g)
    big = np.abs(rec.dW) > 1e-4
    assert big.sum() >= 6
    np.testing.assert_allclose(rec.delta_W[big], -1e-3 * np.sign(rec.dW[big]), rtol=1e-3)


def test_adam_second_step_follows_the_bias_corrected_formula():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 1e-2
    net = small_net()
    opt = Adam(learning_rate=lr, beta1=b1, beta2=b2, eps=eps)
    m = v = 0.0
    for t in (1, 2):
        x, y = batch(seed=t)
        rec = opt.step(net, net.gradients(x, y)).layers[1]
        g = rec.db
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        np.testing.assert_allclose(rec.delta_b, -lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-10)


def test_clip_norm_scales_the_global_gradient_norm_to_the_clip():
    net = small_net()
    x, y = batch()
    trace = net.gradients(x, y)
    norm = math.sqrt(sum(float(np.sum(g**2)) for rec in trace.layers for g in rec.grads.values()))
    clip = norm / 4
    opt = SGD(learning_rate=LR, clip_norm=clip)
    opt.step(net, trace)
    assert opt.last_grad_norm == pytest.approx(norm, rel=1e-12)
    assert opt.last_clip_scale == pytest.approx(0.25, rel=1e-12)
    applied = math.sqrt(sum(float(np.sum(d**2)) for rec in trace.layers for d in rec.deltas.values()))
    assert applied == pytest.approx(LR * clip, rel=1e-12)
    np.testing.assert_allclose(trace.layers[0].delta_W, -LR * 0.25 * trace.layers[0].dW, rtol=1e-14)


def test_clip_norm_above_the_gradient_norm_changes_nothing():
    net = small_net()
    x, y = batch()
    trace = net.gradients(x, y)
    opt = SGD(learning_rate=LR, clip_norm=1e6)
    opt.step(net, trace)
    assert opt.last_clip_scale == 1.0
    np.testing.assert_array_equal(trace.layers[0].delta_W, -LR * trace.layers[0].dW)


def test_batch_norm_running_statistics_move_only_in_train_mode_steps():
    net = Network([3, 4, 2], batch_norm=True, dtype="float64", seed=3)
    x, y = batch()
    layer = net.layers[0]
    mean0, var0 = layer.running_mean.copy(), layer.running_var.copy()
    net.gradients(x, y, train=True)  # gradients alone update nothing
    np.testing.assert_array_equal(layer.running_mean, mean0)
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y, train=False))
    np.testing.assert_array_equal(layer.running_mean, mean0)  # an eval-mode step
    np.testing.assert_array_equal(layer.running_var, var0)
    assert trace.updated
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y, train=True))
    rec = trace.layers[0]
    # running ← 0.9·running + 0.1·batch statistic
    np.testing.assert_allclose(layer.running_mean, 0.9 * mean0 + 0.1 * rec.batch_mean, rtol=1e-14)
    np.testing.assert_allclose(layer.running_var, 0.9 * var0 + 0.1 * rec.batch_var, rtol=1e-14)


def test_eval_forward_uses_the_running_statistics():
    net = Network([3, 4, 2], batch_norm=True, dtype="float64", seed=3)
    x, _ = batch()
    layer = net.layers[0]
    layer.running_mean = np.array([0.1, -0.2, 0.3, 0.0])
    layer.running_var = np.array([0.5, 1.0, 2.0, 4.0])
    rec = net.forward(x).layers[0]
    affine = x @ layer.W + layer.b
    expected = (affine - layer.running_mean) / np.sqrt(layer.running_var + 1e-5)
    np.testing.assert_allclose(rec.z, expected * layer.gamma + layer.beta, rtol=1e-12)
    # and the train-mode forward does not: it normalises by the batch
    train_rec = net.forward(x, train=True).layers[0]
    np.testing.assert_allclose(train_rec.z.mean(axis=0), 0.0, atol=1e-12)


def test_make_optimizer_builds_each_registered_optimizer_with_its_options():
    assert isinstance(make_optimizer("sgd", 0.1), SGD)
    opt = make_optimizer("momentum", 0.1, momentum=0.5, nesterov=True, weight_decay=0.01)
    assert (opt.momentum, opt.nesterov, opt.weight_decay) == (0.5, True, 0.01)
    assert make_optimizer("adam", 1e-3, beta1=0.8).beta1 == 0.8
    with pytest.raises(ValueError, match="does not take"):
        make_optimizer("sgd", 0.1, momentum=0.9)


def test_step_without_gradients_is_refused():
    net = small_net()
    x, _ = batch()
    with pytest.raises(ValueError, match="no gradients"):
        SGD(learning_rate=LR).step(net, net.forward(x))
