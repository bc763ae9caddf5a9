"""A 2-2-2 network with weights set by hand: every number below was worked out on paper."""

import math

import numpy as np
import pytest

from backprop import SGD, Network

W1 = np.array([[1.0, -1.0], [0.5, 1.0]])
B1 = np.array([0.0, -2.0])
W2 = np.array([[1.0, 0.0], [-1.0, 2.0]])
B2 = np.array([0.0, 1.0])


def layer(net, name):
    return next(candidate for candidate in net.layers if candidate.name == name)


def hand_network(activation, loss, dtype="float64", batch_norm=False):
    net = Network([2, 2, 2], activation=activation, loss=loss, dtype=dtype, batch_norm=batch_norm)
    layer(net, "dense1").W, layer(net, "dense1").b = W1.astype(dtype), B1.astype(dtype)
    layer(net, "dense2").W, layer(net, "dense2").b = W2.astype(dtype), B2.astype(dtype)
    return net


# softmax([2, 1])[1] = 1 / (1 + e) = 0.2689414213699951
S = 1.0 / (1.0 + math.e)


def test_the_hand_network_is_dense_relu_dense():
    net = hand_network("relu", "cross_entropy")
    assert net.spec == "dense2-relu-dense2"
    assert [candidate.name for candidate in net.layers] == ["dense1", "relu1", "dense2"]


def test_relu_cross_entropy_forward_and_backward_by_hand():
    trace = hand_network("relu", "cross_entropy").gradients(np.array([[1.0, 2.0]]), np.array([0]))
    hidden, out = trace.blocks
    # z1 = x·W1 + b1 = [1·1 + 2·0.5, 1·(−1) + 2·1] + [0, −2] = [2, 1] + [0, −2] = [2, −1]
    np.testing.assert_array_equal(hidden.z, [[2.0, -1.0]])
    # a1 = relu(z1) = [2, 0]
    np.testing.assert_array_equal(hidden.a, [[2.0, 0.0]])
    # z2 = a1·W2 + b2 = [2·1 + 0·(−1), 2·0 + 0·2] + [0, 1] = [2, 1]
    np.testing.assert_array_equal(out.z, [[2.0, 1.0]])
    np.testing.assert_array_equal(trace.output, [[2.0, 1.0]])
    # p = softmax([2, 1]) = [e/(e+1), 1/(e+1)] = [0.7310585786, 0.2689414214]
    np.testing.assert_allclose(trace.probs, [[1 - S, S]], rtol=1e-15)
    # L = −log p0 = log(1 + e^−1) = 0.31326168751822286
    assert trace.loss == pytest.approx(0.31326168751822286, rel=1e-14)
    # dz2 = p − onehot(0) = [−s, s] with s = 0.2689414214 (N = 1)
    np.testing.assert_allclose(out.dz, [[-S, S]], rtol=1e-14)
    np.testing.assert_allclose(trace.d_output, [[-S, S]], rtol=1e-14)
    # dW2 = a1ᵀ·dz2 = [[2·(−s), 2·s], [0·(−s), 0·s]] = [[−0.5378828427, 0.5378828427], [0, 0]]
    np.testing.assert_allclose(out.dW, [[-2 * S, 2 * S], [0.0, 0.0]], rtol=1e-14)
    np.testing.assert_allclose(out.dW[0, 0], -0.5378828427399902, rtol=1e-12)
    # db2 = dz2 summed over the batch = [−s, s]
    np.testing.assert_allclose(out.db, [-S, S], rtol=1e-14)
    # da1 = dz2·W2ᵀ = [−s·1 + s·0, −s·(−1) + s·2] = [−s, 3s] = [−0.2689414214, 0.8068242641]
    np.testing.assert_allclose(hidden.da, [[-S, 3 * S]], rtol=1e-14)
    np.testing.assert_allclose(hidden.da[0, 1], 0.8068242641099853, rtol=1e-12)
    # dz1 = da1 ⊙ relu'(z1) = [−s·1, 3s·0] = [−s, 0]
    np.testing.assert_allclose(hidden.dz, [[-S, 0.0]], rtol=1e-14)
    # dW1 = xᵀ·dz1 = [[1·(−s), 0], [2·(−s), 0]]
    np.testing.assert_allclose(hidden.dW, [[-S, 0.0], [-2 * S, 0.0]], rtol=1e-14)
    # db1 = [−s, 0]
    np.testing.assert_allclose(hidden.db, [-S, 0.0], rtol=1e-14)
    # the first layer reads data: no input gradient unless asked for
    assert hidden.d_in is None and trace.dx is None


