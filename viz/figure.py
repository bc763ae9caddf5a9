"""The figures of the Runs, Compare, Sequences and Draw pages are built here from plain trace and layout
dicts (the Step page's task views are small plotly figures built the usual way, with the same template).

``go.Figure(..., _validate=False)`` skips plotly's per-property validation, which for a few hundred
points costs more than the numbers themselves (15–25 ms a figure, on every run of a page). The
template is "none": Streamlit draws every chart in its own theme, so plotly's default template
(about 9 KB of JSON that the browser then merges into the chart at each redraw) changes nothing
that is shown.
"""

from __future__ import annotations

import plotly.graph_objects as go

PLAIN = "none"


def figure(data: list, layout: dict) -> go.Figure:
    """A figure of ``data`` (trace dicts) and ``layout`` (a dict), without the plotly template."""
    return go.Figure(dict(data=data, layout={"template": PLAIN, **layout}), _validate=False)
