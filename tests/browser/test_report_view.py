"""What the report view (ui/report_view) draws, in a blank Chromium page, mounted as Streamlit mounts it:
a table's texts as text (a class name that looks like markup stays text), its bars as long as their
share, and each picture pixel for pixel from the grey levels it is sent."""

import base64

import numpy as np
import pytest

from ui.components import script
from ui.report_view import ASSETS
from viz.draw import probability_table, scores_table
from viz.encoding import pack
from viz.tables import pictures

pytestmark = pytest.mark.browser

# Mounts the report (its default export, given the element that holds its HTML, and the packed message),
# into the same element each time, as Streamlit does when a keyed element gets new data.
_MOUNT = """async ([source, html, css, message]) => {
  window.reportView ??= await import("data:text/javascript;charset=utf-8," + encodeURIComponent(source));
  let parent = document.querySelector("#report");
  if (!parent) {
    parent = document.createElement("div");
    parent.id = "report";
    parent.style.width = "900px";
    parent.innerHTML = `<style>${css}</style>${html}`;
    document.body.replaceChildren(parent);
  }
  window.reportView.default({ parentElement: parent, data: Uint8Array.from(atob(message), (c) => c.charCodeAt(0)) });
}"""

# Each canvas of the pictures: its size, its CSS size, its label and its pixels' grey levels (the red
# channel; every pixel must be grey and opaque), and each caption as the page shows it.
_PICTURES = """() => [...document.querySelectorAll("#report figure")].map((figure) => {
  const canvas = figure.querySelector("canvas");
  const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const grey = [];
  let exact = true;
  for (let k = 0; k < rgba.length; k += 4) {
    grey.push(rgba[k]);
    exact &&= rgba[k] === rgba[k + 1] && rgba[k] === rgba[k + 2] && rgba[k + 3] === 255;
  }
  const box = canvas.getBoundingClientRect();
  return { size: [canvas.height, canvas.width], shown: [box.height, box.width], label: canvas.getAttribute("aria-label"),
           grey, exact, caption: figure.querySelector("figcaption").textContent };
})"""


def mount(page, report: dict) -> None:
    page.evaluate(
        _MOUNT,
        [
            script(ASSETS, "report_view", packed=True),
            (ASSETS / "report_view.html").read_text(encoding="utf-8"),
            (ASSETS / "report_view.css").read_text(encoding="utf-8"),
            base64.b64encode(pack(report)).decode(),
        ],
    )


def test_a_table_writes_every_name_as_text_and_each_bar_as_long_as_its_share(blank):
    name = '<img src=x onerror="window.pwned=1"><b>boot</b> & co'
    mount(blank, probability_table([0.25, 0.7, 0.05], ["cat", name, "bird"]))
    table = blank.locator("#report .rv-table")
    assert blank.locator("#report .rv-title").inner_text() == "Probabilities"
    assert table.locator("th").all_inner_texts() == ["class", "probability"]
    assert table.locator("tbody tr").count() == 3
    assert table.locator("tbody tr").nth(1).locator("td").first.inner_text() == name  # as text, not markup
    assert blank.locator("#report img").count() == 0 and blank.evaluate("() => window.pwned") is None
    assert table.locator("b").all_inner_texts() == [name]  # the most likely class in bold
    bars = table.locator(".rv-bar")
    assert bars.locator(".rv-value").all_inner_texts() == ["25.0%", "70.0%", "5.0%"]
    assert [bars.nth(k).get_attribute("title") for k in range(3)] == ["0.25", "0.7", "0.05"]
    for k, share in enumerate((0.25, 0.7, 0.05)):
        track = bars.nth(k).locator(".rv-track").bounding_box()["width"]
        fill = bars.nth(k).locator(".rv-fill").bounding_box()["width"]
        assert abs(fill - share * track) < 0.5
    # the same element, another table: drawn anew in its place, nothing of the first one left
    mount(
        blank, scores_table({"precision": [1.0], "recall": [0.5], "f1": [2 / 3], "support": [1234]}, ["cat"])
    )
    assert blank.locator("#report .rv-table").count() == 1
    assert table.locator("tbody td").all_inner_texts() == ["cat", "1.000", "0.500", "0.667", "1,234"]


def test_each_picture_is_painted_pixel_for_pixel_at_the_width_asked_with_its_caption(blank):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (28, 28), dtype=np.uint8), rng.integers(0, 256, (8, 16), dtype=np.uint8)]
    captions = ["model input 28×28", "<b>cropped</b> & co"]
    mount(blank, pictures(images, captions, width=84))
    drawn = blank.evaluate(_PICTURES)
    assert len(drawn) == 2
    for image, caption, shown in zip(images, captions, drawn):
        assert shown["size"] == list(image.shape) and shown["exact"]
        assert np.array_equal(np.array(shown["grey"], np.uint8).reshape(image.shape), image)
        assert shown["caption"] == caption and shown["label"] == caption
    assert [shown["shown"] for shown in drawn] == [[84, 84], [42, 84]]  # square pixels
    # the same element, other pictures: painted in the figures there, none left over
    other = rng.integers(0, 256, (8, 8), dtype=np.uint8)
    mount(blank, pictures([other], ["digits 8×8"], width=84))
    (shown,) = blank.evaluate(_PICTURES)
    assert np.array_equal(np.array(shown["grey"], np.uint8).reshape(8, 8), other) and shown["exact"]
    assert (shown["shown"], shown["caption"], shown["label"]) == ([84, 84], "digits 8×8", "digits 8×8")
    # no pictures: the note says what will appear there
    mount(blank, pictures([], [], width=112, note="The stages appear here once you draw."))
    assert blank.evaluate(_PICTURES) == []
    assert blank.locator("#report .rv-note").inner_text() == "The stages appear here once you draw."
    mount(blank, pictures([other], ["digits 8×8"], width=84))
    assert blank.locator("#report .rv-note").count() == 0 and len(blank.evaluate(_PICTURES)) == 1
