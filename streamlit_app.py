"""Entry point: page setup and navigation. Run with `streamlit run streamlit_app.py`."""

import streamlit as st

from ui.frame import page_file, run_framed

st.set_page_config(page_title="Backprop Visualizer", page_icon=":material/hub:", layout="wide")

# The one list of screens, in menu order, grouped into sidebar sections.
PAGES = {
    "Overview": [st.Page(page_file("home.py"), title="Home", icon=":material/home:", default=True)],
    "Inside a network": [
        st.Page(
            page_file("step_through.py"),
            title="Step through",
            icon=":material/footprint:",
            url_path="step_through",
        ),
    ],
    "Training runs": [
        st.Page(page_file("runs.py"), title="Runs", icon=":material/model_training:", url_path="runs"),
        st.Page(
            page_file("compare.py"),
            title="Compare runs",
            icon=":material/compare_arrows:",
            url_path="compare",
        ),
    ],
    "Data and drawing": [
        st.Page(
            page_file("sequences.py"), title="Sequences", icon=":material/timeline:", url_path="sequences"
        ),
        st.Page(page_file("draw.py"), title="Draw & predict", icon=":material/draw:", url_path="draw"),
    ],
}

current_page = st.navigation(PAGES)

with st.sidebar:
    st.caption("A from-scratch NumPy network, shown one number at a time.")

run_framed(current_page)
