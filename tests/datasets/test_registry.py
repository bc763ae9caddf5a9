"""The registry is the one source of truth: every entry builds, with the shapes it announces."""

import inspect
import json

import numpy as np
import pytest
from PIL import Image

import datasets
from datasets.folder import FOLDER_ENV

EXPECTED_NAMES = [
    "sequences",
    "circle",
    "xor",
    "gauss",
    "spiral",
    "moons",
    "plane",
    "bump",
    "sine",
    "shapes",
    "digits",
    "mnist",
    "fashion-mnist",
    "folder",
]
# Small but non-trivial parameters so the whole set stays fast.
FAST = {"shapes": dict(samples=60, size=16), "fashion-mnist": dict(train_samples=300, val_samples=100)}


@pytest.fixture
def server_folder(tmp_path, monkeypatch):
    """An image folder set the way a server's owner sets it; every image a different grey."""
    root = tmp_path / "images"
    for label, base in (("apple", 20), ("pear", 140)):
        for i in range(5):
            (root / label).mkdir(parents=True, exist_ok=True)
            Image.new("L", (6, 6), base + 20 * i).save(root / label / f"{i}.png")
    monkeypatch.setenv(FOLDER_ENV, str(root))
    return root


def build(name, **params):
    if name == "fashion-mnist" and not datasets.available(name):
        pytest.skip(f"Fashion-MNIST files absent: {datasets.availability(name)[1]}")
    return datasets.load(name, **{**FAST.get(name, {}), **params})


def test_registry_lists_the_datasets_in_order():
    assert datasets.names() == EXPECTED_NAMES
    assert list(datasets.REGISTRY) == EXPECTED_NAMES


def test_every_spec_describes_itself():
    for name, spec in datasets.REGISTRY.items():
        assert spec.name == name
        assert spec.kind in ("sequence", "2d", "regression", "image")
        assert spec.description and "\n" not in spec.description
        assert "seed" in spec.params
        signature = inspect.signature(spec.builder)
        assert list(spec.params) == list(signature.parameters)
        ok, reason = datasets.availability(name)
        assert isinstance(ok, bool) and isinstance(reason, str) and ok == datasets.available(name)


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; choose one of sequences, circle.*folder"):
        datasets.load("cifar")
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.spec("")


def test_unknown_parameters_are_named_and_valid_ones_listed():
    with pytest.raises(
        ValueError,
        match=r"unknown parameter\(s\) 'colour', 'nois' for dataset 'circle'; "
        "valid parameters: samples, noise, train_ratio, seed",
    ):
        datasets.load("circle", nois=3, colour="red")


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_shapes_dtypes_and_announced_metadata(name, server_folder):
    ds = build(name)
    spec = datasets.spec(name)
    params = FAST.get(name, {})
    assert ds.name == name and ds.kind == spec.kind and ds.description == spec.description
    assert ds.input_shape == spec.input_shape(params)
    assert ds.classes == spec.class_names(params)
    assert ds.x_train.ndim == 2 and ds.x_val.ndim == 2
    assert ds.x_train.shape[1] == ds.x_val.shape[1] == ds.n_features
    assert len(ds.x_train) == len(ds.y_train) > 0 and len(ds.x_val) == len(ds.y_val) > 0
    assert ds.x_train.dtype == np.float32
    if ds.kind == "sequence":
        assert ds.n_features == ds.input_shape[0] * len(ds.vocab)
    else:
        assert ds.n_features == int(np.prod(ds.input_shape))
    if spec.kind == "regression":
        assert not ds.is_classification and ds.classes == []
        assert ds.y_train.dtype == np.float32 and ds.y_train.shape == (len(ds.x_train), 1)
        assert ds.n_outputs == 1
    else:
        assert ds.is_classification and ds.y_train.dtype == np.int64 and ds.y_train.ndim == 1
        assert ds.n_outputs == len(ds.classes) >= 2
        labels = np.r_[ds.y_train, ds.y_val]
        assert labels.min() >= 0 and labels.max() < len(ds.classes)
    json.dumps(ds.params)  # runs store the params in config.json
    assert set(ds.params) == set(spec.params)
    if spec.kind == "image":
        assert ds.x_train.min() >= 0.0 and ds.x_train.max() <= 1.0


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_same_seed_same_arrays_other_seed_other_arrays(name, server_folder):
    a, b, c = build(name, seed=11), build(name, seed=11), build(name, seed=12)
    for field in ("x_train", "y_train", "x_val", "y_val"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert not (np.array_equal(a.x_train, c.x_train) and np.array_equal(a.x_val, c.x_val))


def test_dataset_list_cli_prints_every_name(capsys):
    from datasets.__main__ import main

    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == EXPECTED_NAMES
    assert "regression" in lines[EXPECTED_NAMES.index("bump")]
