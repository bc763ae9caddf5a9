"""Resource budgets for input from outside: uploaded pictures, run archives, arrays and JSON files.

Each budget is declared once here, with its default and the environment variable
that changes it; the run store, the archive import, the .npz reader, the Draw
page and the command line read them from here, and docs/runs.md and
docs/draw.md state them (a test checks the docs against these declarations).

    from backprop import limits
    limit = limits.ARCHIVE_BYTES.value()          # $BACKPROP_MAX_ARCHIVE_BYTES or 256 MiB
    raise limits.ARCHIVE_BYTES.exceeded("the zip", unpacked)

A budget is read when it is used, so a changed variable applies to the next
read without a restart of the process that reads it.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

_SIZE_RE = re.compile(r"^\s*([0-9][0-9_]*)\s*(?:([kmgt])(?:i?b)?)?\s*$", re.IGNORECASE)
_SUFFIXES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def describe_bytes(n: int) -> str:
    """1536 -> '1.5 KiB', 256 << 20 -> '256 MiB', 17 -> '17 bytes'."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def parse_amount(text: str) -> int:
    """'300_000' -> 300000, '64M' -> 64 MiB, '1GiB' / '1gb' -> 1 GiB; ValueError otherwise."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(text)
    value = int(match.group(1).replace("_", "")) * _SUFFIXES.get((match.group(2) or "").lower(), 1)
    if value <= 0:
        raise ValueError(text)
    return value


class OverBudget(ValueError):
    """Input from outside is larger than a budget allows; the message says how to raise the budget."""


@dataclass(frozen=True)
class Budget:
    """One limit on input from outside.

    what: what is counted, for messages ("unpacked bytes of a run archive").
    env: the environment variable that replaces the default.
    default: the limit when the variable is unset.
    unit: "bytes" or "pixels".
    docs: the documentation pages that state it.
    """

    what: str
    env: str
    default: int
    unit: str
    docs: tuple[str, ...]

    def value(self) -> int:
        """The limit in force: ``$env`` when set (e.g. 512M, 1GiB, 300_000), else the default."""
        text = os.environ.get(self.env)
        if text is None or not text.strip():
            return self.default
        try:
            return parse_amount(text)
        except ValueError:
            raise ValueError(
                f"{self.env} must be a positive whole number of {self.unit}, optionally with "
                f"K, M or G (e.g. 512M); got {text!r}"
            ) from None

    def describe(self, amount: int) -> str:
        """An amount of this budget's unit as people read it: '256 MiB', '16.8 million pixels (4096×4096)'."""
        if self.unit == "bytes":
            return describe_bytes(amount)
        if self.unit != "pixels":
            return (
                f"{amount / 1e6:.1f} million {self.unit}"
                if amount >= 1_000_000
                else f"{amount:,} {self.unit}"
            )
        side = math.isqrt(amount)
        square = f" ({side}×{side})" if side * side == amount else ""
        if amount >= 1_000_000:
            return f"{amount / 1e6:.1f} million pixels{square}"
        return f"{amount:,} pixels{square}"

    def exceeded(self, subject: str, amount: int | None = None, limit: int | None = None) -> OverBudget:
        """The error for ``subject`` going over this budget (raise it): what, how much, how to go past."""
        limit = self.value() if limit is None else limit
        size = f" is {self.describe(amount)}," if amount is not None else " is"
        return OverBudget(
            f"{subject}{size} more than the {self.describe(limit)} allowed for {self.what}; "
            f"if you trust it, raise the limit with the environment variable {self.env} (e.g. "
            f"{self.env}={self._example(limit)})"
        )

    def _example(self, limit: int) -> str:
        doubled = 2 * limit
        if self.unit not in ("bytes", "pixels"):
            return str(doubled)
        for suffix, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
            if doubled % size == 0:
                return f"{doubled // size}{suffix}"
        return str(doubled)

    def __repr__(self) -> str:
        return f"Budget({self.env}={self.describe(self.value())})"


UPLOAD_PIXELS = Budget(
    what="an uploaded picture (width × height, read from its header before decoding)",
    env="BACKPROP_MAX_UPLOAD_PIXELS",
    default=4096 * 4096,
    unit="pixels",
    docs=("docs/draw.md",),
)
ARCHIVE_BYTES = Budget(
    what="the unpacked files of a run archive, or the unpacked arrays of one .npz",
    env="BACKPROP_MAX_ARCHIVE_BYTES",
    default=256 << 20,
    unit="bytes",
    docs=("docs/runs.md", "docs/draw.md"),
)
ARRAY_BYTES = Budget(
    what="one array inside an .npz (shape × item size)",
    env="BACKPROP_MAX_ARRAY_BYTES",
    default=64 << 20,
    unit="bytes",
    docs=("docs/runs.md", "docs/draw.md"),
)
HISTORY_BYTES = Budget(
    what="a run's history.json",
    env="BACKPROP_MAX_HISTORY_BYTES",
    default=64 << 20,
    unit="bytes",
    docs=("docs/runs.md",),
)
CONFIG_BYTES = Budget(
    what="a run's config.json",
    env="BACKPROP_MAX_CONFIG_BYTES",
    default=1 << 20,
    unit="bytes",
    docs=("docs/runs.md",),
)

IMAGE_FILE_BYTES = Budget(
    what="a picture file (opened on the Draw & predict canvas, or read by python -m backprop predict --image)",
    env="BACKPROP_MAX_IMAGE_FILE_BYTES",
    default=20 << 20,
    unit="bytes",
    docs=("docs/draw.md",),
)

NETWORK_PARAMETERS = Budget(
    what="a network built in the app (from the sidebar, a link, a fork or a run); the command line "
    "(python -m backprop train) has no such limit",
    env="BACKPROP_MAX_PARAMETERS",
    default=5_000_000,
    unit="parameters",
    docs=("docs/runs.md", "docs/step_through.md"),
)
BATCH_BYTES = Budget(
    what="the values and gradients of one batch of a network built in the app (the batch size times "
    "what one sample keeps in every layer, im2col columns and attention scores included, twice, in "
    "float32); the command line has no such limit",
    env="BACKPROP_MAX_BATCH_BYTES",
    default=256 << 20,
    unit="bytes",
    docs=("docs/runs.md", "docs/step_through.md"),
)
DATASET_CACHE_BYTES = Budget(
    what="the datasets the app keeps built in memory, shared by every session (the least recently "
    "used ones are dropped first; one dataset larger than this is kept alone)",
    env="BACKPROP_MAX_DATASET_CACHE_BYTES",
    default=256 << 20,
    unit="bytes",
    docs=("docs/datasets.md",),
)

BUDGETS = (
    UPLOAD_PIXELS,
    ARCHIVE_BYTES,
    ARRAY_BYTES,
    HISTORY_BYTES,
    CONFIG_BYTES,
    IMAGE_FILE_BYTES,
    NETWORK_PARAMETERS,
    BATCH_BYTES,
    DATASET_CACHE_BYTES,
)


def table(page: str) -> str:
    """The Markdown table of the budgets a documentation page states (its rows are checked by a test)."""
    lines = ["| budget | default | raise it with |", "|---|---|---|"]
    for budget in BUDGETS:
        if page in budget.docs:
            lines.append(f"| {budget.what} | {budget.describe(budget.default)} | `{budget.env}` |")
    return "\n".join(lines)
