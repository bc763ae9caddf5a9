"""Save and load a network as one .npz: its weights plus its configuration as JSON bytes.

Nothing is pickled: arrays are plain numeric arrays and ``load`` reads with
``allow_pickle=False``. Writes go to a temporary file in the same folder, are
fsynced, then renamed over the target, so a crash never leaves half a file.

Reading is for files that may come from anywhere (a run folder copied in, an
imported archive, a model dropped into models/): ``open_regular`` opens only a
regular file, never through a symbolic link and never blocking on a FIFO;
``read_json`` caps the bytes it reads; ``load_arrays`` is the one .npz reader of
the project: it checks every member's sizes from the zip directory and the .npy
header against ``backprop.limits`` before allocating, then enforces them while
reading, because headers can lie.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import io
import json
import math
import os
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import limits
from .network import Network, described_by_sizes, planned_parameters

FORMAT = "backprop-network/2"
# Files written when a network was always a multilayer perceptron given by its sizes.
FORMAT_SIZES = "backprop-network/1"
_CONFIG_KEY = "__config__"
# Only plain numbers are read from an .npz: bool, int, uint, float, complex.
_NUMERIC_KINDS = "biufc"
_CHUNK = 1 << 20
_FILE_KINDS = {
    stat.S_ISDIR: "a folder",
    stat.S_ISFIFO: "a named pipe (FIFO)",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
    stat.S_ISLNK: "a symbolic link",
}


def _not_a_file(name: str, mode: int) -> ValueError:
    kind = next((label for test, label in _FILE_KINDS.items() if test(mode)), "not a regular file")
    return ValueError(f"{name} is {kind}, not a regular file; only regular files are read")


def open_regular(path):
    """``path`` opened for binary reading when it is a regular file, else ValueError saying what it is.

    A symbolic link is not followed (O_NOFOLLOW), a FIFO or device is refused
    before it is read (O_NONBLOCK: opening a FIFO never waits for a writer), and
    the opened descriptor is checked again, so a file swapped after the first
    check is refused too. FileNotFoundError passes through.
    """
    path = Path(path)
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _not_a_file(path.name, mode)
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP:  # it became a symbolic link after the check
            raise _not_a_file(path.name, stat.S_IFLNK) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_a_file(path.name, mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_file(path, budget: limits.Budget) -> bytes:
    """The bytes of the regular file ``path``, or OverBudget when it holds more than ``budget`` allows."""
    path = Path(path)
    limit = budget.value()
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise budget.exceeded(path.name, size, limit)
        # read(limit + 1) would set aside the whole budget up front: read what fstat saw, then
        # whatever the file grew by since, a step at a time, up to the budget.
        chunks = [handle.read(size + 1)]
        total = len(chunks[0])
        while total > size and total <= limit and (chunk := handle.read(min(_CHUNK, limit + 1 - total))):
            chunks.append(chunk)
            total += len(chunk)
    if total > limit:
        raise budget.exceeded(path.name, None, limit)
    return b"".join(chunks)


def read_json(path, budget: limits.Budget):
    """The JSON value in the regular file ``path`` (at most ``budget`` bytes); ValueError says what is wrong."""
    path = Path(path)
    data = read_file(path, budget)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path.name} is not valid JSON ({err})") from None
    except RecursionError:
        raise ValueError(f"{path.name} is nested too deeply to be a run file") from None


class BoundedReader:
    """A reader that raises ``too_much()`` once more than ``limit`` bytes have come through.

    Wrap a stream whose length was declared by a header: reading stops at the
    declared length plus one byte, however much the data would really give.
    """

    def __init__(self, source, limit: int, too_much):
        self.source, self.limit, self.too_much = source, limit, too_much
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        room = self.limit - self.count + 1
        data = self.source.read(room if n is None or n < 0 else min(n, room))
        self.count += len(data)
        if self.count > self.limit:
            raise self.too_much()
        return data

    def __repr__(self) -> str:
        return f"BoundedReader({self.count}/{self.limit} bytes)"


def _npy_header(reader: BoundedReader, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from the start of a .npy stream; ValueError for anything but numbers."""
    version = np.lib.format.read_magic(reader)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(reader)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(reader)
    else:
        raise ValueError(f"{where} uses .npy format version {version}, which is not read here")
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.hasobject:
        raise ValueError(f"{where} holds {dtype} values; only plain numbers are read (never Python objects)")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"{where} has an invalid shape {shape!r}")
    return shape, fortran_order, dtype


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, keep: bool):
    """One .npy member as an array (None when only checking), its sizes held to the budgets."""
    key = info.filename.removesuffix(".npy")

    def lying():
        return ValueError(f"{key} holds more data than its header says")

    with archive.open(info) as member:
        reader = BoundedReader(member, info.file_size, lying)
        shape, fortran_order, dtype = _npy_header(reader, key)
        nbytes = math.prod(shape) * dtype.itemsize
        array_limit = limits.ARRAY_BYTES.value()
        if nbytes > array_limit:
            raise limits.ARRAY_BYTES.exceeded(f"{key} in {label}", nbytes, array_limit)
        if reader.count + nbytes != info.file_size:
            raise ValueError(
                f"{key} declares {nbytes:,} bytes of data but the archive holds "
                f"{info.file_size - reader.count:,}"
            )
        array = np.empty(math.prod(shape), dtype) if keep else None
        raw = array.view(np.uint8) if keep else None
        done = 0
        while done < nbytes:
            chunk = reader.read(min(_CHUNK, nbytes - done))
            if not chunk:
                raise ValueError(f"{key} ends after {done:,} of {nbytes:,} bytes")
            if keep:
                raw[done : done + len(chunk)] = np.frombuffer(chunk, np.uint8)
            done += len(chunk)
        if reader.read(1):  # reading to the end also makes zipfile check the CRC-32
            raise lying()
    if not keep:
        return None
    return array.reshape(shape[::-1]).transpose() if fortran_order else array.reshape(shape)


