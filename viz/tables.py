"""Small views that are a few numbers, as HTML tables: every number written out, cheap for the
browser to redraw (a plotly chart costs tens of milliseconds each time its data changes).

Cells are HTML made by the caller, which escapes any text it puts in them (``html.escape``).
"""

from __future__ import annotations

import html

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


def bar_html(share: float | None, color: str, width_em: float = 7.0) -> str:
    """A bar as long as ``share`` (0 to 1) of ``width_em``, its percentage beside it, the exact value on
    hover; None: an empty bar and a dash (no value yet)."""
    filled = 0.0 if share is None else 100 * min(max(share, 0.0), 1.0)
    title, text = ("no value", "—") if share is None else (f"{share:.6g}", f"{share:.1%}")
    return (
        f'<span title="{title}" style="display:inline-flex;align-items:center;gap:6px">'
        f'<span style="display:inline-block;width:{width_em}em;height:0.9em;background:#f0f0f0;'
        f'border-radius:2px"><span style="display:block;width:{filled:.1f}%;height:100%;'
        f'background:{color};border-radius:2px"></span></span>'
        f'<span style="font-family:monospace;min-width:4.2em;text-align:right">{text}</span></span>'
    )
