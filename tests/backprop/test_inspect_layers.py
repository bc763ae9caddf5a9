"""The inspector's arithmetic for convolutions, attention and embeddings, checked against the trace:
each breakdown's terms add up to the number the engine recorded, and that number to centred
differences."""

import math

import numpy as np
import pytest

from backprop import Network, gradcheck, make_optimizer
from backprop.breakdown import (
    attention_weight_breakdown,
    embedding_breakdown,
    feature_map_breakdown,
    kernel_breakdown,
    layer_diagnostics,
    query_gradient_breakdown,
    unit_breakdown,
    weight_breakdown,
    window_max,
)


def conv_step(spec="conv3k3p1-relu-maxpool2-flatten", n=4, seed=0, train=False):
    net = Network(spec, input_shape=(6, 6), n_outputs=3, seed=seed)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 36)).astype(np.float32), rng.integers(0, 3, size=n)
    trace = net.gradients(x, y)
    if train:
        make_optimizer("sgd", 0.1).step(net, trace)
    return net, x, y, trace


def attention_step(spec="embed8-pos-res-ln-attn2-add-last", n=5, seed=0):
    net = Network(spec, input_shape=(4,), n_outputs=5, vocab_size=5, seed=seed)
    rng = np.random.default_rng(seed)
    ids, y = rng.integers(0, 5, size=(n, 4)), rng.integers(0, 5, size=n)
    return net, ids, y, net.gradients(ids, y)


def test_attention_starts_its_own_block_with_the_residual_add_after_it():
    net, _, _, trace = attention_step("embed8-pos-res-ln-attn2-add-res-ln-dense16-relu-dense8-add-last")
    names = [[rec.name for rec in block.records] for block in trace.blocks]
    assert names == [
        ["embed1", "pos1", "res1", "ln1"],
        ["attn1", "add1", "res2", "ln2"],
        ["dense1", "relu1"],
        ["dense2", "add2", "last1"],
        ["dense3"],
    ]
    assert [[layer.name for layer in block.layers] for block in net.blocks()] == names
    assert trace.blocks[1].kind == "attn" and trace.blocks[1].a_in is trace.record("ln1").out


