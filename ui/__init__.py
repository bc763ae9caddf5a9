"""Streamlit glue shared by the pages: session state, the setup sidebar, cached datasets."""
