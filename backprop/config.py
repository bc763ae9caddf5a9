"""One experiment's settings: dataset choice, architecture and training hyperparameters.

The same ``RunConfig`` drives the app's sidebar, a run folder's config.json, the
command line and the shareable URL. It is plain data (JSON round trip) and
builds the network and trainer for a dataset object; it never imports the
datasets package (a dataset is passed in: anything with ``n_features``,
``n_outputs``, ``is_classification``, ``kind`` and, for sequences,
``vocab`` and ``encoding``).
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from .activations import ACTIVATIONS
from .layers import INITS
from .losses import LOSSES
from .network import Network
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES, EarlyStopping, make_schedule
from .training import Trainer

ARCHITECTURE_FIELDS = (
    "dataset",
    "dataset_params",
    "hidden",
    "activation",
    "loss",
    "init",
    "init_std",
    "seed",
    "dropout",
    "batch_norm",
    "embedding_dim",
)


@dataclass
class RunConfig:
    """Everything needed to rebuild a network, its data and its training.

    dataset / dataset_params: a registry name of the datasets package and the
      parameters given to ``datasets.load`` (defaults fill the rest).
    hidden: hidden layer sizes; activation: one name or one per hidden layer.
    dropout / batch_norm: one value for every hidden layer, or one per layer.
    embedding_dim: table width used when the dataset gives token ids.
    schedule: None or {"schedule": "step"|"cosine"|"plateau", ...options}.
    early_stopping: None or a patience in epochs (monitoring val_loss).
    """

    dataset: str = "circle"
    dataset_params: dict = field(default_factory=dict)
    hidden: list = field(default_factory=lambda: [8, 8])
    activation: Any = "gelu"
    loss: str = "cross_entropy"
    init: str = "xavier"
    init_std: float = 0.01
    optimizer: str = "adam"
    learning_rate: float = 0.03
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    clip_norm: float | None = None
    batch_size: int = 32
    epochs: int = 20
    seed: int = 0
    dropout: Any = 0.0
    batch_norm: Any = False
    embedding_dim: int = 8
    schedule: dict | None = None
    early_stopping: int | None = None

    # ------------------------------------------------------------ validation
    def __post_init__(self):
        self.validate()

    def validate(self) -> RunConfig:
        """Raise ValueError naming the first bad setting; returns self."""
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ValueError(f"dataset must be a registry name, got {self.dataset!r}")
        if not isinstance(self.dataset_params, dict):
            raise ValueError(f"dataset_params must be a dict, got {self.dataset_params!r}")
        hidden = list(self.hidden) if isinstance(self.hidden, (list, tuple)) else None
        if hidden is None or not all(_is_int(h) and h >= 1 for h in hidden):
            raise ValueError(f"hidden sizes must be positive integers, got {self.hidden!r}")
        self.hidden = [int(h) for h in hidden]
        for name in _as_list(self.activation):
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
        if isinstance(self.activation, (list, tuple)) and len(self.activation) != len(self.hidden):
            raise ValueError(f"{len(self.activation)} activations for {len(self.hidden)} hidden layers")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.init not in INITS:
            raise ValueError(f"unknown init {self.init!r}; choose one of {', '.join(INITS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        _check_positive("learning rate", self.learning_rate)
        _check_positive("init_std", self.init_std)
        _check_positive("weight decay", self.weight_decay, allow_zero=True)
        if self.clip_norm is not None:
            _check_positive("clip norm", self.clip_norm)
        if not (isinstance(self.momentum, numbers.Real) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        for label, value in (
            ("batch size", self.batch_size),
            ("epochs", self.epochs),
            ("embedding_dim", self.embedding_dim),
        ):
            if not (_is_int(value) and value >= 1):
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        if not (_is_int(self.seed) and self.seed >= 0):
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        for rate in _as_list(self.dropout):
            if not (isinstance(rate, numbers.Real) and 0 <= rate < 1):
                raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        for label, value in (("dropout", self.dropout), ("batch_norm", self.batch_norm)):
            if isinstance(value, (list, tuple)) and len(value) != len(self.hidden):
                raise ValueError(f"{len(value)} {label} values for {len(self.hidden)} hidden layers")
        if self.schedule is not None:
            make_schedule(self.schedule)
            if isinstance(self.schedule, str):
                self.schedule = {"schedule": self.schedule}
            if self.schedule.get("schedule") not in SCHEDULES:
                raise ValueError(f"unknown schedule {self.schedule!r}")
        if self.early_stopping is not None and not (
            _is_int(self.early_stopping) and self.early_stopping >= 1
        ):
            raise ValueError(
                f"early-stopping patience must be a positive integer, got {self.early_stopping!r}"
            )
        return self

    # ----------------------------------------------------------- round trip
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Strict: unknown keys or bad values raise ValueError."""
        if not isinstance(data, dict):
            raise ValueError(f"a run configuration must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys {unknown}; known keys: {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_dict_lenient(cls, data: dict) -> tuple[RunConfig, list[str]]:
        """Keep every valid setting, replace bad or unknown ones by defaults; returns notices."""
        notices: list[str] = []
        config = cls()
        known = {f.name for f in fields(cls)}
        for key, value in (data or {}).items():
            if key not in known:
                notices.append(f"ignored unknown setting {key!r}")
                continue
            trial = asdict(config)
            trial[key] = value
            try:
                config = cls(**trial)
            except (ValueError, TypeError) as err:
                notices.append(f"{key}={value!r} is not valid ({err}); using {getattr(config, key)!r}")
        return config, notices

    def replace(self, **changes) -> RunConfig:
        """A validated copy with some settings changed."""
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"unknown configuration keys {unknown}")
        return type(self)(**{**asdict(self), **changes})

    def differences(self, other: RunConfig) -> list[str]:
        """Names of the settings whose values differ."""
        mine, theirs = asdict(self), asdict(other)
        return [k for k in mine if mine[k] != theirs[k]]

    def architecture_changed(self, other: RunConfig) -> bool:
        """True when switching to ``other`` needs a new network (not just new training settings)."""
        return any(getattr(self, k) != getattr(other, k) for k in ARCHITECTURE_FIELDS)

    # --------------------------------------------------------------- builders
    def check_dataset(self, dataset) -> None:
        if not dataset.is_classification and self.loss == "cross_entropy":
            raise ValueError(f"{dataset.name} is a regression dataset: use the mse loss, not cross_entropy")

    def uses_embedding(self, dataset) -> bool:
        return getattr(dataset, "encoding", None) == "embedding"

    def build_network(self, dataset, dtype: str = "float32") -> Network:
        """The network for ``dataset``: inputs from its features, outputs from its classes."""
        self.check_dataset(dataset)
        embedding = (len(dataset.vocab), self.embedding_dim) if self.uses_embedding(dataset) else None
        return Network(
            [dataset.n_features, *self.hidden, dataset.n_outputs],
            activation=self.activation,
            loss=self.loss,
            init=self.init,
            init_std=self.init_std,
            seed=self.seed,
            dtype=dtype,
            batch_norm=self.batch_norm,
            dropout=self.dropout,
            embedding=embedding,
        )

    def optimizer_options(self) -> dict:
        options = {"weight_decay": self.weight_decay, "clip_norm": self.clip_norm}
        if self.optimizer == "momentum":
            options.update(momentum=self.momentum, nesterov=self.nesterov)
        return options

    def build_trainer(self, net: Network) -> Trainer:
        early = EarlyStopping(patience=self.early_stopping) if self.early_stopping else None
        return Trainer(
            net,
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            schedule=self.schedule,
            early_stopping=early,
            seed=self.seed,
            **self.optimizer_options(),
        )

    def targets(self, dataset, y: np.ndarray) -> np.ndarray:
        """Targets as the loss reads them: one-hot rows for an mse classifier, else unchanged."""
        if dataset.is_classification and self.loss == "mse":
            return np.eye(dataset.n_outputs, dtype=np.float32)[y]
        return y

    def describe(self) -> str:
        """A short one-line summary, e.g. ``circle · 8-8 gelu · adam lr 0.03 · batch 32``."""
        acts = self.activation if isinstance(self.activation, str) else "/".join(self.activation)
        extras = []
        if any(_as_list(self.batch_norm)):
            extras.append("batch-norm")
        if any(r > 0 for r in _as_list(self.dropout)):
            extras.append(f"dropout {self.dropout}")
        if self.weight_decay:
            extras.append(f"L2 {self.weight_decay:g}")
        hidden = "-".join(map(str, self.hidden)) or "no hidden"
        return " · ".join(
            [
                self.dataset,
                f"{hidden} {acts}",
                f"{self.optimizer} lr {self.learning_rate:g}",
                f"batch {self.batch_size}",
                f"seed {self.seed}",
                *extras,
            ]
        )


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_positive(label: str, value, allow_zero: bool = False) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{label} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {value!r}")
