"""The setup sidebar shared by the pages: dataset, layers and training, each control drawn from its declaration."""

from __future__ import annotations

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
    sidebar_key,
    take_notices,
    write_query,
)
from .text import plain
from .widgets import given_values_shown, option_widget, seed

# Whether the sidebar's collapsed sections are open: their contents are drawn only then.
PARAMS_OPEN_KEY = "sidebar.params_open"  # one per dataset: "sidebar.params_open.<name>"
SUMMARY_OPEN_KEY = "sidebar.summary_open"


def dataset_controls(config: RunConfig, errors: list[str]) -> tuple[str, dict]:
    """The dataset and its declared parameters (those that name server files are not shown)."""
    names = datasets.names()
    seed(sidebar_key("dataset"), config.dataset if config.dataset in names else names[0], names)
    name = st.selectbox(
        "Dataset",
        names,
        key=sidebar_key("dataset"),
        format_func=lambda n: f"{n} · {datasets.spec(n).kind}",
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
        "Dataset parameters", expanded=name == "sequences", key=f"{PARAMS_OPEN_KEY}.{name}", on_change="rerun"
    )
    for option in editable:
        given = current.get(option.name, option.default)
        try:
            if box.open:
                with box:
                    value = option_widget(option, given, sidebar_key(f"ds.{name}.{option.name}"))
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


def _use_example() -> None:
    st.session_state[sidebar_key("layers")] = st.session_state[sidebar_key("example")]


def layer_controls(config: RunConfig, dataset_name: str, dataset_params: dict, errors: list[str]) -> dict:
    """The layers as text, examples to start from, and what they build (shapes and parameter counts)."""
    examples = EXAMPLES[_input_kind(dataset_name, dataset_params)]
    specs = [spec for _, spec in examples]
    seed(sidebar_key("example"), None, [None, *specs])
    st.selectbox(
        "Start from an example",
        specs,
        key=sidebar_key("example"),
        placeholder="choose an architecture…",
        on_change=_use_example,
        format_func=lambda spec: next(label for label, s in examples if s == spec) + f" · {spec or 'none'}",
    )
    values = {}
    try:
        values["layers"] = option_widget(LAYERS, config.layers, sidebar_key("layers"))
    except ValueError as err:
        errors.append(str(err))
    for option in (LOSS, INIT):
        labels = LOSSES if option is LOSS else INITIALIZERS
        values[option.name] = option_widget(
            option,
            getattr(config, option.name),
            sidebar_key(option.name),
            format_func=lambda name, labels=labels: labels[name].label,
        )
    if values["init"] == "normal":
        values["init_std"] = option_widget(INIT_STD, config.init_std, sidebar_key("init_std"))
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


def training_controls(config: RunConfig, errors: list[str], images: bool = False) -> dict:
    """Optimizer and its own options, rate, batch, regularisation (and, for images, augmentation),
    schedule, epochs and seed."""
    values = {}

    def widget(option, current, key, **kw):
        try:
            return option_widget(option, current, key, **kw)
        except ValueError as err:
            errors.append(str(err))
            return current

    values["optimizer"] = widget(
        OPTIMIZER, config.optimizer, sidebar_key("optimizer"), format_func=lambda name: OPTIMIZERS[name].label
    )
    declared = OPTIMIZERS[values["optimizer"]]
    current = declared.check_options(
        config.optimizer_options if values["optimizer"] == config.optimizer else {}, "optimizer"
    )
    with st.container():  # one place whatever the optimizer's options: the controls below keep theirs
        options = {
            o.name: widget(o, current[o.name], sidebar_key(f"opt.{declared.name}.{o.name}"))
            for o in declared.options
        }
    values["optimizer_options"] = {k: v for k, v in options.items() if v != declared.option(k).default}
    for option in (LEARNING_RATE, BATCH_SIZE, WEIGHT_DECAY, CLIP_NORM):
        values[option.name] = widget(option, getattr(config, option.name), sidebar_key(option.name))
    # moving the samples only means something for pictures
    with st.container():
        values[AUGMENT_SHIFT.name] = (
            widget(AUGMENT_SHIFT, config.augment_shift, sidebar_key("augment_shift"))
            if images
            else AUGMENT_SHIFT.default
        )
    now = (config.schedule or {}).get("schedule", "constant")
    chosen = widget(SCHEDULE, now, sidebar_key("schedule"), format_func=lambda name: SCHEDULES[name].label)
    declared = SCHEDULES[chosen]
    given = {k: v for k, v in (config.schedule or {}).items() if k != "schedule"} if chosen == now else {}
    current = declared.check_options(given, "schedule")
    with st.container():
        schedule = {
            o.name: widget(o, current[o.name], sidebar_key(f"sched.{chosen}.{o.name}"))
            for o in declared.options
        }
    values["schedule"] = None if chosen == "constant" else {"schedule": chosen, **schedule}
    # how many epochs to train is chosen where training starts (the Runs page), not here
    for option in (EARLY_STOPPING, SEED):
        values[option.name] = widget(option, getattr(config, option.name), sidebar_key(option.name))
    return values


def config_sidebar() -> RunConfig:
    """Render the setup in the sidebar, apply changes to the session, return the current config."""
    config = current_config()
    messages_in_place(("warning", plain(notice)) for notice in take_notices())  # a link's replaced settings
    with st.sidebar:
        st.subheader("Setup")
        errors: list[str] = []
        dataset, dataset_params = dataset_controls(config, errors)
        if dataset != config.dataset and sidebar_key("loss") in st.session_state:
            # a new kind of data brings its natural loss; the user can still change it
            regression = datasets.spec(dataset).kind == "regression"
            st.session_state[sidebar_key("loss")] = "mse" if regression else "cross_entropy"
        with st.expander("Network", expanded=True):
            network = layer_controls(config, dataset, dataset_params, errors)
        with st.expander("Training", expanded=True):
            training = training_controls(config, errors, images=datasets.spec(dataset).kind == "image")
        given_values_shown(SIDEBAR_WIDGET_PREFIX)  # every control is drawn: a new setup is on screen
        if errors:
            for error in errors:
                st.error(plain(error))
            return config
        try:
            new = config.replace(dataset=dataset, dataset_params=dataset_params, **network, **training)
            message = apply_config(new)
        except ValueError as err:
            st.error(plain(err))
            return config
        summary = st.expander("Layers and parameters", key=SUMMARY_OPEN_KEY, on_change="rerun")
        if summary.open:  # planned only while it is read
            with summary:
                network_summary(new)
        if message:
            st.info(plain(message))
        write_query(new)
        return new


__all__ = ["ACTIVATIONS", "TRAINER_FIELDS", "config_sidebar"]
