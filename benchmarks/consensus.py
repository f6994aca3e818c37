"""One call without labels: ConsensusClustering's candidates, its consensus and its
selection, against both k-means baselines, on the benchmark sets.

    python benchmarks/consensus.py --datasets MSRC-v1 3Sources --seeds 0 1 2
    python benchmarks/consensus.py --report

Each candidate of :func:`skmvc.ensemble.default_candidates` (``profile="fast"``) is fitted
on the set's stored views (pixels divided by 255, nothing else: the candidates prepare their
views themselves) and its labels are kept in ``benchmarks/results_consensus.jsonl``, one row
per (set, seed, candidate), beside k-means on min-max views (``kmeans-minmax``, a baseline,
not a candidate). ``--deep-prepare auto-rms`` fits the skmvc methods on views prepared by
``ViewScaler("auto", row_norm="rms")`` instead of the library's choice (each row records its
``prepare``; the report takes one preparation's rows). The report combines the stored
labels as ``ConsensusClustering`` does (the consensus, and the selection by each
criterion), so a combination rule is measured without refitting; labels only score. Sets
of more than 10 000 samples use a random 10 000.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone

from skmvc._benchmark import (
    MAX_SAMPLES,
    append_row,
    code_version,
    load_dataset,
    read_rows,
    scaler_named,
)
from skmvc.ensemble import (
    ConsensusClustering,
    _collapse,
    _fit_candidate,
    _kmeans,
    consensus_partition,
    default_candidates,
    silhouette_rank_scores,
)
from skmvc.exceptions import CandidateFailedWarning
from skmvc.metrics import agreement_scores, clustering_report

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_consensus.jsonl"
BASELINE = "kmeans-minmax"
#: The rows of ``--end-to-end``: the whole call, fitted as a user fits it.
CALL = "ConsensusClustering"


def _prepare_label(estimator):
    """A deep candidate's preparation as a name ("minmax", "auto-rms"); None for k-means."""
    steps = getattr(estimator, "named_steps", {})
    if "prepare" not in steps:
        return None
    scaler = steps["prepare"]
    return scaler.kind + ("-rms" if scaler.row_norm == "rms" else "")


def library_prepare():
    """The preparation :func:`default_candidates` gives the skmvc methods."""
    return next(filter(None, map(_prepare_label, default_candidates(2, 2).values())))


def _row_prepare(row):
    if row["candidate"] in ("kmeans", "kmeans-unit", BASELINE, CALL):
        return None
    return row.get("prepare", "minmax")  # rows written before the field: min-max


def run(datasets, seeds, data_dir, deep_prepare=None):
    done = {(r["dataset"], r["seed"], r["candidate"], _row_prepare(r)) for r in read_rows(RESULTS)}
    for name in datasets:
        views, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES, seed=0)
        k = len(np.unique(y))
        for seed in seeds:
            candidates = default_candidates(k, len(views), random_state=seed, device="cpu")
            candidates[BASELINE] = _kmeans("minmax", k, seed)
            for cand, est in candidates.items():
                prepare = _prepare_label(est)
                if prepare is not None and deep_prepare is not None:
                    est.set_params(prepare=scaler_named(deep_prepare))
                    prepare = deep_prepare
                if (name, seed, cand, prepare) in done:
                    continue
                start = time.perf_counter()
                _, _, labels, _, error = _fit_candidate(cand, clone(est), views)
                row = dict(
                    dataset=name, seed=seed, candidate=cand, n_samples=len(y), error=error,
                    seconds=round(time.perf_counter() - start, 2), commit=code_version(),
                )  # fmt: skip
                if prepare is not None:
                    row["prepare"] = prepare
                if labels is not None:
                    row.update(clustering_report(y, labels), labels=labels.tolist())
                append_row(RESULTS, row)
                print(name, seed, cand, f"{row.get('accuracy', float('nan')):.3f}", flush=True)


def end_to_end(datasets, seeds, data_dir):
    """Fit ``ConsensusClustering(n_clusters, random_state=seed)`` as a user does, and keep
    its labels, its choice and its wall time (a row with ``candidate="ConsensusClustering"``),
    so that the report can check the answer computed from the stored candidates against
    the call itself."""
    done = {(r["dataset"], r["seed"]) for r in read_rows(RESULTS) if r["candidate"] == CALL}
    for name in datasets:
        views, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES, seed=0)
        for seed in seeds:
            if (name, seed) in done:
                continue
            model = ConsensusClustering(len(np.unique(y)), random_state=seed, device="cpu")
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CandidateFailedWarning)
                model.fit(views)
            row = dict(
                dataset=name, seed=seed, candidate=CALL, n_samples=len(y), error=None,
                seconds=round(time.perf_counter() - start, 2), commit=code_version(),
                chosen=model.chosen_, **clustering_report(y, model.labels_),
                labels=model.labels_.tolist(),
            )  # fmt: skip
            append_row(RESULTS, row)
            print(name, seed, CALL, model.chosen_, f"{row['accuracy']:.3f}", flush=True)


