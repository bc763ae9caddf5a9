"""The drawing canvas: an ``st.components.v2`` component, white strokes on black.

Its HTML, CSS and JavaScript are the files beside this one (no build step). The
browser draws each stroke as the pointer moves, and sends the drawing the moment the
stroke ends, as the state value ``drawing``: {"strokes": [[width, [x0, y0, x1, y1, …]], …],
"png": the canvas's pixels as a PNG data URL, or None when it is empty}. Undo, redo
(buttons, Ctrl+Z, Ctrl+Shift+Z) and Clear run in the browser and send the drawing they
leave; Clear is a step of the history, so Undo brings the drawing back.

A picture can be opened on the canvas too (its *Picture…* button, or a file dropped on
it): the browser reads the file and sends it once, as the trigger value ``picture``
({"name", "data": a base64 data URL}); *Back to drawing* sends {"remove": true}. While
the page gives the canvas a picture to show (what the model reads, with a status line and
a menu of how to read its ink, which sends the trigger value ``ink``), the canvas shows it
instead of the strokes, which it keeps.

What the browser sends is read with ``read_drawing`` and ``read_picture``, which hold it
to the bounds below, as any input from a browser is held.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backprop import limits
from datasets import drawing

from ..components import from_files

ASSETS = Path(__file__).resolve().parent
NAME = "backprop.draw_canvas"
MAX_STROKES = 2000
MAX_COORDINATES = 400_000  # over all strokes: x and y of 200,000 points
WIDTHS = (1, 100)  # a stroke's width in pixels read from the browser, wider than the control allows
PEN_WIDTHS = (4, 40)  # the canvas's Stroke width control, in canvas pixels
PEN_WIDTH = 18  # its value until the user moves it
MAX_NAME = 200  # characters of a picture's file name kept (the rest is cut)
PICTURE_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?;base64,")

_mount = from_files(NAME, ASSETS, "canvas")


@dataclass(frozen=True)
class Drawing:
    """What the canvas holds: its strokes (to give back to a new canvas) and its pixels, (side, side, 4)
    uint8 RGBA, or None when it is empty."""

    strokes: list
    image: np.ndarray | None


@dataclass(frozen=True)
class PictureFile:
    """A picture file opened on the canvas: its name as the browser gave it (cut to ``MAX_NAME``
    characters) and its bytes, not yet decoded."""

    name: str
    data: bytes


def drawing_canvas(
    key: str,
    side: int,
    stroke_width: int,
    strokes: list | None,
    on_change,
    *,
    picture: dict | None,
    on_picture,
    on_ink,
    on_width,
    max_bytes: int,
) -> None:
    """Mount the canvas, side×side pixels, drawing strokes ``stroke_width`` wide until its own
    *Stroke width* control (``PEN_WIDTHS``, under the canvas) is moved: that changes the width in the
    browser at once, and sends it when let go, as the state value ``width`` (read it with
    ``read_width``) for ``on_width``, so it can be given back to a canvas shown again.

    strokes: what a canvas shown for the first time under ``key`` starts with (ignored once it is
    on screen, so a stroke being drawn is never reset). on_change: called at the start of the run a
    new drawing causes; the value is ``st.session_state[key]["drawing"]`` then (read it with
    ``read_drawing``). picture: what the canvas shows in place of the strokes, or None: {"src": a PNG
    data URL, "status": a line of text under it, "ink": the chosen value of "inks", [[value, label],
    …], the canvas's menu of how to read the picture's ink}. on_picture: called at the start of the
    run a picture opened (or put away) on the canvas causes; read ``st.session_state[key]["picture"]``
    with ``read_picture``. on_ink: likewise when the menu changes, with the value in
    ``st.session_state[key]["ink"]``. max_bytes: the largest picture file the browser sends (a larger
    one is refused there, with a message).
    """
    _mount(
        key=key,
        data={
            "side": int(side),
            "stroke_width": int(stroke_width),
            "widths": list(PEN_WIDTHS),
            "strokes": strokes or [],
            "picture": picture,
            "max_bytes": int(max_bytes),
        },
        on_drawing_change=on_change,
        on_picture_change=on_picture,
        on_ink_change=on_ink,
        on_width_change=on_width,
    )


def read_width(value) -> int:
    """The stroke width the canvas's control sent; ValueError unless a whole number within
    ``PEN_WIDTHS``."""
    low, high = PEN_WIDTHS
    if not _number(value) or value != int(value) or not low <= value <= high:
        raise ValueError(f"a stroke width is a whole number of pixels from {low} to {high}, not {value!r}")
    return int(value)


def read_picture(value, max_bytes: int) -> PictureFile | None:
    """The picture a canvas sent: a PictureFile, or None when it asked to go back to the drawing.
    ValueError (``drawing.UploadError``, ``limits.OverBudget``) says what is wrong with it."""
    if not isinstance(value, dict):
        raise ValueError(f"the canvas sent a {type(value).__name__}, not a picture")
    if value.get("remove") is True:
        return None
    name = value.get("name")
    if not isinstance(name, str):
        raise ValueError("the picture's name is not text")
    name = name.strip() or "the picture"
    if len(name) > MAX_NAME:
        name = name[: MAX_NAME - 1] + "…"
    return PictureFile(name, _picture_bytes(value.get("data"), name, max_bytes))


def _picture_bytes(data_url, name: str, max_bytes: int) -> bytes:
    """The bytes of a picture file as the browser read it (a base64 data URL, as FileReader makes one).

    Only the envelope is checked here, and the size before anything is decoded (from the length);
    what the bytes are (PNG, JPEG or WebP, and how many pixels) is ``drawing.read_upload``'s to check.
    """
    UploadError = drawing.UploadError
    if not isinstance(data_url, str):
        raise UploadError(f"{name} did not arrive as a data URL")
    match = PICTURE_DATA_URL.match(data_url[:200])
    if not match:
        raise UploadError(f"{name} did not arrive as a base64 data URL")
    encoded = len(data_url) - match.end()
    if encoded > 4 * math.ceil(max_bytes / 3):
        padding = data_url.endswith("==") + data_url.endswith("=")
        raise limits.IMAGE_FILE_BYTES.exceeded(name, encoded * 3 // 4 - padding, max_bytes)
    data = drawing.base64_bytes(data_url[match.end() :], name)
    if not data:
        raise UploadError(f"{name} is empty: upload a PNG, JPEG or WebP picture")
    if len(data) > max_bytes:  # the length allows a few bytes of slack
        raise limits.IMAGE_FILE_BYTES.exceeded(name, len(data), max_bytes)
    return data


def read_drawing(value, side: int) -> Drawing:
    """The drawing a canvas sent, checked; ValueError (``drawing.UploadError`` for the pixels) says
    what is wrong with it."""
    if value is None:
        return Drawing([], None)
    if not isinstance(value, dict):
        raise ValueError(f"the canvas sent a {type(value).__name__}, not a drawing")
    strokes = _strokes(value.get("strokes"), side)
    png = value.get("png")
    if not strokes or png is None:
        return Drawing(strokes, None)
    return Drawing(strokes, drawing.read_canvas_png(png, side))


def _strokes(value, side: int) -> list:
    if not isinstance(value, list):
        raise ValueError("the canvas's strokes are not a list")
    if len(value) > MAX_STROKES:
        raise ValueError(f"the canvas sent {len(value):,} strokes, more than the {MAX_STROKES:,} kept")
    total = 0
    strokes = []
    for stroke in value:
        if not (isinstance(stroke, list) and len(stroke) == 2 and isinstance(stroke[1], list)):
            raise ValueError("a stroke is not [width, [x0, y0, x1, y1, …]]")
        width, points = stroke
        if not _number(width) or not WIDTHS[0] <= width <= WIDTHS[1]:
            raise ValueError(f"a stroke's width must be {WIDTHS[0]} to {WIDTHS[1]} pixels")
        total += len(points)
        if total > MAX_COORDINATES:
            raise ValueError(f"the canvas sent more than {MAX_COORDINATES // 2:,} points")
        if not points or len(points) % 2 or not all(_number(v) and -side <= v <= 2 * side for v in points):
            raise ValueError("a stroke's points must be pairs of numbers on or near the canvas")
        strokes.append([width, points])
    return strokes


def _number(value) -> bool:
    """A JSON number: an int of any size, or a finite float (not a bool)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
