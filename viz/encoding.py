"""Arrays for the app's browser components: their bytes as base64 text, read back in JavaScript as a
typed array of the same dtype (``Float32Array``, ``Float64Array``, ``Int32Array``, ``Uint8Array``), so
the numbers a view shows are the engine's, bit for bit."""

from __future__ import annotations

import base64

import numpy as np


def b64(array: np.ndarray) -> str:
    """The array's bytes in C order (little-endian, as the browser reads them), as base64 text."""
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
