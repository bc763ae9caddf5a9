"""Streamlit pieces of the Sequences page: dataset controls, sample picker, training, jumps.

Each function renders one group of widgets and returns what the page needs.
The page's own state lives under ``seq.*`` keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import datasets
from backprop import RunConfig, TrainingDiverged
from backprop.attention import SelfAttention
from backprop.generate import sample_order
from backprop.runlock import RunBusy
from backprop.runs import RunStore, train_run
from datasets.sequences import resolve_source

from . import runs as run_ui
from .data import try_load_dataset
from .navigation import page
from .places import messages_in_place
from .session import apply_config, current_config
from .table_view import table_view
from .text import plain
from .training import APP_OWNER, Progress, run_with_progress, take, train_active

STEP_SAMPLE_KEY = "step.sample_index"
LAST_GOOD_KEY = "seq.last_good"

SPEC = datasets.spec("sequences")  # each setting's range and first value
# The dataset's defaults: a configuration on which a 32-unit network reaches the Bayes ceiling in a few
# epochs (measured in tests/test_generate.py and docs/sequences.md). "cca" is ambiguous: M1 continues
# it with a, M2 with d, so the ceiling is below 100%.
PAGE_DEFAULTS = {
    "vocab": SPEC.params["vocab"],
    "context": SPEC.params["context"],
    "samples": SPEC.params["samples"],
    "mode": "type",
    "masters": SPEC.params["master_sequences"],
    "count": SPEC.params["master_count"],
    "shortest": min(SPEC.params["master_length"]),
    "longest": max(SPEC.params["master_length"]),
    "task": SPEC.params["task"],
    "encoding": SPEC.params["encoding"],
    "seed": SPEC.params["seed"],
    "val_fraction": SPEC.params["val_fraction"],  # no widget: a network's held-out share is kept as it is
}
MODES = {"type": "type them", "auto": "auto-generate", "none": "none (random windows)"}


@dataclass(frozen=True)
class Recipe:
    """A network for this page's data: its layers and training, and the encoding it reads."""

    label: str
    layers: str
    learning_rate: float
    encoding: str | None = None  # None: the page's encoding
    optimizer: str = "adam"
    batch_size: int = 32

    def settings(self) -> dict:
        return {
            "layers": self.layers,
            "optimizer": self.optimizer,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
        }


# Both reach the Bayes ceiling on the default data within a few epochs (docs/sequences.md, measured by
# bench/sequence_models.py). Attention reads token ids, so its data is the same windows as ids.
RECIPES = {
    "mlp": Recipe("MLP (one hidden layer of 32)", "dense32-gelu", 0.03),
    "attention": Recipe(
        "Attention (one transformer block)",
        "embed16-pos-res-ln-attn2-add-res-ln-dense32-relu-dense16-add-ln-last",
        0.01,
        encoding="embedding",
    ),
}
# The network used when the session switches to sequences from another dataset.
RECOMMENDED_NETWORK = RECIPES["mlp"].settings()
MODEL_KEY = "seq.model"
STOPPED_KEY = "seq.stopped"
MESSAGE_KEY = "seq.message"
OUTCOME_KEY = "seq.outcome"  # what Use this dataset did, for the run it asks for
TRAIN_ERROR_KEY = "seq.train_error"  # why Train ended early, for the run after it


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
    # What the network's parameters leave out is the dataset's declared default, as when it was built.
    p = SPEC.resolve_params(config.dataset_params)
    settings.update(
        vocab=p["vocab"],
        context=p["context"],
        samples=p["samples"],
        task=p["task"],
        encoding=p["encoding"],
        seed=p["seed"],
        val_fraction=p["val_fraction"],
    )
    source = resolve_source(p["source"], p["master_sequences"])
    if source == "explicit":
        settings.update(mode="type", masters=p["master_sequences"])
    elif source == "random":
        settings["mode"] = "none"
    else:
        settings.update(
            mode="auto",
            count=p["master_count"],
            shortest=min(p["master_length"]),
            longest=max(p["master_length"]),
        )
    return settings


