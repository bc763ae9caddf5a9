"""Streamlit glue for training runs: picking, creating, forking, training, following and managing runs.

The store on disk is shared by every session (and the CLI); which run is active, and the network
being trained, live in the session (``ui.session``), so two people working on different runs do not
disturb each other. What is read from disk is kept until the run's files change (``RunStore.signature``),
so a rerun that changes nothing reads nothing again; figures are drawn only for the tab that is open.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from itertools import combinations

import pandas as pd
import streamlit as st

import datasets
from backprop import History, RunConfig
from backprop.cli import train_command
from backprop.config import BATCH_SIZE, LAYERS, OPTIMIZER, SCHEDULE, SEED
from backprop.optimizers import CLIP_NORM, LEARNING_RATE, WEIGHT_DECAY
from backprop.runlock import RunBusy, describe_holder, holder
from backprop.runs import (
    STALL_FACTOR,
    RunChanged,
    RunInfo,
    RunStore,
    build_for_training,
    history_csv,
    sort_listing,
    summarize,
    train_run,
    weight_distances,
)
from backprop.schedules import EARLY_STOPPING
from viz.runs import compare_curves, distribution_curves, grad_norm_curves

from . import run_claims, session
from .curve_view import curve_view
from .data import load_dataset, try_load_dataset
from .places import message_place, messages_in_place
from .sidebar import SetupKeys, network_summary, setup_controls
from .text import plain
from .training import APP_OWNER, Progress, after_training, save_unsaved_steps, train_active
from .widgets import forget, kept_tabs, option_widget, put

PICK_KEY = "runs.pick"
MESSAGE_KEY = "runs.message"
REDRAW_KEY = "runs.redraw"  # set by a pick that changes what is drawn outside the run panel
BUSY_KEY = "runs.busy"  # (run name, message) when training found the run held by another trainer
TAB_KEY = "runs.tab"
CREATED_KEY = "runs.created"  # (name as typed, setup, run name) of the run Create run made last
STOPPED_KEY = "runs.stopped"  # ("Stopped" or "Paused", run name) of the last stop, until the next goal
TABS = ("Train", "Inside the layers", "Fork", "Manage")
TABLE_KEY = "runs.table"
TABLE_OPEN_KEY = "runs.table_open"  # whether the epoch table was open, kept across page switches
QUANTITIES = {"W": "weights W", "a": "activations a", "dW": "gradients dL/dW"}
# Pages that show runs poll the store this often while another trainer has a run.
FOLLOW_SECONDS = 2.0
MAX_COMPARED_BY_DEFAULT = 4
# The most epochs one Train asks for (Play trains on without a limit).
MAX_EPOCHS = 1000


def store() -> RunStore:
    return RunStore()


def say(kind: str, text: str) -> None:
    """Queue a message for the next run of the page (callbacks cannot draw); ``text`` is Markdown."""
    st.session_state[MESSAGE_KEY] = (kind, text)


def show_messages() -> None:
    """What the last action reported, shown once, in a place that is there on every run."""
    messages_in_place([st.session_state.pop(MESSAGE_KEY, (None, None))])


# ------------------------------------------------------------ reading, cached
@st.cache_data(max_entries=512, show_spinner=False)
def _info(root: str, name: str, signature: tuple) -> RunInfo:
    return RunStore(root).info(name)


def listing() -> list[RunInfo]:
    """Every run folder's row, each read again only when its files changed."""
    runs = store()
    return sort_listing([_info(str(runs.root), name, runs.signature(name)) for name in runs.names()])


@dataclass
class RunView:
    """What the pages show of a run, read from its files: settings, history, where it came from."""

    name: str
    config: RunConfig
    history: History
    parent: str | None
    created: str | None
    step: int


@st.cache_data(max_entries=64, show_spinner=False)
def _view(root: str, name: str, signature: tuple) -> RunView:
    run = RunStore(root).open(name)
    return RunView(run.name, run.config, run.history, run.parent, run.created, run.step)


def view(name: str) -> RunView:
    """The run as saved (a copy: the caller may keep or change it); ValueError when it cannot be opened."""
    runs = store()
    return _view(str(runs.root), name, runs.signature(name))


def healthy(infos: list[RunInfo]) -> list[RunInfo]:
    return [info for info in infos if not info.damaged]


def show_damaged(infos: list[RunInfo]) -> None:
    """One warning per run folder that cannot be opened, and one per damaged file of a run that can."""
    warnings = []
    for info in infos:
        if info.damaged:
            warnings.append(f"Run **{plain(info.name)}** is damaged and skipped: {plain(info.damaged)}.")
        for problem in info.problems:
            warnings.append(f"Run **{plain(info.name)}** has a damaged file: {plain(problem)}.")
    messages_in_place(("warning", warning) for warning in warnings)


def trained_elsewhere(names: list[str]) -> dict[str, dict]:
    """name -> who holds its lock, for the runs another trainer (a session, the command line) trains now."""
    runs = store()
    out = {}
    for name in names:
        found = holder(runs.root / name)
        if found is not None:
            out[name] = found
    return out


