"""What the packed views (``ui.map_view``, ``ui.curve_view``, ``ui.report_view``) are sent: their payloads' arrays, and their
data on a page in AppTest."""

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


def packed_data(app, component: str) -> list[dict]:
    """The data of each ``component`` (a packed view's name) on the page, as the view unpacks the
    message it is sent."""
    return [unpack(e.proto.bytes) for e in app.get("bidi_component") if e.proto.component_name == component]


def drawn_maps(app) -> list[dict]:
    """The data of each map view on the page."""
    return packed_data(app, "backprop.map_view")


def reports(app) -> list[dict]:
    """The data of each report view (a table or pictures) on the page."""
    return packed_data(app, "backprop.report_view")


def table_text(report: dict) -> list[list[str]]:
    """A report's table, each row as the text of each cell (its parts' texts, joined)."""
    return [["".join(part["text"] for part in cell) for cell in row] for row in report["rows"]]
