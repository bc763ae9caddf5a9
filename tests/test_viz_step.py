"""Matrix figures and task views: small matrices carry exact values, large ones travel as images."""

import numpy as np
import plotly.graph_objects as go
import pytest

from backprop import Network
from viz.heatmap import abs_limit, block_reduce, matrix_trace, summary_stats, to_rgb
from viz.step import decision_boundary, fitted_curve, image_figure


def test_small_matrix_is_a_heatmap_with_exact_values_centred_on_zero():
    m = np.array([[1.5, -0.25], [0.0, 3.0]])
    trace = go.Figure(dict(data=[matrix_trace(m, abs_limit(m), "W")])).data[0]
    assert isinstance(trace, go.Heatmap)
    np.testing.assert_array_equal(np.asarray(trace.z), m)
    assert (trace.zmin, trace.zmid, trace.zmax) == (-3.0, 0, 3.0)


def test_large_matrix_is_a_compact_image():
    m = np.random.default_rng(0).normal(size=(784, 256))
    fig = go.Figure(dict(data=[matrix_trace(m, abs_limit(m), "W¹")]))
    assert isinstance(fig.data[0], go.Image)
    assert fig.data[0].source.startswith("data:image/png;base64,")
    assert len(fig.to_json()) < 80_000


def test_colour_map_is_white_at_zero_and_saturates_at_the_limit():
    rgb = to_rgb(np.array([[-2.0, 0.0, 2.0, np.nan]]), limit=1.0)
    assert tuple(rgb[0, 1]) == (247, 247, 247) or rgb[0, 1].min() > 240
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[0, 2, 0] > rgb[0, 2, 2]
    assert tuple(rgb[0, 3]) == (120, 120, 120)


def test_block_reduce_averages_and_keeps_small_matrices():
    m = np.arange(16, dtype=float).reshape(4, 4)
    assert block_reduce(m, max_pixels=100)[1] == 1
    reduced, r = block_reduce(m, max_pixels=4)
    assert r == 2 and reduced[0, 0] == pytest.approx((0 + 1 + 4 + 5) / 4)


def test_stats_and_limits():
    stats = summary_stats([1, 2, 3, 4, 5, np.nan])
    assert stats == {"min": 1, "p25": 2, "median": 3, "p75": 4, "max": 5}
    assert abs_limit(np.zeros(3)) == 1.0


def test_task_views_draw_from_the_network():
    net = Network([2, 4, 2], seed=0)
    x = np.random.default_rng(2).normal(size=(20, 2))
    fig = decision_boundary(net, x, np.arange(20) % 2, ["a", "b"], resolution=10, highlight=[0, 1])
    assert fig.data[0].z.shape == (10, 10)
    reg = Network([1, 4, 1], loss="mse", seed=0)
    fig = fitted_curve(reg, x[:, :1], x[:, 1:], points=30)
    assert len(fig.data[1].x) == 30
    fig = image_figure(np.arange(64.0), (8, 8), "digit")
    assert fig.data[0].z.shape == (8, 8, 3)


def test_decision_boundary_legend_stays_clear_of_the_colour_bar():
    net = Network([2, 4, 2], seed=0)
    x = np.random.default_rng(2).normal(size=(20, 2))
    fig = decision_boundary(net, x, np.arange(20) % 2, ["a", "b"], resolution=10)
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0
