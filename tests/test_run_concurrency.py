"""One run, two trainers: the second is told the run is busy, no epoch is lost, a kill -9 leaves it loadable."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import datasets
from backprop import RunConfig, files
from backprop.runlock import RunBusy, RunLock
from backprop.runs import RunChanged, RunStore, build_for_training, train_run

REPO_ROOT = Path(__file__).resolve().parent.parent


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
        layers="dense6-gelu",
        learning_rate=0.03,
        batch_size=25,
        **changes,
    )


def saved_state(run):
    """(history step, weights step, epochs) of a freshly opened run: the two steps must agree."""
    weights_step = files.load_metadata(run.path / "latest.npz")["cursor"]["step"]
    return run.step, weights_step, len(run.history)


def test_two_trainers_of_one_run_never_lose_epochs(store, circle):
    store.create("shared", config(), dataset=circle)
    started, outcomes = threading.Event(), {}

    def first():
        def on_event(event):
            started.set()
            time.sleep(0.002)  # keep the lock long enough for the second trainer to meet it

        outcomes["first"] = train_run(
            store.open("shared"), circle, epochs=8, callback=on_event, owner="first"
        )

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(30)
    with pytest.raises(RunBusy, match=r"run 'shared' is being trained by first \(process \d+ on .*since"):
        train_run(store.open("shared"), circle, epochs=3, owner="second")
    thread.join(60)

    train_run(store.open("shared"), circle, epochs=3, owner="second")  # free again: it goes on from epoch 8
    run = store.open("shared")
    assert len(run.history) == 11
    assert [record["epoch"] for record in run.history.epochs] == list(range(1, 12))
    history_step, weights_step, _ = saved_state(run)
    assert history_step == weights_step == len(run.history.step_loss)


def test_a_trainer_loaded_before_someone_else_trained_is_refused_not_saved_over(store, circle):
    store.create("stale", config(), dataset=circle)
    mine = store.open("stale")
    net, trainer = build_for_training(mine, circle)  # this session loads the run ...
    train_run(store.open("stale"), circle, epochs=2)  # ... another session trains it meanwhile
    with pytest.raises(
        RunChanged,
        match=r"trained elsewhere since it was loaded here: it is at step \d+, this copy at step 0",
    ):
        train_run(mine, circle, epochs=1, net=net, trainer=trainer)
    assert len(store.open("stale").history) == 2


def test_reset_rename_and_delete_wait_for_no_one_while_a_run_trains(store, circle):
    run = store.create("busy", config(), dataset=circle)
    with RunLock(run.path, owner="python -m backprop train"):
        for action in (store.reset, store.delete):
            with pytest.raises(RunBusy, match="python -m backprop train"):
                action("busy")
        with pytest.raises(RunBusy):
            store.rename("busy", "renamed")
    assert store.exists("busy") and not store.exists("renamed")
    store.rename("busy", "renamed")  # free: it works
    assert store.open("renamed").name == "renamed"


def test_the_lock_is_released_when_training_stops_in_any_way(store, circle):
    run = store.create("stops", config(), dataset=circle)

    def boom(event):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_run(run, circle, epochs=3, callback=boom)
    train_run(store.open("stops"), circle, epochs=1, callback=lambda event: event.kind == "epoch")
    with RunLock(run.path):
        pass


def cli_train(run_dir: Path, epochs: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backprop",
            "train",
            "--dataset",
            "circle",
            "--dataset-param",
            "samples=2000",
            "--layers",
            "dense32-gelu-dense32-gelu",
            "--batch-size",
            "8",
            "--epochs",
            str(epochs),
            "--run-dir",
            str(run_dir),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_epochs(store, name, count, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if len(store.open(name).history) >= count:
                return
        except ValueError:
            pass  # not created yet
        time.sleep(0.05)
    raise AssertionError(f"{name} did not reach {count} epochs")


def test_the_app_is_told_when_the_command_line_trains_the_same_run(store, circle):
    process = cli_train(store.root / "cli-run", epochs=1000)
    try:
        wait_for_epochs(store, "cli-run", 1, process)
        with pytest.raises(RunBusy, match=rf"python -m backprop train \(process {process.pid} on"):
            train_run(store.open("cli-run"), datasets.load("circle", samples=2000), epochs=1, owner="the app")
    finally:
        process.kill()
        process.wait(30)


@pytest.mark.parametrize("kill_after_epochs", [1, 3])
def test_kill_9_during_training_leaves_a_loadable_consistent_run_that_trains_on(store, kill_after_epochs):
    process = cli_train(store.root / "killed", epochs=1000)
    wait_for_epochs(store, "killed", kill_after_epochs, process)
    time.sleep(0.1 * kill_after_epochs)  # land somewhere inside an epoch, or a save
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert process.returncode == -signal.SIGKILL

    info = next(info for info in store.list() if info.name == "killed")
    assert info.damaged is None and info.problems == [], (info.damaged, info.problems)
    run = store.open("killed")
    history_step, weights_step, epochs = saved_state(run)
    assert history_step == weights_step and epochs >= kill_after_epochs
    assert len(run.history.step_loss) == history_step
    before = run.load_network().layers[0].W.copy()
    np.testing.assert_array_equal(before, run.weights("latest")["dense1.W"])

    # The dead trainer's lock is gone with its process: training goes on from the saved step.
    data = datasets.load("circle", samples=2000)
    _, trainer = train_run(run, data, epochs=1)
    again = store.open("killed")
    assert len(again.history) == epochs + 1 and again.step == trainer.step > history_step


@pytest.mark.parametrize("crash_at", [1, 2, 3, 4])
def test_a_save_cut_short_at_any_file_leaves_weights_and_history_of_one_step(
    store, circle, monkeypatch, crash_at
):
    """Like a kill -9 between two files of a save: every os.replace from the crash_at-th on fails."""
    store.create("cut", config(), dataset=circle)
    train_run(store.open("cut"), circle, epochs=1)
    before = store.open("cut")
    replace, calls = os.replace, []

    def dying(source, target):
        calls.append(Path(target).name)
        if len(calls) >= crash_at:
            raise OSError("the process died here")
        replace(source, target)

    monkeypatch.setattr(os, "replace", dying)
    with pytest.raises(OSError, match="died"):
        train_run(store.open("cut"), circle, epochs=1)
    monkeypatch.undo()

    run = store.open("cut")
    history_step, weights_step, epochs = saved_state(run)
    assert history_step == weights_step and epochs in (1, 2)
    assert (history_step, epochs) == ((before.step, 1) if crash_at <= 2 else (2 * before.step, 2)), calls
    assert next(info for info in store.list() if info.name == "cut").problems == []
    _, trainer = train_run(run, circle, epochs=1)  # and it trains on from there
    assert store.open("cut").step == trainer.step == history_step + before.step


def test_a_reader_during_training_always_gets_weights_and_history_of_one_step(store, circle):
    store.create("watched", config(), dataset=circle)
    saved, done = {0: store.open("watched").weights("latest")["dense1.W"].tobytes()}, threading.Event()

    def trainer_thread():
        def on_event(event):
            if event.kind == "epoch":  # called right after the epoch's save
                saved[event.trainer.step] = event.trainer.net.layers[0].W.tobytes()

        train_run(store.open("watched"), circle, epochs=60, callback=on_event)
        done.set()

    thread = threading.Thread(target=trainer_thread)
    thread.start()
    seen = set()
    while not done.is_set():
        net, trainer = build_for_training(store.open("watched"), circle)
        assert trainer.step == len(trainer.history.step_loss)
        assert trainer.epoch == len(trainer.history.epochs)
        deadline = time.monotonic() + 5
        while trainer.step not in saved and time.monotonic() < deadline:
            time.sleep(0.001)  # the trainer notes a save just after making it
        assert net.layers[0].W.tobytes() == saved[trainer.step], (
            f"weights and history differ at {trainer.step}"
        )
        seen.add(trainer.step)
    thread.join(60)
    assert len(seen) > 3  # the reader really raced the trainer
