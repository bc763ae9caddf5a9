"""A run store with hostile or broken folders still lists: each bad folder is one row with its reason."""

import json
import os
import threading

import numpy as np
import pytest

import datasets
from backprop import RunConfig, limits
from backprop.cli import main as cli_main
from backprop.files import save_arrays
from backprop.runs import RunStore, train_run
from viz.runs import compare_curves, distribution_curves, grad_norm_curves


@pytest.fixture(scope="module")
def circle():
    return datasets.load("circle", samples=120)


@pytest.fixture
def store(isolated_runs_dir):
    return RunStore()


def config():
    return RunConfig(
        dataset="circle", dataset_params={"samples": 120}, layers="dense4-gelu", learning_rate=0.05
    )


@pytest.fixture
def two_runs(store, circle):
    """A trained healthy run "good" and a trained run "bad" for a test to break."""
    for name in ("good", "bad"):
        train_run(store.create(name, config(), dataset=circle), circle, epochs=2)
    return store.open("good"), store.open("bad")


def rows(store):
    return {info.name: info for info in store.list()}


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def cli_lists(capsys, store):
    assert cli_main(["runs", "--dir", str(store.root)]) == 0
    return capsys.readouterr().out


# ------------------------------------------------------- wrong-shaped JSON
GOOD_CONFIG = {"format": "backprop-run/1", "config": {"dataset": "circle"}}


@pytest.mark.parametrize(
    "file, content, reason",
    [
        ("config.json", [], "config.json is not a backprop-run/1 run description"),
        ("config.json", "circle", "config.json is not a backprop-run/1 run description"),
        ("config.json", {**GOOD_CONFIG, "config": []}, "config.json: 'config' is []"),
        ("config.json", {**GOOD_CONFIG, "config": "circle"}, "config.json: 'config' is 'circle'"),
        ("config.json", {**GOOD_CONFIG, "created": 5}, "config.json: 'created' is 5; expected text"),
        ("config.json", {**GOOD_CONFIG, "parent": [1]}, "config.json: 'parent' is [1]; expected text"),
        ("config.json", {**GOOD_CONFIG, "config": {"activation": {"a": 1}}}, "config.json"),
        ("history.json", [], "history.json holds a list, not an object"),
        ("history.json", {"epochs": "many"}, "history.json: 'epochs' is 'many'; expected a list"),
        ("history.json", {"epochs": [1, 2]}, "history.json: epoch record 1 is 1; expected an object"),
        ("history.json", {"epochs": [{"epoch": "one"}]}, "history.json: epoch record 1 has epoch 'one'"),
        ("history.json", {"step_loss": "abc", "epochs": []}, "history.json: 'step_loss' is 'abc'"),
        ("history.json", {"step_loss": [0.5, None], "epochs": []}, "history.json: step loss 2 is None"),
        ("history.json", {"epochs": [], "best_epoch": "3"}, "history.json: 'best_epoch' is '3'"),
        ("history.json", {"epochs": [], "best_epoch": 9}, "history.json: 'best_epoch' is 9"),
        ("history.json", {"epochs": [], "cursor": [1]}, "history.json: 'cursor' is [1]"),
        ("history.json", {"epochs": [], "cursor": {"step": "x"}}, "history.json: cursor step is 'x'"),
        ("history.json", {"epochs": [], "stop_reason": {"x": [1]}}, "history.json: 'stop_reason'"),
        ("history.json", {"epochs": [[[[[[[]]]]]]]}, "history.json: epoch record 1 is [[[[[["),
    ],
)
def test_wrong_shaped_json_is_a_damaged_row_and_the_listing_goes_on(
    store, two_runs, capsys, file, content, reason
):
    _, bad = two_runs
    (bad.path / file).write_text(json.dumps(content))

    listed = rows(store)
    assert listed["good"].damaged is None and listed["good"].summary["epochs"] == 2
    assert listed["bad"].damaged is not None and reason in listed["bad"].damaged, listed["bad"].damaged
    with pytest.raises(ValueError):
        store.open("bad")
    out = cli_lists(capsys, store)
    assert "bad" in out and "DAMAGED" in out and "good" in out


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("train_loss", "abc", "epoch record 2 has train_loss 'abc'; expected a number"),
        ("val_accuracy", "high", "epoch record 2 has val_accuracy 'high'; expected a number"),
        ("seconds", [1], "epoch record 2 has seconds [1]; expected a number"),
        ("step", 1.5, "epoch record 2 has step 1.5; expected a whole number"),
        ("learning_rate", True, "epoch record 2 has learning_rate True; expected a number"),
        ("layers", "x", "epoch record 2 has layers 'x'; expected a list"),
        ("layers", [{"W": [1, 2], "a": [], "dW": [], "grad_norm": 1}], "epoch record 2, layer 1: W"),
        ("layers", [], "epoch record 2 has 0 layers, epoch record 1 has 2"),
    ],
)
def test_wrong_field_types_in_epoch_records_are_reported_where_they_are_read(
    store, two_runs, field, value, reason
):
    _, bad = two_runs

    def break_record(history):
        history["epochs"][1][field] = value

    edit_json(bad.path / "history.json", break_record)
    listed = rows(store)
    assert reason in listed["bad"].damaged, listed["bad"].damaged


def test_a_validated_history_draws_curves_distributions_and_gradient_norms(store, two_runs):
    history = store.open("good").history
    compare_curves({"good": history}, x="time", smoothing=0.5)
    for quantity in ("W", "a", "dW"):
        distribution_curves(history, quantity)
    grad_norm_curves(history)


