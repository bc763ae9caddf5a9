"""Turn a drawing or an uploaded picture into a model input that looks like its training data.

    style = drawing.style_for("digits")              # or "shapes", "fashion-mnist", (28, 28)
    prepared = drawing.prepare(canvas_rgba, style)   # (H, W, 4) uint8 from the canvas
    if not prepared.empty:
        net.predict_proba(prepared.x)                # x: (1, 64) float32 in [0, 1]
    prepared.stages                                  # [(title, (h, w) uint8), ...] to show

The steps, each kept as a stage image so a person sees why a sloppy drawing fails:

1. grayscale: ink is bright (white strokes on black), 0..1;
2. crop to the ink's bounding box, and widen strokes much thinner than the
   dataset's (a pen on a photo, a thin brush) towards its typical width;
3. scale the longer side into the dataset's box, keeping the aspect ratio, on a
   ``work_size`` square: MNIST-style 20 px in 28, the full 32 px of the UCI
   digits' 32×32 bitmaps (their height always fills the 8 rows);
4. shift so the centre of mass lands in the middle, but never push ink off the frame;
5. average down to the model's size (32×32 -> 8×8 in 4×4 blocks, as the UCI
   digits were made) and, for the digits, round to their 17 levels 0..16 and
   divide by 16 as the loader does.

Uploads go through ``read_upload`` first: PNG, JPEG or WebP in any mode, dark
drawings on light paper inverted (automatically or by choice), the paper's grey
and grain taken down to 0 and the ink stretched up to 1 (``clean_levels``), as
the training images are black with white strokes, and every bad file kind
rejected with an ``UploadError`` that says what to change. The
picture's size is read from its header before any pixel is decoded, and one
over the caller's ``max_pixels`` (``backprop.limits.UPLOAD_PIXELS`` in the app
and the CLI) is refused with ``ImageTooLarge``; ``open_picture`` is that check
for any reader of pictures from outside.
Imports numpy, Pillow and the standard library only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .digits import DIGITS_MAX_VALUE

# A pixel brighter than this is ink (0..1 scale); fainter ones are anti-aliasing or noise.
INK_THRESHOLD = 0.2
# Fewer ink pixels than this share of the picture (or than MIN_INK_PIXELS) is "nothing drawn".
MIN_INK_FRACTION = 2e-4
MIN_INK_PIXELS = 4
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
# Larger uploads are shrunk first: the model sees at most 32 px anyway.
MAX_WORKING_SIDE = 1024
# Paper is its median grey plus this many robust standard deviations of its grain; darker is 0.
PAPER_NOISE_SIGMAS = 4.0
# The ink's level is this percentile of the pixels clearly above the paper: it becomes 1.
INK_PERCENTILE = 90


@dataclass(frozen=True)
class InputStyle:
    """How a dataset's images look, so a drawing can be made to look the same.

    size: the model's input side in pixels (8 or 28).
    work_size: side of the square the ink is placed on (a multiple of ``size``).
    box: side of the box (on ``work_size``) the ink's longer side is scaled into.
    levels: quantise to this many steps above 0 (16 for the UCI digits), or None.
    stroke: the data's typical stroke width as a share of the box (MNIST: 2.5 px of 20), so
      much thinner strokes are widened towards it; None leaves strokes alone (shapes, photos).
    """

    name: str
    size: int
    work_size: int
    box: int
    levels: int | None = None
    stroke: float | None = None

    def __post_init__(self):
        if self.size < 1 or self.work_size % self.size or not 1 <= self.box <= self.work_size:
            raise ValueError(
                f"inconsistent input style {self!r}: need work_size a multiple of size "
                "and 1 <= box <= work_size"
            )


# Stroke widths measured on the data with ``stroke_width``: MNIST's median stroke is 0.12 of its
# 20 px box (2.5 px, over 3,000 training digits); the UCI digits hold 1.2 times MNIST's share of
# ink in their box, so their strokes are about 0.15 of it.
STYLES = {
    "digits": InputStyle("digits", size=8, work_size=32, box=32, levels=DIGITS_MAX_VALUE, stroke=0.15),
    "shapes": InputStyle("shapes", size=28, work_size=28, box=20),
    "fashion-mnist": InputStyle("fashion-mnist", size=28, work_size=28, box=28),
    "mnist": InputStyle("mnist", size=28, work_size=28, box=20, stroke=0.12),
}
# Strokes thinner than this share of the style's width are widened; others are left as drawn.
THIN_STROKE = 0.7
# Widening works on the crop shrunk to at most this many times the box, where a pen line is still a line.
WIDEN_SCALE = 6


def style_for(dataset: str, input_shape=None) -> InputStyle:
    """The InputStyle for a dataset name; unknown square image sets get the MNIST-style 20/28 box."""
    if dataset in STYLES:
        return STYLES[dataset]
    if input_shape is None or len(input_shape) != 2 or input_shape[0] != input_shape[1]:
        raise ValueError(
            f"cannot draw for dataset {dataset!r} with input shape {input_shape!r}: "
            "only square grayscale image models take drawings"
        )
    side = int(input_shape[0])
    return InputStyle(dataset, size=side, work_size=side, box=max(1, round(side * 20 / 28)))


class UploadError(ValueError):
    """An uploaded file that cannot be used; the message says what to upload instead."""


class ImageTooLarge(UploadError):
    """A picture with more pixels than allowed, refused from its header before decoding."""


@dataclass
class Prepared:
    """A drawing turned into one model input, with every intermediate image.

    gray: (H, W) float32 in [0, 1], ink bright.  empty: nothing (or too little) drawn.
    model_input: (size, size) float32 as the loader gives it; x: (1, size·size).
    stages: (title, (h, w) uint8) pairs, from the drawing to the model input.
    """

    style: InputStyle
    gray: np.ndarray
    empty: bool
    model_input: np.ndarray | None = None
    x: np.ndarray | None = None
    stages: list = field(default_factory=list)


# ----------------------------------------------------------------- pieces
def to_grayscale(image) -> np.ndarray:
    """(H, W) float32 in [0, 1], ink bright, from (H, W), (H, W, 3) or (H, W, 4) pixels.

    uint8 is read as 0..255, floats as 0..1. With an alpha channel the colour is
    weighted by alpha, so white strokes on a transparent canvas count as ink.
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")
    if array.size == 0:
        raise ValueError(f"the image is empty (shape {array.shape})")
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    array = array.astype(np.float32) / np.float32(scale)
    if array.ndim == 2:
        gray = array
    elif array.shape[2] == 1:
        gray = array[..., 0]
    else:
        gray = array[..., 0] * 0.299 + array[..., 1] * 0.587 + array[..., 2] * 0.114
        if array.shape[2] == 4:
            gray = gray * array[..., 3]
    return np.clip(np.nan_to_num(gray), 0.0, 1.0).astype(np.float32)


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels bright enough to be ink."""
    return gray > INK_THRESHOLD


def is_empty(gray: np.ndarray) -> bool:
    """True when too few pixels hold ink to mean anything (an untouched canvas, a stray dot)."""
    count = int(np.count_nonzero(ink_mask(gray)))
    return count < max(MIN_INK_PIXELS, MIN_INK_FRACTION * gray.size)


def ink_bbox(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the ink, bottom/right exclusive; None without ink."""
    mask = ink_mask(gray)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def crop_to_ink(gray: np.ndarray) -> np.ndarray:
    """(h, w) the part of ``gray`` inside the ink's bounding box (all of it without ink)."""
    box = ink_bbox(gray)
    if box is None:
        return gray
    top, bottom, left, right = box
    return gray[top:bottom, left:right]


