"""Image data: IDX reader, Fashion-MNIST lookup, digits, synthetic shapes (and their CLI), folders."""

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import datasets
from datasets import idx
from datasets.folder import FOLDER_ENV
from datasets.idx import unit_floats

REPO_ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------- IDX


def idx_bytes(code, shape, payload):
    """An IDX file built by hand: 0x0000, dtype code, ndim, big-endian sizes, data."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_decodes_hand_written_ubyte_and_int32_files(tmp_path, compress):
    images = idx_bytes(0x08, (2, 2, 3), bytes(range(12)))
    labels = idx_bytes(0x0C, (3,), struct.pack(">3i", 7, -1, 65536))
    for name, content in (("img", images), ("lab", labels)):
        (tmp_path / name).write_bytes(gzip.compress(content) if compress else content)
    decoded = datasets.read_idx(tmp_path / "img")
    assert decoded.dtype == np.uint8 and decoded.shape == (2, 2, 3)
    assert decoded.ravel().tolist() == list(range(12))
    assert datasets.read_idx(tmp_path / "lab").tolist() == [7, -1, 65536]


def test_write_idx_round_trips_through_read_idx(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    datasets.write_idx(tmp_path / "a.gz", array, compress=True)
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert np.array_equal(datasets.read_idx(tmp_path / "a.gz"), array)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x05", r"bad magic number 0x01000801"),
        (b"\x00\x00", "only 2 bytes, too short for the 4-byte magic number"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x05", "unknown dtype code 0x07"),
        (b"\x00\x00\x08\x00", "header declares 0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 10), "truncated header, 3 dimensions need 16 bytes"),
        (
            idx_bytes(0x08, (10, 28, 28), bytes(100)),
            r"truncated; header declares shape \(10, 28, 28\) "
            r"\(7840 data bytes\) but 100 data bytes follow",
        ),
        (idx_bytes(0x08, (2,), bytes(3)), "has trailing bytes"),
    ],
)
def test_read_idx_rejects_bad_headers_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"IDX file .*broken-idx1-ubyte: {message}"):
        datasets.read_idx(path)


def test_read_idx_reports_damaged_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (50,), bytes(50)))[:-10])
    with pytest.raises(ValueError, match="cut.gz: gzip data is damaged"):
        datasets.read_idx(path)


def test_read_idx_reports_gzip_with_garbage_inside(tmp_path):
    packed = bytearray(gzip.compress(idx_bytes(0x08, (400,), bytes(range(200)) * 2)))
    packed[10:30] = bytes(20)  # zeros over the first deflate block header, past the gzip header
    path = tmp_path / "garbled.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(ValueError, match="garbled.gz: gzip data is damaged"):
        datasets.read_idx(path)


@pytest.mark.parametrize("keep", ["all", "subset", "one"])
def test_images_become_the_same_floats_on_two_threads(keep):
    images = np.random.default_rng(2).integers(0, 256, (1001, 28, 28), dtype=np.uint8)
    idx = {
        "all": np.arange(1001),
        "subset": np.sort(np.random.default_rng(3).choice(1001, 333, replace=False)),
        "one": np.array([1000]),
    }[keep]
    x = unit_floats(images, idx)
    assert x.dtype == np.float32 and x.shape == (len(idx), 784)
    assert x.flags.c_contiguous and x.flags.writeable
    assert np.array_equal(x, images[idx].reshape(len(idx), 784).astype(np.float32) / np.float32(255))


# --------------------------------------------------------- Fashion-MNIST


def write_fake_fashion(folder, n_train=30, n_val=10):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_val)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        datasets.write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, compress=True)
        datasets.write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)  # raw works too
    return images


def test_fashion_loader_reads_files_from_backprop_data_dir(tmp_path, monkeypatch):
    write_fake_fashion(tmp_path / "data" / "fashion-mnist")
    monkeypatch.setenv("BACKPROP_DATA_DIR", str(tmp_path / "data"))
    ds = datasets.load("fashion-mnist", train_samples=30, val_samples=10)
    raw = datasets.read_idx(tmp_path / "data" / "fashion-mnist" / "train-images-idx3-ubyte.gz")
    assert np.array_equal(ds.x_train, raw.reshape(30, 784).astype(np.float32) / 255)
    assert ds.y_val.tolist() == list(range(10)) and ds.classes[0] == "T-shirt/top"
    subset = datasets.load("fashion-mnist", train_samples=12, val_samples=5, seed=3)
    assert subset.x_train.shape == (12, 784) and subset.x_val.shape == (5, 784)
    with pytest.raises(ValueError, match="train_samples 31 exceeds the 30 training images"):
        datasets.load("fashion-mnist", train_samples=31, val_samples=10)


@pytest.mark.parametrize("damaged", ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"])
def test_a_damaged_fashion_file_is_named_whichever_thread_read_it(tmp_path, monkeypatch, damaged):
    folder = tmp_path / "data" / "fashion-mnist"
    write_fake_fashion(folder)
    path = folder / damaged
    path.write_bytes(path.read_bytes()[:-10])
    monkeypatch.setenv("BACKPROP_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ValueError, match=f"IDX file .*{damaged}: gzip data is damaged"):
        datasets.load("fashion-mnist", train_samples=30, val_samples=10)


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, monkeypatch):
    if (REPO_ROOT / "data" / "fashion-mnist").exists():
        pytest.skip("a local data/fashion-mnist copy would be found")
    monkeypatch.setenv("BACKPROP_DATA_DIR", str(tmp_path / "nothing"))
    monkeypatch.setattr(idx, "SYSTEM_DIR", tmp_path / "no-system-copy")
    monkeypatch.chdir(tmp_path)
    ok, reason = datasets.availability("fashion-mnist")
    assert not ok and "sudo apt-get install dataset-fashion-mnist" in reason
    assert "data/fashion-mnist/" in reason and "$BACKPROP_DATA_DIR" in reason
    assert datasets.available("fashion-mnist") is False and datasets.available("digits") is True
    with pytest.raises(datasets.DatasetUnavailable, match="Fashion-MNIST is not on this machine"):
        datasets.load("fashion-mnist")
    assert issubclass(datasets.DatasetUnavailable, ValueError)


def test_installed_fashion_mnist_has_the_official_sizes():
    ok, reason = datasets.availability("fashion-mnist")
    if not ok:
        pytest.skip(f"Fashion-MNIST files absent: {reason}")
    ds = datasets.load("fashion-mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_val.shape == (10000, 784)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert ds.classes == [
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


# ----------------------------------------------------------------- digits


def test_digits_are_the_uci_set_scaled_from_0_16():
    images, labels = datasets.raw_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    ds = datasets.load("digits")
    assert ds.input_shape == (8, 8) and ds.classes == [str(d) for d in range(10)]
    assert len(ds.x_train) + len(ds.x_val) == 1797 and len(ds.x_val) == 359
    assert ds.x_train.max() == 1.0 and set(np.unique(ds.x_train * 16)) <= set(range(17))
    # Stratified: every class keeps about 20 % of its images for validation.
    val_share = np.bincount(ds.y_val) / np.bincount(labels)
    assert np.all(np.abs(val_share - 0.2) < 0.01)
    # Each row is one of the shipped images.
    raw_rows = {row.tobytes() for row in images.reshape(1797, 64)}
    assert all((row * 16).round().astype(np.uint8).tobytes() in raw_rows for row in ds.x_val)


def test_digits_licence_is_shipped():
    text = (REPO_ROOT / "datasets" / "data" / "DIGITS_LICENSE.md").read_text()
    assert "10.24432/C50P49" in text and "CC BY 4.0" in text and "Alpaydin" in text


# ----------------------------------------------------------------- shapes


def test_shapes_are_balanced_white_on_black_and_sized():
    ds = datasets.load("shapes", samples=90, size=20, shapes=["circle", "square", "triangle", "star"])
    assert ds.x_train.shape[1] == 400 and ds.input_shape == (20, 20)
    counts = np.bincount(np.r_[ds.y_train, ds.y_val])
    assert counts.max() - counts.min() <= 1 and counts.sum() == 90
    images = ds.x_train.reshape(-1, 20, 20)
    assert np.median(images) < 0.2  # mostly black background
    assert (images.max(axis=(1, 2)) > 0.6).all()  # every image has a bright stroke
    assert ds.classes == ["circle", "square", "triangle", "star"]


def test_shapes_noise_zero_gives_exact_black_border():
    clean = datasets.load("shapes", samples=30, noise=0)
    images = clean.x_train.reshape(-1, 28, 28)
    assert (images[:, 0, :] == 0).all()
    noisy = datasets.load("shapes", samples=30, noise=0.5)
    assert (noisy.x_train.reshape(-1, 28, 28)[:, 0, :] > 0).any()


@pytest.mark.parametrize(
    "params, message",
    [
        # Checked by the declarations: name, allowed values and bad value.
        (
            dict(shapes=["circle"]),
            r"shapes must be 2 to 5 words from circle, square, triangle, cross, star, got \['circle'\]",
        ),
        (dict(shapes="circle,hexagon"), r"shapes must be 2 to 5 words from .*, got \['circle', 'hexagon'\]"),
        (dict(size=7), r"size must be an integer in \[8, 64\], got 7"),
        (dict(size=65), r"size must be an integer in \[8, 64\], got 65"),
        (dict(samples=0), r"samples must be an integer in \[2, 20000\], got 0"),
        (dict(noise=2), r"noise must be a number in \[0, 1\], got 2"),
        # Checked by the builder: combinations of valid values.
        (dict(shapes="circle circle"), "must name at least two different shapes"),
        (dict(samples=2), "samples must be an integer >= 3, got 2; ask for at least one image per shape"),
    ],
)
def test_shapes_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        datasets.load("shapes", **params)


def test_shapes_cli_writes_folders_that_the_folder_loader_reads_back(tmp_path):
    out = tmp_path / "shapes"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasets.shapes",
            "--out",
            str(out),
            "--size",
            "16",
            "--n",
            "60",
            "--train-split",
            "0.8",
            "--seed",
            "0",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "writing images: 60/60" in result.stderr and "Warning" not in result.stderr
    assert sorted(p.name for p in (out / "train").iterdir()) == ["circle", "square", "triangle"]
    assert (out / "train" / "circle" / "0001.png").is_file()
    assert len(list(out.glob("*/*/*.png"))) == 60
    ds = datasets.load("folder", path=str(out), size=16)
    assert ds.classes == ["circle", "square", "triangle"]
    assert len(ds.y_train) == 48 and len(ds.y_val) == 12
    assert np.bincount(ds.y_train).tolist() == [16, 16, 16]
    assert ds.skipped_files == [] and ds.input_shape == (16, 16)
    # The same seed in memory gives the same pictures as the files on disk.
    built = datasets.load("shapes", samples=60, size=16, val_fraction=0.2, seed=0)
    on_disk = {row.tobytes() for row in np.round(np.r_[ds.x_train, ds.x_val] * 255).astype(np.uint8)}
    in_memory = {row.tobytes() for row in np.round(np.r_[built.x_train, built.x_val] * 255).astype(np.uint8)}
    assert on_disk == in_memory


def test_shapes_cli_reports_bad_arguments(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "datasets.shapes", "--out", str(tmp_path / "x"), "--train-split", "1.5"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        result.returncode == 2
        and "train_split must be in (0, 1], got 1.5" in result.stderr
        and "Traceback" not in result.stderr
    )


# ---------------------------------------------------------------- folders


def save_gray(path, value, size=(10, 6)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, value).save(path)


@pytest.fixture
def pets(tmp_path):
    """cat/ 5 images of gray 40, dog/ 5 of gray 200, plus junk that must be ignored or skipped."""
    root = tmp_path / "pets"
    for i in range(5):
        save_gray(root / "cat" / f"c{i}.png", 40)
        save_gray(root / "dog" / f"d{i}.jpg" if i % 2 else root / "dog" / f"d{i}.png", 200)
    (root / "dog" / "broken.png").write_bytes(b"this is not a png")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "README.md").write_text("root files are ignored")
    save_gray(root / "cat" / "nested" / "deeper.png", 255)  # deeper folders are ignored
    save_gray(root / "cat" / ".hidden.png", 255)
    save_gray(root / ".thumbnails" / "x.png", 255)  # hidden folders are not classes
    return root


def test_folder_loads_classes_sorted_and_counts_corrupt_files(pets):
    ds = datasets.load("folder", path=str(pets), size=4, val_fraction=0.4)
    assert ds.classes == ["cat", "dog"]
    assert ds.skipped_count == 1 and ds.skipped_files == [str(pets / "dog" / "broken.png")]
    assert len(ds.y_train) + len(ds.y_val) == 10
    assert np.bincount(ds.y_val).tolist() == [2, 2]
    assert ds.x_train.shape == (6, 16) and ds.x_train.dtype == np.float32
    x = np.r_[ds.x_train, ds.x_val]
    y = np.r_[ds.y_train, ds.y_val]
    assert np.allclose(x[y == 0], 40 / 255, atol=2 / 255) and np.allclose(x[y == 1], 200 / 255, atol=2 / 255)
    assert datasets.spec("folder").class_names({"path": str(pets)}) == ["cat", "dog"]


def test_folder_rgb_keeps_three_channels(tmp_path):
    for name, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        for i in range(3):
            path = tmp_path / name / f"{i}.bmp"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (5, 5), colour).save(path)
    ds = datasets.load("folder", path=str(tmp_path), size=4, color="rgb")
    assert ds.input_shape == (4, 4, 3) and ds.x_train.shape[1] == 48
    x, y = np.r_[ds.x_train, ds.x_val], np.r_[ds.y_train, ds.y_val]
    assert np.allclose(x[y == ds.classes.index("red")].reshape(-1, 16, 3)[..., 0], 1.0)
    assert np.allclose(x[y == ds.classes.index("blue")].reshape(-1, 16, 3)[..., 0], 0.0)


def test_folder_train_val_layout_is_used_as_given(tmp_path):
    for split, n in (("train", 4), ("val", 2)):
        for label, value in (("a", 10), ("b", 250)):
            for i in range(n):
                save_gray(tmp_path / split / label / f"{i}.png", value)
    ds = datasets.load("folder", path=str(tmp_path), val_fraction=0.5)
    assert len(ds.y_train) == 8 and len(ds.y_val) == 4
    assert all("/val/" in f for f in ds.files_val) and all("/train/" in f for f in ds.files_train)
    assert np.bincount(ds.y_val).tolist() == [2, 2]


def test_folder_with_only_train_is_split_by_val_fraction(tmp_path):
    for label, value in (("a", 10), ("b", 250)):
        for i in range(5):
            save_gray(tmp_path / "train" / label / f"{i}.png", value)
    ds = datasets.load("folder", path=str(tmp_path), val_fraction=0.2)
    assert ds.classes == ["a", "b"] and np.bincount(ds.y_val).tolist() == [1, 1]


def test_folder_errors_say_what_is_wrong(tmp_path, monkeypatch):
    monkeypatch.delenv(FOLDER_ENV, raising=False)
    with pytest.raises(
        ValueError,
        match="no image folder is set: start the app with BACKPROP_IMAGE_FOLDER=/path/to/images "
        r"\(one sub-folder per class\), or .*--dataset folder --dataset-param path=/path/to/images",
    ):
        datasets.load("folder")
    with pytest.raises(ValueError, match="'.*missing' does not exist"):
        datasets.load("folder", path=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        datasets.load("folder", path=str(tmp_path / "empty"))
    save_gray(tmp_path / "one" / "only" / "a.png", 9)
    with pytest.raises(
        ValueError, match=r"readable images for 1 class \(only\); a classifier needs at least two"
    ):
        datasets.load("folder", path=str(tmp_path / "one"))
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        datasets.load("folder", path=str(tmp_path / "file.png"))
    save_gray(tmp_path / "two" / "a" / "1.png", 9)
    save_gray(tmp_path / "two" / "b" / "1.png", 9)
    with pytest.raises(ValueError, match="color must be one of grayscale, rgb, got 'sepia'"):
        datasets.load("folder", path=str(tmp_path / "two"), color="sepia")


def test_folder_same_seed_same_split(pets):
    a = datasets.load("folder", path=str(pets), seed=1, val_fraction=0.4)
    b = datasets.load("folder", path=str(pets), seed=1, val_fraction=0.4)
    c = datasets.load("folder", path=str(pets), seed=2, val_fraction=0.4)
    assert a.files_val == b.files_val and np.array_equal(a.x_train, b.x_train)
    assert sorted(a.files_val) != sorted(c.files_val) or a.files_train != c.files_train


def test_datasets_package_imports_only_numpy_pillow_isal_stdlib_and_option_declarations():
    import ast

    allowed = {"numpy", "PIL", "isal", "datasets"} | set(sys.stdlib_module_names)
    for source in (REPO_ROOT / "datasets").rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                # backprop.options is the one engine module allowed: the declarations, nothing that trains.
                assert name == "backprop.options" or name.split(".")[0] in allowed, (
                    f"{source.name} imports {name}"
                )
