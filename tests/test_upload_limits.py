"""Uploaded and command-line pictures: their size is read from the header and held to the budget before decoding."""

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from PIL import Image

import datasets
from backprop import RunConfig, limits
from backprop.runs import RunStore
from datasets.drawing import ImageTooLarge, UploadError
from tests.datasets.test_drawing import dark_digit_on_paper, encode, png_header_only
from tests.hostile_files import blank_png
from ui.draw import read_picture

REPO_ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


@pytest.fixture(scope="module")
def huge_png():
    """A valid 9000 × 9000 PNG: 79 KB on disk, 81 MB of pixels, several times that as floats."""
    return blank_png(9000, 9000)


def test_a_9000_by_9000_png_is_refused_from_its_header_before_decoding(huge_png):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ImageTooLarge) as caught:
            read_picture(huge_png, "huge.png", None)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "huge.png is 9000×9000 pixels (81.0 million), more than the 16,777,216 allowed" in message
    assert limits.UPLOAD_PIXELS.env in message
    assert seconds < 0.5 and peak < 2 * MiB, (seconds, peak)


def test_the_budget_comes_from_the_environment(monkeypatch):
    picture = encode(dark_digit_on_paper())  # 120 × 100
    assert read_picture(picture, "digit.png", None)[0].shape == (100, 120)
    monkeypatch.setenv(limits.UPLOAD_PIXELS.env, "10000")
    with pytest.raises(ImageTooLarge, match="120×100 pixels .* more than the 10,000 allowed"):
        read_picture(picture, "digit.png", None)


def test_a_header_claiming_hundreds_of_megapixels_is_a_bomb_message_not_a_decode():
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        read_picture(png_header_only(20_000, 20_000), "bomb.png", None)


def test_a_damaged_picture_is_a_message():
    data = encode(Image.effect_noise((300, 300), 60))
    with pytest.raises(UploadError, match="cut.png is damaged or truncated"):
        read_picture(data[: len(data) // 2], "cut.png", None)


def test_a_large_picture_under_the_budget_is_shrunk_before_it_is_converted():
    picture = blank_png(4096, 4096)  # at the budget: accepted
    tracemalloc.start()
    try:
        gray, _ = read_picture(picture, "big.png", None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert gray.shape == (1024, 1024)
    # Float copies of the full 16.8 million pixels would be 64 MiB each.
    assert peak < 40 * MiB, peak / MiB


def test_the_command_line_refuses_a_huge_image_before_decoding(tmp_path, huge_png):
    store = RunStore(tmp_path / "runs")
    store.create(
        "digits-run", RunConfig(dataset="digits", layers="dense8-gelu"), dataset=datasets.load("digits")
    )
    (tmp_path / "huge.png").write_bytes(huge_png)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "backprop", "predict", "--run", "runs/digits-run", "--image", "huge.png"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "huge.png is 9000×9000 pixels" in result.stderr and limits.UPLOAD_PIXELS.env in result.stderr
    assert "Traceback" not in result.stderr
    assert time.perf_counter() - start < 30
