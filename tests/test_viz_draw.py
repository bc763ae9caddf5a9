"""The Draw page's picture gallery: one inline picture per image, captions as text."""

import base64
import io
import re

import numpy as np
from PIL import Image

from viz.draw import gallery_html


def pictures(block: str) -> list[np.ndarray]:
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', block)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(uri)))) for uri in uris]


def test_each_image_travels_inline_pixel_for_pixel_at_the_width_asked():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (28, 28), dtype=np.uint8), rng.integers(0, 256, (8, 16), dtype=np.uint8)]
    block = gallery_html(images, ["a", "b"], width=84)
    decoded = pictures(block)
    assert len(decoded) == 2
    for image, back in zip(images, decoded):
        np.testing.assert_array_equal(image, back)  # the picture as read, not resampled
    assert re.findall(r'width="(\d+)" height="(\d+)"', block) == [("84", "84"), ("84", "42")]
    assert block.count("image-rendering:pixelated") == 2  # square, unsmoothed pixels


def test_captions_are_text_not_markup():
    block = gallery_html([np.zeros((4, 4), np.uint8)], ['<b onclick="x()">boot</b> & co'], width=40)
    assert "<b " not in block
    assert "&lt;b onclick=&quot;x()&quot;&gt;boot&lt;/b&gt; &amp; co" in block