@dataclass(frozen=True)
class Watch:
    """Runs trained elsewhere when the page began, and their files as they were then."""

    names: tuple[str, ...]
    busy: dict
    seen: tuple


def _files(runs: RunStore, names) -> tuple:
    return tuple(runs.names()), tuple(runs.signature(name) for name in names)


def watch(names) -> Watch | None:
    """Called before the page reads ``names``: which of them another trainer has, and their files now.

    Taken before the reads, a trainer's last save is never missed: a save after this is a change
    ``follow`` sees, and a trainer found done here had saved before the page read anything.
    None when no other trainer has any of them.
    """
    names = tuple(names)
    busy = trained_elsewhere(names)
    return Watch(names, busy, _files(store(), names)) if busy else None


def follow(watched: Watch | None) -> None:
    """While another trainer has one of the watched runs, check their files every FOLLOW_SECONDS and
    redraw the page when they changed; when none is trained any more, redraw once more and stop checking.

    A training that starts after the page was drawn is followed from the next interaction on.
    """
    if watched is None:
        return
    runs, names, busy = store(), watched.names, watched.busy

    @st.fragment(run_every=FOLLOW_SECONDS)
    def poll():
        if _files(runs, names) != watched.seen or not trained_elsewhere(names):
            st.rerun()
        who = "; ".join(
            f"{plain(name)} by {plain(describe_holder(found))}" for name, found in sorted(busy.items())
        )
        st.caption(f":material/sync: Following training elsewhere ({who}): redrawn as its epochs are saved.")

    poll()


# ------------------------------------------------------------- the session
def active_run_name() -> str | None:
    model = st.session_state.get(session.MODEL_KEY)
    return getattr(model, "run_name", None)


@st.cache_data(max_entries=4, show_spinner=False)
def _opened_for_training(root: str, name: str, signature: tuple) -> tuple:
    """(settings, network with the latest weights, trainer resumed where the run stopped, initial weights)
    as the run's files hold them, read again only when they change. Every call gets a copy of its own: the
    session trains it. Four runs are kept: each holds about five copies of its weights (latest, initial,
    best, the optimizer's two moments), 100 MB at the app's largest network, 5 million parameters."""
    run = RunStore(root).open(name)
    dataset, error = try_load_dataset(run.config.dataset, run.config.dataset_params)
    if error:
        raise ValueError(error)
    net, trainer = build_for_training(run, dataset)
    return run.config, net, trainer, run.weights("initial")


def activate_run(name: str) -> None:
    """Make the stored run the session's active model (latest weights, trainer resumed)."""
    runs = store()
    config, net, trainer, initial = _opened_for_training(str(runs.root), name, runs.signature(name))
    session.activate(config, net, trainer, run_name=name, initial_weights=initial)
    forget("runs.f.", "runs.fork_name")  # the fork widgets start from the newly active run's settings


def training_model(name: str):
    """The session's model for training ``name``: the one in memory when it is where the run's files are
    (or ahead of them by steps trained here, which training saves first), else the run loaded again."""
    run = view(name)
    model = st.session_state.get(session.MODEL_KEY)
    in_step = (
        model is not None
        and model.run_name == run.name
        and model.config == run.config
        and run.step in (model.trainer.step, model.extra.get("saved_step"))
        and len(model.trainer.history.epochs) >= len(run.history.epochs)
    )
    if not in_step:
        activate_run(name)
        model = st.session_state[session.MODEL_KEY]
    return model


# --------------------------------------------------------------- callbacks
@after_training
def _on_pick() -> None:
    st.session_state.pop(BUSY_KEY, None)
    goal = st.session_state.pop(GOAL_KEY, None)
    if goal is not None:  # training belongs to the run it was started for
        _release_claim(goal)
        st.session_state[REDRAW_KEY] = True  # the training controls, outside the run panel, change
    name = st.session_state.get(PICK_KEY)
    if name and name != active_run_name():
        try:
            activate_run(name)
        except ValueError as err:
            say("error", plain(f"Could not open run {name!r}: {err}"))


@after_training
def _on_create(config: RunConfig) -> None:
    """Create run: the run named in the form, with its setup, made the active run.

    Streamlit may call this a second time for one click, when the page's rerun timer sends a request
    while the click is being served. A call that asks for the run this session has just created (same
    name, same setup, still there) therefore changes nothing and keeps the message already queued.
    """
    requested = st.session_state.get("runs.new_name", "")
    last = st.session_state.get(CREATED_KEY)
    if last is not None and last[:2] == (requested, config) and store().exists(last[2]):
        return
    try:
        dataset, error = try_load_dataset(config.dataset, config.dataset_params)
        if error:
            raise ValueError(error)
        session.check_budget(config, dataset)
        run = store().create(requested, config, dataset=dataset)
        st.session_state[CREATED_KEY] = (requested, config, run.name)
        activate_run(run.name)
        st.session_state[PICK_KEY] = run.name
        say(
            "success",
            f"Created run **{plain(run.name)}** ({plain(config.describe())}). Train it from the sidebar.",
        )
    except ValueError as err:
        say("error", plain(f"Could not create the run: {err}"))


