"""Pictures as people upload them: a handwritten digit photographed or scanned, dark ink on paper.

Not clean synthetic strokes: off-white paper with grain, light falling off to one side, a pen
stroke of uneven darkness softened by the lens, saved as PNG or JPEG. Used by the upload tests
of the preprocessing, the page and the browser.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# (x, y) of a handwritten 7 as fractions of the picture: a slightly rising top bar with a
# small hook on its left, then a long, slightly curved down stroke.
SEVEN = [
    (0.30, 0.27),
    (0.33, 0.24),
    (0.50, 0.23),
    (0.70, 0.21),
    (0.66, 0.32),
    (0.58, 0.50),
    (0.52, 0.66),
    (0.48, 0.80),
]


def handwritten_seven(
    size=(480, 640), pen=0.035, paper=228, ink=52, grain=7.0, shade=28.0, blur=1.6, seed=0
) -> Image.Image:
    """A grey photo of a dark 7 on light paper.

    size: (width, height) in pixels; pen: the stroke width as a fraction of the height;
    paper / ink: grey levels (0..255); grain: the paper's noise (std of grey levels);
    shade: how much darker the paper gets towards the right edge; blur: lens softness in pixels.
    """
    width, height = size
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    points = [(x * width, y * height) for x, y in SEVEN]
    draw.line(points, fill=0, width=max(1, round(pen * height)), joint="curve")
    stroke = 1.0 - np.asarray(image.filter(ImageFilter.GaussianBlur(blur)), np.float32) / 255.0
    rng = np.random.default_rng(seed)
    columns = np.linspace(0.0, 1.0, width)[None, :]
    background = paper - shade * columns + rng.normal(0.0, grain, (height, width))
    pressure = 1.0 - 0.25 * rng.random((height, width))  # the pen leaves uneven ink
    grey = background * (1 - stroke) + (ink / pressure) * stroke
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), mode="L")


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def seven_png(**options) -> bytes:
    return encoded(handwritten_seven(**options))


def seven_jpeg(**options) -> bytes:
    return encoded(handwritten_seven(**options).convert("RGB"), "JPEG", quality=80)
