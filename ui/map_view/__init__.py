"""Maps drawn in the browser: an ``st.components.v2`` component for the saliency map, a layer's
feature maps and the dense layers' activations (on the app's one signed colour scale), a confusion
matrix and a sequence model's probabilities per training window (on the scale for values from 0
up), with their legends and the values of the cell under the pointer.

Its HTML, CSS and JavaScript are the files beside this one (no build step). It is fed
``viz.draw.saliency_payload``, ``feature_maps_payload``, ``activations_payload``,
``confusion_payload`` or ``viz.sequences.probability_payload``; mounted under one key, it keeps
its element from one drawing to the next and redraws in place (Streamlit makes a plotly chart's
identity from its figure, so a changed figure is a new element, which the browser builds from
scratch). The payload goes as one binary message (``viz.encoding.pack``): its arrays as their own
bytes, which the view reads as typed arrays without decoding or parsing them.
"""

from __future__ import annotations

from pathlib import Path

from viz.encoding import pack

from ..components import from_files

ASSETS = Path(__file__).resolve().parent
NAME = "backprop.map_view"

_mount = from_files(NAME, ASSETS, "map_view", packed=True)


def map_view(payload: dict, key: str) -> None:
    """Mount the view with a payload of ``viz.draw`` (its ``layout`` says which view it is)."""
    _mount(key=key, data=pack(payload))