# ------------------------------------------------------------- bad names
@pytest.mark.parametrize("folder, suggestion", [("my run", "my-run"), ("résumé", "resume"), ("名前", "run")])
def test_a_folder_whose_name_is_not_a_run_name_is_a_row_that_says_to_rename_it(
    store, circle, capsys, folder, suggestion
):
    store.create("good", config(), dataset=circle)
    os.rename(store.open("good").path, store.root / folder)
    store.create("good", config(), dataset=circle)

    listed = rows(store)
    assert listed["good"].damaged is None
    reason = listed[folder].damaged
    assert reason and "not a valid run name" in reason and f"rename the folder to {suggestion!r}" in reason
    with pytest.raises(ValueError):
        store.open(folder)
    with pytest.raises(ValueError):
        store.export_zip(folder)
    assert "not a valid run name" in cli_lists(capsys, store)


# ------------------------------------------------------- links and special files
def test_a_run_folder_that_is_a_symbolic_link_is_listed_not_opened(store, circle, tmp_path, capsys):
    outside = RunStore(tmp_path / "elsewhere")
    outside.create("far", config(), dataset=circle)
    store.create("good", config(), dataset=circle)
    os.symlink(outside.root / "far", store.root / "linked")

    listed = rows(store)
    assert "symbolic link" in listed["linked"].damaged
    with pytest.raises(ValueError, match="symbolic link"):
        store.open("linked")
    assert "symbolic link" in cli_lists(capsys, store)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda path: os.mkfifo(path), "history.json is a named pipe (FIFO), not a regular file"),
        (lambda path: path.mkdir(), "history.json is a folder, not a regular file"),
        (lambda path: os.symlink("/dev/zero", path), "history.json is a symbolic link, not a regular file"),
        (
            lambda path: os.symlink("/etc/hostname", path),
            "history.json is a symbolic link, not a regular file",
        ),
    ],
)
def test_a_special_file_where_history_belongs_is_a_damaged_row_without_hanging(store, two_runs, make, reason):
    _, bad = two_runs
    (bad.path / "history.json").unlink()
    make(bad.path / "history.json")

    result = {}
    thread = threading.Thread(target=lambda: result.update(rows=rows(store)), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "listing the store hangs on a special file"
    assert reason in result["rows"]["bad"].damaged


def test_a_history_over_its_budget_is_a_damaged_row_naming_the_budget(store, two_runs, monkeypatch):
    monkeypatch.setenv(limits.HISTORY_BYTES.env, "2K")
    listed = rows(store)
    assert limits.HISTORY_BYTES.env in listed["bad"].damaged and "history.json is" in listed["bad"].damaged


# ------------------------------------------------- damaged auxiliary files
@pytest.mark.parametrize("file", ["best.npz", "optimizer.npz", "snapshots/epoch-0001.npz"])
@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[:60]),
        lambda path: path.write_bytes(b"garbage" * 50),
        lambda path: path.write_bytes(path.read_bytes()[:-200] + b"\xff" * 200),
    ],
    ids=["truncated", "garbage", "flipped"],
)
def test_a_damaged_best_optimizer_or_snapshot_file_is_reported_on_the_run_row(
    store, two_runs, capsys, file, damage
):
    _, bad = two_runs
    if file == "optimizer.npz":  # runs saved before the optimizer state moved into latest.npz
        save_arrays(bad.path / file, {"0.W.0": np.zeros((2, 4), np.float32)}, {"optimizer": "adam"})
    damage(bad.path / file)
    listed = rows(store)
    assert listed["bad"].damaged is None
    assert listed["good"].problems == []
    assert any(file in problem for problem in listed["bad"].problems), listed["bad"].problems
    assert file in cli_lists(capsys, store)


def test_initial_or_latest_weights_damaged_in_the_middle_make_the_run_damaged(store, two_runs):
    _, bad = two_runs
    data = bytearray((bad.path / "latest.npz").read_bytes())
    data[300:340] = b"\x00" * 40
    (bad.path / "latest.npz").write_bytes(bytes(data))
    assert "latest.npz" in rows(store)["bad"].damaged


def test_the_healthy_run_still_trains_next_to_broken_ones(store, two_runs, circle):
    _, bad = two_runs
    (bad.path / "history.json").write_text("[]")
    os.mkfifo(store.root / "a-fifo")
    (store.root / "stray.txt").write_text("not a run")
    good = store.open("good")
    train_run(good, circle, epochs=1)
    listed = rows(store)
    assert set(listed) == {"good", "bad"}
    assert listed["good"].summary["epochs"] == 3
    np.testing.assert_array_equal(
        store.open("good").weights("latest")["dense1.W"], store.open("good").load_network().layers[0].W
    )


def test_a_config_whose_sizes_disagree_with_its_weights_is_refused_before_building(store, two_runs, circle):
    import tracemalloc

    _, bad = two_runs

    def grow(meta):
        meta["config"]["layers"] = "dense4096-dense4096-dense4096"  # built, 33 million weights

    edit_json(bad.path / "config.json", grow)
    run = store.open("bad")  # it lists and opens: only building a network from it must be refused
    tracemalloc.start()
    try:
        for attempt in (lambda: train_run(run, circle, epochs=1), lambda: run.load_network("latest")):
            with pytest.raises(ValueError, match="does not match its weights"):
                attempt()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * (1 << 20)
