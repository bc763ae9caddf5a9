"""The step inspector's arithmetic: per-sample terms, the chain rule at a unit, diagnostics."""

import math

import numpy as np
import pytest

from backprop import Network, make_optimizer
from backprop.breakdown import (
    batch_indices,
    bias_breakdown,
    forward_breakdown,
    layer_diagnostics,
    loss_on_batch,
    trace_npz_bytes,
    unit_breakdown,
    weight_breakdown,
)


def small_batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 2, size=n)


def test_weight_terms_sum_to_the_traced_gradient():
    net = Network([3, 4, 2], activation="tanh", seed=1)
    x, y = small_batch()
    trace = net.gradients(x, y)
    out = weight_breakdown(trace.blocks[0], 2, 1, top=3)
    expected = x[:, 2].astype(np.float64) * trace.blocks[0].dz[:, 1]
    np.testing.assert_allclose(out.terms, expected, rtol=1e-6)
    assert out.total == pytest.approx(float(trace.blocks[0].dW[2, 1]), rel=1e-5, abs=1e-7)
    assert len(out.top) == 3
    assert abs(out.top[0][3]) >= abs(out.top[1][3]) >= abs(out.top[2][3])
    assert out.delta is None and out.grad_name == "dz"


def test_weight_terms_use_the_affine_gradient_under_batch_norm():
    net = Network([3, 4, 2], activation="relu", batch_norm=True, seed=2)
    x, y = small_batch()
    block = net.gradients(x, y).blocks[0]
    out = weight_breakdown(block, 0, 3)
    assert out.grad_name == "dh"
    # the gradient into the affine output is batch norm's input gradient, not dz
    assert block.d_affine is not block.dz
    np.testing.assert_allclose(out.terms, x[:, 0].astype(np.float64) * block.d_affine[:, 3], rtol=1e-6)
    assert out.total == pytest.approx(float(block.dW[0, 3]), rel=1e-4, abs=1e-6)


def test_weight_breakdown_reports_the_sgd_update():
    net = Network([3, 4, 2], activation="gelu", seed=3)
    x, y = small_batch()
    trace = net.gradients(x, y)
    make_optimizer("sgd", 0.5).step(net, trace)
    out = weight_breakdown(trace.blocks[1], 3, 0)
    assert out.delta == pytest.approx(-0.5 * out.dW, rel=1e-6)
    assert out.new_value == pytest.approx(float(net.layers[2].W[3, 0]), rel=1e-6)
    assert net.layers[2].name == "dense2"


def test_weight_breakdown_rejects_an_index_outside_the_matrix():
    net = Network([3, 4, 2], seed=0)
    block = net.gradients(*small_batch()).blocks[0]
    with pytest.raises(ValueError, match=r"weight \(3, 0\) is outside W of shape \(3, 4\)"):
        weight_breakdown(block, 3, 0)


def test_unit_chain_rule_matches_the_trace():
    net = Network([3, 5, 4, 2], activation="tanh", seed=4)
    x, y = small_batch()
    trace = net.gradients(x, y)
    out = unit_breakdown(trace, 0, 2, sample=1, top=10)
    assert out.dz == pytest.approx(out.da * out.slope, rel=1e-5)
    assert out.slope == pytest.approx(1 - math.tanh(out.z) ** 2, rel=1e-4)
    assert sum(t[3] for t in out.da_terms) == pytest.approx(out.da, rel=1e-5, abs=1e-8)
    assert unit_breakdown(trace, 2, 0).da_from_loss


def test_batches_are_reproducible_and_never_larger_than_the_set():
    a, b = batch_indices(10, 4, seed=0, draw=3), batch_indices(10, 4, seed=0, draw=3)
    np.testing.assert_array_equal(a, b)
    assert len(batch_indices(3, 32, 0, 0)) == 3
    assert not np.array_equal(batch_indices(1000, 4, 0, 0), batch_indices(1000, 4, 0, 1))


def test_loss_after_sgd_step_is_measured_on_the_same_batch():
    net = Network([3, 4, 2], activation="tanh", seed=5)
    x, y = small_batch()
    trace = net.gradients(x, y)
    assert loss_on_batch(net, trace) == pytest.approx(trace.loss, rel=1e-6)
    make_optimizer("sgd", 0.1).step(net, trace)
    assert loss_on_batch(net, trace) < trace.loss


