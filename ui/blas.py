"""One BLAS thread for the app's matrix products.

The app's products are small: one step of the 784-256-64-10 network is a batch of
32 through layers of a few hundred units, well under a millisecond on one core.
With OpenBLAS's default of one thread per core, each product wakes the other
threads, and once done they spin for a while on the cores that the browser and the
rest of the script need. On the 2-core machine with other processes busy, that
network's forward and backward took 96 ms (median) that way, against 1.3 ms on
one thread. A server's cores are better spent on its sessions side by side.

The count is one setting for the whole process, so it is set, not scoped: the
entry point asks for it at every run (a few microseconds), whichever thread runs it.
"""

from __future__ import annotations

import threading

import numpy as np  # noqa: F401 (loads NumPy's BLAS, which the controller looks for)
from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_controller: ThreadpoolController | None = None


def _blas() -> ThreadpoolController:
    global _controller
    with _lock:
        if _controller is None:  # looking through the loaded libraries takes milliseconds: once
            _controller = ThreadpoolController().select(user_api="blas")
        return _controller


def use_one_blas_thread() -> None:
    """NumPy's BLAS does each product on the calling thread alone, from now on."""
    blas = _blas()
    if any(info["num_threads"] != 1 for info in blas.info()):
        blas.limit(limits=1)


def blas_threads() -> int | None:
    """NumPy's BLAS thread count (None when its BLAS is not one threadpoolctl knows)."""
    found = _blas().info()
    return found[0]["num_threads"] if found else None