EXAMPLE_EPOCHS = 20


@after_training
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
            train_run(run, dataset, epochs=EXAMPLE_EPOCHS, owner=APP_OWNER)
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


@st.cache_data(max_entries=64, show_spinner=False)
def _data_facts(root: str, name: str, signature: tuple) -> dict:
    return RunStore(root).open(name).data_facts()


def fork_problem(parent: str, config: RunConfig) -> str | None:
    """Why a fork of run ``parent`` with ``config`` cannot be made, in words that say what to change:
    layers that do not fit the run's data, or a network over the app's parameter budget (as the sidebar
    checks a setup). None when it can."""
    runs = store()
    try:
        facts = _data_facts(str(runs.root), parent, runs.signature(parent))
        session.check_budget(config, facts=facts)
    except ValueError as err:
        return str(err)
    return None


@after_training
def _on_fork(parent: str) -> None:
    try:
        run = store().open(parent)
        changes = fork_changes(run.config)
        problem = fork_problem(parent, run.config.replace(**changes))
        if problem:
            raise ValueError(problem)
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


@after_training
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


@after_training
def _on_rename(name: str) -> None:
    try:
        run = store().rename(name, st.session_state.get("runs.rename_to", ""), owner=APP_OWNER)
        model = st.session_state.get(session.MODEL_KEY)
        if model is not None and model.run_name == name:
            model.run_name = run.name
        st.session_state[PICK_KEY] = run.name
        st.session_state["runs.rename_to"] = ""
        say("success", f"Renamed **{plain(name)}** to **{plain(run.name)}**.")
    except ValueError as err:
        say("error", plain(f"Could not rename: {err}"))


@after_training
def _on_reset(name: str) -> None:
    st.session_state["runs.sure_reset"] = False  # a confirmation is for one reset
    try:
        store().reset(name, owner=APP_OWNER)
        activate_run(name)
        say("success", f"Run **{plain(name)}** is back at its initial weights; its history was cleared.")
    except ValueError as err:
        say("error", plain(f"Could not reset: {err}"))


@after_training
def _on_delete(name: str) -> None:
    st.session_state["runs.sure_delete"] = False
    try:
        store().delete(name, owner=APP_OWNER)
        model = st.session_state.get(session.MODEL_KEY)
        if model is not None and model.run_name == name:
            model.run_name = None
        st.session_state.pop(PICK_KEY, None)
        say("success", f"Deleted run **{plain(name)}**.")
    except ValueError as err:
        say("error", plain(f"Could not delete: {err}"))


@after_training
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
# The New run form's setup: a draft, kept as set (closed, on other pages) until it is started again.
NEW_RUN = SetupKeys("runs.new.", "runs.new_setup", persist_state="session")


def _draft_base() -> RunConfig:
    """What a new draft starts from: the session's network (the active run's settings, when one is)."""
    model = st.session_state.get(session.MODEL_KEY)
    return model.config if model is not None else session.current_config()


def _start_draft_again() -> None:
    forget(NEW_RUN.prefix, NEW_RUN.state)


def create_run_form(names: list[str]) -> None:
    """The new run's setup, its name and Create run.

    The setup is a draft of its own: it starts from the active run's settings (or the session's network)
    and stays as the user sets it, whatever run is picked meanwhile, until the run is created or the draft
    is started again. The session's network changes only when the run is created.
    """
    active = active_run_name()
    st.caption(
        (
            f"Starts from the settings of the active run, {plain(active)}"
            if active
            else "Starts from the session's network (the setup of Step through)"
        )
        + "; change any of them. Nothing else changes until you create the run: it then becomes the active run."
    )
    data_place, network_place, training_place = st.columns(3, gap="medium")
    network_place.markdown("**Network**")
    training_place.markdown("**Training**")
    start = _draft_base()
    with data_place:
        st.markdown("**Data**")
        draft = setup_controls(start, NEW_RUN, lambda: network_place, lambda: training_place)
    problem = None
    if draft is not None:
        dataset, problem = try_load_dataset(draft.dataset, draft.dataset_params)
        if not problem:
            try:
                session.check_budget(draft, dataset)
            except ValueError as err:
                problem = str(err)
        if problem:
            st.error(plain(problem))
        else:
            summary = st.expander("Layers and parameters", key=NEW_RUN.summary_open, on_change="rerun")
            if summary.open:  # planned only while it is read
                with summary:
                    network_summary(draft)
    name_place, start_place = st.columns([3, 1], vertical_alignment="bottom")
    config = draft or start
    base = f"{config.dataset}-{config.layers}"[:40].rstrip("-.") or config.dataset
    suggestion = base if base not in names else store().unique_name(base)
    st.session_state.setdefault("runs.new_name", suggestion)
    if st.session_state["runs.new_name"] in names:
        st.session_state["runs.new_name"] = suggestion
    name_place.text_input(
        "Run name",
        key="runs.new_name",
        help="Letters, digits, -, _ and . (spaces become -)",
        persist_state="session",
    )
    start_place.button(
        "Start again",
        key="runs.new_again",
        on_click=_start_draft_again,
        help="Sets every control above back to the active run's settings (with no run picked, the "
        "session's network).",
    )
    st.button(
        "Create run",
        type="primary",
        on_click=_on_create,
        args=(draft,),
        key="runs.create",
        disabled=draft is None or problem is not None,
        help=None if draft is not None and problem is None else "Fix the setup above first.",
    )


