"""Files that lie: zips whose directory sizes are false, .npy headers that claim too much, bombs.

Built byte by byte so a test can say exactly which header lies; used by the
store, archive and memory tests and by bench/hostile_inputs.py.
"""

import io
import struct
import zipfile
import zlib

import numpy as np

_ZEROS = bytes(1 << 20)


def npy_header(shape, descr="<f4", fortran_order=False, version=(1, 0)) -> bytes:
    """The bytes of a .npy header (magic, length, dict) for ``shape`` and ``descr``."""
    text = f"{{'descr': '{descr}', 'fortran_order': {fortran_order}, 'shape': {tuple(shape)!r}, }}"
    pad_to = 64
    length_size = 2 if version == (1, 0) else 4
    total = 6 + 2 + length_size + len(text) + 1
    text += " " * (-total % pad_to) + "\n"
    length = struct.pack("<H" if version == (1, 0) else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text.encode("latin1")


def deflate_zeros(prefix: bytes, n_mib: int) -> tuple[bytes, int, int]:
    """(raw deflate stream, CRC-32, size) of ``prefix`` followed by ``n_mib`` MiB of zero bytes.

    After a full flush the compressor starts afresh, so every MiB of zeros
    compresses to the same bytes: a 1 GiB stream is built from one segment.
    """
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
    segment_maker = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = segment_maker.compress(_ZEROS) + segment_maker.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = zlib.crc32(prefix)
    for _ in range(n_mib):
        crc = zlib.crc32(_ZEROS, crc)
    return first + segment * n_mib + final, crc, len(prefix) + (n_mib << 20)


def raw_zip(entries) -> bytes:
    """A zip from ``entries``: dicts with name, data (already compressed), method, crc, file_size.

    ``file_size`` and ``compress_size`` are written as given, so they may lie;
    ``compress_size`` defaults to ``len(data)``.
    """
    out = io.BytesIO()
    central = []
    for entry in entries:
        name = entry["name"].encode("utf-8")
        data = entry["data"]
        method = entry.get("method", zipfile.ZIP_DEFLATED)
        crc = entry["crc"]
        size = entry["file_size"]
        packed = entry.get("compress_size", len(data))
        offset = out.tell()
        out.write(
            struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, packed, size, len(name), 0)
        )
        out.write(name)
        out.write(data)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0,
                crc,
                packed,
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), start, 0)
    )
    return out.getvalue()


def deflated_entry(name: str, payload: bytes, **lies) -> dict:
    """A raw_zip entry holding ``payload`` deflated; keyword arguments replace honest fields."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(payload) + compressor.flush()
    return {"name": name, "data": data, "crc": zlib.crc32(payload), "file_size": len(payload), **lies}


def bomb_npz(n_mib: int = 1024, key: str = "layer1.W") -> bytes:
    """An .npz of about 1 MB holding one honest float32 array of ``n_mib`` MiB of zeros."""
    header = npy_header((n_mib << 18,))  # float32: 4 bytes per item
    data, crc, size = deflate_zeros(header, n_mib)
    return raw_zip([{"name": f"{key}.npy", "data": data, "crc": crc, "file_size": size}])


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def blank_png(width: int, height: int) -> bytes:
    """A real, valid, all-black 8-bit grayscale PNG of width × height, built without holding its pixels.

    9000 × 9000 is about 80 KB on disk and 81 MB once decoded (more as floats).
    """
    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then black pixels
    parts = [compressor.compress(row) for _ in range(height)]
    idat = b"".join(parts) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )
