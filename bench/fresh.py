"""Timing a candidate in a process of its own.

Two candidates timed in one process disturb each other. After a NumPy epoch,
OpenBLAS's worker thread keeps spinning for a while, waiting for the next product,
and takes a core from whatever runs next. Measured here: PyTorch's CNN epoch took
0.45 s right after an engine epoch and 0.35 s alone. PyTorch's own threads spin
likewise after its parallel work.

So a bench runs itself again per timing (``python bench/X.py --one NAME ...``): the
child warms up, times one candidate and prints ``{"seconds": s}`` as its last line.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys


def seconds_in_fresh_process(script: str, *args: str) -> float:
    """Run ``python script *args`` and read the seconds its last line reports."""
    done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def report(seconds: float) -> None:
    """The child's answer, read by ``seconds_in_fresh_process``."""
    print(json.dumps({"seconds": seconds}))


def torch_installed() -> str | None:
    """PyTorch's version and default thread count, asked of a process of its own (importing it here
    would start its threads beside the candidates'); None without torch."""
    if importlib.util.find_spec("torch") is None:
        return None
    ask = "import torch; print(torch.__version__, 'on', torch.get_num_threads(), 'threads by default')"
    return subprocess.run(
        [sys.executable, "-c", ask], capture_output=True, text=True, check=True
    ).stdout.strip()