def stroke_width(gray: np.ndarray) -> float:
    """The ink's typical stroke width in pixels: its mass over half its outline.

    A stroke of width w and length L holds w·L of ink and has an outline of about 2·L,
    whatever its anti-aliasing, so mass / (outline / 2) reads w. The outline is counted
    as changes between neighbouring pixels across rows and columns, which measures a
    slanted edge too long by |cos| + |sin|; times π/4, its mean over all directions, it
    is right on average for strokes that turn every way, as handwriting does. 0 without ink.
    """
    mask = ink_mask(gray)
    changes = (
        np.count_nonzero(mask[1:] != mask[:-1])
        + np.count_nonzero(mask[:, 1:] != mask[:, :-1])
        + np.count_nonzero(mask[[0, -1]])
        + np.count_nonzero(mask[:, [0, -1]])
    )
    outline = changes * np.pi / 4
    return 2.0 * float(gray.sum(dtype=np.float64)) / outline if outline else 0.0


def max_filter(gray: np.ndarray, size: int) -> np.ndarray:
    """Each pixel replaced by the brightest in the size×size square around it (size odd): strokes
    grow by size − 1 pixels. Separable: a maximum along the rows, then along the columns."""
    r = size // 2
    padded = np.pad(gray, r)
    rows = np.lib.stride_tricks.sliding_window_view(padded, size, axis=0).max(axis=-1)
    return np.lib.stride_tricks.sliding_window_view(rows, size, axis=1).max(axis=-1).astype(np.float32)


