"""The Draw page's figures: the map views' payloads, and the reports (``ui.report_view``): the tables of
probabilities and scores, and the pictures of the preprocessing stages and of the misclassified images."""

import numpy as np
import pytest

from tests.map_views import sent
from tests.map_views import table_text as cells
from viz.encoding import pack, unpack
from viz.tables import pictures


def test_each_picture_travels_as_its_bytes_with_its_shape_caption_and_width():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (28, 28), dtype=np.uint8), rng.integers(0, 256, (8, 16), dtype=np.uint8)]
    report = unpack(pack(pictures(images, ["a", "b"], width=84)))
    assert report["kind"] == "pictures" and report["width"] == 84 and report["captions"] == ["a", "b"]
    assert report["shapes"] == [[28, 28], [8, 16]]  # drawn 84 px wide: 84×84 and 84×42
    for image, back in zip(images, report["images"]):
        assert np.array_equal(sent(back, np.uint8), image.ravel())  # the picture as read, not resampled


def test_pictures_take_captions_as_text_and_refuse_what_is_not_a_grey_picture():
    caption = '<b onclick="x()">boot</b> & co'
    assert pictures([np.zeros((4, 4), np.uint8)], [caption], width=40)["captions"] == [caption]
    empty = pictures([], [], width=112, note="The stages appear here once you draw.")
    assert (empty["images"], empty["note"]) == ([], "The stages appear here once you draw.")
    with pytest.raises(ValueError, match="2 pictures and 1 captions"):
        pictures([np.zeros((4, 4), np.uint8)] * 2, ["a"], width=40)
    with pytest.raises(ValueError, match=r"2-D uint8 array of grey levels, got float64 \(4, 4\)"):
        pictures([np.zeros((4, 4))], ["a"], width=40)
    with pytest.raises(ValueError, match=r"got uint8 \(2, 4, 4\)"):
        pictures([np.zeros((2, 4, 4), np.uint8)], ["a"], width=40)


def test_the_saliency_view_gets_the_engines_numbers_and_the_apps_colour_scale():
    from viz.colors import LUT
    from viz.draw import saliency_payload

    rng = np.random.default_rng(0)
    image = rng.random((28, 28))
    saliency = rng.normal(0, 1e-5, (28, 28))
    payload = saliency_payload(image, saliency, "7")

    def floats(key):
        return sent(payload[key], np.float32).reshape(28, 28)

    assert np.array_equal(floats("input"), image.astype(np.float32))
    assert np.array_equal(floats("saliency"), saliency.astype(np.float32))
    assert payload["limit"] == float(np.abs(saliency.astype(np.float32)).max())
    assert np.array_equal(sent(payload["lut"], np.uint8).reshape(256, 3), LUT)
    assert payload["stats"].startswith("min ") and (payload["rows"], payload["cols"]) == (28, 28)
    with pytest.raises(ValueError, match=r"image \(28, 28\) and saliency \(8, 8\)"):
        saliency_payload(image, saliency[:8, :8], "7")


def test_the_empty_saliency_view_holds_no_gradient_and_says_why():
    from viz.draw import empty_saliency_payload

    payload = empty_saliency_payload(28, "Draw <b>first</b>")
    for key in ("input", "saliency"):
        values = sent(payload[key], np.float32)
        assert values.shape == (28 * 28,) and not values.any()
    assert (payload["layout"], payload["rows"], payload["cols"]) == ("saliency", 28, 28)
    assert payload["note"] == "Draw <b>first</b>" and payload["stats"] == ""  # text the view writes as text


