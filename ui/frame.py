"""Keep every screen inside the app frame that streamlit_app.py builds."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def inside_app_frame() -> None:
    """Rerun through streamlit_app.py when a page was started without it.

    A server whose first request is a deep link (/draw) runs that page the old
    folder-based way, without the entry point's page setup and navigation,
    until some run has called st.navigation. Switching that mode off and
    rerunning sends the same URL through the entry point instead.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
