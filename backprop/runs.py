"""Training runs on disk: one folder per run, shared by the app and the command line.

    store = RunStore()                       # runs/ or $BACKPROP_RUNS_DIR
    run = store.create("gelu", RunConfig(dataset="circle", activation="gelu"))
    net, trainer = train_run(run, dataset, epochs=5)
    store.fork("gelu", "relu", activation="relu")   # same seed, init and batch order

A run folder holds
    config.json    {"format", "name", "created", "parent", "config": RunConfig.to_dict()}
    history.json   History.to_dict() plus "cursor" (where a stopped epoch resumes)
    initial.npz    weights before the first step
    latest.npz     weights after the last finished step, with the optimizer state
                   (momentum / Adam moments, under "optimizer." names) so a resume
                   is exact, and the cursor of that step in its metadata
    best.npz       weights of the best epoch (absent until the first epoch ends)
    optimizer.npz  optimizer state, in runs saved before it moved into latest.npz
    snapshots/epoch-NNNN.npz  per-epoch weights, kept for networks up to
                   SNAPSHOT_MAX_PARAMETERS parameters (for weight distances between runs)

Every file is written atomically (temp file, fsync, os.replace); arrays are read
with allow_pickle=False; a damaged run is listed with the reason, never fatal.
Only regular files inside the store are read (no symbolic links, FIFOs or
devices), within the budgets of ``backprop.limits``; the JSON files are checked
field by field (``backprop.runfiles``), so a wrong-shaped file is one damaged
row, not an exception in whatever lists the store.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import re
import shutil
import stat
import struct
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import limits
from .config import RunConfig
from .files import (
    BoundedReader,
    atomic_write,
    check_planned_size,
    load_arrays,
    load_metadata,
    open_regular,
    read_file,
    read_json,
    save_arrays,
)
from .network import Network
from .runfiles import PERCENTILES, RUN_FORMAT, check_cursor, check_history, check_meta, is_count, is_number
from .runlock import RunLock
from .training import EPOCH_FIELDS, History, Trainer, TrainingDiverged, TrainingEvent

RUNS_DIR_ENV = "BACKPROP_RUNS_DIR"
WEIGHT_FILES = ("initial", "latest", "best")
# Per-epoch snapshots cost 4 bytes per parameter per epoch; 500k parameters is 2 MB an epoch.
SNAPSHOT_MAX_PARAMETERS = 500_000
PROBE_SIZE = 256
MAX_NAME_LENGTH = 80
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# The files of an exported run, in the order export writes them (the weights before the history they
# must not be older than), with the budget each is read under on import (None: the .npz reader's own).
ARCHIVE_FILES = {
    "latest.npz": None,
    "initial.npz": None,
    "history.json": limits.HISTORY_BYTES,
    "config.json": limits.CONFIG_BYTES,
    "optimizer.npz": None,
    "best.npz": None,
    "history.csv": limits.HISTORY_BYTES,  # for spreadsheets; not read back
}
REQUIRED_ARCHIVE_FILES = ("config.json", "history.json", "initial.npz", "latest.npz")
# What a damaged zip raises, from its directory or while inflating a member.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    struct.error,
)


def default_root() -> Path:
    """$BACKPROP_RUNS_DIR, else runs/ under the working directory."""
    return Path(os.environ.get(RUNS_DIR_ENV) or Path.cwd() / "runs")


def clean_name(name) -> str:
    """A valid run name from user text (spaces become '-'), or ValueError saying why not."""
    if not isinstance(name, str):
        raise ValueError(f"a run name must be text, got {name!r}")
    cleaned = re.sub(r"\s+", "-", name.strip())
    if not cleaned:
        raise ValueError("a run name cannot be empty; use letters, digits, '-', '_' or '.'")
    if "/" in cleaned or "\\" in cleaned or cleaned in (".", ".."):
        raise ValueError(f"a run name cannot contain path separators, got {name!r}")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(f"a run name has at most {MAX_NAME_LENGTH} characters, got {len(cleaned)}")
    if not _NAME_RE.match(cleaned):
        raise ValueError(
            f"a run name may use letters, digits, '-', '_' and '.' and must start with a "
            f"letter or digit, got {name!r}"
        )
    return cleaned


def suggest_name(folder: str) -> str:
    """A valid run name close to a folder name that is not one: 'my run' -> 'my-run', 'résumé' -> 'resume'."""
    ascii_text = unicodedata.normalize("NFKD", folder).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text.strip()).lstrip("-._")[:MAX_NAME_LENGTH]
    return name.rstrip("-") or "run"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data) -> None:
    text = json.dumps(data, indent=1, allow_nan=True)
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def _config_from(settings: dict) -> RunConfig:
    try:
        return RunConfig.from_dict(settings)
    except ValueError as err:
        raise ValueError(f"config.json: {err}") from None
    except Exception as err:  # settings of any shape reach the parser; none may escape as a crash
        raise ValueError(
            f"config.json holds settings this version cannot read ({type(err).__name__}: {err})"
        ) from None


def _linked_folder(name: str) -> str:
    return (
        f"the run folder {name!r} is a symbolic link; the store reads only folders inside itself, "
        "so it is not opened or trained: move or copy the run folder into the store instead"
    )


def _is_folder(path: Path) -> bool:
    """A real folder, not a symbolic link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


# Verified .npz files: (path, identity of this version of the file, budgets) -> None or the problem.
# Every byte of a weights file is read once per version, so a listing reports damage anywhere in it.
_VERIFIED: dict[tuple, str | None] = {}
_VERIFIED_MAX = 4096


def npz_problem(path: Path) -> str | None:
    """None when ``path`` is a readable .npz, else why not (FileNotFoundError when it is absent)."""
    info = os.lstat(path)
    key = (
        str(path),
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_mode,
        limits.ARCHIVE_BYTES.value(),
        limits.ARRAY_BYTES.value(),
    )
    if key not in _VERIFIED:
        try:
            load_arrays(path, keep=False)
            problem = None
        except ValueError as err:
            problem = str(err)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = problem
    return _VERIFIED[key]


