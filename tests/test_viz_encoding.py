"""The map view's binary message (``viz.encoding.pack``): every array arrives bit for bit, aligned for
the typed array that reads it, and the rest of the payload as it was."""

import json
import struct

import numpy as np
import pytest

from viz.encoding import ALIGN, arrays_start, pack, unpack


def header_of(message: bytes) -> dict:
    (length,) = struct.unpack_from("<I", message)
    return json.loads(message[4 : 4 + length])


def test_a_payload_comes_back_with_every_array_bit_for_bit_and_every_other_value_as_it_was():
    odd = np.array([np.nan, -0.0, np.inf, -np.inf, 1e-45, 3.4e38, 0.1], np.float32)
    payload = {
        "layout": "bars",
        "title": "<b>not markup</b> · ±",
        "limit": 0.25,
        "rows": [{"values": odd, "labels": ["a", 2]}, {"values": np.zeros(0, np.float32)}],
        "counts": np.arange(-3, 6, dtype=np.int32).reshape(3, 3),
        "lut": np.arange(7, dtype=np.uint8),
        "epochs": np.array([1.0, 0.1 + 0.2, np.nan, 5e-324, -0.0]),  # float64: a curve's saved numbers
        "flags": (True, None),
    }
    back = unpack(pack(payload))
    assert back["title"] == payload["title"] and back["limit"] == 0.25 and back["flags"] == [True, None]
    assert back["rows"][0]["labels"] == ["a", 2]
    assert back["rows"][0]["values"].tobytes() == odd.tobytes()  # NaN, -0 and the extremes, bit for bit
    assert back["rows"][1]["values"].size == 0
    assert back["counts"].dtype == np.int32 and list(back["counts"]) == list(range(-3, 6))  # C order
    assert back["lut"].dtype == np.uint8 and list(back["lut"]) == list(range(7))
    assert back["epochs"].dtype == np.float64 and back["epochs"].tobytes() == payload["epochs"].tobytes()


def test_each_array_starts_at_a_multiple_of_eight_from_the_messages_start():
    payload = {
        "a": np.arange(3, dtype=np.uint8),
        "b": np.ones(5, np.float32),
        "c": np.ones(1, np.int32),
        "d": np.ones(3, np.float64),
    }
    for title in ("", "x" * 3, "y" * 6):  # headers of several lengths
        message = pack({**payload, "title": title})
        header = header_of(message)
        start = arrays_start(struct.unpack_from("<I", message)[0])
        assert start % ALIGN == 0
        offsets = [header[key]["offset"] for key in "abcd"]
        assert all((start + offset) % ALIGN == 0 for offset in offsets)
        assert np.frombuffer(message, np.float32, 5, start + header["b"]["offset"]).tolist() == [1.0] * 5


def test_a_transposed_or_big_endian_array_is_sent_as_its_values_little_endian_in_c_order():
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = unpack(pack({"t": matrix.T, "big": matrix.astype(">f4")}))
    assert back["t"].tolist() == matrix.T.ravel().tolist()
    assert back["big"].tolist() == matrix.ravel().tolist()
    assert back["big"].dtype == np.dtype("<f4")


@pytest.mark.parametrize(
    "array", [np.zeros(2, np.float16), np.zeros(2, np.int64), np.array(["a"]), np.zeros(2, bool)]
)
def test_an_array_the_browser_has_no_typed_array_for_is_refused_by_its_dtype(array):
    with pytest.raises(ValueError, match=f"got {array.dtype}"):
        pack({"values": array})
