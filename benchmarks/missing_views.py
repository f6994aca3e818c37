"""Missing views: every method's ACC and NMI as the fraction of samples missing views grows.

    python benchmarks/missing_views.py --datasets handwritten --methods kmeans eamc conan
    python benchmarks/missing_views.py --datasets MSRC-v1 Scene-15 --methods kmeans crrc
    python benchmarks/missing_views.py --report      # table + docs/missing_views.png

For each set, missing rate r in 0, 0.1, 0.3, 0.5, 0.7 and seed: a fraction r of the
samples each lose between 1 and V − 1 views (:func:`skmvc.datasets.make_missing_views`,
drawn with the seed; every sample keeps one view), the missing rows are NaN, and each
method is fitted with its default parameters on those views. The baseline ``kmeans`` is
k-means (10 initialisations) on the concatenated views with each missing view's columns
mean-imputed (``ViewConcatenator`` + ``SimpleImputer``). Views are preprocessed as in the
development suite (``benchmarks/suite.py``: min-max scaled per view, on the present rows);
sets over 10 000 samples use a seeded 10 000 subset. Rows are appended to
``results_missing.jsonl`` as they finish, with ``--tag`` (default ``default``) and the
commit that produced them, and a rerun skips the rows of its tag that are done.
``--report --tag T`` prints tag T's tables; the figure is drawn for ``default``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.metrics import normalized_mutual_info_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from skmvc._benchmark import (  # noqa: E402
    METHODS,
    append_row,
    code_version,
    load_dataset,
    machine_description,
    read_rows,
)
from skmvc._cli import parse_sets  # noqa: E402
from skmvc.datasets import make_missing_views  # noqa: E402
from skmvc.metrics import clustering_accuracy  # noqa: E402
from skmvc.preprocessing import ViewConcatenator, ViewTransformer  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_missing.jsonl"
SUITE_RESULTS = HERE / "results_suite.jsonl"
RATES = [0.0, 0.1, 0.3, 0.5, 0.7]
MAX_SAMPLES = 10_000


def fit_one(method, views, y, seed, params=None):
    k = len(np.unique(y))
    if method == "kmeans":
        pipe = make_pipeline(
            ViewConcatenator(), SimpleImputer(), KMeans(k, n_init=10, random_state=seed)
        )
        return pipe.fit(views).predict(views)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return METHODS[method](k, random_state=seed, **(params or {})).fit(views).labels_


def run(datasets, methods, rates, seeds, data_dir, results, threads, tag, params=None):
    torch.set_num_threads(threads)
    commit = code_version()
    machine = machine_description()
    params = dict(params or {})
    recorded = sorted([key, repr(value)] for key, value in params.items())
    done = {
        (r["tag"], r["dataset"], r["method"], r["rate"], r["seed"]) for r in read_rows(results)
    }
    for name in datasets:
        views, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES)
        views = [v.toarray() if hasattr(v, "toarray") else np.asarray(v) for v in views]
        views = [v.reshape(len(v), -1) for v in views]
        for rate in rates:
            for seed in seeds:
                missing, _ = make_missing_views(views, rate, random_state=seed)
                scaled = ViewTransformer(MinMaxScaler()).fit_transform(missing)
                for method in methods:
                    if (tag, name, method, rate, seed) in done:
                        continue
                    start = time.perf_counter()
                    labels = fit_one(method, scaled, y, seed, params)
                    row = {
                        "tag": tag,
                        "dataset": name,
                        "method": method,
                        "rate": rate,
                        "seed": seed,
                        "acc": float(clustering_accuracy(y, labels)),
                        "nmi": float(normalized_mutual_info_score(y, labels)),
                        "fit_s": round(time.perf_counter() - start, 1),
                        "commit": commit,
                        "machine": machine,
                        "set": recorded,
                    }
                    append_row(results, row)
                    print(
                        f"{name} r={rate} seed {seed} {method}: ACC {row['acc']:.3f}", flush=True
                    )


def report(results, figure, tag, summary=False):
    """Per-set ACC and NMI tables by missing rate (``summary``: only the table at rate 0.5),
    and the figure for the ``default`` tag."""
    every = read_rows(results)
    rows = [r for r in every if r["tag"] == tag]
    if not any(r["method"] == "kmeans" for r in rows):  # the baseline is the same for any tag
        rows += [r for r in every if r["tag"] == "default" and r["method"] == "kmeans"]
    datasets = sorted({r["dataset"] for r in rows})
    methods = ["kmeans"] + [m for m in METHODS if any(r["method"] == m for r in rows)]
    for metric in () if summary else ("acc", "nmi"):
        values = {}
        for r in rows:
            values.setdefault((r["dataset"], r["method"], r["rate"]), []).append(r[metric])
        for name in datasets:
            print(f"\n#### {name}: {metric.upper()}, mean ± std over seeds (n)\n")
            print("| missing rate | " + " | ".join(methods) + " |")
            print("|---" * (len(methods) + 1) + "|")
            for rate in RATES:
                out = []
                for m in methods:
                    v = values.get((name, m, rate))
                    out.append(f"{np.mean(v):.3f} ± {np.std(v):.3f} ({len(v)})" if v else "")
                print(f"| {rate} | " + " | ".join(out) + " |")
    cells = {}
    for r in rows:
        cells.setdefault((r["dataset"], r["method"], r["rate"]), []).append(r["acc"])
    complete = {}
    for r in every:
        if r["tag"] == "default" and r["rate"] == 0.0:
            complete.setdefault((r["dataset"], r["method"], 0.0), []).append(r["acc"])
    suite = suite_cells(read_rows(SUITE_RESULTS))
    targets(cells, complete, datasets, methods[1:], suite, best_lines=not summary)
    if figure is None or tag != "default":  # the benchmarks page shows the defaults
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = min(4, len(datasets))
    nrows = -(-len(datasets) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3.2 * nrows), squeeze=False)
    for ax in axes.flat[len(datasets) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, datasets):
        for i, m in enumerate(methods):  # one colour per method on every panel
            xs = [r for r in RATES if (name, m, r) in cells]
            if not xs:
                continue
            ys = [np.mean(cells[(name, m, r)]) for r in xs]
            style = dict(color=f"C{i}", linestyle="--" if m == "kmeans" else "-")
            ax.plot(xs, ys, marker="o", label=m, **style)
            if xs[0] > 0.0:  # no rate-0 cell: the complete-data ACC it is compared with
                full, _ = complete_data(cells, complete, suite, name, m)
                if full is not None:
                    ax.plot([0.0, xs[0]], [np.mean(full), ys[0]], **dict(style, linestyle=":"))
                    ax.plot(0.0, np.mean(full), marker="o", mfc="white", **style)
        ax.set_title(name)
        ax.set_xlabel("missing rate")
        ax.set_ylabel("ACC")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(figure, dpi=120)


def suite_cells(suite_rows):
    """The ``default`` ACCs of the development suite, by (lower-case set name, method)."""
    suite = {}
    for r in suite_rows:
        if r.get("tag") == "default" and r.get("accuracy") is not None:
            suite.setdefault((r["dataset"].lower(), r["method"]), []).append(r["accuracy"])
    return suite


def complete_data(cells, default_cells, suite, name, method):
    """A method's complete-data ACCs on a set and where they come from.

    Its rate-0 cell in ``cells``, else its rate-0 cell of the ``default`` tag
    (``default_cells``, mark ``" d"``), else its ``default`` cell of the development suite
    (``suite``: the same views, scaling and seeds, every view present; mark ``" s"``);
    ``(None, "")`` if none.
    """
    if (name, method, 0.0) in cells:
        return cells[(name, method, 0.0)], ""
    if (name, method, 0.0) in default_cells:
        return default_cells[(name, method, 0.0)], " d"
    if (name.lower(), method) in suite:
        return suite[(name.lower(), method)], " s"
    return None, ""


def targets(cells, default_cells, datasets, methods, suite, rate=0.5, best_lines=True):
    """Each method at missing rate ``rate`` against its complete data
    (:func:`complete_data`) and k-means."""
    print(f"\n**At missing rate {rate}: ACC (its change from complete data)**\n")
    print("| set | k-means (imputed) | " + " | ".join(methods) + " |")
    print("|---" * (len(methods) + 2) + "|")
    within = dict.fromkeys(methods, 0)
    above = dict.fromkeys(methods, 0)
    counted = dict.fromkeys(methods, 0)
    for name in datasets:
        base = cells.get((name, "kmeans", rate))
        if base is None:
            continue
        out = []
        for m in methods:
            at = cells.get((name, m, rate))
            complete, mark = complete_data(cells, default_cells, suite, name, m)
            if at is None or complete is None:
                out.append("")
                continue
            delta = np.mean(at) - np.mean(complete)
            counted[m] += 1
            within[m] += delta >= -0.10
            above[m] += np.mean(at) > np.mean(base)
            value = f"{np.mean(at):.3f}"
            out.append(
                f"{'**' + value + '**' if np.mean(at) > np.mean(base) else value}"
                f" ({delta:+.3f}{mark})"
            )
        print(f"| {name} | {np.mean(base):.3f} | " + " | ".join(out) + " |")
    print(
        "\nWithin 0.10 of complete data / above the imputed k-means (bold), of the sets "
        "measured: "
        + "; ".join(f"{m} {within[m]}/{counted[m]}, {above[m]}/{counted[m]}" for m in methods)
    )
    for name in datasets if best_lines else ():
        measured = [
            (np.mean(cells[(name, m, rate)]), m) for m in methods if (name, m, rate) in cells
        ]
        if measured:
            best, m = max(measured)
            print(f"Best at rate {rate} on {name}: {m} {best:.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["handwritten"])
    parser.add_argument("--methods", nargs="+", default=["kmeans", *METHODS])
    parser.add_argument("--rates", nargs="+", type=float, default=RATES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--tag", default="default", help="names this configuration's rows (default: default)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter for every method but k-means (e.g. assign_labels=auto); use with --tag",
    )
    parser.add_argument("--report", action="store_true")
    parser.add_argument(
        "--summary", action="store_true", help="with --report: only the table at rate 0.5"
    )
    parser.add_argument("--figure", type=Path, default=HERE.parent / "docs" / "missing_views.png")
    args = parser.parse_args(argv)
    if args.report:
        report(args.results, args.figure, args.tag, args.summary)
        return
    run(
        args.datasets,
        args.methods,
        args.rates,
        args.seeds,
        args.data_dir,
        args.results,
        args.threads,
        args.tag,
        parse_sets(args.set),
    )


if __name__ == "__main__":
    main()
