"""Engine speed: one SGD epoch of 784-256-64-10 against the GEMM-only floor of the same steps.

    python bench/engine.py [--samples 60000] [--repeats 5]

Prints seconds per epoch at batch 64 and 512 for ReLU and GELU networks, the
time of only the matrix products those steps perform (the floor), their ratio,
and the time of one single-sample step with a full trace. Seconds are the best of
--repeats runs. Floor, ReLU and GELU run back to back within a repeat, so a ratio
is taken within one repeat, where all three met the same machine; the printed
ratio is the median over repeats, and each repeat's ReLU/floor is listed too.
Targets: ReLU ratio <= 1.3 at batch 64; GELU <= 1.25x ReLU; single step <= 300 us.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backprop import Network, Trainer

SIZES = [784, 256, 64, 10]


def load_data(samples: int):
    try:
        import datasets

        ds = datasets.load("fashion-mnist", train_samples=samples)
        return ds.x_train, ds.y_train, "Fashion-MNIST"
    except Exception as err:  # absent data or datasets package: same shapes, random values
        rng = np.random.default_rng(0)
        print(f"(Fashion-MNIST not available: {err}; using random data)")
        return (rng.random((samples, 784), dtype=np.float32), rng.integers(0, 10, samples), "random")


def epoch_seconds(x, y, activation: str, batch_size: int, seed: int = 0) -> float:
    net = Network(SIZES, activation=activation, seed=seed)
    trainer = Trainer(net, optimizer="sgd", learning_rate=0.01, batch_size=batch_size)
    start = time.perf_counter()
    trainer.run(x, y, epochs=1)
    return time.perf_counter() - start


def gemm_floor_seconds(x, batch_size: int) -> float:
    """Only the matrix products of one epoch: per step 3 forward, 3 weight-gradient, 2 input-gradient."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(SIZES, SIZES[1:])]
    n = x.shape[0]
    order = np.random.default_rng(1).permutation(n)
    start = time.perf_counter()
    for i in range(0, n, batch_size):
        a = x[order[i : i + batch_size]]
        acts = [a]
        for w in weights:
            a = a @ w
            acts.append(a)
        d = a
        for k in range(len(weights) - 1, -1, -1):
            acts[k].T @ d
            if k > 0:
                d = d @ weights[k].T
    return time.perf_counter() - start


def paired_runs(x, y, batch_size: int, repeats: int) -> np.ndarray:
    """(repeats, 3) seconds of (floor, ReLU, GELU). Within a repeat the three run back to
    back, so they share the machine's state; ratios are taken within a repeat."""
    return np.array(
        [
            (
                gemm_floor_seconds(x, batch_size),
                epoch_seconds(x, y, "relu", batch_size, seed=r),
                epoch_seconds(x, y, "gelu", batch_size, seed=r),
            )
            for r in range(repeats)
        ]
    )


def single_step_us(repeats: int = 2000) -> float:
    net = Network(SIZES, activation="gelu", seed=0)
    trainer = Trainer(net, optimizer="sgd", learning_rate=0.01, batch_size=1)
    rng = np.random.default_rng(0)
    x = rng.random((1, 784), dtype=np.float32)
    y = np.array([3])
    for _ in range(50):
        trainer.train_step(x, y)
    best = np.inf
    for _ in range(5):  # best of five blocks, for the same reason as best_of
        start = time.perf_counter()
        for _ in range(repeats // 5):
            trainer.train_step(x, y)
        best = min(best, (time.perf_counter() - start) / (repeats // 5))
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x, y, source = load_data(args.samples)
    print(f"data: {source}, {x.shape[0]} samples, network {SIZES}, plain SGD, float32")
    for batch_size in (64, 512):
        runs = paired_runs(x, y, batch_size, args.repeats)
        floor, relu, gelu = runs.min(axis=0)
        ratio = np.median(runs[:, 1] / runs[:, 0])
        gelu_ratio = np.median(runs[:, 2] / runs[:, 1])
        print(
            f"batch {batch_size:4d}: GEMM floor {floor:.3f} s | ReLU epoch {relu:.3f} s "
            f"(ratio {ratio:.2f}, target <= 1.3 at batch 64) | GELU epoch {gelu:.3f} s "
            f"(GELU/ReLU {gelu_ratio:.2f}, target <= 1.25)"
        )
        print("            ReLU/floor per run: " + " ".join(f"{r:.2f}" for r in runs[:, 1] / runs[:, 0]))
    print(f"single-sample step with full trace: {single_step_us():.0f} us (target <= 300 us)")


if __name__ == "__main__":
    main()