# What to do about a damaged file that does not stop the run from opening.
_FIXES = {
    "best": (
        "the best weights cannot be loaded until training writes them again at the next best epoch; "
        "delete the file meanwhile and the latest weights stand in for the best"
    ),
    "optimizer": "training resumes with fresh optimizer state (momentum, Adam moments); delete the file",
    "snapshots": "weight distances skip that epoch; delete the file",
}


# An epoch that took more than this many times the run's median epoch was held up by something else on
# the machine (a busy core, a pause of the process), not by the network's work.
STALL_FACTOR = 4.0


def epoch_seconds(history: History) -> list[float]:
    """Each epoch's training seconds as wall-time comparisons count them: a stalled epoch (over
    STALL_FACTOR × the run's median, with at least 3 epochs to take a median of) counts as the median.
    The history keeps the measured times."""
    seconds = [float(r.get("seconds") or 0.0) for r in history.epochs]
    if len(seconds) < 3:
        return seconds
    typical = float(np.median(seconds))
    return [typical if typical > 0 and value > STALL_FACTOR * typical else value for value in seconds]


def summarize(history: History) -> dict:
    """epochs, steps, best val accuracy (or lowest val/train loss) and its epoch, seconds to reach it."""
    summary = {
        "epochs": len(history.epochs),
        "steps": len(history.step_loss),
        "best_val_accuracy": None,
        "best_epoch": history.best_epoch,
        "best_val_loss": None,
        "final_train_loss": None,
        "seconds_to_best": None,
        "stop_reason": history.stop_reason,
    }
    if not history.epochs:
        return summary
    summary["final_train_loss"] = history.epochs[-1].get("train_loss")
    accs = [(r.get("val_accuracy"), r["epoch"]) for r in history.epochs if r.get("val_accuracy") is not None]
    losses = [r.get("val_loss") for r in history.epochs if r.get("val_loss") is not None]
    if accs:
        best_acc, best_epoch = max(accs, key=lambda pair: pair[0])
        summary["best_val_accuracy"], summary["best_epoch"] = best_acc, best_epoch
    if losses:
        summary["best_val_loss"] = min(losses)
    if summary["best_epoch"] is not None:
        seconds = epoch_seconds(history)
        summary["seconds_to_best"] = float(
            sum(s for s, r in zip(seconds, history.epochs) if r["epoch"] <= summary["best_epoch"])
        )
    return summary


@dataclass
class RunInfo:
    """One row of a listing.

    damaged: None, or the reason the run cannot be opened (and what to do).
    problems: damaged files that do not stop the run from opening (best,
      optimizer state, snapshots), each with what to do.
    """

    name: str
    path: Path
    config: RunConfig | None = None
    summary: dict = field(default_factory=dict)
    parent: str | None = None
    created: str | None = None
    damaged: str | None = None
    problems: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        state = f"damaged: {self.damaged}" if self.damaged else f"{self.summary.get('epochs', 0)} epochs"
        return f"RunInfo({self.name!r}, {state}{f', {len(self.problems)} problems' if self.problems else ''})"


def sort_listing(infos: list[RunInfo]) -> list[RunInfo]:
    """Rows in listing order: oldest first, then by name."""
    return sorted(infos, key=lambda info: (info.created or "", info.name))


class RunChanged(ValueError):
    """The run was trained elsewhere since this network and trainer were loaded from it."""


ZERO_CURSOR = {"epoch": 0, "batch_index": 0, "step": 0, "samples_seen": 0, "epoch_stats": [0.0, 0, 0, 0.0]}


def _saved_cursor(metadata, name: str) -> dict | None:
    """The cursor stored with a weights file (None for files saved before cursors were stored)."""
    if isinstance(metadata, dict) and metadata.get("cursor") is not None:
        cursor = check_cursor(metadata["cursor"], name)
        if not is_count(cursor.get("step")) or not is_count(cursor.get("epoch")):
            raise ValueError(f"{name}: its cursor has no step and epoch")
        return cursor
    return None


