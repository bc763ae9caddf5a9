"""Learning-rate schedules and early stopping, applied at the end of each epoch."""

from __future__ import annotations

import math

from .options import Declared, Option

STEP_EPOCHS = Option(
    "epochs",
    "int_list",
    (10,),
    label="Drop after epochs",
    low=1,
    high=100_000,
    max_length=20,
    help="Epochs (1-based) after which the rate is multiplied by the factor.",
)
DROP_FACTOR = Option(
    "factor",
    "float",
    0.1,
    label="Factor",
    low=0.0,
    high=1.0,
    low_open=True,
    high_open=True,
    help="What the rate is multiplied by at each drop.",
)
TOTAL_EPOCHS = Option(
    "total_epochs",
    "int",
    20,
    label="Over epochs",
    low=1,
    high=100_000,
    help="Epochs over which the rate falls from its base to the minimum.",
)
MIN_RATE = Option(
    "min_rate", "float", 0.0, label="Minimum rate", low=0.0, high=10.0, help="The rate never goes below this."
)
PLATEAU_FACTOR = Option(
    "factor",
    "float",
    0.5,
    label="Factor",
    low=0.0,
    high=1.0,
    low_open=True,
    high_open=True,
    help="What the rate is multiplied by after a plateau.",
)
PATIENCE = Option(
    "patience",
    "int",
    3,
    label="Patience",
    low=1,
    high=1000,
    help="Epochs without improvement that count as a plateau.",
)
PLATEAU_MIN_RATE = Option(
    "min_rate",
    "float",
    1e-6,
    label="Minimum rate",
    low=0.0,
    high=10.0,
    help="The rate never goes below this.",
)
MONITOR = Option(
    "monitor",
    "choice",
    "val_loss",
    label="Watch",
    choices=("val_loss", "val_accuracy", "train_loss"),
    help="The epoch figure whose improvement is watched.",
)
MIN_DELTA = Option(
    "min_delta",
    "float",
    0.0,
    label="Minimum change",
    low=0.0,
    high=1e6,
    help="An improvement smaller than this does not count.",
)


class Schedule:
    """Gives the learning rate for the next epoch from the base rate and the finished epoch's record."""

    declared = Declared(
        "constant", "constant", "η stays the same", help="No schedule: the rate never changes."
    )

    def __init__(self, **options):
        for name, value in self.declared.check_options(options, "schedule").items():
            setattr(self, name, value)

    @property
    def name(self) -> str:
        return self.declared.name

    def next_rate(self, base_rate: float, current_rate: float, epoch: int, record: dict) -> float:
        return current_rate

    def config(self) -> dict:
        return {"schedule": self.name, **{o.name: getattr(self, o.name) for o in self.declared.options}}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "schedule")
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """Multiply the rate by ``factor`` after each epoch listed in ``epochs`` (1-based)."""

    declared = Declared(
        "step",
        "step decay",
        "η ← η·factor after each listed epoch",
        options=(STEP_EPOCHS, DROP_FACTOR),
        help="Drops the rate by a factor at chosen epochs.",
    )

    def __init__(self, epochs=(10,), factor: float = 0.1):
        super().__init__(epochs=list(epochs) if isinstance(epochs, list | tuple) else epochs, factor=factor)
        if not self.epochs:
            raise ValueError("step decay needs at least one epoch to drop at, e.g. epochs=[10]")
        self.epochs = sorted(self.epochs)

    def next_rate(self, base_rate, current_rate, epoch, record):
        drops = sum(1 for e in self.epochs if e <= epoch)
        return base_rate * self.factor**drops


class Cosine(Schedule):
    """Cosine annealing from the base rate to ``min_rate`` over ``total_epochs``."""

    declared = Declared(
        "cosine",
        "cosine",
        "η_t = η_min + ½(η − η_min)(1 + cos(π·t/T))",
        options=(TOTAL_EPOCHS, MIN_RATE),
        help="Lowers the rate along half a cosine, gently at first and at the end.",
    )

    def __init__(self, total_epochs: int = 20, min_rate: float = 0.0):
        super().__init__(total_epochs=total_epochs, min_rate=min_rate)

    def next_rate(self, base_rate, current_rate, epoch, record):
        progress = min(epoch, self.total_epochs) / self.total_epochs
        rate = self.min_rate + (base_rate - self.min_rate) * 0.5 * (1 + math.cos(math.pi * progress))
        # The optimizer needs a positive rate; the last epoch's zero becomes a tiny one.
        return max(rate, base_rate * 1e-6)