def run_picker(infos: list[RunInfo]) -> str | None:
    """Selectbox of healthy runs; choosing one makes it the session's active run.

    An option reads "name · settings": a run's settings never change, so the text the browser sends
    back always names the same option (with the epoch count in it, a training in between made the old
    text an unknown value).
    """
    runs = healthy(infos)
    names = [info.name for info in runs]
    if st.session_state.get(PICK_KEY) not in names:
        active = active_run_name()
        st.session_state[PICK_KEY] = active if active in names else None
    labels = {info.name: f"{info.name} · {info.config.describe()}" for info in runs}
    return st.selectbox(
        "Run",
        names,
        key=PICK_KEY,
        on_change=_on_pick,
        placeholder="Choose a run…",
        format_func=lambda n: labels.get(n, n),
        help="The chosen run becomes this session's active network (Step through shows it).",
    )


def run_panel(infos: list[RunInfo]) -> None:
    """The run picker and what it shows: the active run's line, its training controls and its tabs.

    A fragment: picking a run or opening a tab redraws this part of the page only, not the title, the
    New run form and the training controls in the sidebar. What a callback has to say is shown at the top
    of the page, so a callback that said something (or a pick that ended training) redraws the whole
    page.
    """

    @st.fragment
    def panel():
        if st.session_state.get(MESSAGE_KEY) or st.session_state.pop(REDRAW_KEY, False):
            st.rerun()
        name = run_picker(infos)
        if name is None:
            st.info("Choose a run to train it, or create a new one above.")
            return
        ensure_active(name)
        run = view(name)
        goal = st.session_state.get(GOAL_KEY)
        # a training goes on in its own part of the page, which says how far it is; this line is drawn
        # again when it ends
        state = "training, see its progress below" if goal and goal["name"] == name else describe_run(run)
        st.caption(
            f"Active run **{plain(name)}**: {state} · {plain(run.config.describe())}"
            + (f" · forked from **{plain(run.parent)}**" if run.parent else "")
            + " · the Step through page shows this network; train it from the sidebar."
        )
        busy_offer(name)
        run_tabs(name)

    panel()


def ensure_active(name: str) -> None:
    """Make ``name`` the session's network, unless it is; steps trained here on it are saved first."""
    notice = message_place()
    if name != active_run_name():
        try:
            activate_run(name)
        except ValueError as err:
            st.error(plain(f"Could not open run {name!r}: {err}. Pick another run or delete this one."))
            st.stop()
    model = st.session_state[session.MODEL_KEY]
    problem = save_unsaved_steps(model)
    if problem:
        notice.warning(plain(problem[0].upper() + problem[1:] + "."))
        activate_run(name)


def describe_run(run: RunView) -> str:
    """'21 epochs, 672 steps' (and where a stopped epoch stands)."""
    summary = summarize(run.history)
    text = f"{summary['epochs']} epoch{'s' if summary['epochs'] != 1 else ''}, {run.step:,} steps"
    return text


def tabs():
    """The page's tabs; the one open is kept across reruns and page switches, and only it is drawn."""
    return kept_tabs(TABS, TAB_KEY)


def run_tabs(name: str) -> None:
    """The tabs and what the open one shows, with the progress of a training under another tab above them.

    A fragment inside the run panel's: opening a tab, or a control inside one, redraws this part of the
    page only, not the picker and the run's line above. An action in a tab that changes which run is shown or
    what the page says (fork, rename, reset, delete, import) redraws the whole page.
    """

    @st.fragment
    def tabbed():
        if st.session_state.get(MESSAGE_KEY) or st.session_state.get(PICK_KEY) != name:
            st.rerun()
        try:
            run = view(name)  # as saved now: training under the Train tab may have gone on since the page ran
        except ValueError:  # deleted or damaged meanwhile: the whole page says so
            st.rerun()
        progress = st.container()
        train_tab, layers_tab, fork_tab, manage_tab = tabs()
        if train_tab.open:
            with train_tab:
                training(name, run, curves=True)
        else:
            with progress:  # what is being trained goes on under another tab, with its progress bar
                training(name, run, curves=False)
        if layers_tab.open:
            with layers_tab:
                layers_tab_content(run)
        if fork_tab.open:
            with fork_tab:
                fork_form(name, run)
        if manage_tab.open:
            with manage_tab:
                manage_panel(name, run)

    tabbed()


