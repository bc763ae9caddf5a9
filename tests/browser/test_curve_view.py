"""The runs' curves in Chromium (ui/curve_view): the tick rules, the value under the pointer, the legend
that hides a run, zoom, and a control that redraws the chart in place instead of building a new one."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.harness import REPO_ROOT, assert_no_exception, make_run, open_page, open_tab, wait_for_app

pytestmark = pytest.mark.browser

VIEW_JS = Path(REPO_ROOT) / "ui" / "curve_view" / "curve_view.js"


@pytest.fixture(scope="module")
def ticks(browser):
    """The view's module, imported in a blank page: ``call(name, *args)`` runs one of its tick rules."""
    page = browser.new_page()
    page.goto("about:blank")
    page.evaluate(
        "async (source) => { window.view = await import("
        "'data:text/javascript;charset=utf-8,' + encodeURIComponent(source)); }",
        VIEW_JS.read_text(encoding="utf-8"),
    )

    def call(name, *args):
        return page.evaluate("([name, args]) => window.view[name](...args)", [name, list(args)])

    yield call
    page.close()


def log_labels(call, low, high):
    values = call("logTicks", low, high)
    return values, [call("tickLabel", v, None, False) for v in values]


@pytest.mark.parametrize(
    "low, high",
    [(0.15, 0.25), (0.18, 0.21), (0.11, 0.9), (0.003, 0.2), (0.04, 0.12), (1e-5, 3e-5), (1e-6, 1.0)],
)
def test_a_log_axis_has_at_least_three_distinct_ticks_each_written_in_full(ticks, low, high):
    values, labels = log_labels(ticks, low, high)
    assert len(values) >= 3 and all(low <= v <= high for v in values), (low, high, labels)
    assert len(set(labels)) == len(labels)
    assert all(float(label) == pytest.approx(value) for value, label in zip(values, labels))


def test_a_wide_log_axis_keeps_its_powers_of_ten(ticks):
    assert log_labels(ticks, 1e-6, 1.0)[1] == ["0.000001", "0.00001", "0.0001", "0.001", "0.01", "0.1", "1"]
    assert log_labels(ticks, 0.01, 0.5)[1][:4] == ["0.01", "0.02", "0.05", "0.1"]


def test_linear_ticks_are_round_and_epochs_whole(ticks):
    assert ticks("linearTicks", 0.0, 1.0, 5, False) == {"values": [0, 0.2, 0.4, 0.6, 0.8, 1], "step": 0.2}
    assert ticks("linearTicks", 1.0, 3.0, 8, True)["values"] == [1, 2, 3]  # no epoch 1.5
    assert ticks("tickLabel", 0.4, 0.2, False) == "0.4"
    assert ticks("tickLabel", 0.85, 0.05, True) == "85%"


def readout(page, index=0):
    return page.locator(".cv-readout").nth(index)


def point_at_curves(page, plot, view=0):
    """Move the pointer over the plot until the readout reads a point; returns the readout's text."""
    box = plot.bounding_box()
    for fx in (0.2, 0.4, 0.6, 0.8):
        for fy in [k / 40 for k in range(2, 39)]:
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            text = readout(page, view).text_content()
            if not text.startswith("Point at"):  # the hint while no point is under the pointer
                return text
    raise AssertionError("no curve under the pointer anywhere")


