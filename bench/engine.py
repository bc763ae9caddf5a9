"""Engine speed, measured side by side on this machine.

    python bench/engine.py [--repeats 5] [--samples 60000] [--skip-cnn]

1. MLP 784-256-64-10, ReLU, SGD, batch 64, one epoch on Fashion-MNIST: the engine
   (Trainer over a list of layers, every step recorded) against a minimal
   hand-written NumPy loop doing the same arithmetic on the same batches.
   Target: engine ≤ 1.15× the hand loop. A second hand loop keeps, as the engine's
   trace does until the next step, the W each step used and the ΔW it applied (new
   arrays, where the first loop updates W in place): the share of the gap that keeping
   them alone costs.
2. Small CNN (conv 1→8 3×3, ReLU, max-pool 2, conv 8→16 3×3, ReLU, max-pool 2,
   dense 10), batch 64, one epoch on the 8,000 MNIST training digits: the engine
   against PyTorch CPU (when torch is installed) with the same layers and SGD, at
   torch's default thread count and at one thread (NumPy's element-wise work runs on
   one core). Target: engine ≤ 1.0× PyTorch.
3. GELU against ReLU in the MLP, and one single-sample step with a full trace.

Every epoch is timed in a fresh Python process (``--one NAME``), after an untimed
warm-up of 20 batches in that process (bench/fresh.py says why). Candidates run in turn within each repeat (A, B, A, B, …),
so a ratio is taken between runs that met the same machine; the printed ratio is the
median over repeats, and every repeat's ratio is listed. Numbers only: nothing is
asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fresh import report, seconds_in_fresh_process, torch_installed

import datasets
from backprop import Network, Trainer

MLP = "dense256-relu-dense64-relu"
CNN = "conv8k3-relu-maxpool2-conv16k3-relu-maxpool2-flatten"
LEARNING_RATE = 0.01


def fashion(samples: int):
    try:
        ds = datasets.load("fashion-mnist", train_samples=samples)
        return ds.x_train, ds.y_train, "Fashion-MNIST"
    except ValueError as err:  # the Debian package is not installed: same shapes, random values
        print(f"(Fashion-MNIST not available: {err}; using random data)")
        rng = np.random.default_rng(0)
        return rng.random((samples, 784), dtype=np.float32), rng.integers(0, 10, samples), "random data"


def batches(n: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    order = np.random.default_rng([seed, 7, 0]).permutation(n)  # the Trainer's order for epoch 0
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


# ------------------------------------------------------------------ engine
def engine_epoch(layers: str, x, y, input_shape, batch_size: int) -> float:
    net = Network(layers, input_shape=input_shape, n_outputs=10, seed=0)
    trainer = Trainer(net, optimizer="sgd", learning_rate=LEARNING_RATE, batch_size=batch_size)
    start = time.perf_counter()
    trainer.run(x, y, epochs=1)
    return time.perf_counter() - start


# ---------------------------------------------------------- the hand loop
def hand_mlp_epoch(x, y, batch_size: int, keep_step: bool = False) -> float:
    """The same arithmetic written out: x·W + b, ReLU, softmax cross-entropy, backprop, W −= η·dW.

    keep_step: keep what the engine's trace keeps of a step until the next one starts: the W it
    used (the update makes a new W + ΔW) and the ΔW applied, a new array each. Otherwise W is
    updated in place and −η·dW is a temporary, the least a loop can do.
    """
    net = Network(MLP, input_shape=(784,), n_outputs=10, seed=0)  # the same initial weights
    params = [layer.params[name].copy() for layer in net.layers if layer.params for name in ("W", "b")]
    start = time.perf_counter()
    x = np.asarray(x, dtype=np.float32)
    for idx in batches(x.shape[0], batch_size):
        xb, yb = x.take(idx, axis=0), y[idx]
        n = xb.shape[0]
        W1, b1, W2, b2, W3, b3 = params
        kept = []  # the last step's W and ΔW go as this step starts, as the engine's last trace does
        z1 = xb @ W1 + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2 + b2
        a2 = np.maximum(z2, 0)
        logits = a2 @ W3 + b3
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        probs = np.exp(log_probs)
        d3 = probs.copy()
        d3[np.arange(n), yb] -= 1
        d3 /= n
        dW3, db3 = a2.T @ d3, d3.sum(axis=0)
        d2 = (d3 @ W3.T) * (z2 > 0)
        dW2, db2 = a1.T @ d2, d2.sum(axis=0)
        d1 = (d2 @ W2.T) * (z1 > 0)
        dW1, db1 = xb.T @ d1, d1.sum(axis=0)
        for k, grad in enumerate((dW1, db1, dW2, db2, dW3, db3)):
            if keep_step:
                delta = -LEARNING_RATE * grad
                kept.append((params[k], delta))
                params[k] = params[k] + delta
            else:
                params[k] -= LEARNING_RATE * grad
    return time.perf_counter() - start


# ----------------------------------------------------------------- PyTorch
def torch_cnn_epoch(x, y, batch_size: int, threads: int | None = None) -> float:
    """The same CNN and SGD in PyTorch, at its default thread count or at ``threads``."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32).reshape(-1, 1, 28, 28))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    start = time.perf_counter()
    for idx in batches(x.shape[0], batch_size):
        index = torch.from_numpy(idx)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt[index]), yt[index])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


