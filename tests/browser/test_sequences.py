"""The Sequences page in Chromium: type masters, see them drawn with the ceiling, train to it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import (
    ARTIFACTS_DIR,
    after_rerun,
    assert_no_exception,
    expect_sent,
    open_page,
    screenshot,
    sent,
    server_frames,
    wait_for_app,
)

pytestmark = pytest.mark.browser

# whether a row of the table view is wholly in its scrolled view, under the header
SHOWN_IN_TABLE = """(row) => {
  const scroller = row.closest('.tv-scroller').getBoundingClientRect();
  const head = row.closest('table').querySelector('thead').getBoundingClientRect();
  const box = row.getBoundingClientRect();
  return box.top >= head.bottom - 0.5 && box.bottom <= scroller.bottom + 0.5;
}"""


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


# sorts the changes made under a node from now on, in window.__tableChanges: rows taken out of the table
# and put back ("moved"), attributes set to the value they had ("same"), text changed ("text")
TABLE_CHANGES = """(node) => {
  const changes = { moved: 0, same: 0, text: 0 };
  window.__tableChanges = changes;
  window.__tableObserver = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "childList" && r.target.tagName === "TBODY") changes.moved += r.removedNodes.length;
      else if (r.type === "childList" || r.type === "characterData") changes.text += 1;
      else if (r.oldValue === r.target.getAttribute(r.attributeName)) changes.same += 1;
    }
  });
  window.__tableObserver.observe(node, { subtree: true, childList: true, attributes: true, attributeOldValue: true, characterData: true });
}"""


def test_the_sample_table_picks_by_click_and_keys_and_draws_only_the_rows_in_view(browser, app_server):
    page = open_page(browser, f"{app_server}/sequences")
    try:
        main = page.locator("[data-testid='stMain']")
        sample = page.get_by_label("Sample (train index; or click a row)", exact=True)
        table = main.locator(".tv-scroller")
        # a click on a row chooses its sample: the number box, the selected row and the sample card agree
        row = main.locator(".tv-row[data-index='5']")
        context = row.locator("td").nth(1).text_content()
        row.click()
        wait_for_app(page)
        expect(sample).to_have_value("5")
        expect(main.locator(".tv-row.tv-selected")).to_have_attribute("data-index", "5")
        expect(main.get_by_text(re.compile(rf"^Sample #5: {context} →"))).to_be_visible()
        # ↓ moves the selection from the keyboard, End goes to the last row and scrolls it into view
        page.keyboard.press("ArrowDown")
        wait_for_app(page)
        expect(sample).to_have_value("6")
        page.keyboard.press("End")
        wait_for_app(page)
        last = main.locator(".tv-row.tv-selected")
        assert last.evaluate(SHOWN_IN_TABLE), "End did not scroll the last row into the table's view"
        n_train = int(last.get_attribute("data-index")) + 1
        expect(sample).to_have_value(str(n_train - 1))
        # the number box moves the table's selection the other way, scrolled to the row
        sample.fill("3")
        sample.press("Enter")
        wait_for_app(page)
        expect(main.locator(".tv-row.tv-selected")).to_have_attribute("data-index", "3")
        # more samples: the page holds only the rows in view and a few more, however long the table
        samples = page.get_by_label("Samples", exact=True)
        samples.fill("5000")
        samples.press("Enter")
        wait_for_app(page)
        expect(main.locator(".tv-table")).to_have_attribute("aria-rowcount", "4001")  # 4,000 + the header
        expect(main.locator(".tv-row[data-index='3']")).to_have_class(re.compile("tv-selected"))
        assert main.locator(".tv-row").count() < 40
        table.evaluate("(node) => { node.scrollTop = 2000 * 28; }")
        assert main.locator(".tv-row[data-index='2000']").evaluate(SHOWN_IN_TABLE)
        main.locator(".tv-row[data-index='2001']").click()
        wait_for_app(page)
        expect(sample).to_have_value("2001")
        assert main.locator(".tv-row").count() < 40
        # new rows of the same count: the cells change, the rows stay where they are and nothing is set
        # to the value it has, so the browser lays out only what changed
        table.evaluate(TABLE_CHANGES)
        seed = main.get_by_label("Seed", exact=True)
        seed.fill("1")
        after_rerun(page, lambda: seed.press("Enter"))
        page.wait_for_function("() => window.__tableChanges.text > 0")
        wait_for_app(page)
        changes = page.evaluate("() => window.__tableChanges")
        assert changes["text"] > 0 and changes["moved"] == 0 and changes["same"] == 0, changes
        assert_no_exception(page)
    finally:
        page.close()


def open_with_a_sequence_network(browser, app_server):
    """The Sequences page after Use this dataset on its defaults: the network's sections are drawn."""
    page = open_page(browser, f"{app_server}/sequences")
    after_rerun(page, page.get_by_role("button", name="Use this dataset").click)
    return page


