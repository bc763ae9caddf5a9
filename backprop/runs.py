"""Training runs on disk: one folder per run, shared by the app and the command line.

    store = RunStore()                       # runs/ or $BACKPROP_RUNS_DIR
    run = store.create("gelu", RunConfig(dataset="circle", activation="gelu"))
    net, trainer = train_run(run, dataset, epochs=5)
    store.fork("gelu", "relu", activation="relu")   # same seed, init and batch order

A run folder holds
    config.json    {"format", "name", "created", "parent", "config": RunConfig.to_dict()}
    history.json   History.to_dict() plus "cursor" (where a stopped epoch resumes)
    initial.npz    weights before the first step
    latest.npz     weights after the last finished step
    best.npz       weights of the best epoch (absent until the first epoch ends)
    optimizer.npz  optimizer state (momentum / Adam moments) so a resume is exact
    snapshots/epoch-NNNN.npz  per-epoch weights, kept for networks up to
                   SNAPSHOT_MAX_PARAMETERS parameters (for weight distances between runs)

Every file is written atomically (temp file, fsync, os.replace); arrays are read
with allow_pickle=False; a damaged run is listed with the reason, never fatal.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .config import RunConfig
from .io import atomic_write, load_arrays, save_arrays
from .network import Network
from .training import History, Trainer, TrainingDiverged, TrainingEvent

RUN_FORMAT = "backprop-run/1"
RUNS_DIR_ENV = "BACKPROP_RUNS_DIR"
WEIGHT_FILES = ("initial", "latest", "best")
# Per-epoch snapshots cost 4 bytes per parameter per epoch; 500k parameters is 2 MB an epoch.
SNAPSHOT_MAX_PARAMETERS = 500_000
# Percentiles of TensorBoard's "distributions" view: min, ±1.5σ, ±1σ, ±0.5σ, median, max.
PERCENTILES = (0, 7, 16, 31, 50, 69, 84, 93, 100)
PROBE_SIZE = 256
MAX_NAME_LENGTH = 80
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_IMPORT_FILES = {"config.json", "history.json", "initial.npz", "latest.npz", "best.npz", "optimizer.npz"}
_MAX_IMPORT_BYTES = 512 * 1024 * 1024


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data) -> None:
    text = json.dumps(data, indent=1, allow_nan=True)
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path.name} is not valid JSON ({err})") from None


def _check_npz(path: Path) -> None:
    """Cheap integrity check for a listing: the zip directory is readable and holds only .npy members."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ValueError(f"{path.name} is not a readable weights file ({err})") from None
    if not names or not all(n.endswith(".npy") for n in names):
        raise ValueError(f"{path.name} is not a weights file (members {names[:3]})")


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
        seconds = [r.get("seconds") or 0.0 for r in history.epochs if r["epoch"] <= summary["best_epoch"]]
        summary["seconds_to_best"] = float(sum(seconds))
    return summary


@dataclass
class RunInfo:
    """One row of a listing; ``damaged`` is None or the reason the run cannot be opened."""

    name: str
    path: Path
    config: RunConfig | None = None
    summary: dict = field(default_factory=dict)
    parent: str | None = None
    created: str | None = None
    damaged: str | None = None

    def __repr__(self) -> str:
        state = f"damaged: {self.damaged}" if self.damaged else f"{self.summary.get('epochs', 0)} epochs"
        return f"RunInfo({self.name!r}, {state})"


