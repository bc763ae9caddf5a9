"""Keep every screen inside the app frame that streamlit_app.py builds.

Until some script run has called st.navigation, Streamlit runs a server that has a
pages/ folder the older way: a request for /draw runs pages/draw.py on its own,
without the entry point's page setup and navigation. That happens for a fresh
server's first request when it is a deep link, and in an AppTest of one page.
A page that finds itself unframed runs the entry point in the same run, which keeps
that run's widget events (a click is not lost to a rerun) and shows the real frame:
when the navigation chose this very page (a deep link), the entry point runs it
framed and the unframed run stops there; otherwise (an AppTest of one page, which
no link names) the entry point only builds the frame and the page goes on.
The browser test ``test_a_fresh_server_runs_a_deep_link_without_the_entry_point``
fails the day Streamlit stops doing this, and this module can go.
"""

from __future__ import annotations

import contextvars
import logging
import runpy
from pathlib import Path

import streamlit as st

from .training import wait_for_training

ENTRY_POINT = Path(__file__).resolve().parent.parent / "streamlit_app.py"
UNFRAMED_MESSAGE = "a page ran without the app frame; running streamlit_app.py around it"
_log = logging.getLogger("backprop.frame")
_framed = contextvars.ContextVar("backprop_framed", default=False)
# While an unframed page runs the entry point around itself: that page's file name.
_unframed_page = contextvars.ContextVar("backprop_unframed_page", default=None)
# Whether the entry point, run around an unframed page, ran that page itself.
_ran_it = contextvars.ContextVar("backprop_ran_unframed_page", default=False)


def show(page, page_file: str) -> None:
    """Run the navigation's current page inside the frame (called by streamlit_app.py).

    page_file: its file name in pages/. Around a page that runs the entry point for its frame,
    only that same page runs here; any other choice of the navigation is left alone.
    """
    unframed = _unframed_page.get()
    if unframed is not None and unframed != page_file:
        return
    if unframed is not None:
        _ran_it.set(True)
    token = _framed.set(True)
    wait_for_training()  # a click that stopped a training: the page starts from what it kept
    try:
        page.run()
    finally:
        _framed.reset(token)


def inside_app_frame(page_file: str) -> None:
    """At the top of every page (``inside_app_frame(__file__)``): when Streamlit started the page on its
    own, run streamlit_app.py around it; stop here if that ran this page framed already."""
    if _framed.get():
        return
    _log.warning(UNFRAMED_MESSAGE)
    token = _unframed_page.set(Path(page_file).name)
    ran = _ran_it.set(False)
    try:
        runpy.run_path(str(ENTRY_POINT), run_name="__main__")
        done = _ran_it.get()
    finally:
        _unframed_page.reset(token)
        _ran_it.reset(ran)
    if done:
        st.stop()
