"""Synthetic drawn shapes: white strokes on black, like a drawing on the canvas.

Each image gets a random size, position, rotation, stroke width, fill or outline
and pixel noise. Shapes are drawn with Pillow at 4x resolution and downsampled,
which anti-aliases the edges.

Command line (n = total images, split per class):
    python -m datasets.shapes --out data/shapes --size 28 --n 1000 --train-split 0.8 --seed 0
writes out/train/<class>/0001.png ... and out/val/<class>/..., readable with
datasets.load("folder", path="data/shapes").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from backprop.options import Option

from ..core import SEED, VAL_FRACTION, Dataset, check_choice, check_fraction, check_int, stratified_split

SHAPES = ("circle", "square", "triangle", "cross", "star")
DEFAULT_SHAPES = ("circle", "square", "triangle")
DESCRIPTION = "Synthetic drawn shapes (circle, square, triangle, ...) with random size, pose and noise"
SUPERSAMPLE = 4
# The most pixels a set may hold in all (10,000 images of 64×64, 164 MB as float32).
MAX_PIXELS = 10_000 * 64 * 64
OPTIONS = (
    Option(
        "samples",
        "int",
        600,
        label="Images",
        low=2,
        high=20_000,
        help="Images in all, balanced over the shapes.",
    ),
    Option("size", "int", 28, label="Image size", low=8, high=64, help="Side of each image in pixels."),
    Option(
        "shapes",
        "text_list",
        DEFAULT_SHAPES,
        label="Shapes",
        choices=SHAPES,
        min_length=2,
        max_length=len(SHAPES),
        help="The classes, from circle, square, triangle, cross, star.",
    ),
    Option(
        "noise", "float", 0.1, label="Noise", low=0, high=1, help="Largest pixel-noise std (1.0 = white)."
    ),
    VAL_FRACTION,
    SEED,
)


def parse_shapes(shapes) -> list:
    if isinstance(shapes, str):
        shapes = [s for s in shapes.replace(",", " ").split() if s]
    shapes = list(shapes)
    for shape in shapes:
        check_choice("shape", shape, SHAPES)
    if len(shapes) < 2 or len(set(shapes)) != len(shapes):
        raise ValueError(
            f"shapes {shapes!r} must name at least two different shapes from {', '.join(SHAPES)}"
        )
    return shapes


def _outline(shape: str, rotation: float) -> list:
    """Polygon vertices on the unit scale (radius 1 around the origin), rotated; None for circle."""
    if shape == "circle":
        return None
    if shape == "square":
        angles = np.pi / 4 + np.arange(4) * np.pi / 2
        radii = np.ones(4)
    elif shape == "triangle":
        angles = -np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        radii = np.ones(3)
    elif shape == "star":
        angles = -np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, 1.0, 0.42)
    else:  # cross: a plus sign with arms 0.3 wide
        w = 0.3
        pts = np.array(
            [
                (-w, -1),
                (w, -1),
                (w, -w),
                (1, -w),
                (1, w),
                (w, w),
                (w, 1),
                (-w, 1),
                (-w, w),
                (-1, w),
                (-1, -w),
                (-w, -w),
            ],
            dtype=float,
        )
        angles = np.arctan2(pts[:, 1], pts[:, 0])
        radii = np.hypot(pts[:, 0], pts[:, 1])
    angles = angles + rotation
    return list(zip(radii * np.cos(angles), radii * np.sin(angles)))


def draw_shape(shape: str, size: int, rng: np.random.Generator, noise: float = 0.1) -> np.ndarray:
    """One (size, size) uint8 image of `shape`, white on black."""
    big = size * SUPERSAMPLE
    image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(image)
    radius = rng.uniform(0.22, 0.42) * big
    margin = radius + 0.04 * big
    cx, cy = rng.uniform(margin, big - margin, 2)
    rotation = rng.uniform(0, 2 * np.pi)
    stroke = max(1, int(round(rng.uniform(0.04, 0.1) * big)))
    filled = rng.random() < 0.5
    brightness = int(rng.integers(190, 256))
    vertices = _outline(shape, rotation)
    if vertices is None:
        box = [cx - radius, cy - radius, cx + radius, cy + radius]
        if filled:
            draw.ellipse(box, fill=brightness)
        else:
            draw.ellipse(box, outline=brightness, width=stroke)
    else:
        points = [(cx + radius * px, cy + radius * py) for px, py in vertices]
        if filled:
            draw.polygon(points, fill=brightness)
        else:
            draw.line(points + [points[0], points[1]], fill=brightness, width=stroke, joint="curve")
    small = np.asarray(image.resize((size, size), Image.Resampling.BOX), dtype=np.float32)
    if noise > 0:
        small = small + rng.normal(0, rng.uniform(0, noise) * 255, small.shape)
    return np.clip(np.round(small), 0, 255).astype(np.uint8)


def generate(n: int, size: int = 28, shapes=DEFAULT_SHAPES, noise: float = 0.1, seed=0) -> tuple:
    """n images cycling through `shapes` so classes are balanced (counts differ by at most 1).

    Returns images (n, size, size) uint8 and labels (n,) int64 indexing `shapes`.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(shapes)).astype(np.int64)
    images = (
        np.stack([draw_shape(shapes[k], size, rng, noise) for k in labels])
        if n
        else np.zeros((0, size, size), np.uint8)
    )
    return images, labels