def widen_strokes(crop: np.ndarray, style: InputStyle) -> tuple[np.ndarray, float | None]:
    """(crop, None) when its strokes are at least THIN_STROKE of the style's width, else (a
    version with strokes widened to the style's width, the width it had as a share of the box).

    crop: (h, w) cropped ink. Big crops are first shrunk (area average) to WIDEN_SCALE × box.
    """
    if not style.stroke:
        return crop, None
    longest = max(crop.shape)
    share = stroke_width(crop) / longest
    if share >= THIN_STROKE * style.stroke:
        return crop, None
    scale = min(1.0, WIDEN_SCALE * style.box / longest)
    if scale < 1.0:
        crop = resize(crop, max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    grow = (style.stroke - share) * max(crop.shape)
    size = 2 * int(round(grow / 2)) + 1
    if size < 3:
        return crop, None
    # a margin as wide as the growth, so strokes along the crop's edges widen outwards too
    return max_filter(np.pad(crop, size // 2), size), share


def resize(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    """(height, width) float32: area average when shrinking, bilinear when growing."""
    if gray.shape == (height, width):
        return gray.astype(np.float32, copy=True)
    shrinking = height <= gray.shape[0] and width <= gray.shape[1]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    out = Image.fromarray(gray.astype(np.float32), mode="F").resize((width, height), method)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def fit_in_box(crop: np.ndarray, box: int) -> np.ndarray:
    """(h', w') with max(h', w') == box and the crop's aspect ratio kept (each side >= 1)."""
    h, w = crop.shape
    scale = box / max(h, w)
    return resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))


def center_of_mass(gray: np.ndarray) -> tuple[float, float]:
    """(row, column) of the brightness-weighted centre; the geometric centre if all dark."""
    total = float(gray.sum(dtype=np.float64))
    h, w = gray.shape
    if total <= 0:
        return (h - 1) / 2, (w - 1) / 2
    rows = float(gray.sum(axis=1, dtype=np.float64) @ np.arange(h)) / total
    cols = float(gray.sum(axis=0, dtype=np.float64) @ np.arange(w)) / total
    return rows, cols


def place_by_mass(patch: np.ndarray, size: int) -> np.ndarray:
    """(size, size): ``patch`` pasted so its centre of mass sits at the centre.

    The shift is clamped so that no ink leaves the frame: a patch as tall as the
    frame (an 8×8 digit) stays put vertically and is centred only across.
    """
    h, w = patch.shape
    if h > size or w > size:
        raise ValueError(f"a {h}×{w} patch does not fit a {size}×{size} frame")
    cy, cx = center_of_mass(patch)
    centre = (size - 1) / 2
    top = int(np.clip(round(centre - cy), 0, size - h))
    left = int(np.clip(round(centre - cx), 0, size - w))
    out = np.zeros((size, size), np.float32)
    out[top : top + h, left : left + w] = patch
    return out


def block_average(image: np.ndarray, size: int) -> np.ndarray:
    """(size, size): means over equal square blocks of a (k·size, k·size) image."""
    k = image.shape[0] // size
    if image.shape != (k * size, k * size):
        raise ValueError(f"cannot average a {image.shape} image into {size}×{size} blocks")
    return image.reshape(size, k, size, k).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def pad_to_square(gray: np.ndarray) -> np.ndarray:
    """(s, s) with s = max(h, w): ``gray`` centred on black, so a thin crop can be shown as a tile."""
    h, w = gray.shape
    side = max(h, w)
    out = np.zeros((side, side), gray.dtype)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = gray
    return out


def to_uint8(gray: np.ndarray) -> np.ndarray:
    """(h, w) uint8 0..255 from floats in [0, 1], for showing a stage."""
    return np.round(np.clip(gray, 0.0, 1.0) * 255).astype(np.uint8)


# -------------------------------------------------------------- pipeline
def prepare(image, style: InputStyle) -> Prepared:
    """Run every step on ``image`` (see ``to_grayscale`` for accepted arrays).

    Returns a Prepared whose ``empty`` is True (and ``x`` None) when nothing is drawn.
    """
    gray = to_grayscale(image)
    stages = [("your drawing", to_uint8(gray))]
    if is_empty(gray):
        return Prepared(style, gray, True, stages=stages)
    crop = crop_to_ink(gray)
    stages.append((f"cropped to the ink ({crop.shape[1]}×{crop.shape[0]})", to_uint8(pad_to_square(crop))))
    crop, thin = widen_strokes(crop, style)
    if thin is not None:
        stages.append(
            (
                f"thin strokes ({thin:.0%} of the height) widened to {style.stroke:.0%}, as in {style.name}",
                to_uint8(pad_to_square(crop)),
            )
        )
    fitted = fit_in_box(crop, style.box)
    placed = place_by_mass(fitted, style.work_size)
    stages.append(
        (
            f"longer side scaled to {style.box} px, centred by mass in {style.work_size}×{style.work_size}",
            to_uint8(placed),
        )
    )
    small = block_average(placed, style.size)
    if style.levels:
        levels = np.round(small * style.levels)
        model_input = (levels / style.levels).astype(np.float32)
        title = f"model input {style.size}×{style.size}, levels 0..{style.levels}"
    else:
        model_input = small
        title = f"model input {style.size}×{style.size}"
    stages.append((title, to_uint8(model_input)))
    return Prepared(style, gray, False, model_input=model_input, x=model_input.reshape(1, -1), stages=stages)


# ---------------------------------------------------------------- upload
@contextlib.contextmanager
def open_picture(source, max_pixels: int, name: str = "the file", formats=ALLOWED_FORMATS):
    """The picture in ``source`` (bytes or a path), opened lazily: nothing is decoded until it is used.

    Its width and height come from the header, and a picture of more than
    ``max_pixels`` is refused (ImageTooLarge) before a pixel is decoded, as is
    one Pillow takes for a decompression bomb. formats: the Pillow formats
    accepted (None: any). Everything else that is wrong raises UploadError.
    """
    if not max_pixels or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive number of pixels, got {max_pixels!r}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(
            f"{name} claims to be enormous (more than {Image.MAX_IMAGE_PIXELS:,} pixels, a decompression "
            f"bomb), more than the {max_pixels:,} pixels allowed: upload a normal-sized picture"
        ) from None
    except UnidentifiedImageError:
        raise UploadError(f"{name} is not a picture Pillow can read: upload a PNG, JPEG or WebP") from None
    except FileNotFoundError:
        raise UploadError(f"{name} does not exist") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise UploadError(
            f"{name} is damaged or truncated ({err}): save it again as PNG and upload that"
        ) from None
    with image:
        if formats is not None and image.format not in formats:
            raise UploadError(f"{name} is a {image.format or 'unknown'} image: upload a PNG, JPEG or WebP")
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLarge(
                f"{name} is {width}×{height} pixels ({width * height / 1e6:.1f} million), more than the "
                f"{max_pixels:,} allowed: upload a smaller picture (a few hundred pixels a side is plenty)"
            )
        yield image


def read_upload(
    data: bytes, invert: bool | None = None, name: str = "the file", *, max_pixels: int
) -> tuple[np.ndarray, bool]:
    """Decode an uploaded PNG/JPEG/WebP into ((H, W) float32 gray in [0, 1], ink bright; inverted).

    invert: None decides from the border (a light border means dark ink on light
      paper, which is inverted); True / False force it.
    max_pixels: the largest width × height accepted, checked from the header
      before decoding (the app and the CLI pass ``backprop.limits.UPLOAD_PIXELS``);
      a decompression bomb is refused, never decoded.
    Transparent pictures use their opacity as the ink. Raises UploadError
    (ImageTooLarge for too many pixels).
    """
    if not data:
        raise UploadError(f"{name} is empty: upload a PNG, JPEG or WebP picture")
    try:
        with open_picture(data, max_pixels, name) as image, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            gray = _gray_from_image(image)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge(f"{name} is a decompression bomb: upload a normal-sized picture") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise UploadError(
            f"{name} is damaged or truncated ({err}): save it again as PNG and upload that"
        ) from None
    if invert is None:
        invert = looks_dark_on_light(gray)
    if invert:
        gray = 1.0 - gray
    return clean_levels(gray), bool(invert)


CANVAS_PNG_PREFIX = "data:image/png;base64,"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def base64_bytes(text: str, name: str) -> bytes:
    """The bytes of base64 ``text`` (strictly: nothing but the base64 alphabet); UploadError naming
    ``name`` when it is not valid base64."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as err:
        raise UploadError(f"{name} is not valid base64 ({err})") from None


def read_canvas_png(data_url, side: int) -> np.ndarray:
    """The drawing canvas's picture, as the browser sends it (a PNG data URL), as (side, side, 4) uint8 RGBA.

    What comes from a browser is checked like an upload: a data URL of a PNG, at most as long as
    a PNG of side×side pixels can be, exactly side×side pixels (read from the header, before
    anything is decoded). Anything else raises UploadError saying so.
    """
    name = "the canvas's picture"
    if not isinstance(data_url, str) or not data_url.startswith(CANVAS_PNG_PREFIX):
        raise UploadError(f"{name} is not a PNG data URL")
    # base64 of a PNG that stores every pixel's four bytes, with room for its chunks
    longest = len(CANVAS_PNG_PREFIX) + 4 * (side * side * 4 + side + 4096) // 3 + 4
    if len(data_url) > longest:
        raise UploadError(f"{name} is {len(data_url):,} characters, more than a {side}×{side} PNG needs")
    data = base64_bytes(data_url[len(CANVAS_PNG_PREFIX) :], name)
    if not data:
        raise UploadError(f"{name} is empty")
    if not data.startswith(PNG_SIGNATURE):
        raise UploadError(f"{name} is not a PNG")
    try:
        with open_picture(data, 4 * side * side, name, formats=("PNG",)) as image:
            if image.size != (side, side):
                raise UploadError(f"{name} is {image.size[0]}×{image.size[1]} pixels, not {side}×{side}")
            return np.asarray(image.convert("RGBA"))
    except UploadError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise UploadError(f"{name} is damaged or truncated ({err})") from None


def _working_size(size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) scaled so the longer side is at most MAX_WORKING_SIDE."""
    scale = min(1.0, MAX_WORKING_SIDE / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _gray_from_image(image: Image.Image) -> np.ndarray:
    """(H, W) float32 in [0, 1] from any Pillow mode, shrunk to at most MAX_WORKING_SIDE.

    Memory follows the picture once: JPEGs decode at 1/2, 1/4 or 1/8 scale when
    that is enough, the orientation is fixed in place, and an 8-bit picture is
    cut down to the one channel that is used (luma, or opacity for a drawing on
    a transparent background) before it is shrunk and turned into floats.
    """
    if image.format == "JPEG":
        image.draft(None, (MAX_WORKING_SIDE, MAX_WORKING_SIDE))
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float32)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(array.max()), 1.0)
        gray_image = Image.fromarray(np.clip(array / np.float32(top), 0, 1), mode="F")
        if gray_image.size != _working_size(gray_image.size):
            gray_image = gray_image.resize(_working_size(gray_image.size), Image.Resampling.BOX)
        return np.clip(np.asarray(gray_image, dtype=np.float32), 0.0, 1.0)
    if image.mode == "CMYK":
        image = image.convert("RGB")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    channel = None
    if has_alpha:
        alpha = (image if image.mode in ("RGBA", "LA") else image.convert("RGBA")).getchannel("A")
        # On a transparent background the opaque pixels are the drawing, whatever their colour;
        # an alpha channel that is opaque everywhere says nothing.
        if alpha.getextrema()[0] < 255:
            channel = alpha
    if channel is None:
        channel = image.convert("L")  # luma, as the rest of the pipeline reads it
    del image
    if channel.size != _working_size(channel.size):
        channel = channel.resize(_working_size(channel.size), Image.Resampling.BOX)
    return np.clip(np.asarray(channel, dtype=np.float32) / np.float32(255), 0.0, 1.0)


def clean_levels(gray: np.ndarray) -> np.ndarray:
    """(H, W) float32: the paper at 0 and the ink at 1, as in the training images.

    A photo or a scan of dark ink on white paper, once inverted, is not black with white
    strokes: the paper is a grey with grain and shading (0.1-0.3), the ink a grey below 1.
    The paper's level is the median pixel (most of a picture is paper) plus
    ``PAPER_NOISE_SIGMAS`` times the grain's robust standard deviation (1.4826 × median
    absolute deviation); the ink's is the ``INK_PERCENTILE``-th percentile of the pixels
    above it. Levels are stretched linearly between the two and clipped. A picture that is
    already clean (a drawing on black) is left as it is, give or take a rounding.
    """
    gray = np.asarray(gray, np.float32)
    paper = float(np.median(gray))
    grain = 1.4826 * float(np.median(np.abs(gray - paper)))
    floor = min(paper + PAPER_NOISE_SIGMAS * grain, 0.9)
    above = gray[gray > floor + 0.05]
    if above.size == 0:
        return gray  # no ink above the paper: nothing to stretch ("draw something" follows)
    ink = max(float(np.percentile(above, INK_PERCENTILE)), floor + 0.05)
    return np.clip((gray - floor) / (ink - floor), 0.0, 1.0).astype(np.float32)


def looks_dark_on_light(gray: np.ndarray) -> bool:
    """True when the picture's border is mostly light: dark ink on light paper."""
    h, w = gray.shape
    band = max(1, min(h, w) // 20)
    border = np.concatenate(
        [gray[:band].ravel(), gray[-band:].ravel(), gray[:, :band].ravel(), gray[:, -band:].ravel()]
    )
    return bool(np.median(border) > 0.5)


__all__ = [
    "InputStyle",
    "STYLES",
    "style_for",
    "Prepared",
    "prepare",
    "UploadError",
    "ImageTooLarge",
    "open_picture",
    "read_upload",
    "read_canvas_png",
    "to_grayscale",
    "is_empty",
    "ink_bbox",
    "crop_to_ink",
    "stroke_width",
    "widen_strokes",
    "fit_in_box",
    "center_of_mass",
    "place_by_mass",
    "block_average",
    "pad_to_square",
    "looks_dark_on_light",
    "clean_levels",
    "ALLOWED_FORMATS",
]
