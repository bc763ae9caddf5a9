"""The run store: round trips, atomic writes, damaged runs, forks, resume and export/import."""

import json
import os

import numpy as np
import pytest

import datasets
from backprop import RunConfig
from backprop.io import atomic_write
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
    return RunConfig(
        dataset="circle",
        dataset_params={"samples": 200},
        hidden=[6, 5],
        activation="gelu",
        learning_rate=0.03,
        batch_size=25,
        **changes,
    )


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
    np.testing.assert_array_equal(again.load_network("best").layers[0].W, trainer.best_weights["layer1.W"])
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
    np.testing.assert_array_equal(reopened.weights("latest")["layer1.W"], before["layer1.W"])
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
                '{"format": "backprop-run/1", "config": {"hidden": -1}}'
            ),
            "hidden sizes",
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
    fork = store.fork("gelu", "relu", activation="relu")

    assert fork.parent == "gelu" and fork.config.seed == parent.config.seed
    assert fork.config.differences(parent.config) == ["activation"]
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


def test_fork_changing_weight_shapes_needs_the_dataset_and_gets_fresh_init(store, circle):
    store.create("small", config(), dataset=circle)
    with pytest.raises(ValueError, match="give the dataset"):
        store.fork("small", "wide", hidden=[12, 5])
    wide = store.fork("small", "wide", hidden=[12, 5], dataset=circle)
    assert wide.weights("initial")["layer1.W"].shape == (2, 12)


def test_resume_from_disk_mid_epoch_matches_one_uninterrupted_run(store, circle):
    store.create("whole", config(), dataset=circle)
    store.create("pieces", config(), dataset=circle)
    train_run(store.open("whole"), circle, epochs=3)
    train_run(store.open("pieces"), circle, epochs=1)
    train_run(store.open("pieces"), circle, steps=2)  # stop inside epoch 2
    train_run(store.open("pieces"), circle, epochs=2)
    whole, pieces = store.open("whole"), store.open("pieces")
    assert pieces.history.step_loss == whole.history.step_loss
    np.testing.assert_array_equal(pieces.weights("latest")["layer2.W"], whole.weights("latest")["layer2.W"])


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
    np.testing.assert_array_equal(reset.weights("latest")["layer1.W"], reset.weights("initial")["layer1.W"])
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
        copy.weights("best")["layer1.W"], store.open("exported").weights("best")["layer1.W"]
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
    assert distances["layers"]["layer1.W"][0] == 0.0
    assert distances["layers"]["layer1.W"][2] > 0.0
