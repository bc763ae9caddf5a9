"""What the drawing canvas sends from the browser, read and held to its bounds."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from backprop import limits
from datasets import drawing
from ui.draw_canvas import (
    MAX_COORDINATES,
    MAX_NAME,
    MAX_STROKES,
    PEN_WIDTHS,
    PictureFile,
    read_drawing,
    read_picture,
    read_width,
)

SIDE = 280


def png_url(paint) -> str:
    image = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 255))
    paint(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return drawing.CANVAS_PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


BAR = png_url(lambda d: d.line([(140, 45), (140, 235)], fill=(255, 255, 255, 255), width=18))


def test_a_drawing_gives_its_strokes_and_its_pixels():
    strokes = [[18, [140, 45, 140.5, 100.2, 140, 235]], [4, [10, 10]]]
    sent = read_drawing({"strokes": strokes, "png": BAR}, SIDE)
    assert sent.strokes == strokes
    assert sent.image.shape == (SIDE, SIDE, 4) and sent.image[140, 140, 0] == 255 and sent.image[5, 5, 0] == 0


@pytest.mark.parametrize("value", [None, {"strokes": [], "png": None}, {"strokes": [], "png": BAR}])
def test_an_empty_canvas_has_no_picture(value):
    sent = read_drawing(value, SIDE)
    assert sent.strokes == [] and sent.image is None


@pytest.mark.parametrize(
    "value, says",
    [
        ("strokes", "not a drawing"),
        ({"strokes": "x", "png": BAR}, "not a list"),
        ({"strokes": [[18]], "png": BAR}, r"not \[width"),
        ({"strokes": [[0, [1, 1]]], "png": BAR}, "width must be 1 to 100"),
        ({"strokes": [[True, [1, 1]]], "png": BAR}, "width must be 1 to 100"),
        ({"strokes": [[18, []]], "png": BAR}, "pairs of numbers"),
        ({"strokes": [[18, [1, 2, 3]]], "png": BAR}, "pairs of numbers"),
        ({"strokes": [[18, [1, "2"]]], "png": BAR}, "pairs of numbers"),
        ({"strokes": [[18, [1, float("nan")]]], "png": BAR}, "pairs of numbers"),
        ({"strokes": [[18, [1, 10 * SIDE]]], "png": BAR}, "pairs of numbers"),
        ({"strokes": [[18, [1, 10**400]]], "png": BAR}, "pairs of numbers"),
        ({"strokes": [[10**400, [1, 1]]], "png": BAR}, "width must be 1 to 100"),
        ({"strokes": [[18, [1, 1]]] * (MAX_STROKES + 1), "png": BAR}, "more than the 2,000 kept"),
        (
            {"strokes": [[18, [1, 1] * (MAX_COORDINATES // 4 + 1)]] * 2, "png": BAR},
            "more than 200,000 points",
        ),
        ({"strokes": [[18, [1, 1]]], "png": "data:text/html;base64,PGI+"}, "not a PNG data URL"),
    ],
)
def test_what_is_not_a_drawing_is_refused_with_what_is_wrong(value, says):
    with pytest.raises(ValueError, match=says):
        read_drawing(value, SIDE)


def test_the_pixels_read_are_what_was_drawn():
    sent = read_drawing({"strokes": [[18, [140, 45, 140, 235]]], "png": BAR}, SIDE)
    ink = sent.image[..., 0] > 128
    rows, cols = np.nonzero(ink)
    assert 36 <= rows.min() <= 45 and 235 <= rows.max() <= 244 and cols.min() >= 130 and cols.max() <= 150


def picture_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def test_a_picture_file_arrives_as_its_bytes_and_its_name():
    data = b"\x89PNG\r\n\x1a\n" + bytes(100)
    picture = read_picture({"name": " seven.png ", "data": picture_url(data)}, max_bytes=1000)
    assert picture == PictureFile("seven.png", data)
    long = read_picture({"name": "x" * 1000 + ".png", "data": picture_url(data)}, max_bytes=1000)
    assert len(long.name) == MAX_NAME and long.name.endswith("…")
    assert read_picture({"name": "", "data": picture_url(data)}, 1000).name == "the picture"
    assert read_picture({"remove": True}, max_bytes=1000) is None  # back to the drawing


@pytest.mark.parametrize(
    "value, says",
    [
        ("seven.png", "not a picture"),
        ({"name": 7, "data": picture_url(b"x")}, "name is not text"),
        ({"name": "a.png", "data": None}, "did not arrive as a data URL"),
        ({"name": "a.png", "data": "data:image/png,plain"}, "did not arrive as a base64 data URL"),
        ({"name": "a.png", "data": "data:image/png;base64,@@@@"}, "not valid base64"),
        ({"name": "a.png", "data": "data:image/png;base64,"}, "a.png is empty"),
        (
            {"name": "big.png", "data": picture_url(bytes(1001))},
            "big.png is 1001 bytes, more than the 1000 bytes",
        ),
    ],
)
def test_what_is_not_a_picture_file_is_refused_with_what_is_wrong(value, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        read_picture(value, max_bytes=1000)


def test_a_file_over_the_bound_is_refused_before_it_is_decoded(monkeypatch):
    decoded = []
    monkeypatch.setattr(base64, "b64decode", lambda *a, **k: decoded.append(a) or b"")
    with pytest.raises(limits.OverBudget, match="BACKPROP_MAX_IMAGE_FILE_BYTES"):
        read_picture({"name": "big.png", "data": picture_url(bytes(3000))}, max_bytes=1000)
    assert decoded == []


def test_the_stroke_width_sent_is_a_whole_number_within_the_controls_range():
    low, high = PEN_WIDTHS
    assert read_width(low) == low and read_width(high) == high and read_width(20.0) == 20
    for value in (low - 1, high + 1, 18.5, True, "18", None, float("nan")):
        with pytest.raises(ValueError, match=f"from {low} to {high}"):
            read_width(value)