def test_a_kernel_weights_gradient_is_a_sum_over_samples_and_positions():
    net, x, y, trace = conv_step()
    out = kernel_breakdown(trace, 0, 2, 0, 1, 2, top=4)
    conv = trace.record("conv1")
    assert out.terms.shape == (4 * 6 * 6,)  # every sample and output position
    assert out.total == pytest.approx(float(conv.grads["W"][2, 0, 1, 2]), rel=1e-5, abs=1e-7)
    assert out.dK == float(conv.grads["W"][2, 0, 1, 2]) and out.padding == 1 and out.stride == 1
    padded = np.pad(x.reshape(4, 1, 6, 6), ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n, yy, xx, value, grad, product in out.top:
        # the input value is the padded pixel the weight saw at that output position
        assert value == pytest.approx(float(padded[n, 0, yy + 1, xx + 2]))
        assert grad == pytest.approx(float(conv.dout[n, 2, yy, xx]))
        assert product == pytest.approx(value * grad, rel=1e-6)
    assert abs(out.top[0][5]) >= abs(out.top[-1][5])
    check = gradcheck(net, x, y, layer="conv1", param="W", entries=[(2, 0, 1, 2)])
    assert check.backprop[0] == pytest.approx(out.total, rel=1e-4)
    assert check.max_rel_error < 1e-5


def test_a_kernel_weights_update_is_reported():
    net, _, _, trace = conv_step(train=True)
    out = kernel_breakdown(trace, 0, 1, 0, 0, 0)
    assert out.delta == pytest.approx(-0.1 * out.dK, rel=1e-5)
    assert out.new_value == pytest.approx(float(net.layers[0].W[1, 0, 0, 0]), rel=1e-6)


def test_a_feature_map_unit_is_its_patch_times_the_kernel_and_its_gradient_goes_through_the_switch():
    _, x, _, trace = conv_step()
    conv, relu, pool = trace.record("conv1"), trace.record("relu1"), trace.record("maxpool1")
    seen = set()
    for channel, yy, xx in [(0, 0, 0), (1, 2, 3), (2, 5, 5), (0, 4, 1)]:
        out = feature_map_breakdown(trace, 0, channel, yy, xx, sample=1, top=9)
        assert out.total == pytest.approx(float(conv.out[1, channel, yy, xx]), rel=1e-5, abs=1e-6)
        assert len(out.terms) == 9 and out.bias == float(conv.params["b"][channel])
        assert out.a == pytest.approx(max(out.z, 0.0))
        assert out.window == (yy // 2, xx // 2) and out.pool == "maxpool"
        assert out.share in (0.0, 1.0) or 0 < out.share < 1  # the max, another entry, or a tie
        assert out.da == pytest.approx(out.share * out.d_pooled, abs=1e-7)
        assert out.dz == pytest.approx(float(relu.dx[1, channel, yy, xx]), rel=1e-5, abs=1e-8)
        assert out.dz == pytest.approx(out.dz_trace, rel=1e-6, abs=1e-9)
        seen.add(out.share)
    # the max of its window gets the window's whole gradient
    window = pool.x[1, 0, 0:2, 0:2]
    yy, xx = np.unravel_index(int(window.argmax()), (2, 2))
    out = feature_map_breakdown(trace, 0, 0, int(yy), int(xx), sample=1)
    assert out.share == 1.0 and out.da == pytest.approx(float(pool.dout[1, 0, 0, 0]))
    assert out.pooled == pytest.approx(float(pool.out[1, 0, 0, 0]))


def test_a_cropped_map_row_has_no_pooling_window():
    net = Network("conv2k2-relu-maxpool2-flatten", input_shape=(6, 6), n_outputs=2, seed=0)
    rng = np.random.default_rng(1)
    trace = net.gradients(rng.normal(size=(2, 36)), rng.integers(0, 2, size=2))
    out = feature_map_breakdown(trace, 0, 1, 4, 4)  # 5×5 maps pool to 2×2: row and column 4 are dropped
    assert out.window is None and out.share is None and out.da == 0.0


def test_conv_breakdowns_refuse_other_blocks_and_outside_indices():
    _, _, _, trace = conv_step()
    with pytest.raises(ValueError, match="dense block"):
        kernel_breakdown(trace, 1, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="outside K of shape"):
        kernel_breakdown(trace, 0, 3, 0, 0, 0)
    with pytest.raises(ValueError, match="outside the maps"):
        feature_map_breakdown(trace, 0, 0, 6, 0)


def test_an_attention_weights_score_gradient_is_the_softmax_jacobian_row():
    net, ids, y, trace = attention_step()
    attn = trace.record("attn1")
    for head, query, key in [(0, 3, 1), (1, 2, 2), (1, 0, 0), (0, 3, 3)]:
        out = attention_weight_breakdown(trace, 1, head, query, key, sample=2)
        a = attn.saved["weights"][2, head, query]
        da = attn.saved_backward["d_weights"][2, head, query]
        assert [j for j, *_ in out.row] == list(range(query + 1))
        assert out.row_sum == pytest.approx(float((a[: query + 1] * da[: query + 1]).sum()), rel=1e-6)
        assert out.d_score == pytest.approx(out.d_score_trace, rel=1e-5, abs=1e-8)
        assert out.d_score == pytest.approx(float(a[key]) * (float(da[key]) - out.row_sum), rel=1e-6)
        assert out.weight == pytest.approx(math.exp(out.score) / sum(math.exp(s) for s in out.row_scores))
        q = attn.saved["q"][2, query, head * 4 : head * 4 + 4]
        k = attn.saved["k"][2, key, head * 4 : head * 4 + 4]
        assert out.score == pytest.approx(float(q @ k) / 2.0, rel=1e-5)  # √(8/2) = 2
        assert out.dot * out.scale == pytest.approx(out.score, rel=1e-5)
        assert len(out.score_terms) == 4  # the head's four numbers, the largest first


def test_a_future_key_is_masked_and_gets_no_gradient():
    _, _, _, trace = attention_step()
    out = attention_weight_breakdown(trace, 1, 0, 1, 3)
    assert out.masked and out.weight == 0.0 and out.score == -math.inf
    assert out.d_score == 0.0 and out.d_score_trace == 0.0


def test_a_query_gradient_is_a_sum_over_the_visible_keys():
    net, ids, y, trace = attention_step()
    attn = trace.record("attn1")
    for position, column in [(0, 0), (3, 5), (2, 3)]:
        out = query_gradient_breakdown(trace, 1, position, column, sample=4)
        assert [j for j, *_ in out.terms] == list(range(position + 1))
        assert out.head == column // 4
        assert out.total == pytest.approx(
            float(attn.saved_backward["dq"][4, position, column]), rel=1e-5, abs=1e-8
        )
        assert out.dq == float(attn.saved_backward["dq"][4, position, column])
    check = gradcheck(net, ids, y, layer="attn1", param="Wq", entries=[(0, 5), (3, 1)])
    assert check.max_rel_error < 1e-5


def test_an_embedding_rows_gradient_adds_the_positions_holding_its_token():
    net, ids, y, trace = attention_step()
    embed = trace.record("embed1")
    token = int(ids[0, 0])
    out = embedding_breakdown(trace, 0, token, 3)
    assert len(out.terms) == int((ids == token).sum())
    assert all(ids[n, t] == token for n, t, _ in out.terms)
    assert out.total == pytest.approx(out.dtable, rel=1e-5, abs=1e-8)
    assert out.dtable == float(embed.grads["table"][token, 3])
    check = gradcheck(net, ids, y, layer="embed1", param="table", entries=[(token, 3)])
    assert check.backprop[0] == pytest.approx(out.total, rel=1e-4)


def test_a_token_missing_from_the_batch_has_no_terms_and_no_gradient():
    net, ids, y, _ = attention_step()
    ids[ids == 4] = 0
    trace = net.gradients(ids, y)
    out = embedding_breakdown(trace, 0, 4, 0)
    assert out.terms == [] and out.total == 0.0 and out.dtable == 0.0


def test_dense_breakdowns_read_sequences_one_row_per_position():
    _, _, _, trace = attention_step("embed8-dense6-relu-last")
    block = trace.blocks[1]
    assert block.a_in.ndim == 3
    out = weight_breakdown(block, 2, 4)
    assert out.terms.shape == (5 * 4,)
    assert out.total == pytest.approx(float(block.dW[2, 4]), rel=1e-5, abs=1e-7)
    assert isinstance(out.top[0][0], str) and "," in out.top[0][0]  # "n,t"
    with pytest.raises(ValueError, match="position"):
        unit_breakdown(trace, 1, 0, sample=0)
    u = unit_breakdown(trace, 1, 3, sample=1, position=2)
    assert u.position == 2 and u.dz == pytest.approx(u.da * u.slope, rel=1e-6, abs=1e-9)


def test_diagnostics_cover_attention_and_embedding_blocks():
    _, _, _, trace = attention_step()
    diagnostics = layer_diagnostics(trace)
    assert len(diagnostics) == 3
    assert all(math.isfinite(d.grad_norm) and d.weight_norm > 0 for d in diagnostics)
    attn = trace.record("attn1")
    expected = math.sqrt(
        sum(float(np.sum(attn.params[w].astype(np.float64) ** 2)) for w in ("Wq", "Wk", "Wv", "Wo"))
    )
    assert diagnostics[1].weight_norm == pytest.approx(expected, rel=1e-6)


def test_tied_maxima_of_a_pooling_window_share_its_gradient_as_the_engine_splits_it():
    net = Network("conv1k1-maxpool2-flatten", input_shape=(2, 2), n_outputs=2, seed=0)
    conv = net.layers[0]
    conv.params["W"][...] = 1.0  # z = x, so the input decides where the maxima are
    conv.params["b"][...] = 0.0
    x = np.array([[1.0, 3.0, 3.0, 0.0]], dtype=np.float32)  # two maxima in the one window
    trace = net.gradients(x, np.array([1]))
    pool = trace.record("maxpool1")
    for (yy, xx), share in [((0, 1), 0.5), ((1, 0), 0.5), ((0, 0), 0.0), ((1, 1), 0.0)]:
        out = feature_map_breakdown(trace, 0, 0, yy, xx)
        assert out.share == share
        assert out.da == pytest.approx(share * float(pool.dout[0, 0, 0, 0]))
        assert out.dz == pytest.approx(float(pool.dx[0, 0, yy, xx]))
    assert window_max(trace, 0, 0, 0, 0) == (0, 1)  # the first of the tied maxima
