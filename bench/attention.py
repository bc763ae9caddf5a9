"""A training step of a one-block transformer, the engine against PyTorch CPU, side by side.

    python bench/attention.py [--repeats 7] [--steps 200]

The model (batch 64, context 8, width 32, 2 heads, vocabulary 4):
    embed32-pos-res-ln-attn2-add-res-ln-dense64-relu-dense32-add-ln-last-dense4
one step = forward, softmax cross-entropy, backward and a plain SGD update, every
intermediate recorded by the engine. PyTorch runs the same layers (its own
multi-head attention with a causal mask). Each repeat times each candidate in a
process of its own (bench/fresh.py says why), after 20 untimed steps; candidates
alternate within each repeat; the printed ratio is the median of per-repeat ratios.
Target: ≤ 1.0×.
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

from backprop import Network, Trainer

BATCH, CONTEXT, WIDTH, HEADS, VOCAB, HIDDEN = 64, 8, 32, 2, 4, 64
LAYERS = f"embed{WIDTH}-pos-res-ln-attn{HEADS}-add-res-ln-dense{HIDDEN}-relu-dense{WIDTH}-add-ln-last"


def data(steps: int):
    rng = np.random.default_rng(0)
    return rng.integers(0, VOCAB, (steps * BATCH, CONTEXT)), rng.integers(0, VOCAB, steps * BATCH)


def engine_seconds(x, y) -> float:
    net = Network(LAYERS, input_shape=(CONTEXT,), n_outputs=VOCAB, vocab_size=VOCAB, seed=0)
    trainer = Trainer(net, optimizer="sgd", learning_rate=0.05, batch_size=BATCH, shuffle=False)
    start = time.perf_counter()
    trainer.run(x, y, epochs=1)
    return time.perf_counter() - start


def torch_stepper():
    import torch

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(VOCAB, WIDTH)
            self.pos = torch.nn.Parameter(torch.randn(CONTEXT, WIDTH) / WIDTH**0.5)
            self.ln1, self.ln2, self.ln3 = (torch.nn.LayerNorm(WIDTH) for _ in range(3))
            self.attn = torch.nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
            self.mlp = torch.nn.Sequential(
                torch.nn.Linear(WIDTH, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, WIDTH)
            )
            self.head = torch.nn.Linear(WIDTH, VOCAB)
            self.register_buffer("mask", torch.triu(torch.ones(CONTEXT, CONTEXT, dtype=torch.bool), 1))

        def forward(self, ids):
            h = self.embed(ids) + self.pos
            a = self.ln1(h)
            h = h + self.attn(a, a, a, attn_mask=self.mask, need_weights=False)[0]
            h = h + self.mlp(self.ln2(h))
            return self.head(self.ln3(h)[:, -1])

    def run(x, y) -> float:
        torch.manual_seed(0)
        model = Block()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        start = time.perf_counter()
        for i in range(0, len(x), BATCH):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[i : i + BATCH]), yt[i : i + BATCH])
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    return run


WARM_UP_STEPS = 20


def one_run(name: str, steps: int) -> float:
    """In this process: 20 untimed steps, then the timed ``steps`` of candidate ``name``."""
    run = engine_seconds if name == "engine" else torch_stepper()
    x, y = data(steps)
    warm = WARM_UP_STEPS * BATCH
    run(x[:warm], y[:warm])
    return run(x, y)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--one", choices=("engine", "torch"), help="time one candidate here")
    args = parser.parse_args(argv)
    if args.one:
        report(one_run(args.one, args.steps))
        return 0
    version = torch_installed()
    if version is None:
        print("PyTorch is not installed (pip install torch==2.13.0): engine only")
    else:
        print(f"PyTorch {version}; each repeat of each candidate in a fresh process")
    engine, torch_times = [], []
    for _ in range(args.repeats):
        engine.append(seconds_in_fresh_process(__file__, "--one", "engine", "--steps", str(args.steps)))
        if version is not None:
            torch_times.append(
                seconds_in_fresh_process(__file__, "--one", "torch", "--steps", str(args.steps))
            )
    per_step = 1e3 / args.steps
    print(f"model: {LAYERS}-dense{VOCAB}; batch {BATCH}, {args.steps} steps a repeat")
    print(
        f"  engine   median {statistics.median(engine) * per_step:.3f} ms/step   best {min(engine) * per_step:.3f}"
    )
    if torch_times:
        ratios = [e / t for e, t in zip(engine, torch_times)]
        print(
            f"  PyTorch  median {statistics.median(torch_times) * per_step:.3f} ms/step   "
            f"best {min(torch_times) * per_step:.3f}"
        )
        print(
            f"  engine / PyTorch: median {statistics.median(ratios):.3f}  "
            f"(repeats {' '.join(f'{r:.2f}' for r in ratios)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
