"""`python -m datasets --list`: print the registry (name, kind, availability, description)."""

from __future__ import annotations

import argparse

from .registry import REGISTRY


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m datasets", description="List the built-in datasets.")
    parser.add_argument("--list", action="store_true", help="print every dataset (the default action)")
    parser.add_argument("--params", action="store_true", help="also print each dataset's parameters")
    args = parser.parse_args(argv)
    width = max(len(name) for name in REGISTRY)
    for name, spec in REGISTRY.items():
        ok, reason = spec.availability()
        status = "" if ok else "  [unavailable: see `datasets.availability`]"
        print(f"{name:<{width}}  {spec.kind:<10}  {spec.description}{status}")
        if args.params:
            print(" " * (width + 2) + ", ".join(f"{k}={v!r}" for k, v in spec.params.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
