"""Streamlit glue shared by the pages: session state, the setup controls, cached datasets."""
