"""Axes shared by the figures: accuracy ranges that show how far a curve is from its ceiling, and margins
that hold what sits in them (the ticks of the runs' curves, log axes among them, are chosen in the
browser by ``ui/curve_view``, as the view zooms).

Plotly widens a margin too small for its tick labels, axis title, legend or colour bar and then lays
the whole chart out a second time, at every redraw: about a third of what a changed chart costs the
browser. The margin helpers below are generous estimates, so that pass never happens.
"""

from __future__ import annotations

import math

import numpy as np

CHAR_PX = 7.5  # one character of the 12 px chart font, rounded up (digits and most letters)
TICK_ROW = 45  # a row of x tick labels under the plot
AXIS_TITLE = 40  # an axis title beside its tick labels
LEGEND_ROW = 48  # a row of a horizontal legend
COLOR_BAR = 100  # a colour bar right of the plot: the bar, its tick labels and a title along it


def text_px(texts, size: int = 12) -> int:
    """Pixels the longest of ``texts`` takes at ``size`` px, rounded up (it decides a margin)."""
    longest = max((len(str(text)) for text in texts), default=0)
    return math.ceil(longest * CHAR_PX * size / 12)


def left_margin(tick_labels, title: bool = False, size: int = 12) -> int:
    """A left margin that holds a y axis's tick labels, and its title when ``title``."""
    return 28 + text_px(tick_labels, size) + (AXIS_TITLE if title else 0)


def accuracy_range(values, ceilings=()) -> tuple[float, float, float]:
    """(low, high, tick step) of an accuracy axis that spans the curves and the ceilings: from just
    below the lowest value (a multiple of the step) to just above 100%, so the gap to a ceiling reads.

    values: numbers, or curves (arrays) of any lengths, one per run.
    """
    finite = [
        float(v) for curve in values for v in np.ravel(np.asarray(curve, dtype=float)) if np.isfinite(v)
    ]
    finite += [float(c) for c in ceilings if c is not None and np.isfinite(c)]
    lowest = min(finite) if finite else 0.0
    step = 0.05 if lowest >= 0.6 else 0.1
    low = max(0.0, math.floor((lowest - 0.02) / step) * step)
    return low, 1.0 + step * 0.4, step


def legend_below(height: int, top: int, bottom: int, gap: int = 58) -> dict:
    """A horizontal legend ``gap`` pixels under the plotting area (clear of the x axis's title) of a
    figure ``height`` pixels tall with margins ``top`` and ``bottom``."""
    return dict(orientation="h", x=0, xanchor="left", y=-gap / max(height - top - bottom, 1), yanchor="top")
