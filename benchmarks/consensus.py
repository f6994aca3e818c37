"""One call without labels: ConsensusClustering's candidates, its consensus and its
selection, against both k-means baselines, on the benchmark sets.

    python benchmarks/consensus.py --datasets MSRC-v1 3Sources --seeds 0 1 2
    python benchmarks/consensus.py --report

Each candidate of :func:`skmvc.ensemble.default_candidates` (``profile="fast"``) is fitted
on the set's stored views (pixels divided by 255, nothing else: the candidates prepare their
views themselves) and its labels are kept in ``benchmarks/results_consensus.jsonl``, one row
per (set, seed, candidate), beside k-means on min-max views (``kmeans-minmax``, a baseline,
not a candidate). The report combines the stored labels as ``ConsensusClustering`` does
(``combine="consensus"`` and ``"select"``), so a combination rule is measured without
refitting; labels only score. Sets of more than 10 000 samples use a random 10 000.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone

from skmvc._benchmark import MAX_SAMPLES, append_row, code_version, load_dataset, read_rows
from skmvc.ensemble import _fit_candidate, _kmeans, consensus_partition, default_candidates
from skmvc.metrics import agreement_scores, clustering_report

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_consensus.jsonl"
BASELINE = "kmeans-minmax"


def run(datasets, seeds, data_dir):
    done = {(r["dataset"], r["seed"], r["candidate"]) for r in read_rows(RESULTS)}
    for name in datasets:
        views, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES, seed=0)
        k = len(np.unique(y))
        for seed in seeds:
            candidates = default_candidates(k, len(views), random_state=seed, device="cpu")
            candidates[BASELINE] = _kmeans("minmax", k, seed)
            for cand, est in candidates.items():
                if (name, seed, cand) in done:
                    continue
                start = time.perf_counter()
                _, _, labels, _, error = _fit_candidate(cand, clone(est), views)
                row = dict(
                    dataset=name, seed=seed, candidate=cand, n_samples=len(y), error=error,
                    seconds=round(time.perf_counter() - start, 2), commit=code_version(),
                )  # fmt: skip
                if labels is not None:
                    row.update(clustering_report(y, labels), labels=labels.tolist())
                append_row(RESULTS, row)
                print(name, seed, cand, f"{row.get('accuracy', float('nan')):.3f}", flush=True)


def _combined(rows, n_clusters, seed):
    """Consensus and selection labels from the stored candidates of one (set, seed)."""
    kept = [r for r in rows if r["candidate"] != BASELINE and r.get("labels") is not None]
    partitions = [np.asarray(r["labels"]) for r in kept]
    consensus = consensus_partition(partitions, n_clusters, seed)[0].labels_
    chosen = kept[int(np.argmax(agreement_scores(partitions)))]
    return consensus, np.asarray(chosen["labels"]), chosen["candidate"]


def report(data_dir):
    rows = read_rows(RESULTS)
    by_cell = {}
    for r in rows:
        by_cell.setdefault((r["dataset"], r["seed"]), []).append(r)
    table = {}
    for (name, seed), cell in sorted(by_cell.items()):
        _, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES, seed=0)
        k = len(np.unique(y))
        consensus, selected, chosen = _combined(cell, k, seed)
        scores = {r["candidate"]: r for r in cell if r.get("labels") is not None}
        scores["consensus"] = clustering_report(y, consensus)
        scores["select"] = {**clustering_report(y, selected), "chosen": chosen}
        for cand, s in scores.items():
            table.setdefault(name, {}).setdefault(cand, []).append(s)
    for name, cands in table.items():
        print(f"\n{name}")
        print("| candidate | ACC | NMI | ARI |")
        print("|---|---|---|---|")
        for cand, runs in cands.items():
            cols = []
            for key in ("accuracy", "nmi", "ari"):
                v = [r[key] for r in runs]
                cols.append(f"{np.mean(v):.3f} ± {np.std(v):.3f}")
            print(f"| {cand} | {' | '.join(cols)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["MSRC-v1", "3Sources"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data-dir", default=str(HERE.parents[1] / "shared" / "datasets"))
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        report(args.data_dir)
    else:
        run(args.datasets, args.seeds, args.data_dir)


if __name__ == "__main__":
    main()
