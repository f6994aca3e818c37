"""The ``skmvc`` command line.

``skmvc demo`` clusters the bundled Handwritten data set with CONAN and a k-means baseline
and prints a table of ACC / NMI / purity / ARI and fit times.
"""

from __future__ import annotations

import argparse
import sys
import time

from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from . import __version__
from .conan import CONANClustering
from .datasets import load_handwritten
from .metrics import clustering_report
from .preprocessing import ViewConcatenator, ViewTransformer

__all__ = ["main"]


def _format_table(rows: list[dict]) -> str:
    header = ["model", "ACC", "NMI", "purity", "ARI", "fit (s)"]
    lines = [
        [
            r["model"],
            *(f"{r[k]:.3f}" for k in ("accuracy", "nmi", "purity", "ari")),
            f"{r['seconds']:.1f}",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(
        [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
        + [fmt.format(*line) for line in lines]
    )


def _demo(args) -> int:
    data = load_handwritten()
    views, y = data.views, data.target
    scaled = ViewTransformer(MinMaxScaler()).fit_transform(views)
    print(
        f"UCI Handwritten: {len(y)} samples, {len(views)} views "
        f"({', '.join(str(v.shape[1]) for v in views)} features), 10 classes "
        "(views min-max scaled)"
    )
    models = [
        (
            "k-means (concatenated views)",
            make_pipeline(ViewConcatenator(), KMeans(10, n_init=10, random_state=args.seed)),
        ),
        (
            f"CONAN ({args.epochs} epochs)",
            CONANClustering(
                10,
                max_epochs=args.epochs,
                device=args.device,
                random_state=args.seed,
                verbose=args.verbose,
            ),
        ),
    ]
    rows = []
    for name, model in models:
        start = time.perf_counter()
        labels = model.fit_predict(scaled)
        rows.append(
            {"model": name, "seconds": time.perf_counter() - start, **clustering_report(y, labels)}
        )
    print(_format_table(rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skmvc`` command."""
    parser = argparse.ArgumentParser(
        prog="skmvc", description="Deep multi-view clustering estimators for scikit-learn."
    )
    parser.add_argument("--version", action="version", version=f"skmvc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="cluster the bundled Handwritten data set and print a metrics table"
    )
    demo.add_argument("--epochs", type=int, default=30, help="CONAN training epochs (30)")
    demo.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda[:i]")
    demo.add_argument("--seed", type=int, default=0, help="random_state (0)")
    demo.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="progress bars (-v) and a line per epoch (-vv)",
    )
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"skmvc: error: {exc}", file=sys.stderr)
        return 2
