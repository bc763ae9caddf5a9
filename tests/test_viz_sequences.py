"""The Sequences page's figures: right shapes, colours per token, errors and mismatches marked."""

import numpy as np
import pytest

from tests.map_views import sent
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


def test_probability_map_carries_the_probabilities_and_marks_only_wrong_rows():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    payload = viz.probability_payload(probabilities, ["r0", "r1", "<r2>"], ["a", "b"], np.array([0, 0, 1]))

    assert payload["layout"] == "probabilities" and payload["rows"] == ["r0", "r1", "<r2>"]
    # ringed and crossed in the colours the strips give the target and a mismatch
    assert payload["marks"] == {"true": viz.TARGET, "wrong": viz.HIGHLIGHT}
    shown = sent(payload["p"], np.float32).reshape(3, 2)
    np.testing.assert_array_equal(shown, probabilities.astype(np.float32))
    targets = sent(payload["targets"], np.int32)
    predicted = sent(payload["predicted"], np.int32)
    # a tie predicts the first class, as argmax does: row 2 (true b) is wrong, row 1 (true a) too
    assert list(predicted) == [0, 1, 0] and list(predicted != targets) == [False, True, True]


@pytest.mark.parametrize(
    "probabilities, targets, problem",
    [
        (np.full((2, 2), 0.5), np.array([0, 0]), "for 3 rows and 2 classes"),
        (np.full((3, 2), 0.5), np.array([0, 2, 0]), "one class index per row, 0 to 1"),
        (np.full((3, 2), 0.5), np.array([0, 1]), "one class index per row"),
    ],
)
def test_probability_map_names_what_does_not_fit(probabilities, targets, problem):
    with pytest.raises(ValueError, match=problem):
        viz.probability_payload(probabilities, ["r0", "r1", "r2"], ["a", "b"], targets)


def floats(values) -> np.ndarray:
    """A curve's values as the view is sent them: float64 exactly (``ui.curve_view`` packs them)."""
    assert isinstance(values, np.ndarray) and values.dtype == np.float64, (type(values), values)
    return values


def test_accuracy_curves_carry_the_values_and_draw_the_ceiling():
    payload = viz.accuracy_curves([1, 2], [0.5, 0.9], [np.nan, np.nan], 0.91, 0.9)
    (accuracy,) = payload["panels"]
    (train,) = accuracy["series"]  # no validation values: no validation curve
    assert floats(train["y"]).tolist() == [0.5, 0.9] and floats(train["x"]).tolist() == [1, 2]
    assert [c["value"] for c in accuracy["ceilings"]] == [0.91, 0.9]
    assert [entry["label"] for entry in payload["legend"]] == ["train"]
    both = viz.accuracy_curves([1, 2], [0.5, 0.9], [0.4, 0.8], 0.91)
    assert [s["name"] for s in both["panels"][0]["series"]] == ["train accuracy", "validation accuracy"]
    assert len(both["panels"][0]["ceilings"]) == 1  # one ceiling when no other is given


def test_pca_figure_labels_each_token():
    fig = viz.embedding_pca_figure(np.array([[0, 1], [1, 0], [2, 2]]), np.array([0.7, 0.3]), "abc")

    assert list(fig.data[0].text) == ["a", "b", "c"]
    assert "70%" in fig.layout.xaxis.title.text


def test_accuracy_axis_spans_the_values_and_the_ceilings_are_labelled():
    (accuracy,) = viz.accuracy_curves([1, 2, 3], [0.55, 0.9, 0.9125], [0.5, 0.875, 0.9], 0.9125, 0.9)[
        "panels"
    ]

    low, high = accuracy["range"]
    assert 0 < low < 0.5 and 1.0 < high < 1.05  # not 0–100 %: the gap to the ceiling reads
    assert accuracy["step"] == 0.1
    assert [c["label"] for c in accuracy["ceilings"]] == [
        "Bayes ceiling (train) 91.2%",
        "Bayes ceiling (val) 90.0%",
    ]
    (trained,) = viz.accuracy_curves([1, 2], [0.9, 0.91], [np.nan, np.nan], 0.9125)["panels"]
    assert trained["range"][0] == pytest.approx(0.85) and trained["step"] == 0.05


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


def test_target_distribution_writes_each_share_and_count_and_escapes_the_names():
    text = viz.target_distribution_html({"a": 30, "<b>": 10}, ["a", "<b>"])
    assert "(train + val: 40 samples)" in text
    assert 'title="0.75"' in text and "75.0%" in text and ">30<" in text
    assert 'title="0.25"' in text and "25.0%" in text and ">10<" in text
    assert "<b>" not in text and "&lt;b&gt;" in text
    # each bar in its token's colour, as on the strips
    assert viz.token_colors(["a", "<b>"])["<b>"] in text
