"""The step player's data: the trace as plain blocks, the payload bytes, and the words around them."""

import math

import numpy as np
import pytest

from backprop import Network, make_optimizer
from backprop.breakdown import layer_diagnostics
from viz.colors import LUT
from viz.step_payload import (
    EXACT_CELLS,
    MAX_CELLS,
    block_mean,
    build_payload,
    decode_tensor,
    quantize,
    read_payload,
    reduction,
    tensor_stats,
)
from viz.step_text import diagnostic_notes, diagnostics_rows, phase_equations, phase_summary, sig, update_rule
from viz.step_view import BACKWARD, FORWARD, READY, UPDATE, step_view


def step(sizes=(2, 3, 2), n=5, train=False, **options):
    net = Network(list(sizes), seed=0, **options)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, sizes[0])).astype(np.float32)
    trace = net.gradients(x, rng.integers(0, sizes[-1], size=n))
    if train:
        make_optimizer("sgd", 0.1).step(net, trace)
    return net, trace


def payload_of(view, step_id=1, start=0):
    equations = [phase_equations(view, p) for p in view.phases]
    return build_payload(view, step_id, start, equations, [phase_summary(view, p) for p in view.phases])


def test_phases_walk_ready_forward_loss_backward_and_the_update_only_when_applied():
    net, trace = step(train=True)
    labels = [p.label for p in step_view(trace, net).phases]
    assert labels == ["Ready", "Forward 1", "Forward 2", "Loss", "Backward 2", "Backward 1", "Update"]
    net, trace = step()
    assert [p.label for p in step_view(trace, net).phases][-1] == "Backward 1"


def test_every_tensor_is_known_from_the_phase_that_computes_it():
    net, trace = step(train=True)
    view = step_view(trace, net)
    first = view.blocks[0]
    assert view.known_at(first.tensor("W")) == view.phase_index(READY)
    assert view.known_at(first.tensor("z")) == view.phase_index(FORWARD, 0)
    assert view.known_at(first.tensor("dW")) == view.phase_index(BACKWARD, 0)
    assert view.known_at(first.tensor("delta_W")) == view.phase_index(UPDATE)
    np.testing.assert_array_equal(first.tensor("dz").values, trace.blocks[0].dz)
    assert first.tensor("b").values.shape == (1, 3)


def test_batch_norm_and_dropout_add_their_tensors():
    net, trace = step(activation="relu", batch_norm=True, dropout=0.5)
    block = step_view(trace, net).blocks[0]
    forward = [row[0] for row in block.sections[0].rows]
    assert forward == ["W", "b", "gamma", "beta", "normalized", "z", "a", "dropout_mask"]
    # each row pairs a forward array with its gradient and its change
    assert block.sections[0].rows[4][:2] == ("normalized", "d_affine")
    assert block.sections[0].rows[0] == ("W", "dW", None)  # not updated: no change


def test_outputs_show_class_labels_one_hot_and_the_loss_gradient():
    net, trace = step()
    view = step_view(trace, net, class_labels=["no", "yes"])
    by_key = {t.key: t for t in view.outputs}
    assert set(by_key) == {"output", "probs", "y", "d_output"}
    np.testing.assert_array_equal(by_key["y"].values.argmax(axis=1), trace.y)
    assert view.axes["unit2"].labels == ["no", "yes"]


def test_small_tensors_travel_exactly_with_their_stats_and_phase():
    net, trace = step(train=True)
    view = step_view(trace, net)
    header, data = read_payload(payload_of(view, step_id=7, start=3))
    assert header["step"] == 7 and header["start"] == 3 and header["updated"]
    assert [p["label"] for p in header["phases"]][0] == "Ready"
    entry = next(t for t in header["tensors"] if t["key"] == "dW" and t["block"] == 0)
    assert entry["enc"] == "f32" and entry["known"] == view.phase_index(BACKWARD, 0)
    np.testing.assert_array_equal(decode_tensor(entry, data), trace.blocks[0].dW)
    dW = trace.blocks[0].dW.astype(np.float64)
    assert entry["stats"]["median"] == pytest.approx(float(np.median(dW)))
    assert entry["stats"]["absmax"] == pytest.approx(float(np.abs(dW).max()))
    lut = np.frombuffer(data, np.uint8, 768, header["lut"]).reshape(256, 3)
    np.testing.assert_array_equal(lut, LUT)


