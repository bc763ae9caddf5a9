"""Declared options: one description of a setting that every reader generates its part from.

An ``Option`` says what a setting is called, what values it takes, its default,
its label and help text. The sidebar builds its widget from it, the command line
its argument, ``RunConfig`` and links validate with it, and the docs list it:

    LEARNING_RATE = Option("learning_rate", "float", 0.03, low=0.0, high=10.0, low_open=True,
                           label="Learning rate η", help="Step size of the update.", cli="--lr")
    LEARNING_RATE.check(20000)   # ValueError: learning_rate must be in (0, 10], got 20000

Engine pieces declare their own options beside their code (an optimizer's
momentum, a schedule's factor, a layer's kernel size); ``Choice`` ties a
registry of such pieces to the option that picks one of them.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any

KINDS = ("float", "int", "bool", "choice", "text", "text_list", "int_list", "float_list")


@dataclass(frozen=True)
class Option:
    """One setting: its name, kind, default, allowed values, label and help.

    kind: "float", "int", "bool", "choice" (one of ``choices``), "text", or a list:
      "text_list" (words, given as a list or as text separated by commas or spaces,
      each one of ``choices`` when there are choices), "int_list", "float_list" (each
      entry within the bounds).
    low, high: inclusive bounds unless ``low_open`` / ``high_open``; None is unbounded.
    optional: None is a valid value (meaning "off"), shown as ``off_label``.
    cli: the command-line flag (default ``--name-with-dashes``); aliases: extra flags.
    log: the value spans orders of magnitude (a log-scale control).
    max_length: for text and lists, the most characters / entries accepted.
    min_length: for lists, the fewest entries accepted.
    """

    name: str
    kind: str
    default: Any
    label: str = ""
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    optional: bool = False
    off_label: str = "off"
    cli: str | None = None
    aliases: tuple = ()
    log: bool = False
    step: float | None = None
    max_length: int = 200
    min_length: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"option {self.name!r} is a choice without choices")
        self.check(self.default)

    # ------------------------------------------------------------ reading
    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")

    @property
    def flag(self) -> str:
        return self.cli or "--" + self.name.replace("_", "-")

    def range_text(self) -> str:
        """The allowed values in words, e.g. "(0, 10]", "one of sgd, adam", "integers ≥ 1"."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return (
                "one of "
                + ", ".join(map(str, self.choices))
                + (f", or {self.off_label}" if self.optional else "")
            )
        if self.kind == "text":
            return f"text of at most {self.max_length} characters"
        if self.kind == "text_list":
            words = f"words from {', '.join(map(str, self.choices))}" if self.choices else "words"
            return f"{self.min_length} to {self.max_length} {words}"
        bounds = _interval(self.low, self.high, self.low_open, self.high_open)
        words = {"int": "an integer", "float": "a number", "int_list": "integers", "float_list": "numbers"}
        joiner = " in " if bounds[:1] in "([" else " "
        text = f"{words[self.kind]}{joiner}{bounds}" if bounds else words[self.kind]
        if self.kind.endswith("_list"):
            text = f"a list of {text} (at most {self.max_length})"
        return text + (f", or {self.off_label}" if self.optional else "")

    # ---------------------------------------------------------- validation
    def check(self, value):
        """The value in its canonical type, or ValueError naming the option, the value and the range."""
        if value is None:
            if self.optional or self.kind == "text" and self.default is None:
                return None
            raise self._error(value)
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise self._error(value)
        if self.kind == "choice":
            if isinstance(value, str | int | float) and not isinstance(value, bool) and value in self.choices:
                return value
            raise self._error(value)
        if self.kind == "text":
            if isinstance(value, str) and len(value) <= self.max_length:
                return value
            raise self._error(value)
        if self.kind == "text_list":
            if isinstance(value, str) and len(value) <= 64 * self.max_length:
                value = [word for word in re.split(r"[\s,]+", value) if word]
            if not isinstance(value, list | tuple) or not self.min_length <= len(value) <= self.max_length:
                raise self._error(value)
            if not all(
                isinstance(v, str) and 0 < len(v) <= 64 and (not self.choices or v in self.choices)
                for v in value
            ):
                raise self._error(value)
            return list(value)
        if self.kind in ("int_list", "float_list"):
            if not isinstance(value, list | tuple) or not self.min_length <= len(value) <= self.max_length:
                raise self._error(value)
            return [self._number(v, self.kind == "int_list", whole=value) for v in value]
        return self._number(value, self.kind == "int", whole=value)

    def _number(self, value, integer: bool, whole):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self._error(whole)
        if integer:
            # 32.0 from a JSON file is the integer 32; 2.5 is not an integer
            if not (isinstance(value, numbers.Integral) or float(value).is_integer()):
                raise self._error(whole)
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise self._error(whole)
        if self.optional and value == 0 and self.kind in ("float", "int") and self.low == 0 and self.low_open:
            return None  # 0 means off for optional positive settings (e.g. clip norm)
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise self._error(whole)
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            raise self._error(whole)
        return value

    def _error(self, value) -> ValueError:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ValueError(f"{self.name} must be {self.range_text()}, got {shown}")

    def parse_text(self, text: str):
        """A value from command-line or form text ("0.1", "true", "8, 8"), validated."""
        text = text.strip()
        if self.optional and text.lower() in ("", "none", "off", self.off_label.lower()):
            return None
        try:
            if self.kind == "bool":
                lowered = text.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError
                value = lowered in ("true", "1", "yes", "on")
            elif self.kind == "int":
                value = int(text)
            elif self.kind == "float":
                value = float(text)
            elif self.kind in ("int_list", "float_list"):
                cast = int if self.kind == "int_list" else float
                value = [cast(part) for part in text.replace(";", ",").split(",") if part.strip()]
            elif self.kind == "text_list":
                value = text
            elif self.kind == "choice":
                value = next((c for c in self.choices if str(c) == text), text)
            else:
                value = text
        except ValueError:
            raise self._error(text) from None
        return self.check(value)

    def describe(self) -> dict:
        """JSON-ready facts for docs and tests."""
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "label": self.title,
            "range": self.range_text(),
            "help": self.help,
            "cli": self.flag,
        }


