"""Matrices as figures: exact-value heatmaps when small, colour-mapped images when large.

Every matrix uses the diverging scale of ``viz.colors`` centred on 0 (blue
negative, white 0, red positive) whose half-width ``limit`` is either the matrix's own max |value| or
one shared by several matrices (``shared_limit``). Large matrices are sent as a
palette PNG (one byte a pixel before compression) instead of a list of numbers,
so a 784×256 weight matrix costs tens of kilobytes, not megabytes.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from .colors import COLORSCALE, LUT, NAN_RGB, lut_index

SMALL = 64  # both sides at most this: go.Heatmap with hover values
MAX_IMAGE_PIXELS = 120_000  # larger images are averaged down in blocks before sending


def as_matrix(values) -> np.ndarray:
    """A 2-D float64 view of a vector (1, n) or matrix (rows, cols)."""
    m = np.asarray(values, dtype=np.float64)
    if m.ndim == 1:
        m = m.reshape(1, -1)
    if m.ndim != 2:
        raise ValueError(f"expected a vector or matrix, got shape {m.shape}")
    return m


def summary_stats(values) -> dict[str, float]:
    """min, p25, median, p75, max of the finite entries (NaN when there are none)."""
    m = np.asarray(values, dtype=np.float64).ravel()
    m = m[np.isfinite(m)]
    if m.size == 0:
        return {k: float("nan") for k in ("min", "p25", "median", "p75", "max")}
    q = np.percentile(m, [0, 25, 50, 75, 100])
    return dict(zip(("min", "p25", "median", "p75", "max"), map(float, q)))


def stats_text(stats: dict[str, float]) -> str:
    return " · ".join(f"{k} {v:.3g}" for k, v in stats.items())


def abs_limit(values) -> float:
    """max |finite value|, or 1 for an all-zero or empty matrix (so the scale is never 0 wide)."""
    m = np.asarray(values, dtype=np.float64)
    m = np.abs(m[np.isfinite(m)])
    limit = float(m.max()) if m.size else 0.0
    return limit if limit > 0 else 1.0


def block_reduce(m: np.ndarray, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[np.ndarray, int]:
    """Average r×r blocks until rows·cols ≤ max_pixels; returns (matrix, r). r = 1: unchanged."""
    r = 1
    while (m.shape[0] // r) * (m.shape[1] // r) > max_pixels and min(m.shape) // (r + 1) >= 1:
        r += 1
    if r == 1:
        return m, 1
    rows, cols = (m.shape[0] // r) * r, (m.shape[1] // r) * r
    # A block's mean keeps sign and size on the same scale; trailing rows/cols that do not fill a block are dropped.
    return m[:rows, :cols].reshape(rows // r, r, cols // r, r).mean(axis=(1, 3)), r


def to_rgb(m: np.ndarray, limit: float) -> np.ndarray:
    """Colour-map a matrix onto the diverging scale: (rows, cols, 3) uint8, NaN as grey."""
    finite = np.isfinite(m)
    rgb = LUT[lut_index(m, limit)]
    rgb[~finite] = NAN_RGB
    return rgb


def png_data_uri(rgb: np.ndarray) -> str:
    """A palette PNG of an RGB uint8 image as a data: URI (the LUT has ≤ 257 colours)."""
    image = Image.fromarray(rgb, mode="RGB").quantize(
        colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    return _data_uri(image)


def gray_png_data_uri(gray: np.ndarray) -> str:
    """A greyscale PNG of a 2-D uint8 image as a data: URI."""
    return _data_uri(Image.fromarray(np.ascontiguousarray(gray, dtype=np.uint8), mode="L"))


def _data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def matrix_trace(values, limit: float, name: str = "", small: int = SMALL) -> dict:
    """A plotly trace (as a dict) of one matrix on the scale ±limit: heatmap when small, image when large.

    Plain dicts skip plotly's per-attribute validation, which costs more than the data itself.
    """
    m = as_matrix(values)
    rows, cols = m.shape
    if rows <= small and cols <= small:
        return dict(
            type="heatmap",
            z=m,
            zmin=-limit,
            zmax=limit,
            zmid=0,
            colorscale=COLORSCALE,
            showscale=False,
            name=name,
            hovertemplate=f"{name}[%{{y}}, %{{x}}] = %{{z:.6g}}<extra></extra>",
        )
    reduced, r = block_reduce(m)
    # Pixel centres sit at original indices so axes and hover read in the matrix's own rows and columns.
    return dict(
        type="image",
        source=png_data_uri(to_rgb(reduced, limit)),
        x0=(r - 1) / 2,
        y0=(r - 1) / 2,
        dx=r,
        dy=r,
        name=name,
        hovertemplate=(
            f"{name} near [%{{y:.0f}}, %{{x:.0f}}]"
            + (f" ({r}×{r} block mean)" if r > 1 else "")
            + "<extra></extra>"
        ),
    )
