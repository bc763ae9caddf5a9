"""Optimizer updates against their formulas, written out step by step, on real traces."""

import math

import numpy as np
import pytest

from backprop import OPTIMIZERS, SGD, Adam, Momentum, Network, RMSprop, make_optimizer

LR = 0.1


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)


def small_net(**options):
    return Network([3, 4, 2], activation="tanh", dtype="float64", seed=1, **options)


def dense(net, k):
    return next(layer for layer in net.layers if layer.name == f"dense{k}")


# The 2-2-2 linear network of test_hand.py: on this batch its gradients are short binary fractions,
# dW1 = [[1, −2], [1.75, −3.75]], db1 = [0.75, −1.75], dW2 = [[1.875, −1], [−0.75, 0.5]], db2 = [0.75, −0.5].
HAND_X = np.array([[1.0, 2.0], [0.0, 1.0]])
HAND_Y = np.array([[1.0, 0.0], [2.0, -1.0]])


def hand_network():
    net = Network([2, 2, 2], activation="linear", loss="mse", dtype="float64")
    dense(net, 1).W, dense(net, 1).b = np.array([[1.0, -1.0], [0.5, 1.0]]), np.array([0.0, -2.0])
    dense(net, 2).W, dense(net, 2).b = np.array([[1.0, 0.0], [-1.0, 2.0]]), np.array([0.0, 1.0])
    return net


def test_sgd_changes_each_parameter_by_minus_learning_rate_times_gradient():
    net = small_net()
    x, y = batch()
    before = {k: (dense(net, k).W, dense(net, k).b) for k in (1, 2)}
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    for k, block in zip((1, 2), trace.blocks):
        np.testing.assert_array_equal(block.delta_W, -LR * block.dW)
        np.testing.assert_array_equal(block.delta_b, -LR * block.db)
        np.testing.assert_array_equal(dense(net, k).W, before[k][0] + block.delta_W)
        np.testing.assert_array_equal(dense(net, k).b, before[k][1] + block.delta_b)
    assert trace.updated and trace.learning_rate == LR and trace.optimizer == "sgd"


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(learning_rate=LR),
        lambda: Momentum(learning_rate=LR, nesterov=True),
        lambda: SGD(learning_rate=LR, weight_decay=0.1),
        lambda: SGD(learning_rate=LR, clip_norm=0.5),
        lambda: RMSprop(learning_rate=LR),
        lambda: Adam(learning_rate=LR),
    ],
    ids=["sgd", "nesterov", "weight_decay", "clip_norm", "rmsprop", "adam"],
)
def test_the_recorded_delta_is_exactly_the_array_added_to_each_parameter(make):
    net = Network([3, 4, 2], batch_norm=True, seed=1)  # float32, with batch norm's γ and β
    x, y = batch()
    before = {layer.name: dict(layer.params) for layer in net.layers}
    trace = make().step(net, net.gradients(x, y))
    changed = 0
    for layer, rec in zip(net.layers, trace.layers):
        assert set(rec.deltas) == set(layer.params)
        for name, delta in rec.deltas.items():
            # bit for bit: P_new = P_old + ΔP, with ΔP the very array the trace holds
            np.testing.assert_array_equal(layer.params[name], before[layer.name][name] + delta)
            assert delta.dtype == np.float32
            changed += 1
    assert changed == 6  # dense1 W, b; bn1 γ, β; dense2 W, b


@pytest.mark.parametrize("batch_size", [1, 64])
def test_sgd_delta_w_of_a_large_layer_is_exactly_the_change_applied(batch_size):
    # large enough for a threaded matrix product
    net = Network([300, 200, 5], activation="relu", seed=4)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(batch_size, 300)).astype(np.float32)
    y = rng.integers(0, 5, batch_size)
    w_before = dense(net, 1).W
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    rec = trace.record("dense1")
    np.testing.assert_array_equal(dense(net, 1).W, w_before + rec.deltas["W"])
    arrays = rec.arrays()
    assert arrays["delta_W"] is rec.deltas["W"] and arrays["dW"] is rec.grads["W"]


