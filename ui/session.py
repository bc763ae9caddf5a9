"""The session's active network: its config, data, weights and trainer, kept per user.

Pages read ``active_model()``; the sidebar changes it through ``apply_config``;
the runs page makes a stored run active with ``activate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import streamlit as st

import datasets
from backprop import Network, RunConfig, Trainer, limits
from backprop.architecture import batch_bytes

from .data import load_dataset, try_load_dataset
from .text import plain
from .widgets import show_given_values

CONFIG_KEY = "bp.config"
MODEL_KEY = "bp.model"
NOTICES_KEY = "bp.notices"
# Every widget of the setup sidebar (ui/sidebar.py) has a key with this prefix.
SIDEBAR_WIDGET_PREFIX = "sb."


@dataclass
class ActiveModel:
    """What the step-through and sequence pages show and train."""

    config: RunConfig
    net: Network
    trainer: Trainer
    initial_weights: dict
    run_name: str | None = None
    last_trace: object = None
    extra: dict = field(default_factory=dict)

    @property
    def dataset(self):
        """The config's dataset, looked up in the server's dataset cache (ui.data) at each use: a
        session keeps no data of its own, so however many sessions are open (or closed and not yet
        expired), the datasets take the cache's budget."""
        return load_dataset(self.config.dataset, self.config.dataset_params)

    @property
    def steps_done(self) -> int:
        """Steps trained so far, by every page (the trainer counts them all)."""
        return self.trainer.step


# ---------------------------------------------------------------- URL links
def config_from_query(query: dict[str, str]) -> tuple[RunConfig, list[str]]:
    """Settings from a link, checked the one way every setup is: a bad, outdated or out-of-range value
    (dataset parameters included) falls back to its default with a notice naming it and the value."""
    config, notices = RunConfig.from_query(query)
    if config.dataset not in datasets.names():
        notices.append(
            f"link setting dataset={config.dataset!r} is not a dataset; using {RunConfig().dataset}"
        )
        config = config.replace(dataset=RunConfig().dataset, dataset_params={})
    spec = datasets.spec(config.dataset)
    params, more = spec.lenient_params(config.dataset_params)
    config = config.replace(dataset_params=spec.canonical_params(params))
    notices += more
    # Images and 2-D sets are checked against their declarations, unbuilt: a link to Fashion-MNIST
    # gets its sidebar drawn (and the browser loads its widgets) while the 60,000 images are read.
    dataset = spec.declared(config.dataset_params)
    if dataset is None:
        dataset, _ = try_load_dataset(config.dataset, config.dataset_params)
    if dataset is not None:
        try:
            check_budget(config, dataset)
        except ValueError as err:  # layers that do not fit the data, or a network over the budget
            notices.append(f"link setting layers={config.layers!r}: {err}; using {RunConfig().layers!r}")
            config = config.replace(layers=RunConfig().layers)
    return config, notices


def check_budget(config: RunConfig, dataset=None, facts: dict | None = None) -> int:
    """The number of parameters config's network would have for dataset (or data with ``facts``, as a
    run stores them), worked out before anything is built; OverBudget (a ValueError saying how to go
    past it) above the app's budgets for a network's parameters and for one batch's values and
    gradients."""
    planned = config.plan(dataset, facts=facts)
    network = f"the network {config.layers or '(no hidden layers)'} on {config.dataset}"
    parameters = sum(step.parameters for step in planned)
    if parameters > limits.NETWORK_PARAMETERS.value():
        raise limits.NETWORK_PARAMETERS.exceeded(network, parameters) from None
    kept = batch_bytes(planned, config.batch_size)
    if kept > limits.BATCH_BYTES.value():
        raise limits.BATCH_BYTES.exceeded(
            f"a batch of {config.batch_size} through {network} (a smaller batch size or narrower layers fit)",
            kept,
        ) from None
    return parameters


def write_query(config: RunConfig) -> None:
    """Put the config in the URL so the address can be shared.

    The address is written once, as a whole, and only when it changes: each write is a message the
    browser answers by redrawing the app, so a change of several settings must not cost one per setting.
    """
    known = {f.name for f in fields(RunConfig)}
    now = st.query_params.to_dict()
    wanted = {key: value for key, value in now.items() if key not in known} | config.to_query()
    if wanted != now:
        st.query_params.from_dict(wanted)