class Run:
    """An open run folder: its config, history and weights.

    The weights and the history always describe the same step. A save writes
    history.json first and latest.npz (which records its step) last, so a
    crash, a kill -9 or a reader in between sees a history that is as new as
    the latest weights or newer; a newer history is cut back to the weights'
    step when the run is read. Writers hold the run's lock (``locked``).
    """

    def __init__(self, path):
        self.path = Path(path)
        self.name = self.path.name
        self._lock: RunLock | None = None
        self._lock_depth = 0
        self._load()

    def _load(self, weights_metadata=None) -> None:
        """Read the run; ``weights_metadata``: that of a latest.npz the caller has just read, if any."""
        if self.path.is_symlink():
            raise ValueError(_linked_folder(self.name))
        # The weights' step first: whatever the history says after it is at least as new.
        if weights_metadata is None:
            weights_metadata = load_metadata(self.path / "latest.npz")
        self.weights_cursor = _saved_cursor(weights_metadata, "latest.npz")
        meta = check_meta(read_json(self.path / "config.json", limits.CONFIG_BYTES))
        self.config = _config_from(meta["config"])
        self.parent = meta.get("parent")
        self.created = meta.get("created")
        data = meta.get("data")
        self.data = data if isinstance(data, dict) else None
        self.history, self.cursor = check_history(read_json(self.path / "history.json", limits.HISTORY_BYTES))
        for which in ("initial", "latest"):
            problem = npz_problem(self.path / f"{which}.npz")
            if problem:
                raise ValueError(problem)
        self._match_history_to_weights()
        self._best_saved_epoch = self.history.best_epoch if self.has("best") else None

    def _match_history_to_weights(self) -> None:
        """Cut a history that is ahead of latest.npz back to the weights' step; best_epoch follows best.npz."""
        saved = self.weights_cursor
        history = self.history
        if saved is not None and self.step != saved["step"]:
            if self.step < saved["step"] or len(history.epochs) < saved["epoch"]:
                raise ValueError(
                    f"latest.npz holds the weights of step {saved['step']} but history.json ends at step "
                    f"{self.step}: the files come from different saves; reset the run or restore both"
                )
            # A save stopped after the history and before the weights (or is under way right now).
            history = History(
                epochs=history.epochs[: saved["epoch"]],
                step_loss=history.step_loss[: saved["step"]],
                stop_reason=history.stop_reason,
                best_epoch=history.best_epoch,
                best_monitor=history.best_monitor,
            )
            self.history, self.cursor = history, dict(saved)
        if self.has("best"):
            try:
                best_meta = load_metadata(self.path / "best.npz")
            except ValueError:
                best_meta = None  # reported on the run's row
            if isinstance(best_meta, dict) and is_count(best_meta.get("epoch")):
                history.best_epoch = best_meta["epoch"]
        if history.best_epoch is not None and not 1 <= history.best_epoch <= len(history.epochs):
            history.best_epoch = None

    # ----------------------------------------------------------------- locking
    @contextlib.contextmanager
    def locked(self, owner: str | None = None):
        """Hold the run's lock while writing it; RunBusy when another trainer holds it.

        Re-entrant for this Run object: train_run holds it, and each save_progress inside
        finds it held. owner: who trains, for the message another trainer gets.
        """
        if self._lock_depth == 0:
            self._lock = RunLock(self.path, owner).acquire()
        self._lock_depth += 1
        try:
            yield self
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self._lock.release()
                self._lock = None

    # ----------------------------------------------------------------- reading
    @property
    def summary(self) -> dict:
        return summarize(self.history)

    @property
    def step(self) -> int:
        """Steps trained so far, as saved."""
        if self.cursor is not None and is_count(self.cursor.get("step")):
            return self.cursor["step"]
        return self.history.epochs[-1]["step"] if self.history.epochs else 0

    def has(self, which: str) -> bool:
        """Whether ``which``.npz is there (a link or special file counts: reading it then says what it is)."""
        return os.path.lexists(self.path / f"{which}.npz")

    def file_problems(self) -> list[str]:
        """Damaged files that do not stop the run from opening: best, optimizer state, snapshots."""
        problems = []
        for which in ("best", "optimizer"):
            if self.has(which):
                problem = npz_problem(self.path / f"{which}.npz")
                if problem:
                    problems.append(f"{problem}; {_FIXES[which]}")
        folder = self.path / "snapshots"
        if os.path.lexists(folder) and not _is_folder(folder):
            problems.append("snapshots is not a folder inside the run (a link or a file), so it is not read")
        elif os.path.lexists(folder):
            for path in sorted(folder.glob("epoch-*.npz")):
                problem = npz_problem(path)
                if problem:
                    problems.append(f"snapshots/{problem}; {_FIXES['snapshots']}")
        return problems

    def weights(self, which: str = "latest") -> dict[str, np.ndarray]:
        """The arrays of initial.npz, latest.npz or best.npz (best falls back to latest before any epoch)."""
        if which not in WEIGHT_FILES:
            raise ValueError(f"which must be one of {', '.join(WEIGHT_FILES)}, got {which!r}")
        if which == "best" and not self.has("best"):
            which = "latest"
        return _without_optimizer(load_arrays(self.path / f"{which}.npz")[0])

    def weights_file(self, which: str = "best") -> bytes:
        """The bytes of initial.npz, latest.npz or best.npz, for a download (best falls back to latest)."""
        if which not in WEIGHT_FILES:
            raise ValueError(f"which must be one of {', '.join(WEIGHT_FILES)}, got {which!r}")
        if which == "best" and not self.has("best"):
            which = "latest"
        return read_file(self.path / f"{which}.npz", limits.ARCHIVE_BYTES)

    def data_facts(self, dataset=None) -> dict:
        """What the network knows of its data (sample shape, outputs, vocabulary): stored with the run,
        read from ``dataset``, or, for runs written before runs stored them, from the weight shapes."""
        if self.data is not None:
            return check_data_facts(self.data)
        if dataset is not None:
            return self.config.data_facts(dataset)
        return legacy_data_facts(self.weights("initial"))

    def build_network(self, dataset=None, weights: dict | None = None) -> Network:
        """A network with this run's architecture (weights from the seed); no dataset needed.

        weights: arrays it will be given (e.g. from latest.npz): its planned size is checked against
        them before anything is built, so a config from outside cannot make it allocate layers of any
        size it claims.
        """
        facts = self.data_facts(dataset)
        stored = weights if weights is not None else self.weights("initial")
        check_planned_size(self.config.network_arguments(facts), stored, f"run {self.name!r}")
        return self.config.build_network(facts=facts)

    def load_network(self, which: str = "latest", dataset=None) -> Network:
        """The run's network with the chosen weights."""
        arrays = self.weights(which)
        net = self.build_network(dataset, arrays)
        net.set_weights(arrays)
        return net

    def snapshot_epochs(self) -> list[int]:
        """Epochs with a stored weight snapshot (0 is the initial weights)."""
        folder = self.path / "snapshots"
        epochs = [0] if self.has("initial") else []
        if _is_folder(folder):
            for path in folder.glob("epoch-*.npz"):
                try:
                    epochs.append(int(path.stem.split("-")[1]))
                except (IndexError, ValueError):
                    continue
        return sorted(set(epochs))

    def snapshot(self, epoch: int) -> dict[str, np.ndarray]:
        if epoch == 0:
            return self.weights("initial")
        return load_arrays(self.path / "snapshots" / f"epoch-{epoch:04d}.npz")[0]

    # ----------------------------------------------------------------- writing
    def save_progress(self, net: Network, trainer: Trainer) -> None:
        """Persist the history, the latest weights with the optimizer state; best when it improved; a snapshot.

        Under the run's lock. The history goes first and the latest weights, which
        hold the optimizer state and record their step, right after: they are the
        point where the save counts (see the class doc). A history that would pass its budget is not written:
        OverBudget stops the training and the run keeps its previous save.
        """
        cursor = trainer.cursor()
        # Compact: without indentation json uses its C encoder, 2-3× faster on a history that is
        # written whole at the end of every epoch.
        text = json.dumps(
            {**trainer.history.to_dict(), "cursor": cursor}, separators=(",", ":"), allow_nan=True
        )
        limit = limits.HISTORY_BYTES.value()
        if len(text) > limit:  # json.dumps writes ASCII only: characters are bytes
            raise limits.OverBudget(
                f"{limits.HISTORY_BYTES.exceeded(f'the history of run {self.name!r} would be', len(text), limit)}. "
                f"Training stops here; the run keeps its last save (step {self.step}). Fork the run to go on "
                "with a fresh history."
            )
        with self.locked():
            atomic_write(self.path / "history.json", lambda handle: handle.write(text.encode("ascii")))
            state, counters = _optimizer_state(trainer)
            save_arrays(
                self.path / "latest.npz",
                {**net.get_weights(), **state},
                {"cursor": cursor, "optimizer": counters},
            )
            self.history, self.cursor, self.weights_cursor = trainer.history, cursor, cursor
            (self.path / "optimizer.npz").unlink(missing_ok=True)  # superseded by the state in latest.npz
            best = trainer.history.best_epoch
            if best is not None and best != self._best_saved_epoch and trainer.best_weights is not None:
                save_arrays(self.path / "best.npz", trainer.best_weights, {"epoch": best})
                self._best_saved_epoch = best
            if trainer.batch_index == 0 and trainer.epoch > 0 and net.n_parameters <= SNAPSHOT_MAX_PARAMETERS:
                path = self.path / "snapshots" / f"epoch-{trainer.epoch:04d}.npz"
                if not os.path.lexists(path):
                    save_arrays(path, net.get_weights())

    def __repr__(self) -> str:
        return f"Run({self.name!r}, {self.config.describe()}, epochs={len(self.history)})"


