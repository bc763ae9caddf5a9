"""`python -m backprop ...`: see backprop/cli.py."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
