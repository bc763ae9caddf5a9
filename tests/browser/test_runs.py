"""Runs in a real browser: create two runs, train both, see two runs' curves on the Compare chart."""

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.harness import assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def click_once_settled(page, button, attempts=5):
    """Click ``button`` once the page shows a single copy of it.

    While a script run is redrawing, Streamlit keeps the previous run's elements
    until the new ones replace them, so a button can briefly exist twice.
    """
    for _ in range(attempts):
        wait_for_app(page)
        expect(button.first).to_be_visible()
        if button.count() == 1:
            try:
                button.click(timeout=5_000)
                return
            except PlaywrightError:
                continue
    raise AssertionError(f"{button} never settled to one clickable copy")


def create(page, name):
    field = page.get_by_label("Run name", exact=True)
    new_run = page.get_by_test_id("stExpander").filter(has_text="New run")
    expect(new_run).to_be_visible()
    wait_for_app(page)
    # The expander starts open only while there are no runs; closed, it draws nothing. Its own open
    # state says which: its form may not be drawn yet while the page is busy, and a click would close it.
    if not new_run.locator("details[open]").count():
        new_run.get_by_text("New run").click()
    expect(field).to_be_visible()
    field.fill(name)
    field.press("Enter")
    wait_for_app(page)
    expect(field).to_have_value(name)
    click_once_settled(page, page.get_by_role("button", name="Create run"))
    wait_for_app(page)
    expect(page.get_by_text(f"Created run {name}")).to_be_visible()


def create_and_train(page, name):
    create(page, name)
    train(page, epochs=3)


def train(page, epochs):
    epochs_field = page.get_by_label("Epochs", exact=True)
    epochs_field.fill(str(epochs))
    epochs_field.press("Enter")
    wait_for_app(page)
    click_once_settled(page, page.get_by_role("button", name="Train", exact=True))
    wait_for_app(page)
    expect(page.get_by_text(f"Trained {epochs} epoch")).to_be_visible()
    wait_for_app(page)  # the page reruns once more to redraw from the saved run
    assert_no_exception(page)


def test_two_runs_trained_in_the_browser_show_on_the_compare_chart(browser, app_server):
    page = open_page(browser, f"{app_server}/runs")
    try:
        expect(page.get_by_role("heading", name="Training runs")).to_be_visible()
        create_and_train(page, "first")
        create_and_train(page, "second")
        screenshot(page, "runs")

        page.goto(f"{app_server}/compare")
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Compare runs")).to_be_visible()
        legend = page.locator(".cv-legend")
        expect(legend).to_contain_text("first")
        # one legend entry per run, and one per line style (not one per run and curve)
        assert "second" in legend.text_content() and "validation (dashed)" in legend.text_content()
        assert page.locator(".cv-item").count() <= 5
        # Per run: train and val loss (and the faint step loss) on the left, train and val accuracy on the right.
        expect(page.locator(".cv-plot")).to_have_count(2)
        assert_no_exception(page)
        screenshot(page, "compare")
    finally:
        page.close()


def test_two_sessions_keep_their_own_active_run(browser, app_server):
    one = open_page(browser, f"{app_server}/runs")
    two = open_page(browser, f"{app_server}/runs")
    try:
        create(one, "alpha")
        two.reload()
        wait_for_app(two)
        create(two, "beta")
        # Each session trains its own active run, after the other session created one.
        for page, name in ((one, "alpha"), (two, "beta")):
            train(page, epochs=1)
            expect(page.get_by_text(f"Active run {name}")).to_be_visible()
        assert_no_exception(one)
        assert_no_exception(two)
    finally:
        one.close()
        two.close()