# What the Train button or Play asked for: {"name", "target" (epoch to reach; None while playing), "start"}.
GOAL_KEY = "runs.goal"
# Training goes on in slices, one per run of the training panel, which reruns every TICK_SECONDS:
# between slices the page is idle, so any control responds, and a click on the page (but Stop or
# Pause) lets training go on at the next slice. A slice leaves IDLE_SECONDS of each tick free after
# what the panel's last run spent besides training (drawing the curves, saving, on a busy machine
# more), and lasts from MIN_SLICE_SECONDS to SLICE_SECONDS.
SLICE_SECONDS = 0.8
MIN_SLICE_SECONDS = 0.25
IDLE_SECONDS = 0.2
TICK_SECONDS = 1.0
OVERHEAD_KEY = "runs.slice_overhead"  # seconds the training panel's last run spent besides its slice
TOKEN_KEY = "runs.session_token"  # this session's name in the claims of runs being trained (ui.run_claims)


def _claim_args(name: str) -> tuple[str, str]:
    """(the run's folder, this session's token) for ui.run_claims."""
    if TOKEN_KEY not in st.session_state:
        st.session_state[TOKEN_KEY] = uuid.uuid4().hex
    return str(store().root / name), st.session_state[TOKEN_KEY]


def _release_claim(goal: dict | None) -> None:
    if goal is not None:
        run_claims.release(*_claim_args(goal["name"]))


@after_training
def _on_train() -> None:
    st.session_state.pop(BUSY_KEY, None)
    name = st.session_state.get(PICK_KEY)
    if name is None:
        say("info", "Choose a run to train first.")
        return
    try:
        epoch = len(view(name).history.epochs)
    except ValueError as err:
        say("error", plain(f"Could not open run {name!r}: {err}"))
        return
    epochs = int(st.session_state.get("runs.epochs") or 1)
    st.session_state.pop(STOPPED_KEY, None)
    st.session_state[GOAL_KEY] = {"name": name, "target": epoch + epochs, "start": epoch}


def playing() -> bool:
    """Whether Play is on: training goes on, with no epoch to reach, until Pause or Stop."""
    goal = st.session_state.get(GOAL_KEY)
    return goal is not None and goal["target"] is None


@after_training
def _on_play() -> None:
    """Play: train on, with no epoch to reach, until Pause or Stop. Play and Pause are buttons with keys
    of their own, each doing only what it says: a toggle's value comes back with every request, so a
    redraw timer's request sent before Play was switched off would switch it on again, while a click
    that Streamlit hands to a callback once more finds its work done."""
    st.session_state.pop(BUSY_KEY, None)
    name = st.session_state.get(PICK_KEY)
    if playing():
        return
    if name is None:
        say("info", "Choose a run to train first.")
    else:
        st.session_state.pop(STOPPED_KEY, None)
        st.session_state[GOAL_KEY] = {"name": name, "target": None, "start": None}


@after_training
def _on_pause() -> None:
    if playing():
        _stop("Paused")
    else:
        _stopped_already()


@after_training
def _on_stop() -> None:
    if _stopped_already():
        return
    if st.session_state.get(GOAL_KEY) is None:
        say("info", "Nothing is training: press Train, or switch Play on.")
        return
    _stop("Stopped")


def _stopped_already() -> bool:
    """Whether Stop or Pause finds its work done: nothing trains, and the last stop was of the run picked.

    Streamlit may call a callback a second time for one click, when the page's rerun timer sends a
    request while the click is being served (see _on_create); the stop's message could then be lost
    or replaced by "Nothing is training". Such a call says again where the run stands.
    """
    state = st.session_state
    stopped = state.get(STOPPED_KEY)
    if state.get(GOAL_KEY) is not None or stopped is None or stopped[1] != state.get(PICK_KEY):
        return False
    _say_where(*stopped)
    return True


def _stop(word: str) -> None:
    """End the current goal (the slice a click interrupted kept its steps) and say where the run stands."""
    goal = st.session_state.pop(GOAL_KEY, None)
    _release_claim(goal)
    if goal is not None:
        st.session_state[STOPPED_KEY] = (word, goal["name"])
        _say_where(word, goal["name"])


def _say_where(word: str, name: str) -> None:
    """Say where run ``name`` stands after a stop: "Stopped. Every finished step is kept: …"."""
    model = st.session_state.get(session.MODEL_KEY)
    if model is None or model.run_name != name:
        return
    trainer = model.trainer
    say(
        "info",
        f"{word}. Every finished step is kept: run **{plain(name)}** is at epoch {trainer.epoch}, "
        f"step {trainer.step:,}"
        + (f" ({trainer.batch_index} batches into epoch {trainer.epoch + 1})" if trainer.batch_index else "")
        + ".",
    )


def training_sidebar() -> None:
    """The training controls, in the sidebar: on screen wherever the page is scrolled to."""
    name = st.session_state.get(PICK_KEY)
    try:
        epochs = view(name).config.epochs if name else RunConfig().epochs
    except ValueError:  # deleted or damaged meanwhile: the page says so
        epochs = RunConfig().epochs
    with st.sidebar:
        st.subheader("Training")
        st.caption("Trains the run picked on the page.")
        train_controls(epochs)