OPTIMIZER_PREFIX = "optimizer."


def _optimizer_state(trainer: Trainer) -> tuple[dict[str, np.ndarray], dict]:
    """The optimizer's moments as named arrays ("optimizer.<layer>.<param>.<i>") and its counters."""
    opt = trainer.optimizer
    arrays = {}
    for (key, name), value in opt.state.items():
        parts = value if isinstance(value, tuple) else (value,)
        for i, part in enumerate(parts):
            arrays[f"{OPTIMIZER_PREFIX}{key}.{name}.{i}"] = part
    return arrays, {"optimizer": opt.name, "steps": opt.steps, "learning_rate": opt.learning_rate}


def _without_optimizer(arrays: dict) -> dict:
    return {key: value for key, value in arrays.items() if not key.startswith(OPTIMIZER_PREFIX)}


def _restore_optimizer(arrays: dict, meta, trainer: Trainer, net: Network) -> bool:
    """Put saved moments into ``trainer.optimizer``; False (fresh state) when they do not fit.

    arrays: "optimizer.*" arrays (latest.npz) or unprefixed ones (optimizer.npz of
    older runs); meta: {"optimizer", "steps", "learning_rate"}. Another optimizer's
    state, or arrays whose names, shapes or dtypes do not match ``net``'s
    parameters would be wrong or break the next step, so they are not used.
    """
    opt = trainer.optimizer
    if not isinstance(meta, dict) or meta.get("optimizer") != opt.name:
        return False
    steps, rate = meta.get("steps", 0), meta.get("learning_rate", opt.learning_rate)
    if not is_count(steps) or not is_number(rate) or not math.isfinite(rate) or rate <= 0:
        return False
    params = {(layer.name, name): value for layer in net.layers for name, value in layer.params.items()}
    grouped: dict = {}
    for flat, value in arrays.items():
        key, _, rest = flat.removeprefix(OPTIMIZER_PREFIX).partition(".")
        name, _, index = rest.rpartition(".")
        target = params.get((key, name))
        if (
            target is None
            or not index.isdigit()
            or value.shape != target.shape
            or value.dtype != target.dtype
        ):
            return False
        grouped.setdefault((key, name), {})[int(index)] = value
    if any(sorted(parts) != list(range(len(parts))) for parts in grouped.values()):
        return False
    opt.state = {
        k: (parts[0] if len(parts) == 1 else tuple(parts[i] for i in sorted(parts)))
        for k, parts in grouped.items()
    }
    opt.steps = int(steps)
    opt.learning_rate = float(rate)
    return True


def _load_optimizer(run: Run, latest: tuple[dict, dict | None], trainer: Trainer, net: Network) -> bool:
    """The optimizer state saved with the latest weights, or in optimizer.npz of a run saved before that."""
    arrays, metadata = latest
    if isinstance(metadata, dict) and "optimizer" in metadata:
        state = {key: value for key, value in arrays.items() if key.startswith(OPTIMIZER_PREFIX)}
        return _restore_optimizer(state, metadata["optimizer"], trainer, net)
    try:
        return _restore_optimizer(*load_arrays(run.path / "optimizer.npz"), trainer, net)
    except (FileNotFoundError, ValueError):  # absent, or damaged (reported on the run's row)
        return False


