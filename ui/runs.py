"""Streamlit glue for training runs: picking, creating, forking, training and managing runs.

The store on disk is shared by every session (and the CLI); which run is active,
and the network being trained, live in the session (``ui.session``), so two
people working on different runs do not disturb each other.
"""

from __future__ import annotations

import time
from itertools import combinations

import pandas as pd
import streamlit as st

from backprop import RunConfig
from backprop.cli import train_command
from backprop.config import BATCH_SIZE, LAYERS, OPTIMIZER, SCHEDULE, SEED
from backprop.optimizers import CLIP_NORM, LEARNING_RATE, WEIGHT_DECAY
from backprop.runlock import RunBusy
from backprop.runs import (
    RunChanged,
    RunInfo,
    RunStore,
    build_for_training,
    history_csv,
    summarize,
    train_run,
    weight_distances,
)
from backprop.schedules import EARLY_STOPPING
from viz.runs import compare_figure

from . import session
from .data import load_dataset, try_load_dataset
from .text import plain
from .widgets import option_widget

PICK_KEY = "runs.pick"
MESSAGE_KEY = "runs.message"
PLAY_KEY = "runs.playing"
PLAY_TARGET_KEY = "runs.play_target"
BUSY_KEY = "runs.busy"  # (run name, message) when training found the run held by another trainer
PLAY_OFF_KEY = "runs.play_off"  # set to switch Play off before its toggle is drawn again
# Who holds a run's lock while a session trains it, as other sessions and the command line are told.
APP_OWNER = "a session of the app"
# How long one tick of play mode trains before it redraws.
CHUNK_SECONDS = 0.6
# Redraw the progress bar at most this often during a long training call.
PROGRESS_SECONDS = 0.25
MAX_COMPARED_BY_DEFAULT = 4


def store() -> RunStore:
    return RunStore()


def say(kind: str, text: str) -> None:
    """Queue a message for the next run of the page (callbacks cannot draw); ``text`` is Markdown."""
    st.session_state[MESSAGE_KEY] = (kind, text)


def show_messages() -> None:
    kind, text = st.session_state.pop(MESSAGE_KEY, (None, None))
    if kind:
        getattr(st, kind)(text)


def healthy(infos: list[RunInfo]) -> list[RunInfo]:
    return [info for info in infos if not info.damaged]


def show_damaged(infos: list[RunInfo]) -> None:
    """One warning per run folder that cannot be opened, and one per damaged file of a run that can."""
    for info in infos:
        if info.damaged:
            st.warning(f"Run **{plain(info.name)}** is damaged and skipped: {plain(info.damaged)}.")
        for problem in info.problems:
            st.warning(f"Run **{plain(info.name)}** has a damaged file: {plain(problem)}.")


def active_run_name() -> str | None:
    model = st.session_state.get(session.MODEL_KEY)
    return getattr(model, "run_name", None)


def activate_run(name: str):
    """Make the stored run the session's active model (latest weights, trainer resumed); returns it."""
    run = store().open(name)
    dataset, error = try_load_dataset(run.config.dataset, run.config.dataset_params)
    if error:
        raise ValueError(error)
    net, trainer = build_for_training(run, dataset)
    session.activate(run.config, net, trainer, run_name=run.name, initial_weights=run.weights("initial"))
    # The fork widgets start from the newly active run's settings.
    for key in [
        k for k in st.session_state if isinstance(k, str) and k.startswith(("runs.f.", "runs.fork_name"))
    ]:
        del st.session_state[key]
    return run


def training_state(name: str):
    """(run, model) for training ``name`` in this session, continuing the in-memory trainer when it matches disk."""
    run = store().open(name)
    model = st.session_state.get(session.MODEL_KEY)
    in_step = (
        model is not None
        and model.run_name == run.name
        and model.config == run.config
        and model.trainer.step == run.step
        and len(model.trainer.history.epochs) == len(run.history.epochs)
    )
    if not in_step:
        run = activate_run(name)
        model = st.session_state[session.MODEL_KEY]
    return run, model