# --------------------------------------------------- one epoch per process
WARM_UP_BATCHES = 20


def mlp_data(samples: int):
    x, y, _ = fashion(samples)
    return x, y


def mnist_data(samples: int):
    mnist = datasets.load("mnist")
    return mnist.x_train, mnist.y_train


# name: (its data, one timed epoch on (x, y))
CANDIDATES = {
    "hand": (mlp_data, lambda x, y: hand_mlp_epoch(x, y, 64)),
    "engine-mlp": (mlp_data, lambda x, y: engine_epoch(MLP, x, y, (784,), 64)),
    "hand-keep": (mlp_data, lambda x, y: hand_mlp_epoch(x, y, 64, keep_step=True)),
    "engine-gelu": (mlp_data, lambda x, y: engine_epoch(MLP.replace("relu", "gelu"), x, y, (784,), 64)),
    "torch": (mnist_data, lambda x, y: torch_cnn_epoch(x, y, 64)),
    "torch-1": (mnist_data, lambda x, y: torch_cnn_epoch(x, y, 64, threads=1)),
    "engine-cnn": (mnist_data, lambda x, y: engine_epoch(CNN, x, y, (28, 28), 64)),
}


def one_epoch(name: str, samples: int) -> float:
    """In this process: warm up on the first batches, then time one epoch of candidate ``name``."""
    data, epoch = CANDIDATES[name]
    x, y = data(samples)
    warm = WARM_UP_BATCHES * 64
    epoch(x[:warm], y[:warm])
    return epoch(x, y)


def fresh_epoch(name: str, samples: int) -> float:
    """Seconds of one epoch of candidate ``name``, timed in a process of its own."""
    return seconds_in_fresh_process(__file__, "--one", name, "--samples", str(samples))


def compare(title: str, candidates: dict[str, str], repeats: int, samples: int) -> dict:
    """label -> candidate name; each candidate once per repeat, in turn; medians and per-repeat ratios to the first."""
    times = {label: [] for label in candidates}
    for _ in range(repeats):
        for label, name in candidates.items():
            times[label].append(fresh_epoch(name, samples))
    labels = list(candidates)
    reference = labels[0]
    print(f"\n{title}")
    for label in labels:
        line = (
            f"  {label:<34} median {statistics.median(times[label]):7.3f} s   best {min(times[label]):7.3f} s"
        )
        if label != reference:
            ratios = [t / r for t, r in zip(times[label], times[reference])]
            line += (
                f"   ratio to {reference}: median {statistics.median(ratios):.3f} "
                f"(repeats {' '.join(f'{r:.2f}' for r in ratios)})"
            )
        print(line)
    return times


def single_step_us(repeats: int = 200) -> float:
    net = Network(MLP, input_shape=(784,), n_outputs=10, seed=0)
    trainer = Trainer(net, optimizer="sgd", learning_rate=LEARNING_RATE, batch_size=1)
    x = np.random.default_rng(0).random((1, 784), dtype=np.float32)
    y = np.array([3])
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        trainer.train_step(x, y)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--one", choices=sorted(CANDIDATES), help="time one epoch of this candidate here")
    args = parser.parse_args(argv)
    if args.one:
        report(one_epoch(args.one, args.samples))
        return 0

    _, _, source = fashion(args.samples)
    print(f"MLP data: {source}, {args.samples} rows; NumPy {np.__version__}; each epoch in a fresh process")
    compare(
        "MLP 784-256-64-10 ReLU, SGD, batch 64, one epoch",
        {
            "hand-written NumPy loop": "hand",
            "engine": "engine-mlp",
            "hand loop keeping W and ΔW": "hand-keep",
            "engine, GELU": "engine-gelu",
        },
        args.repeats,
        args.samples,
    )
    print(f"\nsingle-sample step with a full trace: {single_step_us():.0f} µs (median of 200)")

    if not args.skip_cnn:
        candidates = {}
        torch_version = torch_installed()
        if torch_version is not None:
            print(f"\nPyTorch {torch_version}")
            candidates["PyTorch CPU, default threads"] = "torch"
            candidates["PyTorch CPU, 1 thread"] = "torch-1"
        else:
            print("\n(PyTorch is not installed: pip install torch==2.13.0 for the reference)")
        candidates["engine"] = "engine-cnn"
        compare(
            f"small CNN {CNN}-dense10, SGD, batch 64, one epoch of {len(mnist_data(0)[1])} MNIST digits",
            candidates,
            args.repeats,
            args.samples,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
