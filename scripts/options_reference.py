"""Write docs/options.md from the option declarations, so the docs list exactly what the code accepts.

    python scripts/options_reference.py            # rewrite docs/options.md
    python scripts/options_reference.py --check    # exit 1 if docs/options.md is out of date

Every table below comes from a declaration beside its implementation: RunConfig's
settings (backprop/config.py), each optimizer, schedule, activation, loss, init and
layer word, and each dataset's parameters. tests/test_docs.py runs --check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import datasets  # noqa: E402
from backprop.activations import ACTIVATIONS  # noqa: E402
from backprop.architecture import LAYER_KINDS  # noqa: E402
from backprop.config import OPTIONS  # noqa: E402
from backprop.layers import INITIALIZERS  # noqa: E402
from backprop.losses import LOSSES  # noqa: E402
from backprop.optimizers import OPTIMIZERS  # noqa: E402
from backprop.options import markdown_table  # noqa: E402
from backprop.schedules import SCHEDULES  # noqa: E402

TARGET = REPO / "docs" / "options.md"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def registry_table(entries, extra: str | None = None) -> str:
    lines = ["| Name | Label | Rule | Options | Meaning |", "|---|---|---|---|---|"]
    for declared in entries.values():
        options = ", ".join(f"`{o.name}` ({o.range_text()}, default `{o.default}`)" for o in declared.options)
        rule = declared.facts.get(extra, "") if extra else declared.equation
        if extra and declared.equation:
            rule = f"{declared.equation}; slope {rule}" if rule else declared.equation
        lines.append(
            f"| `{declared.name}` | {_cell(declared.label)} | {_cell(rule)} | {_cell(options) or '—'} | "
            f"{_cell(declared.help)} |"
        )
    return "\n".join(lines)


def layer_table() -> str:
    lines = ["| Word | Layer | Forward | Backward | Meaning |", "|---|---|---|---|---|"]
    for kind in LAYER_KINDS.values():
        lines.append(
            f"| `{kind.example}` | {kind.label} | {_cell(kind.forward)} | {_cell(kind.backward)} | "
            f"{_cell(kind.help)} |"
        )
    return "\n".join(lines)


def reference() -> str:
    parts = [
        "# Options",
        "",
        "Every setting the sidebar, the command line (`python -m backprop train`), a run folder and a link",
        "accept, generated from the declarations in the code (`python scripts/options_reference.py`).",
        "A value outside its range is refused with a message naming it; from a link it falls back to its",
        "default with a notice.",
        "",
        "## Setup",
        "",
        markdown_table(OPTIONS, "Setting"),
        "",
        "## Layers",
        "",
        "Write an architecture as words joined by `-`; the output layer is added for the data.",
        "",
        layer_table(),
        "",
        "Activations, usable as words too:",
        "",
        registry_table(ACTIVATIONS, extra="slope"),
        "",
        "## Optimizers",
        "",
        "Each optimizer's own options are flags of their own on the command line (e.g. `--momentum 0.9`).",
        "",
        registry_table(OPTIMIZERS),
        "",
        "## Learning-rate schedules",
        "",
        "Chosen with `--schedule NAME`; options as `--schedule-OPTION` (e.g. `--schedule-factor 0.5`).",
        "",
        registry_table(SCHEDULES),
        "",
        "## Losses and initialisers",
        "",
        registry_table({name: loss.declared for name, loss in LOSSES.items()}),
        "",
        registry_table(INITIALIZERS),
        "",
        "## Datasets",
        "",
        "Parameters are given as `--dataset-param NAME=VALUE` on the command line.",
    ]
    for name in datasets.names():
        spec = datasets.spec(name)
        parts += ["", f"### `{name}` ({spec.kind})", "", _cell(spec.description), ""]
        if spec.options:
            parts.append(markdown_table(spec.options, "Parameter"))
        if spec.server_only:
            parts += [
                "",
                f"Set only on the command line or by the server's owner: {', '.join(spec.server_only)}.",
            ]
    return "\n".join(parts) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only report whether docs/options.md is current")
    args = parser.parse_args(argv)
    text = reference()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print("docs/options.md is out of date: run python scripts/options_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
