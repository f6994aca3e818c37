"""Training speed and memory of a method as the number of samples grows.

    python benchmarks/studies/speed.py --method conan --sizes 2000 8000 32000 70000
    python benchmarks/studies/speed.py --method cmmc --dataset MNIST-USPS --sizes 5000

Each run fits on the first N samples of the data set (default Edge-MNIST, views as 784-d
vectors scaled to [0, 1]) with one epoch per stage, the method's default networks and batch
size, and reports per stage the seconds per epoch (the engine's own epoch timer) and samples
per second, then the whole fit time (with set-up and the final pass) and the process's peak
resident memory. Time should grow linearly with N; memory by the data held plus a term
bounded by the batch.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from skmvc._benchmark import METHODS, load_dataset, peak_memory
from skmvc._data import resolve_device


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=sorted(METHODS), required=True)
    parser.add_argument("--dataset", default="Edge-MNIST")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000, 32000])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    views, y = load_dataset(args.dataset, args.data_dir)
    device = resolve_device(args.device)
    cls = METHODS[args.method]
    one_epoch = {k: 1 for k in cls().get_params() if k.endswith("epochs")}
    print(
        f"{args.method} on {args.dataset}, one epoch per stage, device {device}, torch "
        f"{torch.__version__} ({torch.get_num_threads()} threads), {platform.machine()}"
    )
    print(
        f"{'n':>7s}  {'stage':12s} {'s/epoch':>8s} {'samples/s':>10s}   "
        f"{'fit s':>7s} {'peak MB':>8s}"
    )
    for n in args.sizes:
        sub = [v[:n] for v in views]
        k = len(np.unique(y[:n]))
        est = cls(k, random_state=0, device=str(device), **one_epoch)
        with peak_memory(device) as mem:
            start = time.perf_counter()
            est.fit(sub)
            seconds = time.perf_counter() - start
        peak = mem.result.get("peak_cuda_mb", mem.result["peak_rss_mb"])
        for i, row in enumerate(est.history_):
            tail = f"   {seconds:7.1f} {peak:8.0f}" if i == len(est.history_) - 1 else ""
            print(
                f"{n:7d}  {row['stage']:12s} {row['dur']:8.2f} {n / row['dur']:10.0f}{tail}",
                flush=True,
            )


if __name__ == "__main__":
    main()
