"""Streamlit pieces of the Sequences page: dataset controls, sample picker, training, jumps.

Each function renders one group of widgets and returns what the page needs.
The page's own state lives under ``seq.*`` keys.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

import datasets
from backprop import TrainingDiverged
from backprop.generate import sample_order

from .data import try_load_dataset
from .navigation import page
from .session import apply_config, current_config
from .text import plain

try:  # the run store arrived later than this page; without it "Use this dataset" sets the session only
    from backprop.runs import RunStore
except ImportError:  # pragma: no cover - depends on the checkout
    RunStore = None

STEP_SAMPLE_KEY = "step.sample_index"
LAST_GOOD_KEY = "seq.last_good"

# A configuration on which a 32-unit network reaches the Bayes ceiling in a few epochs
# (measured in tests/test_generate.py and docs/sequences.md). "cca" is ambiguous:
# M1 continues it with a, M2 with d, so the ceiling is below 100%.
PAGE_DEFAULTS = {
    "vocab": "abcd",
    "context": 3,
    "samples": 200,
    "mode": "type",
    "masters": "abccaabb, addaccad",
    "count": 3,
    "length": (6, 10),
    "task": "next_token",
    "encoding": "one_hot",
    "seed": 0,
}
# Network used when the session switches to sequences from another dataset.
RECOMMENDED_NETWORK = {"layers": "dense32-gelu", "optimizer": "adam", "learning_rate": 0.03, "batch_size": 32}
MODES = {"type": "type them", "auto": "auto-generate", "none": "none (random windows)"}


# ------------------------------------------------------------------ dataset
def percent(value: float) -> str:
    """0.912 -> '91.2%', 1.0 -> '100%' (short enough for a metric in a narrow column)."""
    return "100%" if value >= 1 else f"{value:.1%}"


def _initial_settings() -> dict:
    """Page defaults, or the active network's sequence settings when it already uses sequences."""
    settings = dict(PAGE_DEFAULTS)
    config = current_config()
    if config.dataset != "sequences":
        return settings
    p = config.dataset_params
    vocab = p.get("vocab", "abcd")
    settings.update(
        vocab=vocab if isinstance(vocab, str) else "".join(vocab),
        context=int(p.get("context", 5)),
        samples=int(p.get("samples", 100)),
        task=p.get("task", "next_token"),
        encoding=p.get("encoding", "one_hot"),
        seed=int(p.get("seed", 0)),
    )
    masters = p.get("master_sequences")
    source = p.get("source") or ("explicit" if masters else "auto")
    if source == "explicit":
        settings.update(
            mode="type", masters=masters if isinstance(masters, str) else ", ".join(masters or [])
        )
    elif source == "random":
        settings["mode"] = "none"
    else:
        length = p.get("master_length", 8)
        low, high = (length, length) if isinstance(length, int) else tuple(int(v) for v in length)
        settings.update(mode="auto", count=int(p.get("master_count", 3)), length=(low, high))
    return settings


