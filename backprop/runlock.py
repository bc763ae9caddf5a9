"""One trainer per run: an exclusive lock on a file in the run's folder.

Two trainers of one run (two browser sessions, or the app and the command
line) would each save their own epochs over the other's, and the last save
would win. Whoever writes a run holds its lock first:

    with RunLock(run.path, owner="python -m backprop train"):
        ...  # train and save

The lock is ``flock(LOCK_EX | LOCK_NB)`` on ``.lock`` in the run folder. The
kernel drops it when its process ends in any way, kill -9 included, so a lock
left by a dead trainer is taken over by the next one without any guess about
staleness (no heartbeat, no pid reuse to worry about). The file also says who
holds it (owner, pid, host, since when) for the message the next trainer
gets. The file stays (emptied) when the lock is released: removing it would
let two trainers lock two different files.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

LOCK_NAME = ".lock"
_HOLDER_BYTES = 4096


class RunBusy(ValueError):
    """Another trainer holds the run's lock; ``holder`` says who (may be empty)."""

    def __init__(self, message: str, holder: dict):
        super().__init__(message)
        self.holder = holder


def busy(name: str, holder: dict) -> RunBusy:
    """The error a trainer gets for run ``name`` while ``holder`` trains it."""
    return RunBusy(
        f"run {name!r} is being trained by {describe_holder(holder)}; "
        "wait until it stops, or fork it and train the fork",
        holder,
    )


def holder_here(owner: str) -> dict:
    """Who this process is, as a lock file says it: owner, pid, host, thread and since when."""
    return {
        "owner": owner,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "thread": threading.current_thread().name,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def default_owner() -> str:
    """Who trains, when the caller does not say: the program's name."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return program if program and program != "-c" else "a Python program"


def describe_holder(holder: dict) -> str:
    """'the app (process 123 on host, since 2025-01-01T10:00:00+00:00)', or 'another process'."""
    if not holder:
        return "another process"
    owner = str(holder.get("owner") or "another process")
    where = f"process {holder.get('pid', '?')} on {holder.get('host', '?')}"
    return f"{owner} ({where}, since {holder.get('since', '?')})"


class RunLock:
    """The exclusive lock of the run in ``folder``; ``acquire`` raises RunBusy when someone else has it.

    owner: a few words on who trains ("the app", "python -m backprop train").
    """

    def __init__(self, folder, owner: str | None = None):
        self.folder = Path(folder)
        self.owner = owner or default_owner()
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"RunLock({str(self.folder)!r}, {'held' if self._fd is not None else 'free'})"

    @property
    def path(self) -> Path:
        return self.folder / LOCK_NAME

    def acquire(self) -> RunLock:
        if self._fd is not None:
            raise RuntimeError(f"{self!r} is already held")  # an internal misuse, not a user error
        if fcntl is None:  # pragma: no cover - not POSIX
            raise ValueError("runs can be trained only where the operating system offers file locks (POSIX)")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as err:
            raise ValueError(f"cannot lock run {self.folder.name!r} ({err.strerror}: {self.path})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ValueError(f"{self.path} is not a regular file, so the run cannot be locked")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy(self.folder.name, _read_holder(fd)) from None
            except OSError as err:
                raise ValueError(
                    f"cannot lock run {self.folder.name!r} on this file system ({err.strerror}); "
                    "keep the runs folder on a local disk"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder_here(self.owner)).encode("utf-8"), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder(folder) -> dict | None:
    """Who holds the lock of the run in ``folder``, read without taking it (None: nobody).

    The lock file says who took it and is emptied on release. A trainer killed with kill -9 leaves it
    filled while the kernel has dropped the lock, so a holder on this host whose process is gone does not
    count. Taking the lock to find out would make a trainer starting at that moment fail.
    """
    try:
        fd = os.open(Path(folder) / LOCK_NAME, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        found = _read_holder(fd)
    finally:
        os.close(fd)
    if not found:
        return None
    pid = found.get("pid")
    if found.get("host") == socket.gethostname() and isinstance(pid, int) and pid > 0:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # alive, someone else's
            pass
    return found


def _read_holder(fd: int) -> dict:
    try:
        holder = json.loads(os.pread(fd, _HOLDER_BYTES, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
