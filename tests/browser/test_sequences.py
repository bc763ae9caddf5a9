"""The Sequences page in Chromium: type masters, see them drawn with the ceiling, train to it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import ARTIFACTS_DIR, assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_type_masters_train_and_reach_the_ceiling(browser, app_server):
    page = open_page(browser, app_server)
    try:
        page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Sequences").click()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Sequences", exact=True)).to_be_visible()
        masters = page.get_by_label("Type master sequences (comma or space separated)")
        masters.fill("abcdabdc, dcbaacbd")
        masters.press("Enter")
        wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        # Both masters are drawn as token strips.
        expect(main.get_by_text("M2", exact=True).first).to_be_visible()
        expect(main.get_by_text("No context is ambiguous")).to_be_visible()
        expect(main.get_by_test_id("stMetricValue").filter(has_text="100%").first).to_be_visible()
        screenshot(page, "sequences_explore")

        page.get_by_role("button", name="Use this dataset").click()
        wait_for_app(page)
        expect(main.get_by_text("rebuilt the network")).to_be_visible()
        epochs = page.get_by_label("Epochs")
        epochs.fill("40")
        epochs.press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Train", exact=True).click()
        wait_for_app(page)
        expect(main.get_by_text(re.compile("^At the ceiling"))).to_be_visible()
        # the accuracy curve against the ceiling, read under the pointer
        plot = main.locator(".cv-plot").first
        expect(plot).to_have_attribute("aria-label", re.compile(r"accuracy at .*%"))
        plot.scroll_into_view_if_needed()
        box = plot.bounding_box()
        read = None
        for fy in [k / 30 for k in range(1, 30)]:
            page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * fy)
            text = main.locator(".cv-readout").first.text_content()
            if not text.startswith("Point at"):
                read = text
                break
        assert read and re.fullmatch(r"(train|validation) accuracy at epoch \d+: [\d.]+%", read), read
        assert_no_exception(page)
        screenshot(page, "sequences_trained")
        for part, text in enumerate(
            ["What the network learned", "training samples predicted wrong", "Generation"], start=1
        ):
            main.get_by_text(text).first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS_DIR / f"sequences_trained_{part}.png"))
    finally:
        page.close()


def test_stop_ends_a_long_training_and_says_what_it_kept(browser, app_server):
    page = open_page(browser, f"{app_server}/sequences")
    try:
        page.get_by_role("button", name="Use this dataset").click()
        wait_for_app(page)
        epochs = page.get_by_label("Epochs", exact=True)
        epochs.fill("5000")
        epochs.press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_test_id("stProgress")).to_be_visible()
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Stop", exact=True).click()
        # the sentence used to be lost: the stopped run could not write to the session's state
        expect(page.get_by_text(re.compile(r"^Stopped after \d+ epochs"))).to_be_visible()
        wait_for_app(page)
        expect(page.get_by_test_id("stProgress")).to_have_count(0)
        assert_no_exception(page)
    finally:
        page.close()
