"""Drawing and upload preprocessing: synthetic strokes with known answers, and every bad file kind."""

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from backprop import limits
from datasets import drawing
from datasets.drawing import STYLES, UploadError, prepare, read_upload

LIMIT = limits.UPLOAD_PIXELS.default
MODELS = Path(__file__).resolve().parents[2] / "models"


def canvas(paint, size=280):
    """(size, size, 4) uint8 RGBA: white strokes painted on an opaque black canvas."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    paint(ImageDraw.Draw(image))
    return np.asarray(image)


WHITE = (255, 255, 255, 255)


def test_empty_canvas_is_detected_and_not_turned_into_an_input():
    prepared = prepare(canvas(lambda d: None), STYLES["shapes"])
    assert prepared.empty and prepared.x is None
    assert len(prepared.stages) == 1


def test_a_stray_dot_counts_as_empty_but_a_stroke_does_not():
    dot = canvas(lambda d: d.point((10, 10), fill=WHITE))
    assert prepare(dot, STYLES["digits"]).empty
    stroke = canvas(lambda d: d.line([(100, 100), (180, 100)], fill=WHITE, width=12))
    assert not prepare(stroke, STYLES["digits"]).empty


def test_transparent_canvas_with_white_strokes_reads_ink_from_alpha():
    image = np.zeros((50, 50, 4), np.uint8)
    image[10:40, 20:25] = 255
    gray = drawing.to_grayscale(image)
    assert gray[20, 22] == 1.0 and gray[0, 0] == 0.0


@pytest.mark.parametrize("where", [(30, 30), (200, 60), (60, 220)])
def test_centre_of_mass_lands_in_the_centre_wherever_the_blob_is_drawn(where):
    x, y = where
    image = canvas(lambda d: d.ellipse([x - 25, y - 25, x + 25, y + 25], fill=WHITE))
    prepared = prepare(image, STYLES["shapes"])
    cy, cx = drawing.center_of_mass(prepared.model_input)
    assert abs(cy - 13.5) < 0.6 and abs(cx - 13.5) < 0.6


def test_longer_side_fills_the_box_and_the_aspect_ratio_is_kept():
    # A 40 wide × 160 tall rectangle: the height becomes the 20 px box, the width 5 px.
    image = canvas(lambda d: d.rectangle([100, 60, 139, 219], fill=WHITE))
    crop = drawing.crop_to_ink(drawing.to_grayscale(image))
    assert crop.shape == (160, 40)
    fitted = drawing.fit_in_box(crop, 20)
    assert fitted.shape == (20, 5)
    placed = drawing.place_by_mass(fitted, 28)
    top, bottom, left, right = drawing.ink_bbox(placed)
    assert (bottom - top, right - left) == (20, 5)


def test_frame_filling_patch_is_not_pushed_off_the_frame():
    patch = np.zeros((32, 6), np.float32)
    patch[:4] = 1.0  # all the mass at the top
    placed = drawing.place_by_mass(patch, 32)
    assert placed.sum() == patch.sum()  # nothing cut off
    assert drawing.ink_bbox(placed)[0] == 0


def test_digits_input_uses_the_loaders_sixteen_levels():
    image = canvas(lambda d: d.line([(140, 40), (140, 240)], fill=WHITE, width=20))
    prepared = prepare(image, STYLES["digits"])
    assert prepared.x.shape == (1, 64) and prepared.x.dtype == np.float32
    levels = prepared.model_input * 16
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-6)
    assert prepared.x.max() <= 1.0
    # The bar is as tall as the 8×8 frame, as UCI digits are.
    top, bottom, _, _ = drawing.ink_bbox(prepared.model_input)
    assert (top, bottom) == (0, 8)


def test_every_stage_is_a_uint8_image():
    image = canvas(lambda d: d.polygon([(140, 40), (240, 220), (40, 220)], outline=WHITE, width=10))
    prepared = prepare(image, STYLES["shapes"])
    assert [s[1].dtype for s in prepared.stages] == [np.uint8] * 4
    assert prepared.stages[-1][1].shape == (28, 28)
    assert [s[1].shape[0] == s[1].shape[1] for s in prepared.stages] == [True] * 4  # square tiles


def test_unknown_dataset_style_needs_a_square_input():
    assert drawing.style_for("folder", (28, 28)).box == 20
    with pytest.raises(ValueError, match="square grayscale"):
        drawing.style_for("sequences", (5,))


# ------------------------------------------------------------------ uploads
def encode(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def dark_digit_on_paper(mode="L"):
    image = Image.new("L", (120, 100), 245)
    ImageDraw.Draw(image).line([(60, 10), (60, 90)], fill=10, width=10)
    return image.convert(mode) if mode != "L" else image


def test_dark_ink_on_light_paper_is_inverted_automatically():
    gray, inverted = read_upload(encode(dark_digit_on_paper()), max_pixels=LIMIT)
    assert inverted
    assert gray[50, 60] > 0.9 and gray[5, 5] < 0.1


def test_the_inversion_switch_overrides_the_guess():
    gray, inverted = read_upload(encode(dark_digit_on_paper()), invert=False, max_pixels=LIMIT)
    assert not inverted and gray[5, 5] > 0.9


def test_light_ink_on_dark_is_left_alone():
    gray, inverted = read_upload(
        encode(Image.eval(dark_digit_on_paper(), lambda v: 255 - v)), max_pixels=LIMIT
    )
    assert not inverted and gray[50, 60] > 0.9


@pytest.mark.parametrize(
    "mode,fmt",
    [("RGBA", "PNG"), ("P", "PNG"), ("CMYK", "JPEG"), ("RGB", "WEBP"), ("1", "PNG"), ("LA", "PNG")],
)
def test_any_image_mode_is_converted(mode, fmt):
    gray, _ = read_upload(encode(dark_digit_on_paper(mode), fmt), max_pixels=LIMIT)
    assert gray.shape == (100, 120) and gray.dtype == np.float32
    assert gray[50, 60] > 0.7 and gray[5, 5] < 0.3


def test_sixteen_bit_png_is_scaled_to_unit_range():
    array = np.full((40, 40), 1000, np.uint16)
    array[10:30, 18:22] = 65000
    gray, inverted = read_upload(encode(Image.fromarray(array)), max_pixels=LIMIT)
    assert not inverted and gray[20, 20] > 0.95 and gray[0, 0] < 0.05


def test_transparent_upload_uses_opacity_as_ink_whatever_the_colour():
    image = Image.new("RGBA", (60, 60), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(30, 5), (30, 55)], fill=(0, 0, 0, 255), width=6)
    gray, inverted = read_upload(encode(image), max_pixels=LIMIT)
    assert not inverted and gray[30, 30] == 1.0 and gray[2, 2] == 0.0


def test_prepared_upload_of_a_drawn_bar_is_not_empty():
    gray, _ = read_upload(encode(dark_digit_on_paper()), max_pixels=LIMIT)
    assert not prepare(gray, STYLES["digits"]).empty


def test_empty_file_is_refused():
    with pytest.raises(UploadError, match="empty"):
        read_upload(b"", max_pixels=LIMIT)


def test_non_image_is_refused_with_the_formats_to_use():
    with pytest.raises(UploadError, match="PNG, JPEG or WebP"):
        read_upload(b"%PDF-1.4 not a picture at all", name="notes.pdf", max_pixels=LIMIT)


def test_other_image_formats_are_refused():
    with pytest.raises(UploadError, match="is a GIF image: upload a PNG, JPEG or WebP"):
        read_upload(encode(dark_digit_on_paper(), "GIF"), max_pixels=LIMIT)


def test_truncated_file_is_reported_as_damaged():
    data = encode(Image.effect_noise((200, 200), 60))
    with pytest.raises(UploadError, match="damaged or truncated"):
        read_upload(data[: len(data) // 2], max_pixels=LIMIT)


def test_image_over_the_pixel_limit_is_refused_before_decoding():
    with pytest.raises(UploadError, match="more than the 1,000 allowed"):
        read_upload(encode(dark_digit_on_paper()), max_pixels=1000)


def png_header_only(width, height):
    """A PNG whose header claims width×height pixels, with a tiny (invalid) body."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    # Over the limit (a warning in Pillow, an error here) and far over it (Pillow's own error).
    for side in (120, 1000):
        with pytest.raises(UploadError, match="decompression bomb|allowed"):
            read_upload(png_header_only(side, side), max_pixels=LIMIT)


