"""Learning-rate schedules and early stopping, applied at the end of each epoch."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence


class Schedule:
    """Gives the learning rate for the next epoch from the base rate and the finished epoch's record."""

    name = "constant"

    def next_rate(self, base_rate: float, current_rate: float, epoch: int, record: dict) -> float:
        return current_rate

    def config(self) -> dict:
        return {"schedule": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "schedule")
        return f"{type(self).__name__}({args})"


class StepDecay(Schedule):
    """Multiply the rate by ``factor`` after each epoch listed in ``epochs`` (1-based)."""

    name = "step"

    def __init__(self, epochs: Sequence[int], factor: float = 0.1):
        epochs = sorted(int(e) for e in epochs)
        if not epochs or epochs[0] < 1:
            raise ValueError(f"step decay needs epochs >= 1 to drop at, got {epochs!r}")
        if not (isinstance(factor, numbers.Real) and 0 < factor < 1):
            raise ValueError(f"decay factor must be in (0, 1), got {factor!r}")
        self.epochs, self.factor = epochs, float(factor)

    def next_rate(self, base_rate, current_rate, epoch, record):
        drops = sum(1 for e in self.epochs if e <= epoch)
        return base_rate * self.factor**drops

    def config(self):
        return {"schedule": self.name, "epochs": self.epochs, "factor": self.factor}


class Cosine(Schedule):
    """Cosine annealing from the base rate to ``min_rate`` over ``total_epochs``."""

    name = "cosine"

    def __init__(self, total_epochs: int, min_rate: float = 0.0):
        if not (isinstance(total_epochs, numbers.Integral) and total_epochs >= 1):
            raise ValueError(f"cosine schedule needs total_epochs >= 1, got {total_epochs!r}")
        if not (isinstance(min_rate, numbers.Real) and min_rate >= 0):
            raise ValueError(f"min_rate must be >= 0, got {min_rate!r}")
        self.total_epochs, self.min_rate = int(total_epochs), float(min_rate)

    def next_rate(self, base_rate, current_rate, epoch, record):
        progress = min(epoch, self.total_epochs) / self.total_epochs
        rate = self.min_rate + (base_rate - self.min_rate) * 0.5 * (1 + math.cos(math.pi * progress))
        # The optimizer needs a positive rate; the last epoch's zero becomes a tiny one.
        return max(rate, base_rate * 1e-6)


class ReduceOnPlateau(Schedule):
    """Multiply the rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs."""

    name = "plateau"

    def __init__(
        self,
        factor: float = 0.5,
        patience: int = 3,
        min_rate: float = 1e-6,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
    ):
        if not (isinstance(factor, numbers.Real) and 0 < factor < 1):
            raise ValueError(f"plateau factor must be in (0, 1), got {factor!r}")
        if not (isinstance(patience, numbers.Integral) and patience >= 1):
            raise ValueError(f"plateau patience must be an integer >= 1, got {patience!r}")
        self.factor, self.patience, self.min_rate = float(factor), int(patience), float(min_rate)
        self.monitor, self.min_delta = monitor, float(min_delta)
        self.best = math.inf
        self.wait = 0

    def next_rate(self, base_rate, current_rate, epoch, record):
        if epochs_without_improvement(self, record) >= self.patience:
            self.wait = 0
            return max(current_rate * self.factor, self.min_rate)
        return current_rate

    def config(self):
        return {
            "schedule": self.name,
            "factor": self.factor,
            "patience": self.patience,
            "min_rate": self.min_rate,
            "monitor": self.monitor,
            "min_delta": self.min_delta,
        }


SCHEDULES = {cls.name: cls for cls in (Schedule, StepDecay, Cosine, ReduceOnPlateau)}


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
    try:
        return SCHEDULES[spec["schedule"]](**options)
    except TypeError as err:
        raise ValueError(f"schedule {spec['schedule']!r}: {err}") from None


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


class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(
        self, patience: int = 5, monitor: str = "val_loss", min_delta: float = 0.0, restore_best: bool = True
    ):
        if not (isinstance(patience, numbers.Integral) and patience >= 1):
            raise ValueError(f"early-stopping patience must be an integer >= 1, got {patience!r}")
        self.patience, self.monitor = int(patience), monitor
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