def train_controls(epochs: int) -> None:
    """Epochs (``epochs`` until the user sets it), Train, Stop and Play, for the run picked when clicked.

    Drawn outside the run panel's fragment: a click here reruns the whole page, which ends the slice
    being trained at once (a click inside a fragment waits for the script run under way), so Stop and
    Pause act at the step under way.
    """
    name = st.session_state.get(PICK_KEY)
    goal = st.session_state.get(GOAL_KEY)
    if goal is not None and goal["name"] != name:  # another run was picked meanwhile
        _release_claim(st.session_state.pop(GOAL_KEY, None))
    st.number_input(
        "Epochs",
        1,
        MAX_EPOCHS,
        min(max(int(epochs), 1), MAX_EPOCHS),  # a run made elsewhere may ask for more
        key="runs.epochs",
        persist_state="session",
    )
    train, stop = st.columns(2)
    train.button(
        "Train",
        type="primary",
        key="runs.train",
        icon=":material/play_arrow:",
        on_click=_on_train,
        width="stretch",
    )
    stop.button(
        "Stop",
        key="runs.stop",
        icon=":material/stop:",
        on_click=_on_stop,
        help="Stops at the step under way; every finished step is kept.",
        width="stretch",
    )
    if playing():
        st.button(
            "Pause",
            key="runs.pause",
            icon=":material/pause_circle:",
            on_click=_on_pause,
            help="Stops at the step under way; every finished step is kept.",
            width="stretch",
        )
    else:
        st.button(
            "Play",
            key="runs.play",
            icon=":material/play_circle:",
            on_click=_on_play,
            help="Trains on, with no epoch to reach, and redraws the curves about once a second "
            "until you press Pause.",
            width="stretch",
        )


def busy_offer(name: str) -> None:
    """When another trainer has the run: what it said, and the offer to fork the run and train the fork."""
    busy = st.session_state.get(BUSY_KEY)
    offer = message_place()  # the offer to fork a run another trainer has
    if busy and busy[0] == name:
        offer = offer.container()  # the error and the button in the one place
        offer.error(plain(busy[1]))
        offer.button(
            "Fork it and train the fork instead",
            on_click=_on_fork_busy,
            args=(name,),
            key="runs.fork_busy",
            icon=":material/fork_right:",
        )


def training(name: str, run: RunView, curves: bool) -> None:
    """The progress of what Train or Play asked for, trained one slice per run of this fragment, then
    (with ``curves``, on the Train tab) the run's curves and, when its expander is open, the epoch table
    as they stand."""
    goal = st.session_state.get(GOAL_KEY)

    @st.fragment(run_every=TICK_SECONDS if goal is not None else None)
    def panel():
        started = time.perf_counter()
        goal = st.session_state.get(GOAL_KEY)
        history, trained = run.history, 0.0
        if goal is not None:
            history, trained = _train_slice(goal, slice_seconds(st.session_state.get(OVERHEAD_KEY, 0.0)))
        if curves:
            curve_view(compare_curves({name: history}), key="runs.chart")
            if history.epochs:
                if TABLE_KEY not in st.session_state:  # back on the page or the tab: as it was left
                    st.session_state[TABLE_KEY] = st.session_state.get(TABLE_OPEN_KEY, False)
                st.session_state[TABLE_OPEN_KEY] = st.session_state[TABLE_KEY]
                table = st.expander("Per-epoch table", key=TABLE_KEY, on_change="rerun")
                if table.open:  # a table grid is costly to draw: only while it is asked for
                    with table:
                        st.dataframe(epoch_table(history), hide_index=True, width="stretch")
            else:
                st.caption("No epoch finished yet.")
        if goal is not None:
            st.session_state[OVERHEAD_KEY] = time.perf_counter() - started - trained

    panel()
    if curves and run.history.stop_reason and "early stopping" in run.history.stop_reason:
        st.info(plain(f"Training ended by {run.history.stop_reason}; the best weights were restored."))


def slice_seconds(overhead: float) -> float:
    """How long the next slice trains, when the panel's last run spent ``overhead`` seconds besides
    training: what leaves IDLE_SECONDS of the tick free, from MIN_SLICE_SECONDS to SLICE_SECONDS."""
    return min(SLICE_SECONDS, max(MIN_SLICE_SECONDS, TICK_SECONDS - IDLE_SECONDS - overhead))