class RunStore:
    """The folder of runs (default runs/ or $BACKPROP_RUNS_DIR), shared by the app and the CLI."""

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else default_root()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    def path(self, name: str) -> Path:
        return self.root / clean_name(name)

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def names(self) -> list[str]:
        """Names of the folders in the store (and of links to folders), hidden ones left out."""
        try:
            entries = sorted(self.root.iterdir()) if self.root.is_dir() else []
        except OSError:
            return []
        return [p.name for p in entries if not p.name.startswith(".") and (_is_folder(p) or p.is_dir())]

    def list(self) -> list[RunInfo]:
        """Every run folder, oldest first; a folder that cannot be opened is a row with the reason, never an error."""
        return sort_listing([self.info(name) for name in self.names()])

    def signature(self, name: str) -> tuple:
        """What changes whenever the run's files do (each write replaces a file: new inode and time), read
        with a few ``lstat`` calls: a listing row or an opened history can be kept until it changes."""
        path = self.root / name
        parts = []
        for file in ("config.json", "history.json", "latest.npz", "best.npz", "optimizer.npz", "snapshots"):
            try:
                info = os.lstat(path / file)
            except OSError:
                parts.append(None)
                continue
            parts.append((info.st_ino, info.st_size, info.st_mtime_ns, info.st_mode))
        try:
            folder = os.lstat(path)
            parts.append((folder.st_ino, folder.st_mode))
        except OSError:
            parts.append(None)
        return tuple(parts)

    def info(self, name: str) -> RunInfo:
        """The listing row of one folder: the run's settings and summary, or why it cannot be opened."""
        path = self.root / name
        try:
            if clean_name(name) != name:
                raise ValueError(name)
        except ValueError:
            return RunInfo(
                name,
                path,
                damaged=(
                    f"the folder name {name!r} is not a valid run name (letters, digits, '-', '_' and '.', "
                    f"starting with a letter or digit), so the run cannot be opened by name; "
                    f"rename the folder to {suggest_name(name)!r}"
                ),
            )
        if path.is_symlink():
            return RunInfo(name, path, damaged=_linked_folder(name))
        fix = f"; restore the file from a copy, or delete the folder {path}"
        try:
            run = Run(path)
            problems = run.file_problems()
        except FileNotFoundError as err:
            return RunInfo(name, path, damaged=f"missing {Path(err.filename or '?').name}{fix}")
        except limits.OverBudget as err:
            return RunInfo(name, path, damaged=str(err))
        except (ValueError, OSError) as err:
            return RunInfo(name, path, damaged=f"{err}{fix}")
        except Exception as err:  # one run folder never takes down a page or the CLI listing
            return RunInfo(name, path, damaged=f"cannot be read ({type(err).__name__}: {err}){fix}")
        return RunInfo(name, path, run.config, run.summary, run.parent, run.created, problems=problems)

    def open(self, name: str) -> Run:
        path = self.path(name)
        if path.is_symlink():
            raise ValueError(_linked_folder(path.name))
        if not path.is_dir():
            raise ValueError(f"there is no run named {name!r} in {self.root}")
        try:
            return Run(path)
        except FileNotFoundError as err:
            raise ValueError(f"run {name!r} is damaged: missing {Path(err.filename or '?').name}") from None

    def unique_name(self, base: str) -> str:
        """``base`` if free, else base-2, base-3, ..."""
        base = clean_name(base)
        name, k = base, 2
        while self.exists(name):
            name, k = f"{base}-{k}", k + 1
        return name

    def _new_folder(self, name: str) -> Path:
        name = clean_name(name)
        path = self.root / name
        if path.exists():
            raise ValueError(f"a run named {name!r} already exists; choose another name")
        return path

    def _write_run(self, path: Path, config: RunConfig, initial: dict, parent: str | None, data: dict) -> Run:
        """Write a complete run into a hidden temp folder, then rename it into place."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=self.root))
        try:
            save_arrays(staging / "initial.npz", initial)
            save_arrays(staging / "latest.npz", initial, {"cursor": ZERO_CURSOR})
            _write_json(staging / "history.json", History().to_dict())
            _write_json(
                staging / "config.json",
                {
                    "format": RUN_FORMAT,
                    "name": path.name,
                    "created": _now(),
                    "parent": parent,
                    "config": config.to_dict(),
                    "data": data,
                },
            )
            _move_into_place(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return Run(path)

    def create(
        self,
        name: str,
        config: RunConfig,
        net: Network | None = None,
        dataset=None,
        parent: str | None = None,
    ) -> Run:
        """A new run with untrained weights: ``net``'s, or built from ``config`` for ``dataset``."""
        path = self._new_folder(name)
        if not isinstance(config, RunConfig):
            raise ValueError(f"config must be a RunConfig, got {type(config).__name__}")
        if dataset is None:
            raise ValueError("give the dataset the run trains on")
        facts = config.data_facts(dataset)
        if net is None:
            net = config.build_network(facts=facts)
        return self._write_run(path, config, net.get_weights(), parent, facts)

    def fork(self, name: str, new_name: str, dataset=None, **changes) -> Run:
        """A new run with ``changes`` applied to ``name``'s config, fair to compare with it.

        Same seed (unless changed), so the batch order is the same; the parent's
        initial weights are copied when the seed is unchanged and every weight
        shape matches (e.g. a new activation, learning rate or optimizer);
        otherwise the fork gets the fresh init of its own architecture, which
        needs ``dataset``.
        """
        parent = self.open(name)
        config = parent.config.replace(**changes)
        if "dataset" in changes or "dataset_params" in changes:
            raise ValueError("a fork trains on its parent's data; create a new run for other data")
        path = self._new_folder(new_name)
        facts = parent.data_facts(dataset)
        net = config.build_network(facts=facts)
        initial = parent.weights("initial")
        if config.seed == parent.config.seed:
            try:
                net.set_weights(initial)
                return self._write_run(path, config, initial, parent.name, facts)
            except ValueError:
                pass  # the shapes differ: the fork gets its own fresh init
        return self._write_run(path, config, net.get_weights(), parent.name, facts)

    def rename(self, name: str, new_name: str, owner: str | None = None) -> Run:
        """Rename a run (and the parent named by its forks); RunBusy while someone trains it."""
        old = self.path(name)
        if old.is_symlink():
            raise ValueError(_linked_folder(old.name))
        if not old.is_dir():
            raise ValueError(f"there is no run named {name!r}")
        new = self._new_folder(new_name)
        with RunLock(old, owner):
            _move_into_place(old, new)
        meta_path = new / "config.json"
        try:
            meta = check_meta(read_json(meta_path, limits.CONFIG_BYTES))
            meta["name"] = new.name
            _write_json(meta_path, meta)
        except (FileNotFoundError, ValueError):
            pass  # a damaged run keeps its files; the folder name is what counts
        for child in self.names():
            child_meta = self.root / child / "config.json"
            if not _is_folder(child_meta.parent):
                continue
            try:
                meta = check_meta(read_json(child_meta, limits.CONFIG_BYTES))
                if meta.get("parent") == name:
                    meta["parent"] = new.name
                    _write_json(child_meta, meta)
            except (FileNotFoundError, ValueError):
                continue
        return self.open(new.name)

    def delete(self, name: str, owner: str | None = None) -> None:
        """Delete a run folder (a link is removed, not what it points to); RunBusy while someone trains it."""
        path = self.path(name)
        if path.is_symlink():
            path.unlink()
            return
        if not path.is_dir():
            raise ValueError(f"there is no run named {name!r}")
        # Rename first so a half-deleted folder is never listed as a run.
        trash = self.root / f".deleting-{path.name}-{os.getpid()}-{time.monotonic_ns()}"
        with RunLock(path, owner):
            os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def reset(self, name: str, owner: str | None = None) -> Run:
        """Back to the initial weights with an empty history (best, optimizer state, snapshots removed).

        The extra files go first and the history last, so a reset cut short still
        opens: its history is cut back to the step-0 weights.
        """
        run = self.open(name)
        initial = run.weights("initial")
        with run.locked(owner):
            for extra in ("best.npz", "optimizer.npz"):
                (run.path / extra).unlink(missing_ok=True)
            if _is_folder(run.path / "snapshots"):
                shutil.rmtree(run.path / "snapshots")
            save_arrays(run.path / "latest.npz", initial, {"cursor": ZERO_CURSOR})
            _write_json(run.path / "history.json", History().to_dict())
        return self.open(name)

    # ---------------------------------------------------------- export/import
    def export_zip(self, name: str) -> bytes:
        """config.json, history.json, history.csv and the readable weight files of a run, as zip bytes.

        The latest weights are read before the history (training writes the history
        first), so the history is never older than the weights; a damaged best or
        optimizer file is left out (the run's row reports it).
        """
        run = self.open(name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in ARCHIVE_FILES:
                path = run.path / file
                if file == "history.csv" or not os.path.lexists(path):
                    continue
                if file.endswith(".npz") and npz_problem(path):
                    continue
                with open_regular(path) as source, archive.open(file, "w") as target:
                    shutil.copyfileobj(source, target, _CHUNK)
            archive.writestr("history.csv", history_csv(Run(run.path).history))
        return buffer.getvalue()

    def import_zip(self, data, name: str | None = None) -> Run:
        """A run from export_zip bytes (or a binary file); ValueError says why not, and the store is unchanged.

        Nothing is trusted: names must be the run files (no paths), sizes come from
        the zip directory and are held to ``limits`` budgets, then enforced while
        inflating; every file is checked (JSON shapes, every byte of the weights,
        weight shapes against the config, optimizer state against the network)
        in a hidden folder that becomes the run only when all of it passed.
        """
        source = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
        try:
            archive = zipfile.ZipFile(source)
        except (*_ZIP_ERRORS, ValueError):
            raise ValueError("the upload is not a zip file exported from a run") from None
        with archive:
            try:
                members = _archive_members(archive)
                meta = check_meta(_json_member(archive, members["config.json"]))
            except _ZIP_ERRORS as err:
                raise ValueError(
                    f"the zip is damaged ({type(err).__name__}: {err}); export the run again"
                ) from None
            _config_from(meta["config"])
            path = self._new_folder(name if name is not None else meta.get("name") or "imported")
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=self.root))
            try:
                for file, info in members.items():
                    if file != "history.csv":
                        _extract(archive, info, staging / file)
                meta.update(name=path.name, parent=None, imported=_now())
                _write_json(staging / "config.json", meta)
                _check_imported(Run(staging))
                _move_into_place(staging, path)
            except _ZIP_ERRORS as err:
                shutil.rmtree(staging, ignore_errors=True)
                if isinstance(err, (FileNotFoundError, FileExistsError)):
                    raise ValueError(f"the zip does not hold a complete run ({err})") from None
                raise ValueError(
                    f"the zip is damaged ({type(err).__name__}: {err}); export the run again"
                ) from None
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return Run(path)