def test_reading_a_trace_field_computes_nothing():
    net = Network([3, 4, 2], batch_norm=True, dropout=0.5, seed=1)
    x, y = batch()
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    fields = [
        "a_in",
        "W",
        "b",
        "affine",
        "z",
        "a",
        "activation_output",
        "dropout_mask",
        "gamma",
        "beta",
        "normalized",
        "da",
        "dz",
        "d_affine",
        "d_in",
        "dW",
        "db",
        "delta_W",
        "delta_b",
        "dgamma",
        "dbeta",
        "delta_gamma",
        "delta_beta",
    ]
    block = trace.blocks[0]
    for field in fields:
        first = getattr(block, field)
        # the same stored object each time: nothing is formed on read
        assert getattr(block, field) is first, field
    # and those objects are the records' own arrays
    dense1, bn1 = trace.record("dense1"), trace.record("bn1")
    assert block.dW is dense1.grads["W"] and block.delta_W is dense1.deltas["W"]
    assert block.d_affine is dense1.dout and block.z is trace.record("relu1").x
    assert block.normalized is bn1.saved["normalized"] and block.dgamma is bn1.grads["gamma"]
    assert block.dropout_mask is trace.record("dropout1").saved["mask"]
    assert block.d_in is None  # the first layer's input is data


def test_the_trace_keeps_the_weights_its_step_used():
    net = small_net()
    x, y = batch()
    old_w = dense(net, 1).W.copy()
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    assert trace.blocks[0].W is not dense(net, 1).W
    np.testing.assert_array_equal(trace.blocks[0].W, old_w)
    assert not np.array_equal(dense(net, 1).W, old_w)


def test_float32_sgd_step_is_the_float32_product_of_minus_learning_rate_and_gradient():
    net = Network([6, 16, 3], activation="relu", seed=3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 6)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    w_before = dense(net, 1).W
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y))
    block = trace.blocks[0]
    assert block.delta_W.dtype == np.float32
    np.testing.assert_array_equal(block.delta_W, np.float32(-LR) * block.dW)
    np.testing.assert_array_equal(dense(net, 1).W, w_before + block.delta_W)


def test_weight_decay_adds_lambda_w_to_weights_but_not_to_biases():
    net = small_net()
    x, y = batch()
    lam = 0.5
    w_before = [dense(net, k).W for k in (1, 2)]
    trace = SGD(learning_rate=LR, weight_decay=lam).step(net, net.gradients(x, y))
    for w, block in zip(w_before, trace.blocks):
        np.testing.assert_allclose(block.delta_W, -LR * (block.dW + lam * w), rtol=1e-15)
        np.testing.assert_array_equal(block.delta_b, -LR * block.db)


def test_weight_decay_leaves_batch_norm_and_embedding_parameters_alone():
    net = Network([2, 4, 2], embedding=(5, 3), batch_norm=True, dtype="float64", seed=2)
    ids = np.array([[0, 1], [2, 3], [4, 0]])
    trace = SGD(learning_rate=LR, weight_decay=1.0).step(net, net.gradients(ids, np.array([0, 1, 1])))
    block = trace.blocks[1]  # dense1 and the batch norm after it (block 0 is the embedding)
    assert block.kind == "dense"
    np.testing.assert_array_equal(block.delta_gamma, -LR * block.dgamma)
    np.testing.assert_array_equal(block.delta_beta, -LR * block.dbeta)
    embed = trace.record("embed1")
    np.testing.assert_array_equal(embed.deltas["table"], -LR * embed.grads["table"])
    # while W does decay
    assert not np.array_equal(block.delta_W, -LR * block.dW)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_over_three_steps_follows_the_velocity_formula(nesterov):
    mu = 0.9
    net = small_net()
    opt = Momentum(learning_rate=LR, momentum=mu, nesterov=nesterov)
    velocity = np.zeros_like(dense(net, 1).W)
    for step in range(3):
        x, y = batch(seed=step)
        w_before = dense(net, 1).W
        block = opt.step(net, net.gradients(x, y)).blocks[0]
        # v ← μv − ηg;  ΔW = v, or μv − ηg with Nesterov's look-ahead
        velocity = mu * velocity - LR * block.dW
        expected = mu * velocity - LR * block.dW if nesterov else velocity
        np.testing.assert_allclose(block.delta_W, expected, rtol=1e-13, atol=1e-16)
        np.testing.assert_array_equal(dense(net, 1).W, w_before + block.delta_W)


