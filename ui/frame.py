"""Keep every screen inside the app frame that streamlit_app.py builds.

Until some script run has called st.navigation, Streamlit runs a server that has a
pages/ folder the older way: a request for /draw runs pages/draw.py on its own,
without the entry point's page setup and navigation. That happens for a fresh
server's first request when it is a deep link, and in an AppTest of one page.
The entry point marks the runs it frames; a page that finds itself unframed runs
the entry point in the same run, which keeps that run's widget events (a click is
not lost to a rerun) and shows the real frame. The browser test
``test_a_fresh_server_runs_a_deep_link_without_the_entry_point`` fails the day
Streamlit stops doing this, and this module can go.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import runpy
from pathlib import Path

import streamlit as st

ENTRY_POINT = Path(__file__).resolve().parent.parent / "streamlit_app.py"
PAGES_DIR = ENTRY_POINT.parent / "pages"
UNFRAMED_MESSAGE = "a page ran without the app frame; running streamlit_app.py around it"
_framed = contextvars.ContextVar("backprop_app_frame", default=False)
# The page file Streamlit started on its own, while the entry point runs around it.
_started = contextvars.ContextVar("backprop_started_page", default=None)
_log = logging.getLogger("backprop.frame")


def page_file(name: str) -> Path:
    """The absolute path of a screen's file ("draw.py"). Relative paths would be resolved against the
    script Streamlit started, which is a page itself when this module frames it (and in an AppTest)."""
    return PAGES_DIR / name


def run_framed(page) -> None:
    """Run the navigation's current page, marked as inside the frame (called by streamlit_app.py)."""
    started = _started.get()
    token = _framed.set(True)
    try:
        if started is not None and started.stem != (page.url_path or "home"):
            # An AppTest of one page asks for no page by name, so the navigation falls back to
            # the default; the page that was started is the one to show.
            runpy.run_path(str(started), run_name="__main__")
        else:
            page.run()
    finally:
        _framed.reset(token)


def inside_app_frame() -> None:
    """At the top of every page: run through streamlit_app.py when Streamlit started the page on its own."""
    if not _framed.get():
        _log.warning(UNFRAMED_MESSAGE)
        caller = inspect.currentframe().f_back.f_globals.get("__file__")
        token = _started.set(Path(caller).resolve() if caller else None)
        try:
            runpy.run_path(str(ENTRY_POINT), run_name="__main__")
        finally:
            _started.reset(token)
        st.stop()
