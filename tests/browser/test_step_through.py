"""The step-through page in Chromium: a full click-through of one training step."""

import pytest
from playwright.sync_api import expect

from tests.browser.harness import assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def assert_no_page_not_found(page):
    """A direct link to this page must open it without Streamlit's "Page not found" dialog."""
    expect(page.get_by_role("dialog").filter(has_text="Page not found")).to_have_count(0)


def click_and_wait(page, name):
    page.get_by_role("button", name=name, exact=True).click()
    wait_for_app(page)


def test_step_through_walks_a_whole_step_in_chromium(browser, app_server):
    page = open_page(
        browser,
        f"{app_server}/step_through?hidden=[4]&activation=%22relu%22&optimizer=%22sgd%22",
        viewport=(1500, 1100),
    )
    try:
        assert_no_page_not_found(page)
        expect(page.get_by_role("heading", name="Step through one training step")).to_be_visible()
        expect(page.locator(".st-key-step-phase-current")).to_contain_text("Ready")
        # Train mode so the walk ends with the update.
        page.get_by_text("Train", exact=True).click()
        wait_for_app(page)
        click_and_wait(page, "Next ▸")
        expect(page.locator(".st-key-step-phase-current")).to_contain_text("Current phase: Forward 1")
        expect(page.locator(".st-key-step-phase-current")).to_contain_text("z¹ = x·W¹ + b¹")
        for expected in ("Forward 2", "Loss", "Backward 2", "Backward 1", "Update"):
            click_and_wait(page, "Next ▸")
            expect(page.locator(".st-key-step-phase-current")).to_contain_text(f"Current phase: {expected}")
        expect(page.get_by_text("Update (sgd")).to_be_visible()
        plots = page.locator(".js-plotly-plot")
        expect(plots.first).to_be_visible()
        assert plots.count() >= 6  # forward and backward per layer, ΔW per layer, loss bars
        # The 4-unit ReLU network from the link, as the sidebar shows it.
        expect(
            page.locator("[data-testid='stSidebar']").get_by_role("textbox", name="Hidden layer sizes")
        ).to_have_value("4")
        assert_no_exception(page)
        path = screenshot(page, "step_through")
        assert path.exists()
    finally:
        page.close()


def test_bad_link_value_falls_back_with_a_notice(browser, app_server):
    page = open_page(browser, f"{app_server}/step_through?hidden=%22x%22")
    try:
        assert_no_page_not_found(page)
        expect(page.get_by_text("hidden='x' is not valid").first).to_be_visible()
        expect(page.get_by_role("heading", name="Step through one training step")).to_be_visible()
        assert_no_exception(page)
    finally:
        page.close()


def test_stop_keeps_the_steps_already_trained(browser, app_server):
    page = open_page(browser, f"{app_server}/step_through?hidden=[8]")
    try:
        assert_no_page_not_found(page)
        page.get_by_label("Steps to run", exact=True).fill("100000")
        page.get_by_label("Steps to run", exact=True).press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Run 100000 steps").click()
        expect(page.get_by_text("Training", exact=False).first).to_be_visible()
        stop = page.get_by_role("button", name="Stop", exact=True)
        expect(stop).to_be_visible()
        expect(page.locator("[data-testid='stProgress']")).to_contain_text("steps")
        stop.click()
        wait_for_app(page)
        expect(page.get_by_text("Stopped after")).to_be_visible()
        assert_no_exception(page)
    finally:
        page.close()
