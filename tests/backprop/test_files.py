"""Save and load: an exact round trip, no pickle, clear errors for damaged files, and files of the
older "backprop-network/1" format (a multilayer perceptron given by its sizes) still loading."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from backprop import Network, Trainer, load, load_with_metadata, save

MODELS = Path(__file__).resolve().parents[2] / "models"


def trained_network(dtype, embedding=None, sizes=(4, 6, 5, 3)):
    net = Network(
        list(sizes),
        activation=["gelu", "tanh"],
        batch_norm=[True, False],
        dropout=[0.0, 0.2],
        dtype=dtype,
        seed=4,
        embedding=embedding,
    )
    rng = np.random.default_rng(0)
    if embedding is None:
        x = rng.normal(size=(32, sizes[0]))
    else:
        x = rng.integers(0, embedding[0], size=(32, sizes[0]))
    Trainer(net, optimizer="adam", learning_rate=0.01, batch_size=8).run(x, rng.integers(0, 3, 32), epochs=1)
    return net, x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_and_load_round_trip_every_array_bitwise(tmp_path, dtype):
    net, x = trained_network(dtype)
    # training moved the batch-norm statistics away from their start
    assert not np.all(net.get_weights()["bn1.running_mean"] == 0)
    save(net, tmp_path / "net.npz")
    twin = load(tmp_path / "net.npz")
    assert twin.config() == net.config()
    assert twin.spec == "dense6-bn-gelu-dense5-tanh-dropout0.2-dense3"
    assert twin.dtype == np.dtype(dtype)
    original, loaded = net.get_weights(), twin.get_weights()
    assert set(original) == set(loaded)
    assert {"bn1.running_var", "bn1.gamma", "dense3.W"} <= set(loaded)
    for name in original:
        assert loaded[name].dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(loaded[name], original[name], err_msg=name)
    np.testing.assert_array_equal(twin.output(x), net.output(x))


def test_save_writes_the_current_format_with_the_layers_text(tmp_path):
    net = Network("conv2k3-relu-maxpool2-flatten", input_shape=(6, 6), n_outputs=3, seed=2)
    save(net, tmp_path / "cnn.npz", metadata={"classes": ["a", "b", "c"]})
    with np.load(tmp_path / "cnn.npz") as data:
        stored = json.loads(data["__config__"].tobytes().decode("utf-8"))
        names = sorted(name for name in data.files if name != "__config__")
    assert stored["format"] == "backprop-network/2"
    assert stored["network"]["architecture"] == "conv2k3-relu-maxpool2-flatten-dense3"
    assert stored["network"]["input_shape"] == [6, 6]
    assert names == ["conv1.W", "conv1.b", "dense1.W", "dense1.b"]
    twin, metadata = load_with_metadata(tmp_path / "cnn.npz")
    assert metadata == {"classes": ["a", "b", "c"]}
    x = np.random.default_rng(0).normal(size=(2, 36))
    np.testing.assert_array_equal(twin.output(x), net.output(x))


def test_save_and_load_round_trip_the_embedding_table(tmp_path):
    net, ids = trained_network("float32", embedding=(7, 3))
    save(net, tmp_path / "emb.npz")
    twin = load(tmp_path / "emb.npz")
    assert twin.config()["vocab_size"] == 7 and twin.spec.startswith("embed3-flatten-")
    np.testing.assert_array_equal(twin.embedding.table, net.embedding.table)
    np.testing.assert_array_equal(twin.predict(ids), net.predict(ids))


def test_save_leaves_no_temporary_file_behind(tmp_path):
    save(Network([2, 2]), tmp_path / "a.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


def test_load_of_a_truncated_file_raises_value_error(tmp_path):
    save(Network([4, 6, 3]), tmp_path / "net.npz")
    data = (tmp_path / "net.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.npz is not a readable weights file"):
        load(tmp_path / "cut.npz")


def test_load_of_garbage_raises_value_error(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"this is not a weights file\x00\x01\x02" * 10)
    with pytest.raises(ValueError, match="junk.npz is not a readable weights file"):
        load(tmp_path / "junk.npz")


def test_load_of_an_npz_without_a_network_configuration_raises_value_error(tmp_path):
    np.savez(tmp_path / "plain.npz", W=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="plain.npz is not a saved network"):
        load(tmp_path / "plain.npz")


def test_load_never_unpickles(tmp_path):
    # a zip holding a pickled object array: loading it must refuse, not run the pickle
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "pickled.npz", "w") as archive:
        archive.writestr("dense1.W.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="not a readable weights file"):
        load(tmp_path / "pickled.npz")


def test_load_of_weights_that_do_not_fit_the_configuration_raises_value_error(tmp_path):
    save(Network([4, 6, 3]), tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        arrays = dict(data)
    arrays["dense1.W"] = np.zeros((5, 6), dtype=np.float32)
    np.savez(tmp_path / "wrong.npz", **arrays)
    with pytest.raises(ValueError, match=r"'dense1.W' has shape \(5, 6\), this network needs \(4, 6\)"):
        load(tmp_path / "wrong.npz")


def test_load_of_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")


# ------------------------------------------------------------------ "backprop-network/1" files


def write_sizes_file(path, network: dict, weights: dict, metadata=None):
    """A file as the engine wrote them before layers were text, built by hand like backprop.files.save_arrays."""
    stored = {"format": "backprop-network/1", "network": network, "metadata": metadata or {}}
    config = np.frombuffer(json.dumps(stored).encode("utf-8"), dtype=np.uint8)
    np.savez(path, __config__=config, **weights)


def sizes_config(sizes, **changes):
    hidden = len(sizes) - 2
    config = {
        "sizes": sizes,
        "activation": ["relu"] * hidden,
        "loss": "cross_entropy",
        "init": "xavier",
        "init_std": 0.01,
        "seed": 0,
        "dtype": "float32",
        "batch_norm": [False] * hidden,
        "dropout": [0.0] * hidden,
        "embedding": None,
    }
    return {**config, **changes}


def test_a_sizes_file_with_batch_norm_loads_with_its_arrays_under_the_new_names(tmp_path):
    rng = np.random.default_rng(0)
    weights = {
        "layer1.W": rng.normal(size=(3, 4)).astype(np.float32),
        "layer1.b": np.array([0.1, -0.2, 0.3, 0.0], dtype=np.float32),
        "layer1.gamma": np.array([1.0, 2.0, 0.5, 1.5], dtype=np.float32),
        "layer1.beta": np.array([0.0, 0.5, -0.5, 1.0], dtype=np.float32),
        "layer1.running_mean": np.array([0.5, -0.5, 0.0, 1.0], dtype=np.float32),
        "layer1.running_var": np.array([4.0, 1.0, 0.25, 2.0], dtype=np.float32),
        "layer2.W": rng.normal(size=(4, 2)).astype(np.float32),
        "layer2.b": np.array([0.25, -0.25], dtype=np.float32),
    }
    config = sizes_config([3, 4, 2], activation=["tanh"], batch_norm=[True], dropout=[0.25], seed=7)
    write_sizes_file(tmp_path / "old.npz", config, weights, metadata={"name": "old"})
    net, metadata = load_with_metadata(tmp_path / "old.npz")
    assert metadata == {"name": "old"}
    assert net.spec == "dense4-bn-tanh-dropout0.25-dense2"
    assert net.seed == 7 and net.input_shape == (3,) and net.n_outputs == 2
    loaded = net.get_weights()
    renamed = {
        "dense1.W": "layer1.W",
        "dense1.b": "layer1.b",
        "bn1.gamma": "layer1.gamma",
        "bn1.beta": "layer1.beta",
        "bn1.running_mean": "layer1.running_mean",
        "bn1.running_var": "layer1.running_var",
        "dense2.W": "layer2.W",
        "dense2.b": "layer2.b",
    }
    assert set(loaded) == set(renamed)
    for new, old in renamed.items():
        np.testing.assert_array_equal(loaded[new], weights[old], err_msg=new)
    # the eval-mode output, written out: batch norm with the stored running statistics
    x = rng.normal(size=(5, 3))
    affine = x @ weights["layer1.W"] + weights["layer1.b"]
    z = (affine - weights["layer1.running_mean"]) / np.sqrt(weights["layer1.running_var"] + 1e-5)
    hidden = np.tanh(z * weights["layer1.gamma"] + weights["layer1.beta"])
    np.testing.assert_allclose(
        net.output(x), hidden @ weights["layer2.W"] + weights["layer2.b"], rtol=1e-5, atol=1e-6
    )


def test_a_sizes_file_with_an_embedding_loads_and_predicts_like_the_table_lookup(tmp_path):
    rng = np.random.default_rng(1)
    weights = {
        "embedding.table": rng.normal(size=(5, 3)).astype(np.float32),
        "layer1.W": rng.normal(size=(6, 4)).astype(np.float32),
        "layer1.b": rng.normal(size=4).astype(np.float32),
        "layer2.W": rng.normal(size=(4, 3)).astype(np.float32),
        "layer2.b": rng.normal(size=3).astype(np.float32),
    }
    write_sizes_file(
        tmp_path / "seq.npz", sizes_config([2, 4, 3], activation=["gelu"], embedding=[5, 3]), weights
    )
    net = load(tmp_path / "seq.npz")
    assert net.spec == "embed3-flatten-dense4-gelu-dense3"
    assert net.vocab_size == 5 and net.input_shape == (2,)
    np.testing.assert_array_equal(net.embedding.table, weights["embedding.table"])
    ids = np.array([[0, 4], [2, 2], [3, 1]])
    rows = weights["embedding.table"][ids].reshape(3, 6)  # the two tokens' vectors side by side
    from math import erf, sqrt

    affine = rows @ weights["layer1.W"] + weights["layer1.b"]
    hidden = affine * 0.5 * (1 + np.vectorize(erf)(affine / sqrt(2)))
    np.testing.assert_allclose(
        net.output(ids), hidden @ weights["layer2.W"] + weights["layer2.b"], rtol=1e-5, atol=1e-5
    )


def test_a_sizes_file_whose_arrays_do_not_fit_names_them(tmp_path):
    weights = {"layer1.W": np.zeros((3, 4), dtype=np.float32), "layer1.b": np.zeros(4, dtype=np.float32)}
    write_sizes_file(tmp_path / "short.npz", sizes_config([3, 4, 2]), weights)
    with pytest.raises(ValueError, match=r"missing \['dense2.W', 'dense2.b'\]"):
        load(tmp_path / "short.npz")


def test_legacy_names_map_each_older_array_name_to_its_layer():
    net = Network([2, 4, 3, 2], batch_norm=[True, False], embedding=(5, 3))
    assert net.legacy_names() == {
        "embedding.table": "embed1.table",
        "layer1.W": "dense1.W",
        "layer1.b": "dense1.b",
        "layer1.gamma": "bn1.gamma",
        "layer1.beta": "bn1.beta",
        "layer1.running_mean": "bn1.running_mean",
        "layer1.running_var": "bn1.running_var",
        "layer2.W": "dense2.W",
        "layer2.b": "dense2.b",
        "layer3.W": "dense3.W",
        "layer3.b": "dense3.b",
    }


# digits and shapes are saved by today's code (arrays named after the layers), fashion is an
# older file (arrays numbered by position): both kinds load and compute what their arrays say.
@pytest.mark.parametrize(
    "name, spec, classes, hidden_name, output_name",
    [
        ("digits", "dense64-relu-dense10", 10, "dense1", "dense2"),
        ("shapes", "dense128-relu-dense3", 3, "dense1", "dense2"),
        ("fashion", "dense128-relu-dense10", 10, "layer1", "layer2"),
    ],
)
def test_each_shipped_model_loads_and_predicts_like_its_stored_arrays(
    name, spec, classes, hidden_name, output_name
):
    path = MODELS / f"{name}.npz"
    net, metadata = load_with_metadata(path)
    assert net.spec == spec
    assert len(metadata["classes"]) == classes
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files if key != "__config__"}
    x = np.random.default_rng(0).random((4, net.n_inputs)).astype(np.float32)
    hidden = np.maximum(x @ arrays[f"{hidden_name}.W"] + arrays[f"{hidden_name}.b"], 0)
    np.testing.assert_allclose(
        net.output(x), hidden @ arrays[f"{output_name}.W"] + arrays[f"{output_name}.b"], rtol=1e-5, atol=1e-5
    )
    probabilities = net.predict_proba(x)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(net.predict(x), probabilities.argmax(axis=1))


@pytest.mark.parametrize("name, at_least", [("digits", 0.97), ("mnist", 0.985)])
def test_a_shipped_model_keeps_its_recorded_validation_accuracy(name, at_least):
    import datasets

    net, metadata = load_with_metadata(MODELS / f"{name}.npz")
    ds = datasets.load(metadata["dataset"], **metadata["dataset_params"])
    accuracy = net.evaluate(ds.x_val, ds.y_val)["accuracy"]
    # digits: 0.9721 = 349 of 359; mnist: 0.9875 = 1,975 of the 2,000 held-out digits
    assert accuracy == pytest.approx(metadata["val_accuracy"], abs=5e-5)
    assert accuracy >= at_least


def test_a_model_file_whose_layers_disagree_with_its_weights_is_refused_before_building(tmp_path):
    import json
    import tracemalloc

    save(Network([4, 6, 3]), tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        arrays = dict(data)
    stored = json.loads(arrays["__config__"].tobytes())
    stored["network"]["architecture"] = "dense4096-relu-dense4096-relu"  # 16.8 million weights if built
    arrays["__config__"] = np.frombuffer(json.dumps(stored).encode(), np.uint8)
    np.savez(tmp_path / "claims.npz", **arrays)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="claims.npz: its configuration does not match its weights"):
            load(tmp_path / "claims.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * (1 << 20)


def test_packed_pixels_round_trip_and_bad_packs_are_refused_before_anything_is_built():
    from backprop.files import pack_uint8, unpack_uint8

    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    packed = json.loads(json.dumps(pack_uint8(images)))  # it travels as JSON in a model card
    np.testing.assert_array_equal(unpack_uint8(packed), images)
    with pytest.raises(ValueError, match="shape of non-negative integers"):
        unpack_uint8({"shape": [2, -3], "uint8_base64": packed["uint8_base64"]})
    with pytest.raises(ValueError, match="shape of non-negative integers"):
        unpack_uint8({"shape": [2, 3, 4]})
    with pytest.raises(ValueError, match="more than the 16 bytes allowed"):
        unpack_uint8(packed, max_bytes=16)
    with pytest.raises(ValueError, match="not valid base64"):
        unpack_uint8({"shape": [1], "uint8_base64": "*"})
    with pytest.raises(ValueError, match="hold 24 bytes, their shape \\(5, 5\\) needs 25"):
        unpack_uint8({"shape": [5, 5], "uint8_base64": packed["uint8_base64"]})
