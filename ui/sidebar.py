"""The setup controls: dataset, layers and training, each control drawn from its declaration.

Drawn in the sidebar, where they are the session's network (Step through), and in the Runs page's New run
form, where they are a draft for a run to create; each place keeps its controls' state under its own keys.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import streamlit as st

import datasets
from backprop import ACTIVATIONS, LOSSES, OPTIMIZERS, SCHEDULES, RunConfig, limits
from backprop.architecture import EXAMPLES, batch_bytes
from backprop.augment import AUGMENT_SHIFT
from backprop.config import BATCH_SIZE, INIT, LAYERS, LOSS, OPTIMIZER, SCHEDULE, SEED, TRAINER_FIELDS
from backprop.layers import INIT_STD, INITIALIZERS
from backprop.optimizers import CLIP_NORM, LEARNING_RATE, WEIGHT_DECAY
from backprop.schedules import EARLY_STOPPING

from .data import try_load_dataset
from .places import messages_in_place
from .session import (
    SIDEBAR_WIDGET_PREFIX,
    apply_config,
    current_config,
    take_notices,
    write_query,
)
from .text import plain
from .widgets import given_values_shown, option_widget, seed


@dataclass(frozen=True)
class SetupKeys:
    """Where one place of setup controls keeps its state.

    prefix: the controls' keys start with it. state: the keys of the rest start with it (which collapsed
    section is open, the dataset shown last). persist_state: Streamlit's; "session" keeps what was set
    while the controls are not drawn (a closed section, another page), as a draft must.
    """

    prefix: str
    state: str
    persist_state: str | None

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def params_open(self, dataset: str) -> str:
        """Whether the parameters of ``dataset`` are open: their controls are drawn only then."""
        return f"{self.state}.params_open.{dataset}"

    @property
    def summary_open(self) -> str:
        return f"{self.state}.summary_open"

    @property
    def last_dataset(self) -> str:
        return f"{self.state}.last_dataset"


# The session's network, in the sidebar: applied as it changes, shown again when a run is opened.
SIDEBAR = SetupKeys(SIDEBAR_WIDGET_PREFIX, "sidebar", persist_state=None)


def dataset_controls(config: RunConfig, errors: list[str], keys: SetupKeys) -> tuple[str, dict]:
    """The dataset and its declared parameters (those that name server files are not shown)."""
    names = datasets.names()
    seed(keys.key("dataset"), config.dataset if config.dataset in names else names[0], names)
    name = st.selectbox(
        "Dataset",
        names,
        key=keys.key("dataset"),
        format_func=lambda n: f"{n} · {datasets.spec(n).kind}",
        persist_state=keys.persist_state,
    )
    spec = datasets.spec(name)
    st.caption(spec.description)
    ok, reason = datasets.availability(name)
    messages_in_place([("warning", None if ok else reason)])
    current = config.dataset_params if name == config.dataset else {}
    params = {}
    editable = [option for option in spec.options if option.name not in spec.server_only]
    if not editable:
        return name, params
    # Drawn only while open: closed, the parameters are the setup's own, and a run with other data
    # (another run picked) adds and removes no hidden controls.
    box = st.expander(
        "Dataset parameters", expanded=name == "sequences", key=keys.params_open(name), on_change="rerun"
    )
    for option in editable:
        given = current.get(option.name, option.default)
        try:
            if box.open:
                with box:
                    value = option_widget(
                        option, given, keys.key(f"ds.{name}.{option.name}"), persist_state=keys.persist_state
                    )
            else:
                value = option.check(given)
        except ValueError as err:
            errors.append(f"{name}: {err}")
            value = given
        if value != option.check(option.default):
            params[option.name] = value
    return name, params


def _input_kind(dataset_name: str, params: dict) -> str:
    spec = datasets.spec(dataset_name)
    if spec.kind == "image":
        return "images"
    if spec.kind == "sequence" and params.get("encoding", spec.params.get("encoding")) == "embedding":
        return "tokens"
    return "features"


def _use_example(keys: SetupKeys) -> None:
    st.session_state[keys.key("layers")] = st.session_state[keys.key("example")]


def _natural_loss(dataset_name: str, keys: SetupKeys) -> None:
    """A new kind of data brings its natural loss (the user can still change it): set when the dataset
    shown differs from the one shown last."""
    last = st.session_state.get(keys.last_dataset, dataset_name)
    st.session_state[keys.last_dataset] = dataset_name
    if dataset_name != last and keys.key("loss") in st.session_state:
        regression = datasets.spec(dataset_name).kind == "regression"
        st.session_state[keys.key("loss")] = "mse" if regression else "cross_entropy"


def layer_controls(
    config: RunConfig, dataset_name: str, dataset_params: dict, errors: list[str], keys: SetupKeys
) -> dict:
    """The layers as text, examples to start from, and what they build (shapes and parameter counts)."""
    examples = EXAMPLES[_input_kind(dataset_name, dataset_params)]
    specs = [spec for _, spec in examples]
    seed(keys.key("example"), None, [None, *specs])
    st.selectbox(
        "Start from an example",
        specs,
        key=keys.key("example"),
        placeholder="choose an architecture…",
        on_change=_use_example,
        args=(keys,),
        format_func=lambda spec: next(label for label, s in examples if s == spec) + f" · {spec or 'none'}",
        persist_state=keys.persist_state,
    )
    values = {}
    try:
        values["layers"] = option_widget(
            LAYERS, config.layers, keys.key("layers"), persist_state=keys.persist_state
        )
    except ValueError as err:
        errors.append(str(err))
    for option in (LOSS, INIT):
        labels = LOSSES if option is LOSS else INITIALIZERS
        values[option.name] = option_widget(
            option,
            getattr(config, option.name),
            keys.key(option.name),
            format_func=lambda name, labels=labels: labels[name].label,
            persist_state=keys.persist_state,
        )
    if values["init"] == "normal":
        values["init_std"] = option_widget(
            INIT_STD, config.init_std, keys.key("init_std"), persist_state=keys.persist_state
        )
    return values


def network_summary(config: RunConfig) -> None:
    """One line per layer: its word, output shape and parameters, from the plan (nothing is built)."""
    dataset, error = try_load_dataset(config.dataset, config.dataset_params)
    if error:
        return
    try:
        steps = config.plan(dataset)
    except ValueError as err:
        st.error(plain(err))
        return
    lines = [
        f"{step.word or 'input':<16} {'×'.join(map(str, step.output_shape)):>10} {step.parameters:>10,}"
        for step in steps
    ]
    kept = limits.describe_bytes(batch_bytes(steps, config.batch_size))
    st.caption(
        f"{len(steps)} layers · {sum(step.parameters for step in steps):,} parameters · "
        f"a batch of {config.batch_size} keeps {kept} of values and gradients"
    )
    # monospaced text, not st.code: a code block makes every page load the syntax highlighter (1.5 MB)
    st.text("\n".join(lines))


def training_controls(config: RunConfig, errors: list[str], keys: SetupKeys, images: bool = False) -> dict:
    """Optimizer and its own options, rate, batch, regularisation (and, for images, augmentation),
    schedule, epochs and seed."""
    values = {}

    def widget(option, current, name, **kw):
        try:
            return option_widget(option, current, keys.key(name), persist_state=keys.persist_state, **kw)
        except ValueError as err:
            errors.append(str(err))
            return current

    values["optimizer"] = widget(
        OPTIMIZER, config.optimizer, "optimizer", format_func=lambda name: OPTIMIZERS[name].label
    )
    declared = OPTIMIZERS[values["optimizer"]]
    current = declared.check_options(
        config.optimizer_options if values["optimizer"] == config.optimizer else {}, "optimizer"
    )
    with st.container():  # one place whatever the optimizer's options: the controls below keep theirs
        options = {
            o.name: widget(o, current[o.name], f"opt.{declared.name}.{o.name}") for o in declared.options
        }
    values["optimizer_options"] = {k: v for k, v in options.items() if v != declared.option(k).default}
    for option in (LEARNING_RATE, BATCH_SIZE, WEIGHT_DECAY, CLIP_NORM):
        values[option.name] = widget(option, getattr(config, option.name), option.name)
    # moving the samples only means something for pictures
    with st.container():
        values[AUGMENT_SHIFT.name] = (
            widget(AUGMENT_SHIFT, config.augment_shift, "augment_shift") if images else AUGMENT_SHIFT.default
        )
    now = (config.schedule or {}).get("schedule", "constant")
    chosen = widget(SCHEDULE, now, "schedule", format_func=lambda name: SCHEDULES[name].label)
    declared = SCHEDULES[chosen]
    given = {k: v for k, v in (config.schedule or {}).items() if k != "schedule"} if chosen == now else {}
    current = declared.check_options(given, "schedule")
    with st.container():
        schedule = {o.name: widget(o, current[o.name], f"sched.{chosen}.{o.name}") for o in declared.options}
    values["schedule"] = None if chosen == "constant" else {"schedule": chosen, **schedule}
    # how many epochs to train is chosen where training starts (the Runs page), not here
    for option in (EARLY_STOPPING, SEED):
        values[option.name] = widget(option, getattr(config, option.name), option.name)
    return values


def setup_controls(
    config: RunConfig,
    keys: SetupKeys,
    network_place: Callable[[], AbstractContextManager],
    training_place: Callable[[], AbstractContextManager],
) -> RunConfig | None:
    """The dataset's controls where called, then the network's and the training's in the places the two
    callables make. Each control shows ``config`` unless it holds a value of its own. Returns the setup the
    controls show, or None after showing (in Markdown-free text) what is wrong with it."""
    errors: list[str] = []
    dataset, dataset_params = dataset_controls(config, errors, keys)
    _natural_loss(dataset, keys)
    with network_place():
        network = layer_controls(config, dataset, dataset_params, errors, keys)
    with training_place():
        images = datasets.spec(dataset).kind == "image"
        training = training_controls(config, errors, keys, images=images)
    given_values_shown(keys.prefix)  # every control is drawn: a new setup is on screen
    for error in errors:
        st.error(plain(error))
    if errors:
        return None
    try:
        return config.replace(dataset=dataset, dataset_params=dataset_params, **network, **training)
    except ValueError as err:
        st.error(plain(err))
        return None


def link_notices() -> RunConfig:
    """The session's setup (read from the link on a session's first page), and a warning for each
    setting of the link that was replaced by its default."""
    config = current_config()
    messages_in_place(("warning", plain(notice)) for notice in take_notices())
    return config


def config_sidebar() -> RunConfig:
    """Render the setup in the sidebar, apply changes to the session, return the current config."""
    config = link_notices()
    with st.sidebar:
        st.subheader("Setup")
        new = setup_controls(
            config,
            SIDEBAR,
            lambda: st.expander("Network", expanded=True),
            lambda: st.expander("Training", expanded=True),
        )
        if new is None:
            return config
        try:
            message = apply_config(new)
        except ValueError as err:
            st.error(plain(err))
            return config
        summary = st.expander("Layers and parameters", key=SIDEBAR.summary_open, on_change="rerun")
        if summary.open:  # planned only while it is read
            with summary:
                network_summary(new)
        if message:
            st.info(plain(message))
        write_query(new)
        return new


__all__ = ["ACTIVATIONS", "TRAINER_FIELDS", "config_sidebar"]
