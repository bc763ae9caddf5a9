"""The app's own ``st.components.v2`` components, each a folder of HTML, CSS and JavaScript
(no build step) with a Python module that mounts it: the step player, the drawing canvas,
the map view, the curve view, the table view and the report view."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# How a packed component reads its data (``viz.encoding.pack``): ``unpack``, put before its JavaScript.
PACKED_JS = Path(__file__).resolve().parent / "packed.js"


def script(folder: Path, stem: str, *, packed: bool = False) -> str:
    """The JavaScript of the component in ``folder``/``stem``.js, after ``unpack`` when it is ``packed``."""
    js = (folder / f"{stem}.js").read_text(encoding="utf-8")
    return PACKED_JS.read_text(encoding="utf-8") + "\n" + js if packed else js


def from_files(name: str, folder: Path, stem: str, *, packed: bool = False):
    """Register component ``name`` from ``folder``/``stem``.html, .css and .js; returns its mount command.

    packed: the component is sent ``viz.encoding.pack`` messages, and its JavaScript may call
    ``unpack`` (ui/packed.js) to read them."""
    return st.components.v2.component(
        name,
        html=(folder / f"{stem}.html").read_text(encoding="utf-8"),
        css=(folder / f"{stem}.css").read_text(encoding="utf-8"),
        js=script(folder, stem, packed=packed),
    )