def test_large_tensors_are_block_means_quantized_per_column():
    m = np.random.default_rng(0).normal(size=(784, 256))
    rows, cols = reduction(m.shape)
    assert math.ceil(784 / rows) * math.ceil(256 / cols) <= MAX_CELLS and cols == 1
    reduced = block_mean(m, rows, cols)
    np.testing.assert_allclose(reduced[0, 5], m[:rows, 5].mean())
    q, scale = quantize(reduced)
    np.testing.assert_allclose(q / 127 * scale, reduced, atol=float(scale.max()) / 127)
    assert q.dtype == np.int8 and scale.shape == (256,)


def test_quantized_nan_is_marked_and_ragged_blocks_average_what_they_hold():
    m = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    np.testing.assert_allclose(block_mean(m, 2, 2), [[10 / 3, 4.5], [7.5, 9.0]])
    q, _ = quantize(np.array([[np.nan, 1.0]]))
    assert q[0, 0] == -128


def test_the_big_network_step_fits_the_budget():
    net = Network([784, 256, 64, 10], seed=0)
    rng = np.random.default_rng(1)
    trace = net.gradients(rng.random((32, 784), dtype=np.float32), rng.integers(0, 10, 32))
    make_optimizer("adam", 1e-3).step(net, trace)
    view = step_view(trace, net, input_pixels=(28, 28))
    payload = payload_of(view)
    assert len(payload) < 400_000
    header, data = read_payload(payload)
    W = next(t for t in header["tensors"] if t["key"] == "W" and t["block"] == 0)
    assert W["enc"] == "q8" and W["shape"] == [784, 256] and W["reduce"] == [4, 1]
    small = next(t for t in header["tensors"] if t["key"] == "W" and t["block"] == 2)
    assert small["enc"] == "f32" and EXACT_CELLS >= 64 * 10
    assert header["axes"]["in1"]["pixels"] == [28, 28]


def test_significant_digits_keep_small_products_checkable():
    assert sig(-0.000123456789) == "-0.000123457"
    assert sig(0.9193) == "0.9193"
    assert sig(-1.234567e-9) == "-1.23457e-09"
    assert sig(0.0) == "0" and sig(None) == "—" and sig(float("nan")) == "nan"


def test_equations_read_each_formula_from_its_registry():
    net, trace = step(train=True, activation="tanh")
    view = step_view(trace, net)
    forward = phase_equations(view, view.phases[1])
    assert forward[0] == "z¹ = x·W¹ + b¹" and "tanh(z)" in forward[1]
    assert "softmax" in phase_equations(view, view.phases[3])[0]
    assert update_rule("sgd").startswith("ΔP = −η·g")
    assert "λ" in update_rule("adam", weight_decay=1e-4)
    assert "1.5 → 1.25" in phase_summary(view, view.phases[-1], loss_after=1.25).replace(
        sig(view.loss), "1.5"
    )


def test_diagnostics_rows_say_dash_where_a_figure_does_not_apply():
    net, trace = step(activation="tanh")
    rows = diagnostics_rows(layer_diagnostics(trace))
    assert rows[0]["‖ΔW‖/‖W‖"] == "—" and rows[0]["dead units"] == "—"
    assert "None" not in str(rows)


def test_notes_name_dead_units_saturation_rising_loss_and_bad_gradients():
    class Fake:
        def __init__(self, layer, g, dead=None, saturated=None):
            self.layer, self.grad_norm, self.activation = layer, g, "relu"
            self.dead_share, self.saturated_share, self.update_ratio = dead, saturated, None

    assert "Exploding" in diagnostic_notes([Fake(0, 5e3), Fake(1, 1.0)])[0]
    assert "Vanishing" in diagnostic_notes([Fake(0, 1e-7), Fake(1, 1.0)])[0]
    assert "not finite" in diagnostic_notes([Fake(0, math.nan)])[0]
    assert diagnostic_notes([Fake(0, 1.0), Fake(1, 1.0)]) == []
    assert any("Dead ReLUs: 75%" in n for n in diagnostic_notes([Fake(0, 1.0, dead=0.75)]))
    assert any("Saturation" in n for n in diagnostic_notes([Fake(0, 1.0, saturated=0.9)]))
    assert any("learning rate may be too high" in n for n in diagnostic_notes([], 0.5, 0.9))


# --------------------------------------------------------------- conv and attention
def conv_step(n=4, train=True):
    net = Network("conv3k3-relu-maxpool2-conv4k3p1-relu-flatten", input_shape=(8, 8), n_outputs=3, seed=0)
    rng = np.random.default_rng(2)
    trace = net.gradients(rng.random((n, 64), dtype=np.float32), rng.integers(0, 3, size=n))
    if train:
        make_optimizer("sgd", 0.1).step(net, trace)
    return net, trace