def end_to_end_report(data_dir):
    """The calls fitted end to end beside the answer computed from the stored candidates
    of the same set and seed: the chosen candidate, ACC and the call's wall time."""
    rows = read_rows(RESULTS)
    calls = [r for r in rows if r["candidate"] == CALL]
    prepare = library_prepare()
    print("| set | seed | call: chosen, ACC, seconds | from the stored candidates: chosen, ACC |")
    print("|---|---|---|---|")
    for call in calls:
        cell = [
            r
            for r in rows
            if (r["dataset"], r["seed"]) == (call["dataset"], call["seed"])
            and _row_prepare(r) in (None, prepare)
        ]
        labels = np.asarray(call["labels"])
        views, y = load_dataset(call["dataset"], data_dir, n_samples=MAX_SAMPLES, seed=0)
        stored, chosen = _combined(cell, views, len(np.unique(y)), call["seed"])[
            "select-silhouette"
        ]
        same = chosen == call["chosen"] and np.array_equal(stored, labels)
        print(
            f"| {call['dataset']} | {call['seed']} | {call['chosen']}, {call['accuracy']:.3f}, "
            f"{call['seconds']:.0f} | {chosen}, "
            f"{next(r['accuracy'] for r in cell if r['candidate'] == chosen):.3f}"
            f"{'' if same else ' (differs)'} |"
        )


def _combined(rows, views, n_clusters, seed):
    """The label-free answers from the stored candidates of one (set, seed): the
    consensus, and the candidate selected by each criterion (labels and name)."""
    kept = [
        r
        for r in rows
        if r["candidate"] not in (BASELINE, CALL)
        and r.get("labels") is not None
        and _collapse(np.asarray(r["labels"]), n_clusters) is None  # dropped, as in fit
    ]
    partitions = [np.asarray(r["labels"]) for r in kept]
    answers = {"consensus": (consensus_partition(partitions, n_clusters, seed)[0].labels_, "")}
    for criterion, scores in (
        ("silhouette", silhouette_rank_scores(partitions, views)),
        ("agreement", agreement_scores(partitions)),
    ):
        i = int(np.argmax(scores))
        answers[f"select-{criterion}"] = (partitions[i], kept[i]["candidate"])
    return answers


#: The candidates' columns of the report, in this order (those a set has).
COLUMNS = ("kmeans", "CONAN", "CRRC", "CMMC", "RAV", "EAMC")
#: The label-free answers the report computes; the first is ConsensusClustering's default.
WAYS = ("select-silhouette", "consensus", "select-agreement")


