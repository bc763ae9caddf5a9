"""The home page, as served by `streamlit run` and rendered by Chromium."""

import pytest
from playwright.sync_api import expect

from tests.browser.harness import REPO_ROOT, assert_no_exception, open_page, screenshot

pytestmark = pytest.mark.browser


def test_home_page_renders_in_chromium(browser, app_server):
    page = open_page(browser, app_server)
    try:
        expect(page.get_by_role("heading", name="Backprop Visualizer")).to_be_visible()
        expect(page.get_by_text("Opening this page trains nothing")).to_be_visible()
        expect(page.locator("[data-testid='stSidebar']")).to_be_visible()
        # Streamlit hides the page menu while there is only one page.
        other_screens = [path for path in (REPO_ROOT / "pages").glob("*.py") if path.name != "home.py"]
        if other_screens:
            navigation = page.locator("[data-testid='stSidebarNav']")
            expect(navigation).to_be_visible()
            expect(navigation.get_by_role("link", name="Home")).to_be_visible()
        assert_no_exception(page)
        screenshot(page, "home")
    finally:
        page.close()
