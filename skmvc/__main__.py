"""``python -m skmvc``: the command line (see :mod:`skmvc._cli`)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