_CHUNK = 1 << 20


def _archive_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The run files a zip holds, refused from its directory alone when anything is off."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        file = info.filename
        if file not in ARCHIVE_FILES:
            parts = re.split(r"[\\/]", file)
            if file.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", file):
                raise ValueError(
                    f"the zip holds {file!r}, a path outside a run folder; it is not an exported run"
                )
            raise ValueError(
                f"the zip holds {file!r}, which is not part of an exported run "
                f"({', '.join(sorted(ARCHIVE_FILES))})"
            )
        if file in members:
            raise ValueError(f"the zip holds {file} twice; it is not an exported run")
        if info.flag_bits & 0x1:
            raise ValueError(f"{file} in the zip is encrypted; export the run again without a password")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(
                f"{file} in the zip uses compression method {info.compress_type}, which is not read here; "
                "export the run again"
            )
        budget = ARCHIVE_FILES[file]
        if budget is not None and info.file_size > budget.value():
            raise budget.exceeded(f"{file} in the zip", info.file_size)
        members[file] = info
    missing = [file for file in REQUIRED_ARCHIVE_FILES if file not in members]
    if missing:
        raise ValueError(f"the zip is not an exported run: missing {', '.join(missing)}")
    total = sum(info.file_size for info in members.values())
    if total > limits.ARCHIVE_BYTES.value():
        raise limits.ARCHIVE_BYTES.exceeded("the zip unpacked", total)
    return members


def _member_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, member) -> BoundedReader:
    def too_much():
        return ValueError(f"{info.filename} in the zip is damaged: it holds more data than its header says")

    return BoundedReader(member, info.file_size, too_much)


