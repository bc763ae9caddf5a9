"""The Sequences page's figures: right shapes, colours per token, errors and mismatches marked."""

import numpy as np
import pytest

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
    master_row, generated_row = html.split("</div>")[:2]

    # red is for the one generated token that differs; the typed start has an outline of its own
    assert generated_row.count(f"3px solid {viz.HIGHLIGHT}") == 1
    assert viz.HIGHLIGHT not in master_row
    assert (
        generated_row.count(f"3px dashed {viz.START}") == 2
        and master_row.count(f"3px dashed {viz.START}") == 2
    )


def _rows(table: str) -> list[str]:
    return table.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]


def test_one_hot_input_is_positions_by_vocabulary():
    row = np.zeros(3 * 4, dtype=np.float32)
    row[[0, 5, 10]] = 1
    rows = _rows(viz.encoded_input_html(row, "abcd", 3, "one_hot"))

    assert len(rows) == 3
    for p, text in enumerate(rows):
        values = [
            int(cell.split(">")[-1])
            for cell in text.split("</span>")
            if "monospace" in cell and "2.2em" in cell
        ]
        assert values == row.reshape(3, 4)[p].astype(int).tolist()
        assert f"pos {p}" in text


def test_embedding_input_shows_token_ids():
    rows = _rows(viz.encoded_input_html(np.array([2, 0, 1]), "abcd", 3, "embedding"))

    assert [cell.split("</span>")[-1].strip() for cell in rows[0].split("</td>")[:-1]] == [
        "id 2",
        "id 0",
        "id 1",
    ]
    assert [cell.split("</span>")[0].split(">")[-1] for cell in rows[0].split("<td")[1:]] == ["c", "a", "b"]


def test_sample_prediction_gives_each_class_both_numbers_and_marks_the_true_one():
    table = viz.sample_prediction_html(np.array([0.25, 0.75]), np.array([0.5, 0.5]), ["a", "<b>"], 1)
    rows = _rows(table)

    assert "25.0%" in rows[0] and "50.0%" in rows[0] and "true" not in rows[0]
    assert "75.0%" in rows[1] and ">true<" in rows[1]
    assert "&lt;b&gt;" in rows[1] and "<b>" not in rows[1].replace(">true<", "")


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


def test_accuracy_axis_spans_the_values_and_the_ceiling_labels_keep_apart():
    fig = viz.accuracy_figure([1, 2, 3], [0.55, 0.9, 0.9125], [0.5, 0.875, 0.9], 0.9125, 0.9)

    low, high = fig.layout.yaxis.range
    assert 0 < low < 0.5 and 1.0 < high < 1.05  # not 0–100 %: the gap to the ceiling reads
    assert fig.layout.yaxis.dtick == 0.1
    upper, lower = fig.layout.annotations
    assert (upper.text, upper.xanchor, upper.yanchor) == ("Bayes ceiling (train) 91.2%", "right", "bottom")
    assert (lower.text, lower.xanchor, lower.yanchor) == ("Bayes ceiling (val) 90.0%", "left", "top")
    trained = viz.accuracy_figure([1, 2], [0.9, 0.91], [np.nan, np.nan], 0.9125)
    assert trained.layout.yaxis.range[0] == pytest.approx(0.85) and trained.layout.yaxis.dtick == 0.05


def test_probability_heatmap_labels_its_rows_however_many():
    few = viz.probability_heatmap_figure(
        np.full((3, 2), 0.5), ["r0", "r1", "r2"], ["a", "b"], np.zeros(3, int)
    )
    assert list(few.layout.yaxis.ticktext) == ["r0", "r1", "r2"]
    labels = [f"row {i}" for i in range(160)]
    many = viz.probability_heatmap_figure(np.full((160, 2), 0.5), labels, ["a", "b"], np.zeros(160, int))
    ticks = list(many.layout.yaxis.ticktext)
    assert 40 <= len(ticks) <= viz.MAX_ROW_LABELS and ticks[0] == "row 0" and ticks[1] == "row 3"


def test_attention_map_shows_each_head_with_the_future_masked():
    weights = np.array(
        [[[1.0, 0, 0], [0.25, 0.75, 0], [0.1, 0.2, 0.7]], [[1.0, 0, 0], [0.5, 0.5, 0], [0.6, 0.3, 0.1]]]
    )
    fig = viz.attention_figure(weights, "acc")

    heatmaps = [trace for trace in fig.data if trace.type == "heatmap"]
    assert len(heatmaps) == 4  # per head: the masked cells, the weights
    masked, second = heatmaps[0], heatmaps[3]
    assert list(masked.y) == ["0: a", "1: c", "2: c"]
    assert np.isnan(second.z[0][1]) and second.z[2][0] == 0.6  # the future has no weight to show
    assert second.text[0][2] == "masked" and second.text[1][1] == "0.50"
    assert masked.z[0][2] == 1 and np.isnan(masked.z[2][0])
    assert (second.zmin, second.zmax) == (0, 1) and second.showscale and not heatmaps[1].showscale
    assert any(trace.name.startswith("masked") for trace in fig.data if trace.type == "scatter")
    assert [a.text for a in fig.layout.annotations] == ["<b>head 1</b>", "<b>head 2</b>"]
