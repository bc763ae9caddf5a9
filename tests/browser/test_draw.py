"""Draw & predict in Chromium: real mouse strokes on the canvas, then a real upload."""

import io
import math

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.harness import assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def open_draw_page(browser, url):
    page = open_page(browser, url)
    page.get_by_role("link", name="Draw & predict").first.click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Draw & predict")).to_be_visible()
    return page


def canvas_origin(page):
    """Top-left corner (x, y) of the 280×280 drawing canvas in page pixels."""
    canvas = page.locator("canvas").last
    expect(canvas).to_be_visible()
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
    page.get_by_role("button", name="Clear", exact=True).click()
    expect(draw_prompt(page)).to_be_visible()


def choose_model(page, label):
    page.locator("[data-testid='stSelectbox']").filter(has_text="Model").click()
    page.get_by_role("option", name=label).click()
    wait_for_app(page)


def test_mouse_drawings_are_recognised_and_predictions_follow_the_drawing(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        expect(draw_prompt(page)).to_be_visible()
        expect(prediction(page)).to_have_count(0)

        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        expect(page.get_by_text("From your drawing to the model's input")).to_be_visible()
        assert_no_exception(page)
        screenshot(page, "draw_digits_bar")

        clear(page)
        expect(prediction(page)).to_have_count(0)
        closed_loop(page)
        expect(prediction(page)).to_have_count(1)
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


def png_bytes(paint, size=(200, 200), background=255):
    image = Image.new("L", size, background)
    paint(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_of_a_dark_on_light_digit_and_of_a_non_image(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        page.get_by_text("…or upload a picture").click()
        uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']")
        uploader.set_input_files(
            files=[
                {
                    "name": "one.png",
                    "mimeType": "image/png",
                    "buffer": png_bytes(lambda d: d.line([(100, 20), (100, 180)], fill=0, width=14)),
                }
            ]
        )
        expect(prediction(page)).to_have_text("1")
        expect(page.get_by_text("Using one.png (inverted)")).to_be_visible()

        uploader.set_input_files(
            files=[{"name": "fake.png", "mimeType": "image/png", "buffer": b"this is not a picture"}]
        )
        expect(page.locator("[data-testid='stAlertContentError']")).to_contain_text(
            "upload a PNG, JPEG or WebP"
        )
        expect(prediction(page)).to_have_count(0)
        assert_no_exception(page)
        page.locator("[data-testid='stAlertContentError']").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_path("draw_upload_error")))
    finally:
        page.close()


def test_saliency_activations_teaching_and_validation_render(browser, app_server):
    page = open_draw_page(browser, app_server)
    try:
        vertical_bar(page)
        expect(prediction(page)).to_have_text("1")
        stages = page.locator("[data-testid='stImage']")
        expect(stages).to_have_count(4)
        stages.first.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_path("draw_stages")))

        tabs = page.locator("[data-testid='stTabs']")
        expect(tabs.locator(".js-plotly-plot").first).to_be_visible()  # the saliency overlay
        expect(page.get_by_text("over the input")).to_be_visible()
        tabs.scroll_into_view_if_needed()
        tabs.screenshot(path=str(screenshot_path("draw_saliency")))

        page.get_by_role("tab", name="Activations").click()
        expect(page.get_by_text("layer 1 (dense64-relu, 64 values)")).to_be_visible()

        page.get_by_role("tab", name="Teach it").click()
        page.get_by_role("button", name="Teach it").click()
        wait_for_app(page)
        expect(page.get_by_text("Probability before and after teaching")).to_be_visible()
        expect(page.get_by_text("session copy taught for 1 step(s)")).to_be_visible()
        tabs.screenshot(path=str(screenshot_path("draw_teach")))
        page.get_by_role("button", name="Reset to the original model").click()
        expect(page.get_by_text("session copy taught")).to_have_count(0)

        page.get_by_role("tab", name="Validation").click()
        page.get_by_text("Score the original model on its validation set").click()
        expect(page.get_by_text("validation images misclassified")).to_be_visible()
        tabs.screenshot(path=str(screenshot_path("draw_validation")))
        assert_no_exception(page)
    finally:
        page.close()


def screenshot_path(name):
    from tests.browser.harness import ARTIFACTS_DIR

    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR / f"{name}.png"
