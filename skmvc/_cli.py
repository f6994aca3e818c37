"""The ``skmvc`` command line.

- ``skmvc demo``: cluster the bundled Handwritten data set with CONAN and a k-means baseline
  and print a table of ACC / NMI / purity / ARI and fit times;
- ``skmvc fit FILE --method NAME --n-clusters K -o labels``: cluster your own ``.npz`` or
  ``.mat`` file;
- ``skmvc benchmark --methods ... --datasets ...``: the metrics, fit time and peak memory of
  methods on benchmark sets, mean ± std over seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from . import __version__
from ._benchmark import IMAGE_SETS, METHODS, load_dataset, method_params, run_one
from .conan import CONANClustering
from .datasets import load_handwritten, load_mat, load_npz
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


def _load_file(path: Path):
    if path.suffix == ".npz":
        return load_npz(path, require_labels=False)
    if path.suffix == ".mat":
        return load_mat(path, require_labels=False)
    raise ValueError(f"{path}: expected a .npz or .mat file.")


def _fit(args) -> int:
    data = _load_file(args.file)
    views = data.views
    if args.scale == "minmax":
        views = ViewTransformer(MinMaxScaler()).fit_transform(views)
    params = {} if args.epochs is None else {"max_epochs": args.epochs}
    est = METHODS[args.method](
        args.n_clusters,
        device=args.device,
        random_state=args.seed,
        verbose=args.verbose,
        **params,
    )
    start = time.perf_counter()
    labels = est.fit_predict(views)
    seconds = time.perf_counter() - start
    print(
        f"{args.method}: {len(labels)} samples, {len(views)} views, {args.n_clusters} "
        f"clusters, {seconds:.1f} s on {est.device_}; cluster sizes "
        f"{np.bincount(labels, minlength=args.n_clusters).tolist()}"
    )
    if data.target is not None:
        report = clustering_report(data.target, labels)
        print("against the file's labels: " + ", ".join(f"{k} {v:.4f}" for k, v in report.items()))
    if args.output is not None:
        if args.output.suffix == ".npy":
            np.save(args.output, labels)
        else:
            np.savetxt(args.output, labels, fmt="%d")
        print(f"labels written to {args.output}")
    return 0


def _benchmark(args) -> int:
    results = []
    header = ["method", "data", "n", "ACC", "NMI", "purity", "ARI", "fit (s)", "peak MB"]
    rows = []
    for dataset in args.datasets:
        for method in args.methods:
            images = dataset in IMAGE_SETS and method in ("conan", "eamc")
            views, y = load_dataset(
                dataset, args.data_dir, images=images, n_samples=args.n_samples
            )
            params = method_params(method, dataset, args.profile)
            if args.max_epochs is not None:
                params["max_epochs"] = args.max_epochs
            runs = [
                run_one(method, views, y, params, seed, args.device, args.verbose)
                for seed in range(args.seeds)
            ]
            results.append(
                {
                    "method": method,
                    "dataset": dataset,
                    "n_samples": len(y),
                    "profile": args.profile,
                    "params": params,
                    "runs": runs,
                }
            )

            def stat(key, runs=runs, digits=3):
                vals = np.array([r[key] for r in runs], dtype=float)
                return f"{vals.mean():.{digits}f}±{vals.std():.{digits}f}"

            rows.append(
                [
                    method,
                    dataset,
                    str(len(y)),
                    stat("accuracy"),
                    stat("nmi"),
                    stat("purity"),
                    stat("ari"),
                    stat("seconds", digits=1),
                    f"{max(r['peak_rss_mb'] for r in runs):.0f}",
                ]
            )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"profile {args.profile}, {args.seeds} seed(s), mean ± std over seeds")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    if args.output is not None:
        args.output.write_text(json.dumps(results, indent=2))
        print(f"results written to {args.output}")
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

    fit = sub.add_parser("fit", help="cluster the views of a .npz or .mat file")
    fit.add_argument("file", type=Path, help=".npz with X0..X{V-1} (and y), or a .mat file")
    fit.add_argument("--method", choices=sorted(METHODS), required=True)
    fit.add_argument("--n-clusters", type=int, required=True)
    fit.add_argument("--epochs", type=int, default=None, help="max_epochs (method default)")
    fit.add_argument(
        "--scale",
        choices=["none", "minmax"],
        default="none",
        help="per-view scaling before fitting (none)",
    )
    fit.add_argument("--device", default="auto")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("-o", "--output", type=Path, help="labels file (.npy, else text)")
    fit.add_argument("-v", "--verbose", action="count", default=0)
    fit.set_defaults(func=_fit)

    bench = sub.add_parser("benchmark", help="metrics, time and memory on benchmark sets")
    bench.add_argument("--methods", nargs="+", choices=sorted(METHODS), required=True)
    bench.add_argument(
        "--datasets",
        nargs="+",
        required=True,
        help="handwritten (bundled), blobs (synthetic), or names in --data-dir",
    )
    bench.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    bench.add_argument("--profile", choices=["quick", "paper"], default="quick")
    bench.add_argument("--seeds", type=int, default=1)
    bench.add_argument("--n-samples", type=int, default=None, help="random subset size")
    bench.add_argument("--max-epochs", type=int, default=None, help="override max_epochs")
    bench.add_argument("--device", default="auto")
    bench.add_argument("-o", "--output", type=Path, help="write all runs as JSON")
    bench.add_argument("-v", "--verbose", action="count", default=0)
    bench.set_defaults(func=_benchmark)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"skmvc: error: {exc}", file=sys.stderr)
        return 2
