"""CRRC, CMMC or RAV with a convolutional autoencoder on image views, against the MLP
autoencoder on the same views flattened:

    python benchmarks/studies/image_autoencoders.py --dataset Edge-MNIST --seeds 0  # ~45 min

Each fit is the method's default on the suite's data (the same seeded 10 000-sample subset,
min-max scaled per view, as ``benchmarks/suite.py`` prepares it), except that each view is
given to the network as a 1×28×28 image with ``image_autoencoder="conv"``: its autoencoder
is a ``skmvc.nn.ConvAutoencoder``, CONAN's small CNN encoder followed by a linear map to
the latent, with the default MLP decoder (2 000 → 500 → 500 → 784) mirrored from
``encoder_layers`` (CRRC's default). ``--encoder mlp`` fits the default on the
flattened views instead. One row per fit is appended to
``benchmarks/results_image_autoencoders.jsonl`` (a rerun skips the done ones); the labels
only score. The oldest rows (see their ``commit``) built the same network through
``autoencoder_factory``, its weights drawn from ``torch.manual_seed(seed)``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import normalized_mutual_info_score

from skmvc._benchmark import (  # noqa: E402
    METHODS,
    append_row,
    code_version,
    machine_description,
    prepared_views,  # noqa: E402
    read_rows,
)
from skmvc.metrics import clustering_accuracy  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_image_autoencoders.jsonl"


def fit(method, dataset, encoder, seed, data_dir):
    images = encoder == "cnn"
    views, y = prepared_views(dataset, data_dir, images=images)
    cls = METHODS[method]
    params = {"n_clusters": len(np.unique(y)), "random_state": seed}
    if images:
        params["image_autoencoder"] = "conv"
    start = time.perf_counter()
    labels = cls(**params).fit_predict(views)
    return {
        "accuracy": clustering_accuracy(y, labels),
        "nmi": normalized_mutual_info_score(y, labels),
        "seconds": time.perf_counter() - start,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="crrc", choices=["crrc", "cmmc", "rav"])
    parser.add_argument("--dataset", default="Edge-MNIST")
    parser.add_argument("--encoder", default="cnn", choices=["cnn", "mlp"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=HERE.parents[2] / "shared" / "datasets")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    key = (args.method, args.dataset, args.encoder)
    done = {(r["method"], r["dataset"], r["encoder"], r["seed"]) for r in read_rows(args.results)}
    for seed in args.seeds:
        if (*key, seed) in done:
            continue
        row = {"method": args.method, "dataset": args.dataset, "encoder": args.encoder}
        row.update(seed=seed, **fit(args.method, args.dataset, args.encoder, seed, args.data_dir))
        row.update(commit=code_version(), machine=machine_description(), threads=args.threads)
        append_row(args.results, row)
        print(
            f"{args.method} {args.encoder} {args.dataset} seed {seed}: "
            f"ACC {row['accuracy']:.3f} ({row['seconds']:.0f} s)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
