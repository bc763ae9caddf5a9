"""The transformer layers against centred finite differences (float64), and the numbers attention keeps."""

import math

import numpy as np
import pytest

from backprop import Network, check_network, gradcheck
from backprop.attention import LayerNorm, SelfAttention

TOLERANCE = 1e-6
ONE_BLOCK = "embed8-pos-res-ln-attn2-add-res-ln-dense16-relu-dense8-add-ln-last"


def tokens(n=6, context=5, vocab=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, (n, context)), rng.integers(0, vocab, n)


def transformer(layers=ONE_BLOCK, context=5, vocab=4, seed=0):
    return Network(
        layers, input_shape=(context,), n_outputs=vocab, vocab_size=vocab, seed=seed, dtype="float64"
    )


def test_every_parameter_of_a_one_block_transformer_matches_finite_differences():
    net = transformer()
    x, y = tokens()
    results = check_network(net, x, y)
    assert {r.layer for r in results} >= {
        "embed1",
        "pos1",
        "ln1",
        "attn1",
        "dense1",
        "dense2",
        "dense3",
        "ln3",
    }
    for result in results:
        if (result.layer, result.param) == ("attn1", "bk"):
            # the key bias adds q·bk to every score of a row; softmax ignores a shift of the whole row
            assert np.max(np.abs(result.backprop)) < 1e-12 and np.max(np.abs(result.numeric)) < 1e-8
        else:
            assert result.relative_error < TOLERANCE, result


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_attention_with_one_or_more_heads_matches_finite_differences(heads):
    net = transformer(f"embed8-attn{heads}-last")
    x, y = tokens(seed=heads)
    for name in ("Wq", "Wk", "Wv", "Wo", "bq", "bv", "bo"):
        assert gradcheck(net, x, y, layer="attn1", param=name).relative_error < TOLERANCE


def test_attention_never_looks_at_a_later_position():
    net = transformer("embed8-attn2-last")
    x, y = tokens()
    weights = net.gradients(x, y).record("attn1").saved["weights"]
    assert weights.shape == (6, 2, 5, 5)
    future = np.triu(np.ones((5, 5), dtype=bool), k=1)
    assert np.all(weights[..., future] == 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    # changing the last token cannot change what the first positions computed
    changed = x.copy()
    changed[:, -1] = (changed[:, -1] + 1) % 4
    early = net.forward(x).record("attn1").out[:, :-1]
    np.testing.assert_allclose(net.forward(changed).record("attn1").out[:, :-1], early, rtol=1e-12)


def test_the_trace_keeps_q_k_v_scores_weights_and_their_gradients():
    net = transformer()
    x, y = tokens()
    rec = net.gradients(x, y).record("attn1")
    assert set(rec.saved) == {"q", "k", "v", "scores", "weights", "z"}
    # Z, the weighted sum of the values with the heads joined, is what Wo projects
    np.testing.assert_allclose(rec.out, rec.saved["z"] @ rec.params["Wo"] + rec.params["bo"], rtol=1e-10)
    assert set(rec.saved_backward) == {"dq", "dk", "dv", "d_scores", "d_weights"}
    # the softmax Jacobian, written out for one row: dscore_ij = a_ij·(dA_ij − Σ_k a_ik·dA_ik)
    a, da = rec.saved["weights"][2, 1, 3], rec.saved_backward["d_weights"][2, 1, 3]
    np.testing.assert_allclose(rec.saved_backward["d_scores"][2, 1, 3], a * (da - np.dot(a, da)), rtol=1e-12)
    # and dQ is the sum over the keys it attended to: dq_i = Σ_j dscore_ij·k_j/√d (head 1's columns 4..7)
    k = rec.saved["k"][2, :, 4:]
    dq = rec.saved_backward["d_scores"][2, 1] @ k / math.sqrt(4)
    np.testing.assert_allclose(rec.saved_backward["dq"][2, :, 4:], dq, rtol=1e-12)


def test_layer_norm_normalises_each_vector_on_its_own():
    layer = LayerNorm(4, dtype=np.float64)
    x = np.array([[[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 10.0, 14.0]]])
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=-1), 1, rtol=1e-4)  # ε = 1e-5 keeps it just below 1
    # (1 − 2.5)/√(1.25 + ε)
    assert out[0, 0, 0] == pytest.approx(-1.5 / math.sqrt(1.25 + 1e-5), rel=1e-12)


def test_a_residual_branch_adds_its_input_back_and_passes_the_gradient_both_ways():
    net = transformer("embed4-res-dense4-add-last")
    x, y = tokens()
    trace = net.gradients(x, y)
    start, add = trace.record("res1"), trace.record("add1")
    np.testing.assert_allclose(add.out, trace.record("dense1").out + start.x, rtol=1e-12)
    # the start's gradient is the branch's plus the one that went straight across
    np.testing.assert_allclose(start.dx, trace.record("dense1").dx + add.dout, rtol=1e-12)
    assert gradcheck(net, x, y, layer="dense1", param="W").relative_error < TOLERANCE
    assert gradcheck(net, x, y, layer="embed1", param="table").relative_error < TOLERANCE


def test_a_dense_layer_on_a_sequence_uses_the_same_weights_at_every_position():
    net = transformer("embed4-dense3-relu-flatten")
    x, y = tokens()
    trace = net.gradients(x, y)
    rec = trace.record("dense1")
    np.testing.assert_allclose(rec.out[:, 2], rec.x[:, 2] @ rec.params["W"] + rec.params["b"], rtol=1e-12)
    assert gradcheck(net, x, y, layer="dense1", param="W").relative_error < TOLERANCE


@pytest.mark.parametrize(
    "layers, message",
    [
        ("embed8-res-ln", r"layer 2 'res' is never added back: end its branch with add"),
        ("embed8-add", r"layer 2 'add' has no res before it to add back"),
        (
            "embed8-res-dense4-add",
            r"layer 4 'add' gets a sequence of 5 vectors of 4, but layer 2 'res' kept a "
            r"sequence of 5 vectors of 8",
        ),
        (
            "embed8-attn3",
            r"layer 2 'attn3' splits each vector into 3 heads, but 8 numbers do not split evenly",
        ),
        (
            "embed8-pos-last-pos",
            r"layer 4 'pos' adds a vector per position of a sequence but gets 8 features",
        ),
        ("embed8-attn0", r"heads must be an integer in \[1, 16\], got 0"),
    ],
)
def test_transformer_architectures_that_do_not_fit_name_the_layer(layers, message):
    with pytest.raises(ValueError, match=message):
        transformer(layers)


def test_attention_needs_a_sequence():
    with pytest.raises(ValueError, match=r"layer 2 'attn2' needs a sequence of vectors"):
        Network("dense8-attn2", input_shape=(4,), n_outputs=2)


def test_a_standalone_attention_layer_rejects_heads_that_do_not_divide():
    with pytest.raises(ValueError, match="do not split into 3 heads"):
        SelfAttention(8, 3, rng=np.random.default_rng(0))
