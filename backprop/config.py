"""One experiment's settings: dataset, architecture and training, declared once and checked one way.

``RunConfig`` is what the sidebar edits, a run folder's config.json stores, the
command line builds and a link carries. Each field is an ``Option`` (name, kind,
range, default, label, help) in ``OPTIONS``; the optimizer's and the schedule's own
settings are declared beside them (``backprop.optimizers``, ``backprop.schedules``).
Every way a setup arrives goes through ``RunConfig.from_dict`` (strict: the first bad
value raises ValueError naming it) or ``RunConfig.lenient`` (each bad value falls
back to its default with a notice naming the setting and the value).

The engine never imports the datasets package: a dataset is passed in (anything
with ``input_shape``, ``n_outputs``, ``is_classification``, ``kind`` and, for
sequences, ``vocab`` and ``encoding``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .architecture import Planned, check_spec, mlp_spec, plan
from .augment import AUGMENT_SHIFT
from .layers import INIT_STD, INITS
from .losses import LOSSES
from .network import SEED, Network, first_layer_shape
from .optimizers import CLIP_NORM, LEARNING_RATE, OPTIMIZERS, WEIGHT_DECAY
from .options import Option
from .schedules import EARLY_STOPPING, SCHEDULES, EarlyStopping
from .training import Trainer

# A sequence network given token ids starts with this embedding unless its layers say otherwise.
DEFAULT_EMBEDDING = "embed8-flatten"

DATASET = Option(
    "dataset", "text", "circle", label="Dataset", max_length=64, help="A name from the dataset registry."
)
LAYERS = Option(
    "layers",
    "text",
    "dense8-gelu-dense8-gelu",
    label="Layers",
    max_length=400,
    help="The layers joined by '-', e.g. dense64-relu or conv8k3-relu-maxpool2-flatten; "
    "the output layer is added for the data.",
)
LOSS = Option(
    "loss",
    "choice",
    "cross_entropy",
    label="Loss",
    choices=tuple(LOSSES),
    help="cross_entropy for classes, mse for numbers.",
)
INIT = Option(
    "init", "choice", "xavier", label="Init", choices=INITS, help="How the initial weights are drawn."
)
OPTIMIZER = Option(
    "optimizer", "choice", "adam", label="Optimizer", choices=tuple(OPTIMIZERS), help="The update rule."
)
BATCH_SIZE = Option(
    "batch_size",
    "int",
    32,
    label="Batch size",
    low=1,
    high=4096,
    help="Samples per step; their gradients are averaged.",
)
EPOCHS = Option(
    "epochs", "int", 20, label="Epochs", low=1, high=10_000, help="Passes over the training data."
)
SCHEDULE = Option(
    "schedule",
    "choice",
    "constant",
    label="Learning-rate schedule",
    choices=tuple(SCHEDULES),
    help="How the learning rate changes from epoch to epoch.",
)

# The settings of a RunConfig in the order the sidebar and the docs show them.
OPTIONS: tuple[Option, ...] = (
    DATASET,
    LAYERS,
    LOSS,
    INIT,
    INIT_STD,
    OPTIMIZER,
    LEARNING_RATE,
    BATCH_SIZE,
    WEIGHT_DECAY,
    CLIP_NORM,
    AUGMENT_SHIFT,
    SCHEDULE,
    EARLY_STOPPING,
    EPOCHS,
    SEED,
)
ARCHITECTURE_FIELDS = ("dataset", "dataset_params", "layers", "loss", "init", "init_std", "seed")
TRAINER_FIELDS = (
    "optimizer",
    "optimizer_options",
    "weight_decay",
    "clip_norm",
    "augment_shift",
    "schedule",
    "early_stopping",
    "batch_size",
)
# Keys of configurations written before the layers were one text: they are read, never written.
OLD_ARCHITECTURE_KEYS = ("hidden", "activation", "dropout", "batch_norm", "embedding_dim")
OLD_OPTIMIZER_KEYS = ("momentum", "nesterov")


@dataclass
class RunConfig:
    """Everything needed to rebuild a network, its data and its training (see OPTIONS).

    dataset_params: parameters given to ``datasets.load`` (defaults fill the rest).
    optimizer_options: the chosen optimizer's own settings (momentum, betas…).
    schedule: None (constant) or {"schedule": "step"|"cosine"|"plateau", ...its options}.
    early_stopping: None or a patience in epochs (monitoring val_loss).
    """

    dataset: str = DATASET.default
    dataset_params: dict = field(default_factory=dict)
    layers: str = LAYERS.default
    loss: str = LOSS.default
    init: str = INIT.default
    init_std: float = INIT_STD.default
    optimizer: str = OPTIMIZER.default
    optimizer_options: dict = field(default_factory=dict)
    learning_rate: float = LEARNING_RATE.default
    weight_decay: float = WEIGHT_DECAY.default
    clip_norm: float | None = CLIP_NORM.default
    augment_shift: int = AUGMENT_SHIFT.default
    batch_size: int = BATCH_SIZE.default
    epochs: int = EPOCHS.default
    seed: int = SEED.default
    schedule: dict | None = None
    early_stopping: int | None = EARLY_STOPPING.default

    # ------------------------------------------------------------ validation
    def __post_init__(self):
        self.validate()

    def validate(self) -> RunConfig:
        """Check every setting against its declaration; ValueError names the first bad one."""
        for option in OPTIONS:
            if option.name == "schedule":
                continue
            setattr(self, option.name, option.check(getattr(self, option.name)))
        if not self.dataset:
            raise ValueError("dataset must be a registry name, e.g. circle")
        if (
            not isinstance(self.dataset_params, dict)
            or len(json.dumps(self.dataset_params, default=str)) > 2000
        ):
            raise ValueError(
                f"dataset_params must be a small mapping of names to values, got {self.dataset_params!r}"
            )
        self.layers = check_spec(self.layers)
        if not isinstance(self.optimizer_options, dict):
            raise ValueError(f"optimizer_options must be a mapping, got {self.optimizer_options!r}")
        checked = OPTIMIZERS[self.optimizer].check_options(self.optimizer_options, "optimizer")
        # keep only what differs from the declared defaults, so equal setups compare equal
        self.optimizer_options = {
            k: v for k, v in checked.items() if v != OPTIMIZERS[self.optimizer].option(k).default
        }
        if self.schedule is not None:
            spec = {"schedule": self.schedule} if isinstance(self.schedule, str) else self.schedule
            if not isinstance(spec, dict):
                raise ValueError(
                    f"schedule must be a name or a mapping with 'schedule', got {self.schedule!r}"
                )
            name = SCHEDULE.check(spec.get("schedule"))
            options = SCHEDULES[name].check_options(
                {k: v for k, v in spec.items() if k != "schedule"}, "schedule"
            )
            self.schedule = None if name == "constant" else {"schedule": name, **options}
        return self

    # ----------------------------------------------------------- round trip
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Strict: unknown keys or bad values raise ValueError. Older layouts (hidden sizes and
        activations, momentum as its own setting) are read and converted."""
        if not isinstance(data, dict):
            raise ValueError(f"a run configuration must be a JSON object, got {type(data).__name__}")
        data = upgrade(data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys {unknown}; known keys: {sorted(known)}")
        return cls(**data)

    @classmethod
    def lenient(cls, data: dict, source: str = "setting") -> tuple[RunConfig, list[str]]:
        """Keep every valid setting; replace bad or unknown ones by defaults, with a notice for each."""
        notices: list[str] = []
        if not isinstance(data, dict):
            return cls(), [f"{source}s are not a mapping; using the defaults"]
        try:
            data = upgrade(data)
        except ValueError as err:
            notices.append(f"{source}s: {err}; using the default layers")
            data = {k: v for k, v in data.items() if k not in OLD_ARCHITECTURE_KEYS + OLD_OPTIMIZER_KEYS}
        config = cls()
        known = {f.name for f in fields(cls)}
        # the optimizer before its options: they are checked against the one chosen
        for key in sorted(data, key=lambda k: (k != "optimizer", k)):
            value = data[key]
            if key not in known:
                notices.append(f"ignored unknown {source} {_short(key)}")
                continue
            try:
                config = cls(**{**asdict(config), key: value})
            except (ValueError, TypeError) as err:
                notices.append(
                    f"{source} {key}={_short(value)} is not valid ({err}); using {getattr(config, key)!r}"
                )
        return config, notices

    def to_query(self) -> dict[str, str]:
        """The settings that differ from the defaults, each as JSON text (a shareable link)."""
        default = RunConfig().to_dict()
        return {k: json.dumps(v) for k, v in self.to_dict().items() if default[k] != v}

    @classmethod
    def from_query(cls, query: dict[str, str]) -> tuple[RunConfig, list[str]]:
        """Settings from a link's parameters; a bad, outdated or out-of-range one falls back to its
        default with a notice naming it and the value. Other parameters are left alone.

        Values are JSON (what ``to_query`` writes); a value that is not JSON is read as the text
        itself, so a hand-typed ``?dataset=shapes`` works like ``?dataset="shapes"``."""
        names = {f.name for f in fields(cls)} | set(OLD_ARCHITECTURE_KEYS) | set(OLD_OPTIMIZER_KEYS)
        data, notices = {}, []
        for key, text in query.items():
            if key not in names:
                continue
            try:
                data[key] = json.loads(text) if isinstance(text, str) and len(text) <= 4000 else _invalid
            except json.JSONDecodeError:
                data[key] = text
            except (TypeError, RecursionError):
                data[key] = _invalid
            if data[key] is _invalid:
                notices.append(f"link setting {key}={_short(text)} is not readable; using the default")
                del data[key]
        config, more = cls.lenient(data, source="link setting")
        return config, notices + more

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

    def trainer_changed(self, other: RunConfig) -> bool:
        return any(getattr(self, k) != getattr(other, k) for k in TRAINER_FIELDS)

    # --------------------------------------------------------------- builders
    def check_dataset(self, dataset) -> None:
        if not dataset.is_classification and self.loss == "cross_entropy":
            raise ValueError(f"{dataset.name} is a regression dataset: use the mse loss, not cross_entropy")

    def data_facts(self, dataset) -> dict:
        """What the network needs to know of ``dataset``: one sample's shape (token ids: the context),
        the number of outputs, and the vocabulary size when samples are token ids. JSON-ready."""
        self.check_dataset(dataset)
        ids = getattr(dataset, "encoding", None) == "embedding"
        shape = tuple(dataset.input_shape) if not ids else (dataset.n_features,)
        if not shape or int(np.prod(shape)) != dataset.n_features:
            shape = (dataset.n_features,)
        return {
            "input_shape": [int(s) for s in shape],
            "n_outputs": int(dataset.n_outputs),
            "vocab_size": len(dataset.vocab) if ids else None,
        }

    def network_arguments(self, facts: dict) -> dict:
        """``Network`` arguments for data with these facts: token ids get an embedding first unless the
        layers start with one."""
        layers = self.layers
        if facts.get("vocab_size") is not None and not layers.startswith("embed"):
            layers = f"{DEFAULT_EMBEDDING}-{layers}" if layers else DEFAULT_EMBEDDING
        return {
            "architecture": layers,
            "input_shape": tuple(facts["input_shape"]),
            "n_outputs": facts["n_outputs"],
            "vocab_size": facts.get("vocab_size"),
        }

    def plan(self, dataset=None, facts: dict | None = None) -> list[Planned]:
        """The layers this config builds for ``dataset`` (or for data with ``facts``, see data_facts), with
        their shapes and parameter counts, building nothing (ValueError names the layer that does not fit)."""
        args = self.network_arguments(self.data_facts(dataset) if facts is None else facts)
        layers = check_spec(args["architecture"])
        return plan(
            layers, first_layer_shape(layers, args["input_shape"]), args["n_outputs"], args["vocab_size"]
        )

    def build_network(self, dataset=None, dtype: str = "float32", facts: dict | None = None) -> Network:
        """The network for ``dataset`` (or for data with ``facts``, see data_facts): inputs from its sample
        shape, outputs from its classes or targets, weights from the seed."""
        facts = self.data_facts(dataset) if facts is None else facts
        return Network(
            **self.network_arguments(facts),
            loss=self.loss,
            init=self.init,
            init_std=self.init_std,
            seed=self.seed,
            dtype=dtype,
        )

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
            weight_decay=self.weight_decay,
            clip_norm=self.clip_norm,
            augment_shift=self.augment_shift,
            **self.optimizer_options,
        )

    def targets(self, dataset, y: np.ndarray) -> np.ndarray:
        """Targets as the loss reads them: one-hot rows for an mse classifier, else unchanged."""
        if dataset.is_classification and self.loss == "mse":
            return np.eye(dataset.n_outputs, dtype=np.float32)[y]
        return y

    def describe(self) -> str:
        """A short one-line summary, e.g. ``circle · dense8-gelu-dense8-gelu · adam lr 0.03 · batch 32 · seed 0``."""
        extras = [
            f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.optimizer_options.items()
        ]
        if self.weight_decay:
            extras.append(f"L2 {self.weight_decay:g}")
        if self.clip_norm:
            extras.append(f"clip {self.clip_norm:g}")
        if self.augment_shift:
            extras.append(f"shift ±{self.augment_shift} px")
        if self.schedule:
            extras.append(f"{self.schedule['schedule']} schedule")
        return " · ".join(
            [
                self.dataset,
                self.layers or "no hidden layers",
                f"{self.optimizer} lr {self.learning_rate:g}",
                f"batch {self.batch_size}",
                f"seed {self.seed}",
                *extras,
            ]
        )


