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
from .config import OPTIONS, RunConfig
from .files import read_file, save
from .optimizers import OPTIMIZERS
from .options import Option
from .runs import RunStore, summarize, train_run
from .schedules import SCHEDULES
from .training import TrainingDiverged

BAR_WIDTH = 10
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}
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


def _flag_words(option: Option) -> list[str]:
    return [option.flag, *option.aliases]


def optimizer_options() -> dict[str, Option]:
    """Every optimizer option by name (one flag each; optimizers that share a name share its flag)."""
    found: dict[str, Option] = {}
    for declared in OPTIMIZERS.values():
        for option in declared.options:
            found.setdefault(option.name, option)
    return found


def schedule_options() -> dict[str, Option]:
    """Every schedule option by name, given on the command line as --schedule-<name>."""
    found: dict[str, Option] = {}
    for declared in SCHEDULES.values():
        for option in declared.options:
            found.setdefault(option.name, option)
    return found


def _help(option: Option) -> str:
    default = option.off_label if option.default is None else option.default
    return f"{option.help} {option.range_text()}; default {default}".replace("%", "%%")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The train command's settings, one argument per declared option (values checked later, one way)."""
    for option in OPTIONS:
        parser.add_argument(
            *_flag_words(option), dest=option.name, metavar=option.name.upper(), help=_help(option)
        )
    parser.add_argument(
        "--dataset-param", action="append", metavar="KEY=VALUE", help="a dataset parameter (repeat)"
    )
    group = parser.add_argument_group("optimizer options (for the optimizer that declares them)")
    for name, option in optimizer_options().items():
        takers = ", ".join(d.name for d in OPTIMIZERS.values() if name in {o.name for o in d.options})
        group.add_argument(
            option.flag, dest=f"opt_{name}", metavar="VALUE", help=f"{takers}: {_help(option)}"
        )
    group = parser.add_argument_group("schedule options (for the schedule that declares them)")
    for name, option in schedule_options().items():
        takers = ", ".join(d.name for d in SCHEDULES.values() if name in {o.name for o in d.options})
        group.add_argument(
            f"--schedule-{name.replace('_', '-')}",
            dest=f"sched_{name}",
            metavar="VALUE",
            help=f"{takers}: {option.help} {option.range_text()}".replace("%", "%%"),
        )


def config_from_args(args) -> RunConfig:
    """The RunConfig described by `train`'s options, checked by the same declarations as every setup
    (ValueError names the bad one)."""
    data: dict = {"dataset_params": parse_dataset_params(args.dataset_param)}
    for option in OPTIONS:
        text = getattr(args, option.name)
        if text is not None:
            data[option.name] = option.parse_text(text)
    optimizer = data.get("optimizer", OPTIONS_BY_NAME["optimizer"].default)
    declared = OPTIMIZERS[optimizer]
    for name, option in optimizer_options().items():
        text = getattr(args, f"opt_{name}")
        if text is None:
            continue
        if name not in {o.name for o in declared.options}:
            raise ValueError(
                f"{option.flag} is not an option of the {optimizer} optimizer; it takes "
                f"{', '.join(o.flag for o in declared.options) or 'no options'}"
            )
        data.setdefault("optimizer_options", {})[name] = declared.option(name).parse_text(text)
    schedule = data.pop("schedule", "constant")
    given = {name: getattr(args, f"sched_{name}") for name in schedule_options()}
    given = {name: text for name, text in given.items() if text is not None}
    if schedule != "constant" or given:
        declared = SCHEDULES[schedule]
        known = {o.name for o in declared.options}
        stray = sorted(set(given) - known)
        if stray:
            raise ValueError(
                f"--schedule-{stray[0].replace('_', '-')} is not an option of the {schedule} schedule; "
                f"choose the schedule with --schedule"
            )
        data["schedule"] = {
            "schedule": schedule,
            **{n: declared.option(n).parse_text(t) for n, t in given.items()},
        }
    return RunConfig.from_dict(data)


def train_command(config: RunConfig, run_dir: str | None = None) -> str:
    """The `python -m backprop train ...` line that recreates ``config`` (shown in the app and saved in models)."""
    words = ["python", "-m", "backprop", "train", "--dataset", config.dataset]
    for key, value in config.dataset_params.items():
        words += ["--dataset-param", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    always = ("layers", "optimizer", "learning_rate", "epochs", "batch_size", "seed")
    for option in OPTIONS:
        value = getattr(config, option.name)
        if option.name in ("dataset", "schedule") or (option.name not in always and value == option.default):
            continue
        words += [option.flag, _as_text(value)]
    for name, value in config.optimizer_options.items():
        words += [optimizer_options()[name].flag, _as_text(value)]
    if config.schedule:
        words += ["--schedule", config.schedule["schedule"]]
        for name, value in config.schedule.items():
            if name != "schedule":
                words += [f"--schedule-{name.replace('_', '-')}", _as_text(value)]
    if run_dir:
        words += ["--run-dir", str(run_dir)]
    return shlex.join(words)


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # every digit: the command must recreate the run exactly
    if isinstance(value, list | tuple):
        return ",".join(_as_text(v) for v in value)
    return str(value)


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
            name = store.unique_name(f"{config.dataset}-{config.layers}"[:60].rstrip("-.") or config.dataset)
        if (store.root / name).exists():
            raise ValueError(
                f"{store.root / name} already exists; pass --resume to train it further "
                f"or choose another --run-dir"
            )
    dataset = datasets.load(config.dataset, **config.dataset_params)
    if not args.resume:
        run = store.create(name, config, dataset=dataset)
    epochs = OPTIONS_BY_NAME["epochs"].parse_text(args.epochs) if args.epochs else config.epochs
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


def load_image(path, dataset: str, input_shape) -> np.ndarray:
    """An image file as one model input row, read and prepared exactly as the Draw page does it
    (datasets.drawing): dark ink on light paper is inverted, the ink is cropped, scaled and centred."""
    from datasets import drawing

    path = Path(path)
    try:
        data = read_file(path, limits.IMAGE_FILE_BYTES)
    except OSError as err:
        raise ValueError(f"cannot read {path} ({err.strerror or err})") from None
    try:
        gray, _ = drawing.read_upload(data, name=path.name, max_pixels=limits.UPLOAD_PIXELS.value())
    except drawing.ImageTooLarge as err:
        raise ValueError(f"{err}; set {limits.UPLOAD_PIXELS.env} to allow larger pictures") from None
    prepared = drawing.prepare(gray, drawing.style_for(dataset, input_shape))
    if prepared.empty:
        raise ValueError(f"{path} shows no ink: draw something darker or lighter than its background")
    return prepared.x


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
    x = load_image(args.image, run.config.dataset, facts["input_shape"])
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

    train = sub.add_parser(
        "train",
        help="train a run (written where the app lists it)",
        description="Train a run. Every setting takes the values the app's sidebar takes.",
    )
    add_config_arguments(train)
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