def _check(samples, size, shapes, noise, val_fraction):
    shapes = parse_shapes(shapes)
    samples = check_int("samples", samples, len(shapes), "ask for at least one image per shape")
    size = check_int("size", size, 8, "use an image size of at least 8 pixels, e.g. 28")
    if samples * size * size > MAX_PIXELS:
        raise ValueError(
            f"{samples:,} images of {size}×{size} are {samples * size * size:,} pixels, more than the "
            f"{MAX_PIXELS:,} a shapes set may hold; ask for fewer or smaller images"
        )
    given_noise = noise
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise ValueError(f"noise must be a number in [0, 1], got {noise!r}") from None
    if not 0 <= noise <= 1:
        raise ValueError(f"noise {given_noise!r} must be in [0, 1] (max pixel-noise std as a share of white)")
    val_fraction = check_fraction("val_fraction", val_fraction)
    return samples, size, shapes, noise, val_fraction


def build_shapes(*, samples, size, shapes, noise, val_fraction, seed) -> Dataset:
    """Balanced synthetic shapes, split per class into train and validation.

    samples: total images N; size: side in pixels (S)
    shapes: class list from circle, square, triangle, cross, star (list or 'a,b,c')
    noise: per image, gaussian pixel noise with std drawn from [0, noise] (1.0 = white)
    Returns x (N, S*S) float32 in [0, 1], y (N,) int64; input_shape (S, S).
    """
    samples, size, shapes, noise, val_fraction = _check(samples, size, shapes, noise, val_fraction)
    images, labels = generate(samples, size, shapes, noise, seed)
    train_idx, val_idx = stratified_split(labels, val_fraction, np.random.default_rng([seed, 1]))
    # each split becomes float32 in one pass from the uint8 pictures: no float copy of the whole set
    pixels = images.reshape(samples, size * size)
    x_train, x_val = (
        np.divide(pixels[rows], np.float32(255), dtype=np.float32) for rows in (train_idx, val_idx)
    )
    params = dict(
        samples=samples, size=size, shapes=list(shapes), noise=noise, val_fraction=val_fraction, seed=seed
    )
    return Dataset(
        name="shapes",
        kind="image",
        params=params,
        description=DESCRIPTION,
        x_train=x_train,
        y_train=labels[train_idx],
        x_val=x_val,
        y_val=labels[val_idx],
        classes=list(shapes),
        input_shape=(size, size),
    )


def write_folders(
    out, n=1000, size=28, train_split=0.8, shapes=DEFAULT_SHAPES, noise=0.1, seed=0, progress=None
) -> dict:
    """Write out/train/<class>/0001.png and out/val/<class>/... ; returns {split: {class: count}}."""
    try:
        val_fraction = 1 - float(train_split)
    except (TypeError, ValueError):
        val_fraction = None
    if val_fraction is None or not 0 < float(train_split) <= 1:
        raise ValueError(
            f"train_split must be in (0, 1], got {train_split!r}; e.g. 0.8 keeps 80 % for training"
        )
    n, size, shapes, noise, val_fraction = _check(n, size, shapes, noise, val_fraction)
    images, labels = generate(n, size, shapes, noise, seed)
    train_idx, val_idx = stratified_split(labels, val_fraction, np.random.default_rng([seed, 1]))
    out = Path(out)
    counts = {"train": dict.fromkeys(shapes, 0), "val": dict.fromkeys(shapes, 0)}
    done = 0
    for split, indices in (("train", train_idx), ("val", val_idx)):
        for i in sorted(indices):
            name = shapes[labels[i]]
            counts[split][name] += 1
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i], mode="L").save(folder / f"{counts[split][name]:04d}.png")
            done += 1
            if progress:
                progress(done, n)
    return counts
