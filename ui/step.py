"""The step-through page's state, controls and views.

One ``StepState`` per active model (kept in ``model.extra["step"]``, so a rebuilt
network starts clean) holds the current step: its trace, computed once, forward,
backward and (Train mode) the update, and the payload the step player shows. The
player reveals the phases in the browser; the server runs only for a new step, a
change of input or mode, a clicked cell's worked numbers, and the view below the
player that is open.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from backprop import TrainingDiverged
from backprop.breakdown import (
    batch_indices,
    layer_diagnostics,
    loss_on_batch,
    top_predictions,
    trace_npz_bytes,
)
from viz.step_payload import build_payload
from viz.step_text import (
    DIAGNOSTICS_HELP,
    diagnostic_notes,
    diagnostics_rows,
    phase_equations,
    phase_flow,
    phase_summary,
)
from viz.step_view import StepView, step_view

from .places import message_place
from .session import ActiveModel, reset_to_initial
from .step_inspector import SELECTION_KEY, apply_selection, select_cell
from .step_inspector import inspector as cell_inspector
from .step_player import step_player
from .text import plain
from .training import train_active
from .widgets import kept_tabs

SAMPLE_INDEX_KEY = "step.sample_index"  # set by other pages to open a chosen sample here
PENDING_KEY = "step.pending_run"  # (steps, epochs) asked for by the Run buttons
PLAYER_KEY = "step.player"
REQUEST_KEY = "step.request"  # what the player asked for, stashed by its callbacks
VIEW_KEY = "step.view"
VIEWS = ("Cell inspector", "Network & task", "Diagnostics", "Share & export")
MODES = ("Visualize only", "Train")
INPUTS = ("Random batch", "Chosen sample")
READY_PHASE, FIRST_PHASE, LAST_PHASE = 0, 1, -1


@dataclass
class StepState:
    """The current step: its trace and batch rows, where the player starts, and its payload.

    start: the phase index the player shows first (-1: the last phase).
    """

    trace: object = None
    rows: np.ndarray | None = None
    input_key: tuple = ()
    step_id: int = 0
    start: int = READY_PHASE
    draws: int = 0
    loss_before: float | None = None
    loss_after: float | None = None
    error: str | None = None
    notice: str | None = None
    run: dict | None = None  # {"done": k, "total": n} while a multi-step run is going
    gradcheck: object = None
    train: bool | None = None  # the mode the step was last shown in
    view: StepView | None = None
    payload: bytes | None = None


@dataclass
class Settings:
    train: bool
    chosen: int | None


def state_of(model: ActiveModel) -> StepState:
    return model.extra.setdefault("step", StepState())


# ----------------------------------------------------------------- inputs
def input_controls(model: ActiveModel) -> Settings:
    """Mode and input choice; honours a sample index handed over by another page."""
    n_train = model.dataset.n_train
    # The hand-off key is left in place (the other page owns it). It applies on arrival: leaving this
    # page drops its widget keys, so a missing "step.input" means we just came here.
    handed = st.session_state.get(SAMPLE_INDEX_KEY)
    if handed is not None and (
        "step.input" not in st.session_state or st.session_state.get("step.handed_index") != handed
    ):
        st.session_state["step.handed_index"] = handed
        st.session_state["step.input"] = INPUTS[1]
        st.session_state["step.index"] = int(min(max(int(handed), 0), n_train - 1))
    left, middle, right = st.columns([1.2, 1.2, 1])
    mode = left.radio(
        "Mode",
        MODES,
        key="step.mode",
        horizontal=True,
        help="Visualize only: forward and backward, the weights stay. Train: the step's update is applied.",
    )
    source = middle.radio(
        "Input",
        INPUTS,
        key="step.input",
        horizontal=True,
        help=f"A random batch of {model.config.batch_size} (the batch size), or one sample.",
    )
    chosen = None
    if st.session_state.get("step.index", 0) > n_train - 1:  # a smaller dataset was chosen since
        st.session_state["step.index"] = n_train - 1
    if source == INPUTS[1]:
        chosen = int(
            right.number_input(f"Sample (0 – {n_train - 1})", 0, n_train - 1, key="step.index", step=1)
        )
    else:
        right.caption(
            f"Batch of {min(model.config.batch_size, n_train)} rows from {n_train} "
            f"training samples, seeded by seed {model.config.seed}."
        )
    return Settings(train=mode == MODES[1], chosen=chosen)


# ------------------------------------------------------------------ steps
def _batch_rows(model: ActiveModel, state: StepState, settings: Settings) -> np.ndarray:
    if settings.chosen is not None:
        return np.array([settings.chosen])
    state.draws += 1
    return batch_indices(model.dataset.n_train, model.config.batch_size, model.config.seed, state.draws)


def new_step(
    model: ActiveModel, state: StepState, settings: Settings, start: int = READY_PHASE, update: bool = True
) -> None:
    """A fresh step on the selected input: forward and backward, and in Train mode the update
    (unless ``update`` is False: the step right after Reset shows the initial weights unchanged)."""
    state.error = state.notice = None
    state.gradcheck = None
    for key in (SELECTION_KEY, "step.ins.phase"):  # the inspector starts where the player does
        st.session_state.pop(key, None)
    rows = _batch_rows(model, state, settings)
    dataset, config = model.dataset, model.config
    x = dataset.x_train[rows]
    y = config.targets(dataset, dataset.y_train[rows])
    try:
        trace = model.net.gradients(x, y)
    except ValueError as err:
        state.trace, state.error = None, f"{err}. Choose another dataset or sample in the sidebar."
        return
    _show(state, trace, rows, start)
    state.input_key = (settings.chosen,)
    model.last_trace = trace
    if not math.isfinite(trace.loss):
        state.error = (
            f"The loss on this batch is {trace.loss}: the weights have diverged. "
            "Press 'Reset to initial weights' and lower the learning rate in the sidebar."
        )
    elif settings.train and update:
        apply_update(model, state)


def _show(state: StepState, trace, rows, start: int) -> None:
    state.trace, state.rows, state.start = trace, rows, start
    state.step_id += 1
    state.loss_before, state.loss_after = trace.loss, None
    state.view = state.payload = None


def apply_update(model: ActiveModel, state: StepState) -> None:
    """The step's update (Train mode), through the trainer: it counts as one step of the session's
    training (not one of the epoch's batches, see Trainer.apply); then the loss again on the same batch."""
    trace = state.trace
    if trace is None or trace.updated:
        return
    try:
        model.trainer.apply(trace)
    except TrainingDiverged as err:
        state.error = f"No update: {err}"
        return
    state.loss_after = loss_on_batch(model.net, trace)
    state.view = state.payload = None
    if not math.isfinite(state.loss_after):
        state.error = (
            f"After this update the loss is {state.loss_after}: the learning rate "
            f"({model.config.learning_rate:g}) is far too high. Reset and lower it."
        )


def run_training(model: ActiveModel, state: StepState, steps: int) -> None:
    """Run ``steps`` steps of the trainer's batch order with progress (ui.training); a click stops them
    after the current step and keeps what was done (the next run of the page says so)."""
    state.run = {"done": 0, "total": steps}
    state.error = state.notice = None

    def on_event(event):
        if event.kind == "step":
            state.run["done"] += 1
            state.trace, state.rows = event.trace, None

    try:
        train_active(
            model,
            steps=steps,
            describe=lambda p: (
                f"Training {p.steps} / {steps} steps"
                + (f" · loss {p.loss:.4g}" if p.loss is not None else "")
            ),
            on_event=on_event,
        )
    except TrainingDiverged as err:
        state.error = f"{err}"
    except ValueError as err:  # bad data for this network, or a stored run that is busy or moved on
        state.error = (
            f"{err}. Change the data or setup in the sidebar, or open the run again on the Runs page."
        )
    state.notice = (
        f"Trained {state.run['done']} steps (loss {model.trainer.history.step_loss[-1]:.4g} on the last batch)."
        if state.run["done"]
        else None
    )
    state.run = None
    _show_last_training_step(model, state)


def pending_training(model: ActiveModel) -> None:
    """Run the steps or epoch the Run buttons asked for, with progress and a Stop button.

    Called by the page outside its fragment: a click on Stop then reruns the whole
    page, which stops this loop after the current step and keeps what was trained.
    """
    place = message_place()  # there on every run: the stepper after it keeps its place
    pending = st.session_state.pop(PENDING_KEY, None)
    if pending is None:
        return
    steps, _ = pending
    with place.container():
        slot = st.empty()
        slot.button(
            "Stop",
            key="step.stop",
            type="primary",
            help="Stops after the current step; the steps done so far are kept.",
        )
        run_training(model, state_of(model), steps)
        slot.empty()


def _show_last_training_step(model: ActiveModel, state: StepState) -> None:
    trace = state.trace
    if trace is None or state.rows is not None:
        return
    _show(state, trace, None, LAST_PHASE)
    state.loss_after = loss_on_batch(model.net, trace) if trace.updated else None
    state.input_key = (None,)
    model.last_trace = trace


def _remember_request(event: str) -> None:
    """Player callback: keep its request for this run (read before the player is drawn again)."""
    value = (st.session_state.get(PLAYER_KEY) or {}).get(event)
    if value is not None:
        st.session_state[REQUEST_KEY] = (event, value)


def step_buttons(model: ActiveModel, settings: Settings) -> StepState:
    """Full step, Run N steps, Run one epoch, Reset, and the player's requests; returns the state."""
    state = state_of(model)
    if state.run is not None:
        done, total = state.run["done"], state.run["total"]
        state.notice = f"Stopped after {done} of {total} steps; the weights keep those {done} steps."
        state.run = None
        _show_last_training_step(model, state)
    cols = st.columns([1, 0.8, 1, 1, 1.3])
    full = cols[0].button(
        "Full step",
        key="step.full",
        type="primary",
        use_container_width=True,
        help="A new batch, shown at the end of its step (after the update in Train mode).",
    )
    n_steps = int(
        cols[1].number_input("Steps to run", 1, 100_000, 20, key="step.n", label_visibility="collapsed")
    )
    run_n = cols[2].button(f"Run {n_steps} steps", key="step.run_n", use_container_width=True)
    run_epoch = cols[3].button("Run one epoch", key="step.run_epoch", use_container_width=True)
    if cols[4].button("Reset to initial weights", key="step.reset", use_container_width=True):
        run_name = reset_to_initial()
        model.extra["step"] = state = StepState(step_id=state.step_id, train=settings.train)
        new_step(model, state, settings, update=False)
        state.notice = "Weights reset to their initial values; training starts over." + (
            f" This network is no longer run {run_name}, which keeps its training "
            "(reset the run itself on the Runs page)."
            if run_name
            else ""
        )
    if run_n or run_epoch:
        # Long runs happen in a whole-page run (see pending_training), where a Stop click interrupts;
        # a click inside this fragment would only be queued behind the running loop.
        # One epoch is one epoch's worth of steps from where the batch order stands (see docs/step_through.md).
        per_epoch = model.trainer.steps_per_epoch(model.dataset.n_train)
        st.session_state[PENDING_KEY] = (n_steps if run_n else per_epoch, None)
        st.rerun(scope="app")
    request = st.session_state.pop(REQUEST_KEY, None)
    if full:
        new_step(model, state, settings, start=LAST_PHASE)
    elif request and request[0] == "next_step" and request[1].get("step") == state.step_id:
        new_step(model, state, settings, start=FIRST_PHASE)
    elif request and request[0] == "inspect" and request[1].get("step") == state.step_id:
        apply_selection(select_cell(request[1], view_of(model, state), state.trace))
        st.session_state[VIEW_KEY] = VIEWS[0]
    fresh = state.trace is None and state.error is None
    moved = state.trace is not None and state.rows is not None and state.input_key != (settings.chosen,)
    if fresh or moved:  # first open, or another input chosen
        new_step(model, state, settings)
    elif state.train is False and settings.train and state.trace is not None and state.rows is not None:
        apply_update(model, state)  # switched to Train: this step's update joins its phases
    state.train = settings.train
    return state


# ---------------------------------------------------------------- player
def _labels(model: ActiveModel) -> dict:
    dataset = model.dataset
    labels = {}
    if dataset.is_classification:
        labels["class_labels"] = [str(c) for c in dataset.classes]
    if dataset.kind == "image" and len(dataset.input_shape or ()) == 2:
        labels["input_pixels"] = tuple(dataset.input_shape)
    vocab, context = getattr(dataset, "vocab", None), getattr(dataset, "context", None)
    if vocab:
        labels["vocab"] = [str(v) for v in vocab]
    if vocab and context and dataset.n_features == len(vocab) * context:
        labels["feature_labels"] = [f"t-{context - p}:{v}" for p in range(context) for v in vocab]
    elif dataset.kind in ("2d", "regression") and dataset.n_features <= 8:
        labels["feature_labels"] = [f"x{k}" for k in range(dataset.n_features)]
    return labels


def view_of(model: ActiveModel, state: StepState) -> StepView:
    if state.view is None:
        state.view = step_view(state.trace, model.net, **_labels(model))
    return state.view


def start_index(state: StepState, view: StepView) -> int:
    """The phase the player shows first for this step."""
    last = len(view.phases) - 1
    return last if state.start == LAST_PHASE else min(state.start, last)


def payload_of(model: ActiveModel, state: StepState) -> bytes:
    """The step's payload, built once per step (and again after its update joins it)."""
    if state.payload is None:
        view = view_of(model, state)
        config = model.config
        equations = [
            phase_equations(view, p, config.optimizer, config.weight_decay, config.optimizer_options)
            for p in view.phases
        ]
        summaries = [phase_summary(view, p, state.loss_after) for p in view.phases]
        flows = [phase_flow(view, p) for p in view.phases]
        start = start_index(state, view)
        state.payload = build_payload(
            view,
            state.step_id,
            start,
            equations,
            summaries,
            extra={
                "loss_after": state.loss_after
                if state.loss_after is not None and math.isfinite(state.loss_after)
                else None,
                "optimizer": config.optimizer,
                "learning_rate": config.learning_rate,
            },
            flows=flows,
        )
    return state.payload


def player(model: ActiveModel, state: StepState) -> None:
    """The step player; its requests come back through the callbacks on the next run."""
    step_player(
        payload_of(model, state),
        key=PLAYER_KEY,
        on_inspect=lambda: _remember_request("inspect"),
        on_next_step=lambda: _remember_request("next_step"),
    )


def describe_input(model: ActiveModel, state: StepState) -> str:
    """One line describing the input of the step."""
    trace = state.trace
    if state.rows is None:
        return "The last batch of the training run."
    sample = describe_sample(model, trace, int(state.rows[0]))
    if len(state.rows) > 1:
        return (
            f"Random batch of {len(state.rows)} training rows (draw {state.draws}); sample n = 0 is "
            + sample[0].lower()
            + sample[1:]
        )
    return sample


def target_and_prediction(model: ActiveModel, trace, n: int) -> tuple[str, str]:
    """(target, prediction) of row n of the trace, as text."""
    dataset = model.dataset
    if dataset.is_classification:
        target = _class_name(dataset, trace.y[n])
        if trace.probs is not None:
            name, p = top_predictions(trace.probs[n : n + 1], dataset.classes, 1)[0][0]
            return target, f"{name} (p = {p:.2f})"
        return target, str(dataset.classes[int(np.asarray(trace.output[n]).argmax())])
    return (
        ", ".join(f"{v:.3g}" for v in np.ravel(trace.y[n])),
        ", ".join(f"{v:.3g}" for v in np.ravel(trace.output[n])),
    )


def _class_name(dataset, label) -> str:
    label = np.asarray(label)
    index = int(label.argmax()) if label.ndim else int(label)
    return str(dataset.classes[index])


def describe_sample(model: ActiveModel, trace, row: int) -> str:
    dataset = model.dataset
    target, predicted = target_and_prediction(model, trace, 0)
    if dataset.kind == "sequence":
        shown = plain(f"{dataset.windows_train[row]} -> {target}")
    elif dataset.kind == "image":
        shown = f"image {'×'.join(map(str, dataset.input_shape))}"
    else:
        shown = "(" + ", ".join(f"{v:.3g}" for v in np.ravel(dataset.x_train[row])) + ")"
    # windows and class names are data (a link's vocabulary, a folder's names): shown as plain text
    return f"Training sample {row}: {shown} · target **{plain(target)}** · prediction **{plain(predicted)}**"


# ------------------------------------------------------------- the views
def views(model: ActiveModel, state: StepState) -> None:
    """Cell inspector, network & task, diagnostics, share & export: only the open one is computed."""
    tabs = kept_tabs(VIEWS, VIEW_KEY)
    shows = (inspector, task_view, diagnostics, share_and_export)
    for tab, show in zip(tabs, shows):
        if tab.open:
            with tab:
                show(model, state)


def inspector(model: ActiveModel, state: StepState) -> None:
    view = view_of(model, state)
    cell_inspector(model, state, view, start_index(state, view))


def diagnostics(model: ActiveModel, state: StepState) -> None:
    trace = state.trace
    diag = layer_diagnostics(trace)
    st.dataframe(
        diagnostics_rows(diag),
        hide_index=True,
        column_config={
            name: st.column_config.TextColumn(name, help=text) for name, text in DIAGNOSTICS_HELP.items()
        },
    )
    notes = diagnostic_notes(diag, state.loss_before, state.loss_after)
    for note in notes:
        st.warning(note)
    if not notes:
        st.caption("Nothing looks off in this step.")


def share_and_export(model: ActiveModel, state: StepState) -> None:
    # Brackets, quotes and commas stay readable; browsers send them as they are.
    query = urlencode(model.config.to_query(), safe='[]",:')
    st.markdown("**Share this setup**: the address bar already carries it. Append to the app's address:")
    st.code(f"step_through?{query}" if query else "step_through  (all defaults)", language=None)
    if st.button("Prepare this step's download", key="step.export"):
        st.session_state["step.export_bytes"] = (
            id(state.trace),
            trace_npz_bytes(state.trace, model.config.to_dict()),
        )
    owner, data = st.session_state.get("step.export_bytes", (None, None))
    if data and owner == id(state.trace):
        left, right = st.columns(2)
        left.download_button(
            "Download tensors (.npz)",
            data,
            file_name="step.npz",
            mime="application/octet-stream",
            on_click="ignore",
            key="step.dl_npz",
        )
        right.download_button(
            "Download configuration (.json)",
            json.dumps(model.config.to_dict(), indent=2),
            file_name="config.json",
            mime="application/json",
            on_click="ignore",
            key="step.dl_json",
        )
        st.caption(
            f"{len(data) / 1e3:.0f} kB · names like layer1.W, layer1.dW, layer1.delta_W; "
            "load with numpy.load(..., allow_pickle=False)."
        )


def prediction_table(model: ActiveModel, state: StepState, limit: int = 12) -> list[dict]:
    """Next-token (or class) probabilities for the first rows of the step's batch."""
    trace, dataset = state.trace, model.dataset
    probs = trace.probs if trace.probs is not None else trace.output
    rows = state.rows if state.rows is not None else np.arange(len(trace.x))
    tops = top_predictions(np.asarray(probs[:limit]), dataset.classes, 3)
    records = []
    for n, top in enumerate(tops):
        window = (
            dataset.windows_train[int(rows[n])]
            if state.rows is not None and hasattr(dataset, "windows_train")
            else ""
        )
        records.append(
            {
                "window": window,
                "target": _class_name(dataset, trace.y[n]),
                **{f"#{k + 1}": f"{name} {p:.2f}" for k, (name, p) in enumerate(top)},
            }
        )
    return records


def task_view(model: ActiveModel, state: StepState) -> None:
    """What the network does with its input: boundary, curve, token table or image."""
    try:
        _task_view(model, state)
    except ValueError as err:
        st.error(plain(f"Cannot draw the task view: {err}."))


def _task_view(model: ActiveModel, state: StepState) -> None:
    # Plotly is imported when this view is first opened, not with the page: the first screen
    # (the player and the inspector) does not need it.
    from viz.step import decision_boundary, fitted_curve, image_figure, regression_surface

    dataset, trace = model.dataset, state.trace
    rows = state.rows if state.rows is not None else None
    if dataset.kind == "2d":
        fig = decision_boundary(model.net, dataset.x_train, dataset.y_train, dataset.classes, highlight=rows)
    elif dataset.kind == "regression" and dataset.n_features == 1:
        fig = fitted_curve(model.net, dataset.x_train, dataset.y_train, highlight=rows)
    elif dataset.kind == "regression" and dataset.n_features == 2:
        fig = regression_surface(model.net, dataset.x_train, dataset.y_train)
    elif dataset.kind == "image":
        target, predicted = target_and_prediction(model, trace, 0)
        fig = image_figure(
            np.asarray(trace.x[0]),
            dataset.input_shape,
            f"sample n = 0 · target {target} · predicted {predicted}",
        )
    else:
        st.markdown("**Next-token probabilities** (the weights of this step's forward pass)")
        st.dataframe(prediction_table(model, state), hide_index=True)
        return
    left, _ = st.columns([3, 2]) if dataset.kind == "image" else (st.container(), None)
    left.plotly_chart(fig, key="step.fig.task", config={"displayModeBar": False})
    if dataset.kind == "image":
        st.caption(
            "Prediction from this step's forward pass" + (", before the update." if trace.updated else ".")
        )
    else:
        st.caption("Drawn with the current weights" + (" (after the update)." if trace.updated else "."))
