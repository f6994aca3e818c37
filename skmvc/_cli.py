"""The ``skmvc`` command line.

- ``skmvc demo``: cluster the bundled Handwritten data set with a deep method on a short
  schedule and with k-means on two preparations of the views, and print a table of ACC /
  NMI / purity / ARI and fit times;
- ``skmvc fit FILE --method NAME --n-clusters K -o labels``: cluster your own ``.npz`` or
  ``.mat`` file;
- ``skmvc benchmark --methods ... --datasets ...``: the metrics, fit time and peak memory of
  methods on benchmark sets, mean ± std over seeds.

``fit`` and ``benchmark`` take ``--set NAME=VALUE`` for any estimator parameter and
``--epochs N``, a cap on every training stage. Progress bars (one per stage, with the loss
and an ETA) go to stderr unless ``--quiet``. A user error (missing file, bad format, unknown
method, parameter or data set) prints one line and exits with 2, never a traceback.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline

from . import __version__
from ._benchmark import (
    BASELINE,
    IMAGE_METHODS,
    IMAGE_SETS,
    METHODS,
    load_dataset,
    method_params,
    run_one,
)
from .datasets import load_handwritten, load_mat, load_npz
from .ensemble import _kmeans
from .metrics import clustering_report
from .preprocessing import ViewScaler

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


#: The demo's deep method and its schedule.
DEMO_METHOD = "eamc"
DEMO_SCHEDULE = {"pretrain_epochs": 10, "max_epochs": 10}


def _scaler(method: str, scale=None, row_norm="rms"):
    """The preparation of ``fit`` (None: the views as they are); by default the method's
    own (its class's ``_preparation``)."""
    if scale is None:
        return ViewScaler(**METHODS[method]._preparation)
    return None if scale == "none" else ViewScaler(scale, row_norm=row_norm)


def _stage_epochs(est) -> str:
    values = est.get_params()
    return " + ".join(str(values[k]) for k in _EPOCH_PARAMS if k in values) + " epochs"


def _demo(args) -> int:
    data = load_handwritten()
    views, y = data.views, data.target
    print(
        f"UCI Handwritten: {len(y)} samples, {len(views)} views "
        f"({', '.join(str(v.shape[1]) for v in views)} features), 10 classes. Labels are "
        "used only to score the clusterings.",
        flush=True,
    )
    schedule = DEMO_SCHEDULE if args.method == DEMO_METHOD else {}
    scaler = _scaler(args.method)
    deep = make_estimator(
        args.method,
        dict(
            n_clusters=10,
            device=args.device,
            random_state=args.seed,
            verbose=args.verbose,
            **schedule,
        ),
        len(y),
        epochs=args.epochs,
    )
    models = [
        ("k-means, views min-max scaled", _kmeans("minmax", 10, args.seed)),
        ("k-means, views by kind", _kmeans("auto", 10, args.seed)),
        (
            f"{type(deep).__name__} ({_stage_epochs(deep)}), "
            + ("views min-max scaled" if scaler.kind == "minmax" else "views by kind, rms rows"),
            make_pipeline(scaler, deep),
        ),
    ]
    rows = []
    for name, model in models:
        start = time.perf_counter()
        labels = model.fit_predict(views)
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
    scaler = _scaler(args.method, args.scale, args.row_norm)
    if scaler is not None:
        views = scaler.fit_transform(views)
    est = make_estimator(
        args.method,
        dict(
            n_clusters=args.n_clusters,
            device=args.device,
            random_state=args.seed,
            verbose=args.verbose,
        ),
        views[0].shape[0],
        args.set,
        args.epochs,
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
    sets = parse_sets(args.set)
    reserved = sorted(set(sets) & {"n_clusters", "random_state", "device", "verbose"})
    if reserved:
        raise ValueError(
            f"--set {reserved[0]}: the benchmark sets it itself (the number of classes, "
            "--seeds, --device, --quiet / --verbose)."
        )
    results = []
    header = ["method", "data", "n", "ACC", "NMI", "purity", "ARI", "fit (s)", "peak MB"]
    rows = []
    for dataset in args.datasets:
        for method in args.methods:
            images = dataset in IMAGE_SETS and method in IMAGE_METHODS
            views, y = load_dataset(
                dataset, args.data_dir, images=images, n_samples=args.n_samples
            )
            if method == BASELINE:
                params = {}
            else:
                profile = method_params(method, dataset, args.profile)
                # The whole configuration is validated before any fit.
                checked = make_estimator(
                    method,
                    {**profile, "n_clusters": len(np.unique(y))},
                    len(y),
                    args.set,
                    args.epochs,
                )
                params = {**profile, **sets, **_capped(checked, args.epochs, len(y))}
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


def parse_sets(items) -> dict:
    """``["lr=0.01", "encoder_layers=(64, 32)", "device=cpu"]`` -> a dict of parameters;
    values are Python literals where they parse as one, else strings."""
    params = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set {item!r}: expected NAME=VALUE, e.g. --set lr=0.01.")
        try:
            params[name.strip()] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name.strip()] = value
    return params


_EPOCH_PARAMS = ("pretrain_epochs", "max_epochs", "finetune_epochs")


def _capped(est, epochs, n_samples: int) -> dict:
    """The estimator's stage-epoch parameters on ``n_samples`` samples (``"auto"``
    resolved) capped at ``epochs`` (``{}`` for no cap)."""
    if epochs is None:
        return {}
    values = est.get_params()
    return {k: min(est._stage_epochs(k, n_samples), epochs) for k in _EPOCH_PARAMS if k in values}


def make_estimator(method: str, params: dict, n_samples: int, sets=None, epochs=None):
    """The estimator of ``method`` with ``params``, the ``--set`` items and every stage's
    epochs capped at ``epochs`` (``"auto"`` epochs resolved on ``n_samples`` samples),
    validated by the estimator's own constraints."""
    cls = METHODS[method]
    extra = parse_sets(sets)
    valid = cls().get_params()
    unknown = sorted(set(extra) - set(valid))
    if unknown:
        raise ValueError(
            f"--set {unknown[0]}: {cls.__name__} has no parameter {unknown[0]!r}. Its "
            f"parameters: {', '.join(sorted(valid))}."
        )
    if epochs is not None and epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {epochs}.")
    est = cls(**{**params, **extra})
    est.set_params(**_capped(est, epochs, n_samples))
    est._validate_params()  # sklearn's InvalidParameterError is a ValueError
    return est


def _add_common(parser, *, sets: bool = True) -> None:
    """Options shared by the subcommands."""
    if sets:
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="any estimator parameter, e.g. --set lr=0.01 --set encoder_layers=(64,32)",
        )
    parser.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda[:i]")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        const=2,
        default=1,
        help="also a line per epoch (progress bars are on by default, on stderr)",
    )
    parser.add_argument(
        "-q", "--quiet", dest="verbose", action="store_const", const=0, help="no progress bars"
    )


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit code 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skmvc`` command."""
    parser = _Parser(
        prog="skmvc", description="Deep multi-view clustering estimators for scikit-learn."
    )
    parser.add_argument("--version", action="version", version=f"skmvc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="cluster the bundled Handwritten data set and print a metrics table"
    )
    demo.add_argument(
        "--method",
        choices=sorted(METHODS),
        default=DEMO_METHOD,
        help=f"the deep method compared with k-means ({DEMO_METHOD})",
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"cap on every training stage's epochs (default: {DEMO_SCHEDULE})",
    )
    demo.add_argument("--seed", type=int, default=0, help="random_state (0)")
    _add_common(demo, sets=False)
    demo.set_defaults(func=_demo)

    fit = sub.add_parser("fit", help="cluster the views of a .npz or .mat file")
    fit.add_argument("file", type=Path, help=".npz with X0..X{V-1} (and y), or a .mat file")
    fit.add_argument("--method", choices=sorted(METHODS), required=True)
    fit.add_argument("--n-clusters", type=int, required=True)
    fit.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="cap on every training stage's epochs (default: the method's schedule)",
    )
    fit.add_argument(
        "--scale",
        choices=["none", "minmax", "auto"],
        default=None,
        help="per-view preparation before fitting: auto (ViewScaler's rule by each view's "
        "kind), minmax (the preparation of the papers) or none; by default auto with rms "
        "rows, and minmax for conan",
    )
    fit.add_argument(
        "--row-norm",
        choices=["l2", "rms"],
        default="rms",
        help="with --scale auto: rows of unit root mean square (rms, the default: values of "
        "order one, which the networks take better than unit-length rows of thousands of "
        "features) or of unit length (l2)",
    )
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("-o", "--output", type=Path, help="labels file (.npy, else text)")
    _add_common(fit)
    fit.set_defaults(func=_fit)

    bench = sub.add_parser("benchmark", help="metrics, time and memory on benchmark sets")
    bench.add_argument(
        "--methods",
        nargs="+",
        choices=[*sorted(METHODS), BASELINE],
        required=True,
        help=f"methods to run; {BASELINE} is k-means on the concatenated views",
    )
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
    bench.add_argument(
        "--epochs", type=int, default=None, help="cap on every training stage's epochs"
    )
    bench.add_argument("-o", "--output", type=Path, help="write all runs as JSON")
    _add_common(bench)
    bench.set_defaults(func=_benchmark)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings (a collapsed fit, a dropped restart) as one line on stderr."""
    print(f"skmvc: warning: {category.__name__}: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args)
    except (ValueError, TypeError, OSError) as exc:  # FileNotFoundError is an OSError
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"skmvc: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skmvc: interrupted", file=sys.stderr)
        return 130
