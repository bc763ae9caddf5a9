"""A table to pick a row from, drawn in the browser: an ``st.components.v2`` component.

Its HTML, CSS and JavaScript are the files beside this one (no build step). Only the rows in view
are in the page, so a table of thousands of rows is as quick as a short one; mounted under one key
it keeps its element when its rows change and redraws in place. A click on a row (or ↑ ↓, Page Up,
Page Down, Home, End in the table) picks it: ``on_pick`` is called at the start of the run that
causes, with the row's index in ``st.session_state[key]["row"]``.
"""

from __future__ import annotations

from pathlib import Path

from ..components import from_files

ASSETS = Path(__file__).resolve().parent
NAME = "backprop.table_view"
KINDS = ("text", "mono", "number")

_mount = from_files(NAME, ASSETS, "table_view")


def table_view(
    columns: list[str],
    rows: list[list],
    *,
    key: str,
    label: str,
    selected: int | None,
    on_pick,
    kinds: list[str] | None = None,
    widths: list[str | None] | None = None,
    height: int = 240,
) -> None:
    """Mount the table: ``rows`` of cell values (shown as text) under ``columns``; ``label`` names it
    for screen readers; ``kinds`` per column: "text", "mono" (monospace) or "number" (right-aligned);
    ``widths`` per column (CSS widths, None for what is left); ``selected`` is the row shown picked."""
    kinds = list(kinds or ["text"] * len(columns))
    if len(kinds) != len(columns) or any(kind not in KINDS for kind in kinds):
        raise ValueError(f"kinds {kinds!r}: give one of {', '.join(KINDS)} per column ({len(columns)})")
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"every row needs {len(columns)} values, one per column {columns!r}")
    _mount(
        key=key,
        data={
            "columns": list(columns),
            "rows": rows,
            "kinds": kinds,
            "widths": list(widths) if widths else None,
            "selected": selected,
            "label": label,
            "height": int(height),
        },
        on_row_change=on_pick,
    )
