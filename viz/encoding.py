"""Arrays for the app's browser components, so that the numbers a view shows are the engine's, bit for
bit: ``pack`` makes a whole payload, its JSON values and its NumPy arrays, one binary message (the
map view's and the curve view's data). The arrays travel as their own bytes, with nothing to encode
or parse; the browser reads each as a typed array of its dtype (ui/packed.js). An array that is mostly
zeros (a dense layer's ΔW after one drawing: 90–98 % of its weights do not move) travels as its other
values and a bit per value that says which they are, bit for bit the same array once read.
"""

from __future__ import annotations

import json
import struct

import numpy as np

# The dtypes a packed array may have: those JavaScript reads as a typed array of its own.
PACKED_DTYPES = ("float32", "float64", "int32", "uint8")
ALIGN = 8  # each packed array starts at a multiple of this many bytes: any typed array can view it
ARRAY = "$array"  # in a packed header, the key that marks an array's place
# An array of at least SPARSE_MIN values, of which at least half are zero (every bit 0, so -0.0 is not),
# goes as its other values and a mask: a bit per value, least significant first, 1 for a value sent.
SPARSE_MIN = 4096


def pack(payload) -> bytes:
    """``payload`` (dicts, lists, JSON values and NumPy arrays at any depth) as one binary message.

    The message is: the header's length (uint32, little-endian), the header, zeros up to a multiple of
    ``ALIGN``, then the arrays' part: each array's bytes (C order, little-endian), each from a multiple
    of ``ALIGN``. The header is the payload as JSON with each array replaced by ``{"$array": dtype,
    "offset": bytes from the start of the arrays' part, "length": values}``; the array's shape is the
    payload's to say. A mostly-zero array (``SPARSE_MIN``) also has ``"mask"``, where its mask starts,
    and ``"count"``, how many values its ``"offset"`` holds: those whose bit is 1, in order.
    ValueError names an array whose dtype JavaScript has no typed array for.
    """
    chunks: list[bytes] = []
    size = 0  # of the arrays' part so far

    def add(data: bytes) -> int:
        """Put ``data`` in the arrays' part, from a multiple of ALIGN; returns where it starts."""
        nonlocal size
        chunks.append(data + bytes(-len(data) % ALIGN))
        size += len(chunks[-1])
        return size - len(chunks[-1])

    def place(value):
        if isinstance(value, np.ndarray):
            if value.dtype.name not in PACKED_DTYPES:
                raise ValueError(f"an array to pack is one of {', '.join(PACKED_DTYPES)}, got {value.dtype}")
            flat = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).ravel()
            marker = {ARRAY: value.dtype.name, "length": int(flat.size)}
            sent = bits_of(flat) != 0 if flat.size >= SPARSE_MIN else None  # a short array goes whole
            if sent is not None and 2 * np.count_nonzero(sent) <= flat.size:
                marker["mask"] = add(np.packbits(sent, bitorder="little").tobytes())
                flat = flat[sent]
                marker["count"] = int(flat.size)
            marker["offset"] = add(flat.tobytes())
            return marker
        if isinstance(value, dict):
            return {str(key): place(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [place(item) for item in value]
        return value

    header = json.dumps(place(payload)).encode()
    head = struct.pack("<I", len(header)) + header
    return head + bytes(arrays_start(len(header)) - len(head)) + b"".join(chunks)


def unpack(message: bytes):
    """The payload of a ``pack`` message, each array as a NumPy array of its dtype (1-D, as sent; a
    mostly-zero one with its zeros back in their places)."""
    header = header_of(message)
    start = arrays_start(struct.unpack_from("<I", message)[0])

    def read(value):
        if isinstance(value, dict) and ARRAY in value:
            dtype = np.dtype(value[ARRAY]).newbyteorder("<")
            length = value["length"]
            if "mask" not in value:
                return np.frombuffer(message, dtype, count=length, offset=start + value["offset"])
            mask = np.frombuffer(message, np.uint8, count=-(-length // 8), offset=start + value["mask"])
            sent = np.unpackbits(mask, count=length, bitorder="little").astype(bool)
            array = np.zeros(length, dtype)
            array[sent] = np.frombuffer(message, dtype, count=value["count"], offset=start + value["offset"])
            return array
        if isinstance(value, dict):
            return {key: read(item) for key, item in value.items()}
        if isinstance(value, list):
            return [read(item) for item in value]
        return value

    return read(header)


def header_of(message: bytes) -> dict:
    """The header of a ``pack`` message: the payload with a marker in each array's place."""
    (length,) = struct.unpack_from("<I", message)
    return json.loads(message[4 : 4 + length].decode())


def bits_of(array: np.ndarray) -> np.ndarray:
    """Each value's bits as an unsigned integer of its width: 0 for +0 alone, not for -0.0."""
    return array.view(f"<u{array.dtype.itemsize}")


def arrays_start(header_bytes: int) -> int:
    """Where a packed message's arrays begin: after the length and the header, at a multiple of ALIGN."""
    return -(-(4 + header_bytes) // ALIGN) * ALIGN
