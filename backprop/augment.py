"""Data augmentation: every batch shows the network its training images moved a little.

    rows = random_shift(rows, image_shape=(28, 28), max_shift=2, rng=rng)

A digit moved by a pixel or two is still the same digit, but to a network that has
seen 8,000 digits many times it is a picture it has not learnt by heart. Moving each
image by its own random offset every time it lands in a batch is the classic cure
for a small image set; the Trainer does it when ``augment_shift`` is above 0, with
offsets fixed by (seed, epoch, batch), so a run is as reproducible as without it.
Only training batches are moved: validation and prediction see the images as they are.
"""

from __future__ import annotations

import numpy as np

from .options import Option

AUGMENT_SHIFT = Option(
    "augment_shift",
    "int",
    0,
    label="Random shift (pixels)",
    low=0,
    high=8,
    help="Image data: move each training image by a random whole number of pixels, up to this many "
    "in each direction, every time it is drawn into a batch (pixels moved in are 0); 0 trains on "
    "the images as they are.",
)


def check_image_shape(image_shape, max_shift: int) -> tuple[int, ...]:
    """The sample shape (height, width) or (height, width, channels) that ``max_shift`` can move, or
    ValueError naming what is wrong."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3):
        raise ValueError(
            f"augment_shift={max_shift} moves images, but each sample here is "
            f"{'×'.join(map(str, shape)) or 'a scalar'} numbers, not a (height, width) picture; use 0"
        )
    if 2 * max_shift >= min(shape[:2]):
        raise ValueError(
            f"augment_shift={max_shift} would move a {shape[0]}×{shape[1]} image off its frame; "
            f"use at most {(min(shape[:2]) - 1) // 2}"
        )
    return shape


def shift_images(images: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Each image moved down by dy[n] and right by dx[n] pixels (negative: up, left), zeros moved in.

    images: (N, H, W) or (N, H, W, C).  dy, dx: (N,) ints, |d| < H and W.
    Returns a new (N, H, W[, C]) array: out[n, y, x] = images[n, y - dy[n], x - dx[n]].
    """
    n, height, width = images.shape[:3]
    pad = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    widths = [(0, 0), (pad, pad), (pad, pad)] + [(0, 0)] * (images.ndim - 3)
    padded = np.pad(images, widths)
    rows = (np.arange(height)[None, :, None] + pad - np.asarray(dy)[:, None, None]).astype(np.intp)
    cols = (np.arange(width)[None, None, :] + pad - np.asarray(dx)[:, None, None]).astype(np.intp)
    return padded[np.arange(n)[:, None, None], rows, cols]


def random_shift(batch: np.ndarray, image_shape, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """A batch of images, each moved by its own offset drawn uniformly from [-max_shift, max_shift]².

    batch: flat rows (N, features) with features = prod(image_shape), or images as a convolution
      reads them, (N, C, H, W); image_shape: one sample's (H, W) or (H, W, C) as the data gives it.
    Returns a new array of the batch's shape and dtype; ``batch`` is not changed.
    """
    if max_shift == 0:
        return batch
    shape = check_image_shape(image_shape, max_shift)
    n = batch.shape[0]
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    if batch.ndim == 4:  # (N, C, H, W): move height and width, channels alike
        moved = shift_images(batch.transpose(0, 2, 3, 1), dy, dx)
        return np.ascontiguousarray(moved.transpose(0, 3, 1, 2))
    return shift_images(batch.reshape(n, *shape), dy, dx).reshape(n, -1)


__all__ = ["AUGMENT_SHIFT", "check_image_shape", "random_shift", "shift_images"]