def _range(name: str) -> tuple:
    """(low, high) the dataset accepts for the setting ``name``."""
    option = SPEC.option(name)
    return option.low, option.high


def dataset_controls() -> dict:
    """The sequence settings as widgets; returns the dataset parameters that differ from the defaults."""
    for name, value in _initial_settings().items():
        st.session_state.setdefault(f"seq.{name}", value)
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    keep = {"persist_state": "session"}  # typed and chosen values outlive a hidden widget and a page switch
    vocab = c1.text_input(
        "Vocabulary",
        key="seq.vocab",
        max_chars=SPEC.option("vocab").max_length,
        help="One character per token, e.g. abcd",
        **keep,
    )
    context = c2.number_input("Context length", *_range("context"), step=1, key="seq.context", **keep)
    samples = c3.number_input(
        "Samples",
        *_range("samples"),
        step=50,
        key="seq.samples",
        help=f"Train + validation windows ({st.session_state['seq.val_fraction']:.0%} held out)",
        **keep,
    )
    seed = c4.number_input("Seed", *_range("seed"), step=1, key="seq.seed", **keep)
    c1, c2, c3 = st.columns([2, 1, 1])
    mode = c1.radio(
        "Master sequences", list(MODES), format_func=MODES.get, horizontal=True, key="seq.mode", **keep
    )
    task = c2.selectbox(
        "Task",
        SPEC.option("task").choices,
        key="seq.task",
        help="next_token: predict the token after the window; classification: which master",
        **keep,
    )
    encoding = c3.selectbox("Encoding", SPEC.option("encoding").choices, key="seq.encoding", **keep)
    params = {
        "vocab": vocab.strip(),
        "context": int(context),
        "samples": int(samples),
        "task": task,
        "encoding": encoding,
        "seed": int(seed),
        "val_fraction": st.session_state["seq.val_fraction"],
    }
    # Every source's settings stay on the page, those of the other sources disabled: a switch of the
    # source changes which are enabled, not what the page holds.
    c1, c2, c3 = st.columns([2, 1, 1])
    masters = c1.text_input(
        "Type master sequences (comma or space separated)",
        key="seq.masters",
        max_chars=SPEC.option("master_sequences").max_length,
        disabled=mode != "type",
        **keep,
    )
    auto = {"disabled": mode != "auto", **keep}  # the auto-generated masters' settings
    count = c2.number_input("How many masters", *_range("master_count"), step=1, key="seq.count", **auto)
    # Two number boxes rather than a range slider: a slider measures itself in the browser on every
    # rerun that changes the page above it.
    c3a, c3b = c3.columns(2)
    low = c3a.number_input(
        "Shortest",
        *_range("master_length"),
        step=1,
        key="seq.shortest",
        help="Shortest master's length",
        **auto,
    )
    high = c3b.number_input(
        "Longest",
        *_range("master_length"),
        step=1,
        key="seq.longest",
        help="Longest master's length",
        **auto,
    )
    if mode == "type":
        params.update(source="explicit", master_sequences=masters.strip())
    elif mode == "auto":
        params.update(
            source="auto",
            master_count=int(count),
            master_length=[int(low)] if low == high else [int(low), int(high)],
        )
    else:
        params["source"] = "random"
    defaults = SPEC.params
    # Only non-defaults, as the setup sidebar writes them, so both describe the same data.
    return {k: v for k, v in params.items() if k == "source" or v != defaults.get(k)}


NO_MASTERS = (
    "Type at least one master sequence, e.g. abccaabb, addaccad (tokens from the vocabulary, separated "
    "by commas or spaces), or choose auto-generate or none."
)


def settings_problem(params: dict) -> str | None:
    """What is wrong with the settings, in the page's words, before the dataset is asked."""
    default = SPEC.params["master_sequences"]
    if params.get("source") == "explicit" and not str(params.get("master_sequences", default)).strip(", "):
        return NO_MASTERS
    length = params.get("master_length")
    if (
        params.get("source") == "auto"
        and isinstance(length, list)
        and len(length) == 2
        and length[0] > length[1]
    ):
        return (
            f"Shortest ({length[0]}) is more than Longest ({length[1]}): set the shortest master's "
            "length at most the longest's."
        )
    return None


