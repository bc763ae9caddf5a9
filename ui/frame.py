"""Keep every screen inside the app frame that streamlit_app.py builds."""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

ENTRY_POINT = Path(__file__).resolve().parent.parent / "streamlit_app.py"


def inside_app_frame() -> None:
    """Run the page through streamlit_app.py when it was started without it.

    Until some run has called st.navigation, Streamlit treats a folder named
    pages/ the old way and runs a requested page on its own, without the entry
    point's page setup and navigation; that happens for a fresh server's first
    request when it is a deep link (/draw), and in every AppTest run. Running
    the entry point here, in the same run, keeps that run's widget events
    (a button click is not lost to a rerun) and shows the real frame.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(ENTRY_POINT), run_name="__main__")
        st.stop()
