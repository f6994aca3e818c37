"""Regenerate the tables of ``docs/benchmarks.md`` from the benchmarks' results files.

Each table on that page sits between two markers that name the command printing it::

    <!-- report: python benchmarks/suite.py --report -->
    ... the command's output ...
    <!-- /report -->

This script runs every named command (each reads its committed results file; nothing is
fitted) and writes its output between the markers, so the page holds the current figures
only. ``--check`` writes nothing and exits 1 when the page differs from the commands' output.

    python benchmarks/report.py           # rewrite docs/benchmarks.md
    python benchmarks/report.py --check   # is the page current?
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "benchmarks.md"
BLOCK = re.compile(r"(<!-- report: (?P<cmd>.+?) -->\n)(?P<body>.*?)(<!-- /report -->)", re.S)


def output_of(command: str) -> str:
    """The command's standard output, without the lines saying where a figure went."""
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = sys.executable
    env = dict(os.environ, MPLBACKEND="Agg")
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    lines = [line for line in out.stdout.splitlines() if not line.startswith("figure written")]
    return "\n".join(lines).strip() + "\n"


def regenerate(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + output_of(m.group("cmd")) + m.group(4), text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument("--page", type=Path, default=PAGE)
    args = parser.parse_args(argv)
    text = args.page.read_text()
    new = regenerate(text)
    if args.check:
        stale = [m.group("cmd") for m in BLOCK.finditer(text) if m.group(0) not in new]
        for command in stale:
            print(f"stale: {command}")
        return 1 if stale else 0
    args.page.write_text(new)
    print(f"{len(BLOCK.findall(text))} tables written to {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