# ----------------------------------------------------------------- the model
def current_config() -> RunConfig:
    """The session's config; the first call reads it from the URL."""
    if CONFIG_KEY not in st.session_state:
        config, notices = config_from_query(dict(st.query_params))
        st.session_state[CONFIG_KEY] = config
        st.session_state[NOTICES_KEY] = notices
    return st.session_state[CONFIG_KEY]


def take_notices() -> list[str]:
    """Messages about settings that were replaced by defaults (shown once)."""
    return st.session_state.pop(NOTICES_KEY, [])


def build_model(config: RunConfig, run_name: str | None = None) -> ActiveModel:
    """A fresh network and trainer for config; ValueError says what is wrong."""
    dataset, error = try_load_dataset(config.dataset, config.dataset_params)
    if error:
        raise ValueError(error)
    check_budget(config, dataset)
    net = config.build_network(dataset)
    return ActiveModel(
        config=config,
        net=net,
        trainer=config.build_trainer(net),
        initial_weights=net.get_weights(),
        run_name=run_name,
    )


def active_model() -> ActiveModel:
    """The session's model, built on first use from the current config (st.error + stop if it can't be)."""
    model = st.session_state.get(MODEL_KEY)
    if model is None:
        config = current_config()
        try:
            model = build_model(config)
        except ValueError as err:
            st.error(f"{plain(err)}. Change the setup in the sidebar.")
            st.stop()
        st.session_state[MODEL_KEY] = model
    return model


def apply_config(new: RunConfig) -> str | None:
    """Make ``new`` the session's config; rebuild the network only if the architecture changed.

    Returns a sentence for the user about what happened (None if nothing visible did).
    Raises ValueError (nothing changed) when the new config can't be built.
    """
    old = current_config()
    new = new.replace(dataset_params=datasets.spec(new.dataset).canonical_params(new.dataset_params))
    model = st.session_state.get(MODEL_KEY)
    if model is None:
        # the first page of a session builds its network: nothing changed, nothing to say
        st.session_state[MODEL_KEY] = build_model(new)
        st.session_state[CONFIG_KEY] = new
        return None
    if new == old:
        return None
    if old.architecture_changed(new):
        model = build_model(new)
        st.session_state[MODEL_KEY] = model
        st.session_state[CONFIG_KEY] = new
        return (
            f"Architecture changed: rebuilt the network ({model.net.n_parameters:,} parameters, "
            f"seed {new.seed}) with fresh initial weights."
        )
    message = None
    if old.trainer_changed(new):
        trainer = new.build_trainer(model.net)
        trainer.continue_from(model.trainer)  # the batch order and the history continue
        model.trainer = trainer
        message = "Training settings changed: the weights are kept; optimizer state starts fresh."
    elif old.learning_rate != new.learning_rate:
        model.trainer.optimizer.learning_rate = new.learning_rate
        model.trainer.base_rate = new.learning_rate
        message = f"Learning rate set to {new.learning_rate:g}; the weights are kept."
    model.config = new
    st.session_state[CONFIG_KEY] = new
    return message


def activate(
    config: RunConfig,
    net: Network,
    trainer: Trainer | None = None,
    run_name: str | None = None,
    initial_weights: dict | None = None,
) -> ActiveModel:
    """Make a given network (e.g. a stored run's) the session's active model."""
    dataset, error = try_load_dataset(config.dataset, config.dataset_params)
    if error:
        raise ValueError(error)
    model = ActiveModel(
        config=config,
        net=net,
        trainer=trainer or config.build_trainer(net),
        initial_weights=initial_weights or net.get_weights(),
        run_name=run_name,
    )
    # Where the run's files were when this session loaded them: steps trained here beyond it are saved
    # before the run trains again (ui.training.save_unsaved_steps).
    model.extra["saved_step"] = model.trainer.step
    st.session_state[MODEL_KEY] = model
    st.session_state[CONFIG_KEY] = config
    show_given_values(SIDEBAR_WIDGET_PREFIX)  # the setup sidebar shows the new config at its next draw
    return model


def reset_to_initial() -> str | None:
    """Restore the initial weights and start training over (fresh optimizer and history).

    A stored run is not reset from here (the Runs page does that, after a confirmation): the network
    stops being that run. Returns the run's name in that case, else None.
    """
    model = active_model()
    model.net.set_weights(model.initial_weights)
    model.trainer = model.config.build_trainer(model.net)
    model.last_trace = None
    detached, model.run_name = model.run_name, None
    model.extra.pop("saved_step", None)
    return detached