def _json_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    """The JSON value of a member already held to its budget by _archive_members."""
    with archive.open(info) as member:
        data = _member_reader(archive, info, member).read()
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"{info.filename} in the zip is not valid JSON ({err})") from None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one member to ``target`` a chunk at a time, never more bytes than its header declared."""
    written = 0
    with archive.open(info) as member, open(target, "xb") as out:
        reader = _member_reader(archive, info, member)
        while chunk := reader.read(_CHUNK):
            out.write(chunk)
            written += len(chunk)
    if written != info.file_size:
        raise ValueError(
            f"{info.filename} in the zip is damaged: it ends after {written:,} of {info.file_size:,} bytes"
        )


def _check_imported(run: Run) -> None:
    """Everything an imported run must satisfy before it appears in the store (ValueError otherwise)."""
    for which in ("best", "optimizer"):
        if run.has(which):
            problem = npz_problem(run.path / f"{which}.npz")
            if problem:
                raise ValueError(problem)
    try:
        initial = run.weights("initial")
        shapes = {key: value.shape for key, value in initial.items()}
        net = run.build_network(weights=initial)
        for which in ("initial", "latest", "best"):
            if run.has(which):
                arrays = initial if which == "initial" else run.weights(which)
                if {key: value.shape for key, value in arrays.items()} != shapes:
                    raise ValueError(f"{which}.npz and initial.npz in the zip hold different architectures")
                net.set_weights(arrays)
        latest = load_arrays(run.path / "latest.npz")
        has_state = isinstance(latest[1], dict) and "optimizer" in latest[1]
        if (has_state or run.has("optimizer")) and not _load_optimizer(
            run, latest, run.config.build_trainer(net), net
        ):
            where = "the optimizer state in latest.npz" if has_state else "optimizer.npz"
            raise ValueError(
                f"{where} in the zip does not fit the run's network and optimizer; export the run again"
            )
    except (TypeError, KeyError, IndexError, AttributeError) as err:
        raise ValueError(
            f"the weights in the zip do not fit its config ({type(err).__name__}: {err})"
        ) from None


def _move_into_place(staging: Path, path: Path) -> None:
    """Rename a finished staging folder to the run's name; a run that appeared meanwhile is not replaced."""
    try:
        os.rename(staging, path)
    except OSError as err:
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise ValueError(f"a run named {path.name!r} already exists; choose another name") from None
        raise


def check_data_facts(data: dict) -> dict:
    """A run's stored data facts, checked: ValueError when they are not what data_facts writes."""
    shape, outputs, vocab = data.get("input_shape"), data.get("n_outputs"), data.get("vocab_size")
    if not (
        isinstance(shape, list)
        and 0 < len(shape) <= 3
        and all(is_count(n) and n > 0 for n in shape)
        and is_count(outputs)
        and outputs > 0
        and (vocab is None or is_count(vocab) and vocab > 0)
    ):
        raise ValueError(f"config.json has data facts of the wrong shape: {str(data)[:80]}")
    return {"input_shape": list(shape), "n_outputs": outputs, "vocab_size": vocab}