def dataset_controls() -> dict:
    """The sequence settings as widgets; returns the dataset parameters that differ from the defaults."""
    for name, value in _initial_settings().items():
        st.session_state.setdefault(f"seq.{name}", value)
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    vocab = c1.text_input("Vocabulary", key="seq.vocab", help="One character per token, e.g. abcd")
    context = c2.number_input("Context length", 1, 64, step=1, key="seq.context")
    samples = c3.number_input(
        "Samples", 1, 20000, step=50, key="seq.samples", help="Train + validation windows (20% held out)"
    )
    seed = c4.number_input("Seed", 0, 2**31 - 1, step=1, key="seq.seed")
    c1, c2, c3 = st.columns([2, 1, 1])
    mode = c1.radio("Master sequences", list(MODES), format_func=MODES.get, horizontal=True, key="seq.mode")
    task = c2.selectbox(
        "Task",
        ["next_token", "classification"],
        key="seq.task",
        help="next_token: predict the token after the window; classification: which master",
    )
    encoding = c3.selectbox("Encoding", ["one_hot", "embedding"], key="seq.encoding")
    params = {
        "vocab": vocab.strip(),
        "context": int(context),
        "samples": int(samples),
        "task": task,
        "encoding": encoding,
        "seed": int(seed),
    }
    if mode == "type":
        masters = st.text_input("Type master sequences (comma or space separated)", key="seq.masters")
        params.update(source="explicit", master_sequences=masters.strip())
    elif mode == "auto":
        c1, c2 = st.columns(2)
        count = c1.number_input("How many masters", 1, 50, step=1, key="seq.count")
        low, high = c2.slider("Length range", 1, 64, key="seq.length")
        params.update(
            source="auto",
            master_count=int(count),
            master_length=[int(low)] if low == high else [int(low), int(high)],
        )
    else:
        params["source"] = "random"
    defaults = datasets.spec("sequences").params
    # Only non-defaults, as the setup sidebar writes them, so both describe the same data.
    return {k: v for k, v in params.items() if k == "source" or v != defaults.get(k)}


def load_sequences(params: dict):
    """The dataset for ``params``; on a bad setting st.error and the last valid one (None if none)."""
    dataset, error = try_load_dataset("sequences", params)
    if error is None:
        st.session_state[LAST_GOOD_KEY] = params
        return dataset
    st.error(plain(error.removeprefix("Dataset 'sequences': ")))
    last = st.session_state.get(LAST_GOOD_KEY)
    if last is None:
        return None
    st.caption("Showing the last valid settings until this is fixed.")
    return try_load_dataset("sequences", last)[0]


# ------------------------------------------------------------------ samples
def _select_from_table() -> None:
    rows = st.session_state["seq.table"].selection.rows
    if rows:
        st.session_state["seq.sample"] = int(rows[0])


def sample_picker(ds) -> int:
    """Training samples as a table (click a row) and a number box; returns the chosen train index."""
    if st.session_state.get("seq.sample", 0) >= ds.n_train:
        st.session_state["seq.sample"] = 0
    masters = ["(random)" if s < 0 else f"M{s + 1}" for s in ds.source_train]
    table = {
        "context": list(ds.windows_train),
        "target": [ds.classes[t] for t in ds.y_train],
        "master": masters,
        "position": [int(p) for p in ds.position_train],
    }
    st.dataframe(
        table,
        height=240,
        width="stretch",
        on_select=_select_from_table,
        selection_mode="single-row",
        key="seq.table",
    )
    return int(
        st.number_input("Sample (train index; or click a row)", 0, ds.n_train - 1, step=1, key="seq.sample")
    )


def sample_origin(ds, index: int) -> str:
    """'from M2 at position 1' (0-based start), or '(random)'."""
    source = int(ds.source_train[index])
    return "(random)" if source < 0 else f"from M{source + 1} at position {int(ds.position_train[index])}"


def selected_window(ds, index: int) -> tuple | None:
    """(master, start, context, has_target) for the strips, or None for random data."""
    source = int(ds.source_train[index])
    if source < 0:
        return None
    return source, int(ds.position_train[index]), ds.context, ds.task == "next_token"


# ---------------------------------------------------------- session network
def is_applied(params: dict) -> bool:
    config = current_config()
    return config.dataset == "sequences" and config.dataset_params == params


def use_dataset(params: dict, dataset, new_run: bool = False) -> None:
    """Make ``params`` the session network's dataset (and optionally a stored run); report with st.*."""
    config = current_config()
    changes = {"dataset": "sequences", "dataset_params": params}
    if config.dataset != "sequences":
        changes.update(RECOMMENDED_NETWORK)
    try:
        new = config.replace(**changes)
        message = apply_config(new)
    except ValueError as err:
        st.error(plain(f"Could not use this dataset: {err}"))
        return
    st.success(plain(message) if message else "The network already uses this dataset.")
    if new_run and RunStore is not None:
        try:
            store = RunStore()
            run = store.create(store.unique_name("sequences"), new, dataset=dataset)
        except (ValueError, OSError) as err:
            st.error(plain(f"Could not create a run: {err}"))
        else:
            st.success(plain(f"Created run {run.path.name!r}; train and compare it on the Runs page."))


