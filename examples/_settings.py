"""Shared by the examples: SKMVC_EXAMPLE_QUICK=1 (set by the test suite) shrinks every
schedule and data set so the gallery can be checked in seconds."""

import os

QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n: int) -> int:
    """``n`` epochs, or 1 in quick mode."""
    return 1 if QUICK else n
