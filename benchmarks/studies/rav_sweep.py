"""Sweep RAV's loss weights λ1 (label_weight) and λ2 (relation_weight) on the development
sets, with a short schedule, and print the whole table.

    python benchmarks/studies/rav_sweep.py                       # BDGP, MNIST-USPS: 1000 samples
    python benchmarks/studies/rav_sweep.py --n-samples 2000 --epochs 20 20

The paper gives ranges (λ1 in [1e-5, 1e3], λ2 in [1e-5, 1]) but no defaults. Nothing here
selects inside fit: the table reports accuracy (for the reader) next to the final training
loss, and the defaults are chosen by reading the whole table (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from skmvc import RAVClustering
from skmvc._benchmark import load_dataset
from skmvc.metrics import clustering_accuracy


def datasets(names, data_dir: Path, n_samples: int):
    for name in names:
        yield (name, *load_dataset(name, data_dir, n_samples=n_samples))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["BDGP", "MNIST-USPS"],
        help="names as in `skmvc benchmark` (handwritten is slow: 6 views)",
    )
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument(
        "--epochs", type=int, nargs=2, default=(10, 10), metavar=("PRETRAIN", "TRAIN")
    )
    parser.add_argument("--label-weights", type=float, nargs="+", default=[0.1, 1.0, 10.0])
    parser.add_argument("--relation-weights", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    print(f"{'data':12s} {'λ1':>6s} {'λ2':>6s} {'ACC':>6s} {'loss':>8s} {'s':>5s}")
    for name, views, y in datasets(args.datasets, args.data_dir, args.n_samples):
        k = len(np.unique(y))
        for l1, l2 in itertools.product(args.label_weights, args.relation_weights):
            est = RAVClustering(
                k,
                pretrain_epochs=args.epochs[0],
                max_epochs=args.epochs[1],
                batch_size=128,
                label_weight=l1,
                relation_weight=l2,
                random_state=0,
                device=args.device,
            )
            start = time.perf_counter()
            est.fit(views)
            acc = clustering_accuracy(y, est.labels_)
            print(
                f"{name:12s} {l1:6g} {l2:6g} {acc:6.3f} {est.loss_:8.3f} "
                f"{time.perf_counter() - start:5.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