# --------------------------------------------------------------- callbacks
def _on_pick() -> None:
    st.session_state.pop(BUSY_KEY, None)
    name = st.session_state.get(PICK_KEY)
    if name and name != active_run_name():
        try:
            activate_run(name)
        except ValueError as err:
            say("error", plain(f"Could not open run {name!r}: {err}"))


def _on_create(config: RunConfig) -> None:
    try:
        dataset, error = try_load_dataset(config.dataset, config.dataset_params)
        if error:
            raise ValueError(error)
        run = store().create(st.session_state.get("runs.new_name", ""), config, dataset=dataset)
        activate_run(run.name)
        st.session_state[PICK_KEY] = run.name
        say("success", f"Created run **{plain(run.name)}** ({plain(config.describe())}). Train it below.")
    except ValueError as err:
        say("error", plain(f"Could not create the run: {err}"))


EXAMPLE_EPOCHS = 20


def _on_examples() -> None:
    """Two runs of the default setup that differ only in the activation, trained and ready to compare."""
    config = RunConfig(epochs=EXAMPLE_EPOCHS)
    try:
        dataset = load_dataset(config.dataset, config.dataset_params)
        base = store().create(store().unique_name("example-gelu"), config, dataset=dataset)
        fork = store().fork(
            base.name,
            store().unique_name("example-relu"),
            dataset=dataset,
            layers=config.layers.replace("gelu", "relu"),
        )
        for run in (base, fork):
            train_run(run, dataset, epochs=EXAMPLE_EPOCHS)
        activate_run(base.name)
        st.session_state[PICK_KEY] = base.name
        say(
            "success",
            f"Created and trained **{plain(base.name)}** and its fork **{plain(fork.name)}** "
            f"({plain(config.describe())}; the fork uses ReLU) for {EXAMPLE_EPOCHS} epochs.",
        )
    except ValueError as err:
        say("error", plain(f"Could not create the example runs: {err}"))


def example_runs_button() -> None:
    """One click to a pair of trained runs, for a store that is still empty."""
    st.button(
        f"Create two example runs (GELU vs ReLU on circle, {EXAMPLE_EPOCHS} epochs)",
        key="runs.examples",
        on_click=_on_examples,
        icon=":material/science:",
    )


def _on_fork(parent: str) -> None:
    try:
        run = store().open(parent)
        changes = fork_changes(run.config)
        dataset, error = try_load_dataset(run.config.dataset, run.config.dataset_params)
        fork = store().fork(
            parent, st.session_state.get("runs.fork_name", ""), dataset=None if error else dataset, **changes
        )
        activate_run(fork.name)
        st.session_state[PICK_KEY] = fork.name
        shapes = {k: v.shape for k, v in run.weights("initial").items()}
        same_start = (
            shapes == {k: v.shape for k, v in fork.weights("initial").items()} and "seed" not in changes
        )
        same = (
            "the same initial weights"
            if same_start
            else "fresh initial weights (its weight shapes or seed differ)"
        )
        say(
            "success",
            f"Forked **{plain(parent)}** into **{plain(fork.name)}**: {plain(', '.join(changes) or 'no change')}; "
            f"same seed and batch order, {same}.",
        )
    except ValueError as err:
        say("error", plain(f"Could not fork: {err}"))


def _on_fork_busy(name: str) -> None:
    """An identical twin of a run someone else is training (same settings, seed and initial weights)."""
    st.session_state.pop(BUSY_KEY, None)
    try:
        fork = store().fork(name, store().unique_name(f"{name}-fork"))
        activate_run(fork.name)
        st.session_state[PICK_KEY] = fork.name
        say(
            "success",
            f"Forked **{plain(name)}** into **{plain(fork.name)}** with the same settings, seed and initial "
            "weights; train it here while the other trainer has the original.",
        )
    except ValueError as err:
        say("error", plain(f"Could not fork: {err}"))


def _on_rename(name: str) -> None:
    try:
        run = store().rename(name, st.session_state.get("runs.rename_to", ""), owner=APP_OWNER)
        model = st.session_state.get(session.MODEL_KEY)
        if model is not None and model.run_name == name:
            model.run_name = run.name
        st.session_state[PICK_KEY] = run.name
        say("success", f"Renamed **{plain(name)}** to **{plain(run.name)}**.")
    except ValueError as err:
        say("error", plain(f"Could not rename: {err}"))


