"""The pieces of a ``ui.curve_view`` payload: curves and the panels that hold them.

A payload is {"title", "x_title", "x_integer", "height", "panels": [panel, …], "legend": [entry, …]};
a legend entry is {"label", "group", "color", "dash", "opacity"} (a ``group`` entry hides and shows
the curves of that group; ``dash`` "band" draws a filled swatch). The Runs and Compare pages'
payloads are built in ``viz.runs``, the Sequences page's in ``viz.sequences``.
"""

from __future__ import annotations

import numpy as np

from .axes import accuracy_range

# Curves with at most this many points mark each one; longer curves are plain lines (a line through
# that many points shows where they are).
MARKERS_UP_TO = 12


def curve(
    name: str,
    group: str | None,
    xs,
    ys,
    color: str,
    dash: str = "solid",
    width: float = 2,
    opacity: float = 1.0,
) -> dict:
    """One curve: its x and y as float64 arrays (NaN leaves a gap; ``ui.curve_view`` packs them, so the
    readout shows the numbers as saved), named for the readout."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    return dict(
        name=name,
        group=group,
        color=color,
        dash=dash,
        width=width,
        opacity=opacity,
        markers=len(xs) <= MARKERS_UP_TO,
        x=xs,
        y=ys,
    )


def panel(title: str, series: list[dict], *, y_title: str = "", log: bool = False, **more) -> dict:
    """A panel of curves; ``more`` sets percent (a 0–1 axis read in %), range and step (a fixed y
    axis and its tick step), ceilings ([{"label", "value", "dash"}], labelled lines across) and
    empty (what the panel says while it has no point to draw)."""
    return (
        dict(
            title=title,
            y_title=y_title,
            log=bool(log),
            percent=False,
            range=None,
            step=None,
            ceilings=[],
            empty=None,
            series=series,
        )
        | more
    )


def accuracy_panel(title: str, series: list[dict], values, ceilings, **more) -> dict:
    """A panel of accuracies (0–1, read in %) with its ceilings [(label, value, dash)]: each drawn as a
    line labelled "label 91.2%", and the y axis spanning the ``values`` and the ceilings
    (``viz.axes.accuracy_range``) when there are any, so the gap to a ceiling reads."""
    accuracy = panel(title, series, y_title="accuracy", percent=True, **more)
    if ceilings:
        low, high, step = accuracy_range(values or [np.nan], [value for _, value, _ in ceilings])
        accuracy.update(
            range=[low, high],
            step=step,
            ceilings=[
                dict(label=f"{label} {value:.1%}", value=float(value), dash=dash)
                for label, value, dash in ceilings
            ],
        )
    return accuracy


def legend_entry(
    label: str, color: str, group: str | None = None, dash: str = "solid", opacity: float = 1.0
) -> dict:
    """One entry of the legend: a swatch in the curves' style and its label; with a ``group`` it hides
    and shows that group's curves."""
    return dict(label=label, group=group, color=color, dash=dash, opacity=opacity)
