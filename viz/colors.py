"""The one colour convention for signed values: blue negative, white 0, red positive.

ColorBrewer's RdBu, reversed, centred on 0. Plotly figures take ``COLORSCALE``,
images the 256-entry lookup table ``LUT`` (index 0 is −limit, 255 is +limit), and
the step player's JavaScript gets ``LUT`` in its payload rather than spelling the
colours again, so every page and the player draw the same value in the same colour.
"""

from __future__ import annotations

import numpy as np

STOPS = np.array(
    [
        [5, 48, 97],
        [33, 102, 172],
        [67, 147, 195],
        [146, 197, 222],
        [209, 229, 240],
        [247, 247, 247],
        [253, 219, 199],
        [244, 165, 130],
        [214, 96, 77],
        [178, 24, 43],
        [103, 0, 31],
    ],
    dtype=np.float64,
)
# plotly.js has no "RdBu_r" name: figures get the stops as an explicit list.
COLORSCALE = [
    [k / (len(STOPS) - 1), "rgb({:.0f},{:.0f},{:.0f})".format(*stop)] for k, stop in enumerate(STOPS)
]


def _lut(stops: np.ndarray) -> np.ndarray:
    """(256, 3) uint8: the colours of ``stops`` (evenly spaced) interpolated over 256 entries."""
    positions = np.linspace(0, 1, len(stops))
    return (
        np.stack([np.interp(np.linspace(0, 1, 256), positions, stops[:, c]) for c in range(3)], axis=1)
        .round()
        .astype(np.uint8)
    )


LUT = _lut(STOPS)
# Text that reads a signed change (a change in probability, say): the scale's strong red and blue.
UP, DOWN = ("#{:02x}{:02x}{:02x}".format(*map(int, STOPS[k])) for k in (9, 1))
# Counts (a confusion matrix): light to dark blue from 0 to the largest count; not signed, so not
# the diverging scale. Index 0 is 0, 255 the largest count.
COUNT_STOPS = np.array([[247, 251, 255], [107, 174, 214], [8, 48, 107]], dtype=np.float64)
COUNT_LUT = _lut(COUNT_STOPS)
NAN_RGB = (120, 120, 120)
# Where the step is: forward (and the selected cell), backward, update. None of them is a colour of
# the scale, so a highlight never reads as a value.
ACCENTS = {"forward": "#f08c00", "backward": "#7048e8", "update": "#2b8a3e"}
ACCENT = ACCENTS["forward"]


def lut_index(values: np.ndarray, limit: float) -> np.ndarray:
    """Index into LUT of each value on the scale ±limit (clipped; NaN maps to the middle)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    return np.clip((values / limit + 1.0) * 127.5, 0, 255).astype(np.uint8)
