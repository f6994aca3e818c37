"""Where the time of a training epoch goes, and how fast skmvc could be at best against the
reference codes.

    python benchmarks/studies/profile_epoch.py              # CMMC, CRRC and CONAN, 1 torch thread
    python benchmarks/studies/profile_epoch.py --pairs cmmc --epochs 3

Each estimator is fitted exactly as ``benchmarks/reference_speed.py`` fits it (MNIST-USPS,
5 000 samples, the same schedule of a few epochs per stage, early stopping off) under
``torch.profiler``. Each training step is marked (a callback), and the self time of the
matrix-multiply kernels (``aten::mm``, ``addmm``, ``bmm``, ...) that run inside it is summed
per stage and divided by the stage's epoch wall time (``history_[i]["dur"]``): the **matmul
share** of an epoch. The reference codes train the same networks with the same kernels, so
that time is common to both sides; whatever else skmvc removes, its epoch cannot take less.
Hence the best speed-up over a reference is at most (its measured speed-up) / (matmul
share), with the measured speed-ups read from ``benchmarks/results_reference_speed.jsonl``
(``reference_speed.py``, the same machine and threads). The profiler's own overhead lengthens
the epoch, which lowers the share and so raises this bound: the bound is generous.

Rows are appended to ``benchmarks/results_profile.jsonl``; ``--report`` prints the table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile, record_function

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lasting speed tool
from reference_speed import ours_cmmc, ours_conan, ours_crrc  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from skmvc._benchmark import (  # noqa: E402
    append_row,
    load_dataset,
    machine_description,
    read_rows,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_profile.jsonl"
SPEED_RESULTS = HERE.parent / "results_reference_speed.jsonl"
FITS = {"cmmc": ours_cmmc, "crrc": ours_crrc, "conan": ours_conan}
#: Dense linear-algebra kernels: the time both sides spend alike.
MATMUL = {
    "aten::mm",
    "aten::addmm",
    "aten::bmm",
    "aten::baddbmm",
    "aten::addmv",
    "aten::mv",
    "aten::dot",
    "aten::mkldnn_convolution",
    "aten::convolution_backward",
}
#: The reference scripts' stage names, as skmvc names them.
STAGES = {"crrc": {"contrastive": "train"}}


class MarkedSteps(Callback):
    """Marks each training step (a batch's steps) as a profiler range named by its stage."""

    def on_batch_begin(self, net, **kwargs):
        self.range_ = record_function(f"skmvc.train_step.{net.stage_.name}")
        self.range_.__enter__()

    def on_batch_end(self, net, **kwargs):
        self.range_.__exit__(None, None, None)


def profile_pair(pair: str, views, y, epochs: int, seed: int) -> dict:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        est = FITS[pair](views, y, epochs, seed, callbacks=[MarkedSteps()])
    events = prof.events()
    steps = [e for e in events if e.name.startswith("skmvc.train_step.")]
    ranges = sorted(
        (e.time_range.start, e.time_range.end, e.name.rsplit(".", 1)[1]) for e in steps
    )
    starts = np.array([r[0] for r in ranges])
    matmul_us: dict = {}
    ops_us: dict = {}
    for e in events:
        if e.name.startswith("skmvc."):
            continue
        i = int(np.searchsorted(starts, e.time_range.start, side="right")) - 1
        if i < 0 or e.time_range.start > ranges[i][1]:
            continue  # outside training steps (evaluation, k-means inputs, ...)
        stage = ranges[i][2]
        ops_us.setdefault(stage, {}).setdefault(e.name, 0.0)
        ops_us[stage][e.name] += e.self_cpu_time_total
        if e.name in MATMUL:
            matmul_us[stage] = matmul_us.get(stage, 0.0) + e.self_cpu_time_total
    epoch_s: dict = {}
    for row in est.history_:
        epoch_s.setdefault(row["stage"], []).append(row["dur"])
    stages = {}
    for stage, durs in epoch_s.items():
        total = float(np.sum(durs))
        top = sorted(ops_us.get(stage, {}).items(), key=lambda kv: -kv[1])[:6]
        stages[stage] = {
            "epochs": len(durs),
            "epoch_s": total / len(durs),
            "matmul_share": matmul_us.get(stage, 0.0) / 1e6 / total,
            "top_ops": [(name, us / 1e6 / total) for name, us in top],
        }
    return {"pair": pair, "epochs": epochs, "seed": seed, "stages": stages}


def report(results: Path, speed_results: Path) -> int:
    speed = {}
    for row in read_rows(speed_results):
        if row.get("skmvc_adam", "fused") != "fused":
            continue
        for stage, t_ref in row["reference"]["s_per_epoch"].items():
            ours = STAGES.get(row["pair"], {}).get(stage, stage)
            t_ours = row["skmvc"]["s_per_epoch"].get(ours)
            if t_ours:
                speed[(row["pair"], ours)] = (stage, t_ref / t_ours)
    print(
        "| skmvc method | stage | matmul share of an epoch | measured speed-up over the "
        "reference | best possible speed-up | largest other self times |"
    )
    print("|---|---|---|---|---|---|")
    for row in read_rows(results):
        for stage, s in row["stages"].items():
            measured = speed.get((row["pair"], stage))
            others = ", ".join(
                f"{n.replace('aten::', '')} {f:.0%}" for n, f in s["top_ops"] if n not in MATMUL
            )[:90]
            if measured is None:
                cells = ["—", "—"]
            else:
                cells = [f"{measured[1]:.2f}×", f"≤ {measured[1] / s['matmul_share']:.2f}×"]
            print(
                f"| {row['pair'].upper()} | {stage} | {s['matmul_share']:.0%} | "
                + " | ".join(cells)
                + f" | {others} |"
            )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", nargs="+", default=sorted(FITS), choices=sorted(FITS))
    parser.add_argument("--data-dir", type=Path, default=HERE.parents[2] / "shared" / "datasets")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per stage")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if args.report:
        return report(args.results, SPEED_RESULTS)
    torch.set_num_threads(args.threads)
    views, y = load_dataset("MNIST-USPS", args.data_dir)
    views = [np.ascontiguousarray(v, dtype=np.float32) for v in views]
    for pair in args.pairs:
        row = profile_pair(pair, views, y, args.epochs, args.seed)
        row.update(
            threads=torch.get_num_threads(),
            machine=machine_description(),
            torch=torch.__version__,
            date=time.strftime("%Y-%m-%d"),
        )
        append_row(args.results, row)
        print({s: round(v["matmul_share"], 3) for s, v in row["stages"].items()}, pair, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
