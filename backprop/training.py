"""The training loop: a cursor over (epoch, batch) that can be run, stopped and resumed.

Batch order depends only on (seed, epoch), so two runs forked from the same seed
see the same batches, and a run resumed after a stop continues where it was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .augment import AUGMENT_SHIFT, check_image_shape, random_shift
from .optimizers import Optimizer, make_optimizer
from .schedules import EarlyStopping, make_schedule, monitored_value
from .tracing import Trace


class TrainingDiverged(RuntimeError):
    """A step produced a non-finite loss; the weights of the last finite step were kept."""


EPOCH_FIELDS = (
    "epoch",
    "step",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "seconds",
    "samples_seen",
)


@dataclass
class History:
    """Per-epoch records (dicts with EPOCH_FIELDS) and the loss of every step."""

    epochs: list[dict] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    stop_reason: str | None = None
    best_epoch: int | None = None
    best_monitor: str | None = None

    def column(self, name: str) -> list:
        """One field across epochs, e.g. ``history.column("val_accuracy")``."""
        return [record.get(name) for record in self.epochs]

    def __getitem__(self, name: str) -> list:
        return self.column(name)

    def __len__(self) -> int:
        return len(self.epochs)

    def to_dict(self) -> dict:
        return {
            "epochs": self.epochs,
            "step_loss": self.step_loss,
            "stop_reason": self.stop_reason,
            "best_epoch": self.best_epoch,
            "best_monitor": self.best_monitor,
        }

    @classmethod
    def from_dict(cls, data: dict) -> History:
        if not isinstance(data, dict) or not isinstance(data.get("epochs"), list):
            raise ValueError("history must be a dict with a list of 'epochs'")
        return cls(
            epochs=list(data["epochs"]),
            step_loss=[float(v) for v in data.get("step_loss", [])],
            stop_reason=data.get("stop_reason"),
            best_epoch=data.get("best_epoch"),
            best_monitor=data.get("best_monitor"),
        )

    def __repr__(self) -> str:
        last = self.epochs[-1] if self.epochs else {}
        return f"History(epochs={len(self.epochs)}, steps={len(self.step_loss)}, last={last})"


@dataclass
class TrainingEvent:
    """What a callback sees: kind is "step" (after each update) or "epoch" (after each epoch)."""

    kind: str
    trainer: Trainer
    epoch: int
    step: int
    loss: float
    steps_per_epoch: int
    trace: Trace | None = None
    record: dict | None = None

    @property
    def epoch_progress(self) -> float:
        """Fraction of the current epoch done, in [0, 1]."""
        return self.trainer.batch_index / self.steps_per_epoch if self.steps_per_epoch else 0.0


class Trainer:
    """Trains one network with one optimizer; keeps its place between calls.

    optimizer: a name from OPTIMIZERS (with ``learning_rate`` and options such as
      momentum, nesterov, beta1, beta2, weight_decay, clip_norm) or an Optimizer.
    schedule: None, a Schedule, a name or {"schedule": name, ...} (see schedules).
    early_stopping: None, an EarlyStopping or its patience as an int.
    monitor: what "best" means for the checkpoint; defaults to what early stopping
      watches, else val_accuracy for classifiers with validation data, val_loss
      with validation, else train_loss.
    seed: the batch-order seed; defaults to the network's seed.
    augment_shift: 0, or the most pixels each training image is moved by in each direction when
      it is drawn into a batch (image data only, see ``backprop.augment``); the offsets are fixed
      by (seed, epoch, batch), so training stays reproducible and resumable.
    On a non-finite loss the step raises TrainingDiverged before its update, so the
    network keeps the weights left by the last step whose loss was finite; if that
    step's own update overflowed them, it is undone (with the optimizer's running
    averages, when they overflowed too).
    """

    def __init__(
        self,
        net,
        optimizer: str | Optimizer = "sgd",
        learning_rate: float = 0.01,
        batch_size: int = 64,
        schedule=None,
        early_stopping=None,
        monitor: str | None = None,
        seed: int | None = None,
        shuffle: bool = True,
        augment_shift: int = 0,
        **optimizer_options,
    ):
        self.net = net
        if isinstance(optimizer, Optimizer):
            self.optimizer = optimizer
        else:
            self.optimizer = make_optimizer(optimizer, learning_rate, **optimizer_options)
        if not (
            isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool) and batch_size >= 1
        ):
            raise ValueError(f"batch size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.base_rate = self.optimizer.learning_rate
        self.schedule = make_schedule(schedule)
        if isinstance(early_stopping, (int, np.integer)) and not isinstance(early_stopping, bool):
            early_stopping = EarlyStopping(patience=int(early_stopping))
        elif not (early_stopping is None or isinstance(early_stopping, EarlyStopping)):
            # anything else (True, 2.5, "5") used to fail only at the end of the first epoch
            raise ValueError(
                f"early stopping must be None, an EarlyStopping or a patience "
                f"(a positive integer), got {early_stopping!r}"
            )
        self.early_stopping = early_stopping
        self.monitor = monitor
        self.seed = net.seed if seed is None else int(seed)
        self.shuffle = shuffle
        self.augment_shift = AUGMENT_SHIFT.check(augment_shift)
        if self.augment_shift:
            if net.embedding is not None:
                raise ValueError(f"augment_shift={augment_shift} moves images; this network reads token ids")
            self._image_shape = check_image_shape(net.input_shape, self.augment_shift)
        self.history = History()
        self.epoch = 0  # completed epochs
        self.step = 0  # completed steps
        self.batch_index = 0  # next batch within the current epoch
        self.samples_seen = 0
        self.stopped = False
        self.best_weights: dict | None = None
        self.best_value = math.inf
        self._order: np.ndarray | None = None
        self._weights_before_update: list | None = None
        self._epoch_stats = [0.0, 0, 0, 0.0]  # loss sum, correct, samples, seconds

    # ----------------------------------------------------------------- state
    def cursor(self) -> dict:
        """Where training stands, JSON-ready: finished epochs and steps, the next batch, the partial epoch's sums."""
        loss_sum, correct, samples, seconds = self._epoch_stats
        return {
            "epoch": self.epoch,
            "batch_index": self.batch_index,
            "step": self.step,
            "samples_seen": self.samples_seen,
            "epoch_stats": [float(loss_sum), int(correct), int(samples), float(seconds)],
        }

    def resume(self, cursor: dict | None, history: History | None = None) -> None:
        """Continue from a ``cursor()`` (and its history), e.g. of a run saved to disk; None starts at 0."""
        if history is not None:
            self.history = history
        if not cursor:
            return
        self.epoch, self.batch_index = int(cursor.get("epoch", 0)), int(cursor.get("batch_index", 0))
        self.step, self.samples_seen = int(cursor.get("step", 0)), int(cursor.get("samples_seen", 0))
        stats = cursor.get("epoch_stats")
        if isinstance(stats, list) and len(stats) == 4:
            self._epoch_stats = [float(stats[0]), int(stats[1]), int(stats[2]), float(stats[3])]
        self._order = None

    def continue_from(self, other: Trainer) -> None:
        """Take over another trainer's place (history, cursor, best checkpoint): same network, new settings."""
        self.resume(other.cursor(), other.history)
        self.best_weights, self.best_value = other.best_weights, other.best_value

    # --------------------------------------------------------------- pieces
    def batch_order(self, n: int, epoch: int) -> np.ndarray:
        """Sample order for a 0-based epoch: a permutation fixed by (seed, epoch)."""
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, 7, epoch]).permutation(n)

    def augment(self, xb: np.ndarray, epoch: int, batch_index: int) -> np.ndarray:
        """A training batch as the network sees it: moved by up to ``augment_shift`` pixels, with
        offsets fixed by (seed, epoch, batch); unchanged when augment_shift is 0."""
        if not self.augment_shift:
            return xb
        rng = np.random.default_rng([self.seed, 11, epoch, batch_index])
        return random_shift(xb, self._image_shape, self.augment_shift, rng)

    def steps_per_epoch(self, n: int) -> int:
        return math.ceil(n / self.batch_size)

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> Trace:
        """One forward/backward/update on a checked batch; raises TrainingDiverged on a non-finite loss."""
        trace = self.net.gradients(xb, yb, train=True, check=False)
        self._update(trace)
        return trace

    def apply(self, trace: Trace) -> None:
        """Apply the update of a step whose forward and backward ran outside ``run``.

        The step-through page shows a step before it applies it, on the batch it shows (a random one
        or a chosen sample). The update counts as one step of training: ``step`` and ``samples_seen``
        grow and its loss joins ``history.step_loss``, with the same check for a non-finite loss
        (TrainingDiverged, nothing applied). It is not one of the epoch's batches, so the epoch's
        cursor (its batch order, ``batch_index`` and the epoch's loss sums) does not move.
        """
        if trace.updated:
            raise ValueError("this step's update has been applied already")
        self._update(trace)
        self.history.step_loss.append(float(trace.loss))

    def _update(self, trace: Trace) -> None:
        """The optimizer's update for a step's gradients; TrainingDiverged (and rollback) on a non-finite loss."""
        net = self.net
        if not math.isfinite(trace.loss):
            overflowed = ""
            if self._weights_before_update is not None and not net.weights_finite():
                # the last update itself overflowed: go back to the weights its step used
                net.restore_references(self._weights_before_update)
                overflowed = " (the previous update overflowed the weights, so it was undone)"
                if not self.optimizer.state_finite():
                    self.optimizer.state.clear()
            raise TrainingDiverged(
                f"the loss became {trace.loss} at step {self.step + 1} (epoch {self.epoch + 1}); "
                f"the weights of the last step with a finite loss were kept{overflowed}. Lower the "
                f"learning rate (now {self.optimizer.learning_rate:g}) or add gradient clipping."
            )
        # references, not copies: updates assign new arrays
        self._weights_before_update = net.weight_references()
        self.optimizer.step(net, trace)
        self.step += 1
        self.samples_seen += trace.x.shape[0]

    def _default_monitor(self, has_validation: bool) -> str:
        if self.monitor:
            return self.monitor
        # Early stopping restores the best checkpoint, so "best" must mean what it watches.
        if self.early_stopping is not None:
            return self.early_stopping.monitor
        if has_validation:
            return "val_accuracy" if self.net.is_classifier else "val_loss"
        return "train_loss"

    def _finish_epoch(self, validation, callback, per_epoch: int) -> bool:
        """Record the epoch, apply schedule, checkpoint and early stopping; True means stop."""
        loss_sum, correct, count, seconds = self._epoch_stats
        self.epoch += 1
        record = {
            "epoch": self.epoch,
            "step": self.step,
            "train_loss": loss_sum / max(count, 1),
            "train_accuracy": (correct / count) if self.net.is_classifier and count else None,
            "val_loss": None,
            "val_accuracy": None,
            "learning_rate": self.optimizer.learning_rate,
            "seconds": seconds,
            "samples_seen": self.samples_seen,
        }
        if validation is not None:
            metrics = self.net.evaluate(*validation)
            record["val_loss"] = metrics["loss"]
            record["val_accuracy"] = metrics.get("accuracy")
        self.history.epochs.append(record)
        self._epoch_stats = [0.0, 0, 0, 0.0]
        self.batch_index = 0
        self._order = None

        monitor = self._default_monitor(validation is not None)
        value = monitored_value(record, monitor)
        if value is not None and value < self.best_value:
            self.best_value = value
            self.best_weights = self.net.get_weights()
            self.history.best_epoch, self.history.best_monitor = self.epoch, monitor

        stop = False
        if self.early_stopping is not None and self.early_stopping.should_stop(record):
            self.history.stop_reason = (
                f"early stopping: {self.early_stopping.monitor} did not improve "
                f"for {self.early_stopping.patience} epochs"
            )
            if self.early_stopping.restore_best and self.best_weights is not None:
                self.net.set_weights(self.best_weights)
            stop = True
        self.optimizer.learning_rate = self.schedule.next_rate(
            self.base_rate, self.optimizer.learning_rate, self.epoch, record
        )
        if callback is not None and callback(
            TrainingEvent(
                "epoch", self, self.epoch, self.step, record["train_loss"], per_epoch, record=record
            )
        ):
            self.history.stop_reason = self.history.stop_reason or "stopped by the user"
            stop = True
        return stop

    # ----------------------------------------------------------------- loops
    def run(
        self,
        x,
        y,
        epochs: int | None = None,
        steps: int | None = None,
        validation=None,
        callback: Callable[[TrainingEvent], bool | None] | None = None,
    ) -> History:
        """Train for ``epochs`` more epochs (or ``steps`` more steps); returns the History.

        callback(event) is called after every step and every epoch; returning True
        stops the loop after that step, keeping everything done so far. A partly
        run epoch is resumed by the next call.
        """
        if epochs is None and steps is None:
            raise ValueError("give the number of epochs or steps to train")
        for label, value in (("epochs", epochs), ("steps", steps)):
            if value is not None and not (
                isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1
            ):
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        x = self.net.check_inputs(x)
        y = self.net.check_targets(y, x.shape[0])
        if validation is not None:
            xv = self.net.check_inputs(validation[0])
            validation = (xv, self.net.check_targets(validation[1], xv.shape[0]))
        n = x.shape[0]
        per_epoch = self.steps_per_epoch(n)
        target_epoch = self.epoch + epochs if epochs is not None else None
        steps_left = steps
        self.history.stop_reason = None
        if self.batch_index >= per_epoch and self._epoch_stats[2]:
            # The last step of an epoch ran but its end was not recorded (an exception from that step's
            # callback, e.g. Ctrl-C): record it first, as the interrupted call would have.
            # Like a partly run epoch, it is one of the epochs asked for.
            stop = self._finish_epoch(validation, callback, per_epoch)
            if stop:
                self.history.stop_reason = self.history.stop_reason or "stopped by the user"
                self.stopped = True
            if stop or (target_epoch is not None and self.epoch >= target_epoch):
                return self.history
        count_correct = self.net.is_classifier
        labels = None if y.ndim == 1 or not count_correct else y.argmax(axis=1)
        trace = None
        while True:
            if self._order is None or len(self._order) != n:
                self._order = self.batch_order(n, self.epoch)
                if self.batch_index >= per_epoch:
                    self.batch_index = 0
            start = time.perf_counter()
            idx = self._order[self.batch_index * self.batch_size : (self.batch_index + 1) * self.batch_size]
            yb = y[idx]
            trace = None  # let the last step's arrays go before this step allocates its own
            # take() gathers the rows faster than fancy indexing: same array
            trace = self.train_step(self.augment(x.take(idx, axis=0), self.epoch, self.batch_index), yb)
            self.batch_index += 1
            stats = self._epoch_stats
            size = len(idx)
            stats[0] += trace.loss * size
            if count_correct:
                predicted = trace.output.argmax(axis=1)
                stats[1] += int(np.count_nonzero(predicted == (yb if labels is None else labels[idx])))
            stats[2] += size
            stats[3] += time.perf_counter() - start
            self.history.step_loss.append(trace.loss)
            stop = bool(
                callback is not None
                and callback(
                    TrainingEvent("step", self, self.epoch + 1, self.step, trace.loss, per_epoch, trace=trace)
                )
            )
            if self.batch_index >= per_epoch:
                stop = self._finish_epoch(validation, callback, per_epoch) or stop
            if stop:
                self.history.stop_reason = self.history.stop_reason or "stopped by the user"
                self.stopped = True
                break
            if steps_left is not None:
                steps_left -= 1
                if steps_left == 0:
                    break
            if target_epoch is not None and self.epoch >= target_epoch and self.batch_index == 0:
                break
        return self.history

    def restore_best(self) -> bool:
        """Load the best checkpoint into the network; False if there is none yet."""
        if self.best_weights is None:
            return False
        self.net.set_weights(self.best_weights)
        return True

    def __repr__(self) -> str:
        return (
            f"Trainer({self.optimizer!r}, batch_size={self.batch_size}, "
            + (f"augment_shift={self.augment_shift}, " if self.augment_shift else "")
            + f"epoch={self.epoch}, step={self.step})"
        )