def load_sequences(params: dict):
    """(dataset, valid): the dataset for ``params``; on a bad setting st.error with what to change and the
    last valid dataset (None if there is none), valid False."""
    problem = settings_problem(params)
    dataset, error = (None, problem) if problem else try_load_dataset("sequences", params)
    if error is None:
        st.session_state[LAST_GOOD_KEY] = params
        return dataset, True
    st.error(plain(error.removeprefix("Dataset 'sequences': ")))
    last = st.session_state.get(LAST_GOOD_KEY)
    if last is None:
        return None, False
    st.caption("Showing the last valid settings until this is fixed.")
    return try_load_dataset("sequences", last)[0], False


# ------------------------------------------------------------------ samples
def _select_from_table() -> None:
    row = (st.session_state.get("seq.table") or {}).get("row")
    if isinstance(row, int) and not isinstance(row, bool) and row >= 0:
        st.session_state["seq.sample"] = row  # the number box checks it against the data on this run


def sample_picker(ds) -> int:
    """Training samples as a table (click a row) and a number box; returns the chosen train index."""
    if st.session_state.get("seq.sample", 0) >= ds.n_train:
        st.session_state["seq.sample"] = 0
    masters = ["(random)" if s < 0 else f"M{s + 1}" for s in ds.source_train]
    rows = [
        [i, str(window), str(ds.classes[target]), master, int(position)]
        for i, (window, target, master, position) in enumerate(
            zip(ds.windows_train, ds.y_train, masters, ds.position_train)
        )
    ]
    table_view(
        ["#", "context", "target", "master", "position"],
        rows,
        key="seq.table",
        label="Training samples: click a row to choose it",
        selected=int(st.session_state.get("seq.sample", 0)),
        on_pick=_select_from_table,
        kinds=["number", "mono", "mono", "text", "number"],
        widths=["4.5em", None, "5em", "5.5em", "5.5em"],
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
def chosen_model() -> str:
    """ "mlp" or "attention": the radio's choice, at first the kind of the session's network."""
    if MODEL_KEY not in st.session_state:
        config = current_config()
        st.session_state[MODEL_KEY] = (
            "attention" if config.dataset == "sequences" and "attn" in config.layers else "mlp"
        )
    return st.session_state[MODEL_KEY]


def network_params(params: dict, model: str) -> dict:
    """The dataset parameters the chosen network reads: attention reads the windows as token ids."""
    encoding = RECIPES[model].encoding
    if encoding is not None:
        params = {**params, "encoding": encoding}
    return SPEC.canonical_params(params)


def model_kind(config: RunConfig) -> str:
    return "attention" if "attn" in config.layers else "mlp"


def is_sequence_network() -> bool:
    """Whether the session's network is the chosen kind of network on sequence data (of any settings)."""
    config = current_config()
    return config.dataset == "sequences" and model_kind(config) == chosen_model()


def is_applied(params: dict) -> bool:
    """Whether the session's network is the chosen kind, on these settings."""
    return is_sequence_network() and current_config().dataset_params == network_params(params, chosen_model())


def use_dataset(params: dict, dataset, new_run: bool = False) -> tuple[list[tuple[str, str]], bool]:
    """Make ``params`` the session network's dataset, with the chosen network (and optionally a stored
    run): ([(kind, text)] to show, whether the session's network changed). The chosen recipe is used
    when coming from another dataset or another kind of network; otherwise the network keeps its
    architecture (set in the sidebar)."""
    config = current_config()
    model = chosen_model()
    changes = {"dataset": "sequences", "dataset_params": network_params(params, model)}
    if config.dataset != "sequences" or model_kind(config) != model:
        changes.update(RECIPES[model].settings())
    try:
        new = config.replace(**changes)
        message = apply_config(new)
    except ValueError as err:
        return [("error", plain(f"Could not use this dataset: {err}"))], False
    said = [("success", plain(message) if message else "The network already uses this dataset.")]
    if new_run:
        try:
            store = RunStore()
            run = store.create(store.unique_name(f"sequences-{model}"), new, dataset=dataset)
        except (ValueError, OSError) as err:
            said.append(("error", plain(f"Could not create a run: {err}")))
        else:
            said.append(
                ("success", plain(f"Created run {run.path.name!r}; train and compare it on the Runs page."))
            )
    return said, current_config() != config


def _on_model() -> None:
    """Attention reads token ids: the data settings show them too. The network follows the choice."""
    if RECIPES[st.session_state[MODEL_KEY]].encoding is not None:
        st.session_state["seq.encoding"] = RECIPES[st.session_state[MODEL_KEY]].encoding
    st.session_state["seq.apply"] = True


def use_dataset_controls(params: dict, dataset, valid: bool) -> None:
    """The network to use (MLP or attention), the "Use this dataset" button and the new-run option.

    The data half of the page reruns on its own (a fragment); when the session's network changes, the
    whole page runs again to draw the network's sections anew, and says what was done here then."""
    chosen_model()
    st.radio(
        "Network",
        list(RECIPES),
        format_func=lambda key: RECIPES[key].label,
        horizontal=True,
        key=MODEL_KEY,
        on_change=_on_model,
        help="Both learn the same windows: the MLP from one-hot vectors (or an embedding), attention from "
        "token ids, with each position looking at the earlier ones.",
    )
    c1, c2 = st.columns([1, 2])
    new_run = c2.checkbox("also save it as a new run", key="seq.new_run")
    pressed = c1.button("Use this dataset", type="primary", key="seq.use", disabled=not valid)
    follow = st.session_state.pop("seq.apply", False) and current_config().dataset == "sequences"
    said = st.session_state.pop(OUTCOME_KEY, [])  # what Use this dataset did, shown once
    if not valid:
        c2.caption("Fix the settings above to use them.")
    elif pressed or follow:
        said, changed = use_dataset(params, dataset, new_run and pressed)
        if changed:
            st.session_state[OUTCOME_KEY] = said
            st.rerun()
    elif is_applied(params):
        c2.caption("The session's network is built for this dataset.")
    messages_in_place(said)


def open_in_step_through(params: dict, dataset, index: int) -> None:
    """Apply the dataset if needed, hand the sample to the step-through page and go there."""
    if not is_applied(params):
        said, _ = use_dataset(params, dataset)
        if not is_applied(params):
            messages_in_place(said)
            return
    st.session_state[STEP_SAMPLE_KEY] = int(index)
    st.switch_page(page("step_through.py"))


def show_messages() -> None:
    """What the last action reported, shown once, in a place that is there on every run."""
    messages_in_place([("info", take(STOPPED_KEY)), st.session_state.pop(MESSAGE_KEY, (None, None))])


def train_controls(model, params: dict) -> None:
    """Train the active network for N epochs with a progress bar (Stop keeps what was trained); or train
    an MLP and an attention network on this data as two runs, to compare on the Compare page."""
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    epochs = int(c1.number_input("Epochs", 1, 5000, 200, step=50, key="seq.epochs", persist_state="session"))
    c2.write("")
    train = c2.button("Train", type="primary", key="seq.train")
    c3.write("")
    c3.button("Stop", key="seq.stop", help="Stops within a second; the steps done are kept.")
    c4.write("")
    both = c4.button(
        "Train MLP and attention as two runs",
        key="seq.both",
        help="Two runs of this data, one per network, trained for the epochs set here; the Compare page "
        "draws both with the Bayes ceiling.",
    )
    messages_in_place([("error", st.session_state.pop(TRAIN_ERROR_KEY, None))])
    if train:
        _train_session(model, epochs)
    elif both:
        train_both(params, epochs)


def _train_session(model, epochs: int) -> None:
    goal = model.trainer.epoch + epochs

    def describe(progress: Progress) -> str:
        loss = f" · loss {progress.loss:.4f}" if progress.loss is not None else ""
        return f"epoch {model.trainer.epoch} of {goal}{loss}"

    def stopped(progress: Progress) -> str:
        return (
            f"Stopped after {progress.summary()}; the network keeps them (epoch {model.trainer.epoch} now)."
        )

    try:
        train_active(model, epochs=epochs, describe=describe, stopped_key=STOPPED_KEY, stopped_text=stopped)
    except (TrainingDiverged, ValueError) as err:  # a busy or moved run is a ValueError too
        st.session_state[TRAIN_ERROR_KEY] = plain(err)  # a diverged training keeps its epochs before
    # The data half above the Train button, the prediction for the chosen sample with it, was drawn
    # before this training: the page runs again on the trained network, and says there what went wrong.
    st.rerun()


def train_both(params: dict, epochs: int) -> None:
    """Create a run per network on these settings, train each for ``epochs`` epochs with progress, make the
    chosen one the session's network and open the Compare page on both."""
    store = RunStore()
    created = []
    try:
        for key, recipe in RECIPES.items():
            config = RunConfig(
                dataset="sequences",
                dataset_params=network_params(params, key),
                epochs=epochs,
                **recipe.settings(),
            )
            dataset, error = try_load_dataset("sequences", config.dataset_params)
            if error:
                raise ValueError(error)
            run = store.create(store.unique_name(f"sequences-{key}"), config, dataset=dataset)
            created.append(run.name)
            per_epoch = config.build_trainer(config.build_network(dataset)).steps_per_epoch(dataset.n_train)

            def train(callback, run=run, dataset=dataset):
                train_run(run, dataset, epochs=epochs, callback=callback, owner=APP_OWNER)

            run_with_progress(
                train,
                total_steps=per_epoch * epochs,
                describe=lambda p, name=run.name: f"{name}: {p.epochs} of {epochs} epochs",
                stopped_key=STOPPED_KEY,
                stopped_text=lambda p, name=run.name: (
                    f"Stopped while training {name}, after {p.summary()}; every finished step is kept. "
                    f"Runs made: {', '.join(created)}."
                ),
            )
    except (TrainingDiverged, RunBusy, ValueError, OSError) as err:
        st.error(plain(f"Could not train both: {err}"))
        return
    mine = created[list(RECIPES).index(chosen_model())]
    run_ui.activate_run(mine)
    st.session_state["compare.runs"] = created
    st.session_state[MESSAGE_KEY] = (
        "success",
        plain(
            f"Trained {created[0]} (MLP) and {created[1]} (attention) for {epochs} epochs; {mine} is the "
            "session's network now. The Compare page draws both with the Bayes ceiling."
        ),
    )
    st.rerun()


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


def grouped_predictions(model) -> tuple:
    """One row per distinct (window, target) of the training set, in master/position order (identical
    windows get identical predictions): (probabilities, row labels "M1@0 abc→c ×18", targets)."""
    ds = model.dataset
    order = sample_order(ds.source_train, ds.position_train)
    first: dict[tuple, int] = {}
    counts: dict[tuple, int] = {}
    for i in order:
        key = (ds.windows_train[i], int(ds.y_train[i]))
        first.setdefault(key, int(i))
        counts[key] = counts.get(key, 0) + 1
    rows = list(first.values())
    probabilities = model.net.predict_proba(ds.x_train[rows])
    labels = []
    for (window, target), i in first.items():
        where = "" if ds.source_train[i] < 0 else f"M{ds.source_train[i] + 1}@{ds.position_train[i]} "
        labels.append(f"{where}{window}→{ds.classes[target]} ×{counts[(window, target)]}")
    return probabilities, labels, np.array([target for _, target in first])


def wrong_samples(model) -> list[int]:
    """Train indices the network gets wrong, in master/position order."""
    probabilities, _, targets, order = sorted_predictions(model)
    return [int(i) for i, p, t in zip(order, probabilities, targets) if p.argmax() != t]


def attention_weights(model, index: int) -> list[tuple[str, np.ndarray]]:
    """[(layer name, (heads, T, T) weights)] of each attention layer for training sample ``index``."""
    layers = [layer.name for layer in model.net.layers if isinstance(layer, SelfAttention)]
    if not layers:
        return []
    trace = model.net.forward(model.dataset.x_train[index : index + 1])
    return [(name, trace.record(name).saved["weights"][0]) for name in layers]