def test_the_confusion_matrix_travels_as_whole_counts_with_its_class_names():
    from viz.colors import COUNT_LUT
    from viz.draw import confusion_payload

    matrix = np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]])
    payload = confusion_payload(matrix, ["cat", 2, "Ankle boot"])
    counts = sent(payload["counts"], np.int32).reshape(3, 3)
    assert np.array_equal(counts, matrix) and payload["classes"] == ["cat", "2", "Ankle boot"]
    assert np.array_equal(sent(payload["lut"], np.uint8).reshape(256, 3), COUNT_LUT)
    assert tuple(COUNT_LUT[0]) == (247, 251, 255) and tuple(COUNT_LUT[-1]) == (8, 48, 107)  # light: 0
    with pytest.raises(ValueError, match=r"for 3 classes is \(3, 3\), got \(2, 2\)"):
        confusion_payload(matrix[:2, :2], ["a", "b", "c"])
    with pytest.raises(ValueError, match="whole numbers, 0 or more"):
        confusion_payload(matrix - 6, ["a", "b", "c"])
    with pytest.raises(ValueError, match="whole numbers, 0 or more"):
        confusion_payload(matrix + 0.5, ["a", "b", "c"])


def test_the_activations_travel_as_the_engines_numbers_a_row_per_layer_on_its_own_scale():
    from viz.colors import LUT
    from viz.draw import activations_payload

    rng = np.random.default_rng(0)
    hidden = np.maximum(rng.normal(0, 2, 128), 0)  # after ReLU: never negative
    logits = rng.normal(0, 5, 3)
    payload = activations_payload(
        [hidden, logits], ["layer 1 (dense128-relu)", "output"], ["cat", 2, "<b>boot</b>"]
    )
    assert payload["layout"] == "bars"
    first, last = payload["rows"]
    for row, values in ((first, hidden), (last, logits)):
        shown = sent(row["values"], np.float32)
        assert np.array_equal(shown, values.astype(np.float32))
        assert row["limit"] == float(np.abs(values.astype(np.float32)).max())  # each layer's own scale
    assert first["title"] == "layer 1 (dense128-relu)" and "labels" not in first
    assert last["labels"] == ["cat", "2", "<b>boot</b>"]  # the output's bars are its classes, as text
    assert np.array_equal(sent(payload["lut"], np.uint8).reshape(256, 3), LUT)
    assert activations_payload([np.zeros(4), np.zeros(2)], ["a", "b"], ["x", "y"])["rows"][0]["limit"] == 1.0
    with pytest.raises(ValueError, match="2 layers of activations and 1 names"):
        activations_payload([hidden, logits], ["output"], ["a", "b", "c"])
    with pytest.raises(ValueError, match="the output has 3 values for 2 classes"):
        activations_payload([hidden, logits], ["a", "b"], ["a", "b"])


def test_a_table_needs_a_cell_and_an_alignment_per_column():
    from viz.tables import table, text

    made = table("t", ["a", "b"], [[text("x"), [text("y"), text("z", mono=True)]]], align=["right", "left"])
    assert made["rows"] == [[[{"text": "x"}], [{"text": "y"}, {"text": "z", "mono": True}]]]
    assert table("t", ["a"], [])["align"] == ["center"]
    with pytest.raises(ValueError, match=r"every row of the table 't' needs 2 cells"):
        table("t", ["a", "b"], [[text("x")]])
    with pytest.raises(ValueError, match=r"align \['middle', 'left'\]: give one of left, center, right"):
        table("t", ["a", "b"], [], align=["middle", "left"])
    with pytest.raises(ValueError, match="per column"):
        table("t", ["a", "b"], [], align=["left"])