def attention_step(n=6):
    net = Network("embed8-pos-res-ln-attn2-add-last", input_shape=(4,), n_outputs=5, vocab_size=5, seed=0)
    rng = np.random.default_rng(3)
    return net, net.gradients(rng.integers(0, 5, size=(n, 4)), rng.integers(0, 5, size=n))


def test_a_conv_block_shows_kernels_and_the_shown_samples_maps_as_tiles():
    net, trace = conv_step()
    view = step_view(trace, net, sample=2)
    conv = view.blocks[0]
    assert conv.kind == "conv" and [b.kind for b in view.blocks] == ["conv", "conv", "dense"]
    kernels = conv.tensor("W")
    assert kernels.layout == "maps" and kernels.values.shape == (3, 1, 3, 3)
    np.testing.assert_array_equal(kernels.values, trace.record("conv1").params["W"])
    z = conv.tensor("z")  # one sample's maps: a 1 × C grid of Ho × Wo tiles
    assert z.layout == "maps" and z.sample == 2 and z.values.shape == (1, 3, 6, 6)
    np.testing.assert_array_equal(z.values[0], trace.record("conv1").out[2])
    np.testing.assert_array_equal(conv.tensor("d_pooled").values[0], trace.record("maxpool1").dout[2])
    switches = conv.tensor("switches").values[0]
    assert switches.shape == (3, 6, 6) and set(np.unique(switches)) <= {0.0, 0.25, 0.5, 1.0}
    # every pooling window holds switches that add up to 1
    np.testing.assert_allclose(switches.reshape(3, 3, 2, 3, 2).sum(axis=(2, 4)), 1.0)
    assert view.known_at(z) == view.phase_index(FORWARD, 0)
    assert view.known_at(conv.tensor("dW")) == view.phase_index(BACKWARD, 0)
    assert conv.tensor("dx_maps") is None  # the first layer's input is data
    assert view.blocks[1].tensor("dx_maps").values.shape == (1, 3, 3, 3)