def use_dataset_controls(params: dict, dataset) -> None:
    """The "Use this dataset" button (and the new-run option when runs exist)."""
    c1, c2 = st.columns([1, 2])
    new_run = RunStore is not None and c2.checkbox("also save it as a new run", key="seq.new_run")
    if c1.button("Use this dataset", type="primary", key="seq.use"):
        use_dataset(params, dataset, new_run)
    elif is_applied(params):
        c2.caption("The session's network is built for this dataset.")


def open_in_step_through(params: dict, dataset, index: int) -> None:
    """Apply the dataset if needed, hand the sample to the step-through page and go there."""
    if not is_applied(params):
        use_dataset(params, dataset)
        if not is_applied(params):
            return
    st.session_state[STEP_SAMPLE_KEY] = int(index)
    st.switch_page(page("step_through.py"))


def train_controls(model) -> None:
    """Train the active network for N epochs with a progress bar; Stop keeps the epochs done."""
    c1, c2, c3 = st.columns([1, 1, 3])
    epochs = int(c1.number_input("Epochs", 1, 5000, 200, step=50, key="seq.epochs"))
    c2.write("")
    train = c2.button("Train", type="primary", key="seq.train")
    c3.write("")
    c3.button("Stop", key="seq.stop", help="Stops after the current epoch; the epochs done are kept.")
    if not train:
        return
    ds, config = model.dataset, model.config
    progress = st.progress(0.0, text="Training…")
    goal = model.trainer.epoch + epochs

    def on_event(event):
        if event.kind == "epoch":  # a Stop click interrupts here, between epochs
            done = epochs - (goal - event.epoch)
            progress.progress(done / epochs, text=f"epoch {event.epoch}: loss {event.loss:.4f}")

    validation = (ds.x_val, config.targets(ds, ds.y_val)) if ds.n_val else None
    try:
        model.trainer.run(
            ds.x_train,
            config.targets(ds, ds.y_train),
            epochs=epochs,
            validation=validation,
            callback=on_event,
        )
    except TrainingDiverged as err:
        st.error(plain(err))
    progress.empty()


def accuracy_series(model) -> tuple:
    """(epochs, train accuracy, val accuracy) from the trainer's history, NaN where missing."""
    records = model.trainer.history.epochs

    def column(name):
        return np.array([np.nan if r.get(name) is None else r[name] for r in records], dtype=float)

    return column("epoch"), column("train_accuracy"), column("val_accuracy")


def train_accuracy(model) -> float:
    ds = model.dataset
    return model.net.evaluate(ds.x_train, model.config.targets(ds, ds.y_train))["accuracy"]


def sorted_predictions(model) -> tuple:
    """Training-set probabilities in master/position order: (probabilities, row labels, targets, order)."""
    ds = model.dataset
    order = sample_order(ds.source_train, ds.position_train)
    probabilities = model.net.predict_proba(ds.x_train)[order]
    labels = [
        f"#{i} "
        + ("" if ds.source_train[i] < 0 else f"M{ds.source_train[i] + 1}@{ds.position_train[i]} ")
        + f"{ds.windows_train[i]}→{ds.classes[ds.y_train[i]]}"
        for i in order
    ]
    return probabilities, labels, ds.y_train[order], order


def wrong_samples(model) -> list[int]:
    """Train indices the network gets wrong, in master/position order."""
    probabilities, _, targets, order = sorted_predictions(model)
    return [int(i) for i, p, t in zip(order, probabilities, targets) if p.argmax() != t]
