"""What the browser reads from a packed message (ui/packed.js) and what the map view paints from it,
in a blank Chromium page: every array bit for bit as ``viz.encoding.pack`` sent it, a mostly-zero
one included, and every weight of a ΔW in the colour of its value."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from ui.components import PACKED_JS, script
from ui.map_view import ASSETS
from viz.colors import LUT, lut_index
from viz.draw import weight_change_payload
from viz.encoding import header_of, pack

pytestmark = pytest.mark.browser

# Each array of the unpacked payload {name: typed array} as its bytes, base64.
_ARRAY_BYTES = """(message) => {
  const out = unpack(Uint8Array.from(atob(message), (c) => c.charCodeAt(0)));
  const bytes = (a) => btoa(String.fromCharCode(...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
  return Object.fromEntries(Object.entries(out).map(([key, a]) => [key, [a.constructor.name, bytes(a)]]));
}"""


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


# Mounts the map view in the page as Streamlit does (its default export, given the element that holds
# its HTML and the packed message), and returns the weights' canvas as a PNG data URL.
_MOUNT = """async ([source, html, css, message]) => {
  const view = await import("data:text/javascript;charset=utf-8," + encodeURIComponent(source));
  const parent = document.createElement("div");
  parent.style.width = "1400px";
  parent.innerHTML = `<style>${css}</style>${html}`;
  document.body.replaceChildren(parent);
  view.default({ parentElement: parent, data: Uint8Array.from(atob(message), (c) => c.charCodeAt(0)) });
  return parent.querySelector(".mv-mosaic").toDataURL("image/png");
}"""


def painted(page, payload) -> np.ndarray:
    """The map view's weights for ``payload`` as the page paints them: (rows, cols, 4) uint8."""
    url = page.evaluate(
        _MOUNT,
        [
            script(ASSETS, "map_view", packed=True),
            (ASSETS / "map_view.html").read_text(encoding="utf-8"),
            (ASSETS / "map_view.css").read_text(encoding="utf-8"),
            base64.b64encode(pack(payload)).decode(),
        ],
    )
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


def test_each_weight_of_a_mostly_unchanged_dense_layer_is_painted_in_the_colour_of_its_change(blank):
    rng = np.random.default_rng(5)
    delta = np.zeros((512, 16), np.float32)  # 512 inputs, 16 units: 8,192 weights, most unchanged
    moved = rng.random(delta.shape) < 0.1
    delta[moved] = rng.standard_normal(moved.sum()).astype(np.float32) * 1e-3
    payload = weight_change_payload(delta, "ΔW of layer 1 (dense16)")
    assert "mask" in header_of(pack(payload))["values"]  # sent as its nonzero values and their mask
    pixels = painted(blank, payload)
    # a unit per row, an input per column: 2 screen pixels per input across, 12 per unit down
    assert pixels.shape == (16 * 12, 512 * 2, 4)
    centres = pixels[6::12, 1::2, :3]
    expected = LUT[lut_index(delta.T, payload["limit"])]
    assert np.array_equal(centres, expected)
    assert (pixels[..., 3] == 255).all()


def test_a_convolutions_kernels_are_painted_a_pixel_apart_on_the_gaps_colour(blank):
    delta = np.arange(-18, 18, dtype=np.float32).reshape(2, 2, 3, 3) / 18  # (C_out, C_in, 3, 3)
    payload = weight_change_payload(delta, "ΔW of layer 1 (conv2k3)")
    pixels = painted(blank, payload)
    scale = 12  # screen pixels per weight: the most there are
    assert pixels.shape == ((2 * 4 - 1) * scale, (2 * 4 - 1) * scale, 4)
    cells = pixels[scale // 2 :: scale, scale // 2 :: scale, :3]  # a 7×7 grid: 2×2 kernels and their gaps
    gap = np.array([230, 233, 238], np.uint8)
    assert (cells[3] == gap).all() and (cells[:, 3] == gap).all()
    for c_in in range(2):  # a row of kernels per input channel, a column per output channel
        for c_out in range(2):
            kernel = cells[4 * c_in : 4 * c_in + 3, 4 * c_out : 4 * c_out + 3]
            assert np.array_equal(kernel, LUT[lut_index(delta[c_out, c_in], payload["limit"])])
