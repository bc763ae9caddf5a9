"""Draw & predict in Chromium: real mouse strokes on the canvas, then a real upload."""

import base64
import io
import math
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.harness import (
    after_rerun,
    assert_no_exception,
    expect_sent,
    expect_tab,
    go_to,
    open_page,
    screenshot,
    sent,
    server_frames,
    wait_for_app,
)

pytestmark = pytest.mark.browser
DRAWING_CANVAS = ".dc-canvas"  # inside the canvas component's shadow root (Playwright's CSS pierces it)


def open_draw_page(browser, url):
    page = open_page(browser, url)
    go_to(page, "Draw & predict")
    expect(page.get_by_role("heading", name="Draw & predict")).to_be_visible()
    return page


# True once the element has stayed at the same place on screen for five animation frames in a row.
_STILL = """(element) => {
  const r = element.getBoundingClientRect();
  const place = `${r.x},${r.y},${r.width},${r.height}`;
  element.__frames = element.__place === place ? (element.__frames || 0) + 1 : 0;
  element.__place = place;
  return element.__frames >= 5;
}"""


def canvas_origin(page):
    """Top-left corner (x, y) of the 280×280 drawing canvas in page pixels, once it stays put: when a
    run ends, the views it no longer draws go, the page gets shorter and the browser scrolls, which
    moves the canvas under a stroke aimed at where it was."""
    canvas = page.locator(DRAWING_CANVAS)
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    page.wait_for_function(_STILL, arg=canvas.element_handle(), polling="raf")
    box = canvas.bounding_box()
    assert 250 <= box["width"] <= 300, box
    return box["x"], box["y"]


def stroke(page, points, steps=6):
    """Press, drag through canvas-relative ``points``, release: one freehand stroke."""
    x0, y0 = canvas_origin(page)
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=steps)
    page.mouse.up()


def vertical_bar(page):
    stroke(page, [(140, 45), (140, 235)], steps=25)


def closed_loop(page):
    stroke(
        page,
        [
            (140 + 60 * math.sin(t / 24 * 2 * math.pi), 140 - 95 * math.cos(t / 24 * 2 * math.pi))
            for t in range(25)
        ],
        steps=3,
    )


def triangle(page):
    stroke(page, [(140, 40), (245, 225), (35, 225), (140, 40)], steps=20)


def prediction(page):
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Prediction")
    return metric.locator("[data-testid='stMetricValue']")


def draw_prompt(page):
    return page.get_by_text("Draw something on the canvas")


def clear(page):
    """Clear (under the canvas), then wait for the run to end: the prediction's views go at its end, the
    page gets shorter and the browser scrolls, which moves the canvas (the next stroke waits for it)."""
    page.get_by_role("button", name="Clear", exact=True).click()
    expect(draw_prompt(page)).to_be_visible()
    wait_for_app(page)
    assert ink_on_canvas(page) == 0


def choose_model(page, label):
    model_pill(page, label).click()
    wait_for_app(page)


def model_pill(page, label):
    """The model's pill: one radio button of the Model group."""
    return page.get_by_role("radiogroup", name="Model").get_by_role("radio", name=label, exact=True)


def choose_explained_class(page, label):
    pill = page.get_by_role("radiogroup", name="Explain class").get_by_role("radio", name=label, exact=True)
    wait_for_app(page)  # the drawing's run has ended
    pill.click()
    wait_for_app(page)


def bar_drawn_watching_frames(page) -> list[bytes]:
    """The server's messages from now on (a new session), once a vertical bar is drawn and read as 1."""
    frames = server_frames(page)
    vertical_bar(page)
    expect(prediction(page)).to_have_text("1")
    return frames


