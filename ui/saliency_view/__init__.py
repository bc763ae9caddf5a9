"""The saliency view: an ``st.components.v2`` component that draws the model input and dP/dx
laid over it, with its colour legend and the values of the pixel under the pointer.

Its HTML, CSS and JavaScript are the files beside this one (no build step). It is fed
``viz.draw.saliency_payload``; mounted under one key, it keeps its element from one
drawing to the next and redraws in place (a changed plotly figure is a new element
for Streamlit, which the browser builds from scratch).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ASSETS = Path(__file__).resolve().parent
NAME = "backprop.saliency_view"

_mount = st.components.v2.component(
    NAME,
    html=(ASSETS / "view.html").read_text(encoding="utf-8"),
    css=(ASSETS / "view.css").read_text(encoding="utf-8"),
    js=(ASSETS / "view.js").read_text(encoding="utf-8"),
)


def saliency_view(payload: dict, key: str) -> None:
    """Mount the view with one drawing's ``viz.draw.saliency_payload``."""
    _mount(key=key, data=payload)