def test_the_sample_and_the_masters_rerun_the_data_half_not_the_networks_sections(browser, app_server):
    page = open_page(browser, f"{app_server}/sequences")
    try:
        frames = server_frames(page)  # a reload: a new session, whose network is then made here
        after_rerun(page, page.get_by_role("button", name="Use this dataset").click)
        main = page.locator("[data-testid='stMain']")
        sections = "Tokens to generate"  # a label in the network's sections, below the data half
        expect(main.get_by_text(sections)).to_be_visible()
        sample = page.get_by_label("Sample (train index; or click a row)", exact=True)
        frames.clear()
        after_rerun(page, lambda: (sample.focus(), page.keyboard.press("ArrowUp")))
        # the network's prediction for the new sample is in the data half, and comes with it
        expect(main.get_by_role("heading", name=re.compile(r"^Sample #1: "))).to_be_visible()
        expect_sent(page, frames, "Sample #1")  # the data half's last element: its run's messages are in
        assert not sent(frames, sections)
        frames.clear()
        after_rerun(page, page.get_by_text("auto-generate", exact=True).click)
        expect(main.get_by_text(sections)).to_be_hidden()
        expect_sent(page, frames, "Sample #")
        assert sent(frames, "not for these settings") and not sent(frames, sections)
        frames.clear()
        after_rerun(page, page.get_by_text("type them", exact=True).click)
        expect(main.get_by_text(sections)).to_be_visible()
        expect_sent(page, frames, "Sample #")
        assert not sent(frames, sections)
        # the check sees the sections when they are sent: a rerun of the page
        frames.clear()
        page.get_by_role("heading", name="Sequences", exact=True).click()
        after_rerun(page, lambda: page.keyboard.press("r"))
        expect_sent(page, frames, sections)
        assert_no_exception(page)
    finally:
        page.close()


def test_open_this_sample_in_step_through_from_the_data_half(browser, app_server):
    """The jump is a button of the data half, which reruns on its own: it still makes the dataset the
    network's and opens Step through on the sample."""
    page = open_page(browser, f"{app_server}/sequences")
    try:
        sample = page.get_by_label("Sample (train index; or click a row)", exact=True)
        sample.fill("3")
        sample.press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Open this sample in step-through").click()
        expect(page.get_by_role("heading", name="Step through one training step")).to_be_visible()
        wait_for_app(page)
        expect(page.get_by_label(re.compile(r"^Sample \(0 – \d+\)$"))).to_have_value("3")
        assert_no_exception(page)
    finally:
        page.close()


def test_the_probability_map_reads_the_cell_under_the_pointer(browser, app_server):
    page = open_with_a_sequence_network(browser, app_server)
    try:
        main = page.locator("[data-testid='stMain']")
        cells = main.locator(".mv-prob-cells")
        cells.scroll_into_view_if_needed()
        rows = main.locator(".mv-prob-row")
        labels = [rows.nth(k).text_content() for k in range(rows.count())]
        # the default data: two masters of 8 tokens, windows of 3: 5 windows each, every one labelled
        assert len(labels) == 10 and labels[0].startswith("M1@0 abc") and labels[5].startswith("M2@0 add")
        key = main.get_by_text(re.compile(r"wrong prediction \(\d+ of 10 rows\)"))
        expect(key).to_be_visible()
        box = cells.bounding_box()
        # the middle of row 3 (M1@3 caa→b), column b: its label, its token and its probability
        page.mouse.move(box["x"] + box["width"] * 1.5 / 4, box["y"] + box["height"] * 3.5 / 10)
        readout = main.locator(".mv-readout").last
        expect(readout).to_have_text(
            re.compile(r"^M1@3 caa→b ×\d+ · b: p = [\d.e-]+ \([\d.]+ %\) · the true token")
        )
        assert_no_exception(page)
    finally:
        page.close()


def test_other_settings_hide_the_network_sections_and_going_back_shows_the_same_ones(browser, app_server):
    page = open_with_a_sequence_network(browser, app_server)
    try:
        main = page.locator("[data-testid='stMain']")
        sections = main.locator(".st-key-seq_network")
        generation = main.get_by_role("heading", name="Generation")
        expect(generation).to_be_visible()
        # mark the drawn sections: the same DOM nodes must come back, not new ones built again
        main.locator(".mv-prob-cells").evaluate("(node) => { node.dataset.mark = 'kept'; }")
        after_rerun(page, page.get_by_text("auto-generate", exact=True).click)
        expect(main.get_by_text("not for these settings and network")).to_be_visible()
        expect(sections).to_be_hidden()
        expect(generation).to_be_hidden()
        # nothing inside shows through, and the hidden sections take no room in the page
        expect(main.get_by_text(re.compile(r"training samples predicted wrong"))).to_be_hidden()
        expect(main.get_by_text("Tokens to generate")).to_be_hidden()
        assert sections.bounding_box() is None or sections.bounding_box()["height"] < 1
        expect(page.get_by_role("button", name="Train", exact=True)).to_be_hidden()
        after_rerun(page, page.get_by_text("type them", exact=True).click)
        expect(generation).to_be_visible()
        expect(main.get_by_text("not for these settings and network")).to_have_count(0)
        expect(main.locator(".mv-prob-cells")).to_have_attribute("data-mark", "kept")
        assert_no_exception(page)
    finally:
        page.close()