def report(data_dir, deep_prepare=None, summary=False):
    """One row per set: both k-means baselines, each candidate, and ConsensusClustering's
    default answer (selection by silhouette) with its regret against the best candidate
    (picked with labels, a reference only) and the call's time (its candidates' fit
    seconds, summed); ACC mean ± std over the seeds measured, NMI and ARI for the answer.
    Then, for each label-free answer (the consensus, selection by agreement too), its
    regret, its mean ACC and how often it holds the better k-means baseline. The skmvc
    methods' rows are those of one preparation (``deep_prepare``, by default the
    library's); a (set, seed) without them all is left out. ``summary``: the closing lines
    only."""
    deep_prepare = deep_prepare or library_prepare()
    by_cell = {}
    for r in read_rows(RESULTS):
        if r["candidate"] == CALL or _row_prepare(r) not in (None, deep_prepare):
            continue
        by_cell.setdefault((r["dataset"], r["seed"]), []).append(r)
    table = {}
    for (name, seed), cell in sorted(by_cell.items()):
        if not any(r["candidate"] == BASELINE for r in cell):
            continue  # the seed is still running
        views, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES, seed=0)
        deep = [_prepare_label(e) for e in default_candidates(2, len(views)).values()]
        if sum(_row_prepare(r) is not None for r in cell) < sum(d is not None for d in deep):
            continue  # this preparation's candidates are still running
        scores = {r["candidate"]: r for r in cell if r.get("labels") is not None}
        seconds = sum(r["seconds"] or 0 for r in cell if r["candidate"] != BASELINE)
        for way, (labels, chosen) in _combined(cell, views, len(np.unique(y)), seed).items():
            scores[way] = {**clustering_report(y, labels), "chosen": chosen, "seconds": seconds}
        for cand, s in scores.items():
            table.setdefault(name, {}).setdefault(cand, []).append(s)
    out = print if not summary else (lambda *args, **kwargs: None)
    header = ["set (seeds)", "k-means min-max", "k-means unit rows"]
    header += [c if c != "kmeans" else "k-means auto" for c in COLUMNS]
    header += ["ConsensusClustering", "regret", "time (s)"]
    out("| " + " | ".join(header) + " |")
    out("|---" * len(header) + "|")
    answer = WAYS[0]
    regrets = {way: {} for way in WAYS}
    means = {}
    anchors = {}
    for name, cands in table.items():

        def acc(c, cands=cands):
            return np.mean([r["accuracy"] for r in cands[c]])

        def cell(c, metrics=("accuracy",), cands=cands):
            if c not in cands:
                return ""
            runs = cands[c]
            text = f"{np.mean([r['accuracy'] for r in runs]):.3f}"
            if len(runs) > 1:
                text += f" ± {np.std([r['accuracy'] for r in runs]):.3f}"
            rest = [f"{np.mean([r[k] for r in runs]):.3f}" for k in metrics[1:]]
            return " / ".join([text, *rest])

        singles = [c for c in cands if c not in (*WAYS, BASELINE)]
        best = max(singles, key=acc)
        anchors[name] = max(acc(BASELINE), acc("kmeans-unit"))
        for way in WAYS:
            regrets[way][name] = acc(best) - acc(way)
        for key in (*singles, *WAYS, BASELINE):
            means.setdefault(key, []).append(acc(key))
        means.setdefault("better k-means", []).append(anchors[name])
        means.setdefault("best candidate", []).append(acc(best))
        seconds = np.mean([r["seconds"] for r in cands[answer]])
        row = [f"{name} ({len(cands[BASELINE])})", cell(BASELINE, ("accuracy", "nmi"))]
        row += [cell("kmeans-unit", ("accuracy", "nmi"))] + [cell(c) for c in COLUMNS]
        row += [cell(answer, ("accuracy", "nmi", "ari")), f"{regrets[answer][name]:+.3f}"]
        row += [f"{seconds:.0f}"]
        out("| " + " | ".join(row) + " |")
    out()
    out(
        "ACC (mean ± std over the seeds; NMI and ARI after it for the baselines and the "
        "answer); the answer is selection by silhouette; regret = the best candidate's ACC "
        "minus the answer's; time = its candidates' fit seconds, one after another."
    )
    if not means:
        return
    n = len(table)
    for way in WAYS:
        r = regrets[way]
        held = sum(a >= anchor - 0.02 for a, anchor in zip(means[way], anchors.values()))
        mean_regret = np.mean(list(r.values()))
        over = ", ".join(f"{k} {v:.3f}" for k, v in r.items() if v > 0.03)
        print(
            f"{way}: mean ACC {np.mean(means[way]):.3f}, regret mean {mean_regret:.3f}"
            f" (over 0.03: {over or 'none'}); within 0.02 of the better k-means baseline on "
            f"{held} of {n} sets."
        )
    singles = {k: v for k, v in means.items() if k not in WAYS and len(v) == n}
    print(
        f"Mean ACC over the {n} sets: "
        + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in sorted(singles.items()))
        + "."
    )


def compare_preparations(first, second):
    """Each skmvc method (a candidate) fitted on two preparations: mean ACC and NMI over the
    (set, seed) cells that have both, and on how many cells the second scored higher."""
    cells = {}
    for r in read_rows(RESULTS):
        prepare = _row_prepare(r)
        if prepare in (first, second) and r.get("accuracy") is not None:
            cells.setdefault((r["candidate"], r["dataset"], r["seed"]), {})[prepare] = r
    print(
        f"| method | cells (sets) | {first}: ACC / NMI | {second}: ACC / NMI | "
        f"cells where {second} scores higher |"
    )
    print("|---|---|---|---|---|")
    for method in sorted({c[0] for c in cells}):
        both = [v for k, v in cells.items() if k[0] == method and len(v) == 2]
        if not both:
            continue
        sets = len({r[first]["dataset"] for r in both})

        def mean(prep, metric, both=both):
            return np.mean([r[prep][metric] for r in both])

        wins = sum(r[second]["accuracy"] > r[first]["accuracy"] for r in both)
        print(
            f"| {method} | {len(both)} ({sets}) | {mean(first, 'accuracy'):.3f} / "
            f"{mean(first, 'nmi'):.3f} | {mean(second, 'accuracy'):.3f} / "
            f"{mean(second, 'nmi'):.3f} | {wins} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["MSRC-v1", "3Sources"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data-dir", default=str(HERE.parents[1] / "shared" / "datasets"))
    parser.add_argument(
        "--deep-prepare",
        choices=["minmax", "auto", "auto-rms"],
        help="the skmvc methods' preparation (default: the library's)",
    )
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="fit ConsensusClustering itself on --datasets and --seeds (with --report: "
        "check it against the stored candidates)",
    )
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--summary", action="store_true", help="with --report: no table")
    parser.add_argument(
        "--compare-prepare",
        nargs=2,
        metavar=("FIRST", "SECOND"),
        help="each method's candidates on two preparations (e.g. minmax auto-rms)",
    )
    args = parser.parse_args()
    if args.compare_prepare:
        compare_preparations(*args.compare_prepare)
    elif args.end_to_end and args.report:
        end_to_end_report(args.data_dir)
    elif args.end_to_end:
        end_to_end(args.datasets, args.seeds, args.data_dir)
    elif args.report:
        report(args.data_dir, args.deep_prepare, args.summary)
    else:
        run(args.datasets, args.seeds, args.data_dir, args.deep_prepare)


if __name__ == "__main__":
    main()
