"""Small views that are a few numbers or pictures: every number written out, cheap for the browser to
redraw (a plotly chart costs tens of milliseconds each time its data changes).

``table`` and ``pictures`` are plain data for ``ui.report_view``, which writes every text as text: a
table's cells are lists of parts, ``text`` and ``bar``. ``table_html`` and ``bar_html`` make the same
table as HTML, for ``st.html``; their cells are HTML made by the caller, which escapes any text it puts
in them (``html.escape``).
"""

from __future__ import annotations

import html

import numpy as np

CELL = "padding:2px 4px;text-align:center;vertical-align:middle"


def table_html(title: str, head: list[str], rows: list[list[str]], note: str = "") -> str:
    """A titled table of ready-made cells, and a note under it. ``title`` is text (escaped here)."""
    head_row = "".join(f'<th style="{CELL};font-weight:400">{cell}</th>' for cell in head)
    body = "".join(
        "<tr>" + "".join(f'<td style="{CELL}">{cell}</td>' for cell in row) + "</tr>" for row in rows
    )
    caption = f'<div style="font-size:0.8em;color:#555;margin-top:4px">{note}</div>' if note else ""
    return (
        f'<div style="font-weight:600;margin:4px 0 6px">{html.escape(title)}</div>'
        f'<table style="border-collapse:collapse;font-size:0.9em">'
        f"<thead><tr>{head_row}</tr></thead><tbody>{body}</tbody></table>{caption}"
    )


def _bar_texts(share: float | None) -> tuple[float, str, str]:
    """(the part of the bar filled, 0 to 1; the exact value on hover; the percentage beside the bar)."""
    if share is None:
        return 0.0, "no value", "—"
    return min(max(share, 0.0), 1.0), f"{share:.6g}", f"{share:.1%}"


def bar_html(share: float | None, color: str, width_em: float = 7.0) -> str:
    """A bar as long as ``share`` (0 to 1) of ``width_em``, its percentage beside it, the exact value on
    hover; None: an empty bar and a dash (no value yet)."""
    filled, title, text = _bar_texts(share)
    filled *= 100
    return (
        f'<span title="{title}" style="display:inline-flex;align-items:center;gap:6px">'
        f'<span style="display:inline-block;width:{width_em}em;height:0.9em;background:#f0f0f0;'
        f'border-radius:2px"><span style="display:block;width:{filled:.1f}%;height:100%;'
        f'background:{color};border-radius:2px"></span></span>'
        f'<span style="font-family:monospace;min-width:4.2em;text-align:right">{text}</span></span>'
    )


# ---------------------------------------------------------------- plain data for ui.report_view
def text(value, *, bold: bool = False, mono: bool = False, color: str | None = None) -> dict:
    """A part of a cell: ``value`` written as text, in bold, monospace or a colour of its own if asked."""
    part = {"text": str(value)}
    if bold:
        part["bold"] = True
    if mono:
        part["mono"] = True
    if color:
        part["color"] = color
    return part


def bar(share: float | None, color: str, width_em: float = 7.0) -> dict:
    """A part of a cell: a bar as long as ``share`` (0 to 1) of ``width_em``, its percentage beside it,
    the exact value on hover; None: an empty bar and a dash (no value yet)."""
    filled, title, shown = _bar_texts(share)
    return {"bar": filled, "color": color, "width": float(width_em), "title": title, "text": shown}


ALIGNS = ("left", "center", "right")


def table(
    title: str, head: list[str], rows: list[list], note: str = "", align: list[str] | None = None
) -> dict:
    """A titled table for ``ui.report_view``: ``head`` names each column, each row has a cell per column,
    a cell is a part (``text``, ``bar``) or a list of parts; ``note`` is written under it. ``align``: each
    column's alignment, one of ``ALIGNS`` (all centred when not given)."""
    cells = [[cell if isinstance(cell, list) else [cell] for cell in row] for row in rows]
    if any(len(row) != len(head) for row in cells):
        raise ValueError(f"every row of the table {title!r} needs {len(head)} cells, one per column {head!r}")
    align = list(align or ["center"] * len(head))
    if len(align) != len(head) or any(side not in ALIGNS for side in align):
        raise ValueError(f"align {align!r}: give one of {', '.join(ALIGNS)} per column ({len(head)})")
    return {
        "kind": "table",
        "title": str(title),
        "head": [str(name) for name in head],
        "align": align,
        "rows": cells,
        "note": str(note),
    }


def pictures(images, captions, width: int, note: str = "") -> dict:
    """Grey pictures side by side for ``ui.report_view``, each with its caption (text) under it.

    images: uint8 2-D arrays, each drawn ``width`` CSS pixels wide with square, unsmoothed pixels; they
    travel as their bytes. ``note`` is written above them (with no pictures: what will appear there).
    """
    images = [np.asarray(image) for image in images]
    captions = [str(caption) for caption in captions]
    if len(images) != len(captions):
        raise ValueError(f"{len(images)} pictures and {len(captions)} captions: give one caption per picture")
    for image in images:
        if image.dtype != np.uint8 or image.ndim != 2 or 0 in image.shape:
            raise ValueError(
                f"a picture is a 2-D uint8 array of grey levels, got {image.dtype} {image.shape}"
            )
    return {
        "kind": "pictures",
        "width": int(width),
        "images": images,
        "shapes": [list(image.shape) for image in images],
        "captions": captions,
        "note": note,
    }
