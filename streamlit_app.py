"""Entry point: page setup and navigation. Run with `streamlit run streamlit_app.py`."""

import streamlit as st

from ui.blas import use_one_blas_thread
from ui.frame import show
from ui.memory import freeze_imports
from ui.navigation import file_of, navigation

freeze_imports()  # the imports are not walked again by the collection after every run

st.set_page_config(page_title="Backprop Visualizer", page_icon=":material/hub:", layout="wide")
use_one_blas_thread()  # the app's products are small: one thread each does them sooner (ui/blas.py)

current_page = st.navigation(navigation())

with st.sidebar:
    st.caption("A from-scratch NumPy network, shown one number at a time.")

show(current_page, file_of(current_page))
