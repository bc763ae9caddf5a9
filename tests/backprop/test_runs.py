"""The run store: round trips, atomic writes, damaged runs, forks, resume and export/import."""

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

import datasets
from backprop import RunConfig
from backprop.files import atomic_write, save_arrays
from backprop.runs import (
    PERCENTILES,
    RunStore,
    clean_name,
    default_root,
    history_csv,
    train_run,
    weight_distances,
)


@pytest.fixture(scope="module")
def circle():
    return datasets.load("circle", samples=200)


@pytest.fixture
def store(isolated_runs_dir):
    return RunStore()


def config(**changes):
    settings = dict(
        dataset="circle",
        dataset_params={"samples": 200},
        layers="dense6-gelu-dense5-gelu",
        learning_rate=0.03,
        batch_size=25,
    )
    return RunConfig(**{**settings, **changes})


def test_default_store_is_env_dir_then_runs_under_cwd(isolated_runs_dir, monkeypatch, tmp_path):
    assert RunStore().root == isolated_runs_dir
    monkeypatch.delenv("BACKPROP_RUNS_DIR")
    monkeypatch.chdir(tmp_path)
    assert default_root() == tmp_path / "runs"


@pytest.mark.parametrize("text, expected", [("gelu run", "gelu-run"), ("lr_0.01", "lr_0.01"), ("A-1", "A-1")])
def test_clean_name_turns_spaces_into_dashes(text, expected):
    assert clean_name(text) == expected


@pytest.mark.parametrize(
    "bad, message",
    [
        ("a/b", "path separators"),
        ("..", "path separators"),
        ("", "empty"),
        ("é!", "letters, digits"),
        (".hidden", "start with"),
    ],
)
def test_clean_name_rejects_bad_names_with_reason(bad, message):
    with pytest.raises(ValueError, match=message):
        clean_name(bad)


def test_create_then_open_round_trips_config_history_and_weights(store, circle):
    run = store.create("base", config(), dataset=circle)
    net, trainer = train_run(run, circle, epochs=2)

    again = store.open("base")
    assert again.config == config()
    assert again.history.to_dict()["step_loss"] == trainer.history.step_loss
    assert len(again.history) == 2
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(again.weights("latest")[name], value)
    np.testing.assert_array_equal(again.load_network("best").layers[0].W, trainer.best_weights["dense1.W"])
    assert again.load_network("latest").spec == "dense6-gelu-dense5-gelu-dense2"
    assert again.snapshot_epochs() == [0, 1, 2]


def test_duplicate_name_is_refused(store, circle):
    store.create("one", config(), dataset=circle)
    with pytest.raises(ValueError, match="already exists"):
        store.create("one", config(), dataset=circle)


def test_epoch_record_has_per_layer_percentiles_and_gradient_norm(store, circle):
    run = store.create("stats", config(), dataset=circle)
    train_run(run, circle, epochs=1)
    layers = store.open("stats").history.epochs[0]["layers"]
    assert len(layers) == 3
    for layer in layers:
        for key in ("W", "a", "dW"):
            assert len(layer[key]) == len(PERCENTILES)
            assert layer[key] == sorted(layer[key])
        assert layer["grad_norm"] > 0
    record = store.open("stats").history.epochs[0]
    for key in ("train_loss", "val_loss", "val_accuracy", "learning_rate", "seconds", "samples_seen"):
        assert record[key] is not None
    assert record["samples_seen"] == 100


def test_atomic_write_keeps_old_file_and_leaves_no_temp_when_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "history.json"
    target.write_text('{"old": true}')

    def killed(src, dst):
        raise OSError("killed between write and rename")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(OSError, match="killed"):
        atomic_write(target, lambda handle: handle.write(b'{"new": true}'))
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_save_progress_interrupted_by_failed_rename_keeps_previous_run(store, circle, monkeypatch):
    run = store.create("safe", config(), dataset=circle)
    net, trainer = train_run(run, circle, epochs=1)
    before = store.open("safe").weights("latest")
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        train_run(run, circle, epochs=1, net=net, trainer=trainer)
    monkeypatch.undo()
    reopened = store.open("safe")
    assert len(reopened.history) == 1
    np.testing.assert_array_equal(reopened.weights("latest")["dense1.W"], before["dense1.W"])
    assert not list(reopened.path.rglob("*.tmp"))


@pytest.mark.parametrize(
    "damage, reason",
    [
        (
            lambda path: (path / "latest.npz").write_bytes((path / "latest.npz").read_bytes()[:100]),
            "latest.npz",
        ),
        (lambda path: (path / "history.json").write_text("{not json"), "history.json is not valid JSON"),
        (
            lambda path: (path / "config.json").write_text(
                '{"format": "backprop-run/1", "config": {"layers": "dense6-swish"}}'
            ),
            "layer 2 'swish' is not a layer",
        ),
        (lambda path: (path / "initial.npz").unlink(), "missing initial.npz"),
        (lambda path: (path / "history.json").unlink(), "missing history.json"),
    ],
)
def test_damaged_run_is_listed_with_reason_and_others_still_list(store, circle, damage, reason):
    store.create("good", config(), dataset=circle)
    bad = store.create("bad", config(), dataset=circle)
    damage(bad.path)

    infos = {info.name: info for info in store.list()}
    assert infos["good"].damaged is None
    assert reason in infos["bad"].damaged
    with pytest.raises(ValueError):
        store.open("bad")


