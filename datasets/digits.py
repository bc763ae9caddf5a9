"""The UCI 8x8 handwritten digits (1,797 images, 10 classes), shipped in datasets/data/digits.npz.

Raw pixels are integers 0..16 (DIGITS_MAX_VALUE); the loader divides by 16.
A drawing must be mapped onto the same scale: downsample to 8x8 and scale
its intensity to 0..16 (or straight to 0..1 for the network input).
Source and licence: datasets/data/DIGITS_LICENSE.md (CC BY 4.0).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .core import SEED, VAL_FRACTION, Dataset, check_fraction, read_shipped_images, stratified_split

DIGITS_FILE = Path(__file__).resolve().parent / "data" / "digits.npz"
DIGITS_MAX_VALUE = 16
DIGITS_CLASSES = [str(d) for d in range(10)]
DESCRIPTION = (
    "Real handwritten digits, 8x8 pixels, 1,797 images (UCI Optical Recognition of Handwritten Digits)"
)


@lru_cache(maxsize=1)
def _raw() -> tuple:
    return read_shipped_images(DIGITS_FILE)


def raw_digits() -> tuple:
    """images (1797, 8, 8) uint8 in 0..16, labels (1797,) int64 (read-only views)."""
    return _raw()


OPTIONS = (VAL_FRACTION, SEED)


def build_digits(*, val_fraction, seed) -> Dataset:
    """UCI digits with a seeded stratified validation split.

    val_fraction: share of each class held out for validation
    Returns x (N, 64) float32 in [0, 1] (raw / 16), y (N,) int64; input_shape (8, 8).
    """
    val_fraction = check_fraction("val_fraction", val_fraction)
    images, labels = _raw()
    train_idx, val_idx = stratified_split(labels, val_fraction, np.random.default_rng(seed))
    x = images.reshape(len(images), 64).astype(np.float32) / DIGITS_MAX_VALUE
    y = labels.astype(np.int64)
    return Dataset(
        name="digits",
        kind="image",
        params=dict(val_fraction=val_fraction, seed=seed),
        description=DESCRIPTION,
        x_train=x[train_idx],
        y_train=y[train_idx],
        x_val=x[val_idx],
        y_val=y[val_idx],
        classes=list(DIGITS_CLASSES),
        input_shape=(8, 8),
    )
