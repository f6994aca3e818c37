"""Where the autoencoder methods lose the clusters: k-means on the latents after each stage.

CMMC and RAV pre-train per-view autoencoders on reconstruction and then train them on
their own objective (CMMC: contrast, then fine-tuning on pseudo-labels; RAV: relation
alignment and label contrast). On the sets where they score below k-means on the scaled
views (issue 13: "CMMC and RAV are weak on small, low-dimensional feature views") this
script measures which stage loses the structure. It fits the method with its default
parameters and, at the start of every stage after pre-training and after the fit, clusters
the concatenation over views of the L2-normalised latents z^v with k-means (10
initialisations): ACC against the labels, which only score. Beside them: k-means on the
scaled views (the suite's baseline) and the fit's own labels.

    python benchmarks/stage_geometry.py --methods cmmc --datasets MSRC-v1 Scene-15
    python benchmarks/stage_geometry.py --report

The readings run in eval mode without gradients, draw no random numbers of training's and
restore the network's mode, so the fit is the one the suite measures with the same seed.
Each (method, set, seed) is appended to ``benchmarks/results_stages.jsonl`` and skipped on
a rerun. Views are prepared as in ``benchmarks/suite.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize

from skmvc._benchmark import IMAGE_SETS, METHODS, append_row, read_rows
from skmvc.metrics import clustering_accuracy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import DATASETS, prepared_views  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results_stages.jsonl"
AUTOENCODER_METHODS = ["cmmc", "rav", "crrc"]


def kmeans_acc(X, y, k, seed) -> float:
    labels = KMeans(k, n_init=10, random_state=seed).fit_predict(X.astype(np.float64))
    return float(clustering_accuracy(y, labels))


@torch.no_grad()
def latents(module, views) -> np.ndarray:
    """The concatenated L2-normalised latents z^v of every sample, in eval mode."""
    training = module.training
    module.eval()
    try:
        zs = [
            ae.encode(torch.as_tensor(v, dtype=torch.float32)).numpy()
            for ae, v in zip(module.autoencoders, views)
        ]
    finally:
        module.train(training)
    return np.hstack([normalize(z.astype(np.float64)) for z in zs])


def measure(method: str, views, y, seed: int) -> dict:
    k = len(np.unique(y))
    est = METHODS[method](n_clusters=k, random_state=seed, device="cpu")
    readings = {}  # stage name -> ACC of k-means on z when the stage begins
    build = est._stages

    def stages(module, data, stage_seed):
        out = []
        for stage in build(module, data, stage_seed):
            if stage.name == "pretrain":
                out.append(stage)
                continue

            def on_begin(stage=stage, module=module):
                readings[stage.name] = kmeans_acc(latents(module, views), y, k, seed)
                if stage.on_begin is not None:
                    stage.on_begin()

            out.append(dataclasses.replace(stage, on_begin=on_begin))
        return out

    est._stages = stages
    start = time.perf_counter()
    est.fit(views)
    return {
        "views": kmeans_acc(np.hstack([v.reshape(len(v), -1) for v in views]), y, k, seed),
        "stages": readings,
        "fitted": kmeans_acc(latents(est.module_, views), y, k, seed),
        "labels": float(clustering_accuracy(y, est.labels_)),
        "seconds": time.perf_counter() - start,
    }


def report(path: Path, datasets, methods) -> int:
    rows = [r for r in read_rows(path) if r["dataset"] in datasets and r["method"] in methods]

    def fmt(values):
        v = np.array(values, dtype=float)
        return f"{v.mean():.3f} ± {v.std():.3f}"

    for method in methods:
        cells = [r for r in rows if r["method"] == method]
        if not cells:
            continue
        names = list(cells[0]["stages"])
        print(f"\n### {method}: k-means ACC on the latents z, mean ± std over seeds\n")
        head = ["set (seeds)", "k-means (views)"]
        head += [f"z before {n}" for n in names] + ["z after the fit", "the fit's labels"]
        print("| " + " | ".join(head) + " |")
        print("|---" * len(head) + "|")
        for d in [d for d in DATASETS if d in datasets]:
            rs = [r for r in cells if r["dataset"] == d]
            if not rs:
                continue
            line = [f"{d} ({len(rs)})", fmt([r["views"] for r in rs])]
            line += [fmt([r["stages"][n] for r in rs]) for n in names]
            line += [fmt([r["fitted"] for r in rs]), fmt([r["labels"] for r in rs])]
            print("| " + " | ".join(line) + " |")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=HERE.parent.parent / "shared" / "datasets"
    )
    vector_sets = [d for d in DATASETS if d not in IMAGE_SETS]
    parser.add_argument("--datasets", nargs="+", default=vector_sets)
    parser.add_argument(
        "--methods", nargs="+", default=["cmmc", "rav"], choices=AUTOENCODER_METHODS
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if args.report:
        return report(args.results, args.datasets, args.methods)
    torch.set_num_threads(args.threads)
    done = {(r["method"], r["dataset"], r["seed"]) for r in read_rows(args.results)}
    for name in args.datasets:
        views, y = prepared_views(name, args.data_dir, images=False)
        for seed in args.seeds:
            for method in args.methods:
                if (method, name, seed) in done:
                    continue
                row = {"method": method, "dataset": name, "seed": seed}
                row.update(measure(method, views, y, seed))
                row["threads"] = args.threads
                append_row(args.results, row)
                print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
