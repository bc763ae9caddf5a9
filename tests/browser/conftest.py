"""Fixtures for browser tests: one Chromium per session, one app server per module."""

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.harness import CHROMIUM_ARGS, StreamlitServer, find_chromium


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium; a missing browser fails the test with a clear message."""
    executable = find_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def blank(browser):
    """A blank page (no app), to mount one of the app's components in as Streamlit does."""
    page = browser.new_page(viewport={"width": 1500, "height": 900})
    page.goto("about:blank")
    yield page
    page.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """Base URL of `streamlit run streamlit_app.py`, with runs kept in a temp folder."""
    workdir = tmp_path_factory.mktemp("app_server")
    server = StreamlitServer(runs_dir=workdir / "runs", log_path=workdir / "streamlit.log").start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A `streamlit run` server and its run store (a temp folder), for tests that make runs directly."""
    from types import SimpleNamespace

    from backprop.runs import RunStore

    workdir = tmp_path_factory.mktemp("app")
    server = StreamlitServer(runs_dir=workdir / "runs", log_path=workdir / "streamlit.log").start()
    try:
        yield SimpleNamespace(url=server.url, store=RunStore(workdir / "runs"), server=server)
    finally:
        server.stop()
