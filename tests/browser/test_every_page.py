"""Every page after a realistic session: two trained runs and a fork, a sequence model and a drawing.

Each page (and each of its tabs) is looked at as a person would: no exception, and no chart with text
over text, text cut off at its edge, a legend over a colour bar, tick labels running into each other or
several series without a legend. A whole-page screenshot of each is saved in tests/artifacts/.
"""

import pytest
from playwright.sync_api import expect

import datasets
from backprop.runs import train_run
from tests.browser.harness import assert_no_exception, go_to, make_run, open_page, open_tab, wait_for_app
from tests.browser.layout import chart_problems, whole_page_screenshot

pytestmark = pytest.mark.browser


def looks_right(page, name):
    wait_for_app(page)
    page.wait_for_timeout(600)  # charts finish drawing at their final size
    assert_no_exception(page)
    whole_page_screenshot(page, f"session_{name}")
    assert chart_problems(page) == [], name


def go(page, link, heading=None):
    """To another page by the sidebar, as a person does: the session (its runs, drawing) stays."""
    go_to(page, link)
    expect(page.get_by_role("heading", name=heading or link).first).to_be_visible()


@pytest.fixture(scope="module")
def session(app):
    """The store of a realistic session: a GELU and a ReLU run on circle, and a fork of the first."""
    parent = make_run(app, "circle-gelu", 12, layers="dense8-gelu-dense8-gelu")
    make_run(app, "circle-relu", 12, layers="dense8-relu-dense8-relu")
    data = datasets.load(parent.config.dataset, **parent.config.dataset_params)
    fork = app.store.fork("circle-gelu", "circle-gelu-lr", dataset=data, learning_rate=0.3)
    train_run(fork, data, epochs=12)
    return app


def test_every_page_reads_cleanly_after_a_realistic_session(browser, session):
    page = open_page(browser, f"{session.url}/sequences")
    try:
        page.get_by_role("button", name="Use this dataset").click()
        wait_for_app(page)
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text("train accuracy now")).to_be_visible(timeout=60_000)
        looks_right(page, "sequences")

        go(page, "Draw & predict")
        canvas = page.locator(".dc-canvas")
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 80, box["y"] + 60)
        page.mouse.down()
        for x, y in ((200, 60), (120, 230)):
            page.mouse.move(box["x"] + x, box["y"] + y, steps=15)
        page.mouse.up()
        expect(page.locator("[data-testid='stMetric']").filter(has_text="Prediction")).to_be_visible()
        for tab in ("Saliency", "Feature maps", "Activations", "Validation"):
            open_tab(page, tab)
            looks_right(page, f"draw_{tab.lower().replace(' ', '_')}")

        go(page, "Runs", "Training runs")
        page.get_by_label("Run", exact=True).click()
        page.get_by_role("option").filter(has_text="circle-gelu ·").first.click()
        wait_for_app(page)
        for tab in ("Train", "Inside the layers", "Fork", "Manage"):
            open_tab(page, tab)
            looks_right(page, f"runs_{tab.lower().replace(' ', '_')}")

        go(page, "Compare runs")
        looks_right(page, "compare")

        go(page, "Step through", "Step through one training step")
        for tab in ("Cell inspector", "Network & task", "Diagnostics", "Share & export"):
            open_tab(page, tab)
            looks_right(page, f"step_{tab.split()[0].lower()}")

        go(page, "Home", "Backprop Visualizer")
        looks_right(page, "home")
    finally:
        page.close()
