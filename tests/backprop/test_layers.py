"""Each layer on its own against centred finite differences (float64), pooling at ties,
im2col/col2im, a convolution against nested loops, and whole CNNs through gradcheck.

A layer is checked through the scalar L = Σ G ⊙ layer.forward(x) with a fixed random
G: backward(G) must return dL/dx and fill grads with dL/dparam, entry by entry.
"""

import numpy as np
import pytest

from backprop import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    MaxPool2D,
    Network,
    check_network,
    input_gradcheck,
    make_activation,
)
from backprop.activations import ACTIVATIONS
from backprop.layers import col2im, im2col

TOLERANCE = 1e-6
EPS = 1e-6


def relative_error(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def numeric_gradient(loss, values, eps=EPS):
    """Centred differences of loss() with respect to every entry of ``values`` (changed in place, restored)."""
    grad = np.zeros(values.shape)
    for idx in np.ndindex(values.shape):
        original = values[idx]
        values[idx] = original + eps
        plus = loss()
        values[idx] = original - eps
        minus = loss()
        values[idx] = original
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def check_layer(layer, x, train=True, seed=0, input_grad=True):
    """{name: (backprop, numeric)} for the input ("x") and every parameter of ``layer``."""
    out = layer.forward(x, train)
    weights = np.random.default_rng(seed).normal(size=out.shape)
    dx = layer.backward(weights, input_grad=input_grad)
    found = {name: (layer.grads[name].copy(), None) for name in layer.params}
    assert set(layer.grads) == set(layer.params)

    def loss():
        return float(np.sum(weights * layer.forward(x, train)))

    for name, values in layer.params.items():
        found[name] = (found[name][0], numeric_gradient(loss, values))
    if input_grad:
        assert dx.shape == x.shape
        found["x"] = (dx, numeric_gradient(loss, x))
    return found


def assert_layer_gradients(layer, x, **options):
    found = check_layer(layer, x, **options)
    for name, (backprop, numeric) in found.items():
        assert relative_error(backprop, numeric) < TOLERANCE, (layer, name, relative_error(backprop, numeric))
    return found


def images(n, c, h, w, seed=1):
    return np.random.default_rng(seed).normal(size=(n, c, h, w))


# ------------------------------------------------------------------ dense and convolution


def test_dense_gradient_matches_finite_differences():
    layer = Dense(4, 3, rng=np.random.default_rng(0), dtype=np.float64)
    layer.b = np.array([0.1, -0.2, 0.3])
    found = assert_layer_gradients(layer, np.random.default_rng(1).normal(size=(5, 4)))
    assert set(found) == {"W", "b", "x"}


@pytest.mark.parametrize(
    "c_in, c_out, kernel, stride, padding, height, width",
    [
        (1, 1, 3, 1, 0, 5, 5),
        (2, 3, 3, 1, 1, 5, 6),
        (3, 2, 2, 2, 0, 6, 7),
        (2, 4, 3, 2, 1, 7, 5),
        (3, 2, 3, 2, 0, 6, 6),  # (6 − 3) // 2 + 1 = 2 rows: the last input row is never read
        (2, 2, 1, 1, 0, 3, 4),
        (1, 2, 4, 3, 1, 8, 7),
    ],
)
def test_conv_gradient_matches_finite_differences(c_in, c_out, kernel, stride, padding, height, width):
    layer = Conv2D(
        c_in, c_out, kernel, stride=stride, padding=padding, rng=np.random.default_rng(0), dtype=np.float64
    )
    layer.b = np.linspace(-0.5, 0.5, c_out)
    x = images(2, c_in, height, width)
    found = assert_layer_gradients(layer, x)
    assert set(found) == {"W", "b", "x"}
    # Ho = (H + 2p − k) // s + 1
    rows, columns = (
        (height + 2 * padding - kernel) // stride + 1,
        (width + 2 * padding - kernel) // stride + 1,
    )
    assert layer.forward(x).shape == (2, c_out, rows, columns)


def test_conv_input_rows_no_window_reads_get_no_gradient():
    layer = Conv2D(1, 2, 3, stride=2, rng=np.random.default_rng(0), dtype=np.float64)
    x = images(2, 1, 6, 6)
    out = layer.forward(x)
    assert out.shape == (2, 2, 2, 2)  # windows start at rows 0 and 2: rows 0..4 are read
    dx = layer.backward(np.ones_like(out))
    np.testing.assert_array_equal(dx[:, :, 5, :], 0.0)
    np.testing.assert_array_equal(dx[:, :, :, 5], 0.0)
    assert np.all(dx[:, :, 4, :5] != 0.0)


def test_conv_spec_and_output_shape_follow_stride_and_padding():
    layer = Conv2D(3, 8, 3, stride=2, padding=1, rng=np.random.default_rng(0))
    assert layer.spec() == "conv8k3s2p1"
    # (7 + 2·1 − 3) // 2 + 1 = 4 and (10 + 2 − 3) // 2 + 1 = 5
    assert layer.forward(np.zeros((1, 3, 7, 10), dtype=np.float32)).shape == (1, 8, 4, 5)
    net = Network("conv8k3s2p1-flatten", input_shape=(7, 10, 3), n_outputs=2)
    assert net.shapes[:3] == [(3, 7, 10), (8, 4, 5), (160,)]
    assert Conv2D(1, 4, 5, rng=np.random.default_rng(0)).spec() == "conv4k5"


# ------------------------------------------------------------------ im2col, col2im, direct convolution


def test_im2col_lists_each_patch_as_a_column_in_output_order():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    # [[0 1 2], [3 4 5], [6 7 8]]: 2×2 patches at (0,0), (0,1), (1,0), (1,1), one column each
    patches = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    np.testing.assert_array_equal(im2col(x, 2, 1), np.array(patches).T[None])
    # stride 2 on a 3×3 input leaves only the patch at (0, 0)
    np.testing.assert_array_equal(im2col(x, 2, 2), [[[0], [1], [3], [4]]])


def test_im2col_columns_hold_the_patch_channel_by_channel():
    x = np.stack([np.arange(4.0).reshape(2, 2), 10 + np.arange(4.0).reshape(2, 2)])[None]
    np.testing.assert_array_equal(im2col(x, 2, 1)[0, :, 0], [0, 1, 2, 3, 10, 11, 12, 13])


def test_col2im_adds_each_patch_back_where_it_came_from():
    cols = np.ones((1, 4, 4))  # the four 2×2 patches of a 3×3 image, all ones
    # the centre is in all four patches, edges in two, corners in one
    np.testing.assert_array_equal(col2im(cols, (1, 1, 3, 3), 2, 1)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize(
    "shape, kernel, stride",
    [
        ((2, 3, 5, 5), 3, 1),
        ((1, 2, 6, 7), 2, 2),
        ((2, 1, 7, 6), 3, 2),
        ((1, 2, 8, 8), 3, 3),
        ((3, 2, 4, 5), 1, 1),
    ],
)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride):
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    cols = im2col(x, kernel, stride)
    c = rng.normal(size=cols.shape)
    # ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every x and c
    assert np.vdot(cols, c) == pytest.approx(np.vdot(x, col2im(c, shape, kernel, stride)), rel=1e-12)


@pytest.mark.parametrize(
    "shape, kernel, stride", [((4, 3, 13, 13), 3, 1), ((2, 2, 9, 8), 3, 2), ((2, 1, 6, 6), 2, 2)]
)
def test_col2im_equals_adding_each_patch_in_place_in_the_images_layout_bit_for_bit(shape, kernel, stride):
    # col2im adds with the samples moved to the last axis; the additions and their order are those
    # of adding each kernel offset's entries straight into dx (N, C, H, W)
    n, c, h, w = shape
    ho, wo = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    cols = np.random.default_rng(5).normal(size=(n, c * kernel * kernel, ho * wo)).astype(np.float32)
    patches = cols.reshape(n, c, kernel, kernel, ho, wo)
    plain = np.zeros(shape, dtype=np.float32)
    for i in range(kernel):
        for j in range(kernel):
            plain[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride] += patches[:, :, i, j]
    found = col2im(cols, shape, kernel, stride)
    assert found.dtype == np.float32 and found.flags.c_contiguous
    np.testing.assert_array_equal(found, plain)


def direct_convolution(x, kernels, bias, stride, padding):
    """out[n, o, i, j] = b[o] + Σ_c Σ_di Σ_dj x_padded[n, c, i·s + di, j·s + dj]·K[o, c, di, dj], loop by loop."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c_in, h, w = xp.shape
    c_out, _, k, _ = kernels.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((n, c_out, ho, wo))
    for s in range(n):
        for o in range(c_out):
            for i in range(ho):
                for j in range(wo):
                    total = bias[o]
                    for c in range(c_in):
                        for di in range(k):
                            for dj in range(k):
                                total += xp[s, c, i * stride + di, j * stride + dj] * kernels[o, c, di, dj]
                    out[s, o, i, j] = total
    return out


def conv_with(kernels, bias, stride=1, padding=0):
    c_out, c_in, k, _ = kernels.shape
    layer = Conv2D(
        c_in, c_out, k, stride=stride, padding=padding, rng=np.random.default_rng(0), dtype=np.float64
    )
    layer.W, layer.b = np.asarray(kernels, dtype=np.float64), np.asarray(bias, dtype=np.float64)
    return layer


def test_conv_forward_by_hand():
    x = np.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]])
    kernel = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    # no flip (cross-correlation): top-left window 1·1 + 2·2 + 4·3 + 5·4 = 37, then 47, 67, 77; + 0.5
    np.testing.assert_array_equal(conv_with(kernel, [0.5]).forward(x), [[[[37.5, 47.5], [67.5, 77.5]]]])
    # padding 1, stride 2 on the 5×5 padded image: windows at (0,0), (0,2), (2,0), (2,2)
    # [[0,0],[0,1]] → 4;  [[0,0],[2,3]] → 6 + 12 = 18;  [[0,4],[0,7]] → 8 + 28 = 36;  [[5,6],[8,9]] → 77
    np.testing.assert_array_equal(
        conv_with(kernel, [0.5], stride=2, padding=1).forward(x), [[[[4.5, 18.5], [36.5, 77.5]]]]
    )


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)])
def test_conv_forward_equals_a_direct_nested_loop_convolution(stride, padding):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 6, 5))
    kernels, bias = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    np.testing.assert_allclose(
        conv_with(kernels, bias, stride, padding).forward(x),
        direct_convolution(x, kernels, bias, stride, padding),
        rtol=1e-12,
        atol=1e-12,
    )


def test_conv_keeps_its_im2col_matrix_for_the_trace():
    layer = Conv2D(2, 3, 3, rng=np.random.default_rng(0), dtype=np.float64)
    x = images(2, 2, 5, 5)
    layer.forward(x)
    np.testing.assert_array_equal(layer.saved()["cols"], im2col(x, 3, 1))
    assert layer.saved()["cols"].shape == (2, 2 * 3 * 3, 3 * 3)  # (N, C·k·k, Ho·Wo)


# ------------------------------------------------------------------ pooling, flatten


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("size, height, width", [(2, 4, 6), (2, 5, 7), (3, 7, 6), (3, 3, 3)])
def test_pooling_gradient_matches_finite_differences(pool, size, height, width):
    layer = pool(size)
    x = images(2, 3, height, width)
    assert layer.forward(x).shape == (2, 3, height // size, width // size)
    found = assert_layer_gradients(layer, x)
    backprop, numeric = found["x"]
    # rows and columns past the last whole window are dropped: no gradient, and no effect
    np.testing.assert_array_equal(backprop[:, :, (height // size) * size :, :], 0.0)
    np.testing.assert_array_equal(backprop[:, :, :, (width // size) * size :], 0.0)
    np.testing.assert_array_equal(numeric[:, :, (height // size) * size :, :], 0.0)


def test_max_pool_routes_each_window_gradient_to_its_maximum_by_hand():
    x = np.array([[[[1.0, 5.0, 0.0, -1.0], [2.0, 3.0, -2.0, -3.0]]]])
    layer = MaxPool2D(2)
    # windows [[1, 5], [2, 3]] → 5 and [[0, −1], [−2, −3]] → 0
    np.testing.assert_array_equal(layer.forward(x), [[[[5.0, 0.0]]]])
    dx = layer.backward(np.array([[[[10.0, 20.0]]]]))
    np.testing.assert_array_equal(dx, [[[[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_avg_pool_gives_each_input_a_quarter_of_its_window_gradient_by_hand():
    x = np.array([[[[1.0, 5.0], [2.0, 4.0]]]])
    layer = AvgPool2D(2)
    np.testing.assert_array_equal(layer.forward(x), [[[[3.0]]]])  # (1 + 5 + 2 + 4) / 4
    np.testing.assert_array_equal(layer.backward(np.array([[[[8.0]]]])), [[[[2.0, 2.0], [2.0, 2.0]]]])


def tie_loss(layer, x, weight):
    return lambda: float(np.sum(weight * layer.forward(x)))


def test_max_pool_two_way_tie_shares_the_gradient_exactly_as_centred_differences_measure():
    x = np.array([[[[1.0, 1.0], [0.0, 0.5]]]])  # 1 and 1 tie for the maximum
    layer = MaxPool2D(2)
    layer.forward(x)
    dx = layer.backward(np.array([[[[3.0]]]]))
    np.testing.assert_array_equal(dx, [[[[1.5, 1.5], [0.0, 0.0]]]])
    # raising one tied entry by ε raises the max by ε, lowering it leaves the other: 3ε / 2ε = 1.5
    numeric = numeric_gradient(tie_loss(layer, x, 3.0), x, eps=2.0**-20)
    np.testing.assert_array_equal(dx, numeric)


@pytest.mark.parametrize(
    "window, dout",
    [
        ([[2.0, 2.0], [2.0, -1.0]], 3.0),  # three-way tie
        ([[2.0, 2.0], [2.0, 2.0]], -1.5),  # four-way tie, negative gradient
        ([[0.5, 0.5, 0.0], [0.5, 0.5, 0.5], [0.0, -1.0, 0.0]], 2.5),  # five-way tie in a 3×3 window
    ],
)
def test_max_pool_k_way_tie_shares_lie_between_the_one_sided_derivatives_and_sum_to_the_joint_one(
    window, dout
):
    x = np.array([[window]])
    size = x.shape[-1]
    layer = MaxPool2D(size)
    layer.forward(x)
    dx = layer.backward(np.full((1, 1, 1, 1), dout))[0, 0]
    tied = x[0, 0] == x.max()
    k = int(tied.sum())
    np.testing.assert_array_equal(dx[tied], dout / k)  # equal shares
    np.testing.assert_array_equal(dx[~tied], 0.0)
    loss = tie_loss(layer, x, dout)
    eps = 2.0**-20
    at_x = loss()
    for idx in zip(*np.nonzero(tied)):
        entry = (0, 0, *idx)
        original = x[entry]
        x[entry] = original + eps
        right = (loss() - at_x) / eps
        x[entry] = original - eps
        left = (at_x - loss()) / eps
        x[entry] = original
        assert min(left, right) <= dx[idx] <= max(left, right)
        assert {left, right} == {0.0, dout}
    # moving all tied entries together moves the max with them: the derivative is dout = Σ shares
    direction = np.where(tied, 1.0, 0.0)[None, None]
    joint = (tie_loss(layer, x + eps * direction, dout)() - tie_loss(layer, x - eps * direction, dout)()) / (
        2 * eps
    )
    assert joint == dout == dx[tied].sum()


def test_max_pool_keeps_its_switches_for_the_trace():
    layer = MaxPool2D(2)
    layer.forward(np.array([[[[1.0, 1.0], [0.0, 0.5]]]]))
    # one flag per place in the 2×2 window: the maximum 1.0 sits at (0, 0) and (0, 1), a tie
    switches = layer.saved()["switches"]
    assert switches.shape == (4, 1, 1, 1, 1) and switches.dtype == bool
    np.testing.assert_array_equal(switches.reshape(2, 2), [[True, True], [False, False]])


def test_flatten_gradient_matches_finite_differences_and_restores_the_shape():
    layer = Flatten()
    x = images(2, 3, 2, 4)
    assert layer.forward(x).shape == (2, 24)
    found = assert_layer_gradients(layer, x)
    assert found["x"][0].shape == (2, 3, 2, 4)


# ------------------------------------------------------------------ batch norm, dropout, embedding


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 3, 2)], ids=["dense", "2d"])
def test_batch_norm_gradient_matches_finite_differences(shape, train):
    features = shape[1]
    layer = BatchNorm(features, dtype=np.float64)
    layer.params = {"gamma": np.linspace(0.5, 2.0, features), "beta": np.linspace(-1.0, 1.0, features)}
    layer.state = {
        "running_mean": np.linspace(-0.3, 0.3, features),
        "running_var": np.linspace(0.5, 1.5, features),
    }
    x = np.random.default_rng(4).normal(loc=1.0, scale=2.0, size=shape)
    found = assert_layer_gradients(layer, x, train=train)
    assert set(found) == {"gamma", "beta", "x"}


def test_batch_norm_2d_normalises_each_channel_over_batch_height_and_width():
    x = images(3, 2, 4, 5) * 3.0 + 1.0
    layer = BatchNorm(2, dtype=np.float64)
    out = layer.forward(x, train=True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)
    np.testing.assert_allclose(layer.saved()["mean"], x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(layer.saved()["var"], x.var(axis=(0, 2, 3)), rtol=1e-12)


def test_batch_norm_running_statistics_move_only_when_updated():
    layer = BatchNorm(2, dtype=np.float64)
    layer.forward(np.array([[1.0, 4.0], [3.0, 8.0]]), train=True)
    np.testing.assert_array_equal(layer.state["running_mean"], [0.0, 0.0])  # a forward pass changes nothing
    layer.update_running_statistics(layer.saved()["mean"], layer.saved()["var"])
    # 0.9·0 + 0.1·[2, 6] and 0.9·1 + 0.1·[1, 4]
    np.testing.assert_allclose(layer.state["running_mean"], [0.2, 0.6], rtol=1e-15)
    np.testing.assert_allclose(layer.state["running_var"], [1.0, 1.3], rtol=1e-15)


def test_dropout_with_a_replayed_mask_gradient_matches_finite_differences():
    layer = Dropout(0.5, np.random.default_rng(0))
    x = np.random.default_rng(5).normal(size=(4, 6))
    mask = (np.random.default_rng(6).random(x.shape) < 0.5) * 2.0  # kept units scaled by 1/(1 − 0.5)
    layer.fixed_mask = mask
    np.testing.assert_array_equal(layer.forward(x, train=True), x * mask)
    assert layer.saved()["mask"] is mask
    assert_layer_gradients(layer, x, train=True)


def test_dropout_draws_inverted_masks_in_training_and_passes_through_in_evaluation():
    layer = Dropout(0.25, np.random.default_rng(0))
    x = np.ones((200, 50))
    out = layer.forward(x, train=True)
    kept = out != 0
    # kept units are scaled by 1/(1 − 0.25) = 4/3; about a quarter are dropped
    np.testing.assert_allclose(out[kept], 4.0 / 3.0, rtol=1e-15)
    assert 0.23 < 1 - kept.mean() < 0.27
    assert layer.forward(x, train=False) is x
    assert layer.saved() == {}
    assert layer.spec() == "dropout0.25"


def test_embedding_table_gradient_with_repeated_tokens_matches_finite_differences():
    layer = Embedding(5, 3, rng=np.random.default_rng(0), dtype=np.float64)
    ids = np.array([[2, 2, 0], [1, 2, 3], [3, 0, 2], [2, 1, 1]])
    assert layer.forward(ids).shape == (4, 3, 3)
    found = assert_layer_gradients(layer, ids, input_grad=False)
    assert set(found) == {"table"}
    backprop, _ = found["table"]
    np.testing.assert_array_equal(backprop[4], 0.0)  # token 4 is never used


def test_embedding_adds_every_position_of_a_repeated_token_into_its_row_by_hand():
    layer = Embedding(3, 2, rng=np.random.default_rng(0), dtype=np.float64)
    layer.forward(np.array([[1, 1], [0, 1]]))
    dout = np.array([[[1.0, 2.0], [10.0, 20.0]], [[100.0, 200.0], [1000.0, 2000.0]]])
    assert layer.backward(dout) is None  # token ids have no gradient
    # token 1 at three positions: 1 + 10 + 1000, 2 + 20 + 2000; token 0 once; token 2 never
    np.testing.assert_array_equal(layer.grads["table"], [[100.0, 200.0], [1011.0, 2022.0], [0.0, 0.0]])


@pytest.mark.parametrize("contiguous", [True, False])
def test_embedding_backward_on_the_flat_table_equals_adding_whole_rows_bit_for_bit(contiguous):
    # Embedding.backward scatters into the flattened table (NumPy's fast path); the plain version adds
    # each position's row of dout into its token's row. Same additions, same order: equal bit for bit.
    rng = np.random.default_rng(3)
    layer = Embedding(7, 16, rng=rng)
    ids = rng.integers(0, 7, size=(64, 8))  # every token repeated many times
    layer.forward(ids)
    dout = rng.standard_normal((64, 8, 16)).astype(np.float32)
    if not contiguous:  # as a gradient that arrives as a transposed view
        dout = np.ascontiguousarray(dout.transpose(1, 0, 2)).transpose(1, 0, 2)
    layer.backward(dout)
    plain = np.zeros((7, 16), dtype=np.float32)
    np.add.at(plain, ids.ravel(), dout.reshape(-1, 16))
    assert layer.grads["table"].dtype == np.float32
    np.testing.assert_array_equal(layer.grads["table"], plain)


# ------------------------------------------------------------------ activations


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_activation_layer_gradient_matches_finite_differences(activation):
    x = np.random.default_rng(7).normal(scale=2.0, size=(3, 5))
    assert np.min(np.abs(x)) > 1e-3  # away from the kinks of relu and leaky_relu
    assert_layer_gradients(make_activation(activation), x)
    # on 4-D feature maps too
    assert_layer_gradients(make_activation(activation), images(2, 2, 3, 3, seed=8))


# ------------------------------------------------------------------ whole networks


def cnn_batch(n, shape, classes=3, seed=9):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, int(np.prod(shape)))), rng.integers(0, classes, size=n)


@pytest.mark.parametrize(
    "layers, input_shape",
    [
        ("conv3k3-relu-maxpool2-flatten", (8, 8)),
        ("conv2k3s2p1-tanh-conv3k2-gelu-avgpool2-flatten", (9, 7)),
        ("conv3k3p1-bn-leaky_relu-maxpool2-flatten-dense5-bn-sigmoid", (6, 6)),
        ("conv2k3-relu-dropout0.3-flatten-dense4-tanh", (5, 6)),
    ],
)
def test_cnn_gradients_match_finite_differences_for_every_parameter(layers, input_shape):
    x, y = cnn_batch(4, input_shape)
    net = Network(layers, input_shape=input_shape, n_outputs=3, seed=1, dtype="float64")
    results = check_network(net, x, y)
    assert {r.layer for r in results} == {layer.name for layer in net.layers if layer.params}
    before_batch_norm = {a.name for a, b in zip(net.layers, net.layers[1:]) if b.kind == "bn"}
    for result in results:
        if result.param == "b" and result.layer in before_batch_norm:
            assert np.max(np.abs(result.backprop)) < 1e-9  # cancelled by batch norm's mean
        else:
            assert result.relative_error < TOLERANCE, result


def test_input_gradient_through_a_cnn_matches_finite_differences():
    x, y = cnn_batch(3, (8, 8))
    net = Network("conv3k3p1-relu-maxpool2-conv4k2s2-tanh-flatten", input_shape=(8, 8), n_outputs=3, seed=2)
    result = input_gradcheck(net, x, y, max_entries=60)
    assert len(result.indices) == 60
    assert all(len(idx) == 4 for idx in result.indices)  # (sample, channel, row, column)
    assert result.relative_error < TOLERANCE, result


def test_colour_input_network_gradients_match_finite_differences():
    x, y = cnn_batch(3, (6, 5, 3), classes=2)
    net = Network(
        "conv4k3p1-relu-avgpool2-flatten", input_shape=(6, 5, 3), n_outputs=2, seed=3, dtype="float64"
    )
    assert net.shapes[0] == (3, 6, 5)  # channels first inside the network
    assert net.layers[0].W.shape == (4, 3, 3, 3)
    assert_results = check_network(net, x, y)
    assert all(r.relative_error < TOLERANCE for r in assert_results), assert_results
    assert input_gradcheck(net, x, y).relative_error < TOLERANCE


def test_colour_rows_are_read_channels_last_and_written_back_the_same_way():
    net = Network("conv2k2-flatten", input_shape=(2, 3, 3), n_outputs=2)
    # pixel (row h, column w, channel c) of a flat row sits at (h·3 + w)·3 + c
    row = np.arange(18.0)[None]
    images_in = net.check_inputs(row)
    assert images_in.shape == (1, 3, 2, 3)
    assert images_in[0, 2, 1, 0] == (1 * 3 + 0) * 3 + 2
    assert images_in[0, 1, 0, 2] == (0 * 3 + 2) * 3 + 1
    np.testing.assert_array_equal(net.as_rows(images_in), row)


def test_grey_image_rows_are_read_row_by_row():
    net = Network("avgpool2-flatten", input_shape=(2, 4), n_outputs=2)
    images_in = net.check_inputs(np.arange(8.0)[None])
    np.testing.assert_array_equal(images_in, [[[[0, 1, 2, 3], [4, 5, 6, 7]]]])
    # average pooling by hand: (0 + 1 + 4 + 5)/4 = 2.5 and (2 + 3 + 6 + 7)/4 = 4.5
    trace = net.forward(np.arange(8.0)[None])
    np.testing.assert_array_equal(trace.record("avgpool1").out, [[[[2.5, 4.5]]]])


def test_a_convolutions_dcols_are_the_kernels_transposed_times_each_samples_dy():
    # Conv2D.backward forms every sample's dcols in one product with the samples on the last axis;
    # each sample's block is still Kᵀ·dY[n] (N, C_in·k·k, Ho·Wo), as the trace shows it
    rng = np.random.default_rng(3)
    layer = Conv2D(2, 3, 3, stride=1, padding=1, rng=rng, dtype=np.float64)
    x = rng.normal(size=(4, 2, 5, 5))
    out = layer.forward(x, train=True)
    dout = rng.normal(size=out.shape)
    layer.backward(dout)
    kernels = layer.params["W"].reshape(3, -1)
    for n in range(4):
        np.testing.assert_allclose(
            layer.d_cols[n], kernels.T @ dout[n].reshape(3, -1), rtol=1e-12, atol=1e-12
        )
    assert layer.saved_backward()["d_cols"].shape == (4, 2 * 9, 25)
