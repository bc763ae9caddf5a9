"""Arrays for the app's browser components, so that the numbers a view shows are the engine's, bit for
bit: ``pack`` makes a whole payload, its JSON values and its NumPy arrays, one binary message (the
map view's and the curve view's data). The arrays travel as their own bytes, with nothing to encode
or parse; the browser reads each as a typed array of its dtype (ui/packed.js).
"""

from __future__ import annotations

import json
import struct

import numpy as np

# The dtypes a packed array may have: those JavaScript reads as a typed array of its own.
PACKED_DTYPES = ("float32", "float64", "int32", "uint8")
ALIGN = 8  # each packed array starts at a multiple of this many bytes: any typed array can view it
ARRAY = "$array"  # in a packed header, the key that marks an array's place


def pack(payload) -> bytes:
    """``payload`` (dicts, lists, JSON values and NumPy arrays at any depth) as one binary message.

    The message is: the header's length (uint32, little-endian), the header, zeros up to a multiple of
    ``ALIGN``, then the arrays' part: each array's bytes (C order, little-endian), each from a multiple
    of ``ALIGN``. The header is the payload as JSON with each array replaced by ``{"$array": dtype,
    "offset": bytes from the start of the arrays' part, "length": values}``; the array's shape is the
    payload's to say. ValueError names an array whose dtype JavaScript has no typed array for.
    """
    chunks: list[bytes] = []
    size = 0  # of the arrays' part so far

    def place(value):
        nonlocal size
        if isinstance(value, np.ndarray):
            if value.dtype.name not in PACKED_DTYPES:
                raise ValueError(f"an array to pack is one of {', '.join(PACKED_DTYPES)}, got {value.dtype}")
            data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
            marker = {ARRAY: value.dtype.name, "offset": size, "length": int(value.size)}
            chunks.append(data + bytes(-len(data) % ALIGN))
            size += len(chunks[-1])
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
    """The payload of a ``pack`` message, each array as a NumPy array of its dtype (1-D, as sent)."""
    (length,) = struct.unpack_from("<I", message)
    header = json.loads(message[4 : 4 + length].decode())
    start = arrays_start(length)

    def read(value):
        if isinstance(value, dict) and ARRAY in value:
            dtype = np.dtype(value[ARRAY]).newbyteorder("<")
            return np.frombuffer(message, dtype, count=value["length"], offset=start + value["offset"])
        if isinstance(value, dict):
            return {key: read(item) for key, item in value.items()}
        if isinstance(value, list):
            return [read(item) for item in value]
        return value

    return read(header)


def arrays_start(header_bytes: int) -> int:
    """Where a packed message's arrays begin: after the length and the header, at a multiple of ALIGN."""
    return -(-(4 + header_bytes) // ALIGN) * ALIGN
