"""Runs that this app's sessions are training, held between the slices of their training.

The Runs page trains a run in slices (``ui.runs``), one per run of its training panel, and the run's
lock (``backprop.runlock``) is taken for each slice and free in between. Without a claim another
session's Train could take the run in such a gap, and the first session's training would end at its
next slice, told the run is busy. A session claims a run when its training starts and renews the claim
at every slice; another session is told the run is busy while the claim is fresh. A claim not renewed
for ``CLAIM_SECONDS`` (its tab was closed in the middle of training) lapses.

Claims are per process: another process (the command line) is kept out by the lock itself.
"""

from __future__ import annotations

import threading
import time

from backprop.runlock import busy, holder_here

CLAIM_SECONDS = 5.0

_claims: dict[str, tuple[str, float, dict]] = {}  # run folder -> (session token, last renewal, holder)
_guard = threading.Lock()


def claim(folder: str, name: str, token: str, owner: str, now: float | None = None) -> None:
    """Claim (or renew) the run in ``folder`` for the session ``token``; RunBusy naming the holder when
    another session's claim on it is fresh."""
    now = time.monotonic() if now is None else now
    with _guard:
        held = _claims.get(folder)
        if held is not None and held[0] != token and now - held[1] < CLAIM_SECONDS:
            raise busy(name, held[2])
        holder = held[2] if held is not None and held[0] == token else holder_here(owner)
        _claims[folder] = (token, now, holder)


def release(folder: str, token: str) -> None:
    """Give up the session's claim on the run in ``folder`` (nothing when another session holds it)."""
    with _guard:
        held = _claims.get(folder)
        if held is not None and held[0] == token:
            del _claims[folder]