def legacy_data_facts(arrays: dict) -> dict:
    """The data facts of a run written before runs stored them: its network was a multilayer
    perceptron whose weights were named layer1.W … layerK.W (and embedding.table)."""
    dense = sorted(
        (int(name[5:-2]), value)
        for name, value in arrays.items()
        if name.startswith("layer") and name.endswith(".W") and name[5:-2].isdigit()
    )
    if not dense or any(value.ndim != 2 for _, value in dense):
        raise ValueError(
            "the run stores neither its data facts nor weights named layer1.W … to read them from"
        )
    first, last = dense[0][1], dense[-1][1]
    table = arrays.get("embedding.table")
    if table is not None:
        if table.ndim != 2 or table.shape[1] == 0 or first.shape[0] % table.shape[1]:
            raise ValueError(f"the embedding table's shape {table.shape} does not fit layer1.W {first.shape}")
        vocab, dim = table.shape
        return {
            "input_shape": [first.shape[0] // dim],
            "n_outputs": int(last.shape[1]),
            "vocab_size": int(vocab),
        }
    return {"input_shape": [int(first.shape[0])], "n_outputs": int(last.shape[1]), "vocab_size": None}


def history_csv(history: History) -> str:
    """Per-epoch metrics as CSV text (per-layer statistics stay in history.json)."""
    lines = [",".join(EPOCH_FIELDS)]
    for record in history.epochs:
        lines.append(",".join("" if record.get(k) is None else repr(record.get(k)) for k in EPOCH_FIELDS))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ training


def layer_statistics(net: Network, x_probe: np.ndarray, y_probe: np.ndarray) -> list[dict]:
    """Per layer: percentiles of W, of a and of dW on a fixed probe batch, and the norm of (dW, db).

    The gradients are taken in eval mode (no dropout, running batch-norm statistics)
    so that the numbers move only because the weights moved.
    """
    trace = net.gradients(x_probe, y_probe, train=False)
    stats = []
    for block in trace.blocks:
        transform = block.transform  # a dense or conv layer's W, attention's Wq…Wo, an embedding's table
        names = [name for name in transform.params if name.startswith("W") or name == "table"]
        weights = np.concatenate([transform.params[name].ravel() for name in names])
        grads = np.concatenate([transform.grads[name].ravel() for name in names])
        grad_norm = math.sqrt(sum(float(np.vdot(g, g)) for g in transform.grads.values()))
        stats.append(
            {
                "W": np.percentile(weights, PERCENTILES).astype(float).tolist(),
                "a": np.percentile(block.a, PERCENTILES).astype(float).tolist(),
                "dW": np.percentile(grads, PERCENTILES).astype(float).tolist(),
                "grad_norm": grad_norm,
            }
        )
    return stats


def build_for_training(run: Run, dataset) -> tuple[Network, Trainer]:
    """Network (latest weights) and trainer continuing the run where it stopped.

    The trainer's epoch, step, samples seen and position inside a stopped epoch
    come from the history, so the batch order continues; optimizer moments,
    learning rate, schedule and early-stopping state are restored too.
    """
    latest = load_arrays(run.path / "latest.npz")
    saved = _saved_cursor(latest[1], "latest.npz")
    if saved is not None and saved["step"] != run.step:
        # Saved again since the run was read (someone trains it): read the history again, which
        # is at least as new as these weights, and cut it back to them.
        run._load(weights_metadata=latest[1])
    config = run.config
    weights = _without_optimizer(latest[0])
    # built after checking its planned size against the weights, which the .npz budgets bounded
    net = run.build_network(dataset, weights)
    net.set_weights(weights)
    trainer = config.build_trainer(net)
    history = run.history
    saved_cursor = run.cursor or {}
    last = history.epochs[-1] if history.epochs else {}
    cursor = {
        "epoch": len(history.epochs),
        "step": saved_cursor.get("step", last.get("step", 0)),
        "samples_seen": saved_cursor.get("samples_seen", last.get("samples_seen", 0)),
    }
    if saved_cursor.get("epoch") == len(history.epochs) and saved_cursor.get("batch_index"):
        # stopped inside an epoch: continue with its next batch and its partial sums
        cursor.update(batch_index=saved_cursor["batch_index"], epoch_stats=saved_cursor.get("epoch_stats"))
    trainer.resume(cursor, history)
    rate = trainer.optimizer.learning_rate
    for record in history.epochs:  # replay: plateau and early-stopping counters
        rate = trainer.schedule.next_rate(trainer.base_rate, rate, record["epoch"], record)
        if trainer.early_stopping is not None:
            trainer.early_stopping.should_stop(record)
    trainer.optimizer.learning_rate = rate
    _load_optimizer(run, latest, trainer, net)
    best_weights = None
    if history.best_epoch is not None and run.has("best"):
        with contextlib.suppress(ValueError):  # a damaged best.npz is reported on the run's row
            best_weights = run.weights("best")
    if best_weights is not None:
        trainer.best_weights = best_weights
        monitor = history.best_monitor or "val_accuracy"
        record = history.epochs[history.best_epoch - 1] if history.best_epoch <= len(history.epochs) else {}
        value = record.get(monitor)
        if value is not None:
            trainer.best_value = float(value) if monitor.endswith("loss") else -float(value)
    return net, trainer


def probe_batch(config: RunConfig, dataset, size: int = PROBE_SIZE):
    """A fixed batch for per-layer statistics: the first rows of validation (or training) data."""
    x, y = (dataset.x_val, dataset.y_val) if len(dataset.x_val) else (dataset.x_train, dataset.y_train)
    return x[:size], config.targets(dataset, y[:size])


def train_run(
    run: Run,
    dataset,
    epochs: int | None = None,
    callback: Callable | None = None,
    net: Network | None = None,
    trainer: Trainer | None = None,
    steps: int | None = None,
    owner: str | None = None,
):
    """Train ``run`` for ``epochs`` more epochs (or ``steps`` steps); returns (net, trainer).

    Pass the net and trainer of an earlier call to keep going in memory; else
    they are rebuilt from the run's files. After every epoch the per-layer
    statistics are added to the epoch record and everything is saved, so a stop
    (callback returning True, Ctrl-C, divergence) keeps each finished epoch; the
    weights after the last finished step are saved as latest.

    The run's lock is held throughout: RunBusy when another trainer (another
    session, the command line) holds it, and RunChanged when the given trainer
    is no longer where the run's files are (someone else trained it meanwhile),
    so no one's epochs are overwritten. owner: who trains, for their messages.
    """
    with run.locked(owner):
        run._load()  # under the lock the files are what the last save left
        if net is None or trainer is None:
            net, trainer = build_for_training(run, dataset)
        elif trainer.step != run.step or len(trainer.history.epochs) != len(run.history.epochs):
            raise RunChanged(
                f"run {run.name!r} was trained elsewhere since it was loaded here: it is at step {run.step}, "
                f"this copy at step {trainer.step}; open it again to continue from its saved state"
            )
        return _train_locked(run, dataset, epochs, callback, net, trainer, steps)


def _train_locked(run: Run, dataset, epochs, callback, net: Network, trainer: Trainer, steps):
    config = run.config
    x_probe, y_probe = probe_batch(config, dataset)
    validation = (dataset.x_val, config.targets(dataset, dataset.y_val)) if len(dataset.x_val) else None

    def on_event(event: TrainingEvent):
        if event.kind == "epoch":
            event.record["layers"] = layer_statistics(net, x_probe, y_probe)
            run.save_progress(net, trainer)
        return callback(event) if callback is not None else None

    try:
        trainer.run(
            dataset.x_train,
            config.targets(dataset, dataset.y_train),
            epochs=epochs,
            steps=steps,
            validation=validation,
            callback=on_event,
        )
    except BaseException as err:
        # Ctrl-C, divergence, or a Streamlit rerun stopping the script: keep what is done.
        trainer.history.stop_reason = trainer.history.stop_reason or (
            str(err) if isinstance(err, TrainingDiverged) else "interrupted"
        )
        # the original error says more than a failed save after it
        with contextlib.suppress(Exception):
            run.save_progress(net, trainer)
        raise
    run.save_progress(net, trainer)
    return net, trainer


def weight_distances(run_a: Run, run_b: Run) -> dict:
    """Per-layer L2 distance ‖W_a − W_b‖ at every epoch both runs have a snapshot of.

    Returns {"epochs": [...], "layers": {"dense1.W": [...], ...}}; empty when the
    architectures differ or no common snapshots exist.
    """
    common = sorted(set(run_a.snapshot_epochs()) & set(run_b.snapshot_epochs()))
    out = {"epochs": [], "layers": {}}
    for epoch in common:
        try:
            a, b = run_a.snapshot(epoch), run_b.snapshot(epoch)
        except (FileNotFoundError, ValueError):
            continue
        names = [k for k in a if k.endswith((".W", ".table"))]
        if any(k not in b or b[k].shape != a[k].shape for k in names):
            return {"epochs": [], "layers": {}}
        out["epochs"].append(epoch)
        for k in names:
            diff = a[k].astype(np.float64) - b[k].astype(np.float64)
            out["layers"].setdefault(k, []).append(float(np.sqrt(np.vdot(diff, diff))))
    return out
