"""The setup sidebar shared by the pages: dataset, architecture and training settings."""

from __future__ import annotations

import streamlit as st

import datasets
from backprop import ACTIVATIONS, INITS, LOSSES, OPTIMIZERS, RunConfig

from .session import apply_config, current_config, take_notices, write_query

# Activations in menu order: the two the step-through is built around first.
ACTIVATION_ORDER = ["gelu", "relu"] + [a for a in ACTIVATIONS if a not in ("gelu", "relu")]
# Text parameters of datasets whose valid values are a fixed list.
PARAM_CHOICES = {
    "task": ("next_token", "classification"),
    "encoding": ("one_hot", "embedding"),
    "source": ("auto", "explicit", "random"),
    "curve": ("sine", "abs", "step"),
    "color": ("grayscale", "rgb"),
}
# Parameters the sidebar leaves at their defaults (too large to edit here, or set elsewhere).
HIDDEN_PARAMS = {"seed"}


def parse_int_list(text: str, label: str) -> list[int]:
    """'8, 8' -> [8, 8]; ValueError naming the bad entry otherwise."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ValueError(
            f"{label}: write whole numbers separated by commas, e.g. 8, 8 (got {text!r})"
        ) from None
    if any(v < 1 for v in values):
        raise ValueError(f"{label}: every size must be at least 1 (got {text!r})")
    if any(v > 4096 for v in values):
        raise ValueError(f"{label}: keep layers at 4096 units or fewer (got {text!r})")
    return values


def parse_name_list(text: str, n: int, choices, label: str) -> list[str] | str:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in parts if p not in choices]
    if bad:
        raise ValueError(f"{label}: unknown {', '.join(map(repr, bad))}; choose from {', '.join(choices)}")
    if len(parts) == 1:
        return parts[0]
    if len(parts) != n:
        raise ValueError(f"{label}: give one name or one per hidden layer ({n}), got {len(parts)}")
    return parts


def _param_widget(dataset: str, name: str, default, current):
    """One dataset parameter's control; returns the chosen value."""
    key = f"sb.ds.{dataset}.{name}"
    value = current if current is not None else default
    label = name.replace("_", " ")
    if name in PARAM_CHOICES:
        options = list(PARAM_CHOICES[name])
        index = options.index(value) if value in options else 0
        return st.selectbox(label, options, index=index, key=key)
    if isinstance(default, bool):
        return st.checkbox(label, value=bool(value), key=key)
    if isinstance(default, int) and not isinstance(value, (list, tuple)):
        return int(st.number_input(label, value=int(value), step=1, key=key))
    if isinstance(default, float):
        return float(st.number_input(label, value=float(value), key=key, format="%g"))
    if isinstance(value, (list, tuple)):
        text = st.text_input(label, value=", ".join(map(str, value)), key=key)
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if parts and all(p.isdigit() for p in parts):  # e.g. a (min, max) length range
            parts = [int(p) for p in parts]
        return parts or default
    text = st.text_input(
        label, value="" if value is None else str(value), key=key, help="Leave empty for the default."
    )
    return text.strip() or None


def dataset_controls(config: RunConfig) -> tuple[str, dict]:
    names = datasets.names()
    index = names.index(config.dataset) if config.dataset in names else 0
    name = st.selectbox(
        "Dataset",
        names,
        index=index,
        key="sb.dataset",
        format_func=lambda n: f"{n} · {datasets.spec(n).kind}",
    )
    spec = datasets.spec(name)
    st.caption(spec.description)
    ok, reason = datasets.availability(name)
    if not ok:
        st.warning(reason)
    current = config.dataset_params if name == config.dataset else {}
    params = {}
    editable = {param: default for param, default in spec.params.items() if param not in HIDDEN_PARAMS}
    if editable:  # a dataset with nothing to set (e.g. mnist's fixed split) gets no empty expander
        with st.expander("Dataset parameters", expanded=name in ("sequences", "folder")):
            for param, default in editable.items():
                value = _param_widget(name, param, default, current.get(param))
                if value != default and not (isinstance(default, tuple) and list(default) == value):
                    params[param] = value
    # Not editable here, but kept: another page (e.g. Sequences) may have set them.
    params.update({p: current[p] for p in HIDDEN_PARAMS if p in current})
    return name, params


