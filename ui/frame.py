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
import logging
import runpy
from pathlib import Path

import streamlit as st

ENTRY_POINT = Path(__file__).resolve().parent.parent / "streamlit_app.py"
UNFRAMED_MESSAGE = "a page ran without the app frame; running streamlit_app.py around it"
_framed = contextvars.ContextVar("backprop_app_frame", default=False)
_log = logging.getLogger("backprop.frame")


def run_framed(page) -> None:
    """Run the navigation's current page, marked as inside the frame (called by streamlit_app.py)."""
    token = _framed.set(True)
    try:
        page.run()
    finally:
        _framed.reset(token)


def inside_app_frame() -> None:
    """At the top of every page: run through streamlit_app.py when Streamlit started the page on its own."""
    if not _framed.get():
        _log.warning(UNFRAMED_MESSAGE)
        runpy.run_path(str(ENTRY_POINT), run_name="__main__")
        st.stop()