def _on_reset(name: str) -> None:
    try:
        store().reset(name, owner=APP_OWNER)
        activate_run(name)
        say("success", f"Run **{plain(name)}** is back at its initial weights; its history was cleared.")
    except ValueError as err:
        say("error", plain(f"Could not reset: {err}"))


def _on_delete(name: str) -> None:
    try:
        store().delete(name, owner=APP_OWNER)
        model = st.session_state.get(session.MODEL_KEY)
        if model is not None and model.run_name == name:
            model.run_name = None
        st.session_state.pop(PICK_KEY, None)
        say("success", f"Deleted run **{plain(name)}**.")
    except ValueError as err:
        say("error", plain(f"Could not delete: {err}"))


def _on_import() -> None:
    upload = st.session_state.get("runs.upload")
    if upload is None:
        return
    try:
        run = store().import_zip(upload.getvalue(), name=st.session_state.get("runs.import_name") or None)
        st.session_state[PICK_KEY] = run.name
        activate_run(run.name)
        say("success", f"Imported run **{plain(run.name)}**.")
    except ValueError as err:
        say("error", plain(f"Could not import {upload.name}: {err}"))


# ------------------------------------------------------------------ widgets
def create_run_form(config: RunConfig, names: list[str]) -> None:
    """Name + button that stores a new run from the sidebar's setup."""
    st.caption(f"From the setup in the sidebar: {plain(config.describe())}")
    base = f"{config.dataset}-{config.layers}"[:40].rstrip("-.") or config.dataset
    suggestion = base if base not in names else store().unique_name(base)
    st.session_state.setdefault("runs.new_name", suggestion)
    if st.session_state["runs.new_name"] in names:
        st.session_state["runs.new_name"] = suggestion
    st.text_input("Run name", key="runs.new_name", help="Letters, digits, -, _ and . (spaces become -)")
    st.button("Create run", type="primary", on_click=_on_create, args=(config,), key="runs.create")


def run_picker(infos: list[RunInfo]) -> str | None:
    """Selectbox of healthy runs; choosing one makes it the session's active run."""
    names = [info.name for info in healthy(infos)]
    if st.session_state.get(PICK_KEY) not in names:
        active = active_run_name()
        st.session_state[PICK_KEY] = active if active in names else None
    labels = {
        info.name: f"{info.name} · {info.summary.get('epochs', 0)} epochs · {info.config.describe()}"
        for info in healthy(infos)
    }
    return st.selectbox(
        "Run",
        names,
        key=PICK_KEY,
        on_change=_on_pick,
        placeholder="Choose a run…",
        format_func=lambda n: labels.get(n, n),
        help="The chosen run becomes this session's active network (Step through shows it).",
    )


def ensure_active(name: str) -> None:
    if name != active_run_name():
        try:
            activate_run(name)
        except ValueError as err:
            st.error(plain(f"Could not open run {name!r}: {err}. Pick another run or delete this one."))
            st.stop()


def _stop_reason_message(history) -> None:
    if history.stop_reason and "early stopping" in history.stop_reason:
        st.info(plain(f"Training ended by {history.stop_reason}; the best weights were restored."))


def train_panel(name: str) -> None:
    """Train N epochs with progress, live chart and Stop; or play/pause for watching it learn."""
    run = store().open(name)
    cols = st.columns([1, 1, 1, 2])
    epochs = int(cols[0].number_input("Epochs", 1, 1000, int(run.config.epochs), key="runs.epochs"))
    train = cols[1].button("Train", type="primary", key="runs.train", icon=":material/play_arrow:")
    stopped = cols[2].button("Stop", key="runs.stop", icon=":material/stop:")
    if st.session_state.pop(PLAY_OFF_KEY, False):
        st.session_state[PLAY_KEY] = False
    playing = cols[3].toggle(
        "Play (train continuously)",
        key=PLAY_KEY,
        help="Trains a slice every second and redraws, until you switch it off.",
    )
    if stopped:
        st.info(
            f"Stopped. Every finished step is kept: {len(run.history)} epochs, "
            f"{len(run.history.step_loss)} steps."
        )
    busy = st.session_state.get(BUSY_KEY)
    if busy and busy[0] == name:
        st.error(plain(busy[1]))
        st.button(
            "Fork it and train the fork instead",
            on_click=_on_fork_busy,
            args=(name,),
            key="runs.fork_busy",
            icon=":material/fork_right:",
        )
    progress = st.empty()
    chart = st.empty()
    chart.plotly_chart(compare_figure({name: run.history}), key="runs.chart")
    if train and not playing:
        _train_now(name, epochs, progress, chart)
    if playing:
        _play_fragment(name)
    _stop_reason_message(store().open(name).history)


