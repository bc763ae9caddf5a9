"""What the browser reads from a packed message (ui/packed.js), in a blank Chromium page: every array
bit for bit as ``viz.encoding.pack`` sent it, a mostly-zero one included."""

import base64

import numpy as np
import pytest

from ui.components import PACKED_JS
from viz.encoding import header_of, pack

pytestmark = pytest.mark.browser

# Each array of the unpacked payload {name: typed array} as its bytes, base64.
_ARRAY_BYTES = """(message) => {
  const out = unpack(Uint8Array.from(atob(message), (c) => c.charCodeAt(0)));
  const bytes = (a) => btoa(String.fromCharCode(...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
  return Object.fromEntries(Object.entries(out).map(([key, a]) => [key, [a.constructor.name, bytes(a)]]));
}"""


@pytest.fixture(scope="module")
def blank(browser):
    page = browser.new_page(viewport={"width": 1500, "height": 900})
    page.goto("about:blank")
    yield page
    page.close()


def odd_values(dtype, n: int, rng) -> np.ndarray:
    """n values of ``dtype``, nine in ten of them 0; the others include -0, NaNs and the extremes."""
    array = np.zeros(n, dtype)
    spots = rng.choice(n, n // 10, replace=False)
    if dtype in (np.float32, np.float64):
        width = np.dtype(dtype).itemsize
        bits = np.uint32 if width == 4 else np.uint64
        nan_with_payload = np.array([0x7FC00123 if width == 4 else 0x7FF8000000000123], bits).view(dtype)[0]
        special = np.array([-0.0, np.nan, nan_with_payload, np.inf, -np.inf, np.finfo(dtype).tiny / 4], dtype)
        array[spots] = rng.standard_normal(spots.size).astype(dtype)
        array[spots[: special.size]] = special
    else:
        info = np.iinfo(dtype)
        array[spots] = rng.integers(info.min, info.max, spots.size, endpoint=True, dtype=dtype)
        array[spots[spots.size // 2 :]] = info.max  # no value sent is 0
        array[spots[: spots.size // 2]] |= 1
    return array


def test_the_browser_reads_every_array_bit_for_bit_whether_sent_whole_or_as_its_nonzero_values(blank):
    blank.add_script_tag(content=PACKED_JS.read_text(encoding="utf-8"))
    rng = np.random.default_rng(3)
    payload = {
        f"{dtype.__name__}_{n}": odd_values(dtype, n, rng)
        for dtype in (np.float32, np.float64, np.int32, np.uint8)
        for n in (9000, 4095)  # a mostly-zero array, and one too small to be sent as its nonzero values
    }
    payload["dense"] = np.linspace(-1, 1, 5000, dtype=np.float32)
    message = pack(payload)
    header = header_of(message)
    assert {key for key, marker in header.items() if "mask" in marker} == {
        f"{dtype}_9000" for dtype in ("float32", "float64", "int32", "uint8")
    }
    read = blank.evaluate(_ARRAY_BYTES, base64.b64encode(message).decode())
    for key, array in payload.items():
        kind, data = read[key]
        assert (
            kind
            == {"f4": "Float32Array", "f8": "Float64Array", "i4": "Int32Array", "u1": "Uint8Array"}[
                array.dtype.str[1:]
            ]
        )
        assert base64.b64decode(data) == array.tobytes(), key
