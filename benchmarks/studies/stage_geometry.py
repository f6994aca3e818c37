"""Where the autoencoder methods lose the clusters: k-means on the latents after each stage.

CMMC and RAV pre-train per-view autoencoders on reconstruction and then train them on
their own objective (CMMC: contrast, then fine-tuning on pseudo-labels; RAV: relation
alignment and label contrast). On the sets where they score below k-means on the scaled
views (small, low-dimensional feature views) this
script measures which stage loses the structure. It fits the method with its default
parameters and, at the start of every stage after pre-training and after the fit, clusters
the concatenation over views of the L2-normalised latents z^v with k-means (10
initialisations): ACC against the labels, which only score. Beside them: k-means on the
scaled views (the suite's baseline) and the fit's own labels.

    python benchmarks/studies/stage_geometry.py --methods cmmc --datasets MSRC-v1 Scene-15
    python benchmarks/studies/stage_geometry.py --report

The readings run in eval mode without gradients, draw no random numbers of training's and
restore the network's mode, so the fit is the one the suite measures with the same seed.
Each (method, set, seed) is appended to ``benchmarks/results_stages.jsonl`` and skipped on
a rerun. Views are prepared as in ``benchmarks/suite.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from encoder_geometry import by_method, kmeans_acc, mean_std, run_command, table  # noqa: E402
from sklearn.preprocessing import normalize
from skorch.callbacks import Callback

from skmvc._benchmark import METHODS, read_rows
from skmvc.metrics import clustering_accuracy

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results_stages.jsonl"
AUTOENCODER_METHODS = ["cmmc", "rav", "crrc"]


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

    class Readings(Callback):
        def on_train_begin(self, net, **kwargs):
            if net.stage_.name != "pretrain":
                readings[net.stage_.name] = kmeans_acc(latents(net.module_, views), y, k, seed)

    est.set_params(callbacks=[Readings()])
    start = time.perf_counter()
    est.fit(views)
    seconds = time.perf_counter() - start  # the fit with its readings
    return {
        "views": kmeans_acc(np.hstack([v.reshape(len(v), -1) for v in views]), y, k, seed),
        "stages": readings,
        "fitted": kmeans_acc(latents(est.module_, views), y, k, seed),
        "labels": float(clustering_accuracy(y, est.labels_)),
        "seconds": seconds,
    }


def report(path: Path, datasets, methods) -> int:
    rows = [r for r in read_rows(path) if r["dataset"] in datasets and r["method"] in methods]
    for method, cells in by_method(rows, methods):
        names = list(cells[0]["stages"])
        title = f"{method}: k-means ACC on the latents z, mean ± std over seeds"
        head = ["set (seeds)", "k-means (views)"]
        head += [f"z before {n}" for n in names] + ["z after the fit", "the fit's labels"]
        for d, rs in table(title, head, cells, datasets):
            line = [f"{d} ({len(rs)})", mean_std([r["views"] for r in rs])]
            line += [mean_std([r["stages"][n] for r in rs]) for n in names]
            line += [mean_std([r["fitted"] for r in rs]), mean_std([r["labels"] for r in rs])]
            print("| " + " | ".join(line) + " |")
    return 0


def main(argv=None) -> int:
    return run_command(
        argv, __doc__, AUTOENCODER_METHODS, ["cmmc", "rav"], DEFAULT_RESULTS, report, measure
    )


if __name__ == "__main__":
    raise SystemExit(main())
