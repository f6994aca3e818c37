"""How should each view be prepared? k-means on the views side by side, each view prepared
by min-max, by unit-length rows, or by :class:`skmvc.preprocessing.ViewScaler`'s
``kind="auto"`` rule, on every benchmark set (ACC, NMI and ARI, mean ± std over seeds).

    python benchmarks/preparation.py                    # every set, seeds 0-2 (resumes)
    python benchmarks/preparation.py --report           # the table for docs/benchmarks.md

Rows go to ``benchmarks/results_preparation.jsonl`` as they come. The two 70 000-sample
Edge sets are clustered on a random 20 000 of their samples. About 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

from skmvc._benchmark import MAX_SAMPLES, append_row, code_version, load_dataset, read_rows
from skmvc.metrics import clustering_report
from skmvc.preprocessing import ViewConcatenator, ViewScaler

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_preparation.jsonl"
DATASETS = [
    "Handwritten", "MNIST-USPS", "BDGP", "Fashion-MV", "COIL20-3V", "Edge-MNIST",
    "Edge-FashionMNIST", "BBCSport", "Reuters-1200", "WebKB", "MSRC-v1", "100Leaves",
    "Prokaryotic", "ProteinFold", "Scene-15", "NGs", "Cora", "3Sources",
]  # fmt: skip
PREPARATIONS = ["minmax", "unit", "auto"]


def run(datasets, seeds, data_dir):
    done = {(r["dataset"], r["preparation"], r["seed"]) for r in read_rows(RESULTS)}
    for name in datasets:
        views, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES, seed=0)
        k = len(np.unique(y))
        for prep in PREPARATIONS:
            scaler = ViewScaler(prep).fit(views)
            x = ViewConcatenator().fit_transform(scaler.transform(views))
            for seed in seeds:
                if (name, prep, seed) in done:
                    continue
                start = time.perf_counter()
                labels = KMeans(k, n_init=10, random_state=seed).fit_predict(x)
                row = dict(
                    dataset=name, preparation=prep, kinds=scaler.kinds_, seed=seed,
                    n_samples=len(y), seconds=round(time.perf_counter() - start, 2),
                    commit=code_version(), **clustering_report(y, labels),
                )  # fmt: skip
                append_row(RESULTS, row)
                print(name, prep, seed, f"ACC {row['accuracy']:.3f}", flush=True)


def report():
    rows = read_rows(RESULTS)
    cell = {}
    for r in rows:
        cell.setdefault((r["dataset"], r["preparation"]), []).append(r)
    print("| set | min-max ACC / NMI | unit rows ACC / NMI | auto ACC / NMI | auto: each view's |")
    print("|---|---|---|---|---|")
    wins = dict.fromkeys(PREPARATIONS, 0)
    set_means = []
    for name in DATASETS:
        found = {p: cell.get((name, p)) for p in PREPARATIONS}
        if not all(found.values()):
            continue
        means = {p: np.mean([r["accuracy"] for r in found[p]]) for p in PREPARATIONS}
        set_means.append(means)
        best = max(means.values())
        out = []
        for p in PREPARATIONS:
            acc = [r["accuracy"] for r in found[p]]
            nmi = [r["nmi"] for r in found[p]]
            text = f"{np.mean(acc):.3f} ± {np.std(acc):.3f} / {np.mean(nmi):.3f}"
            if means[p] >= best - 1e-9:
                text, wins[p] = f"**{text}**", wins[p] + 1
            out.append(text)
        named = found["auto"][0]["kinds"]
        kinds = ", ".join(
            f"{kind} × {named.count(kind)}" if named.count(kind) > 1 else kind
            for kind in dict.fromkeys(named)
        )
        print(f"| {name} | {' | '.join(out)} | {kinds} |")
    print()
    print("Best (bold) on: " + ", ".join(f"{p} {n}" for p, n in wins.items()) + " sets.")
    mean = {p: np.mean([m[p] for m in set_means]) for p in PREPARATIONS}
    print("Mean ACC over the sets: " + ", ".join(f"{p} {v:.3f}" for p, v in mean.items()) + ".")
    close = sum(m["auto"] >= max(m["minmax"], m["unit"]) - 0.02 for m in set_means)
    worst = min(m["auto"] - max(m["minmax"], m["unit"]) for m in set_means)
    print(
        f"auto within 0.02 of the better of min-max and unit rows on {close} of "
        f"{len(set_means)} sets (worst {worst:+.3f})."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data-dir", default=str(HERE.parents[1] / "shared" / "datasets"))
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        report()
    else:
        run(args.datasets, args.seeds, args.data_dir)


if __name__ == "__main__":
    main()
