"""Train and save the built-in models of the "Draw & predict" page.

    python -m models.train mnist      # -> models/mnist.npz (a small CNN, the page's default)
    python -m models.train digits     # -> models/digits.npz
    python -m models.train shapes     # -> models/shapes.npz
    python -m models.train fashion    # -> models/fashion.npz (needs the Fashion-MNIST files)

Each recipe is a RunConfig (dataset, architecture, optimizer, seed), so a rerun
rebuilds the same file bit for bit on the same machine. The exact command and
the measured validation accuracy are stored in the file's metadata, which the
page shows as the model card, with what the model gets wrong on the validation
images (confusion matrix and the first misclassified pictures), so the page's
Validation view opens without rebuilding the data set.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One BLAS thread, set before NumPy loads its BLAS: the same sums in the same order on any machine,
# so a rerun rebuilds the file bit for bit; the layers are small, and on a busy machine several
# BLAS threads fight for the cores and run many times slower than one.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

import datasets  # noqa: E402
from backprop import RunConfig, accuracy, save  # noqa: E402
from backprop.files import pack_uint8  # noqa: E402
from backprop.metrics import validation_summary  # noqa: E402
from datasets.drawing import to_uint8  # noqa: E402

MODELS_DIR = Path(__file__).resolve().parent

# name -> (RunConfig, epochs are in the config). Small nets: the files ship in the repo.
RECIPES: dict[str, RunConfig] = {
    # Two conv blocks and a dense layer; each training digit is moved by up to 2 px whenever it is
    # drawn into a batch, which is what keeps 8,000 images from being learnt by heart.
    "mnist": RunConfig(
        dataset="mnist",
        dataset_params={},
        layers="conv16k3p1-relu-maxpool2-conv32k3p1-relu-maxpool2-flatten-dropout0.3-dense128-relu",
        optimizer="adam",
        learning_rate=2e-3,
        batch_size=64,
        epochs=20,
        seed=0,
        augment_shift=2,
        schedule={"schedule": "cosine", "total_epochs": 20},
    ),
    "digits": RunConfig(
        dataset="digits",
        dataset_params={"val_fraction": 0.2, "seed": 0},
        layers="dense64-relu",
        optimizer="adam",
        learning_rate=2e-3,
        batch_size=32,
        epochs=80,
        seed=0,
        weight_decay=1e-4,
    ),
    "shapes": RunConfig(
        dataset="shapes",
        dataset_params={"size": 28, "samples": 20000, "noise": 0.1, "val_fraction": 0.2, "seed": 0},
        layers="dense128-relu",
        optimizer="adam",
        learning_rate=1e-3,
        batch_size=64,
        epochs=20,
        seed=0,
        weight_decay=1e-4,
    ),
    "fashion": RunConfig(
        dataset="fashion-mnist",
        dataset_params={},
        layers="dense128-relu",
        optimizer="adam",
        learning_rate=1e-3,
        batch_size=64,
        epochs=12,
        seed=0,
    ),
}

DESCRIPTIONS = {
    "mnist": "real MNIST handwritten digits, 28×28, read by a small convolutional network",
    "digits": "UCI handwritten digits, 8×8 pixels at 17 grey levels",
    "shapes": "synthetic circles, squares and triangles, 28×28",
    "fashion": "Fashion-MNIST clothing photos, 28×28",
}


def train(name: str, out: Path | None = None, log=print) -> dict:
    """Train recipe ``name``, save it to ``out`` (models/<name>.npz); returns its metadata."""
    if name not in RECIPES:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(RECIPES)}")
    config = RECIPES[name]
    out = Path(out) if out is not None else MODELS_DIR / f"{name}.npz"
    data = datasets.load(config.dataset, **config.dataset_params)
    net = config.build_network(data)
    trainer = config.build_trainer(net)
    start = time.perf_counter()

    every = max(1, config.epochs // 10)  # about ten lines, however many epochs

    def progress(event):
        if event.kind == "epoch" and (event.epoch % every == 0 or event.epoch == config.epochs):
            log(
                f"  epoch {event.epoch}/{config.epochs}: train loss {event.record['train_loss']:.4f}, "
                f"{time.perf_counter() - start:.0f} s"
            )

    trainer.run(data.x_train, data.y_train, epochs=config.epochs, callback=progress)
    seconds = time.perf_counter() - start
    # Fixed epochs, no best-checkpoint pick: the validation set is used once, here, to measure.
    val_probs = net.predict_proba(data.x_val)
    val_accuracy = accuracy(data.y_val, val_probs)
    train_accuracy = accuracy(data.y_train, net.predict(data.x_train))
    command = f"python -m models.train {name}"
    metadata = {
        "name": name,
        "description": DESCRIPTIONS[name],
        "dataset": config.dataset,
        "dataset_params": data.params if hasattr(data, "params") else config.dataset_params,
        "classes": list(data.classes),
        "input_shape": list(data.input_shape),
        "val_accuracy": round(float(val_accuracy), 4),
        "train_accuracy": round(float(train_accuracy), 4),
        "n_val": int(len(data.y_val)),
        "seconds": round(seconds, 1),
        "validation": validation_card(data, val_probs),
        "architecture": net.describe(),
        "config": config.to_dict(),
        "command": command,
    }
    save(net, out, metadata=_json_ready(metadata))
    log(
        f"{name}: val accuracy {val_accuracy:.4f} (train {train_accuracy:.4f}) "
        f"on {len(data.y_val)} images, {seconds:.1f} s -> {out}"
    )
    return metadata


def validation_card(data, val_probs: np.ndarray, gallery: int = 24) -> dict:
    """The confusion matrix, the misclassified count and the first ``gallery`` misclassified
    validation images (uint8, packed), as the page's Validation view shows them."""
    summary = validation_summary(data.y_val, val_probs, len(data.classes), keep=gallery)
    shown = [entry["index"] for entry in summary["misclassified"]]
    side = int(np.sqrt(data.x_val.shape[1]))
    summary["images"] = pack_uint8(to_uint8(data.x_val[shown].reshape(len(shown), side, side)))
    return summary


def _json_ready(value):
    """Tuples and NumPy scalars as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(RECIPES), help="which model(s) to train")
    parser.add_argument("--out", type=Path, help="output file (one model only); default models/<name>.npz")
    args = parser.parse_args(argv)
    if args.out is not None and len(args.names) != 1:
        parser.error("--out needs exactly one model name")
    for name in args.names:
        try:
            train(name, args.out)
        except ValueError as err:  # e.g. datasets.DatasetUnavailable: say how to get the data
            print(f"{name}: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
