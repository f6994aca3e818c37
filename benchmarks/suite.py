"""The development suite: every method with its default parameters on every benchmark set,
3 seeds a cell, with k-means on the concatenated scaled views run in the same pass.

Resumable: each finished cell (method, set, seed) is appended to a JSON-lines results file
at once, and a rerun skips the cells already there, so the suite (hours on 2 CPU cores) can
be stopped and resumed, on another machine too, once the results file is committed.

    python benchmarks/suite.py                         # all methods x all sets, seeds 0 1 2
    python benchmarks/suite.py --datasets MSRC-v1 BBCSport --methods kmeans crrc
    python benchmarks/suite.py --tag no-early-stopping --set n_iter_no_change=None
    python benchmarks/suite.py --tag l2rows --rows l2  # rows of each view L2-normalised
    python benchmarks/suite.py --tag quick-auto --profile quick --rows auto
    python benchmarks/suite.py --report                # table + figure from the results

Preprocessing is the user guide's: uint8 pixel views divided by 255, then every view
min-max scaled on its own (``--rows l2``: then each row of each view scaled to unit norm, for
every method and k-means alike). Image sets give CONAN, EAMC and CRRC their views as 28x28
images (their CNN encoders; ``skmvc._benchmark.IMAGE_METHODS``). Sets larger than 10 000
samples use one seeded 10 000-sample subset (the same for every seed and method). Labels
are used only to score.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import torch

from skmvc import __version__
from skmvc._benchmark import (
    BASELINE,
    DATASETS,
    IMAGE_METHODS,
    code_version,
    machine_description,
    method_params,
    prepared_views,
    read_rows,
    run_one,
)
from skmvc._cli import parse_sets

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS = HERE / "results_suite.jsonl"
ORDER = [BASELINE, "conan", "crrc", "cmmc", "rav", "eamc"]


def done_cells(path: Path) -> set:
    if not path.exists():
        return set()
    cells = set()
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            cells.add((row["tag"], row["method"], row["dataset"], row["seed"]))
    return cells


def run_cell(method, name, views, y, seed, sets, device, profile="default") -> dict:
    params = {}
    if method != BASELINE:
        if profile != "default":
            params.update(method_params(method, name, profile))
        params.update(sets)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = run_one(method, views, y, params, seed, device=device)
            error = None
        except Exception as exc:  # recorded: a failed cell is a result too
            result, error = {"seed": seed}, f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
    skmvc_warnings = sorted(
        {
            f"{w.category.__name__}: {str(w.message)[:160]}"
            for w in caught
            if "skmvc" in str(w.category.__module__)
        }
    )
    return {**result, "error": error, "warnings": skmvc_warnings}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=HERE.parent.parent / "shared" / "datasets"
    )
    parser.add_argument("--datasets", nargs="+", help="default: every development set")
    parser.add_argument("--methods", nargs="+", default=ORDER, choices=ORDER)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--tag", default="default", help="names this configuration's cells")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter for every method (e.g. n_iter_no_change=None); use with --tag",
    )
    parser.add_argument(
        "--rows",
        default="none",
        help="the views' preparation, for every method and k-means alike (use with --tag): "
        "none (min-max per view), l2 (min-max, then rows to unit norm), or a ViewScaler kind "
        "(auto, unit, tfidf, standard, ...)",
    )
    parser.add_argument(
        "--profile",
        choices=["default", "quick", "paper"],
        default="default",
        help="each method's schedule: its defaults, or a named profile (use with --tag)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--report", action="store_true", help="print the table, draw the figure")
    parser.add_argument(
        "--compare", nargs="+", metavar="TAG", help="print these tags side by side"
    )
    parser.add_argument(
        "--metrics",
        nargs="*",
        choices=["accuracy", "nmi", "seconds"],
        default=["accuracy", "nmi"],
        help="with --compare: the per-set tables to print (seconds: of the whole fit; none: "
        "only each method's means)",
    )
    parser.add_argument("--stages", metavar="TAG", help="print where each fit's time went")
    args = parser.parse_args(argv)
    if args.stages:
        return stages(args.results, args.stages, args.datasets)
    if args.compare:
        return compare(args.results, args.compare, args.datasets, args.metrics, args.methods)
    if args.report:
        return report(args.results, args.datasets or DATASETS, args.methods, args.tag)
    if args.threads:
        torch.set_num_threads(args.threads)
    sets = parse_sets(args.set)
    done = done_cells(args.results)
    machine = machine_description()
    commit = code_version()
    for name in args.datasets or DATASETS:
        loaded = {}
        for seed in args.seeds:
            for method in [m for m in ORDER if m in args.methods]:
                if (args.tag, method, name, seed) in done:
                    continue
                images = method in IMAGE_METHODS
                if images not in loaded:
                    loaded[images] = prepared_views(name, args.data_dir, images, args.rows)
                views, y = loaded[images]
                start = time.perf_counter()
                row = run_cell(method, name, views, y, seed, sets, args.device, args.profile)
                row.update(
                    tag=args.tag,
                    method=method,
                    dataset=name,
                    n_samples=len(y),
                    n_views=len(views),
                    set=args.set,
                    rows=args.rows,
                    profile=args.profile,
                    skmvc=__version__,
                    commit=commit,
                    threads=torch.get_num_threads(),
                    machine=machine,
                    wall=time.perf_counter() - start,
                )
                with args.results.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                acc = row.get("accuracy", float("nan"))
                seconds = row.get("seconds", float("nan"))
                error = f" {row['error']}" if row["error"] else ""
                print(
                    f"{args.tag} {name} seed {seed} {method}: ACC {acc:.3f} ({seconds:.0f} s)"
                    + error,
                    flush=True,
                )
    return 0


def report(path: Path, datasets=DATASETS, methods=ORDER, tag="default") -> int:
    """The tables of ``docs/benchmarks.md`` for one tag: ACC ± std / NMI per method and set
    against both k-means baselines (the tag's own k-means, and k-means on unit-length rows
    from ``results_preparation.jsonl``), a summary per method, the fit times, the figure."""
    rows = [
        r
        for r in read_rows(path)
        if r["tag"] == tag and r["dataset"] in datasets and r["method"] in methods
    ]
    cells: dict = {}
    for r in rows:
        cells.setdefault((r["dataset"], r["method"]), []).append(r)
    unit = {}
    for r in read_rows(HERE / "results_preparation.jsonl"):
        if r["preparation"] == "unit":
            unit.setdefault(r["dataset"], []).append(r)
    sets = [d for d in datasets if any(k[0] == d for k in cells)]
    methods = [m for m in ORDER if any(k[1] == m for k in cells)]
    deep = [m for m in methods if m != BASELINE]
    n_seeds = sorted({len(v) for v in cells.values()})
    print(f"Tag {tag}: ACC mean ± std / NMI mean over seeds ({'-'.join(map(str, n_seeds))});")
    print("k-means unit rows: each view's rows scaled to unit length (preparation.py).\n")
    header = ["set (n, views)", "k-means min-max", "k-means unit rows", *_display(deep)]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    summary = {m: [] for m in deep}
    for d in sets:
        first = next(iter(cells.get((d, methods[0]), [])), None) or rows[0]
        base = [_score(cells.get((d, BASELINE), [])), _score(unit.get(d, []))]
        better = np.nanmax([b[0] for b in base])
        line = [f"{d} ({first['n_samples']}, {first['n_views']})"]
        line += [b[2] for b in base]
        for m in deep:
            acc, nmi, text = _score(cells.get((d, m), []))
            summary[m].append((acc, nmi, better))
            line.append(text)
        print("| " + " | ".join(line) + " |")
    print("\nEach method against the better of the two k-means baselines, set by set:\n")
    print("| method | sets at least the better k-means | mean ACC | mean NMI |")
    print("|---|---|---|---|")
    kmeans_accs = [
        np.nanmax([_score(cells.get((d, BASELINE), []))[0], _score(unit.get(d, []))[0]])
        for d in sets
    ]
    for m in deep:
        got = [(a, n, b) for a, n, b in summary[m] if np.isfinite(a) and np.isfinite(b)]
        wins = sum(a >= b for a, _, b in got)
        print(
            f"| {_display([m])[0]} | {wins} of {len(got)} | "
            f"{np.mean([a for a, _, _ in got]):.3f} | {np.mean([n for _, n, _ in got]):.3f} |"
        )
    print(f"| better k-means | | {np.nanmean(kmeans_accs):.3f} | |")
    print("\nFit seconds, median over seeds (one torch thread a fit):\n")
    print("| set | " + " | ".join(_display(deep)) + " |")
    print("|---" * (len(deep) + 1) + "|")
    for d in sets:
        secs = [
            np.median([r["seconds"] for r in cells.get((d, m), []) if "seconds" in r] or [np.nan])
            for m in deep
        ]
        print(f"| {d} | " + " | ".join("" if np.isnan(s) else f"{s:.0f}" for s in secs) + " |")
    if tag == "default":  # the figure on the benchmarks page; other tags are tables
        _figure(cells, sets, methods, HERE.parent / "docs" / "suite_default.png")
    return 0


def compare(
    path: Path, tags: list[str], datasets=None, metrics=("accuracy", "nmi"), methods=ORDER
) -> int:
    """Tags side by side: per set and method, each tag's mean ACC (then NMI, then fit
    seconds, as ``metrics`` asks) in the order given, and each method's mean over the sets
    every tag has; the best tag in bold (ACC, NMI)."""
    cells: dict = {}
    for r in read_rows(path):
        wanted = datasets is None or r["dataset"] in datasets
        if r["tag"] in tags and r["method"] in methods and wanted:
            cells.setdefault((r["dataset"], r["method"], r["tag"]), []).append(r)
    sets = list(dict.fromkeys(k[0] for k in cells))
    methods = [m for m in ORDER if any(k[1] == m for k in cells)]
    if len(tags) == 1:
        print(f"Tag {tags[0]}, mean over seeds.")
    elif metrics:
        print(f"Each cell: {' / '.join(tags)}, mean over seeds; the best in bold.")
    for key, name in (("accuracy", "ACC"), ("nmi", "NMI"), ("seconds", "Fit seconds")):
        if key not in metrics:
            continue
        print(f"\n{name}:\n")
        print("| set | " + " | ".join(_display(methods)) + " |")
        print("|---" * (len(methods) + 1) + "|")
        for d in sets:
            line = [d]
            for m in methods:
                means = [_mean(cells.get((d, m, t), []), key) for t in tags]
                if key == "seconds":
                    line.append(" / ".join(f"{v:.0f}" if np.isfinite(v) else "" for v in means))
                else:
                    line.append(_bold_best(means) if len(tags) > 1 else _fmt(means[0]))
            print("| " + " | ".join(line) + " |")
    if len(tags) == 1:
        return 0
    first, *others = tags
    print("\n" * bool(metrics) + "Mean ACC over the sets every tag has, and mean fit seconds:\n")
    below = f" sets more than 0.03 below {first} |" if len(others) == 1 else ""
    print("| method | " + " | ".join(tags) + " | fit seconds |" + below)
    print("|---" * (len(tags) + 2 + bool(below)) + "|")
    for m in methods:
        keys = [d for d in sets if all(cells.get((d, m, t)) for t in tags)]
        if not keys:
            continue
        grid = np.array([[_mean(cells[d, m, t], "accuracy") for t in tags] for d in keys])
        seconds = [np.mean([_mean(cells[d, m, t], "seconds") for d in keys]) for t in tags]
        line = f"| {_display([m])[0]} ({len(keys)} sets) | " + _bold_best(grid.mean(axis=0), " | ")
        line += " | " + " / ".join(f"{v:.0f}" for v in seconds) + " |"
        if below:
            lost = [f"{d} {b - a:+.3f}" for d, (a, b) in zip(keys, grid) if b < a - 0.03]
            line += " " + (", ".join(lost) or "none") + " |"
        print(line)
    return 0


def stages(path: Path, tag: str, datasets=None) -> int:
    """Where each fit's time went: one row per set, one column per method (the first seed
    recorded): each stage's epochs / optimiser steps / training seconds, the epoch by which
    its loss had made 99 % of its decrease (:func:`skmvc._benchmark.settled_epoch`) and a
    mark where early stopping ended it, then the fit's seconds (training, plus set-up,
    labels and restarts)."""
    rows = [
        r
        for r in read_rows(path)
        if r["tag"] == tag and r.get("stages") and (datasets is None or r["dataset"] in datasets)
    ]
    methods = [m for m in ORDER if m != BASELINE and any(r["method"] == m for r in rows)]
    print(
        "Each stage: epochs / optimiser steps / seconds (settled: the epoch by which it had "
        "made 99 % of its loss decrease; * stopped early); then the whole fit.\n"
    )
    print("| set (n) | " + " | ".join(_display(methods)) + " |")
    print("|---" * (len(methods) + 1) + "|")
    cells: dict = {}
    for r in rows:
        cells.setdefault((r["dataset"], r["method"]), r)
    for name in dict.fromkeys(r["dataset"] for r in rows):
        out = []
        for m in methods:
            r = cells.get((name, m))
            if r is None:
                out.append("")
                continue
            parts = [
                f"{s['stage']} {s['epochs']}{'*' if s.get('stopped') == 'plateau' else ''} / "
                f"{s['steps']} / {s['seconds']:.0f} s (settled {s.get('settled', '?')})"
                for s in r["stages"]
            ]
            out.append("; ".join(parts) + f"; **{r['seconds']:.0f} s**")
        n = next(r["n_samples"] for r in rows if r["dataset"] == name)
        print(f"| {name} ({n}) | " + " | ".join(out) + " |")
    return 0


def _mean(runs, key) -> float:
    values = np.array([r.get(key, np.nan) for r in runs], dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else np.nan


def _fmt(value) -> str:
    return f"{value:.3f}" if np.isfinite(value) else ""


def _bold_best(values, sep=" / ") -> str:
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return ""
    best = np.nanmax(values)
    return sep.join(
        "" if not np.isfinite(v) else f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in values
    )


def _display(methods) -> list[str]:
    return ["k-means" if m == BASELINE else m.upper() for m in methods]


def _score(runs) -> tuple[float, float, str]:
    """Mean ACC, mean NMI and the cell's text ("ACC ± std / NMI") of a cell's runs."""
    accs = np.array([r.get("accuracy", np.nan) for r in runs], dtype=float)
    nmis = np.array([r.get("nmi", np.nan) for r in runs], dtype=float)
    if not np.isfinite(accs).any():
        return np.nan, np.nan, "failed" if runs else ""
    acc, nmi = float(np.nanmean(accs)), float(np.nanmean(nmis))
    return acc, nmi, f"{acc:.3f} ± {np.nanstd(accs):.3f} / {nmi:.3f}"


def _figure(cells, sets, methods, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(methods)
    for i, m in enumerate(methods):
        means = []
        for d in sets:
            accs = np.array([r.get("accuracy", np.nan) for r in cells.get((d, m), [])], float)
            means.append(np.nanmean(accs) if np.isfinite(accs).any() else np.nan)
        ax.bar(np.arange(len(sets)) + i * width, means, width, label=m)
    ax.set_xticks(np.arange(len(sets)) + 0.4 - width / 2, sets, rotation=45, ha="right")
    ax.set_ylabel("ACC (mean over seeds)")
    ax.set_title("Development suite: every method with its defaults, and k-means")
    ax.legend(ncols=len(methods), fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"\nfigure written to {out}")


if __name__ == "__main__":
    sys.exit(main())
