"""The app's own ``st.components.v2`` components, each a folder of HTML, CSS and JavaScript
(no build step) with a Python module that mounts it: the step player, the drawing canvas,
the map view, the curve view and the table view."""

from __future__ import annotations

from pathlib import Path

import streamlit as st


def from_files(name: str, folder: Path, stem: str):
    """Register component ``name`` from ``folder``/``stem``.html, .css and .js; returns its mount command."""
    return st.components.v2.component(
        name,
        html=(folder / f"{stem}.html").read_text(encoding="utf-8"),
        css=(folder / f"{stem}.css").read_text(encoding="utf-8"),
        js=(folder / f"{stem}.js").read_text(encoding="utf-8"),
    )