@pytest.mark.parametrize(
    "nesterov, first, second",
    [
        # plain: v1 = −ηg = [−0.375, 0.25] = Δ1;  v2 = μv1 − ηg = [−0.5625, 0.375] = Δ2
        (False, [-0.375, 0.25], [-0.5625, 0.375]),
        # Nesterov: Δ1 = μv1 − ηg = [−0.1875 − 0.375, 0.125 + 0.25];  Δ2 = μv2 − ηg = [−0.28125 − 0.375, 0.1875 + 0.25]
        (True, [-0.5625, 0.375], [-0.65625, 0.4375]),
    ],
)
def test_momentum_and_nesterov_by_hand_with_the_same_gradient_twice(nesterov, first, second):
    # η = 0.5, μ = 0.5 and db2 = g = [0.75, −0.5] (hand network): every number is a binary fraction
    net = hand_network()
    trace = net.gradients(HAND_X, HAND_Y)
    np.testing.assert_array_equal(trace.blocks[1].db, [0.75, -0.5])
    opt = Momentum(learning_rate=0.5, momentum=0.5, nesterov=nesterov)
    np.testing.assert_array_equal(opt.step(net, trace).blocks[1].delta_b, first)
    np.testing.assert_array_equal(opt.step(net, trace).blocks[1].delta_b, second)
    # b2 = [0, 1] + Δ1 + Δ2
    np.testing.assert_array_equal(dense(net, 2).b, [first[0] + second[0], 1 + first[1] + second[1]])


def test_rmsprop_one_step_by_hand():
    # s = ρ·0 + (1 − ρ)·g² with ρ = 0.75: s = g²/4, √s = |g|/2;  ΔP = −η·g/(|g|/2 + ε), η = 0.1, ε = 0.5
    net = hand_network()
    trace = RMSprop(learning_rate=0.1, rho=0.75, eps=0.5).step(net, net.gradients(HAND_X, HAND_Y))
    # dW2 = [[1.875, −1], [−0.75, 0.5]]:
    #   1.875 → −0.1875/(0.9375 + 0.5) = −3/23;  −1 → 0.1/(0.5 + 0.5) = 0.1
    #   −0.75 → 0.075/(0.375 + 0.5) = 3/35;      0.5 → −0.05/(0.25 + 0.5) = −1/15
    np.testing.assert_allclose(trace.blocks[1].delta_W, [[-3 / 23, 0.1], [3 / 35, -1 / 15]], rtol=1e-14)
    # db1 = [0.75, −1.75]: −0.075/(0.375 + 0.5) = −3/35;  0.175/(0.875 + 0.5) = 7/55
    np.testing.assert_allclose(trace.blocks[0].delta_b, [-3 / 35, 7 / 55], rtol=1e-14)


def test_rmsprop_second_step_follows_the_running_mean_of_squares():
    rho, eps, lr = 0.9, 1e-8, 1e-2
    net = small_net()
    opt = RMSprop(learning_rate=lr, rho=rho, eps=eps)
    s = 0.0
    for t in (1, 2):
        x, y = batch(seed=t)
        block = opt.step(net, net.gradients(x, y)).blocks[1]
        g = block.db
        s = rho * s + (1 - rho) * g * g
        np.testing.assert_allclose(block.delta_b, -lr * g / (np.sqrt(s) + eps), rtol=1e-12)


def test_nesterov_is_a_different_update_from_plain_momentum():
    x, y = batch()
    deltas = []
    for nesterov in (False, True):
        net = small_net()
        opt = Momentum(learning_rate=LR, momentum=0.9, nesterov=nesterov)
        opt.step(net, net.gradients(x, y))
        deltas.append(opt.step(net, net.gradients(x, y)).blocks[0].delta_W)
    assert not np.allclose(deltas[0], deltas[1])


def test_adam_first_step_moves_each_weight_by_about_the_learning_rate():
    net = small_net()
    x, y = batch()
    block = Adam(learning_rate=1e-3).step(net, net.gradients(x, y)).blocks[0]
    # m̂ = g and v̂ = g² after one step, so ΔW = −η·g/(|g| + ε) ≈ −η·sign(g)
    big = np.abs(block.dW) > 1e-4
    assert big.sum() >= 6
    np.testing.assert_allclose(block.delta_W[big], -1e-3 * np.sign(block.dW[big]), rtol=1e-3)


def test_adam_second_step_follows_the_bias_corrected_formula():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 1e-2
    net = small_net()
    opt = Adam(learning_rate=lr, beta1=b1, beta2=b2, eps=eps)
    m = v = 0.0
    for t in (1, 2):
        x, y = batch(seed=t)
        block = opt.step(net, net.gradients(x, y)).blocks[1]
        g = block.db
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        np.testing.assert_allclose(block.delta_b, -lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-10)


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
    np.testing.assert_allclose(trace.blocks[0].delta_W, -LR * 0.25 * trace.blocks[0].dW, rtol=1e-14)


