"""`python -m backprop`: train, runs, predict and export-model, end to end in subprocesses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import backprop
from backprop import RunConfig
from backprop.cli import ProgressBar, build_parser, config_from_args, train_command
from backprop.config import OPTIONS
from backprop.optimizers import OPTIMIZERS
from backprop.runs import RunStore
from backprop.schedules import SCHEDULES

REPO_ROOT = Path(__file__).resolve().parents[2]


def cli(*args, cwd, env_runs=None):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    if env_runs is not None:
        env["BACKPROP_RUNS_DIR"] = str(env_runs)
    return subprocess.run(
        [sys.executable, "-m", "backprop", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow  # trains in subprocesses
def test_train_writes_a_run_that_runs_lists(tmp_path):
    result = cli(
        "train",
        "--dataset",
        "circle",
        "--dataset-param",
        "samples=200",
        "--layers",
        "dense6-relu-dense4-relu",
        "--lr",
        "0.03",
        "--epochs",
        "2",
        "--batch-size",
        "20",
        "--schedule",
        "step",
        "--schedule-epochs",
        "1",
        "--schedule-factor",
        "0.5",
        "--run-dir",
        "runs/circle-cli",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2 [##########] 100% loss" in result.stderr
    run = RunStore(tmp_path / "runs").open("circle-cli")
    assert len(run.history) == 2
    assert run.config.layers == "dense6-relu-dense4-relu"
    assert run.load_network().spec == "dense6-relu-dense4-relu-dense2"
    assert run.config.schedule == {"schedule": "step", "epochs": [1], "factor": 0.5}
    assert run.history.epochs[1]["learning_rate"] == pytest.approx(0.015)

    listing = cli("runs", cwd=tmp_path, env_runs=tmp_path / "runs")
    assert listing.returncode == 0
    assert (
        "circle-cli" in listing.stdout and "2 epochs" in listing.stdout and "best val acc" in listing.stdout
    )


@pytest.mark.slow  # trains in subprocesses
def test_train_refuses_an_existing_run_dir_unless_resumed(tmp_path):
    args = (
        "train",
        "--dataset",
        "circle",
        "--dataset-param",
        "samples=100",
        "--epochs",
        "1",
        "--run-dir",
        "runs/again",
    )
    assert cli(*args, cwd=tmp_path).returncode == 0
    refused = cli(*args, cwd=tmp_path)
    assert refused.returncode == 2 and "already exists" in refused.stderr
    resumed = cli(*args, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert len(RunStore(tmp_path / "runs").open("again").history) == 2


def test_bad_layers_are_reported_without_traceback(tmp_path):
    result = cli("train", "--dataset", "circle", "--layers", "dense8-x", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: layer 2 'x' is not a layer" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow  # trains in subprocesses
def test_predict_prints_class_probabilities_and_export_model_round_trips(tmp_path):
    train = cli(
        "train",
        "--dataset",
        "shapes",
        "--dataset-param",
        "samples=150",
        "--layers",
        "dense16-relu",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--run-dir",
        "runs/shapes",
        cwd=tmp_path,
    )
    assert train.returncode == 0, train.stderr
    image = Image.new("L", (64, 64), 255)  # dark circle on white paper: inverted to match the data
    ImageDraw.Draw(image).ellipse((10, 10, 54, 54), outline=0, width=5)
    image.save(tmp_path / "circle.png")

    predicted = cli("predict", "--run", "runs/shapes", "--image", "circle.png", "--json", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    probabilities = json.loads(predicted.stdout)
    assert set(probabilities) == {"circle", "square", "triangle"}
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)

    exported = cli("export-model", "--run", "runs/shapes", "--out", "models/shapes.npz", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    net, metadata = backprop.load_with_metadata(tmp_path / "models" / "shapes.npz")
    assert net.spec == "dense16-relu-dense3"
    assert metadata["classes"] == ["circle", "square", "triangle"] and metadata["input_shape"] == [28, 28]
    assert metadata["dataset"] == "shapes" and metadata["dataset_params"] == {"samples": 150}
    assert 0 <= metadata["val_accuracy"] <= 1
    assert metadata["command"].startswith("python -m backprop train --dataset shapes")


def test_predict_on_missing_run_says_so(tmp_path):
    result = cli("predict", "--run", "runs/nothing", "--image", "x.png", cwd=tmp_path)
    assert result.returncode == 2 and "no run named 'nothing'" in result.stderr


def train_config(*words):
    return config_from_args(build_parser().parse_args(["train", "--dataset", "circle", *words]))


@pytest.mark.parametrize(
    "words, expected",
    [
        (
            ["--schedule", "step", "--schedule-epochs", "5,8", "--schedule-factor", "0.1"],
            {"schedule": "step", "epochs": [5, 8], "factor": 0.1},
        ),
        (
            ["--schedule", "cosine", "--schedule-total-epochs", "10"],
            {"schedule": "cosine", "total_epochs": 10, "min_rate": 0.0},
        ),
        (
            ["--schedule", "plateau", "--schedule-factor", "0.5", "--schedule-patience", "2"],
            {
                "schedule": "plateau",
                "factor": 0.5,
                "patience": 2,
                "min_rate": 1e-6,
                "monitor": "val_loss",
                "min_delta": 0.0,
            },
        ),
        (["--schedule", "constant"], None),
    ],
)
def test_schedule_flags_build_the_schedule_with_its_declared_defaults(words, expected):
    assert train_config(*words).schedule == expected


@pytest.mark.parametrize(
    "words, message",
    [
        (
            ["--schedule-factor", "0.5"],
            "--schedule-factor is not an option of the constant schedule; choose the schedule",
        ),
        (
            ["--schedule", "cosine", "--schedule-patience", "2"],
            "--schedule-patience is not an option of the cosine",
        ),
        (["--schedule", "linear"], "schedule must be one of constant, step, cosine, plateau, got 'linear'"),
        (["--schedule", "step", "--schedule-factor", "2"], r"factor must be a number in \(0, 1\), got 2"),
        (
            ["--momentum", "0.5"],
            "--momentum is not an option of the adam optimizer; it takes --beta1, --beta2, --eps",
        ),
        (
            ["--optimizer", "sgd", "--nesterov", "true"],
            "--nesterov is not an option of the sgd optimizer; it takes no",
        ),
        (["--optimizer", "momentum", "--nesterov", "maybe"], "nesterov must be true or false, got 'maybe'"),
        (["--lr", "20000"], r"learning_rate must be a number in \(0, 10\], got 20000"),
        (["--batch-size", "0"], r"batch_size must be an integer in \[1, 4096\], got 0"),
        (["--layers", "conv8k3s0"], r"layer 1 'conv8k3s0': stride must be an integer in \[1, 8\], got 0"),
        (["--dataset-param", "samples"], "--dataset-param needs key=value, got 'samples'"),
    ],
)
def test_bad_train_options_name_the_flag_or_setting_and_the_value(words, message):
    with pytest.raises(ValueError, match=message):
        train_config(*words)


def test_optimizer_options_reach_the_config():
    config = train_config("--optimizer", "momentum", "--momentum", "0.5", "--nesterov", "true")
    assert config.optimizer_options == {"momentum": 0.5, "nesterov": True}
    config = train_config("--optimizer", "rmsprop", "--rho", "0.8", "--eps", "1e-6")
    assert config.optimizer_options == {"rho": 0.8, "eps": 1e-6}
    config = train_config("--dataset-param", "samples=200", "--dataset-param", "shapes=circle,square")
    assert config.dataset_params == {"samples": 200, "shapes": "circle,square"}


def test_every_declared_option_has_its_flag():
    parser = build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    flags = {flag for action in train._actions for flag in action.option_strings}
    declared = {option.flag for option in OPTIONS}
    declared |= {option.flag for d in OPTIMIZERS.values() for option in d.options}
    declared |= {
        "--schedule-" + option.name.replace("_", "-") for d in SCHEDULES.values() for option in d.options
    }
    assert declared <= flags
    assert {"--lr", "--l2", "--layers", "--clip-norm", "--early-stopping", "--schedule-epochs"} <= declared


def test_train_command_recreates_the_config():
    config = RunConfig(
        dataset="digits",
        layers="dense32-bn-relu-dropout0.1-dense16-gelu",
        optimizer="momentum",
        optimizer_options={"momentum": 0.5, "nesterov": True},
        learning_rate=0.002,
        weight_decay=1e-4,
        schedule={"schedule": "step", "epochs": [3, 6]},
        early_stopping=4,
        clip_norm=1.0,
        init="he",
        dataset_params={"seed": 3},
    )
    command = train_command(config, "runs/digits")
    assert command.startswith("python -m backprop train --dataset digits --dataset-param seed=3 --layers ")
    assert "--nesterov true" in command and "--schedule step --schedule-epochs 3,6" in command
    args = build_parser().parse_args(command.split()[3:])
    assert args.run_dir == "runs/digits"
    assert config_from_args(args) == config.replace(
        schedule={"schedule": "step", "epochs": [3, 6], "factor": 0.1}
    )


def test_train_command_keeps_every_digit_of_a_float_setting():
    config = RunConfig(dataset="circle", learning_rate=0.0012345678, weight_decay=1 / 3)
    args = build_parser().parse_args(train_command(config).split()[3:])
    assert config_from_args(args) == config


def test_progress_bar_line():
    bar = ProgressBar(first_epoch=0, total_epochs=10)
    assert bar.line(3, 0.52, 0.41) == "epoch 3/10 [#####.....]  52% loss 0.41"
