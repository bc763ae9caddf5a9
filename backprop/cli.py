"""Command line: train, list, predict and export runs in the same folders the app uses.

    python -m backprop train --dataset circle --hidden 8,8 --activation gelu --epochs 10 --run-dir runs/circle
    python -m backprop runs
    python -m backprop predict --run runs/shapes --image drawing.png
    python -m backprop export-model --run runs/fashion --out models/fashion.npz

The datasets package is imported inside the commands (this is an entry point;
the engine itself stays numpy + stdlib).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from . import limits
from .activations import ACTIVATIONS
from .config import RunConfig
from .io import save
from .losses import LOSSES
from .optimizers import OPTIMIZERS
from .runs import RunStore, summarize, train_run
from .training import TrainingDiverged

BAR_WIDTH = 10
# Who holds a run's lock while this command trains it, for the message another trainer gets.
TRAIN_OWNER = "python -m backprop train"


# ------------------------------------------------------------------ parsing
def parse_dataset_params(items: list[str] | None) -> dict:
    """["samples=200", "shapes=circle,square"] -> {"samples": 200, "shapes": "circle,square"}.

    Values are read as JSON when they parse (numbers, true, null, lists), else kept as text.
    """
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--dataset-param needs key=value, got {item!r}")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def parse_hidden(text: str) -> list[int]:
    """ "256,64" -> [256, 64]; "" or "none" -> [] (a linear model)."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(
            f"--hidden takes layer sizes separated by commas, e.g. 256,64; got {text!r}"
        ) from None


def parse_schedule(text: str | None, epochs: int) -> dict | None:
    """--lr-decay: "step:5,8:0.1" | "step:5" | "cosine" | "cosine:20" | "plateau" | "plateau:0.5:3"."""
    if not text:
        return None
    name, *parts = text.split(":")
    try:
        if name == "step":
            if not parts:
                raise ValueError
            schedule = {"schedule": "step", "epochs": [int(e) for e in parts[0].split(",")]}
            if len(parts) > 1:
                schedule["factor"] = float(parts[1])
            return schedule
        if name == "cosine":
            return {"schedule": "cosine", "total_epochs": int(parts[0]) if parts else epochs}
        if name == "plateau":
            schedule = {"schedule": "plateau"}
            if parts:
                schedule["factor"] = float(parts[0])
            if len(parts) > 1:
                schedule["patience"] = int(parts[1])
            return schedule
    except (ValueError, IndexError):
        pass
    raise ValueError(
        f"--lr-decay must look like step:5,8:0.1, cosine, cosine:20, plateau or plateau:0.5:3; got {text!r}"
    )


def _per_layer_text(text: str):
    parts = [p.strip() for p in text.split(",")]
    return parts[0] if len(parts) == 1 else parts


def config_from_args(args) -> RunConfig:
    """The RunConfig described by `train`'s options (ValueError names the bad one)."""
    return RunConfig(
        dataset=args.dataset,
        dataset_params=parse_dataset_params(args.dataset_param),
        hidden=parse_hidden(args.hidden),
        activation=_per_layer_text(args.activation),
        loss=args.loss,
        init=args.init,
        optimizer=args.optimizer,
        learning_rate=args.lr,
        momentum=args.momentum,
        nesterov=args.nesterov,
        weight_decay=args.l2,
        clip_norm=args.clip_norm,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        dropout=args.dropout,
        batch_norm=args.batch_norm,
        schedule=parse_schedule(args.lr_decay, args.epochs),
        early_stopping=args.early_stopping,
    )


