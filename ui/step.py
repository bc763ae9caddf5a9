"""The step-through page's state and controls.

One ``StepState`` per active model (kept in ``model.extra["step"]``, so a rebuilt
network starts clean) holds the current step's trace and how far the stepper has
got. The trace is computed once per step; the phase only decides what is shown,
except the update phase, which applies the optimizer (Train mode).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from backprop import TrainingDiverged, gradcheck
from backprop.inspect import (
    batch_indices,
    check_entries,
    diagnostic_notes,
    layer_diagnostics,
    loss_on_batch,
    network_at_trace,
    network_phases,
    top_predictions,
    trace_npz_bytes,
    unit_breakdown,
    weight_breakdown,
)
from viz.step import (
    GRAPH_MAX_UNITS,
    backward_panels,
    column_limit,
    decision_boundary,
    fitted_curve,
    forward_panels,
    graph_fits,
    image_figure,
    loss_bars,
    network_graph,
    regression_surface,
    stack_figure,
    update_panels,
)

from .session import ActiveModel, reset_to_initial

SAMPLE_INDEX_KEY = "step.sample_index"  # set by other pages to open a chosen sample here
PENDING_KEY = "step.pending_run"  # (steps, epochs) asked for by the Run buttons
MODES = ("Visualize only", "Train")
INPUTS = ("Random batch", "Chosen sample")


@dataclass
class StepState:
    """Where the stepper is: the step's trace, its batch rows and the revealed phase.

    phase: -1 before anything (weights only), else an index into ``phases``.
    """

    trace: object = None
    rows: np.ndarray | None = None
    input_key: tuple = ()
    phase: int = -1
    draws: int = 0
    loss_before: float | None = None
    loss_after: float | None = None
    error: str | None = None
    notice: str | None = None
    run: dict | None = None  # {"done": k, "total": n} while a multi-step run is going
    gradcheck: object = None


@dataclass
class Settings:
    train: bool
    chosen: int | None
    phases: list = field(default_factory=list)


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
        help="Visualize only: forward and backward, the weights stay. Train: the update is applied.",
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
    phases = network_phases(model.net, mode == MODES[1], model.config.optimizer, model.config.weight_decay)
    return Settings(train=mode == MODES[1], chosen=chosen, phases=phases)


def _batch_rows(model: ActiveModel, state: StepState, settings: Settings) -> np.ndarray:
    if settings.chosen is not None:
        return np.array([settings.chosen])
    state.draws += 1
    return batch_indices(model.dataset.n_train, model.config.batch_size, model.config.seed, state.draws)


def new_step(model: ActiveModel, state: StepState, settings: Settings) -> None:
    """Compute a fresh trace (forward + backward, no update) on the selected input."""
    state.error = state.notice = None
    state.gradcheck = None
    rows = _batch_rows(model, state, settings)
    dataset, config = model.dataset, model.config
    x = dataset.x_train[rows]
    y = config.targets(dataset, dataset.y_train[rows])
    try:
        trace = model.net.gradients(x, y)
    except ValueError as err:
        state.trace, state.error = None, f"{err}. Choose another dataset or sample in the sidebar."
        return
    state.trace, state.rows, state.phase = trace, rows, -1
    state.input_key = (settings.chosen,)
    state.loss_before, state.loss_after = trace.loss, None
    model.last_trace = trace
    if not math.isfinite(trace.loss):
        state.error = (
            f"The loss on this batch is {trace.loss}: the weights have diverged. "
            "Press 'Reset to initial weights' and lower the learning rate in the sidebar."
        )


def apply_update(model: ActiveModel, state: StepState) -> None:
    """The update phase in Train mode: optimizer step, then the loss again on the same batch."""
    trace = state.trace
    if trace.updated:
        return
    if not math.isfinite(trace.loss):
        state.error = (
            "No update: the loss is not finite. Press 'Reset to initial weights' and lower the learning rate."
        )
        return
    model.trainer.optimizer.step(model.net, trace)
    model.steps_done += 1
    state.loss_after = loss_on_batch(model.net, trace)
    if not math.isfinite(state.loss_after):
        state.error = (
            f"After this update the loss is {state.loss_after}: the learning rate "
            f"({model.config.learning_rate:g}) is far too high. Reset and lower it."
        )


def finished(state: StepState, settings: Settings) -> bool:
    return state.trace is None or state.phase >= len(settings.phases) - 1


def advance(model: ActiveModel, state: StepState, settings: Settings, to_end: bool = False) -> None:
    """Next phase (or every remaining one); a finished step starts a new one first."""
    if finished(state, settings) or state.trace.updated or state.input_key != (settings.chosen,):
        new_step(model, state, settings)
        if state.trace is None:
            return
        if not to_end:
            state.phase = 0
            return
    state.phase = len(settings.phases) - 1 if to_end else state.phase + 1
    if settings.phases[state.phase].kind == "update":
        apply_update(model, state)


def run_training(model: ActiveModel, state: StepState, steps: int | None, epochs: int | None) -> None:
    """Run steps/an epoch with progress; Stop (any click) interrupts and keeps what was done."""
    dataset, config = model.dataset, model.config
    x, y = dataset.x_train, config.targets(dataset, dataset.y_train)
    total = steps if steps is not None else model.trainer.steps_per_epoch(dataset.n_train)
    state.run = {"done": 0, "total": total}
    state.error = state.notice = None
    bar = st.progress(0.0, text=f"Training 0 / {total} steps…")
    every = max(1, total // 50)

    def on_event(event):
        if event.kind != "step":
            return False
        model.steps_done += 1
        state.run["done"] += 1
        state.trace, state.rows = event.trace, None
        done = state.run["done"]
        if done % every == 0 or done == total:
            bar.progress(
                min(done / total, 1.0), text=f"Training {done} / {total} steps · loss {event.loss:.4g}"
            )
        return False

    try:
        model.trainer.run(x, y, steps=steps, epochs=epochs, callback=on_event)
    except TrainingDiverged as err:
        state.error = f"{err}"
    except ValueError as err:
        state.error = f"{err}. Change the data or setup in the sidebar."
    state.notice = (
        f"Trained {state.run['done']} steps (loss {model.trainer.history.step_loss[-1]:.4g} on the last batch)."
        if state.run["done"]
        else None
    )
    state.run = None
    bar.empty()
    _show_last_training_step(model, state)


def pending_training(model: ActiveModel) -> None:
    """Run the steps or epoch the Run buttons asked for, with progress and a Stop button.

    Called by the page outside its fragment: a click on Stop then reruns the whole
    page, which stops this loop after the current step and keeps what was trained.
    """
    pending = st.session_state.pop(PENDING_KEY, None)
    if pending is None:
        return
    steps, epochs = pending
    slot = st.empty()
    slot.button(
        "Stop",
        key="step.stop",
        type="primary",
        help="Stops after the current step; the steps done so far are kept.",
    )
    run_training(model, state_of(model), steps, epochs)
    slot.empty()


def _show_last_training_step(model: ActiveModel, state: StepState) -> None:
    trace = state.trace
    if trace is None or state.rows is not None:
        return
    state.phase = len(network_phases(model.net, True)) - 1
    state.loss_before = trace.loss
    state.loss_after = loss_on_batch(model.net, trace) if trace.updated else None
    state.input_key = (None,)
    model.last_trace = trace


def step_buttons(model: ActiveModel, settings: Settings) -> StepState:
    """Next ▸, Full step, Run N steps, Run one epoch, Reset; returns the updated state."""
    state = state_of(model)
    if state.run is not None:
        done, total = state.run["done"], state.run["total"]
        state.notice = f"Stopped after {done} of {total} steps; the weights keep those {done} steps."
        state.run = None
        _show_last_training_step(model, state)
    cols = st.columns([1, 1, 0.8, 1, 1, 1.3])
    if cols[0].button("Next ▸", type="primary", key="step.next", use_container_width=True):
        advance(model, state, settings)
    if cols[1].button("Full step", key="step.full", use_container_width=True):
        advance(model, state, settings, to_end=True)
    n_steps = int(
        cols[2].number_input("Steps to run", 1, 100_000, 20, key="step.n", label_visibility="collapsed")
    )
    run_n = cols[3].button(f"Run {n_steps} steps", key="step.run_n", use_container_width=True)
    run_epoch = cols[4].button("Run one epoch", key="step.run_epoch", use_container_width=True)
    if cols[5].button("Reset to initial weights", key="step.reset", use_container_width=True):
        reset_to_initial()
        model.extra["step"] = state = StepState()
        new_step(model, state, settings)
        state.notice = "Weights reset to their initial values; training starts over."
    if run_n or run_epoch:
        # Long runs happen in a whole-page run (see pending_training), where a Stop click interrupts;
        # a click inside this fragment would only be queued behind the running loop.
        st.session_state[PENDING_KEY] = (n_steps if run_n else None, 1 if run_epoch else None)
        st.rerun(scope="app")
    if state.trace is None and state.error is None:
        new_step(model, state, settings)
    state.phase = min(state.phase, len(settings.phases) - 1)
    return state


# ---------------------------------------------------------------- display
def phase_bar(state: StepState, settings: Settings) -> None:
    """The stops of the step with the current one highlighted, and its equations."""
    parts = []
    for k, phase in enumerate(settings.phases):
        if k == state.phase:
            parts.append(f":orange-background[**▶ {phase.label}**]")
        elif k < state.phase:
            parts.append(f":gray[{phase.label} ✓]")
        else:
            parts.append(phase.label)
    st.markdown(" → ".join(parts))
    with st.container(border=True, key="step-phase-current"):
        if state.phase < 0:
            st.markdown("**Ready.** The weights are shown; press **Next ▸** to run forward layer 1.")
        else:
            phase = settings.phases[state.phase]
            st.markdown(f"**Current phase: {phase.label}**")
            st.code("\n".join(phase.equations), language=None)


def revealed(state: StepState, settings: Settings, kind: str, layer: int) -> bool:
    """Whether phase (kind, layer) has been reached."""
    for _k, phase in enumerate(settings.phases[: state.phase + 1]):
        if phase.kind == kind and (layer is None or phase.layer == layer):
            return True
    return False


def current(state: StepState, settings: Settings, kind: str, layer: int | None) -> bool:
    if state.phase < 0:
        return False
    phase = settings.phases[state.phase]
    return phase.kind == kind and phase.layer == layer


def sample_view(model: ActiveModel, state: StepState) -> tuple[str, int | None]:
    """One line describing the input, and the row of the trace to single out (0 for one sample)."""
    _dataset, trace = model.dataset, state.trace
    if state.rows is None or trace is None:
        return "The last batch of the training run.", None
    row = int(state.rows[0])
    if len(state.rows) > 1:
        sample = describe_sample(model, trace, row)
        return (
            f"Random batch of {len(state.rows)} training rows (draw {state.draws}). Its sample 0 is "
            + sample[0].lower()
            + sample[1:]
        ), 0
    return describe_sample(model, trace, row), 0


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
        shown = f"`{dataset.windows_train[row]} -> {target}`"
    elif dataset.kind == "image":
        shown = f"image {'×'.join(map(str, dataset.input_shape))}"
    else:
        shown = "(" + ", ".join(f"{v:.3g}" for v in np.ravel(dataset.x_train[row])) + ")"
    return f"Training sample {row}: {shown} · target **{target}** · prediction **{predicted}**"


def prediction_table(model: ActiveModel, state: StepState, limit: int = 12) -> pd.DataFrame:
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
    return pd.DataFrame(records)


def inspector(model: ActiveModel, state: StepState) -> None:
    """Cell inspector: one weight's dW as a sum over the batch, one unit's chain rule, gradcheck."""
    trace = state.trace
    if trace is None or trace.blocks[0].dW is None:
        st.info("Run the backward pass to inspect gradients.")
        return
    n_layers = len(trace.blocks)
    c = st.columns(4)
    # Keys carry the sizes, so a smaller network or batch never meets an index left from a larger one.
    layer = (
        int(
            c[0].selectbox(
                "Layer", range(1, n_layers + 1), index=n_layers - 1, key=f"step.ins.layer.{n_layers}"
            )
        )
        - 1
    )
    rec = trace.blocks[layer]
    n_in, n_out = rec.W.shape
    i = int(c[1].number_input(f"row i (input, < {n_in})", 0, n_in - 1, 0, key=f"step.ins.i{layer}.{n_in}"))
    j = int(
        c[2].number_input(f"column j (unit, < {n_out})", 0, n_out - 1, 0, key=f"step.ins.j{layer}.{n_out}")
    )
    n = int(
        c[3].number_input(
            f"sample n (< {len(trace.x)})", 0, len(trace.x) - 1, 0, key=f"step.ins.n.{len(trace.x)}"
        )
    )
    w = weight_breakdown(rec, i, j)
    g = "dh" if w.grad_name == "dh" else "dz"
    st.markdown(
        f"**Weight W[{i}, {j}] of layer {layer + 1}** — "
        f"dW[{i},{j}] = Σₙ a_in[n,{i}]·{g}[n,{j}] over {len(w.terms)} samples "
        f"= **{w.total:.6g}** (trace: {w.dW:.6g})"
    )
    st.dataframe(
        pd.DataFrame(
            [{"sample n": s, f"a_in[n,{i}]": a, f"{g}[n,{j}]": d, "product": p} for s, a, d, p in w.top]
        ),
        hide_index=True,
    )
    if w.delta is not None:
        st.markdown(f"Update: W = {w.weight:.6g}, ΔW = {w.delta:.6g} → new W = **{w.new_value:.6g}**")
    else:
        st.caption(
            f"W[{i},{j}] = {w.weight:.6g}; no update yet (Visualize only, or before the update phase)."
        )
    u = unit_breakdown(trace, layer, j, n)
    mask = f" · mask {u.mask:.3g}" if u.mask != 1.0 else ""
    st.markdown(
        f"**Unit {j} of layer {layer + 1}, sample {n}:** z = {u.z:.6g}, a = {u.a:.6g}; "
        f"dz = da{mask} · f′(z) = {u.da:.6g}{mask} · {u.slope:.6g} = **{u.dz:.6g}**"
    )
    if u.da_from_loss:
        st.caption("This is the output layer: da comes straight from the loss, dL/d(output).")
    else:
        st.markdown(f"da[{n},{j}] = Σₖ dz_next[{n},k]·W_next[{j},k] — largest terms:")
        st.dataframe(
            pd.DataFrame(
                [
                    {"k": k, "dz_next[n,k]": d, f"W_next[{j},k]": wv, "product": p}
                    for k, d, wv, p in u.da_terms
                ]
            ),
            hide_index=True,
        )
    if st.button("Check this layer's gradient by finite differences", key="step.gradcheck"):
        twin = network_at_trace(model.net, trace)
        entries = check_entries(rec.W.shape, (i, j), count=8, seed=model.config.seed)
        try:
            state.gradcheck = gradcheck(
                twin,
                trace.x,
                trace.y,
                layer=rec.transform.name,
                param="W",
                entries=entries,
                weight_decay=model.config.weight_decay,
                train=trace.train,
                dropout_masks={r.name: r.saved["mask"] for r in trace.layers if "mask" in r.saved},
            )
        except ValueError as err:
            st.error(f"Gradient check failed: {err}")
    result = state.gradcheck
    if result is not None and result.layer == rec.transform.name:
        st.dataframe(
            pd.DataFrame(result.rows()).assign(index=lambda d: d["index"].astype(str)), hide_index=True
        )
        verdict = "agree" if result.max_rel_error < 1e-4 else "disagree — look closer"
        st.caption(
            f"Layer {layer + 1}, W (+λW with weight decay {model.config.weight_decay:g}), float64: "
            f"backprop and centred differences {verdict} (max relative error {result.max_rel_error:.2e})."
            + (
                " The step's own dropout masks are replayed in the check and in every perturbed pass."
                if any(r.dropout_mask is not None for r in trace.blocks)
                else ""
            )
        )


def diagnostics(state: StepState) -> None:
    trace = state.trace
    if trace is None or trace.blocks[0].dW is None:
        return
    diag = layer_diagnostics(trace)
    st.dataframe(pd.DataFrame([d.row() for d in diag]), hide_index=True)
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
    if state.trace is None:
        return
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


def _layer_height(rec) -> int:
    return 300 if rec.W.shape[0] <= 16 else 440


def matrix_columns(state: StepState, settings: Settings, shared: bool) -> None:
    """Forward (W, b, z, a) and Backward (dW, db, dz, da) per layer, as revealed by the phase."""
    trace = state.trace
    forward_sets, backward_sets = [], []
    for rec in trace.blocks:
        panels = forward_panels(rec)
        forward_sets.append(panels if revealed(state, settings, "forward", rec.index) else panels[:2])
        backward_sets.append(
            backward_panels(rec) if revealed(state, settings, "backward", rec.index) else None
        )
    forward_limit = column_limit(forward_sets) if shared else None
    backward_limit = column_limit([p for p in backward_sets if p]) if shared else None
    left, right = st.columns(2)
    left.subheader("Forward")
    right.subheader("Backward")
    for rec, f_panels, b_panels in zip(trace.blocks, forward_sets, backward_sets):
        k = rec.index
        left.plotly_chart(
            stack_figure(
                f_panels,
                forward_limit,
                title=f"Layer {k + 1} · {rec.activation}",
                height=_layer_height(rec) if len(f_panels) > 2 else 220,
                highlight=current(state, settings, "forward", k),
            ),
            key=f"step.fig.f{k}",
            config={"displayModeBar": False},
        )
        if b_panels is None:
            right.container(height=_layer_height(rec) if len(f_panels) > 2 else 220, border=True).caption(
                f"Layer {k + 1}: gradients not computed yet — the backward pass reaches it at 'Backward {k + 1}'."
            )
        else:
            right.plotly_chart(
                stack_figure(
                    b_panels,
                    backward_limit,
                    title=f"Layer {k + 1} gradients",
                    height=_layer_height(rec),
                    highlight=current(state, settings, "backward", k),
                ),
                key=f"step.fig.b{k}",
                config={"displayModeBar": False},
            )
    if revealed(state, settings, "loss", None):
        left.metric("Loss on this batch", f"{trace.loss:.5g}")


def update_view(state: StepState, settings: Settings, shared: bool) -> None:
    """After the update: ΔW and Δb per layer and the loss before and after on the same batch."""
    trace = state.trace
    if not trace.updated or not revealed(state, settings, "update", None):
        return
    st.subheader(f"Update ({trace.optimizer}, η = {trace.learning_rate:g})")
    panel_sets = [update_panels(rec) for rec in trace.blocks]
    limit = column_limit(panel_sets) if shared else None
    cols = st.columns(len(trace.blocks) + 1)
    for col, rec, panels in zip(cols, trace.blocks, panel_sets):
        col.plotly_chart(
            stack_figure(
                panels,
                limit,
                title=f"Layer {rec.index + 1} change",
                height=260,
                highlight=current(state, settings, "update", None),
            ),
            key=f"step.fig.u{rec.index}",
            config={"displayModeBar": False},
        )
    if state.loss_after is not None:
        cols[-1].plotly_chart(
            loss_bars(state.loss_before, state.loss_after),
            key="step.fig.loss",
            config={"displayModeBar": False},
        )


def task_view(model: ActiveModel, state: StepState) -> None:
    """What the network does with its input: boundary, curve, token table or image."""
    try:
        _task_view(model, state)
    except ValueError as err:
        st.error(f"Cannot draw the task view: {err}.")


def _task_view(model: ActiveModel, state: StepState) -> None:
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
            np.asarray(trace.x[0]), dataset.input_shape, f"target {target} · predicted {predicted}"
        )
    else:
        st.markdown("**Next-token probabilities** (current weights at the time of the step)")
        st.dataframe(prediction_table(model, state), hide_index=True)
        return
    st.plotly_chart(fig, key="step.fig.task", config={"displayModeBar": False})
    if dataset.kind == "image":
        st.caption(
            "Prediction from this step's forward pass" + (", before the update." if trace.updated else ".")
        )
    else:
        st.caption("Drawn with the current weights" + (" (after the update)." if trace.updated else "."))


def graph_view(model: ActiveModel, state: StepState) -> None:
    blocks = state.trace.blocks
    if any(block.kind != "dense" for block in blocks):
        st.caption("The graph is drawn for networks of dense layers.")
        return
    sizes = [blocks[0].a_in.shape[1]] + [rec.W.shape[1] for rec in blocks]
    if not graph_fits(sizes):
        st.caption(
            f"The graph is drawn for networks with at most {GRAPH_MAX_UNITS} units a layer "
            f"(this one has {'-'.join(map(str, sizes))})."
        )
        return
    sample = 0 if state.rows is not None and len(state.rows) == 1 else None
    st.plotly_chart(
        network_graph(state.trace, sample), key="step.fig.graph", config={"displayModeBar": False}
    )
