"""IDX files (the MNIST / Fashion-MNIST format) and the Fashion-MNIST loader.

IDX layout: bytes 0-1 are zero, byte 2 is the dtype code, byte 3 the number of
dimensions d, then d big-endian uint32 sizes, then the data, big-endian. Files
may be gzip-compressed; that is detected from the gzip magic bytes, not the name.
"""

from __future__ import annotations

import gzip
import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from isal import igzip, isal_zlib

from backprop.options import Option

from .core import SEED, Dataset, DatasetUnavailable, check_int

IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path) -> np.ndarray:
    """Decode one IDX file (raw or gzip) into an array of its declared shape and dtype.

    Raises ValueError naming the file when the header is malformed (bad magic,
    unknown dtype code, zero dimensions) or the data length disagrees with the
    declared sizes (truncated or trailing bytes).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            # ISA-L's inflate: gzip.decompress's bytes, in less than half the time
            raw = igzip.decompress(raw)
        except (OSError, EOFError, isal_zlib.error) as error:
            raise ValueError(f"IDX file {path}: gzip data is damaged ({error}); download it again") from None
    if len(raw) < 4:
        raise ValueError(f"IDX file {path}: only {len(raw)} bytes, too short for the 4-byte magic number")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"IDX file {path}: bad magic number 0x{raw[:4].hex()} (must start with 0x0000); "
            "this is not an IDX file"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise ValueError(
            f"IDX file {path}: unknown dtype code 0x{code:02x} in the magic number; "
            f"valid codes: {', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}"
        )
    if ndim == 0:
        raise ValueError(f"IDX file {path}: header declares 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"IDX file {path}: truncated header, {ndim} dimensions need {header} bytes "
            f"but the file has {len(raw)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header
    if actual != expected:
        problem = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(
            f"IDX file {path}: {problem}; header declares shape {shape} "
            f"({expected} data bytes) but {actual} data bytes follow"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    """Write `array` as an IDX file (gzip when compress) - for tests and small exports."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("=").str: k for k, v in IDX_DTYPES.items()}
    key = array.dtype.newbyteorder("=").str
    if key not in codes:
        raise ValueError(
            f"dtype {array.dtype} has no IDX code; use uint8, int8, int16, int32, float32 or float64"
        )
    code = codes[key]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(IDX_DTYPES[code], copy=False).tobytes()
    Path(path).write_bytes(gzip.compress(payload) if compress else payload)


# ------------------------------------------------------------- Fashion-MNIST

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "val_images": "t10k-images-idx3-ubyte",
    "val_labels": "t10k-labels-idx1-ubyte",
}
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_DESCRIPTION = "Fashion-MNIST: 28x28 grayscale clothing photos, 10 classes (60k train, 10k test)"
HOW_TO_GET = (
    "install it with `sudo apt-get install dataset-fashion-mnist`, or put the four IDX files "
    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
    "t10k-labels-idx1-ubyte.gz) in data/fashion-mnist/ or in $BACKPROP_DATA_DIR"
)
_CACHE: dict = {}


def fashion_search_dirs() -> list:
    """Folders searched, in order: $BACKPROP_DATA_DIR(/fashion-mnist), ./data/fashion-mnist,
    <repo>/data/fashion-mnist, /usr/share/datasets/fashion-mnist."""
    dirs = []
    env = os.environ.get("BACKPROP_DATA_DIR")
    if env:
        dirs += [Path(env) / "fashion-mnist", Path(env)]
    dirs += [
        Path.cwd() / "data" / "fashion-mnist",
        Path(__file__).resolve().parent.parent / "data" / "fashion-mnist",
        SYSTEM_DIR,
    ]
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _find_file(folder: Path, stem: str):
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def find_fashion_files() -> dict:
    """{key: Path} for the first folder holding all four files; DatasetUnavailable otherwise."""
    searched = fashion_search_dirs()
    for folder in searched:
        found = {key: _find_file(folder, stem) for key, stem in FASHION_FILES.items()}
        if all(found.values()):
            return found
    raise DatasetUnavailable(
        f"Fashion-MNIST is not on this machine (looked in "
        f"{', '.join(str(d) for d in searched)}); {HOW_TO_GET}"
    )


def fashion_availability() -> tuple:
    try:
        find_fashion_files()
    except DatasetUnavailable as error:
        return False, str(error)
    return True, ""


