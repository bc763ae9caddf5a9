"""What the map view (``ui.map_view``) is sent: its payloads' arrays, and its data on a page in AppTest."""

from __future__ import annotations

import numpy as np

from viz.encoding import unpack


def sent(array: np.ndarray, dtype) -> np.ndarray:
    """A payload's array as the view receives it: of ``dtype`` exactly, its values in C order."""
    assert isinstance(array, np.ndarray) and array.dtype == dtype, (
        type(array),
        getattr(array, "dtype", None),
    )
    return array.ravel()


def drawn_maps(app) -> list[dict]:
    """The data of each map view on the page, as the view unpacks the message it is sent."""
    return [
        unpack(e.proto.bytes)
        for e in app.get("bidi_component")
        if e.proto.component_name == "backprop.map_view"
    ]