def _train_slice(goal: dict, seconds: float) -> tuple[History, float]:
    """Train the goal's run for up to ``seconds`` with a progress bar; returns its history as it stands
    and the seconds spent training. A reached goal, a busy run or an error ends the goal and redraws
    the whole page."""
    name = goal["name"]
    try:
        model = training_model(name)
    except ValueError as err:
        _end_goal("error", plain(f"Could not open run {name!r}: {err}"))
    trainer = model.trainer
    per_epoch = trainer.steps_per_epoch(model.dataset.n_train)
    target = goal["target"]
    if target is not None and trainer.epoch >= target:
        _reached(goal, trainer)

    def describe(progress: Progress) -> str:
        losses = trainer.history.step_loss  # the last step's, from this slice or the one before
        loss = f" · loss {losses[-1]:.4g}" if losses else ""
        where = f"epoch {trainer.epoch + trainer.batch_index / per_epoch:.1f}"
        if target is None:
            return f"playing · {where} · step {trainer.step:,}{loss}"
        return f"training to epoch {target} · {where} · step {trainer.step:,}{loss}"

    def fraction(progress: Progress) -> float:
        if target is None:  # playing: how far into the current epoch
            return trainer.batch_index / per_epoch
        done = (trainer.epoch - goal["start"]) * per_epoch + trainer.batch_index
        return done / max((target - goal["start"]) * per_epoch, 1)

    def bar(slot=st) -> object:
        """The bar and its line as the run stands, shown between slices too: they do not blink."""
        return slot.progress(min(max(fraction(Progress()), 0.0), 1.0), text=describe(Progress()))

    slot = bar()  # the slice's progress, drawn in place of this one

    def go(model):
        return train_active(
            model,
            epochs=None if target is None else target - model.trainer.epoch,
            describe=describe,
            slot=slot,
            seconds=seconds,
            fraction=fraction,
        )

    began = time.perf_counter()
    try:
        # held from slice to slice: another session's Train is told the run is busy, even between slices
        folder, token = _claim_args(name)
        run_claims.claim(folder, name, token, APP_OWNER)
        try:
            go(model)
        except RunChanged:  # trained elsewhere since this session loaded it: go on from its saved state
            activate_run(name)
            model = st.session_state[session.MODEL_KEY]
            trainer = model.trainer
            go(model)
    except RunBusy as err:
        st.session_state[BUSY_KEY] = (name, str(err))
        _end_goal()
    except Exception as err:  # TrainingDiverged, a budget, bad settings: the user reads what to change
        _end_goal("error", plain(f"Training stopped: {err}"))
    trained = time.perf_counter() - began
    if target is not None and trainer.epoch >= target:
        _reached(goal, trainer)
    bar(slot)
    return trainer.history, trained


def _reached(goal: dict, trainer) -> None:
    epochs = goal["target"] - goal["start"]
    _end_goal(
        "success",
        plain(f"Trained {epochs} epoch{'s' if epochs != 1 else ''}: {summary_line(trainer.history)}"),
    )


def _end_goal(kind: str | None = None, text: str = "") -> None:
    """Forget the goal and redraw the whole page (picker, caption and tables read the run again)."""
    _release_claim(st.session_state.pop(GOAL_KEY, None))
    if kind:
        say(kind, text)
    st.rerun()


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


def layers_tab_content(run: RunView) -> None:
    """Per-layer distributions and gradient norms; the quantity is chosen in a fragment, so switching
    it redraws only this chart."""
    if not run.history.epochs:
        st.info("Train at least one epoch: per-layer statistics are recorded at the end of each epoch.")
        return

    @st.fragment
    def distributions():
        quantity = st.radio(
            "Show",
            list(QUANTITIES),
            horizontal=True,
            key="runs.quantity",
            format_func=QUANTITIES.get,
            persist_state="session",
        )
        curve_view(distribution_curves(run.history, quantity), key="runs.distribution")

    distributions()
    st.caption(
        "Bands: min–max, 7–93, 16–84 and 31–69th percentiles; line: median. Activations and "
        "gradients are measured on a fixed batch of validation samples at each epoch's end."
    )
    curve_view(grad_norm_curves(run.history), key="runs.grad_norm")


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


def fork_form(name: str, run: RunView) -> None:
    """Widgets for the settings a fork may change; only the changed ones are applied."""
    parent = run.config
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
        st.error(plain(error))
    changes = fork_changes(parent)
    if changes and not errors:
        try:
            problem = fork_problem(name, parent.replace(**changes))
        except ValueError as err:
            problem = str(err)
        if problem:
            errors.append(problem)
            st.error(plain(f"This fork cannot be made: {problem}."))
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


def _download(name: str, what: str):
    """The bytes of a download, made when it is clicked (not on every rerun of the tab)."""

    def make() -> bytes:
        if what == "zip":
            return store().export_zip(name)
        run = store().open(name)
        return history_csv(run.history).encode() if what == "csv" else run.weights_file("best")

    return make


def manage_panel(name: str, run: RunView) -> None:
    """Rename, reset (confirmed), delete (confirmed), export downloads and import."""
    st.code(train_command(run.config, f"runs/{name}"), language="bash", wrap_lines=True)
    cols = st.columns(2)
    with cols[0]:
        st.text_input("New name", key="runs.rename_to", persist_state="session")
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
        st.download_button(
            "Download run (.zip)",
            _download(name, "zip"),
            f"{name}.zip",
            "application/zip",
            key="runs.dl_zip",
            on_click="ignore",
        )
        st.download_button(
            "History (.csv)",
            _download(name, "csv"),
            f"{name}-history.csv",
            "text/csv",
            key="runs.dl_csv",
            on_click="ignore",
        )
        st.download_button(
            "Best weights (.npz)",
            _download(name, "npz"),
            f"{name}-best.npz",
            key="runs.dl_npz",
            on_click="ignore",
        )
    upload = st.file_uploader("Import an exported run (.zip)", type=["zip"], key="runs.upload")
    st.text_input("Name for the imported run (optional)", key="runs.import_name", persist_state="session")
    # enabled once the server holds the file: a click before that would find nothing to import
    st.button("Import", on_click=_on_import, key="runs.import", disabled=upload is None)