def test_truncated_best_checkpoint_is_reported_when_loaded(store, circle):
    run = store.create("trunc", config(), dataset=circle)
    train_run(run, circle, epochs=1)
    (run.path / "best.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="best.npz is not a readable weights file"):
        store.open("trunc").weights("best")


def test_fork_with_new_activation_keeps_seed_initial_weights_and_batch_order(store, circle):
    parent = store.create("gelu", config(), dataset=circle)
    fork = store.fork("gelu", "relu", layers="dense6-relu-dense5-relu")

    assert fork.parent == "gelu" and fork.config.seed == parent.config.seed
    assert fork.config.differences(parent.config) == ["layers"]
    for name, value in parent.weights("initial").items():
        np.testing.assert_array_equal(fork.weights("initial")[name], value)
    _, parent_trainer = train_run(parent, circle, epochs=1)
    _, fork_trainer = train_run(fork, circle, epochs=1)
    # Same initial weights and batches, different activation: different losses from step 1 on.
    assert parent_trainer.history.step_loss[0] != fork_trainer.history.step_loss[0]
    np.testing.assert_array_equal(parent_trainer.batch_order(100, 0), fork_trainer.batch_order(100, 0))


def test_fork_changing_only_an_unrelated_setting_repeats_first_epoch_exactly(store, circle):
    parent = store.create("base", config(), dataset=circle)
    fork = store.fork("base", "patient", early_stopping=50)
    _, parent_trainer = train_run(parent, circle, epochs=1)
    _, fork_trainer = train_run(fork, circle, epochs=1)
    assert fork_trainer.history.step_loss == parent_trainer.history.step_loss


def test_fork_changing_weight_shapes_gets_the_fresh_init_of_its_own_architecture(store, circle):
    small = store.create("small", config(), dataset=circle)
    # the run stores what its network knows of the data, so no dataset is needed
    wide = store.fork("small", "wide", layers="dense12-gelu-dense5-gelu")
    assert wide.weights("initial")["dense1.W"].shape == (2, 12)
    fresh = wide.config.build_network(circle).get_weights()
    for name, value in wide.weights("initial").items():
        np.testing.assert_array_equal(value, fresh[name], err_msg=name)
    assert not np.array_equal(wide.weights("initial")["dense2.W"], small.weights("initial")["dense2.W"])


def test_fork_onto_other_data_is_refused(store, circle):
    store.create("base", config(), dataset=circle)
    with pytest.raises(ValueError, match="a fork trains on its parent's data"):
        store.fork("base", "other", dataset_params={"samples": 100})


def test_resume_from_disk_mid_epoch_matches_one_uninterrupted_run(store, circle):
    store.create("whole", config(), dataset=circle)
    store.create("pieces", config(), dataset=circle)
    train_run(store.open("whole"), circle, epochs=3)
    train_run(store.open("pieces"), circle, epochs=1)
    train_run(store.open("pieces"), circle, steps=2)  # stop inside epoch 2
    train_run(store.open("pieces"), circle, epochs=2)
    whole, pieces = store.open("whole"), store.open("pieces")
    assert pieces.history.step_loss == whole.history.step_loss
    np.testing.assert_array_equal(pieces.weights("latest")["dense2.W"], whole.weights("latest")["dense2.W"])


def test_stop_from_callback_keeps_finished_epochs(store, circle):
    run = store.create("stopped", config(), dataset=circle)
    train_run(run, circle, epochs=5, callback=lambda event: event.kind == "epoch" and event.epoch == 2)
    reopened = store.open("stopped")
    assert len(reopened.history) == 2
    assert reopened.history.stop_reason == "stopped by the user"


def test_rename_reset_and_delete(store, circle):
    store.create("parent", config(), dataset=circle)
    store.fork("parent", "child", learning_rate=0.1)
    train_run(store.open("parent"), circle, epochs=1)

    renamed = store.rename("parent", "parent two")
    assert renamed.name == "parent-two" and not store.exists("parent")
    assert store.open("child").parent == "parent-two"
    reset = store.reset("parent-two")
    assert len(reset.history) == 0 and not reset.has("best")
    np.testing.assert_array_equal(reset.weights("latest")["dense1.W"], reset.weights("initial")["dense1.W"])
    store.delete("parent-two")
    assert [info.name for info in store.list()] == ["child"]
    with pytest.raises(ValueError, match="no run named"):
        store.delete("parent-two")


def test_export_then_import_gives_the_same_run(store, circle):
    run = store.create("exported", config(), dataset=circle)
    train_run(run, circle, epochs=2)
    data = store.export_zip("exported")

    copy = store.import_zip(data, name="imported")
    assert copy.config == run.config
    assert copy.history.step_loss == store.open("exported").history.step_loss
    np.testing.assert_array_equal(
        copy.weights("best")["dense1.W"], store.open("exported").weights("best")["dense1.W"]
    )
    assert history_csv(copy.history).splitlines()[0].startswith("epoch,step,train_loss")
    with pytest.raises(ValueError, match="already exists"):
        store.import_zip(data, name="imported")


def test_import_rejects_files_that_are_not_exported_runs(store):
    with pytest.raises(ValueError, match="not a zip"):
        store.import_zip(b"hello")
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(ValueError, match="missing"):
        store.import_zip(buffer.getvalue())
    assert store.list() == []


def test_weight_distances_start_at_zero_for_a_fork_and_grow(store, circle):
    store.create("a", config(), dataset=circle)
    store.fork("a", "b", learning_rate=0.1)
    train_run(store.open("a"), circle, epochs=2)
    train_run(store.open("b"), circle, epochs=2)
    distances = weight_distances(store.open("a"), store.open("b"))
    assert distances["epochs"] == [0, 1, 2]
    assert set(distances["layers"]) == {"dense1.W", "dense2.W", "dense3.W"}
    assert distances["layers"]["dense1.W"][0] == 0.0
    assert distances["layers"]["dense1.W"][2] > 0.0


def token_dataset():
    """What a run needs to know of a sequence dataset given as token ids (no samples needed to create it)."""
    return SimpleNamespace(
        name="tokens",
        input_shape=(3,),
        n_features=3,
        n_outputs=4,
        is_classification=True,
        kind="sequence",
        vocab=list("abcd"),
        encoding="embedding",
    )


def test_a_run_on_token_ids_starts_with_an_embedding(store):
    run = store.create("tokens", config(dataset="sequences", dataset_params={}), dataset=token_dataset())
    net = run.load_network("initial")
    assert net.spec == "embed8-flatten-dense6-gelu-dense5-gelu-dense4"
    assert run.weights("initial")["embed1.table"].shape == (4, 8)


def test_weight_distances_include_the_embedding_table(store):
    store.create("a", config(dataset="sequences", dataset_params={}), dataset=token_dataset())
    store.fork("a", "b", learning_rate=0.1)
    distances = weight_distances(store.open("a"), store.open("b"))
    assert distances["epochs"] == [0] and distances["layers"]["dense1.W"] == [0.0]
    assert distances["layers"]["embed1.table"] == [0.0]  # a fork starts from its parent's weights


def test_a_run_written_in_the_older_layout_opens_and_trains(store, circle):
    """A run folder from before layers were text: config with hidden/activation, weights named layer<k>.*,
    and no stored data facts."""
    run = store.create("old", config(), dataset=circle)
    meta = json.loads((run.path / "config.json").read_text())
    meta.pop("data")
    meta["config"] = {k: v for k, v in meta["config"].items() if k not in ("layers", "optimizer_options")}
    meta["config"].update(hidden=[6, 5], activation="gelu", momentum=0.9, nesterov=False)
    (run.path / "config.json").write_text(json.dumps(meta))
    net = run.load_network("initial")
    old_names = {new: old for old, new in net.legacy_names().items()}
    for which in ("initial", "latest"):
        arrays = run.weights(which)
        save_arrays(run.path / f"{which}.npz", {old_names[name]: value for name, value in arrays.items()})

    old = store.open("old")
    assert old.config.layers == "dense6-gelu-dense5-gelu"
    loaded = old.load_network("initial")
    assert loaded.spec == "dense6-gelu-dense5-gelu-dense2"
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(loaded.get_weights()[name], value, err_msg=name)
    trained, _ = train_run(old, circle, epochs=1)
    assert len(store.open("old").history) == 1
    assert "dense1.W" in store.open("old").weights("latest")


def test_a_stalled_epoch_counts_as_the_median_in_seconds_to_best():
    from backprop import History
    from backprop.runs import epoch_seconds, summarize

    records = [
        {"epoch": k, "step": 10 * k, "train_loss": 1.0, "val_accuracy": 0.5 + k / 100, "seconds": 0.2}
        for k in range(1, 7)
    ]
    records[2]["seconds"] = 9.0  # the machine was busy during epoch 3
    history = History(epochs=records)
    assert epoch_seconds(history) == [0.2] * 6
    assert summarize(history)["seconds_to_best"] == pytest.approx(1.2)
    assert history.epochs[2]["seconds"] == 9.0  # the record keeps what was measured
    records[2]["seconds"] = 0.7  # slower, but within 4× the median: counted as measured
    assert epoch_seconds(history)[2] == 0.7


def test_history_json_is_written_compact_and_reads_back(store, circle):
    run = store.create("compact", config(), dataset=circle)
    train_run(run, circle, epochs=2)
    text = (run.path / "history.json").read_text()
    assert "\n" not in text and ": " not in text
    assert len(store.open("compact").history) == 2