def test_update_ratio_after_a_step():
    net = Network([3, 4, 2], seed=0)
    trace = net.gradients(*small_batch())
    assert layer_diagnostics(trace)[0].update_ratio is None
    make_optimizer("sgd", 0.1).step(net, trace)
    ratio = layer_diagnostics(trace)[0].update_ratio
    expected = np.linalg.norm(trace.blocks[0].delta_W) / np.linalg.norm(trace.blocks[0].W)
    assert ratio == pytest.approx(expected, rel=1e-5)


def test_npz_export_holds_every_tensor_and_the_config(tmp_path):
    import io
    import json

    net = Network([3, 4, 2], seed=0)
    trace = net.gradients(*small_batch())
    data = np.load(io.BytesIO(trace_npz_bytes(trace, {"layers": "dense4-relu"})), allow_pickle=False)
    assert set(trace.arrays()) <= set(data.files)
    np.testing.assert_array_equal(data["dense1.dW"], trace.blocks[0].dW)
    np.testing.assert_array_equal(data["relu1.out"], trace.blocks[0].a)
    assert json.loads(str(data["config.json"])) == {"layers": "dense4-relu"}


def test_network_at_trace_holds_the_weights_the_step_used_before_its_update():
    from backprop.breakdown import network_at_trace

    net = Network([3, 4, 2], activation="tanh", batch_norm=True, seed=6)
    x, y = small_batch()
    trace = net.gradients(x, y)
    make_optimizer("sgd", 0.5).step(net, trace)
    twin = network_at_trace(net, trace)
    np.testing.assert_array_equal(twin.layers[0].W, trace.blocks[0].W)
    assert not np.array_equal(twin.layers[0].W, net.layers[0].W)
    # same weights, same batch, same mode: the same loss as the step measured
    assert loss_on_batch(twin, trace) == pytest.approx(trace.loss, rel=1e-6)
    assert loss_on_batch(net, trace) != pytest.approx(trace.loss, rel=1e-6)


def test_dead_relu_units_are_counted():
    net = Network([3, 4, 2], activation="relu", seed=0)
    net.layers[0].b = np.array([-100, -100, -100, 0], dtype=np.float32)  # dense1
    diag = layer_diagnostics(net.gradients(*small_batch()))
    assert diag[0].dead_share == pytest.approx(0.75)
    assert diag[1].dead_share is None


def test_saturated_tanh_outputs_are_counted():
    net = Network([3, 4, 2], activation="tanh", seed=0)
    net.layers[0].W = net.layers[0].W * np.float32(100)
    diag = layer_diagnostics(net.gradients(*small_batch()))
    assert diag[0].saturated_share > 0.5


def test_bias_terms_sum_to_the_traced_gradient_and_report_the_update():
    net = Network([3, 4, 2], activation="tanh", seed=1)
    trace = net.gradients(*small_batch())
    out = bias_breakdown(trace.blocks[1], 1, top=2)
    np.testing.assert_allclose(out.terms, trace.blocks[1].dz[:, 1], rtol=1e-6)
    assert out.total == pytest.approx(float(trace.blocks[1].db[1]), rel=1e-5, abs=1e-7)
    assert out.delta is None and len(out.top) == 2
    make_optimizer("sgd", 0.5).step(net, trace)
    out = bias_breakdown(trace.blocks[1], 1)
    assert out.new_value == pytest.approx(float(net.layers[2].b[1]), rel=1e-6)  # dense2
    with pytest.raises(ValueError, match="outside b of length 2"):
        bias_breakdown(trace.blocks[1], 2)


def test_forward_terms_sum_to_the_affine_output_and_the_activation():
    net = Network([3, 4, 2], activation="tanh", seed=2)
    x, y = small_batch()
    trace = net.gradients(x, y)
    out = forward_breakdown(trace, 0, 3, sample=2, top=3)
    rec = trace.blocks[0]
    expected = float(x[2].astype(np.float64) @ rec.W[:, 3].astype(np.float64) + rec.b[3])
    assert out.total == pytest.approx(expected, rel=1e-6)
    assert out.affine == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert out.a == pytest.approx(math.tanh(out.z), rel=1e-5)
    assert len(out.terms) == 3 and abs(out.terms[0][3]) >= abs(out.terms[1][3])


def test_forward_breakdown_with_batch_norm_reports_its_stage():
    net = Network([3, 4, 2], activation="relu", batch_norm=True, seed=3)
    out = forward_breakdown(net.gradients(*small_batch()), 0, 1, sample=0)
    assert out.z == pytest.approx(out.gamma * out.normalized + out.beta, rel=1e-5, abs=1e-6)
    with pytest.raises(ValueError, match="outside this layer"):
        forward_breakdown(net.gradients(*small_batch()), 0, 4)