def test_pillow_bomb_error_is_reported_as_a_bomb(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(UploadError, match="decompression bomb"):
        read_upload(png_header_only(1000, 1000), max_pixels=10**9)


# ---------------------------------------------------- photos and scans of ink on paper
def test_a_photographed_dark_seven_becomes_white_ink_on_black_like_the_training_images():
    from tests.pictures import seven_png

    gray, inverted = read_upload(seven_png(), max_pixels=LIMIT)
    assert inverted
    paper = gray[: gray.shape[0] // 6]  # the top of the picture is paper only
    assert np.count_nonzero(paper) / paper.size < 0.01  # grey, grain and shading are gone
    assert np.percentile(gray[gray > 0.5], 50) > 0.9  # the ink is white, not grey
    prepared = prepare(gray, STYLES["mnist"])
    frame = prepared.model_input
    assert frame[0].max() == 0 and frame[:, 0].max() == 0  # black around the digit, no grey square
    assert frame.max() > 0.95


def test_levels_of_a_clean_drawing_are_left_as_they_are():
    image = np.zeros((100, 100), np.float32)
    image[20:80, 45:55] = 1.0
    image[20:80, 44] = 0.5  # anti-aliasing
    cleaned = drawing.clean_levels(image)
    np.testing.assert_allclose(cleaned, image, atol=0.06)
    assert drawing.clean_levels(np.zeros((10, 10), np.float32)).max() == 0


def test_stroke_width_reads_the_width_of_a_bar_and_of_an_anti_aliased_line():
    bar = np.zeros((200, 200), np.float32)
    bar[20:180, 90:102] = 1.0
    assert drawing.stroke_width(bar) == pytest.approx(12, rel=0.3)  # read within 30 % at any angle
    image = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(image).line([(20, 30), (170, 180)], fill=255, width=5)  # 5 px across, 3.5 px thick
    line = np.asarray(image, np.float32) / 255
    assert drawing.stroke_width(line) == pytest.approx(5 / np.sqrt(2), rel=0.3)


def test_thin_pen_strokes_are_widened_to_the_datasets_width_and_the_stage_says_so():
    from tests.pictures import seven_png

    gray, _ = read_upload(seven_png(pen=0.012), max_pixels=LIMIT)
    prepared = prepare(gray, STYLES["mnist"])
    titles = [title for title, _ in prepared.stages]
    assert any("widened to 12%" in title for title in titles), titles
    width = drawing.stroke_width(prepared.model_input)
    assert 1.8 <= width <= 3.5  # MNIST's strokes: 1.8 to 3.5 px for 80 % of its digits


def test_strokes_as_wide_as_the_datasets_are_not_widened():
    image = canvas(lambda d: d.line([(140, 45), (140, 235)], fill=WHITE, width=18))
    for style in ("mnist", "digits"):
        assert not any("widened" in t for t, _ in prepare(image, STYLES[style]).stages)
    assert not any("widened" in t for t, _ in prepare(image, STYLES["shapes"]).stages)  # no stroke width


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"pen": 0.015},  # a fine pen
        {"pen": 0.06},  # a marker
        {"shade": 0, "grain": 3, "paper": 245, "ink": 30},  # a flatbed scan
        {"paper": 170, "ink": 70, "shade": 40},  # a dim photo
        {"size": (1200, 1600)},  # a phone photo
        {"size": (90, 120), "blur": 0.6},  # a thumbnail
    ],
)
@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_the_default_mnist_model_reads_photos_and_scans_of_a_dark_seven_as_seven(options, fmt):
    from backprop import load_with_metadata
    from tests.pictures import seven_jpeg, seven_png

    net, meta = load_with_metadata(MODELS / "mnist.npz")
    data = (seven_png if fmt == "png" else seven_jpeg)(**options)
    gray, inverted = read_upload(data, max_pixels=LIMIT)
    probs = net.predict_proba(prepare(gray, drawing.style_for(meta["dataset"])).x)[0]
    assert inverted and probs.argmax() == 7 and probs[7] > 0.6, probs.round(3)