def _check_directory(archive: zipfile.ZipFile, label: str) -> None:
    """Refuse from the zip directory alone: odd members, encryption, exotic compression, too many bytes."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ValueError("it lists an array twice")
    for info in infos:
        if info.is_dir() or not info.filename.endswith(".npy"):
            raise ValueError(f"it holds {info.filename!r}, which is not an array")
        if info.flag_bits & 0x1:
            raise ValueError("it is encrypted")
        # Stored and deflated data are read in bounded steps; other methods may inflate in one call.
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"it uses zip compression method {info.compress_type}, which is not read here")
    total = sum(info.file_size for info in infos)
    archive_limit = limits.ARCHIVE_BYTES.value()
    if total > archive_limit:
        raise limits.ARCHIVE_BYTES.exceeded(f"{label} unpacked", total, archive_limit)


def load_arrays(source, name: str | None = None, keep: bool = True, only=None):
    """Read an .npz written by save_arrays: ``(arrays, metadata)``; ValueError says what is wrong.

    source: a path, the file's bytes, or a binary file object; name: how messages
    call it (default the file name). Sizes are checked from the zip directory and
    each .npy header before anything is allocated (``limits.ARCHIVE_BYTES`` for
    the whole file, ``limits.ARRAY_BYTES`` per array) and enforced while reading.
    keep=False reads every byte (CRC-32 included) without keeping the arrays.
    only: the names of the arrays to read; the metadata is always read, the
    others are checked from the zip directory only.
    """
    is_path = isinstance(source, (str, os.PathLike))
    label = name or (Path(source).name if is_path else "the .npz file")
    arrays: dict[str, np.ndarray] = {}
    try:
        with contextlib.ExitStack() as stack:
            if is_path:
                handle = stack.enter_context(open_regular(source))
            elif isinstance(source, (bytes, bytearray, memoryview)):
                handle = io.BytesIO(source)
            else:
                handle = source
            archive = stack.enter_context(zipfile.ZipFile(handle))
            _check_directory(archive, label)
            for info in archive.infolist():
                key = info.filename.removesuffix(".npy")
                if only is not None and key not in only and key != _CONFIG_KEY:
                    continue
                array = _read_member(archive, info, label, keep)
                if array is not None:
                    arrays[key] = array
    except (FileNotFoundError, limits.OverBudget):
        raise
    except ValueError as err:
        raise ValueError(f"{label} is not a readable weights file ({err})") from None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as err:
        raise ValueError(f"{label} is not a readable weights file ({type(err).__name__}: {err})") from None
    metadata = None
    if _CONFIG_KEY in arrays:
        raw = arrays.pop(_CONFIG_KEY)
        try:
            metadata = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
            raise ValueError(f"{label} has a damaged configuration: {err}") from None
    return arrays, metadata


def load_metadata(source, name: str | None = None):
    """The JSON metadata of an .npz written by save_arrays (None without), without reading its arrays."""
    return load_arrays(source, name=name, only=())[1]


def atomic_write(path, write) -> None:
    """Call write(file_object) on a temp file beside ``path``, fsync, then os.replace it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def pack_uint8(array: np.ndarray) -> dict:
    """A small uint8 array as JSON-ready metadata ({"shape", "uint8_base64"}), e.g. a model card's
    pictures of what it gets wrong. Read back with ``unpack_uint8``."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return {"shape": list(array.shape), "uint8_base64": base64.b64encode(array.tobytes()).decode("ascii")}


def unpack_uint8(packed, max_bytes: int = 1 << 20) -> np.ndarray:
    """The uint8 array of ``pack_uint8``; ValueError when it is not one or holds more than max_bytes.

    Metadata comes from files that may come from anywhere: the shape is checked
    against the budget and against the bytes before anything is built.
    """
    try:
        shape = tuple(int(s) for s in packed["shape"])
        text = packed["uint8_base64"]
        if not isinstance(text, str) or any(s < 0 for s in shape):
            raise TypeError
    except (TypeError, KeyError, ValueError):
        raise ValueError(
            "packed pixels need a shape of non-negative integers and uint8_base64 text"
        ) from None
    size = math.prod(shape)
    if size > max_bytes or len(text) > 4 * (max_bytes // 3 + 1):
        raise ValueError(f"packed pixels of shape {shape} are more than the {max_bytes:,} bytes allowed")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("packed pixels are not valid base64") from None
    if len(data) != size:
        raise ValueError(f"packed pixels hold {len(data):,} bytes, their shape {shape} needs {size:,}")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def save_arrays(path, arrays: dict[str, np.ndarray], metadata: dict | None = None) -> None:
    """Atomically write named arrays (and optional JSON metadata) to an .npz file."""
    payload = dict(arrays)
    if metadata is not None:
        payload[_CONFIG_KEY] = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda handle: np.savez(handle, **payload))


def save(net: Network, path, metadata: dict | None = None) -> None:
    """Write ``net`` (architecture, weights, batch-norm statistics) to ``path`` (.npz).

    metadata: optional JSON-ready facts stored beside it (dataset, classes,
    validation accuracy, the command that made it); read back with ``load_with_metadata``.
    """
    save_arrays(
        path, net.get_weights(), {"format": FORMAT, "network": net.config(), "metadata": metadata or {}}
    )


def check_planned_size(config: dict, arrays: dict, name: str) -> None:
    """Refuse a configuration (Network arguments) that would learn more numbers than ``arrays`` hold.

    The arrays were held to the .npz budgets; checking the planned parameter count
    against them before a network is built keeps a file from making it allocate
    layers of any size it claims. A network no bigger than one array the budgets
    allow may still be built: loading its weights then names exactly what does not fit.
    """
    keys = ("architecture", "input_shape", "n_outputs", "vocab_size")
    planned = planned_parameters(*(config.get(k) for k in keys))
    stored = sum(int(np.asarray(value).size) for value in arrays.values())
    if planned > max(stored, limits.ARRAY_BYTES.value() // 8):
        raise ValueError(
            f"{name}: its configuration does not match its weights: it describes {planned:,} "
            f"parameters, the file stores {stored:,} numbers"
        )


def load_with_metadata(path) -> tuple[Network, dict]:
    """(network, metadata) saved at ``path``; the round trip is exact. Older files, which described
    a multilayer perceptron by its sizes, load as the same network."""
    arrays, stored = load_arrays(path)
    name = Path(path).name
    if not isinstance(stored, dict) or stored.get("format") not in (FORMAT, FORMAT_SIZES):
        raise ValueError(f"{name} is not a saved network (no {FORMAT} configuration)")
    config = stored.get("network")
    if not isinstance(config, dict):
        raise ValueError(f"{name} has no network configuration")
    try:
        config = dict(config)
        if stored["format"] == FORMAT_SIZES:
            described = described_by_sizes(
                config.pop("sizes"),
                config.pop("activation", "relu"),
                config.pop("batch_norm", False),
                config.pop("dropout", 0.0),
                config.pop("embedding", None),
            )
            config.update(described)
        check_planned_size(config, arrays, name)
        net = Network(**config)
    except (TypeError, KeyError, AttributeError) as err:
        raise ValueError(f"{name} has an unknown network configuration: {err}") from None
    net.set_weights(arrays)
    return net, dict(stored.get("metadata") or {})


def load(path) -> Network:
    """Rebuild the network saved at ``path``; the round trip is exact."""
    return load_with_metadata(path)[0]
