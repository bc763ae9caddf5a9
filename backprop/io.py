"""Save and load a network as one .npz: its weights plus its configuration as JSON bytes.

Nothing is pickled: arrays are plain numeric arrays and ``load`` reads with
``allow_pickle=False``. Writes go to a temporary file in the same folder, are
fsynced, then renamed over the target, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .network import Network

FORMAT = "backprop-network/2"
# Files written when a network was always a multilayer perceptron given by its sizes.
FORMAT_SIZES = "backprop-network/1"
_CONFIG_KEY = "__config__"


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


def save_arrays(path, arrays: dict[str, np.ndarray], metadata: dict | None = None) -> None:
    """Atomically write named arrays (and optional JSON metadata) to an .npz file."""
    payload = dict(arrays)
    if metadata is not None:
        payload[_CONFIG_KEY] = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda handle: np.savez(handle, **payload))


def load_arrays(path) -> tuple[dict[str, np.ndarray], dict | None]:
    """Read an .npz written by save_arrays; ValueError says what is wrong with a damaged file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise ValueError(
            f"{path.name} is not a readable weights file ({type(err).__name__}: {err})"
        ) from None
    metadata = None
    if _CONFIG_KEY in arrays:
        raw = arrays.pop(_CONFIG_KEY)
        try:
            metadata = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path.name} has a damaged configuration: {err}") from None
    return arrays, metadata


def save(net: Network, path, metadata: dict | None = None) -> None:
    """Write ``net`` (architecture, weights, batch-norm statistics) to ``path`` (.npz).

    metadata: optional JSON-ready facts stored beside it (dataset, classes,
    validation accuracy, the command that made it); read back with ``load_with_metadata``.
    """
    save_arrays(
        path, net.get_weights(), {"format": FORMAT, "network": net.config(), "metadata": metadata or {}}
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
        if stored["format"] == FORMAT_SIZES:
            config = dict(config)
            net = Network(config.pop("sizes"), **config)
        else:
            net = Network(**config)
    except (TypeError, KeyError) as err:
        raise ValueError(f"{name} has an unknown network configuration: {err}") from None
    net.set_weights(arrays)
    return net, dict(stored.get("metadata") or {})


def load(path) -> Network:
    """Rebuild the network saved at ``path``; the round trip is exact."""
    return load_with_metadata(path)[0]
