"""The trace: one record per layer holding the arrays the step computed, and blocks that name them
the textbook way. Reading never computes; an update keeps the arrays the step used."""

import numpy as np
import pytest

from backprop import SGD, Network


def cnn_and_batch(n=3, seed=0):
    net = Network(
        "conv2k3p1-relu-maxpool2-flatten-dense4-bn-tanh-dropout0.5",
        input_shape=(4, 4),
        n_outputs=3,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    return net, rng.normal(size=(n, 16)), rng.integers(0, 3, size=n)


def test_a_trace_has_one_record_per_layer_with_its_input_and_output():
    net, x, y = cnn_and_batch()
    trace = net.gradients(x, y)
    assert [rec.name for rec in trace.layers] == [layer.name for layer in net.layers]
    assert [rec.spec for rec in trace.layers] == net.spec.split("-")
    for before, after in zip(trace.layers, trace.layers[1:]):
        assert after.x is before.out  # each layer reads what the one before gave
        assert before.dout is after.dx  # and gets back the gradient the one after passed down
    assert trace.layers[-1].out is trace.output
    assert trace.layers[-1].dout is trace.d_output
    assert trace.layers[0].x.shape == (3, 1, 4, 4)  # the first layer reads images


def test_a_trace_keeps_the_batch_as_the_first_layer_reads_it():
    net, x, y = cnn_and_batch()
    for trace in (net.forward(x), net.gradients(x, y)):
        assert trace.x.shape == (3, 1, 4, 4)
        assert trace.x is trace.layers[0].x
        np.testing.assert_array_equal(net.as_rows(trace.x), x.astype(np.float32))


def test_each_record_keeps_the_intermediates_its_layer_saved():
    net, x, y = cnn_and_batch()
    trace = net.gradients(x, y)
    assert set(trace.record("conv1").saved) == {"cols"}
    assert trace.record("conv1").saved["cols"].shape == (3, 1 * 3 * 3, 4 * 4)  # (N, C·k·k, Ho·Wo)
    assert set(trace.record("maxpool1").saved) == {"switches"}
    assert set(trace.record("bn1").saved) == {"normalized", "mean", "var"}
    assert set(trace.record("dropout1").saved) == {"mask"}
    assert trace.record("relu1").saved == {} and trace.record("flatten1").saved == {}


def test_record_by_name_and_its_message_for_an_unknown_name():
    net, x, y = cnn_and_batch()
    trace = net.forward(x)
    assert trace.record("dense2").kind == "dense"
    with pytest.raises(KeyError, match="this trace has no layer 'dense9'; it has conv1, relu1, maxpool1"):
        trace.record("dense9")


def test_parameter_records_are_the_layers_with_weights_in_forward_order():
    net, x, y = cnn_and_batch()
    trace = net.gradients(x, y)
    assert [rec.name for rec in trace.parameter_records()] == ["conv1", "dense1", "bn1", "dense2"]
    for rec in trace.parameter_records():
        assert set(rec.grads) == set(rec.params)
        for name in rec.params:
            assert rec.grads[name].shape == rec.params[name].shape


def test_a_conv_block_names_its_stages_like_a_dense_block():
    net, x, y = cnn_and_batch()
    trace = net.gradients(x, y, input_gradient=True)
    conv, hidden, out = trace.blocks
    assert [rec.name for rec in conv.records] == ["conv1", "relu1", "maxpool1", "flatten1"]
    assert conv.kind == "conv" and conv.activation == "relu"
    assert conv.W is trace.record("conv1").params["W"] and conv.W.shape == (2, 1, 3, 3)
    assert conv.z is trace.record("relu1").x and conv.a is trace.record("flatten1").out
    assert conv.dW is trace.record("conv1").grads["W"]
    assert conv.d_in is trace.dx and trace.dx.shape == (3, 1, 4, 4)
    assert hidden.stages == ("affine", "batch_norm", "activation", "dropout")
    assert hidden.gamma is trace.record("bn1").params["gamma"]
    assert out.activation == "linear" and out.z is trace.output and out.dz is trace.d_output
    assert conv.record("maxpool") is trace.record("maxpool1") and conv.record("bn") is None


def test_arrays_lists_every_tensor_under_flat_names():
    net, x, y = cnn_and_batch()
    trace = SGD(learning_rate=0.1).step(net, net.gradients(x, y))
    arrays = trace.arrays()
    for name in (
        "x",
        "y",
        "output",
        "probs",
        "d_output",
        "loss",
        "conv1.W",
        "conv1.cols",
        "conv1.dW",
        "conv1.delta_W",
        "maxpool1.switches",
        "bn1.normalized",
        "bn1.dgamma",
        "dropout1.mask",
        "dense2.dout",
        "relu1.out",
    ):
        assert name in arrays, name
    assert arrays["conv1.delta_W"] is trace.record("conv1").deltas["W"]
    assert "conv1.dx" not in arrays  # the first layer's input is data: no gradient was formed
    assert float(arrays["loss"]) == trace.loss


def test_a_forward_trace_has_no_gradients_and_eval_mode_uses_no_dropout():
    net, x, y = cnn_and_batch()
    trace = net.forward(x)
    assert not trace.has_gradients and trace.loss is None and trace.dx is None
    assert trace.record("dropout1").saved == {}
    np.testing.assert_allclose(trace.probs.sum(axis=1), 1.0, rtol=1e-6)
    assert not trace.train


def test_forward_replays_given_dropout_masks():
    net, x, y = cnn_and_batch()
    mask = np.tile(np.array([2.0, 0.0, 2.0, 0.0], dtype=np.float32), (3, 1))
    trace = net.forward(x, train=True, dropout_masks={"dropout1": mask})
    assert trace.record("dropout1").saved["mask"] is mask
    np.testing.assert_array_equal(trace.record("dropout1").out, trace.record("tanh1").out * mask)
    # and the next pass draws its own again
    assert net.forward(x, train=True).record("dropout1").saved["mask"] is not mask


def test_an_update_keeps_every_array_the_step_used():
    net, x, y = cnn_and_batch()
    trace = net.gradients(x, y)
    used = {rec.name: {k: v.copy() for k, v in rec.params.items()} for rec in trace.parameter_records()}
    SGD(learning_rate=0.5).step(net, trace)
    assert trace.updated
    for rec in trace.parameter_records():
        for name, value in used[rec.name].items():
            np.testing.assert_array_equal(rec.params[name], value)
            assert not np.array_equal(next(l for l in net.layers if l.name == rec.name).params[name], value)


def test_weight_references_restore_the_weights_without_copying():
    net, x, y = cnn_and_batch()
    before = net.get_weights()
    refs = net.weight_references()
    SGD(learning_rate=0.5).step(net, net.gradients(x, y))
    assert not np.array_equal(net.get_weights()["conv1.W"], before["conv1.W"])
    net.restore_references(refs)
    for name, value in before.items():
        np.testing.assert_array_equal(net.get_weights()[name], value, err_msg=name)


def test_commit_batch_statistics_moves_the_running_statistics_once_per_train_trace():
    net, x, y = cnn_and_batch()
    bn = next(layer for layer in net.layers if layer.name == "bn1")
    trace = net.gradients(x, y)
    saved = trace.record("bn1").saved
    net.commit_batch_statistics(trace)
    np.testing.assert_allclose(bn.state["running_mean"], 0.1 * saved["mean"], rtol=1e-6)
    np.testing.assert_allclose(bn.state["running_var"], 0.9 + 0.1 * saved["var"], rtol=1e-6)
    state = dict(bn.state)
    net.commit_batch_statistics(net.gradients(x, y, train=False))  # eval-mode traces change nothing
    assert bn.state["running_mean"] is state["running_mean"]