def train_command(config: RunConfig, run_dir: str | None = None) -> str:
    """The `python -m backprop train ...` line that recreates ``config`` (shown in the app and saved in models)."""
    words = ["python", "-m", "backprop", "train", "--dataset", config.dataset]
    for key, value in config.dataset_params.items():
        words += ["--dataset-param", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    acts = config.activation if isinstance(config.activation, str) else ",".join(config.activation)
    words += [
        "--hidden",
        ",".join(map(str, config.hidden)) or "none",
        "--activation",
        acts,
        "--loss",
        config.loss,
        "--optimizer",
        config.optimizer,
        "--lr",
        f"{config.learning_rate:g}",
        "--epochs",
        str(config.epochs),
        "--batch-size",
        str(config.batch_size),
        "--seed",
        str(config.seed),
    ]
    if config.init != "xavier":
        words += ["--init", config.init]
    if config.optimizer == "momentum":
        words += ["--momentum", f"{config.momentum:g}"] + (["--nesterov"] if config.nesterov else [])
    if config.weight_decay:
        words += ["--l2", f"{config.weight_decay:g}"]
    if isinstance(config.dropout, (int, float)) and config.dropout:
        words += ["--dropout", f"{config.dropout:g}"]
    if config.batch_norm is True:
        words += ["--batch-norm"]
    if config.clip_norm:
        words += ["--clip-norm", f"{config.clip_norm:g}"]
    if config.schedule:
        kind = config.schedule["schedule"]
        if kind == "step":
            decay = (
                f"step:{','.join(map(str, config.schedule['epochs']))}:{config.schedule.get('factor', 0.1):g}"
            )
        elif kind == "cosine":
            decay = f"cosine:{config.schedule.get('total_epochs', config.epochs)}"
        else:
            decay = kind
        words += ["--lr-decay", decay]
    if config.early_stopping:
        words += ["--early-stopping", str(config.early_stopping)]
    if run_dir:
        words += ["--run-dir", str(run_dir)]
    return shlex.join(words)


def _store_and_name(run_dir: str) -> tuple[RunStore, str]:
    """runs/NAME -> (RunStore("runs"), "NAME"); a bare NAME uses the default store."""
    path = Path(run_dir)
    if len(path.parts) == 1 and not path.exists():
        return RunStore(), path.name
    return RunStore(path.parent), path.name


def _open_run(text: str):
    store, name = _store_and_name(text)
    if not (store.root / name).is_dir() and (RunStore().root / name).is_dir():
        store = RunStore()
    return store, store.open(name)


# --------------------------------------------------------------- progress bar
class ProgressBar:
    """`epoch 3/10 [#####.....] 52% loss 0.41` on stderr; redrawn in place on a terminal."""

    def __init__(self, first_epoch: int, total_epochs: int, stream=None):
        self.first, self.total = first_epoch, total_epochs
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.last_draw = 0.0

    def line(self, epoch: int, fraction: float, loss: float) -> str:
        done = min(max(fraction, 0.0), 1.0)
        filled = int(round(done * BAR_WIDTH))
        return (
            f"epoch {epoch - self.first}/{self.total} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{done * 100:3.0f}% loss {loss:.4g}"
        )

    def __call__(self, event):
        if event.kind == "step":
            now = time.monotonic()
            if self.live and now - self.last_draw > 0.1:
                self.last_draw = now
                self.stream.write("\r" + self.line(event.epoch, event.epoch_progress, event.loss))
                self.stream.flush()
            return None
        record = event.record
        parts = [self.line(event.epoch, 1.0, record["train_loss"])]
        if record.get("train_accuracy") is not None:
            parts.append(f"acc {record['train_accuracy']:.4f}")
        if record.get("val_loss") is not None:
            parts.append(f"val_loss {record['val_loss']:.4g}")
        if record.get("val_accuracy") is not None:
            parts.append(f"val_acc {record['val_accuracy']:.4f}")
        parts.append(f"lr {record['learning_rate']:.3g}")
        parts.append(f"{record['seconds'] * 1000:.0f} ms")
        self.stream.write(("\r" if self.live else "") + " ".join(parts) + "\n")
        self.stream.flush()
        return None


# ------------------------------------------------------------------- commands
def cmd_train(args) -> int:
    import datasets

    if args.resume:
        store, run = _open_run(args.run_dir)
        config = run.config
        print(f"resuming {run.path} ({len(run.history)} epochs done); stored settings apply", file=sys.stderr)
    else:
        if not args.dataset:
            raise ValueError(
                "--dataset is required, e.g. --dataset circle (python -m datasets --list shows all)"
            )
        config = config_from_args(args)
        if args.run_dir:
            store, name = _store_and_name(args.run_dir)
        else:
            store = RunStore()
            name = store.unique_name(f"{config.dataset}-{'-'.join(map(str, config.hidden)) or 'linear'}")
        if (store.root / name).exists():
            raise ValueError(
                f"{store.root / name} already exists; pass --resume to train it further "
                f"or choose another --run-dir"
            )
    dataset = datasets.load(config.dataset, **config.dataset_params)
    if not args.resume:
        run = store.create(name, config, dataset=dataset)
    epochs = args.epochs
    bar = ProgressBar(len(run.history), epochs)
    started = time.perf_counter()
    try:
        train_run(run, dataset, epochs=epochs, callback=bar, owner=TRAIN_OWNER)
    except KeyboardInterrupt:
        print(
            f"\nstopped: kept {len(run.history)} finished epochs and the weights after step "
            f"{run.cursor['step'] if run.cursor else 0} in {run.path}",
            file=sys.stderr,
        )
        return 130
    except TrainingDiverged as err:
        print(
            f"\ntraining diverged: {err}\nkept {len(run.history)} finished epochs in {run.path}",
            file=sys.stderr,
        )
        return 1
    summary = summarize(run.history)
    elapsed = time.perf_counter() - started
    best = summary["best_val_accuracy"]
    print(
        f"run {run.path}: {summary['epochs']} epochs in {elapsed:.1f} s"
        + (f", best val accuracy {best:.4f} at epoch {summary['best_epoch']}" if best is not None else "")
        + (f" ({run.history.stop_reason})" if run.history.stop_reason else "")
    )
    return 0


def cmd_runs(args) -> int:
    store = RunStore(args.dir) if args.dir else RunStore()
    infos = store.list()
    if not infos:
        print(f"no runs in {store.root}")
        return 0
    for info in infos:
        if info.damaged:
            print(f"{info.name:24s} DAMAGED: {info.damaged}")
            continue
        summary = info.summary
        best = summary.get("best_val_accuracy")
        metric = (
            f"best val acc {best:.4f} @ epoch {summary['best_epoch']}"
            if best is not None
            else f"val loss {summary['best_val_loss']:.4g}"
            if summary.get("best_val_loss") is not None
            else "not trained"
        )
        parent = f"  (fork of {info.parent})" if info.parent else ""
        print(f"{info.name:24s} {summary['epochs']:4d} epochs  {metric:32s} {info.config.describe()}{parent}")
        for problem in info.problems:
            print(f"{'':24s} ! {problem}")
    return 0


def load_image(path, input_shape) -> np.ndarray:
    """An image file as one flat row in [0, 1]: grayscale (or RGB for (h, w, 3) inputs), resized.

    Pictures over ``limits.UPLOAD_PIXELS`` (width × height, from the header) are
    refused before decoding; set $BACKPROP_MAX_UPLOAD_PIXELS to go past it.

    The image datasets have light ink on a dark background; a picture with a
    light border (dark drawing on white paper) is inverted to match.
    """
    from PIL import Image

    from datasets.drawing import ImageTooLarge, open_picture

    shape = tuple(int(v) for v in input_shape)
    if len(shape) not in (2, 3):
        raise ValueError(f"this run's dataset takes inputs of shape {shape}, not images")
    limit = limits.UPLOAD_PIXELS.value()
    # Its size is read from the header first: a huge picture is refused before it is decoded.
    try:
        with open_picture(str(path), limit, name=str(path), formats=None) as image:
            image = image.convert("RGB" if len(shape) == 3 else "L").resize(
                (shape[1], shape[0]), Image.Resampling.BILINEAR
            )
            pixels = np.asarray(image, dtype=np.float32) / 255.0
    except ImageTooLarge as err:
        raise ValueError(f"{err}; set {limits.UPLOAD_PIXELS.env} to allow larger pictures") from None
    except (OSError, SyntaxError, EOFError) as err:
        raise ValueError(f"cannot read {path} as an image ({err})") from None
    border = np.concatenate(
        [pixels[0].ravel(), pixels[-1].ravel(), pixels[:, 0].ravel(), pixels[:, -1].ravel()]
    )
    if border.mean() > 0.5:
        pixels = 1.0 - pixels
    return pixels.reshape(1, -1)


def _dataset_facts(config: RunConfig) -> dict:
    import datasets

    spec = datasets.spec(config.dataset)
    facts = {
        "dataset": config.dataset,
        "dataset_params": config.dataset_params,
        "classes": [],
        "input_shape": [],
    }
    try:
        facts["classes"] = spec.class_names(config.dataset_params)
        facts["input_shape"] = list(spec.input_shape(config.dataset_params))
    except (ValueError, OSError):
        pass
    return facts


def cmd_predict(args) -> int:
    _, run = _open_run(args.run)
    facts = _dataset_facts(run.config)
    net = run.load_network(args.which)
    if not net.is_classifier:
        raise ValueError(f"run {run.name!r} is a regression model; predict shows class probabilities only")
    x = load_image(args.image, facts["input_shape"])
    if x.shape[1] != net.n_inputs:
        raise ValueError(f"the image gives {x.shape[1]} inputs, the network takes {net.n_inputs}")
    probs = net.predict_proba(x)[0]
    classes = facts["classes"] or [str(i) for i in range(len(probs))]
    order = np.argsort(-probs)
    if args.json:
        print(json.dumps({classes[i]: float(probs[i]) for i in order}))
    else:
        for i in order:
            print(f"{classes[i]:>16s} {probs[i]:.4f}")
    return 0


def cmd_export_model(args) -> int:
    _, run = _open_run(args.run)
    net = run.load_network(args.which)
    facts = _dataset_facts(run.config)
    summary = run.summary
    epoch = summary["best_epoch"] if args.which == "best" and run.has("best") else len(run.history)
    record = run.history.epochs[epoch - 1] if epoch else {}
    metadata = {
        **facts,
        "val_accuracy": record.get("val_accuracy"),
        "epoch": epoch,
        "run": run.name,
        "command": train_command(run.config, f"runs/{run.name}"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save(net, args.out, metadata=metadata)
    accuracy = metadata["val_accuracy"]
    print(
        f"wrote {args.out} ({run.name}, epoch {epoch}"
        + (f", val accuracy {accuracy:.4f})" if accuracy is not None else ")")
    )
    return 0


# --------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backprop", description="Train, list, predict with and export backprop runs."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a run (written where the app lists it)")
    train.add_argument("--dataset", help="registry name, e.g. circle, digits, fashion-mnist")
    train.add_argument(
        "--dataset-param", action="append", metavar="KEY=VALUE", help="dataset parameter (repeat)"
    )
    train.add_argument("--hidden", default="8,8", help="hidden sizes, e.g. 256,64 (none for a linear model)")
    train.add_argument(
        "--activation", default="gelu", help=f"one of {', '.join(ACTIVATIONS)} (or one per layer)"
    )
    train.add_argument("--loss", default="cross_entropy", choices=list(LOSSES))
    train.add_argument("--init", default="xavier")
    train.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS))
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    train.add_argument("--momentum", type=float, default=0.9)
    train.add_argument("--nesterov", action="store_true")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--l2", type=float, default=0.0, help="weight decay λ")
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--batch-norm", action="store_true")
    train.add_argument("--clip-norm", type=float, default=None, help="clip the global gradient norm")
    train.add_argument("--lr-decay", help="step:5,8:0.1 | cosine[:EPOCHS] | plateau[:FACTOR:PATIENCE]")
    train.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--run-dir", help="run folder, e.g. runs/NAME (default: a new name under runs/)")
    train.add_argument("--resume", action="store_true", help="train the existing --run-dir for --epochs more")
    train.set_defaults(handler=cmd_train)

    runs = sub.add_parser("runs", help="list runs with their best metrics")
    runs.add_argument("--dir", help="runs folder (default runs/ or $BACKPROP_RUNS_DIR)")
    runs.set_defaults(handler=cmd_runs)

    predict = sub.add_parser("predict", help="class probabilities for an image")
    predict.add_argument("--run", required=True, help="run folder (runs/NAME) or name")
    predict.add_argument("--image", required=True)
    predict.add_argument("--which", default="best", choices=["best", "latest", "initial"])
    predict.add_argument("--json", action="store_true", help="print one JSON object")
    predict.set_defaults(handler=cmd_predict)

    export = sub.add_parser("export-model", help="write a run's weights as a standalone model .npz")
    export.add_argument("--run", required=True, help="run folder (runs/NAME) or name")
    export.add_argument("--out", required=True, help="e.g. models/NAME.npz")
    export.add_argument("--which", default="best", choices=["best", "latest"])
    export.set_defaults(handler=cmd_export_model)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as err:  # includes datasets.DatasetUnavailable
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130