def test_the_probability_shift_reads_each_class_before_after_and_its_signed_change():
    from viz.colors import DOWN, UP
    from viz.draw import probability_shift

    table = probability_shift([0.2, 0.8, 0.0], [0.1, 0.9 - 2e-7, 2e-7], ["cat", "dog", "<i>bird</i>"], 1)
    assert table["head"] == ["class", "before", "after", "change"]
    assert cells(table) == [
        ["cat", "20.0%", "10.0%", "-10.0 pp"],
        ["dog ✓", "80.0%", "90.0%", "+10.0 pp"],
        ["<i>bird</i>", "0.0%", "0.0%", "+2e-05 pp"],  # too small for a decimal: its significant digits
    ]
    (name,), before, after, (change,) = table["rows"][1]
    assert name == {"text": "dog ✓", "bold": True}  # the label taught
    assert not any(part.get("bold") for row in table["rows"][::2] for cell in row for part in cell)
    assert (before[0]["title"], after[0]["title"]) == ("0.8", "0.9")  # exact before and after, on hover
    assert (before[0]["bar"], after[0]["bar"]) == (0.8, 0.9 - 2e-7)
    assert table["rows"][0][3][0]["color"] == DOWN and change["color"] == UP and change["mono"]
    assert table["note"] == "✓ the label taught; pp: percentage points."


def test_the_probability_table_bars_each_class_and_marks_the_most_likely():
    from viz.draw import OTHER, PREDICTED, probability_table

    table = probability_table([0.25, 0.7, 0.05], ["cat", "dog", "<i>bird</i>"])
    assert (table["title"], table["align"]) == ("Probabilities", ["right", "left"])
    assert cells(table) == [["cat", "25.0%"], ["dog", "70.0%"], ["<i>bird</i>", "5.0%"]]
    assert [row[0][0].get("bold", False) for row in table["rows"]] == [False, True, False]
    assert [row[1][0]["color"] for row in table["rows"]] == [OTHER, PREDICTED, OTHER]
    assert [row[1][0]["width"] for row in table["rows"]] == [12.0] * 3
    empty = probability_table(None, ["cat", "dog"])  # nothing drawn: every class with an empty bar
    assert cells(empty) == [["cat", "—"], ["dog", "—"]]
    assert [row[1][0]["bar"] for row in empty["rows"]] == [0.0, 0.0]


def test_weight_changes_travel_as_the_steps_own_numbers_laid_out_as_the_view_draws_them():
    from viz.draw import weight_change_payload

    rng = np.random.default_rng(0)
    dense = rng.normal(0, 1e-6, (20, 3))  # (n_in, n_out)
    payload = weight_change_payload(dense, "ΔW of layer 3 (dense3)")
    values = sent(payload["values"], np.float32).reshape(3, 20)
    assert np.array_equal(values, dense.T.astype(np.float32))  # a row per unit, a column per input
    assert (payload["layout"], payload["channels"], payload["per_row"]) == ("mosaic", 1, 1)
    assert payload["cell_axes"] == ["unit", "input"] and "tile_axes" not in payload
    assert payload["limit"] == float(np.abs(dense.astype(np.float32)).max())
    conv = rng.normal(0, 1e-6, (4, 2, 3, 3))  # (C_out, C_in, k, k)
    payload = weight_change_payload(conv, "ΔW of layer 1 (conv4k3)")
    kernels = sent(payload["values"], np.float32).reshape(2, 4, 3, 3)
    assert np.array_equal(kernels[1, 3], conv[3, 1].astype(np.float32))  # input channel 2's row, output 4
    assert (payload["channels"], payload["per_row"]) == (8, 4)
    assert payload["tile_axes"] == ["input channel", "output channel"] and "cell_axes" not in payload
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        weight_change_payload(np.zeros(3), "x")


def test_the_scores_table_writes_each_class_s_numbers_and_its_name_as_text():
    from backprop import precision_recall_f1
    from viz.draw import scores_table

    matrix = np.array([[8, 2], [1, 9]])  # precision 8/9, 9/11; recall 0.8, 0.9
    table = scores_table(precision_recall_f1(matrix), ["<b>cat</b>", "dog"])
    assert table["head"] == ["class", "precision", "recall", "F1", "support"]
    assert cells(table) == [
        ["<b>cat</b>", "0.889", "0.800", "0.842", "10"],
        ["dog", "0.818", "0.900", "0.857", "10"],
    ]
