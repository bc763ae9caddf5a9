"""Small reports drawn in the browser from plain data: an ``st.components.v2`` component for a titled
table whose cells are text and bars (``viz.tables.table``), or a row of grey pictures with their
captions (``viz.tables.pictures``).

Its HTML, CSS and JavaScript are the files beside this one (no build step). Every text is written as
text: no HTML is sent, so the browser has nothing to sanitise or parse, and a class name or a caption
can never be read as markup. Mounted under one key, the report keeps its element from one drawing or
model to the next and is redrawn in place. The pictures travel as their bytes (``viz.encoding.pack``).
"""

from __future__ import annotations

from pathlib import Path

from viz.encoding import pack

from ..components import from_files

ASSETS = Path(__file__).resolve().parent
NAME = "backprop.report_view"

_mount = from_files(NAME, ASSETS, "report_view", packed=True)


def report_view(report: dict, key: str) -> None:
    """Mount the report ``viz.tables.table`` or ``viz.tables.pictures`` made."""
    _mount(key=key, data=pack(report))
