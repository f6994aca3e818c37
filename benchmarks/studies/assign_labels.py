"""Head or k-means: the ACC of each assignment of the same trained network.

For every (method, set, seed) one model is trained with the method's default parameters
(``assign_labels="head"``; training does not depend on the assignment) and scored twice:
the clustering head's labels (the paper), and the labels that ``assign_labels="kmeans"``
gives for the same network — k-means (10 initialisations, the restart's seed) on
``transform(X)``, each sample to its nearest centre. k-means on the concatenated scaled
views is the baseline, as in the development suite. Views are prepared as in
``benchmarks/suite.py``. Resumable: rows are appended to ``results_assign.jsonl`` as they
finish and a rerun skips them.

    python benchmarks/studies/assign_labels.py --methods eamc --datasets MSRC-v1 COIL20-3V
    python benchmarks/studies/assign_labels.py --report
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils import check_random_state

from skmvc._benchmark import (  # noqa: E402  # noqa: E402
    DATASETS,
    IMAGE_METHODS,
    METHODS,
    append_row,
    kmeans_baseline,
    prepared_views,
    read_rows,
)
from skmvc._labels import kmeans_centers  # noqa: E402
from skmvc.metrics import clustering_accuracy  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_assign.jsonl"


def restart_seed(random_state: int) -> int:
    """The seed the estimator gives its (single) restart, as ``fit`` draws it."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max, size=1)[0])


def flat_views(X):
    """Image views (n, C, H, W) as vectors, for the baseline."""
    return [v.reshape(len(v), -1) for v in X]


def kmeans_assignment(model, X, seed: int) -> np.ndarray:
    z = model.transform(X)
    centers = kmeans_centers(z, model.n_clusters, restart_seed(seed))
    return ((z[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=HERE.parents[2] / "shared" / "datasets")
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--methods", nargs="+", default=["eamc", "cmmc", "rav", "conan"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if args.report:
        return report(args.results)
    torch.set_num_threads(args.threads)
    done = {(r["method"], r["dataset"], r["seed"]) for r in read_rows(args.results)}
    for name in args.datasets:
        for seed in args.seeds:
            for method in args.methods:
                if (method, name, seed) in done:
                    continue
                X, y = prepared_views(name, args.data_dir, images=method in IMAGE_METHODS)
                k = len(np.unique(y))
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = METHODS[method](
                        n_clusters=k, assign_labels="head", random_state=seed, device="cpu"
                    ).fit(X)
                row = dict(
                    method=method,
                    dataset=name,
                    seed=seed,
                    head=clustering_accuracy(y, model.labels_),
                    kmeans=clustering_accuracy(y, kmeans_assignment(model, X, seed)),
                    baseline=clustering_accuracy(
                        y, kmeans_baseline(k, seed).fit_predict(flat_views(X))
                    ),
                    seconds=time.perf_counter() - start,
                    threads=args.threads,
                )
                append_row(args.results, row)
                print(json.dumps(row), flush=True)
    return 0


def report(path: Path) -> int:
    rows = read_rows(path)
    print("| method | set | seeds | k-means (views) | head | k-means on the embedding |")
    print("|---|---|---|---|---|---|")
    for method in ["eamc", "cmmc", "rav", "conan"]:
        for name in DATASETS:
            cell = [r for r in rows if r["method"] == method and r["dataset"] == name]
            if not cell:
                continue
            stats = {}
            for key in ("baseline", "head", "kmeans"):
                values = [r[key] for r in cell]
                stats[key] = f"{np.mean(values):.3f} ± {np.std(values):.3f}"
            print(
                f"| {method} | {name} | {len(cell)} | {stats['baseline']} | {stats['head']} | "
                f"{stats['kmeans']} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
