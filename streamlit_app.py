"""Entry point: page setup and navigation. Run with `streamlit run streamlit_app.py`."""

from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).parent


def page_if_present(path, **options):
    """An st.Page for `path`, or None while that screen is not in this checkout."""
    return st.Page(path, **options) if (APP_DIR / path).is_file() else None


st.set_page_config(page_title="Backprop Visualizer", page_icon=":material/hub:", layout="wide")

# The one list of screens, in menu order, grouped into sidebar sections.
PAGES = {
    "Overview": [
        page_if_present("pages/home.py", title="Home", icon=":material/home:", default=True),
    ],
    "Inside a network": [
        page_if_present(
            "pages/step_through.py",
            title="Step through",
            icon=":material/footprint:",
            url_path="step_through",
        ),
    ],
    "Training runs": [
        page_if_present("pages/runs.py", title="Runs", icon=":material/model_training:", url_path="runs"),
        page_if_present(
            "pages/compare.py", title="Compare runs", icon=":material/compare_arrows:", url_path="compare"
        ),
    ],
    "Data and drawing": [
        page_if_present(
            "pages/sequences.py", title="Sequences", icon=":material/timeline:", url_path="sequences"
        ),
        page_if_present("pages/draw.py", title="Draw & predict", icon=":material/draw:", url_path="draw"),
    ],
}

current_page = st.navigation(
    {section: present for section, pages in PAGES.items() if (present := [p for p in pages if p])}
)

with st.sidebar:
    st.caption("A from-scratch NumPy network, shown one number at a time.")

current_page.run()