# ------------------------------------------------------------ the canvas's PNG


def data_url(image: Image.Image, fmt="PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return drawing.CANVAS_PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def test_the_canvas_png_is_read_back_pixel_for_pixel():
    pixels = canvas(lambda d: d.line([(140, 45), (140, 235)], fill=WHITE, width=18))
    read = drawing.read_canvas_png(data_url(Image.fromarray(pixels)), 280)
    assert read.dtype == np.uint8 and read.shape == (280, 280, 4)
    assert np.array_equal(read, pixels)


def test_an_rgb_png_from_the_canvas_gets_an_opaque_alpha():
    read = drawing.read_canvas_png(data_url(Image.new("RGB", (280, 280), (9, 9, 9))), 280)
    assert read.shape == (280, 280, 4) and (read[..., 3] == 255).all() and (read[..., 0] == 9).all()


@pytest.mark.parametrize(
    "sent, says",
    [
        (None, "not a PNG data URL"),
        (12, "not a PNG data URL"),
        ("data:image/jpeg;base64,AAAA", "not a PNG data URL"),
        (drawing.CANVAS_PNG_PREFIX + "not base64!", "not valid base64"),
        (drawing.CANVAS_PNG_PREFIX, "empty"),
        (drawing.CANVAS_PNG_PREFIX + base64.b64encode(b"hello").decode(), "is not a PNG"),
        (drawing.CANVAS_PNG_PREFIX + "A" * 500_000, "more than a 280×280 PNG needs"),
        ("size", "is 281×280 pixels, not 280×280"),
        ("jpeg", "is not a PNG"),
        ("truncated", "damaged or truncated"),
    ],
)
def test_a_canvas_png_that_is_not_the_canvas_is_refused_with_what_is_wrong(sent, says):
    if sent == "size":
        sent = data_url(Image.new("RGBA", (281, 280)))
    elif sent == "jpeg":
        sent = data_url(Image.new("RGB", (280, 280)), "JPEG").replace("image/jpeg", "image/png")
        sent = drawing.CANVAS_PNG_PREFIX + sent.split(",", 1)[1]
    elif sent == "truncated":
        noise = np.random.default_rng(0).integers(0, 256, (280, 280, 4), dtype=np.uint8)
        encoded = data_url(Image.fromarray(noise)).removeprefix(drawing.CANVAS_PNG_PREFIX)
        sent = drawing.CANVAS_PNG_PREFIX + encoded[: len(encoded) // 2 // 4 * 4]
    with pytest.raises(UploadError, match=says):
        drawing.read_canvas_png(sent, 280)
