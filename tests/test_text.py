"""ui.text.plain: text from outside reads as itself in Streamlit's Markdown."""

import string
from pathlib import Path

from tests.markdown_text import shown
from ui.text import WORD_JOINER, plain


def test_every_ascii_punctuation_character_is_escaped():
    escaped = plain(string.punctuation)
    for character in string.punctuation:
        assert f"\\{character}" in escaped
    assert shown(escaped) == string.punctuation


def test_letters_digits_spaces_and_other_scripts_are_left_alone():
    text = "run 42 résumé 名前 — ok"
    assert plain(text) == text


def test_shortcodes_and_addresses_are_broken_by_an_invisible_word_joiner():
    assert plain(":smile:") == f"\\:{WORD_JOINER}smile\\:{WORD_JOINER}"
    assert plain("me@example") == f"me\\@{WORD_JOINER}example"
    assert plain("www") == f"w{WORD_JOINER}ww" and plain("WWW") == f"W{WORD_JOINER}WW"
    for text in (":material/home:", "https://example.com", "www.example.com", "a@b.org", ":red[x]"):
        assert shown(plain(text)) == text


def test_anything_is_shown_through_str():
    assert shown(plain(ValueError("bad *value*"))) == "bad *value*"
    assert plain(3) == "3" and plain(None) == "None"


def test_class_names_read_as_text_in_the_draw_figures():
    import numpy as np

    from viz.draw import (
        activations_payload,
        confusion_payload,
        feature_maps_payload,
        probability_shift,
        probability_table,
        saliency_payload,
    )

    name = "<a href='https://example.com'>click</a> & <b>bold</b>"
    # the report view writes names as text (textContent), so they travel as they are
    table = probability_table([0.3, 0.7], ["cat", name])
    assert table["rows"][1][0] == [{"text": name, "bold": True}]
    shift = probability_shift([0.3, 0.7], [0.2, 0.8], ["cat", name], 1)
    assert shift["rows"][1][0] == [{"text": f"{name} ✓", "bold": True}]
    report_js = (Path(__file__).resolve().parents[1] / "ui" / "report_view" / "report_view.js").read_text()
    assert "innerHTML" not in report_js and "insertAdjacentHTML" not in report_js
    assert "node.textContent = text" in report_js  # every node's text, the only way text gets in
    assert confusion_payload(np.eye(2, dtype=int), ["cat", name])["classes"] == ["cat", name]
    # the map view writes names and titles as text (textContent), so they travel as they are
    assert saliency_payload(np.zeros((4, 4)), np.ones((4, 4)), name)["class_name"] == name
    assert feature_maps_payload(np.zeros((2, 4, 4)), name)["title"] == name
    assert activations_payload([np.zeros(2)], [name], ["cat", name])["rows"][0]["labels"] == ["cat", name]
    view_js = (Path(__file__).resolve().parents[1] / "ui" / "map_view" / "map_view.js").read_text()
    assert "innerHTML" not in view_js
    assert "textContent = `∂P(${explained})" in view_js and "textContent = data.title" in view_js
    assert "readout.textContent = this.note" in view_js  # the empty view's note
    assert "node.textContent = name" in view_js  # the confusion matrix's class labels
    assert "label.textContent = name" in view_js and "row.title.textContent = spec.title" in view_js