# ------------------------------------------------------------------ compare
def compare_picker(infos: list[RunInfo]) -> list[str]:
    names = [info.name for info in healthy(infos)]
    chosen = st.session_state.get("compare.runs")
    if chosen is not None:
        put("compare.runs", [name for name in chosen if name in names])
    active = active_run_name()
    default = names[-MAX_COMPARED_BY_DEFAULT:]
    if active in names and active not in default:
        default = [active] + default[1:]
    return st.multiselect(
        "Runs to compare",
        names,
        default=None if chosen is not None else default,
        key="compare.runs",
        persist_state="session",
    )


def open_chosen(names: list[str]) -> dict[str, RunView]:
    """name -> RunView for the chosen runs, each read once; one that went bad since it was listed is a warning."""
    opened = {}
    for name in names:
        try:
            opened[name] = view(name)
        except ValueError as err:  # deleted, renamed or damaged by another session meanwhile
            st.warning(plain(f"Run {name} is left out: {err}."))
    return opened


def histories(runs: dict) -> dict:
    return {name: run.history for name, run in runs.items()}


def _same_data(config: RunConfig) -> tuple:
    """What decides the Bayes-optimal accuracy: the dataset and its parameters; a sequence dataset's
    encoding (one-hot or token ids) changes how the windows reach the network, not the windows."""
    params = dict(config.dataset_params)
    if config.dataset == "sequences":
        params.pop("encoding", None)
        params = datasets.spec("sequences").canonical_params(params)
    return config.dataset, repr(sorted(params.items()))


def bayes_accuracy(runs: dict) -> dict[str, float] | None:
    """The Bayes-optimal accuracy of the training and the validation samples, when every chosen run
    learns the same sequence data (the curves are the two splits' accuracies)."""
    configs = [run.config for run in runs.values()]
    if not configs or len({_same_data(c) for c in configs}) != 1 or configs[0].dataset != "sequences":
        return None
    dataset, error = try_load_dataset(configs[0].dataset, configs[0].dataset_params)
    if error:
        return None
    if getattr(dataset, "bayes_accuracy_train", None) is None:
        return None
    ceilings = {"train": dataset.bayes_accuracy_train}
    if dataset.n_val:
        ceilings["validation"] = dataset.bayes_accuracy_val
    return ceilings


def config_table(runs: dict):
    """Settings by run, differing rows highlighted (a pandas Styler)."""
    configs = {name: run.config for name, run in runs.items()}
    first = next(iter(configs.values()))
    differing = sorted({key for c in configs.values() for key in c.differences(first)})
    data = {
        name: {k: "—" if v is None else str(v) for k, v in c.to_dict().items()} for name, c in configs.items()
    }
    frame = pd.DataFrame(data)
    frame.index.name = "setting"
    frame = pd.concat([frame.loc[differing], frame.drop(index=differing)])

    def highlight(row):
        return ["background-color: #fff3b0" if row.name in differing else "" for _ in row]

    return frame.style.apply(highlight, axis=1), differing


# How the metrics table's numbers read: accuracy in percent to two decimals (98.75 %, not 99 %), time
# in seconds.
METRICS_COLUMNS = {
    "best val acc": st.column_config.NumberColumn(format="%.2f %%"),
    "seconds to best": st.column_config.NumberColumn(format="%.2f s"),
}


def metrics_table(runs: dict) -> pd.DataFrame:
    rows = []
    for name, run in runs.items():
        summary = summarize(run.history)
        rows.append(
            {
                "run": name,
                "epochs": summary["epochs"],
                "best val acc": None
                if summary["best_val_accuracy"] is None
                else 100 * summary["best_val_accuracy"],
                "best epoch": summary["best_epoch"],
                "seconds to best": summary["seconds_to_best"],
                "best val loss": summary["best_val_loss"],
                "final train loss": summary["final_train_loss"],
            }
        )
    return pd.DataFrame(rows).set_index("run")


STALL_NOTE = (
    f"An epoch that took over {STALL_FACTOR:g}× its run's median epoch time was held up by something else "
    "on the machine: on the wall-time axis and in 'seconds to best' it counts at the median (the epoch "
    "table on the Runs page keeps the measured time)."
)


@st.cache_data(max_entries=64, show_spinner=False)
def _distances(root: str, a: str, b: str, signatures: tuple) -> dict:
    runs = RunStore(root)
    return weight_distances(runs.open(a), runs.open(b))


def fork_distances(runs: dict) -> dict:
    """Weight distances for chosen pairs where one run is the other's fork (or they share a parent);
    computed again only when either run's files changed."""
    out = {}
    root = store()
    for a, b in combinations(runs, 2):
        related = (
            runs[a].parent == b
            or runs[b].parent == a
            or (runs[a].parent is not None and runs[a].parent == runs[b].parent)
        )
        if related:
            try:
                data = _distances(str(root.root), a, b, (root.signature(a), root.signature(b)))
            except ValueError:
                continue
            if data["epochs"]:
                out[f"{a} vs {b}"] = data
    return out