def test_clip_norm_above_the_gradient_norm_changes_nothing():
    net = small_net()
    x, y = batch()
    trace = net.gradients(x, y)
    opt = SGD(learning_rate=LR, clip_norm=1e4)
    opt.step(net, trace)
    assert opt.last_clip_scale == 1.0
    np.testing.assert_array_equal(trace.blocks[0].delta_W, -LR * trace.blocks[0].dW)


def test_batch_norm_running_statistics_move_only_in_train_mode_steps():
    net = Network([3, 4, 2], batch_norm=True, dtype="float64", seed=3)
    x, y = batch()
    bn = net.layers[1]
    mean0, var0 = bn.state["running_mean"].copy(), bn.state["running_var"].copy()
    net.gradients(x, y, train=True)  # gradients alone update nothing
    np.testing.assert_array_equal(bn.state["running_mean"], mean0)
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y, train=False))
    np.testing.assert_array_equal(bn.state["running_mean"], mean0)  # an eval-mode step
    np.testing.assert_array_equal(bn.state["running_var"], var0)
    assert trace.updated
    trace = SGD(learning_rate=LR).step(net, net.gradients(x, y, train=True))
    saved = trace.record("bn1").saved
    # running ← 0.9·running + 0.1·batch statistic
    np.testing.assert_allclose(bn.state["running_mean"], 0.9 * mean0 + 0.1 * saved["mean"], rtol=1e-14)
    np.testing.assert_allclose(bn.state["running_var"], 0.9 * var0 + 0.1 * saved["var"], rtol=1e-14)


def test_eval_forward_uses_the_running_statistics():
    net = Network([3, 4, 2], batch_norm=True, dtype="float64", seed=3)
    x, _ = batch()
    bn = net.layers[1]
    bn.state = {
        "running_mean": np.array([0.1, -0.2, 0.3, 0.0]),
        "running_var": np.array([0.5, 1.0, 2.0, 4.0]),
    }
    block = net.forward(x).blocks[0]
    affine = x @ dense(net, 1).W + dense(net, 1).b
    expected = (affine - bn.state["running_mean"]) / np.sqrt(bn.state["running_var"] + 1e-5)
    np.testing.assert_allclose(block.z, expected * bn.params["gamma"] + bn.params["beta"], rtol=1e-12)
    # and the train-mode forward does not: it normalises by the batch
    train_block = net.forward(x, train=True).blocks[0]
    np.testing.assert_allclose(train_block.z.mean(axis=0), 0.0, atol=1e-12)


def test_make_optimizer_builds_each_registered_optimizer_with_its_options():
    assert isinstance(make_optimizer("sgd", 0.1), SGD)
    opt = make_optimizer("momentum", 0.1, momentum=0.5, nesterov=True, weight_decay=0.01)
    assert opt.options == {"momentum": 0.5, "nesterov": True} and opt.weight_decay == 0.01
    assert make_optimizer("adam", 1e-3, beta1=0.8).options == {"beta1": 0.8, "beta2": 0.999, "eps": 1e-8}
    assert make_optimizer("rmsprop", 1e-3, rho=0.5).options == {"rho": 0.5, "eps": 1e-8}
    assert {name: type(make_optimizer(name, 0.1)).__name__ for name in OPTIMIZERS} == {
        "sgd": "SGD",
        "momentum": "Momentum",
        "rmsprop": "RMSprop",
        "adam": "Adam",
    }
    with pytest.raises(ValueError, match="optimizer 'sgd' has no option momentum; it takes no options"):
        make_optimizer("sgd", 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="optimizer 'adam' has no option rho; it takes beta1, beta2, eps"):
        make_optimizer("adam", 0.1, rho=0.9)


def test_every_optimizer_declares_its_rule_and_options():
    for name, declared in OPTIMIZERS.items():
        assert declared.name == name and declared.label and declared.equation
    assert [o.name for o in OPTIMIZERS["momentum"].options] == ["momentum", "nesterov"]
    assert [o.name for o in OPTIMIZERS["rmsprop"].options] == ["rho", "eps"]
    assert [o.name for o in OPTIMIZERS["adam"].options] == ["beta1", "beta2", "eps"]
    assert "Nesterov" in make_optimizer("momentum", 0.1, nesterov=True).equation
    assert "Nesterov" not in make_optimizer("momentum", 0.1).equation


def test_step_without_gradients_is_refused():
    net = small_net()
    x, _ = batch()
    with pytest.raises(ValueError, match="this trace has no gradients: create it with net.gradients"):
        SGD(learning_rate=LR).step(net, net.forward(x))