def _busy(name: str, err: RunBusy) -> None:
    """Remember that another trainer holds ``name`` and redraw: the Train tab offers to fork it."""
    st.session_state[BUSY_KEY] = (name, str(err))
    st.rerun()


def _stop_playing(kind: str | None = None, text: str = "") -> None:
    """Switch Play off (its toggle may already be drawn in this run) and redraw, with a message."""
    st.session_state[PLAY_OFF_KEY] = True
    if kind:
        say(kind, text)
    st.rerun()


def _train_now(name: str, epochs: int, progress, chart) -> None:
    run, model = training_state(name)
    start_epoch = model.trainer.epoch
    bar = progress.progress(0.0, text="starting…")
    last = [0.0]

    def on_event(event):
        now = time.perf_counter()
        if event.kind == "epoch":
            chart.plotly_chart(compare_figure({name: model.trainer.history}), key=f"runs.chart.{event.epoch}")
        if event.kind == "epoch" or now - last[0] > PROGRESS_SECONDS:
            last[0] = now
            fraction = (
                min((event.epoch - start_epoch - 1 + event.epoch_progress) / epochs, 1.0)
                if event.kind == "step"
                else (event.epoch - start_epoch) / epochs
            )
            bar.progress(
                max(fraction, 0.0), text=f"epoch {event.epoch - start_epoch}/{epochs} · loss {event.loss:.4g}"
            )
        return None

    def train():
        train_run(
            run,
            model.dataset,
            epochs=epochs,
            callback=on_event,
            net=model.net,
            trainer=model.trainer,
            owner=APP_OWNER,
        )

    try:
        try:
            train()
        except RunChanged:  # trained elsewhere since this session loaded it: go on from its saved state
            run, model = activate_run(name), st.session_state[session.MODEL_KEY]
            start_epoch = model.trainer.epoch
            train()
    except RunBusy as err:
        _busy(name, err)
    except Exception as err:  # TrainingDiverged and bad settings reach the user as text
        st.error(plain(f"Training stopped: {err}"))
        return
    st.session_state.pop(BUSY_KEY, None)
    # Rerun so the picker, tables and tabs read the new history from disk.
    say("success", plain(f"Trained {epochs} epoch{'s' if epochs != 1 else ''}: {summary_line(run.history)}"))
    st.rerun()


def _play_fragment(name: str) -> None:
    @st.fragment(run_every=1.0)
    def tick():
        run, model = training_state(name)
        deadline = time.perf_counter() + CHUNK_SECONDS
        history = model.trainer.history
        try:
            with run.locked(APP_OWNER):  # one lock for the slice and the save after it
                train_run(
                    run,
                    model.dataset,
                    epochs=1,
                    net=model.net,
                    trainer=model.trainer,
                    callback=lambda event: event.kind == "step" and time.perf_counter() > deadline,
                )
                if history.stop_reason == "stopped by the user":
                    history.stop_reason = None  # a play tick ending is not a stop
                    run.save_progress(model.net, model.trainer)
        except RunChanged:
            return  # trained elsewhere meanwhile: the next tick starts from the saved state
        except RunBusy as err:
            st.session_state[BUSY_KEY] = (name, str(err))
            _stop_playing()
        except Exception as err:
            _stop_playing("error", plain(f"Training stopped: {err}"))
        st.plotly_chart(compare_figure({name: history}), key="runs.play_chart")
        st.caption(
            plain(
                f"playing · epoch {model.trainer.epoch} · step {model.trainer.step} · {summary_line(history)}"
            )
        )

    tick()


