"""How much cluster structure survives each layer of an untrained view encoder.

EAMC's premise (paper §3.1 A; ``specs/eamc.md``) is that encoders kept near their random
initialisation preserve the data's metric structure, and CONAN trains its encoders from such
an initialisation with no reconstruction term to hold that structure. This script measures
the premise: it builds a method's network exactly as ``fit`` does (same initialisation
scheme and seed), feeds the scaled views through each view's MLP encoder, and after each
layer clusters the concatenation over views with k-means (10 initialisations); ACC against
the labels (evaluation only). The input row is k-means on the scaled views themselves (the
suite's baseline) and, for reference, on the views with each row L2-normalised.

    python benchmarks/studies/encoder_geometry.py                   # CONAN and EAMC, vector sets
    python benchmarks/studies/encoder_geometry.py --datasets BBCSport --methods eamc
    python benchmarks/studies/encoder_geometry.py --report          # table from the results file

Each (method, set, seed) is appended to ``benchmarks/results_geometry.jsonl`` and skipped on
a rerun. Preprocessing is the suite's (``suite.py``: min-max per view); only sets whose
views the suite gives CONAN and EAMC as vectors are measured (not Edge-MNIST /
Edge-FashionMNIST, whose image views go through a CNN).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize
from torch import nn

from skmvc._benchmark import DATASETS, IMAGE_SETS, METHODS, append_row, prepared_views, read_rows  # noqa: E402
from skmvc.metrics import clustering_accuracy

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results_geometry.jsonl"
SUITE_RESULTS = HERE.parent / "results_suite.jsonl"
VECTOR_SETS = [d for d in DATASETS if d not in IMAGE_SETS]


def kmeans_acc(X, y, k, seed) -> float:
    labels = KMeans(k, n_init=10, random_state=seed).fit_predict(X.astype(np.float64))
    return float(clustering_accuracy(y, labels))


@torch.no_grad()
def layer_outputs(encoder: nn.Sequential, x: torch.Tensor) -> list[np.ndarray]:
    """The output after each ``Linear`` (and the activation that follows it)."""
    outs, h = [], x
    modules = list(encoder)
    for i, layer in enumerate(modules):
        h = layer(h)
        nxt = modules[i + 1] if i + 1 < len(modules) else None
        if isinstance(layer, nn.Linear) and not isinstance(nxt, nn.ReLU):
            outs.append(h.numpy())
        elif isinstance(layer, nn.ReLU):
            outs.append(h.numpy())
    return outs


def measure(method: str, views, y, seed: int) -> dict:
    k = len(np.unique(y))
    est = METHODS[method](n_clusters=k, device="cpu")
    shapes = [v.shape[1:] for v in views]
    module = est._build_module(shapes, torch.Generator().manual_seed(seed)).eval()
    per_view = [
        layer_outputs(enc, torch.as_tensor(v, dtype=torch.float32))
        for enc, v in zip(module.encoders, views)
    ]
    n_layers = len(per_view[0])
    layers = [
        kmeans_acc(np.hstack([outs[i] for outs in per_view]), y, k, seed) for i in range(n_layers)
    ]
    return {
        "input": kmeans_acc(np.hstack(views), y, k, seed),
        "input_l2rows": kmeans_acc(np.hstack([normalize(v) for v in views]), y, k, seed),
        "layers": layers,
        "widths": [int(out.shape[1]) for out in per_view[0]],  # per view
    }


def mean_std(values) -> str:
    v = np.array(values, dtype=float)
    return f"{v.mean():.3f} ± {v.std():.3f}"


def table(title: str, head: list, cells: list, datasets):
    """Print a markdown table's title and header; yield each set's name and rows (of
    ``cells``) in the suite's order, for the caller to print its line."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(head) + " |")
    print("|---" * len(head) + "|")
    for d in [d for d in DATASETS if d in datasets]:
        rs = [r for r in cells if r["dataset"] == d]
        if rs:
            yield d, rs


