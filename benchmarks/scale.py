"""Scale: seconds per epoch and peak memory at 10 000, 100 000 and 1 000 000 samples, with
the views memory-mapped.

    python benchmarks/scale.py --sizes 10000 100000 --methods conan crrc cmmc rav eamc
    python benchmarks/scale.py --sizes 1000000 --methods conan eamc
    python benchmarks/scale.py --report          # table + docs/scale.png

Synthetic data: 2 views x 100 features, 10 clusters (each view a noisy random linear image
of the cluster's centre), written once as float32 ``.npy`` files in ``--data-dir`` (in
blocks; 0.8 GB at a million samples) and opened with ``np.load(..., mmap_mode="r")``.

Each (method, n) runs in a fresh process, so that its peak resident memory (VmHWM) is its
own: the method with its default networks and batch size, one epoch per stage, early
stopping off; then ``predict`` on all n. Recorded: seconds per epoch of each stage (the
engine's epoch timer), the whole fit, predict, the peak RSS, and the peak RSS minus the size
of the data. Rows are appended to ``results_scale.jsonl`` as they finish (a rerun skips
them).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from skmvc._benchmark import append_row, machine_description, read_rows  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_scale.jsonl"
N_FEATURES, N_CLUSTERS, BLOCK = 100, 10, 50_000
METHODS = ["conan", "crrc", "cmmc", "rav", "eamc"]


def make_views(n: int, data_dir: Path) -> list[Path]:
    """Write the n-sample views (once) and return their paths."""
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = [data_dir / f"scale_{n}_view{v}.npy" for v in range(2)]
    if all(p.exists() for p in paths):
        return paths
    rng = np.random.RandomState(0)
    centres = rng.normal(size=(N_CLUSTERS, 16))
    maps = [rng.normal(size=(16, N_FEATURES)) / 4 for _ in paths]
    out = [np.lib.format.open_memmap(p, "w+", np.float32, (n, N_FEATURES)) for p in paths]
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        labels = rng.randint(N_CLUSTERS, size=m)
        for view, proj in zip(out, maps):
            latent = centres[labels] + rng.normal(scale=0.7, size=(m, 16))
            view[start : start + m] = 1 / (1 + np.exp(-latent @ proj))  # in (0, 1)
    for view in out:
        view.flush()
    del out
    return paths


def worker(method: str, n: int, data_dir: Path, device: str) -> dict:
    """One (method, n) measurement, in this (fresh) process."""
    import torch

    from skmvc._benchmark import METHODS as CLASSES
    from skmvc._benchmark import _peak_rss_mb

    views = [np.load(p, mmap_mode="r") for p in make_views(n, data_dir)]
    cls = CLASSES[method]
    one_epoch = {k: 1 for k in cls().get_params() if k.endswith("epochs")}
    est = cls(N_CLUSTERS, random_state=0, device=device, n_iter_no_change=None, **one_epoch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(views)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        est.predict(views)
        predict = time.perf_counter() - start
    peak = _peak_rss_mb()
    data_mb = sum(v.nbytes for v in views) / 2**20
    return dict(
        method=method,
        n=n,
        device=str(est.device_),
        stages={row["stage"]: row["dur"] for row in est.history_},
        fit_seconds=fit,
        predict_seconds=predict,
        peak_rss_mb=peak,
        data_mb=data_mb,
        peak_above_data_mb=peak - data_mb,
        threads=torch.get_num_threads(),
        machine=machine_description(),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/skmvc-scale"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        row = worker(args.worker[0], int(args.worker[1]), args.data_dir, args.device)
        print(json.dumps(row))
        return 0
    if args.report:
        return report(args.results)
    done = {(r["method"], r["n"], r["device"].split(":")[0]) for r in read_rows(args.results)}
    for n in args.sizes:
        make_views(n, args.data_dir)
        for method in args.methods:
            if (method, n, args.device.split(":")[0]) in done:
                continue
            cmd = [sys.executable, __file__, "--worker", method, str(n)]
            cmd += ["--data-dir", str(args.data_dir), "--device", args.device]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{method} n={n} failed:\n{out.stderr[-2000:]}", flush=True)
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            append_row(args.results, row)
            print(json.dumps(row), flush=True)
    return 0


def report(path: Path) -> int:
    rows = read_rows(path)
    print(
        "| method | device | n | s/epoch per stage | fit (s) | predict (s) | peak RSS (MB) "
        "| peak − data (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (METHODS.index(r["method"]), r["device"], r["n"])):
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        cells = [r["method"], r["device"], f"{r['n']:,}", stages, f"{r['fit_seconds']:.0f}"]
        cells += [f"{r['predict_seconds']:.1f}", f"{r['peak_rss_mb']:.0f}"]
        cells += [f"{r['peak_above_data_mb']:.0f}"]
        print("| " + " | ".join(cells) + " |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method in METHODS:
        mine = sorted(
            (r for r in rows if r["method"] == method and r["device"] == "cpu"),
            key=lambda r: r["n"],
        )
        if not mine:
            continue
        ns = [r["n"] for r in mine]
        axes[0].plot(ns, [sum(r["stages"].values()) for r in mine], "o-", label=method)
        axes[1].plot(ns, [r["peak_rss_mb"] for r in mine], "o-", label=method)
    data = sorted({(r["n"], r["data_mb"]) for r in rows})
    axes[1].plot([d[0] for d in data], [d[1] for d in data], "k--", label="data size")
    labels = [
        ("seconds per epoch (all stages)", "Time per epoch"),
        ("peak RSS (MB)", "Peak resident memory (views memory-mapped)"),
    ]
    for ax, (ylabel, title) in zip(axes, labels):
        ax.set(xscale="log", yscale="log", xlabel="samples", ylabel=ylabel, title=title)
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    out = HERE.parent / "docs" / "scale.png"
    fig.savefig(out, dpi=100)
    print(f"\nfigure written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