class Run:
    """An open run folder: its config, history and weights."""

    def __init__(self, path):
        self.path = Path(path)
        self.name = self.path.name
        meta = _read_json(self.path / "config.json")
        if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT or "config" not in meta:
            raise ValueError(f"config.json is not a {RUN_FORMAT} run description")
        self.config = RunConfig.from_dict(meta["config"])
        self.parent = meta.get("parent")
        self.created = meta.get("created")
        data = meta.get("data")
        self.data = data if isinstance(data, dict) else None
        raw = _read_json(self.path / "history.json")
        self.history = History.from_dict(raw)
        self.cursor = raw.get("cursor") if isinstance(raw.get("cursor"), dict) else None
        for which in ("initial", "latest"):
            _check_npz(self.path / f"{which}.npz")
        self._best_saved_epoch = self.history.best_epoch if (self.path / "best.npz").exists() else None

    # ----------------------------------------------------------------- reading
    @property
    def summary(self) -> dict:
        return summarize(self.history)

    def has(self, which: str) -> bool:
        return (self.path / f"{which}.npz").exists()

    def weights(self, which: str = "latest") -> dict[str, np.ndarray]:
        """The arrays of initial.npz, latest.npz or best.npz (best falls back to latest before any epoch)."""
        if which not in WEIGHT_FILES:
            raise ValueError(f"which must be one of {', '.join(WEIGHT_FILES)}, got {which!r}")
        if which == "best" and not self.has("best"):
            which = "latest"
        return load_arrays(self.path / f"{which}.npz")[0]

    def data_facts(self, dataset=None) -> dict:
        """What the network knows of its data (sample shape, outputs, vocabulary): stored with the run,
        read from ``dataset``, or, for runs written before runs stored them, from the weight shapes."""
        if self.data is not None:
            return self.data
        if dataset is not None:
            return self.config.data_facts(dataset)
        return legacy_data_facts(self.weights("initial"))

    def build_network(self, dataset=None) -> Network:
        """A network with this run's architecture (weights from the seed); no dataset needed."""
        return self.config.build_network(facts=self.data_facts(dataset))

    def load_network(self, which: str = "latest", dataset=None) -> Network:
        """The run's network with the chosen weights."""
        net = self.build_network(dataset)
        net.set_weights(self.weights(which))
        return net

    def snapshot_epochs(self) -> list[int]:
        """Epochs with a stored weight snapshot (0 is the initial weights)."""
        folder = self.path / "snapshots"
        epochs = [0] if self.has("initial") else []
        if folder.is_dir():
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
        """Persist latest weights, optimizer state and history; best when it improved; a snapshot per epoch."""
        self.history = trainer.history
        self.cursor = trainer.cursor()
        save_arrays(self.path / "latest.npz", net.get_weights())
        _save_optimizer(self.path / "optimizer.npz", trainer)
        best = trainer.history.best_epoch
        if best is not None and best != self._best_saved_epoch and trainer.best_weights is not None:
            save_arrays(self.path / "best.npz", trainer.best_weights)
            self._best_saved_epoch = best
        if trainer.batch_index == 0 and trainer.epoch > 0 and net.n_parameters <= SNAPSHOT_MAX_PARAMETERS:
            path = self.path / "snapshots" / f"epoch-{trainer.epoch:04d}.npz"
            if not path.exists():
                save_arrays(path, net.get_weights())
        # History last: a crash between files leaves the history describing weights that exist.
        _write_json(self.path / "history.json", {**trainer.history.to_dict(), "cursor": self.cursor})

    def __repr__(self) -> str:
        return f"Run({self.name!r}, {self.config.describe()}, epochs={len(self.history)})"


def _save_optimizer(path: Path, trainer: Trainer) -> None:
    opt = trainer.optimizer
    arrays = {}
    for (key, name), value in opt.state.items():
        parts = value if isinstance(value, tuple) else (value,)
        for i, part in enumerate(parts):
            arrays[f"{key}.{name}.{i}"] = part
    save_arrays(path, arrays, {"optimizer": opt.name, "steps": opt.steps, "learning_rate": opt.learning_rate})


