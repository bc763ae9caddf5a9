"""`python -m datasets.shapes --out data/shapes --size 28 --n 1000 --train-split 0.8 --seed 0`"""

from __future__ import annotations

import argparse
import sys

from . import DEFAULT_SHAPES, SHAPES, write_folders


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datasets.shapes",
        description="Write synthetic shape images as train/val class folders.",
    )
    parser.add_argument("--out", required=True, help="output folder, e.g. data/shapes")
    parser.add_argument("--size", type=int, default=28, help="image side in pixels (default 28)")
    parser.add_argument("--n", type=int, default=1000, help="total number of images (default 1000)")
    parser.add_argument(
        "--train-split", type=float, default=0.8, help="share of images in train/ (default 0.8)"
    )
    parser.add_argument(
        "--shapes", default=",".join(DEFAULT_SHAPES), help=f"comma-separated classes from {', '.join(SHAPES)}"
    )
    parser.add_argument(
        "--noise", type=float, default=0.1, help="max pixel-noise std in [0, 1] (default 0.1)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    def progress(done, total):
        if done == total or done % 50 == 0:
            print(
                f"\rwriting images: {done}/{total}",
                end="" if done < total else "\n",
                file=sys.stderr,
                flush=True,
            )

    try:
        counts = write_folders(
            args.out,
            n=args.n,
            size=args.size,
            train_split=args.train_split,
            shapes=args.shapes,
            noise=args.noise,
            seed=args.seed,
            progress=progress,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for split, per_class in counts.items():
        summary = ", ".join(f"{name} {count}" for name, count in per_class.items())
        print(f"{split}: {sum(per_class.values())} images ({summary})")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