def load_fashion_arrays() -> dict:
    """Decoded uint8 arrays, cached per file set: train_images (60000, 28, 28), train_labels (60000,), ..."""
    files = find_fashion_files()
    key = tuple(str(p) for p in files.values())
    if key not in _CACHE:
        # The training images are most of the work: the other three files are read on a second
        # thread meanwhile (ISA-L lets other threads run while it inflates).
        with ThreadPoolExecutor(max_workers=2) as pool:
            arrays = dict(zip(files, pool.map(read_idx, files.values())))
        for split in ("train", "val"):
            images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
            if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"Fashion-MNIST {split} files disagree: images {images.shape}, "
                    f"labels {labels.shape}; replace {files[f'{split}_images'].parent}"
                )
        _CACHE[key] = arrays
    return _CACHE[key]


CONVERT_BLOCKS = 2


def unit_floats(images: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """images[idx] as float32 rows in [0, 1]: the values of images[idx].reshape(n, -1) / 255.

    One pass into the float32 array, with no uint8 copy when every image is kept and no float
    temporaries. Most of the time goes to the kernel handing out the new array's pages, so the rows
    are written in CONVERT_BLOCKS blocks, one per thread (NumPy lets other threads run meanwhile).
    The values are those of the plain ``images[idx].reshape(n, -1).astype(np.float32) / 255``.
    """
    rows = images if len(idx) == len(images) else images[idx]
    rows = rows.reshape(len(idx), int(np.prod(images.shape[1:])))
    # An anonymous mapping of its own rather than np.empty, which asks the kernel for huge pages
    # for arrays of 4 MB or more; on a machine whose memory is fragmented the kernel then compacts
    # memory while it hands out the pages (0.42-0.47 s for the training images in a running server,
    # 0.13-0.17 s with ordinary pages).
    out = np.frombuffer(mmap.mmap(-1, max(rows.size, 1) * 4), dtype=np.float32, count=rows.size)
    out = out.reshape(rows.shape)
    edges = np.linspace(0, len(rows), CONVERT_BLOCKS + 1).astype(int)
    blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
    with ThreadPoolExecutor(max_workers=CONVERT_BLOCKS) as pool:
        list(pool.map(lambda s: np.divide(rows[s], np.float32(255), out=out[s]), blocks))
    return out


def _subset(n_total: int, n: int, rng) -> np.ndarray:
    if n == n_total:
        return np.arange(n_total)
    return np.sort(rng.choice(n_total, size=n, replace=False))


FASHION_OPTIONS = (
    Option(
        "train_samples",
        "int",
        60_000,
        label="Training images",
        low=1,
        high=60_000,
        help="A seeded subset of the 60,000 training images (all by default).",
    ),
    Option(
        "val_samples",
        "int",
        10_000,
        label="Validation images",
        low=1,
        high=10_000,
        help="A seeded subset of the official 10,000 test images.",
    ),
    SEED,
)


def build_fashion_mnist(*, train_samples, val_samples, seed) -> Dataset:
    """Fashion-MNIST from local IDX files; validation is the official 10k test set.

    train_samples / val_samples: how many images to keep (a seeded random subset
        when fewer than all 60000 / 10000)
    Returns x (N, 784) float32 in [0, 1], y (N,) int64; input_shape (28, 28).
    Raises DatasetUnavailable (a ValueError) when the files are missing.
    """
    arrays = load_fashion_arrays()
    n_train_all, n_val_all = len(arrays["train_labels"]), len(arrays["val_labels"])
    train_samples = check_int("train_samples", train_samples, 1, f"use 1 to {n_train_all}")
    val_samples = check_int("val_samples", val_samples, 1, f"use 1 to {n_val_all}")
    if train_samples > n_train_all:
        raise ValueError(
            f"train_samples {train_samples} exceeds the {n_train_all} training images; "
            f"use at most {n_train_all}"
        )
    if val_samples > n_val_all:
        raise ValueError(
            f"val_samples {val_samples} exceeds the {n_val_all} test images; use at most {n_val_all}"
        )
    rng = np.random.default_rng(seed)
    train_idx = _subset(n_train_all, train_samples, rng)
    val_idx = _subset(n_val_all, val_samples, rng)
    height, width = arrays["train_images"].shape[1:]

    x_train = unit_floats(arrays["train_images"], train_idx)
    x_val = unit_floats(arrays["val_images"], val_idx)
    return Dataset(
        name="fashion-mnist",
        kind="image",
        params=dict(train_samples=train_samples, val_samples=val_samples, seed=seed),
        description=FASHION_DESCRIPTION,
        x_train=x_train,
        y_train=arrays["train_labels"][train_idx].astype(np.int64),
        x_val=x_val,
        y_val=arrays["val_labels"][val_idx].astype(np.int64),
        classes=list(FASHION_CLASSES),
        input_shape=(height, width),
    )