def _number(value) -> str:
    """A bound as people read it: whole numbers in full (2147483647, not 2.14748e+09)."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _interval(low, high, low_open, high_open) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f"{'>' if low_open else '≥'} {_number(low)}"
    if low is None:
        return f"{'<' if high_open else '≤'} {_number(high)}"
    return f"{'(' if low_open else '['}{_number(low)}, {_number(high)}{')' if high_open else ']'}"


@dataclass(frozen=True)
class Declared:
    """What a registry entry (an optimizer, an activation, a schedule…) says about itself.

    name: registry key; label: menu text; equation: the rule in one line of maths;
    options: its own settings; help: one sentence for menus and docs.
    """

    name: str
    label: str
    equation: str = ""
    options: tuple = ()
    help: str = ""
    facts: dict = field(default_factory=dict)

    def option(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    def defaults(self) -> dict:
        return {option.name: option.default for option in self.options}

    def check_options(self, values: dict | None, what: str) -> dict:
        """Defaults overlaid with ``values``, each validated; unknown names raise ValueError."""
        values = dict(values or {})
        known = {option.name for option in self.options}
        unknown = sorted(set(values) - known)
        if unknown:
            takes = ", ".join(sorted(known)) or "no options"
            raise ValueError(f"{what} {self.name!r} has no option {', '.join(unknown)}; it takes {takes}")
        return {option.name: option.check(values.get(option.name, option.default)) for option in self.options}


def lenient(option: Option, value, notices: list[str], source: str):
    """``option.check(value)``, or the default with a notice naming the option and the bad value."""
    try:
        return option.check(value)
    except ValueError as err:
        notices.append(f"{source} {err}; using the default {option.default!r}")
        return option.default


def markdown_table(options, title_column: str = "Option") -> str:
    """A Markdown table of options: name, flag, allowed values, default, meaning."""
    lines = [f"| {title_column} | Command line | Values | Default | Meaning |", "|---|---|---|---|---|"]
    for option in options:
        default = option.off_label if option.default is None else option.default
        lines.append(
            f"| `{option.name}` | `{option.flag}` | {option.range_text()} | `{default}` | {option.help} |"
        )
    return "\n".join(lines)
