"""A link straight to a screen opens it inside the app frame, even as a fresh server's first request."""

import pytest
from playwright.sync_api import expect

from tests.browser.harness import StreamlitServer, assert_no_exception, open_page, screenshot
from ui.frame import UNFRAMED_MESSAGE

pytestmark = pytest.mark.browser


def test_first_request_to_a_deep_link_gets_the_grouped_navigation(app_server, browser):
    # This module's server is new: /draw is the first page it ever serves.
    page = open_page(browser, f"{app_server}/draw")
    try:
        expect(page.get_by_role("heading", name="Draw & predict")).to_be_visible()
        nav = page.locator("[data-testid='stSidebarNav']")
        # The sections exist only in streamlit_app.py's navigation, not in the folder-based fallback.
        expect(nav.get_by_text("Data and drawing")).to_be_visible()
        expect(nav.get_by_text("Inside a network")).to_be_visible()
        # The fallback lists the entry script itself as a page.
        expect(nav.get_by_text("streamlit app")).to_have_count(0)
        assert_no_exception(page)
        screenshot(page, "deep_link_draw")
    finally:
        page.close()


def test_a_fresh_server_runs_a_deep_link_without_the_entry_point(browser, tmp_path):
    """What ui/frame.py works around: Streamlit runs a fresh server's first deep link on its own.

    When this fails, Streamlit frames pages itself and ui.frame.inside_app_frame can go.
    """
    server = StreamlitServer(runs_dir=tmp_path / "runs", log_path=tmp_path / "streamlit.log").start()
    try:
        page = open_page(browser, f"{server.url}/runs")
        try:
            expect(page.get_by_role("heading", name="Training runs")).to_be_visible()
        finally:
            page.close()
        assert UNFRAMED_MESSAGE in server.log()
        later = open_page(browser, f"{server.url}/compare")  # navigation is known now: no second fallback
        later.close()
        assert server.log().count(UNFRAMED_MESSAGE) == 1
    finally:
        server.stop()
