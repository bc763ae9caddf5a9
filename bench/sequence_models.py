"""How many epochs and seconds each network of the Sequences page takes to reach the Bayes ceiling.

    python bench/sequence_models.py [--max-epochs 300] [--repeats 3]

The page's default data (vocabulary abcd, context 3, masters abccaabb, addaccad, 200 samples, seed 0)
and its two recipes (``ui.sequences.RECIPES``: the MLP on one-hot windows, the one-block transformer on
token ids), each trained one epoch at a time until its training accuracy reaches the training set's
Bayes-optimal accuracy. Seconds count training only (the accuracy check after each epoch is left out);
the median of ``--repeats`` runs, which all take the same steps (same seed). Numbers only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datasets
from backprop import RunConfig
from ui.sequences import RECIPES, network_params

DEFAULT_DATA = {"source": "explicit"}  # the page's defaults are the dataset's own


def to_ceiling(key: str, max_epochs: int) -> tuple[int | None, float, float]:
    """(epochs to the ceiling or None, training seconds to it, final training accuracy)."""
    recipe = RECIPES[key]
    config = RunConfig(
        dataset="sequences", dataset_params=network_params(DEFAULT_DATA, key), **recipe.settings()
    )
    data = datasets.load("sequences", **config.dataset_params)
    net = config.build_network(data)
    trainer = config.build_trainer(net)
    x, y = data.x_train, config.targets(data, data.y_train)
    seconds = 0.0
    accuracy = 0.0
    for epoch in range(1, max_epochs + 1):
        started = time.perf_counter()
        trainer.run(x, y, epochs=1)
        seconds += time.perf_counter() - started
        accuracy = net.evaluate(x, y)["accuracy"]
        if accuracy >= data.bayes_accuracy_train - 1e-9:
            return epoch, seconds, accuracy
    return None, seconds, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = datasets.load("sequences", **DEFAULT_DATA)
    print(f"Bayes ceiling (train): {data.bayes_accuracy_train:.2%}")
    print(f"{'network':<36} {'epochs':>7} {'seconds':>8} {'accuracy':>9}")
    for key, recipe in RECIPES.items():
        results = [to_ceiling(key, args.max_epochs) for _ in range(args.repeats)]
        epochs, _, accuracy = results[0]
        seconds = statistics.median(r[1] for r in results)
        reached = f"{epochs:7d}" if epochs is not None else f"{'>' + str(args.max_epochs):>7}"
        print(f"{recipe.label:<36} {reached} {seconds:8.3f} {accuracy:9.2%}")


if __name__ == "__main__":
    main()
