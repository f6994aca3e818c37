"""For comparison only: the figure a run reaches when its epoch is picked by accuracy.

Public codes of this family (SCMVC for CRRC, and the codes RAV builds on) evaluate the
clustering against the labels after every epoch and report the best epoch. skmvc never
does: ``fit`` reads no label, and its labels are those of the last epoch (or of an epoch
picked without labels). This benchmark measures how far the two figures lie apart. It fits
a method as usual, and after every epoch of its training stages a probe labels the
training samples as the fitted model would (the method's own rule) and scores them against
the labels; the probe runs in evaluation mode and leaves training unchanged, so the last
probed epoch scores what the fitted model scores.

    python benchmarks/label_picked.py --methods crrc rav --datasets NGs 3Sources
    python benchmarks/label_picked.py --report

Rows (one per method, set, preparation, profile and seed, with the score of every probed
epoch) go to ``benchmarks/results_label_picked.jsonl``. The figures this writes are marked
"picked with labels" wherever they are shown, and never enter a default.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

from skmvc._benchmark import (
    METHODS,
    append_row,
    code_version,
    load_dataset,
    method_params,
    read_rows,
    scaler_named,
)
from skmvc._restarts import assign_labels
from skmvc.metrics import clustering_report

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_label_picked.jsonl"
#: Stages whose epochs are probed: the clustering stages, not reconstruction pre-training.
SKIPPED_STAGES = ("pretrain",)


class AccuracyProbe(Callback):
    """After every epoch of a clustering stage, label the training samples as the fitted
    model would and score them against ``y`` (benchmarks only: ``y`` never steers the fit)."""

    def __init__(self, estimator, y, seed):
        self.estimator = estimator
        self.y = y
        self.seed = seed
        self.scores = []

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        stage = net.stage_.name
        if stage in SKIPPED_STAGES:
            return
        labels = _labels(self.estimator, net.module_, dataset_train, self.seed)
        report = clustering_report(self.y, labels)
        self.scores.append(
            dict(stage=stage, epoch=net.stage_epoch_, accuracy=report["accuracy"],
                 nmi=report["nmi"])
        )  # fmt: skip


def _labels(estimator, module, data, seed):
    """The labels a fit ending now would give (the method's extras, then its rule of
    assignment), in evaluation mode."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            extras = estimator._fitted_extras(module, data, seed)
            return assign_labels(estimator, module, data, seed, extras)[0]
    finally:
        module.train(was_training)


def _fit_one(method, name, views, y, profile, seed, k):
    """Fit with the probe installed: the fit's scores and the probed epochs' scores."""
    params = {} if profile == "default" else method_params(method, name, profile)
    est = METHODS[method](k, random_state=seed, device="cpu", **params)
    probe = AccuracyProbe(est, y, seed)
    est.set_params(callbacks=[probe])
    start = time.perf_counter()
    est.fit(views)
    seconds = time.perf_counter() - start
    fitted = clustering_report(y, est.labels_)
    best = max(probe.scores, key=lambda s: s["accuracy"])
    return dict(
        seconds=round(seconds, 1), accuracy=fitted["accuracy"], nmi=fitted["nmi"],
        picked_accuracy=best["accuracy"], picked_nmi=best["nmi"],
        picked_epoch=f"{best['stage']} {best['epoch']}", probed_epochs=len(probe.scores),
        last_probe_accuracy=probe.scores[-1]["accuracy"],
        epochs=[round(s["accuracy"], 4) for s in probe.scores],
    )  # fmt: skip


def run(methods, datasets, prepares, profiles, seeds, data_dir):
    key = ("dataset", "method", "prepare", "profile", "seed")
    done = {tuple(r[k] for k in key) for r in read_rows(RESULTS)}
    torch.set_num_threads(1)
    for name in datasets:
        raw, y = load_dataset(name, data_dir)
        k = len(np.unique(y))
        for prepare in prepares:
            views = scaler_named(prepare).fit_transform(raw)
            for method, profile, seed in itertools.product(methods, profiles, seeds):
                if (name, method, prepare, profile, seed) in done:
                    continue
                row = dict(
                    dataset=name, method=method, prepare=prepare, profile=profile, seed=seed,
                    n_samples=len(y), **_fit_one(method, name, views, y, profile, seed, k),
                    commit=code_version(),
                )  # fmt: skip
                append_row(RESULTS, row)
                print(
                    name, method, prepare, profile, seed,
                    f"fit {row['accuracy']:.3f}, picked with labels "
                    f"{row['picked_accuracy']:.3f} ({row['picked_epoch']})",
                    flush=True,
                )  # fmt: skip


def report():
    """ACC / NMI of the fit (no label read) and of the epoch picked with labels."""
    cells = {}
    for r in read_rows(RESULTS):
        key = (r["dataset"], r["method"], r["prepare"], r["profile"])
        cells.setdefault(key, []).append(r)
    print(
        "| set | method | preparation | schedule | fit: ACC / NMI | epoch picked with labels: "
        "ACC / NMI | seeds |"
    )
    print("|---|---|---|---|---|---|---|")
    for (name, method, prepare, profile), rows in sorted(cells.items()):

        def mean(field, rows=rows):
            return np.mean([r[field] for r in rows])

        print(
            f"| {name} | {METHODS[method].__name__.removesuffix('Clustering')} | {prepare} | "
            f"{profile} | {mean('accuracy'):.3f} / {mean('nmi'):.3f} | "
            f"{mean('picked_accuracy'):.3f} / {mean('picked_nmi'):.3f} | {len(rows)} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["crrc", "rav"], choices=sorted(METHODS))
    parser.add_argument("--datasets", nargs="+", default=["NGs", "3Sources"])
    parser.add_argument("--prepare", nargs="+", default=["auto-rms"])
    parser.add_argument("--profiles", nargs="+", default=["paper"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--data-dir", default=str(HERE.parents[1] / "shared" / "datasets"))
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        report()
    else:
        run(args.methods, args.datasets, args.prepare, args.profiles, args.seeds, args.data_dir)


if __name__ == "__main__":
    main()
