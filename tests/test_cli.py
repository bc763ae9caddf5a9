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
from backprop.cli import ProgressBar, build_parser, config_from_args, parse_schedule, train_command
from backprop.runs import RunStore

REPO_ROOT = Path(__file__).resolve().parent.parent


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


def test_train_writes_a_run_that_runs_lists(tmp_path):
    result = cli(
        "train",
        "--dataset",
        "circle",
        "--dataset-param",
        "samples=200",
        "--hidden",
        "6,4",
        "--lr",
        "0.03",
        "--epochs",
        "2",
        "--batch-size",
        "20",
        "--lr-decay",
        "step:1:0.5",
        "--run-dir",
        "runs/circle-cli",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2 [##########] 100% loss" in result.stderr
    run = RunStore(tmp_path / "runs").open("circle-cli")
    assert len(run.history) == 2
    assert run.config.schedule == {"schedule": "step", "epochs": [1], "factor": 0.5}
    assert run.history.epochs[1]["learning_rate"] == pytest.approx(0.015)

    listing = cli("runs", cwd=tmp_path, env_runs=tmp_path / "runs")
    assert listing.returncode == 0
    assert (
        "circle-cli" in listing.stdout and "2 epochs" in listing.stdout and "best val acc" in listing.stdout
    )


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


def test_bad_option_is_reported_without_traceback(tmp_path):
    result = cli("train", "--dataset", "circle", "--hidden", "8,x", cwd=tmp_path)
    assert result.returncode == 2
    assert "--hidden takes layer sizes" in result.stderr and "Traceback" not in result.stderr


def test_predict_prints_class_probabilities_and_export_model_round_trips(tmp_path):
    train = cli(
        "train",
        "--dataset",
        "shapes",
        "--dataset-param",
        "samples=150",
        "--hidden",
        "16",
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
    assert net.sizes == [784, 16, 3]
    assert metadata["classes"] == ["circle", "square", "triangle"] and metadata["input_shape"] == [28, 28]
    assert metadata["dataset"] == "shapes" and metadata["dataset_params"] == {"samples": 150}
    assert 0 <= metadata["val_accuracy"] <= 1
    assert metadata["command"].startswith("python -m backprop train --dataset shapes")


def test_predict_on_missing_run_says_so(tmp_path):
    result = cli("predict", "--run", "runs/nothing", "--image", "x.png", cwd=tmp_path)
    assert result.returncode == 2 and "no run named 'nothing'" in result.stderr


@pytest.mark.parametrize(
    "text, expected",
    [
        ("step:5,8:0.1", {"schedule": "step", "epochs": [5, 8], "factor": 0.1}),
        ("cosine", {"schedule": "cosine", "total_epochs": 10}),
        ("plateau:0.5:2", {"schedule": "plateau", "factor": 0.5, "patience": 2}),
    ],
)
def test_lr_decay_forms(text, expected):
    assert parse_schedule(text, epochs=10) == expected


def test_lr_decay_error_names_the_forms():
    with pytest.raises(ValueError, match="step:5,8:0.1"):
        parse_schedule("linear", epochs=10)


def test_train_command_recreates_the_config():
    config = RunConfig(
        dataset="digits",
        hidden=[32, 16],
        activation=["relu", "gelu"],
        learning_rate=0.002,
        batch_norm=True,
        dropout=0.1,
        weight_decay=1e-4,
        schedule={"schedule": "step", "epochs": [3]},
        early_stopping=4,
        clip_norm=1.0,
        dataset_params={"seed": 3},
    )
    words = train_command(config).split()[3:]
    assert config_from_args(build_parser().parse_args(words)) == config.replace(
        schedule={"schedule": "step", "epochs": [3], "factor": 0.1}
    )


def test_progress_bar_line():
    bar = ProgressBar(first_epoch=0, total_epochs=10)
    assert bar.line(3, 0.52, 0.41) == "epoch 3/10 [#####.....]  52% loss 0.41"
