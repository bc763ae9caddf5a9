"""Curves drawn in the browser: an ``st.components.v2`` component for the runs' loss and accuracy
curves, the per-layer distributions and the gradient norms, in panels side by side, with a legend
that hides or shows a run, the value of the point under the pointer, and zoom on the x axis.

Its HTML, CSS and JavaScript are the files beside this one (no build step). It is fed
``viz.runs.compare_curves``, ``distribution_curves`` or ``grad_norm_curves``; mounted under one
key, it keeps its element when the data changes and redraws in place (Streamlit makes a plotly
chart's identity from its figure, so a changed figure is a new element, which the browser builds
from scratch). What the user did in the view (the zoom, the runs hidden from the legend) stays
while the curves change, unless the x axis changes.
"""

from __future__ import annotations

from pathlib import Path

from viz.encoding import pack

from ..components import from_files

ASSETS = Path(__file__).resolve().parent
NAME = "backprop.curve_view"

_mount = from_files(NAME, ASSETS, "curve_view", packed=True)


def curve_view(payload: dict, key: str) -> None:
    """Mount the view with a payload of ``viz.runs`` or ``viz.sequences``, sent as one binary message
    (``viz.encoding.pack``): each curve's x and y as their float64 bytes."""
    _mount(key=key, data=pack(payload))
