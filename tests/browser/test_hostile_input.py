"""Hostile input in Chromium: broken run folders and Markdown-laden names read as plain text on every page."""

import io
import json
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

import datasets
from backprop import RunConfig
from backprop.runs import RunStore, train_run
from tests.browser.harness import (
    StreamlitServer,
    after_rerun,
    assert_no_exception,
    open_page,
    screenshot,
    wait_for_app,
)
from tests.hostile_files import blank_png
from ui.text import WORD_JOINER

pytestmark = pytest.mark.browser

# A folder name that is a Markdown link, bold text, an emoji shortcode, LaTeX and HTML at once.
HOSTILE_NAME = "[click](www.example.com) **bold** :smile: $x^2$ <b>tag"
# What must not appear inside an element that shows text from outside.
RENDERED_MARKUP = ("<a ", "<strong", "<em", "<img", "katex", "<b>", "stIconMaterial")


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """A server whose store holds a healthy image run and broken folders (one named HOSTILE_NAME)."""
    workdir = tmp_path_factory.mktemp("hostile_server")
    store = RunStore(workdir / "runs")
    digits = datasets.load("digits")
    config = RunConfig(dataset="digits", layers="dense8-gelu", epochs=1)
    for name in ("good", "named", "created-number"):
        train_run(store.create(name, config, dataset=digits), digits, epochs=1)
    os.rename(store.root / "named", store.root / HOSTILE_NAME)
    meta_path = store.root / "created-number" / "config.json"
    meta = json.loads(meta_path.read_text())
    meta["created"] = 5
    meta_path.write_text(json.dumps(meta))
    (store.root / "good" / "snapshots" / "epoch-0001.npz").write_bytes(b"damaged")
    server = StreamlitServer(runs_dir=store.root, log_path=workdir / "streamlit.log").start()
    try:
        yield server
    finally:
        server.stop()


def visible_text(locator) -> str:
    return locator.inner_text().replace(WORD_JOINER, "")


def assert_plain(locator, text, bold=()):
    """``locator`` shows ``text`` character for character, with no Markdown or HTML rendered inside.

    bold: the pieces our own message sets in bold; each must be one <strong> holding only text.
    """
    expect(locator).to_be_visible()
    assert text in " ".join(visible_text(locator).split()), visible_text(locator)
    strong = locator.locator("strong")
    assert [visible_text(strong.nth(i)) for i in range(strong.count())] == list(bold)
    assert all("<" not in strong.nth(i).inner_html() for i in range(strong.count()))
    markup = locator.inner_html()
    for i in range(strong.count()):
        markup = markup.replace(strong.nth(i).evaluate("node => node.outerHTML"), "")
    assert not [tag for tag in RENDERED_MARKUP if tag in markup], markup[:2000]


def alert(page, containing):
    return page.locator("[data-testid='stAlert']").filter(has_text=containing)


@pytest.mark.parametrize("path", ["runs", "compare"])
def test_broken_folders_are_rows_and_a_markdown_folder_name_reads_as_text(browser, hostile_server, path):
    page = open_page(browser, f"{hostile_server.url}/{path}")
    try:
        assert_no_exception(page)
        assert_plain(
            alert(page, "not a valid run name"),
            f"Run {HOSTILE_NAME} is damaged and skipped",
            bold=[HOSTILE_NAME],
        )
        expect(alert(page, "'created' is 5")).to_have_count(1)
        expect(alert(page, "snapshots/epoch-0001.npz is not a readable weights file")).to_have_count(1)
        screenshot(page, f"hostile_{path}")
    finally:
        page.close()