def summary_line(history) -> str:
    summary = summarize(history)
    parts = [f"{summary['epochs']} epochs"]
    if summary["final_train_loss"] is not None:
        parts.append(f"train loss {summary['final_train_loss']:.4g}")
    if summary["best_val_accuracy"] is not None:
        parts.append(f"best val accuracy {summary['best_val_accuracy']:.4f} (epoch {summary['best_epoch']})")
    return " · ".join(parts)


def epoch_table(history) -> pd.DataFrame:
    """Per-epoch metrics, epoch time in ms."""
    rows = [
        {
            "epoch": r["epoch"],
            "train loss": r["train_loss"],
            "train acc": r.get("train_accuracy"),
            "val loss": r.get("val_loss"),
            "val acc": r.get("val_accuracy"),
            "learning rate": r["learning_rate"],
            "epoch ms": round((r.get("seconds") or 0.0) * 1000, 1),
            "samples seen": r.get("samples_seen"),
        }
        for r in history.epochs
    ]
    return pd.DataFrame(rows)


# The settings a fork may change: everything but the data, each drawn from its declaration.
FORK_OPTIONS = (
    LAYERS,
    OPTIMIZER,
    LEARNING_RATE,
    BATCH_SIZE,
    WEIGHT_DECAY,
    CLIP_NORM,
    SCHEDULE,
    EARLY_STOPPING,
    SEED,
)


def fork_form(name: str) -> None:
    """Widgets for the settings a fork may change; only the changed ones are applied."""
    parent = store().open(name).config
    errors: list[str] = []
    cols = st.columns(3)
    for k, option in enumerate(FORK_OPTIONS):
        with cols[k % 3]:
            current = (
                (parent.schedule or {}).get("schedule", "constant")
                if option is SCHEDULE
                else getattr(parent, option.name)
            )
            try:
                option_widget(option, current, f"runs.f.{option.name}")
            except ValueError as err:
                errors.append(str(err))
    for error in errors:
        st.error(error)
    changes = fork_changes(parent)
    st.session_state.setdefault("runs.fork_name", f"{name}-fork")
    st.text_input("Fork name", key="runs.fork_name")
    st.button(
        "Fork",
        on_click=_on_fork,
        args=(name,),
        key="runs.fork",
        disabled=bool(errors),
        help="Same seed and batch order; the parent's initial weights when the shapes allow.",
    )
    st.caption(
        "Changes: "
        + (plain(", ".join(f"{k} → {v}" for k, v in changes.items())) or "none (an identical twin)")
    )


def fork_changes(parent: RunConfig) -> dict:
    """The settings the fork widgets change (read from session state, so a click sees the latest values).

    A changed optimizer starts from its own default options; a changed schedule from its defaults.
    """
    wanted = {}
    for option in FORK_OPTIONS:
        value = st.session_state.get(f"runs.f.{option.name}")
        if value is None and not option.optional:
            continue
        try:
            wanted[option.name] = option.check(value)
        except ValueError:
            continue
    if "schedule" in wanted:
        kind = wanted.pop("schedule")
        same = (parent.schedule or {}).get("schedule", "constant") == kind
        wanted["schedule"] = parent.schedule if same else (None if kind == "constant" else {"schedule": kind})
    if wanted.get("optimizer", parent.optimizer) != parent.optimizer:
        wanted["optimizer_options"] = {}
    return {k: v for k, v in wanted.items() if getattr(parent, k) != v}


