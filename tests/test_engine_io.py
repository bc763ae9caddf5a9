"""Save and load: an exact round trip, no pickle, and clear errors for damaged files."""

import io
import zipfile

import numpy as np
import pytest

from backprop import Network, Trainer, load, save


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
    assert not np.all(net.layers[0].running_mean == 0)
    save(net, tmp_path / "net.npz")
    twin = load(tmp_path / "net.npz")
    assert twin.config() == net.config()
    assert twin.dtype == np.dtype(dtype)
    original, loaded = net.get_weights(), twin.get_weights()
    assert set(original) == set(loaded)
    assert "layer1.running_var" in loaded
    for name in original:
        assert loaded[name].dtype == np.dtype(dtype), name
        np.testing.assert_array_equal(loaded[name], original[name], err_msg=name)
    np.testing.assert_array_equal(twin.output(x), net.output(x))


def test_save_and_load_round_trip_the_embedding_table(tmp_path):
    net, ids = trained_network("float32", embedding=(7, 3))
    save(net, tmp_path / "emb.npz")
    twin = load(tmp_path / "emb.npz")
    assert twin.config()["embedding"] == [7, 3]
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
    with pytest.raises(ValueError, match="not a saved network"):
        load(tmp_path / "plain.npz")


def test_load_never_unpickles(tmp_path):
    # a zip holding a pickled object array: loading it must refuse, not run the pickle
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "pickled.npz", "w") as archive:
        archive.writestr("layer1.W.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="not a readable weights file"):
        load(tmp_path / "pickled.npz")


def test_load_of_weights_that_do_not_fit_the_configuration_raises_value_error(tmp_path):
    save(Network([4, 6, 3]), tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        arrays = dict(data)
    arrays["layer1.W"] = np.zeros((5, 6), dtype=np.float32)
    np.savez(tmp_path / "wrong.npz", **arrays)
    with pytest.raises(ValueError, match="'layer1.W' has shape"):
        load(tmp_path / "wrong.npz")


def test_load_of_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")


def test_a_model_file_whose_sizes_disagree_with_its_weights_is_refused_before_building(tmp_path):
    import json
    import tracemalloc

    save(Network([4, 6, 3]), tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        arrays = dict(data)
    stored = json.loads(arrays["__config__"].tobytes())
    stored["network"]["sizes"] = [4, 100_000, 100_000, 3]  # 40 GB of weights if built
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
