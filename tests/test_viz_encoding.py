"""The map view's binary message (``viz.encoding.pack``): every array arrives bit for bit, aligned for
the typed array that reads it, and the rest of the payload as it was."""

import struct

import numpy as np
import pytest

from viz.encoding import ALIGN, SPARSE_MIN, arrays_start, header_of, pack, unpack


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


def test_a_mostly_zero_array_is_sent_as_its_other_values_and_a_mask_and_comes_back_bit_for_bit():
    rng = np.random.default_rng(0)
    delta = np.zeros((1568, 128), np.float32)  # a dense layer's ΔW after one drawing: most weights unmoved
    moved = rng.random(delta.shape) < 0.1
    delta[moved] = rng.standard_normal(moved.sum()).astype(np.float32)
    nan_with_payload = np.array([0x7FC00123], np.uint32).view(np.float32)[0]
    delta.flat[[5, 6, 7, 8]] = [-0.0, nan_with_payload, 1e-45, -np.inf]  # -0.0 is a value, not a zero
    message = pack({"values": delta})
    marker = header_of(message)["values"]
    sent = int(moved.sum() + (~moved.flat[[5, 6, 7, 8]]).sum())
    assert marker["count"] == sent and marker["length"] == delta.size
    assert len(message) < delta.size / 8 + 4 * sent + 200  # a bit per value, and the values sent
    back = unpack(message)["values"]
    assert back.dtype == np.float32 and back.tobytes() == delta.ravel().tobytes()
    for dtype in (np.float64, np.int32, np.uint8):  # every packed dtype alike
        array = (delta != 0).astype(dtype) * rng.integers(1, 100, delta.shape).astype(dtype)
        assert "mask" in header_of(message := pack({"a": array}))["a"]
        assert unpack(message)["a"].tobytes() == array.tobytes()


@pytest.mark.parametrize(
    "array",
    [
        np.zeros(SPARSE_MIN - 1, np.float32),  # too short to gain much: whole
        np.r_[np.zeros(SPARSE_MIN // 2 - 1), np.ones(SPARSE_MIN // 2 + 1)].astype(np.float32),  # most not 0
        np.full(SPARSE_MIN * 2, -0.0, np.float32),  # -0.0 is not 0 bit for bit
    ],
)
def test_a_short_array_or_one_mostly_of_other_values_is_sent_whole(array):
    message = pack({"a": array})
    assert "mask" not in header_of(message)["a"]
    assert len(message) >= array.nbytes and unpack(message)["a"].tobytes() == array.tobytes()


def test_an_array_half_zeros_is_sent_as_its_other_values():
    array = np.r_[np.zeros(SPARSE_MIN // 2), np.arange(1, SPARSE_MIN // 2 + 1)].astype(np.float32)
    message = pack({"a": array, "b": np.ones(3, np.uint8)})
    header = header_of(message)
    assert header["a"]["count"] == SPARSE_MIN // 2
    assert all(
        header[key][part] % ALIGN == 0 for key, part in (("a", "mask"), ("a", "offset"), ("b", "offset"))
    )
    back = unpack(message)
    assert back["a"].tobytes() == array.tobytes() and back["b"].tolist() == [1, 1, 1]