def manage_panel(name: str) -> None:
    """Rename, reset (confirmed), delete (confirmed), export downloads and import."""
    run = store().open(name)
    st.code(train_command(run.config, f"runs/{name}"), language="bash")
    cols = st.columns(2)
    with cols[0]:
        st.text_input("New name", key="runs.rename_to")
        st.button("Rename", on_click=_on_rename, args=(name,), key="runs.rename")
        sure_reset = st.checkbox("Yes, forget this run's training", key="runs.sure_reset")
        st.button(
            "Reset to initial weights",
            disabled=not sure_reset,
            on_click=_on_reset,
            args=(name,),
            key="runs.reset",
        )
        sure_delete = st.checkbox(f"Yes, delete {plain(name)} for good", key="runs.sure_delete")
        st.button(
            "Delete run", disabled=not sure_delete, on_click=_on_delete, args=(name,), key="runs.delete"
        )
    with cols[1]:
        try:
            archive, best = store().export_zip(name), run.weights_file("best")
        except ValueError as err:  # a file went bad, or over a budget, since the run was listed
            st.error(plain(f"Cannot offer {name} for download: {err}"))
        else:
            st.download_button(
                "Download run (.zip)", archive, f"{name}.zip", "application/zip", key="runs.dl_zip"
            )
            st.download_button(
                "History (.csv)",
                history_csv(run.history),
                f"{name}-history.csv",
                "text/csv",
                key="runs.dl_csv",
            )
            st.download_button("Best weights (.npz)", best, f"{name}-best.npz", key="runs.dl_npz")
    st.file_uploader("Import an exported run (.zip)", type=["zip"], key="runs.upload")
    st.text_input("Name for the imported run (optional)", key="runs.import_name")
    st.button("Import", on_click=_on_import, key="runs.import")


# ------------------------------------------------------------------ compare
def compare_picker(infos: list[RunInfo]) -> list[str]:
    names = [info.name for info in healthy(infos)]
    active = active_run_name()
    default = names[-MAX_COMPARED_BY_DEFAULT:]
    if active in names and active not in default:
        default = [active] + default[1:]
    return st.multiselect("Runs to compare", names, default=default, key="compare.runs")


def open_chosen(names: list[str]) -> dict:
    """name -> Run for the chosen runs, each opened once; one that went bad since it was listed is a warning."""
    opened = {}
    for name in names:
        try:
            opened[name] = store().open(name)
        except ValueError as err:  # deleted, renamed or damaged by another session meanwhile
            st.warning(plain(f"Run {name} is left out: {err}."))
    return opened


def histories(runs: dict) -> dict:
    return {name: run.history for name, run in runs.items()}


def bayes_accuracy(runs: dict) -> float | None:
    """The Bayes-optimal accuracy when every chosen run uses the same sequence dataset."""
    configs = [run.config for run in runs.values()]
    keys = {(c.dataset, repr(sorted(c.dataset_params.items()))) for c in configs}
    if len(keys) != 1 or configs[0].dataset != "sequences":
        return None
    dataset = load_dataset(configs[0].dataset, configs[0].dataset_params)
    return getattr(dataset, "bayes_accuracy", None)


def config_table(runs: dict):
    """Settings by run, differing rows highlighted (a pandas Styler)."""
    configs = {name: run.config for name, run in runs.items()}
    first = next(iter(configs.values()))
    differing = sorted({key for c in configs.values() for key in c.differences(first)})
    data = {name: {k: str(v) for k, v in c.to_dict().items()} for name, c in configs.items()}
    frame = pd.DataFrame(data)
    frame.index.name = "setting"
    frame = pd.concat([frame.loc[differing], frame.drop(index=differing)])

    def highlight(row):
        return ["background-color: #fff3b0" if row.name in differing else "" for _ in row]

    return frame.style.apply(highlight, axis=1), differing


def metrics_table(runs: dict) -> pd.DataFrame:
    rows = []
    for name, run in runs.items():
        summary = summarize(run.history)
        rows.append(
            {
                "run": name,
                "epochs": summary["epochs"],
                "best val acc": summary["best_val_accuracy"],
                "best epoch": summary["best_epoch"],
                "seconds to best": summary["seconds_to_best"],
                "best val loss": summary["best_val_loss"],
                "final train loss": summary["final_train_loss"],
            }
        )
    return pd.DataFrame(rows).set_index("run")


def fork_distances(runs: dict) -> dict:
    """Weight distances for chosen pairs where one run is the other's fork (or they share a parent)."""
    out = {}
    for a, b in combinations(runs, 2):
        related = (
            runs[a].parent == b
            or runs[b].parent == a
            or (runs[a].parent is not None and runs[a].parent == runs[b].parent)
        )
        if related:
            data = weight_distances(runs[a], runs[b])
            if data["epochs"]:
                out[f"{a} vs {b}"] = data
    return out
