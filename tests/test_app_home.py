"""The entry point routes to the home page and renders it without errors."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def run_app():
    return AppTest.from_file(APP, default_timeout=30).run()


def test_home_page_renders_title_without_exception():
    at = run_app()

    assert not at.exception
    assert [title.value for title in at.title] == ["Backprop Visualizer"]


def test_home_page_says_it_trains_nothing_on_open():
    at = run_app()

    assert any("trains nothing" in box.value for box in at.info)