def test_the_activations_are_drawn_in_place_and_read_each_units_value(browser, app_server):
    """The Activations tab is drawn in the browser from the numbers: a stroke sends the new numbers, not a
    chart built again, and the pointer reads a unit's value, or an output bar's class and logit."""
    page = open_draw_page(browser, app_server)
    try:
        frames = bar_drawn_watching_frames(page)
        panel = tab(page, "Activations")
        expect(panel.get_by_text("layer 3 (dense128-relu), 128 values")).to_be_visible()
        frames.clear()
        seven(page)
        expect(prediction(page)).to_have_text("7")
        wait_for_app(page)
        expect_sent(page, frames, "output logits (10)")
        assert not sent(frames, "hovertemplate")  # no plotly figure built from scratch on each stroke
        output = panel.locator(".mv-bars-canvas").nth(1)
        output.scroll_into_view_if_needed()
        box = output.bounding_box()
        readout = panel.locator(".mv-readout")
        expect(readout).to_have_text("Point at a bar to read its unit's value.")
        logits = []
        for k in range(10):
            page.mouse.move(box["x"] + box["width"] * (k + 0.5) / 10, box["y"] + box["height"] / 2)
            expect(readout).to_contain_text(f"output logits (10) · class {k}: ")
            logits.append(float(re.search(rf"class {k}: (\S+) ", readout.inner_text())[1]))
        assert int(np.argmax(logits)) == 7  # the prediction is the largest logit
        assert max(map(abs, logits)) == float(panel.locator(".mv-max").nth(1).inner_text().lstrip("+"))
        hidden = panel.locator(".mv-bars-canvas").first
        box = hidden.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 10.5 / 128, box["y"] + box["height"] / 2)
        expect(readout).to_contain_text("layer 3 (dense128-relu), 128 values · unit 10: ")
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] - 60)  # off the bars
        expect(readout).to_have_text("Point at a bar to read its unit's value.")
        labels = panel.locator(".mv-bars-label")
        expect(labels).to_have_count(10)  # the output's bars are named by the classes
        expect(labels.nth(7)).to_have_text("7")
        assert_no_exception(page)
    finally:
        page.close()


def seven(page):
    stroke(page, [(80, 60), (205, 60), (120, 235)], steps=20)


def tab(page, name):
    page.get_by_role("tab", name=name).click()
    wait_for_app(page)
    return page.get_by_role("tabpanel")


def test_mouse_drawings_are_recognised_and_predictions_follow_the_drawing(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        expect(draw_prompt(page)).to_be_visible()
        expect(prediction(page)).to_have_text("—")  # nothing drawn: no prediction
        expect(
            page.get_by_text("centred) appears here once you draw")
        ).to_be_visible()  # the stages' place, empty
        expect(model_pill(page, "mnist (built-in)")).to_be_checked()

        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        expect(page.get_by_text("From your drawing to the model's input", exact=True)).to_be_visible()
        expect(page.locator(".rv-pictures").first.locator("figure").first).to_be_visible()
        expect(page.get_by_text("appears here once you draw")).to_have_count(0)
        assert_no_exception(page)
        screenshot(page, "draw_mnist_bar")

        clear(page)
        expect(prediction(page)).to_have_text("—")  # nothing drawn: no prediction
        closed_loop(page)
        expect(prediction(page)).not_to_have_text("—")
        expect(prediction(page)).not_to_have_text("1")
        loop_digit = prediction(page).inner_text()

        # Switching models keeps the drawing: the same loop is now a circle.
        choose_model(page, "shapes (built-in)")
        expect(prediction(page)).to_have_text("circle")

        clear(page)
        triangle(page)
        expect(prediction(page)).to_have_text("triangle")
        assert_no_exception(page)
        screenshot(page, "draw_shapes_triangle")
        print(f"loop read as digit {loop_digit}")
    finally:
        page.close()


def test_a_seven_drawn_with_the_mouse_shows_the_cnns_prediction_and_its_feature_maps(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        seven(page)
        expect(prediction(page)).to_have_text("7")
        panel = tab(page, "Feature maps")
        mosaics = panel.locator(".mv-mosaic")
        expect(mosaics).to_have_count(2)  # one view per convolution layer
        expect(
            panel.get_by_text("layer 1 (conv16k3p1): 16 maps of 14×14 after relu-maxpool2")
        ).to_be_visible()
        expect(panel.get_by_text("layer 2 (conv32k3p1): 32 maps of 7×7 after relu-maxpool2")).to_be_visible()
        expect(panel.get_by_text("never negative")).to_be_visible()
        expect(panel.locator(".mv-bar")).to_have_count(2)  # each layer's legend of its scale
        # each legend, title and bar, spans its maps and no more (the first layer's two rows of maps are
        # shorter than a full-height bar)
        for k in range(2):
            maps = mosaics.nth(k).bounding_box()
            legend = panel.locator(".mv-legend").nth(k).bounding_box()
            bar = panel.locator(".mv-bar").nth(k).bounding_box()
            assert (
                maps["y"] - 1 <= legend["y"]
                and legend["y"] + legend["height"] <= maps["y"] + maps["height"] + 1
            )
            assert bar["height"] >= 96 and bar["y"] + bar["height"] <= legend["y"] + legend["height"] + 1
        # the pixel under the pointer: its channel, row and column as the pointer is placed (16 maps
        # of 14×14, 8 to a row, a pixel of gap between them), and its value on the layer's scale
        first = mosaics.first
        first.scroll_into_view_if_needed()
        box = first.bounding_box()
        pixel = box["width"] / (8 * 15 - 1)
        page.mouse.move(box["x"] + pixel * (15 * 2 + 3.5), box["y"] + pixel * (15 * 1 + 5.5))
        readout = panel.locator(".mv-readout").first
        expect(readout).to_contain_text("channel 11, row 5, col 3 · ")
        value = float(readout.inner_text().rsplit("· ", 1)[1])
        limit = float(panel.locator(".mv-max").first.inner_text().lstrip("+"))
        assert 0 <= value <= limit  # after ReLU and pooling: never negative
        page.mouse.move(box["x"] + pixel * (15 * 3 - 0.5), box["y"] + pixel * 5.5)  # in a gap
        expect(readout).to_have_text("Point at a map to read its values.")
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_path("draw_feature_maps")), full_page=True)

        panel.get_by_text("before the activation: the convolution's output").click()
        wait_for_app(page)
        expect(panel.get_by_text("layer 1 (conv16k3p1): 16 maps of 28×28 after conv16k3p1")).to_be_visible()
        expect(panel.get_by_text("red positive, blue negative")).to_be_visible()
        page.screenshot(path=str(screenshot_path("draw_feature_maps_before_relu")), full_page=True)
        assert_no_exception(page)
    finally:
        page.close()


