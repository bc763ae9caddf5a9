"""The Sequences page's figures: right shapes, colours per token, errors and mismatches marked."""

import numpy as np

from viz import sequences as viz


def test_each_token_keeps_its_colour_on_every_strip():
    colors = viz.token_colors("abcd")
    html = viz.master_strips_html(["ab", "ba"], "abcd")

    assert len(set(colors.values())) == 4
    assert html.count(colors["a"]) == 3  # two strips and the legend


def test_selected_window_and_target_are_outlined_on_their_master_only():
    html = viz.master_strips_html(["abcd", "dcba"], "abcd", selected=(1, 1, 2, True))
    first, second = html.split("</div>")[:2]

    assert viz.HIGHLIGHT not in first
    assert second.count(f"3px solid {viz.HIGHLIGHT}") == 2
    assert second.count(f"3px dashed {viz.TARGET}") == 1


def test_generation_marks_only_the_tokens_that_leave_the_master():
    html = viz.generation_html("abcdab", 0, 0, "ab", ["c", "a", "a"], ["c", "d", "a"], "abcd")
    generated_row = html.split("</div>")[1]

    assert generated_row.count(f"3px solid {viz.HIGHLIGHT}") == 2 + 1  # the start window + one mismatch


def test_one_hot_input_is_positions_by_vocabulary():
    row = np.zeros(3 * 4, dtype=np.float32)
    row[[0, 5, 10]] = 1
    fig = viz.encoded_input_figure(row, "abcd", 3, "one_hot")

    np.testing.assert_array_equal(np.asarray(fig.data[0].z), row.reshape(3, 4))


def test_embedding_input_shows_token_ids():
    fig = viz.encoded_input_figure(np.array([2, 0, 1]), "abcd", 3, "embedding")

    assert list(fig.data[0].text[0]) == ["c = id 2", "a = id 0", "b = id 1"]


def test_probability_heatmap_crosses_out_only_wrong_rows():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    fig = viz.probability_heatmap_figure(probabilities, ["r0", "r1", "r2"], ["a", "b"], np.array([0, 0, 0]))
    crosses = fig.data[2]

    assert list(crosses.y) == [1]
    assert list(crosses.x) == [1]


def test_accuracy_figure_draws_the_ceiling():
    fig = viz.accuracy_figure([1, 2], [0.5, 0.9], [np.nan, np.nan], 0.91, 0.9)

    assert len(fig.data) == 1  # no validation values: no validation line
    assert [shape.y0 for shape in fig.layout.shapes] == [0.91, 0.9]


def test_pca_figure_labels_each_token():
    fig = viz.embedding_pca_figure(np.array([[0, 1], [1, 0], [2, 2]]), np.array([0.7, 0.3]), "abc")

    assert list(fig.data[0].text) == ["a", "b", "c"]
    assert "70%" in fig.layout.xaxis.title.text