def test_compare_reads_the_saved_numbers_hides_a_run_zooms_and_redraws_in_place(browser, app):
    make_run(app, "first", epochs=4)
    make_run(app, "second", epochs=4, layers="dense8-relu-dense8-relu")
    page = open_page(browser, f"{app.url}/compare")
    try:
        view = page.locator(".cv-root")
        expect(view).to_have_count(1)
        legend = page.locator(".cv-legend")
        expect(legend).to_contain_text("first")
        expect(legend).to_contain_text("second")
        expect(legend).to_contain_text("validation (dashed)")
        assert page.locator(".cv-item").count() == 5  # one per run and one per line style

        # the readout reads the number the run saved, to six significant digits
        text = point_at_curves(page, page.locator(".cv-plot").first)
        match = re.fullmatch(
            r"(first|second) · (train loss|val loss|step loss) at epoch ([\d.]+): (\S+)", text
        )
        assert match, text
        run, curve, epoch, value = match.groups()
        history = json.loads((app.store.root / run / "history.json").read_text())
        if curve == "step loss":
            saved = history["step_loss"]
        else:
            saved = [e[curve.replace(" ", "_")] for e in history["epochs"]]
        assert any(float(value) == pytest.approx(v, rel=1e-5) for v in saved), (value, saved)

        # a control redraws the view it has: the same element, now on a log axis
        view.evaluate("root => { root.dataset.mark = 'kept'; }")
        loss_plot = page.locator(".cv-plot").first
        assert "(log scale)" not in loss_plot.get_attribute("aria-label")
        page.locator("label").filter(has_text="Log-scale loss").click()
        wait_for_app(page)
        expect(loss_plot).to_have_attribute("aria-label", re.compile(r"\(log scale\)"))
        assert view.evaluate("root => root.dataset.mark") == "kept"
        labels = re.search(r"at (.*) against", loss_plot.get_attribute("aria-label")).group(1).split(", ")
        assert len(labels) >= 3 and all(float(label) > 0 for label in labels), labels  # in full: no bare "2"

        # the legend hides a run: the pointer reads only the other one
        first = page.locator("button.cv-item").filter(has_text="first")
        first.click()
        expect(first).to_have_attribute("aria-pressed", "false")
        assert point_at_curves(page, page.locator(".cv-plot").nth(1)).startswith("second ·")
        first.click()
        expect(first).to_have_attribute("aria-pressed", "true")

        # a drag zooms both panels to the x range it covered; a double-click zooms out
        plot = page.locator(".cv-plot").nth(1)
        before = plot.get_attribute("aria-label")
        box = plot.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5, steps=4)
        page.mouse.up()
        reset = page.get_by_role("button", name="Reset zoom")
        expect(reset).to_be_visible()
        assert plot.get_attribute("aria-label") != before
        plot.dblclick()
        expect(reset).to_be_hidden()
        assert plot.get_attribute("aria-label") == before
        assert_no_exception(page)
    finally:
        page.close()


def test_the_layers_tab_reads_every_percentile_of_an_epoch(browser, app):
    make_run(app, "layered", epochs=3, layers="dense8-gelu-dense8-gelu")
    page = open_page(browser, f"{app.url}/runs")
    try:
        page.get_by_label("Run", exact=True).click()
        page.get_by_role("option").filter(has_text="layered ·").click()
        wait_for_app(page)
        open_tab(page, "Inside the layers")
        expect(page.locator(".cv-root")).to_have_count(2)  # distributions, gradient norms
        distributions = page.locator(".cv-root").first
        expect(distributions.locator(".cv-panel-title")).to_have_text(["layer 1", "layer 2", "layer 3"])
        text = point_at_curves(page, distributions.locator(".cv-plot").first)
        assert re.fullmatch(r"layer 1 median at epoch \d: min \S+, p7 .*, median \S+, .* max \S+", text), text
        history = json.loads((app.store.root / "layered" / "history.json").read_text())
        epoch = int(re.search(r"epoch (\d)", text).group(1))
        saved_min = history["epochs"][epoch - 1]["layers"][0]["W"][0]
        assert float(re.search(r"min (\S+),", text).group(1)) == pytest.approx(saved_min, rel=1e-5)
        # titles, panels and legend stack without overlapping
        boxes = [
            distributions.locator(selector).first.bounding_box()
            for selector in (".cv-title", ".cv-panel-title", ".cv-plot", ".cv-legend", ".cv-readout")
        ]
        for upper, lower in zip(boxes, boxes[1:]):
            assert upper["y"] + upper["height"] <= lower["y"] + 0.5, (upper, lower)
        assert_no_exception(page)
    finally:
        page.close()


def test_a_tap_reads_a_point_where_there_is_no_pointer_to_hover(browser, app):
    make_run(app, "touched", epochs=4)
    context = browser.new_context(has_touch=True, viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{app.url}/compare")
        wait_for_app(page)
        plot = page.locator(".cv-plot").first
        expect(plot).to_be_visible()
        plot.scroll_into_view_if_needed()
        box = plot.bounding_box()
        read = None
        for fx in (0.3, 0.6):
            for fy in [k / 25 for k in range(1, 25)]:
                page.touchscreen.tap(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                text = readout(page).text_content()
                if not text.startswith("Point at"):
                    read = text
                    break
            if read:
                break
        # the runs of this module's store, "touched" among them
        assert read and re.fullmatch(r"\w+ · (train|val|step) loss at epoch [\d.]+: \S+", read), read
        assert_no_exception(page)
    finally:
        context.close()