def _load_optimizer(path: Path, trainer: Trainer) -> bool:
    """Restore optimizer moments saved by _save_optimizer; False (fresh state) when absent or foreign."""
    try:
        arrays, meta = load_arrays(path)
    except (FileNotFoundError, ValueError):
        return False
    opt = trainer.optimizer
    if not meta or meta.get("optimizer") != opt.name:
        return False
    grouped: dict = {}
    layers = {layer.name for layer in trainer.net.layers}
    for flat, value in arrays.items():
        layer, name, index = flat.rsplit(".", 2)
        if layer not in layers:  # a file from an older layout: those moments start fresh
            continue
        grouped.setdefault((layer, name), {})[int(index)] = value
    opt.state = {
        k: (parts[0] if len(parts) == 1 else tuple(parts[i] for i in sorted(parts)))
        for k, parts in grouped.items()
    }
    opt.steps = int(meta.get("steps", 0))
    opt.learning_rate = float(meta.get("learning_rate", opt.learning_rate))
    return True


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
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def list(self) -> list[RunInfo]:
        """Every run folder, oldest first; damaged runs carry the reason and never raise."""
        infos = []
        for name in self.names():
            path = self.root / name
            try:
                run = Run(path)
            except FileNotFoundError as err:
                infos.append(RunInfo(name, path, damaged=f"missing {Path(err.filename or '?').name}"))
                continue
            except (ValueError, TypeError, KeyError, OSError) as err:
                infos.append(RunInfo(name, path, damaged=str(err)))
                continue
            infos.append(RunInfo(name, path, run.config, run.summary, run.parent, run.created))
        infos.sort(key=lambda info: (info.created or "", info.name))
        return infos

    def open(self, name: str) -> Run:
        path = self.path(name)
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
            save_arrays(staging / "latest.npz", initial)
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
            os.rename(staging, path)
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

    def rename(self, name: str, new_name: str) -> Run:
        old = self.path(name)
        if not old.is_dir():
            raise ValueError(f"there is no run named {name!r}")
        new = self._new_folder(new_name)
        os.rename(old, new)
        meta_path = new / "config.json"
        try:
            meta = _read_json(meta_path)
            meta["name"] = new.name
            _write_json(meta_path, meta)
        except (FileNotFoundError, ValueError, TypeError):
            pass  # a damaged run keeps its files; the folder name is what counts
        for child in self.names():
            child_meta = self.root / child / "config.json"
            try:
                meta = _read_json(child_meta)
                if isinstance(meta, dict) and meta.get("parent") == name:
                    meta["parent"] = new.name
                    _write_json(child_meta, meta)
            except (FileNotFoundError, ValueError):
                continue
        return self.open(new.name)

    def delete(self, name: str) -> None:
        path = self.path(name)
        if not path.is_dir():
            raise ValueError(f"there is no run named {name!r}")
        # Rename first so a half-deleted folder is never listed as a run.
        trash = self.root / f".deleting-{path.name}-{os.getpid()}-{time.monotonic_ns()}"
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def reset(self, name: str) -> Run:
        """Back to the initial weights with an empty history (best, optimizer state, snapshots removed)."""
        run = self.open(name)
        initial = run.weights("initial")
        save_arrays(run.path / "latest.npz", initial)
        _write_json(run.path / "history.json", History().to_dict())
        for extra in ("best.npz", "optimizer.npz"):
            (run.path / extra).unlink(missing_ok=True)
        shutil.rmtree(run.path / "snapshots", ignore_errors=True)
        return self.open(name)

    # ---------------------------------------------------------- export/import
    def export_zip(self, name: str) -> bytes:
        """config.json, history.json, history.csv and the weight files of a run, as zip bytes."""
        run = self.open(name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(_IMPORT_FILES):
                if (run.path / file).exists():
                    archive.write(run.path / file, file)
            archive.writestr("history.csv", history_csv(run.history))
        return buffer.getvalue()

    def import_zip(self, data: bytes, name: str | None = None) -> Run:
        """A run from export_zip bytes; every file is validated before the run appears."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise ValueError("the upload is not a zip file exported from a run") from None
        with archive:
            members = {info.filename: info for info in archive.infolist() if not info.is_dir()}
            missing = sorted({"config.json", "history.json", "initial.npz", "latest.npz"} - set(members))
            if missing:
                raise ValueError(f"the zip is not an exported run: missing {', '.join(missing)}")
            if sum(info.file_size for info in members.values()) > _MAX_IMPORT_BYTES:
                raise ValueError("the zip is larger than 512 MB unpacked; is it an exported run?")
            try:
                meta = json.loads(archive.read("config.json").decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise ValueError(f"config.json in the zip is not valid JSON ({err})") from None
            if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT:
                raise ValueError(f"config.json in the zip is not a {RUN_FORMAT} run description")
            RunConfig.from_dict(meta.get("config"))
            path = self._new_folder(name if name is not None else str(meta.get("name") or "imported"))
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=self.root))
            try:
                for file in _IMPORT_FILES & set(members):
                    (staging / file).write_bytes(archive.read(file))
                for file in _IMPORT_FILES & set(members):
                    if file.endswith(".npz"):
                        load_arrays(staging / file)
                meta.update(name=path.name, parent=None, imported=_now())
                _write_json(staging / "config.json", meta)
                run = Run(staging)
                shapes = {k: v.shape for k, v in run.weights("initial").items()}
                if {k: v.shape for k, v in run.weights("latest").items()} != shapes:
                    raise ValueError("latest.npz and initial.npz in the zip hold different architectures")
                run.load_network("initial")
                os.rename(staging, path)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return Run(path)


def legacy_data_facts(arrays: dict) -> dict:
    """The data facts of a run written before runs stored them: its network was a multilayer
    perceptron whose weights were named layer1.W … layerK.W (and embedding.table)."""
    dense = sorted(
        (int(name[5:-2]), value)
        for name, value in arrays.items()
        if name.startswith("layer") and name.endswith(".W") and name[5:-2].isdigit()
    )
    if not dense:
        raise ValueError(
            "the run stores neither its data facts nor weights named layer1.W … to read them from"
        )
    first, last = dense[0][1], dense[-1][1]
    if "embedding.table" in arrays:
        vocab, dim = arrays["embedding.table"].shape
        return {
            "input_shape": [first.shape[0] // dim],
            "n_outputs": int(last.shape[1]),
            "vocab_size": int(vocab),
        }
    return {"input_shape": [int(first.shape[0])], "n_outputs": int(last.shape[1]), "vocab_size": None}


CSV_FIELDS = (
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


def history_csv(history: History) -> str:
    """Per-epoch metrics as CSV text (per-layer statistics stay in history.json)."""
    lines = [",".join(CSV_FIELDS)]
    for record in history.epochs:
        lines.append(",".join("" if record.get(k) is None else repr(record.get(k)) for k in CSV_FIELDS))
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
        transform = block.transform
        # the block's main weight: W, an embedding's table, attention's first projection
        main = "W" if "W" in transform.params else next(iter(transform.params))
        weights, grads = transform.params[main], transform.grads[main]
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
    config = run.config
    net = config.build_network(dataset)
    net.set_weights(run.weights("latest"))
    trainer = config.build_trainer(net)
    history = run.history
    saved = run.cursor or {}
    last = history.epochs[-1] if history.epochs else {}
    cursor = {
        "epoch": len(history.epochs),
        "step": saved.get("step", last.get("step", 0)),
        "samples_seen": saved.get("samples_seen", last.get("samples_seen", 0)),
    }
    if saved.get("epoch") == len(history.epochs) and saved.get("batch_index"):
        # stopped inside an epoch: continue with its next batch and its partial sums
        cursor.update(batch_index=saved["batch_index"], epoch_stats=saved.get("epoch_stats"))
    trainer.resume(cursor, history)
    rate = trainer.optimizer.learning_rate
    for record in history.epochs:  # replay: plateau and early-stopping counters
        rate = trainer.schedule.next_rate(trainer.base_rate, rate, record["epoch"], record)
        if trainer.early_stopping is not None:
            trainer.early_stopping.should_stop(record)
    trainer.optimizer.learning_rate = rate
    _load_optimizer(run.path / "optimizer.npz", trainer)
    if history.best_epoch is not None and run.has("best"):
        trainer.best_weights = run.weights("best")
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
):
    """Train ``run`` for ``epochs`` more epochs (or ``steps`` steps); returns (net, trainer).

    Pass the net and trainer of an earlier call to keep going in memory; else
    they are rebuilt from the run's files. After every epoch the per-layer
    statistics are added to the epoch record and everything is saved, so a stop
    (callback returning True, Ctrl-C, divergence) keeps each finished epoch; the
    weights after the last finished step are saved as latest.
    """
    if net is None or trainer is None:
        net, trainer = build_for_training(run, dataset)
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