def ink_on_canvas(page):
    """How many bright pixels the drawing canvas shows."""
    return page.locator(DRAWING_CANVAS).evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; }"""
    )


def wait_for_ink(page, timeout_ms=10_000):
    """The canvas's bright pixel count once it shows any ink, or 0 after timeout_ms."""
    for _ in range(timeout_ms // 100):
        ink = ink_on_canvas(page)
        if ink:
            return ink
        page.wait_for_timeout(100)
    return 0


def test_the_drawing_survives_the_stroke_width_the_tabs_and_a_visit_to_another_page(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        thin_bar = wait_for_ink(page)
        width = page.get_by_role("slider", name="Stroke width")  # the canvas's own control
        width_shown = page.locator(".dc-width-value")
        expect(width_shown).to_have_text("18 px")
        width.focus()
        for _ in range(6):
            page.keyboard.press("ArrowRight")
        expect(width_shown).to_have_text("24 px")
        wait_for_app(page)
        expect(prediction(page)).to_have_text("1")
        tab(page, "Activations")
        expect(prediction(page)).to_have_text("1")

        go_to(page, "Home")
        expect(prediction(page)).to_have_count(0)  # another page
        go_to(page, "Draw & predict")
        expect(prediction(page)).to_have_text("1")  # predicted from the kept drawing
        expect(width_shown).to_have_text("24 px")  # the width given back to the canvas
        canvas_origin(page)
        assert wait_for_ink(page) > 1000, "the canvas came back empty"
        seven(page)  # the canvas has the bar back: drawing on adds to it, and it is read anew
        expect(prediction(page)).not_to_have_text("1")
        clear(page)
        vertical_bar(page)  # the same bar, 24 px wide instead of 18
        expect(prediction(page)).to_have_text("1")
        assert 1.2 < wait_for_ink(page) / thin_bar < 1.45
        assert_no_exception(page)
    finally:
        page.close()


def test_the_model_the_tab_and_the_class_explained_survive_a_visit_to_another_page(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        choose_explained_class(page, "7")
        choose_model(page, "digits (built-in)")
        tab(page, "Validation")
        go_to(page, "Home")
        go_to(page, "Draw & predict")
        expect(model_pill(page, "digits (built-in)")).to_be_checked()
        expect_tab(page, "Validation")
        expect(page.get_by_text("Input: 8×8")).to_be_visible()  # the digits model's card
        tab(page, "Saliency")
        expect(page.locator(".mv-saliency-title")).to_have_text("∂P(7)/∂pixel over the input")
        explained = page.get_by_role("radiogroup", name="Explain class")
        expect(explained.get_by_role("radio", name="7", exact=True)).to_be_checked()
        choose_model(page, "shapes (built-in)")  # three classes: the predicted one is explained, and picked
        expect(explained.get_by_role("radio", name="the predicted class", exact=True)).to_be_checked()
        expect(page.locator(".mv-saliency-title")).not_to_have_text("∂P(7)/∂pixel over the input")
        assert_no_exception(page)
    finally:
        page.close()


def overlap(a, b):
    """True when two bounding boxes share more than a pixel's sliver."""
    return (
        min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 1
        and min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 1
    )


# Boxes of what a person reads or clicks in an element: text as laid out (not its block's full
# width), controls (slider tracks, buttons, inputs) as their boxes.
_VISIBLE_PARTS = """
(element) => {
  const boxes = [];
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const r of range.getClientRects()) boxes.push({x: r.x, y: r.y, width: r.width, height: r.height});
  }
  for (const control of element.querySelectorAll("button, input, [role='slider'], [data-baseweb='slider']")) {
    const r = control.getBoundingClientRect();
    if (r.width && r.height) boxes.push({x: r.x, y: r.y, width: r.width, height: r.height});
  }
  return boxes;
}
"""


def test_undo_redo_and_clear_act_on_the_drawing_and_its_prediction_and_cover_nothing(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        bar_ink = wait_for_ink(page)
        seven(page)
        expect(prediction(page)).not_to_have_text("1")
        undo = page.get_by_role("button", name="Undo", exact=True)
        redo = page.get_by_role("button", name="Redo", exact=True)
        undo.click()
        expect(prediction(page)).to_have_text("1")  # what the model reads lost the stroke too
        assert abs(ink_on_canvas(page) - bar_ink) < 0.02 * bar_ink
        redo.click()
        expect(prediction(page)).not_to_have_text("1")
        page.locator(DRAWING_CANVAS).focus()
        page.keyboard.press("Control+z")
        expect(prediction(page)).to_have_text("1")
        undo.click()
        expect(draw_prompt(page)).to_be_visible()
        expect(undo).to_be_disabled()
        assert ink_on_canvas(page) == 0
        redo.click()
        expect(prediction(page)).to_have_text("1")
        clear(page)  # one step of the history: Undo brings the drawing back
        undo.click()
        expect(prediction(page)).to_have_text("1")
        assert abs(ink_on_canvas(page) - bar_ink) < 0.02 * bar_ink

        covered = page.locator(".dc-bar").bounding_box()
        elements = page.locator("[data-testid='stMain'] [data-testid='stElementContainer']")
        for k in range(elements.count()):
            element = elements.nth(k)
            if element.locator(DRAWING_CANVAS).count() or not element.is_visible():
                continue
            for box in element.evaluate(_VISIBLE_PARTS):
                assert not overlap(covered, box), f"the toolbar covers {element.inner_text()[:60]!r}"
        assert_no_exception(page)
        page.screenshot(path=str(screenshot_path("draw_canvas_toolbar")))
    finally:
        page.close()


def test_a_stroke_clear_and_a_picture_rerun_the_drawing_section_not_the_model_card(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        frames = server_frames(page)
        card = "Reproduce:"  # the model card's caption
        # the section's last line, which changes with every run of it; a small message, always sent whole
        # (Streamlit sends a large one the page has had lately, such as a report or a view, as a reference)
        timed, untimed = "prediction and saliency took", "Nothing drawn: no prediction timed yet."
        expect(page.get_by_text(card)).to_be_visible()
        frames.clear()
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        wait_for_app(page)
        expect_sent(page, frames, timed)  # the run's messages are in: the card, above, would be first
        assert not sent(frames, card)
        frames.clear()
        clear(page)
        expect_sent(page, frames, untimed)
        assert not sent(frames, card)
        frames.clear()
        seven_on_paper = png_bytes(lambda d: d.line([(40, 40), (160, 40), (90, 170)], fill=20, width=16))
        upload(page, "seven.png", seven_on_paper)
        expect(page.get_by_role("button", name="Back to drawing")).to_be_visible()
        wait_for_app(page)
        expect_sent(page, frames, timed)
        assert not sent(frames, card)
        # the check sees the card when it is sent: a rerun of the page, and a switch of the model
        frames.clear()
        page.get_by_role("heading", name="Draw & predict").click()
        after_rerun(page, lambda: page.keyboard.press("r"))
        expect_sent(page, frames, card)
        frames.clear()
        after_rerun(page, model_pill(page, "digits (built-in)").click)
        expect_sent(page, frames, card)
        assert_no_exception(page)
    finally:
        page.close()


def test_a_pill_of_teach_its_result_reruns_the_weight_changes_alone(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        frames = bar_drawn_watching_frames(page)
        panel = tab(page, "Teach it")
        panel.get_by_role("button", name="Teach it").click()
        expect(page.get_by_text("ΔW of layer 4 (dense10) after 1 step(s)")).to_be_visible()
        wait_for_app(page)
        frames.clear()
        pills = page.get_by_role("radiogroup", name="ΔW of layer")
        after_rerun(page, pills.get_by_role("radio", name=re.compile(r"^layer 3 \(dense128\) · ")).click)
        expect(page.get_by_text("ΔW of layer 3 (dense128) after 1 step(s)")).to_be_visible()
        # the view's title (in the message, JSON writes its Δ as an escape)
        expect_sent(page, frames, "layer 3 (dense128) after 1 step(s)")
        assert not sent(frames, "From your drawing to the model's input")  # a heading of the section above
        # Teach it again reruns the section, the pill as it was left
        frames.clear()
        after_rerun(page, panel.get_by_role("button", name="Teach it").click)
        expect(page.get_by_text("session copy taught for 2 step(s)")).to_be_visible()
        expect_sent(page, frames, "From your drawing to the model's input")
        expect(page.get_by_text("ΔW of layer 3 (dense128) after 1 step(s)")).to_be_visible()
        assert_no_exception(page)
    finally:
        page.close()


def png_bytes(paint, size=(200, 200), background=255):
    image = Image.new("L", size, background)
    paint(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload(page, name, data, mime="image/png"):
    """Open a picture file on the canvas, as its Picture… button does."""
    page.locator(".dc-file").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def canvas_pixels(page):
    """The canvas's pixels as the page shows them: (side, side, 4) uint8."""
    url = page.locator(DRAWING_CANVAS).evaluate("c => c.toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


def test_a_photo_of_a_dark_seven_opened_on_the_canvas_reads_seven_in_the_drawings_place(browser, app_server):
    from tests.pictures import seven_jpeg

    page = open_draw_page(browser, app_server)
    try:
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        drawn = canvas_pixels(page)
        upload(page, "seven.jpg", seven_jpeg(), "image/jpeg")
        expect(prediction(page)).to_have_text("7")
        status = page.locator(".dc-status")
        expect(status).to_have_text(
            "seven.jpg · inverted: dark ink on light paper · shown as the model reads it"
        )
        # what is predicted is what is shown: the canvas shows the picture (light paper), not the old
        # drawing beside it, and draws no strokes over it
        canvas = page.locator(DRAWING_CANVAS)
        expect(canvas).to_have_attribute("aria-label", re.compile("opened picture"))
        shown = canvas_pixels(page)
        assert shown[..., :3].mean() > 100 > drawn[..., :3].mean(), (shown.mean(), drawn.mean())
        expect(page.get_by_role("button", name="Undo")).to_be_hidden()
        expect(page.get_by_role("slider", name="Stroke width")).to_be_disabled()
        assert_no_exception(page)
        page.screenshot(path=str(screenshot_path("draw_upload_seven")), full_page=True)

        # the ink's colour, forced the other way, changes what the model reads
        page.locator(".dc-ink").select_option("keep")
        expect(status).to_have_text("seven.jpg · shown as the model reads it")
        expect(page.locator(".dc-ink")).to_have_value("keep")
        expect(prediction(page)).not_to_have_text("7")

        page.get_by_role("button", name="Back to drawing").click()
        expect(prediction(page)).to_have_text("1")  # the drawing is back, and so is its prediction
        expect(page.get_by_role("button", name="Back to drawing")).to_be_hidden()
        assert np.array_equal(canvas_pixels(page), drawn)
        closed_loop(page)  # the canvas still draws, on top of the old stroke
        expect(prediction(page)).not_to_have_text("7")
        assert_no_exception(page)
    finally:
        page.close()


def test_a_picture_over_the_size_bound_is_refused_in_the_browser(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        upload(page, "huge.png", b"\x89PNG\r\n\x1a\n" + bytes(21 << 20))
        expect(page.locator(".dc-note")).to_have_text(
            "huge.png is 21.0 MiB: pictures up to 20.0 MiB are read."
        )
        expect(prediction(page)).to_have_text("1")  # nothing was sent: the drawing stays
        assert_no_exception(page)
    finally:
        page.close()


def test_long_class_names_are_shown_whole(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        choose_model(page, "fashion (built-in)")
        boot = [(150, 40), (250, 40), (255, 250), (30, 250), (30, 200), (80, 170), (150, 150)]
        upload(page, "boot.png", png_bytes(lambda d: d.polygon(boot, fill=40), size=(300, 300)))
        expect(prediction(page)).to_have_text("Ankle boot")
        value = prediction(page).locator("div").last
        width = value.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert width[0] <= width[1], f"'Ankle boot' is cut: {width[0]} px of text in {width[1]} px"
        page.screenshot(path=str(screenshot_path("draw_fashion_boot")))
    finally:
        page.close()


def test_upload_of_a_dark_on_light_digit_and_of_a_non_image(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        upload(page, "one.png", png_bytes(lambda d: d.line([(100, 20), (100, 180)], fill=0, width=14)))
        expect(prediction(page)).to_have_text("1")
        expect(page.locator(".dc-status")).to_contain_text("one.png · inverted: dark ink on light paper")

        upload(page, "fake.png", b"this is not a picture")
        expect(page.locator("[data-testid='stAlertContentError']")).to_contain_text(
            "upload a PNG, JPEG or WebP"
        )
        # the canvas is back to the drawing, which is empty: no prediction
        expect(page.get_by_role("button", name="Back to drawing")).to_be_hidden()
        expect(prediction(page)).to_have_text("—")  # nothing drawn: no prediction
        assert_no_exception(page)
        page.locator("[data-testid='stAlertContentError']").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_path("draw_upload_error")))
    finally:
        page.close()


def test_saliency_activations_teaching_and_validation_render(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        tabs = page.locator("[data-testid='stTabs']")
        # nothing drawn: the view is in place, empty, and says when it fills in; nothing answers the pointer
        expect(tabs.locator(".mv-readout")).to_have_text(
            "The saliency map appears here once you draw something."
        )
        expect(tabs.locator(".mv-stats")).to_have_text("")
        empty = tabs.locator(".mv-saliency").bounding_box()
        page.mouse.move(empty["x"] + empty["width"] / 2, empty["y"] + empty["height"] / 2)
        expect(tabs.locator(".mv-readout")).to_have_text(
            "The saliency map appears here once you draw something."
        )
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        stages = page.locator(".rv-pictures").first.locator("figure")
        expect(stages).to_have_count(4)
        stages.first.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_path("draw_stages")))

        saliency = tabs.locator(".mv-saliency")
        expect(saliency).to_be_visible()
        expect(tabs.locator(".mv-saliency-title")).to_have_text("∂P(1)/∂pixel over the input")
        expect(page.get_by_text("Red pixels raise the probability")).to_be_visible()
        # the pixel under the pointer: its row and column, as the pointer is placed, and its values;
        # the bar runs down the middle of the 28×28 input, so row 14, col 14 holds ink
        saliency.scroll_into_view_if_needed()
        box = saliency.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 14.5 / 28, box["y"] + box["height"] * 14.5 / 28)
        readout = tabs.locator(".mv-readout")
        expect(readout).to_contain_text("row 14, col 14 · input ")
        values = re.search(r"input (\S+) · ∂P/∂x (\S+)", readout.inner_text())
        limit = float(tabs.locator(".mv-max").inner_text().lstrip("+"))
        assert float(values[1]) > 0.5 and abs(float(values[2])) <= limit
        page.mouse.move(box["x"] + box["width"] * 6.5 / 28, box["y"] + box["height"] * 14.5 / 28)
        expect(readout).to_contain_text("row 14, col 6 · input 0.000 · ")  # beside the bar: no ink
        choose_explained_class(page, "7")
        expect(tabs.locator(".mv-saliency-title")).to_have_text("∂P(7)/∂pixel over the input")
        expect(readout).to_have_text("Point at a pixel to read its input value and its ∂P/∂x.")
        tabs.scroll_into_view_if_needed()
        tabs.screenshot(path=str(screenshot_path("draw_saliency")))

        panel = tab(page, "Activations")
        expect(panel.get_by_text("layer 3 (dense128-relu), 128 values")).to_be_visible()
        expect(panel.get_by_text("red positive, white 0, blue negative")).to_be_visible()
        tabs.screenshot(path=str(screenshot_path("draw_activations")))

        panel = tab(page, "Teach it")
        panel.get_by_role("button", name="Teach it").click()
        wait_for_app(page)
        expect(page.get_by_text("Probability before and after teaching")).to_be_visible()
        expect(page.get_by_text("session copy taught for 1 step(s)")).to_be_visible()
        # one layer's ΔW at a time, the output layer first; each weight's change under the pointer,
        # named as the view lays it out
        expect(page.get_by_text("ΔW of layer 4 (dense10) after 1 step(s)")).to_be_visible()
        weights, readout = page.locator(".mv-mosaic"), page.locator(".mv-readout")
        weights.scroll_into_view_if_needed()
        box = weights.bounding_box()  # dense10: a row per unit, a column per input (128)
        page.mouse.move(box["x"] + box["width"] * 40.5 / 128, box["y"] + box["height"] * 7.5 / 10)
        expect(readout).to_contain_text("unit 7, input 40 · ")
        tabs.screenshot(path=str(screenshot_path("draw_teach")))
        page.get_by_role("radiogroup", name="ΔW of layer").get_by_role(
            "radio", name=re.compile(r"^layer 1 \(conv16k3p1\) · max \|ΔW\| ")
        ).click()
        expect(page.get_by_text("ΔW of layer 1 (conv16k3p1) after 1 step(s)")).to_be_visible()
        weights.scroll_into_view_if_needed()
        box = weights.bounding_box()  # 16 kernels of 3×3 in a row, a pixel apart: 63 columns
        page.mouse.move(box["x"] + box["width"] * 5.5 / 63, box["y"] + box["height"] * 1.5 / 3)
        expect(readout).to_contain_text("input channel 1, output channel 2, row 1, col 1 · ")
        expect(page.locator("[role='tab'][aria-selected='true']")).to_have_text("Teach it")  # still open
        page.get_by_role("button", name="Reset to the original model").click()
        expect(page.get_by_text("session copy taught")).to_have_count(0)

        panel = tab(page, "Validation")
        expect(panel.get_by_text("validation images misclassified")).to_be_visible()
        matrix = panel.locator(".mv-matrix")
        expect(panel.locator(".mv-row-label")).to_have_count(10)  # one per class, written as text
        matrix.scroll_into_view_if_needed()
        box = matrix.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 7.5 / 10, box["y"] + box["height"] * 7.5 / 10)
        expect(panel.locator(".mv-readout")).to_contain_text("true 7, predicted 7: ")
        page.mouse.move(box["x"] + box["width"] * 2.5 / 10, box["y"] + box["height"] * 7.5 / 10)
        expect(panel.locator(".mv-readout")).to_contain_text("true 7, predicted 2: ")
        expect(panel.locator(".rv-pictures canvas").first).to_be_visible()
        tabs.screenshot(path=str(screenshot_path("draw_validation")))
        assert_no_exception(page)
    finally:
        page.close()


def screenshot_path(name):
    from tests.browser.harness import ARTIFACTS_DIR

    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR / f"{name}.png"