_invalid = object()


def _short(value) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def upgrade(data: dict) -> dict:
    """A configuration in today's layout from one in an older layout (same meaning)."""
    data = dict(data)
    if any(key in data for key in OLD_ARCHITECTURE_KEYS):
        if "layers" in data:
            raise ValueError("a configuration gives both layers and the older hidden/activation settings")
        hidden = data.pop("hidden", [8, 8])
        if not isinstance(hidden, list | tuple) or not all(
            isinstance(h, int) and not isinstance(h, bool) for h in hidden
        ):
            raise ValueError(f"hidden sizes must be a list of integers, got {_short(hidden)}")
        params = data.get("dataset_params") if isinstance(data.get("dataset_params"), dict) else {}
        dim = data.pop("embedding_dim", 8)
        embedding = dim if params.get("encoding") == "embedding" else None
        settings = {
            "activation": data.pop("activation", "gelu"),
            "batch_norm": data.pop("batch_norm", False),
            "dropout": data.pop("dropout", 0.0),
        }
        try:
            data["layers"] = mlp_spec(hidden, *settings.values(), embedding_dim=embedding)
        except ValueError as err:
            given = ", ".join(f"{k}={_short(v)}" for k, v in {"hidden": hidden, **settings}.items())
            raise ValueError(f"the older settings {given} do not describe a network: {err}") from None
    if any(key in data for key in OLD_OPTIMIZER_KEYS):
        momentum, nesterov = data.pop("momentum", 0.9), data.pop("nesterov", False)
        if data.get("optimizer") == "momentum" and "optimizer_options" not in data:
            data["optimizer_options"] = {"momentum": momentum, "nesterov": nesterov}
    return data