def by_method(rows, methods):
    """Each method's rows, for the methods that have some."""
    for method in methods:
        cells = [r for r in rows if r["method"] == method]
        if cells:
            yield method, cells


def report(path: Path, datasets, methods) -> int:
    rows = [r for r in read_rows(path) if r["dataset"] in datasets and r["method"] in methods]
    for method, cells in by_method(rows, methods):
        widths = cells[0]["widths"]
        title = f"{method}: k-means ACC through the untrained encoder, mean ± std over seeds"
        head = ["set", "scaled views", "rows L2-normalised"] + [
            f"layer {i + 1} ({w})" for i, w in enumerate(widths)
        ]
        for d, rs in table(title, head, cells, datasets):
            line = [
                f"{d} ({len(rs)})",
                mean_std([r["input"] for r in rs]),
                mean_std([r["input_l2rows"] for r in rs]),
            ]
            line += [mean_std([r["layers"][i] for r in rs]) for i in range(len(widths))]
            print("| " + " | ".join(line) + " |")
    trained_against_untrained(rows, datasets, methods)
    return 0


#: The suite cells the benchmarks page compares with: measured before CONAN's default fusion
#: became the mean and before the early-stopping warm-up (their tags since then).
TRAINED_TAGS = {"conan": "conan-concat", "eamc": "patience-only"}


def trained_against_untrained(rows, datasets, methods) -> None:
    """k-means on the untrained encoder's output beside the trained method's ACC (the
    suite's cells of :data:`TRAINED_TAGS`, ``results_suite.jsonl``)."""
    suite = [
        r for r in read_rows(SUITE_RESULTS) if r["tag"] == TRAINED_TAGS.get(r["method"], "default")
    ]

    def cell(values):
        v = np.array([x for x in values if x is not None], dtype=float)
        return f"{v.mean():.3f} ({len(v)})" if len(v) else ""

    head = ["set", "k-means (views)"]
    for m in methods:
        head += [f"{m} untrained, last layer", f"{m} trained (suite)"]
    print("\n### Untrained encoder against the trained method, ACC mean (seeds)\n")
    print("| " + " | ".join(head) + " |")
    print("|---" * len(head) + "|")
    for d in [d for d in DATASETS if d in datasets]:
        line = [
            d,
            cell(r["input"] for r in rows if r["dataset"] == d and r["method"] == methods[0]),
        ]
        for m in methods:
            line.append(
                cell(r["layers"][-1] for r in rows if r["dataset"] == d and r["method"] == m)
            )
            line.append(
                cell(r["accuracy"] for r in suite if r["dataset"] == d and r["method"] == m)
            )
        print("| " + " | ".join(line) + " |")


def run_command(argv, doc, methods, default_methods, results, report, measure) -> int:
    """The command line shared with ``stage_geometry.py``: measure, or ``--report``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=HERE.parents[2] / "shared" / "datasets")
    parser.add_argument("--datasets", nargs="+", default=VECTOR_SETS)
    parser.add_argument("--methods", nargs="+", default=default_methods, choices=methods)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--results", type=Path, default=results)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if args.report:
        return report(args.results, args.datasets, args.methods)
    return measure_all(args, measure)


def main(argv=None) -> int:
    methods = ["conan", "eamc"]
    return run_command(argv, __doc__, methods, methods, DEFAULT_RESULTS, report, measure)


def measure_all(args, measure) -> int:
    """Run ``measure(method, views, y, seed)`` on every (set, seed, method) of ``args`` not
    yet in ``args.results``, appending each row as it finishes (also used by
    ``stage_geometry.py``)."""
    torch.set_num_threads(args.threads)
    done = {(r["method"], r["dataset"], r["seed"]) for r in read_rows(args.results)}
    for name in args.datasets:
        views, y = prepared_views(name, args.data_dir, images=False)
        for seed in args.seeds:
            for method in args.methods:
                if (method, name, seed) in done:
                    continue
                row = {
                    "method": method,
                    "dataset": name,
                    "seed": seed,
                    **measure(method, views, y, seed),
                    "threads": args.threads,
                }
                append_row(args.results, row)
                print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