class ReduceOnPlateau(Schedule):
    """Multiply the rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs."""

    declared = Declared(
        "plateau",
        "reduce on plateau",
        "η ← η·factor after `patience` epochs without improvement",
        options=(PLATEAU_FACTOR, PATIENCE, PLATEAU_MIN_RATE, MONITOR, MIN_DELTA),
        help="Lowers the rate when the watched figure stops improving.",
    )

    def __init__(
        self,
        factor: float = 0.5,
        patience: int = 3,
        min_rate: float = 1e-6,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
    ):
        super().__init__(
            factor=factor, patience=patience, min_rate=min_rate, monitor=monitor, min_delta=min_delta
        )
        self.best = math.inf
        self.wait = 0

    def next_rate(self, base_rate, current_rate, epoch, record):
        if epochs_without_improvement(self, record) >= self.patience:
            self.wait = 0
            return max(current_rate * self.factor, self.min_rate)
        return current_rate


SCHEDULE_CLASSES = {cls.declared.name: cls for cls in (Schedule, StepDecay, Cosine, ReduceOnPlateau)}
SCHEDULES: dict[str, Declared] = {name: cls.declared for name, cls in SCHEDULE_CLASSES.items()}


def make_schedule(spec) -> Schedule:
    """A Schedule from None, an instance, a name, or a dict {"schedule": name, **options}."""
    if spec is None:
        return Schedule()
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str):
        spec = {"schedule": spec}
    if not isinstance(spec, dict) or spec.get("schedule") not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {spec!r}; choose one of {', '.join(SCHEDULES)}")
    options = {k: v for k, v in spec.items() if k != "schedule"}
    declared = SCHEDULES[spec["schedule"]]
    return SCHEDULE_CLASSES[spec["schedule"]](**declared.check_options(options, "schedule"))


LOWER_IS_BETTER = {"loss": True, "accuracy": False}


def epochs_without_improvement(watcher, record: dict) -> int:
    """Update ``watcher.best``/``watcher.wait`` from an epoch record; returns the epochs since the last improvement.

    watcher has monitor, min_delta, best and wait (plateau schedules and early
    stopping share this); a record without the monitored value changes nothing.
    """
    value = monitored_value(record, watcher.monitor)
    if value is None:
        return 0
    if value < watcher.best - watcher.min_delta:
        watcher.best, watcher.wait = value, 0
    else:
        watcher.wait += 1
    return watcher.wait


def monitored_value(record: dict, monitor: str) -> float | None:
    """The value to watch, signed so that lower is better (accuracies are negated)."""
    value = record.get(monitor)
    if value is None:
        return None
    return float(value) if monitor.endswith("loss") else -float(value)


EARLY_STOPPING = Option(
    "early_stopping",
    "int",
    None,
    label="Early stopping patience",
    low=0,
    high=1000,
    low_open=True,
    optional=True,
    off_label="off",
    help="Stop after this many epochs without a better validation loss (and restore the best).",
)


class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(
        self, patience: int = 5, monitor: str = "val_loss", min_delta: float = 0.0, restore_best: bool = True
    ):
        self.patience, self.monitor = PATIENCE.check(patience), MONITOR.check(monitor)
        self.min_delta, self.restore_best = float(min_delta), bool(restore_best)
        self.best = math.inf
        self.wait = 0

    def should_stop(self, record: dict) -> bool:
        return epochs_without_improvement(self, record) >= self.patience

    def config(self) -> dict:
        return {
            "patience": self.patience,
            "monitor": self.monitor,
            "min_delta": self.min_delta,
            "restore_best": self.restore_best,
        }

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, monitor={self.monitor!r})"