def config_sidebar() -> RunConfig:
    """Render the setup in the sidebar, apply changes to the session, return the current config."""
    config = current_config()
    for notice in take_notices():
        st.warning(notice)
    with st.sidebar:
        st.subheader("Setup")
        dataset, dataset_params = dataset_controls(config)
        errors: list[str] = []
        with st.expander("Network", expanded=True):
            hidden_text = st.text_input(
                "Hidden layer sizes",
                ", ".join(map(str, config.hidden)),
                key="sb.hidden",
                help="Comma separated, e.g. 16, 8. Empty: no hidden layer.",
            )
            try:
                hidden = parse_int_list(hidden_text, "Hidden layer sizes")
            except ValueError as err:
                errors.append(str(err))
                hidden = config.hidden
            per_layer = st.toggle(
                "Activation per layer", value=not isinstance(config.activation, str), key="sb.per_layer"
            )
            if per_layer:
                default = (
                    config.activation if isinstance(config.activation, str) else ", ".join(config.activation)
                )
                text = st.text_input("Activations (comma separated)", default, key="sb.activations")
                try:
                    activation = parse_name_list(text, len(hidden), ACTIVATION_ORDER, "Activations")
                except ValueError as err:
                    errors.append(str(err))
                    activation = config.activation
            else:
                current_act = (
                    config.activation if isinstance(config.activation, str) else config.activation[0]
                )
                activation = st.selectbox(
                    "Activation",
                    ACTIVATION_ORDER,
                    index=ACTIVATION_ORDER.index(current_act),
                    key="sb.activation",
                    format_func=lambda a: ACTIVATIONS[a].label,
                )
            losses = list(LOSSES)
            if dataset != config.dataset:
                # A new kind of data brings its natural loss; the user can still change it.
                regression = datasets.spec(dataset).kind == "regression"
                st.session_state["sb.loss"] = "mse" if regression else "cross_entropy"
            placed = {} if "sb.loss" in st.session_state else {"index": losses.index(config.loss)}
            loss = st.selectbox(
                "Loss", losses, key="sb.loss", **placed, format_func=lambda name: LOSSES[name].label
            )
            init = st.selectbox("Init", INITS, index=INITS.index(config.init), key="sb.init")
            dropout_now = config.dropout if not isinstance(config.dropout, list) else max(config.dropout)
            dropout = st.slider("Dropout", 0.0, 0.9, float(dropout_now), 0.05, key="sb.dropout")
            batch_norm = st.checkbox(
                "Batch norm",
                value=bool(
                    config.batch_norm if not isinstance(config.batch_norm, list) else any(config.batch_norm)
                ),
                key="sb.batch_norm",
            )
        with st.expander("Training", expanded=True):
            optimizers = list(OPTIMIZERS)
            optimizer = st.selectbox(
                "Optimizer", optimizers, index=optimizers.index(config.optimizer), key="sb.optimizer"
            )
            learning_rate = st.number_input(
                "Learning rate",
                min_value=0.0,
                max_value=1e4,
                value=float(config.learning_rate),
                format="%g",
                step=None,
                key="sb.lr",
            )
            momentum, nesterov = config.momentum, config.nesterov
            if optimizer == "momentum":
                momentum = st.slider("Momentum", 0.0, 0.99, float(config.momentum), 0.01, key="sb.momentum")
                nesterov = st.checkbox("Nesterov", value=config.nesterov, key="sb.nesterov")
            batch_size = int(st.number_input("Batch size", 1, 4096, int(config.batch_size), key="sb.batch"))
            weight_decay = st.number_input(
                "Weight decay λ (L2)", 0.0, 10.0, float(config.weight_decay), format="%g", key="sb.l2"
            )
            clip = st.number_input(
                "Clip gradient norm (0 = off)",
                0.0,
                1e6,
                float(config.clip_norm or 0.0),
                format="%g",
                key="sb.clip",
            )
            seed = int(st.number_input("Seed", 0, 2**31 - 1, int(config.seed), key="sb.seed"))
        if learning_rate <= 0:
            errors.append("Learning rate must be greater than 0.")
        if errors:
            for error in errors:
                st.error(error)
            return config
        try:
            new = config.replace(
                dataset=dataset,
                dataset_params=dataset_params,
                hidden=hidden,
                activation=activation,
                loss=loss,
                init=init,
                dropout=float(dropout),
                batch_norm=bool(batch_norm),
                optimizer=optimizer,
                learning_rate=float(learning_rate),
                momentum=float(momentum),
                nesterov=bool(nesterov),
                batch_size=batch_size,
                weight_decay=float(weight_decay),
                clip_norm=float(clip) if clip > 0 else None,
                seed=seed,
            )
            message = apply_config(new)
        except ValueError as err:
            st.error(f"{err}")
            return config
        if message:
            st.info(message)
        write_query(new)
        return new