def png(name_paint, size=(200, 200)):
    image = Image.new("L", size, 255)
    name_paint(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upload_name_and_an_import_name_read_as_text(browser, hostile_server):
    page = open_page(browser, f"{hostile_server.url}/draw")
    try:
        upload_name = "*cat* [x](www.example.com) :smile:.png"
        page.locator(".dc-file").set_input_files(
            files=[
                {
                    "name": upload_name,
                    "mimeType": "image/png",
                    "buffer": png(lambda d: d.line([(100, 20), (100, 180)], fill=0, width=14)),
                }
            ]
        )
        status = page.locator(".dc-status")
        expect(status).to_contain_text("inverted: dark ink")
        # written as text: the name character for character, no element made of it
        assert (
            status.text_content()
            == f"{upload_name} · inverted: dark ink on light paper · shown as the model reads it"
        )
        assert status.evaluate("node => node.children.length") == 0
        assert_no_exception(page)
    finally:
        page.close()

    page = open_page(browser, f"{hostile_server.url}/runs")
    try:
        page.get_by_label("Run", exact=True).click()
        page.get_by_role("option").filter(has_text="good").click()
        wait_for_app(page)
        page.get_by_role("tab", name="Manage").click()
        archive_name = "**evil** [x](www.example.com).zip"
        page.get_by_text("Import an exported run (.zip)").scroll_into_view_if_needed()
        after_rerun(
            page,
            lambda: page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
                files=[{"name": archive_name, "mimeType": "application/zip", "buffer": b"not a zip at all"}]
            ),
        )
        import_button = page.get_by_role("button", name="Import", exact=True)
        expect(import_button).to_be_enabled()  # once the server holds the file
        import_button.click()
        wait_for_app(page)
        assert_plain(alert(page, "Could not import"), f"Could not import {archive_name}: ")
        assert_no_exception(page)
    finally:
        page.close()


def sample_target(locator) -> str:
    """The target token after the arrow of the "Sample #i: window → target · origin" line."""
    return visible_text(locator).split("→ ")[1].split(" ·")[0]


def test_typed_sequences_read_as_text(browser, hostile_server):
    page = open_page(browser, f"{hostile_server.url}/sequences")
    try:
        vocab = page.get_by_role("textbox", name="Vocabulary")
        vocab.fill("*x*")  # refused (a token twice), and the message repeats it
        vocab.press("Enter")
        wait_for_app(page)
        assert_plain(alert(page, "duplicate token"), "vocabulary '*x*' has duplicate token(s) *")
        vocab.fill("a*_$")
        vocab.press("Enter")
        wait_for_app(page)
        masters = page.get_by_role("textbox", name="Type master sequences (comma or space separated)")
        masters.fill("*a*_a_$a$, a*a*a$$a")
        masters.press("Enter")
        wait_for_app(page)
        main = page.locator("[data-testid='stMain']")
        sample = main.locator("[data-testid='stMarkdownContainer']").filter(has_text="Sample #0").first
        # The window of three tokens and its target, each character literally one of a * _ $.
        expect(sample).to_have_text(re.compile(r"^Sample #0: [a*_$]{3} → [a*_$] · from M\d"))
        assert_plain(sample, "Sample #0: ", bold=["#0", sample_target(sample)])
        assert_no_exception(page)
    finally:
        page.close()


def memory_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (the peak) of a process, from /proc, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for process {pid}")


def test_a_9000_by_9000_upload_is_refused_without_the_server_decoding_it(browser, hostile_server):
    page = open_page(browser, f"{hostile_server.url}/draw")
    try:
        pid = hostile_server.process.pid
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from now
        before = memory_mib(pid, "VmRSS")
        page.locator(".dc-file").set_input_files(
            files=[{"name": "huge.png", "mimeType": "image/png", "buffer": blank_png(9000, 9000)}]
        )
        message = alert(page, "huge.png is 9000×9000 pixels")
        expect(message).to_be_visible()
        assert_plain(message, "more than the 16,777,216 allowed")
        assert "BACKPROP_MAX_UPLOAD_PIXELS" in visible_text(message)
        assert_no_exception(page)
        peak = memory_mib(pid, "VmHWM")
        # Decoding would take 81 MiB for the pixels and several times that as floats.
        assert peak - before < 40, f"the server grew from {before:.0f} to {peak:.0f} MiB"
        print(f"server memory around the upload: {before:.0f} MiB before, peak {peak:.0f} MiB")
    finally:
        page.close()