def test_a_conv_block_shows_its_backward_pass_as_computed_on_the_im2col_matrix():
    net, trace = conv_step()
    conv2 = step_view(trace, net).blocks[1]
    rec = trace.record("conv2")
    section = conv2.sections[1]
    assert "im2col" in section.title
    assert [key for row in section.rows for key in row if key] == [
        "cols",
        "d_cols",
        "K_matrix",
        "dY",
        "dK_matrix",
    ]
    # the shown sample's own matrices, as the engine multiplied them: Y[n] = K·cols[n] + b
    cols, d_y = conv2.tensor("cols"), conv2.tensor("dY")
    assert cols.sample == d_y.sample == 0 and cols.values.shape == (3 * 3 * 3, 3 * 3)
    np.testing.assert_array_equal(cols.values, rec.saved["cols"][0])
    np.testing.assert_array_equal(conv2.tensor("d_cols").values, rec.saved_backward["d_cols"][0])
    np.testing.assert_array_equal(d_y.values, rec.dout[0].reshape(4, 9))  # (C_out, Ho·Wo)
    kernels = conv2.tensor("K_matrix").values
    np.testing.assert_allclose(
        kernels @ cols.values + rec.params["b"][:, None], rec.out[0].reshape(4, 9), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(conv2.tensor("d_cols").values, kernels.T @ d_y.values, rtol=1e-5, atol=1e-7)
    # dK = Σₙ dY[n]·cols[n]ᵀ over the whole batch, as the panel says
    every = sum(rec.dout[n].reshape(4, 9) @ rec.saved["cols"][n].T for n in range(4))
    np.testing.assert_allclose(conv2.tensor("dK_matrix").values, every, rtol=1e-5, atol=1e-7)


def test_maps_travel_with_one_scale_per_tile():
    net = Network("conv8k3-relu-flatten", input_shape=(28, 28), n_outputs=2, seed=0)
    rng = np.random.default_rng(4)
    trace = net.gradients(rng.random((2, 784), dtype=np.float32), rng.integers(0, 2, size=2))
    view = step_view(trace, net)
    header, data = read_payload(payload_of(view))
    z = next(t for t in header["tensors"] if t["key"] == "z" and t["block"] == 0)
    assert z["layout"] == "maps" and z["enc"] == "q8" and z["stored"] == [1, 8, 26, 26]
    values = view.blocks[0].tensor("z").values
    decoded = decode_tensor(z, data)
    for c in range(8):  # each tile on its own scale: rounding within 1/127 of that tile's max
        limit = np.abs(values[0, c]).max()
        np.testing.assert_allclose(decoded[0, c], values[0, c], atol=limit / 127 + 1e-7)
    block = header["blocks"][0]
    assert block["kind"] == "conv" and [s["title"] for s in block["sections"]][1].startswith("The backward")
    ids = [i for s in block["sections"] for row in s["rows"] for i in row if i is not None]
    assert set(ids) == set(block["tensors"])  # every tensor has its place in the panel


def test_attention_phases_stop_at_each_stage_forward_and_back():
    net, trace = attention_step()
    view = step_view(trace, net)
    labels = [p.label for p in view.phases]
    assert labels[2:7] == [
        f"Forward 2 · {s}" for s in ("Q, K, V", "scores", "softmax", "weighted sum", "output")
    ]
    assert labels[10:15] == [
        f"Backward 2 · {s}" for s in ("output", "weighted sum", "softmax", "scores", "Q, K, V")
    ]
    attn = view.blocks[1]
    assert view.known_at(attn.tensor("scores")) == labels.index("Forward 2 · scores")
    assert view.known_at(attn.tensor("weights")) == labels.index("Forward 2 · softmax")
    assert view.known_at(attn.tensor("d_scores")) == labels.index("Backward 2 · softmax")
    assert view.known_at(attn.tensor("dq")) == labels.index("Backward 2 · scores")
    assert view.known_at(attn.tensor("dWq")) == labels.index("Backward 2 · Q, K, V")
    equations = phase_equations(view, view.phases[labels.index("Backward 2 · softmax")])
    assert "dscores[t, j] = a[t, j]·(dA[t, j] − Σₖ a[t, k]·dA[t, k])" in equations[0]


def test_attention_shows_each_heads_weights_with_the_future_masked():
    net, trace = attention_step()
    view = step_view(trace, net, vocab=list("abcde"), sample=1)
    weights = view.blocks[1].tensor("weights")
    assert weights.layout == "maps" and weights.values.shape == (1, 2, 4, 4) and weights.sample == 1
    future = np.triu(np.ones((4, 4), dtype=bool), k=1)
    assert np.isnan(weights.values[0, :, future]).all()
    np.testing.assert_allclose(np.nansum(weights.values[0], axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(
        weights.values[0][:, ~future], trace.record("attn1").saved["weights"][1][:, ~future]
    )
    ids = np.asarray(trace.x)[1]
    assert view.axes["pos"].labels == [f"{t}:{'abcde'[v]}" for t, v in enumerate(ids)]
    q = view.blocks[1].tensor("q")
    assert q.rows == "pos" and q.values.shape == (4, 8)
    header, _ = read_payload(payload_of(view))  # masked cells travel as NaN, the stats ignore them
    entry = next(t for t in header["tensors"] if t["key"] == "weights")
    assert entry["stats"]["max"] <= 1.0 and entry["enc"] == "f32"


def test_an_embedding_block_shows_the_table_and_the_rows_looked_up():
    net, trace = attention_step()
    view = step_view(trace, net, vocab=list("abcde"))
    embed = view.blocks[0]
    assert embed.kind == "embed" and view.axes["vocab"].labels == list("abcde")
    np.testing.assert_array_equal(embed.tensor("table").values, trace.record("embed1").params["table"])
    np.testing.assert_array_equal(embed.tensor("e").values, trace.record("embed1").out[0])
    assert embed.tensor("dtable") is not None and embed.tensor("pos1.table").rows == "pos"
    assert view.inputs[0].key == "x" and view.inputs[0].values.shape == (6, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 2, 5, 784 * 256 + 3])
def test_tensor_stats_are_numpys_percentiles_of_the_finite_values(dtype, size):
    rng = np.random.default_rng(size)
    values = rng.normal(size=size).astype(dtype)
    values[: size // 3] = np.round(values[: size // 3])  # ties
    if size > 2:
        values[1] = np.nan  # left out, as an infinite value would be
        values[2] = np.inf
    finite = values[np.isfinite(values)]
    stats = tensor_stats(values)

    expected = np.percentile(finite.astype(np.float64), [0, 25, 50, 75, 100])
    found = [stats[key] for key in ("min", "p25", "median", "p75", "max")]
    np.testing.assert_allclose(found, expected, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert stats["absmax"] == max(abs(found[0]), abs(found[-1]))
    assert tensor_stats(np.array([np.nan], dtype=dtype)) == dict.fromkeys(
        ("min", "p25", "median", "p75", "max", "absmax")
    )