def test_the_input_gradient_by_hand_when_asked_for():
    trace = hand_network("relu", "cross_entropy").gradients(
        np.array([[1.0, 2.0]]), np.array([0]), input_gradient=True
    )
    # dx = dz1·W1ᵀ = [−s, 0]·[[1, 0.5], [−1, 1]] = [−s, −0.5s]
    np.testing.assert_allclose(trace.dx, [[-S, -0.5 * S]], rtol=1e-14)
    assert trace.blocks[0].d_in is trace.dx


def test_linear_mse_forward_and_backward_by_hand_over_two_samples():
    x = np.array([[1.0, 2.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [2.0, -1.0]])
    trace = hand_network("linear", "mse").gradients(x, y)
    hidden, out = trace.blocks
    # z1 = x·W1 + b1: row 1 = [2, 1] + [0, −2] = [2, −1]; row 2 = [0.5, 1] + [0, −2] = [0.5, −1]
    np.testing.assert_array_equal(hidden.z, [[2.0, -1.0], [0.5, -1.0]])
    np.testing.assert_array_equal(hidden.a, hidden.z)  # linear: a = z
    # z2 = a1·W2 + b2: row 1 = [2 + 1, −2] + [0, 1] = [3, −1]; row 2 = [0.5 + 1, −2] + [0, 1] = [1.5, −1]
    np.testing.assert_array_equal(out.z, [[3.0, -1.0], [1.5, -1.0]])
    # diff = z2 − y = [[2, −1], [−0.5, 0]]; L = (4 + 1 + 0.25 + 0) / 4 = 1.3125
    assert trace.loss == 1.3125
    # dz2 = 2·diff / (N·D) = diff / 2 = [[1, −0.5], [−0.25, 0]]
    np.testing.assert_array_equal(out.dz, [[1.0, -0.5], [-0.25, 0.0]])
    # dW2 = a1ᵀ·dz2 = [[2·1 + 0.5·(−0.25), 2·(−0.5) + 0.5·0], [−1·1 + (−1)·(−0.25), −1·(−0.5) + (−1)·0]]
    #     = [[1.875, −1], [−0.75, 0.5]]
    np.testing.assert_array_equal(out.dW, [[1.875, -1.0], [-0.75, 0.5]])
    # db2 = [1 − 0.25, −0.5 + 0] = [0.75, −0.5]
    np.testing.assert_array_equal(out.db, [0.75, -0.5])
    # da1 = dz2·W2ᵀ, W2ᵀ = [[1, −1], [0, 2]]: row 1 = [1, −1 − 1] = [1, −2]; row 2 = [−0.25, 0.25]
    np.testing.assert_array_equal(hidden.da, [[1.0, -2.0], [-0.25, 0.25]])
    np.testing.assert_array_equal(hidden.dz, hidden.da)
    # dW1 = xᵀ·dz1, xᵀ = [[1, 0], [2, 1]]: [[1, −2], [2 − 0.25, −4 + 0.25]] = [[1, −2], [1.75, −3.75]]
    np.testing.assert_array_equal(hidden.dW, [[1.0, -2.0], [1.75, -3.75]])
    # db1 = [1 − 0.25, −2 + 0.25] = [0.75, −1.75]
    np.testing.assert_array_equal(hidden.db, [0.75, -1.75])


def test_hand_numbers_hold_in_float32_too():
    x = np.array([[1.0, 2.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [2.0, -1.0]])
    trace = hand_network("linear", "mse", dtype="float32").gradients(x, y)
    assert trace.blocks[0].dW.dtype == np.float32
    # every number of this example is a short binary fraction, so float32 is exact too
    assert trace.loss == 1.3125
    np.testing.assert_array_equal(trace.blocks[0].dW, [[1.0, -2.0], [1.75, -3.75]])


def test_sgd_step_on_the_hand_network_gives_the_hand_weights():
    net = hand_network("linear", "mse")
    x = np.array([[1.0, 2.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [2.0, -1.0]])
    trace = SGD(learning_rate=0.5).step(net, net.gradients(x, y))
    # W2 − 0.5·dW2 = [[1 − 0.9375, 0 + 0.5], [−1 + 0.375, 2 − 0.25]]
    np.testing.assert_array_equal(layer(net, "dense2").W, [[0.0625, 0.5], [-0.625, 1.75]])
    # b1 − 0.5·db1 = [0 − 0.375, −2 + 0.875]
    np.testing.assert_array_equal(layer(net, "dense1").b, [-0.375, -1.125])
    # the trace still shows the weights the step used, and the change it applied
    np.testing.assert_array_equal(trace.blocks[1].W, W2)
    np.testing.assert_array_equal(trace.blocks[1].delta_W, [[-0.9375, 0.5], [0.375, -0.25]])


def test_batch_norm_eval_forward_by_hand():
    net = hand_network("linear", "mse", batch_norm=True)
    assert net.spec == "dense2-bn-linear-dense2"
    bn = layer(net, "bn1")
    # + eps: std 2 and 1
    bn.state = {"running_mean": np.array([1.0, 0.0]), "running_var": np.array([4.0 - 1e-5, 1.0 - 1e-5])}
    bn.params = {"gamma": np.array([3.0, 1.0]), "beta": np.array([0.5, 0.0])}
    block = net.forward(np.array([[1.0, 2.0]])).blocks[0]
    # affine = [2, −1]; normalized = [(2 − 1)/2, (−1 − 0)/1] = [0.5, −1]
    np.testing.assert_array_equal(block.affine, [[2.0, -1.0]])
    np.testing.assert_allclose(block.normalized, [[0.5, -1.0]], rtol=1e-12)
    # z = gamma·normalized + beta = [1.5 + 0.5, −1 + 0] = [2, −1]
    np.testing.assert_allclose(block.z, [[2.0, -1.0]], rtol=1e-12)


def test_batch_norm_train_forward_normalizes_each_unit_over_the_batch():
    net = hand_network("linear", "mse", batch_norm=True)
    trace = net.forward(np.array([[1.0, 2.0], [0.0, 1.0]]), train=True)
    saved = trace.record("bn1").saved
    # affine = [[2, −1], [0.5, −1]]: unit 0 mean 1.25, var 0.5625; unit 1 mean −1, var 0
    np.testing.assert_array_equal(saved["mean"], [1.25, -1.0])
    np.testing.assert_array_equal(saved["var"], [0.5625, 0.0])
    # unit 0: ±0.75 / sqrt(0.5625 + 1e-5) ≈ ±1; unit 1: 0 / sqrt(1e-5) = 0
    np.testing.assert_allclose(saved["normalized"], [[1.0, 0.0], [-1.0, 0.0]], rtol=2e-5)
    assert trace.blocks[0].normalized is saved["normalized"]


def test_cross_entropy_stays_finite_and_exact_for_huge_logits():
    from backprop.losses import cross_entropy

    logits = np.array([[1000.0, 0.0], [-1000.0, 1000.0]], dtype=np.float32)
    loss, grad, probs = cross_entropy(logits, np.array([1, 0]))
    # row 1: −log softmax = 1000 − 0; row 2: 1000 − (−1000) = 2000; mean 1500
    assert loss == 1500.0
    # (p − onehot)/N: row 1 p = [1, 0] → [1, −1]/2; row 2 p = [0, 1] → [−1, 1]/2
    np.testing.assert_array_equal(grad, [[0.5, -0.5], [-0.5, 0.5]])
    assert np.all(np.isfinite(probs))
