"""Selection regret of the label-free criteria, at three levels: among restarts of one
method, among a small grid of settings of each method, and among the five methods and
k-means.

For each set, every method is fitted with ``--seeds`` seeds (the restarts) on the quick
schedule, plus k-means. A criterion then selects one candidate; its regret is the ACC of the
best candidate (by labels, evaluation only) minus the ACC of the selected one. Labels never
reach a fit or a criterion.

    python benchmarks/selection_regret.py --datasets MSRC-v1 BBCSport Prokaryotic
    python benchmarks/selection_regret.py --level settings --datasets MSRC-v1 BBCSport
    python benchmarks/selection_regret.py --report

Results are appended per set to ``benchmarks/results_selection.jsonl`` (a rerun skips the
sets already there). ``--profile default`` fits the candidates with each estimator's
default parameters instead of the short ``quick`` schedules (``--methods`` to choose which;
``--report --profile default`` prints those rows):

    python benchmarks/selection_regret.py --profile default --methods conan eamc crrc \
        --datasets Prokaryotic MSRC-v1 BBCSport
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from skmvc._benchmark import (
    BASELINE,
    METHODS,
    code_version,
    kmeans_baseline,
    method_params,
    prepared_views,  # noqa: E402
)
from skmvc.metrics import (
    agreement_scores,
    clustering_accuracy,
    input_silhouette_score,
    pooled_silhouette_scores,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_selection.jsonl"
CRITERIA = ("loss", "agreement", "silhouette", "input_silhouette")


def _select(criterion, labels, embeddings, losses, models, views) -> int:
    if criterion == "loss":
        return int(np.nanargmin(losses))
    if criterion == "agreement":
        return int(np.argmax(agreement_scores(labels)))
    if criterion == "silhouette":
        return int(np.argmax(pooled_silhouette_scores(labels, embeddings)))
    return int(np.argmax([input_silhouette_score(m, views) for m in models]))


def _level_of_fits(ests, y, views) -> dict:
    """Every criterion's pick among fitted skmvc estimators of one method (the loss is
    comparable there)."""
    labels = [e.labels_ for e in ests]
    return _level(
        CRITERIA,
        [clustering_accuracy(y, lab) for lab in labels],
        labels,
        [e.transform(views) for e in ests],
        [e.loss_ for e in ests],
        ests,
        views,
    )


def _level(criteria, accs, labels, embeddings, losses, models, views) -> dict:
    accs = np.asarray(accs)
    out = {"best": float(accs.max()), "median": float(np.median(accs))}
    for c in criteria:
        out[c] = float(accs[_select(c, labels, embeddings, losses, models, views)])
    return out


def _params(method, name, profile, epochs) -> dict:
    """``method``'s parameters on set ``name``: the ``quick`` schedule (capped at ``epochs``
    when given) or, for ``profile="default"``, the estimator's defaults (early stopping on)."""
    if profile == "default":
        return {"device": "cpu"}
    params = {**method_params(method, name, "quick"), "device": "cpu"}
    if epochs is not None:
        params.update({p: epochs for p in ("pretrain_epochs", "max_epochs") if p in params})
    return params


def run_set(name, data_dir, seeds, epochs, methods, profile) -> dict:
    views, y = prepared_views(name, data_dir, images=False)
    k = len(np.unique(y))
    fits = {}
    for method in methods:
        params = _params(method, name, profile, epochs)
        for seed in seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    est = METHODS[method](k, random_state=seed, **params).fit(views)
                except FloatingPointError:
                    continue
            fits.setdefault(method, []).append(est)
    km = [kmeans_baseline(k, seed).fit(views) for seed in seeds]
    row = {"dataset": name, "n_samples": len(y), "seeds": list(seeds), "restarts": {}}
    row["profile"] = profile
    # Among restarts of one method (the loss is comparable there).
    for method, ests in fits.items():
        row["restarts"][method] = _level_of_fits(ests, y, views)
    # Among methods: each method's first seed, and k-means (the loss is not comparable).
    models = [ests[0] for ests in fits.values()] + [km[0]]
    names = list(fits) + [BASELINE]
    labels = [m.predict(views) for m in models]
    concat = np.hstack(views)
    embeddings = [m.transform(views) for m in models[:-1]] + [concat]
    accs = [clustering_accuracy(y, lab) for lab in labels]
    level = _level(CRITERIA[1:], accs, labels, embeddings, None, models, views)
    level["kmeans"] = float(accs[-1])
    level["accs"] = dict(zip(names, map(float, accs)))
    row["methods"] = level
    return row


#: The settings level's grid: each method's default learning rate times these factors (the
#: learning rate leaves the loss's scale alone, so the loss is a candidate criterion there).
LR_FACTORS = (1 / 3, 1.0, 3.0)


def run_settings(name, data_dir, epochs, methods, profile) -> dict:
    """Among a small grid of settings of each method (seed 0): learning rate x LR_FACTORS."""
    views, y = prepared_views(name, data_dir, images=False)
    k = len(np.unique(y))
    row = {"dataset": name, "level": "settings", "factors": list(LR_FACTORS), "settings": {}}
    row["profile"] = profile
    for method in methods:
        cls = METHODS[method]
        params = _params(method, name, profile, epochs)
        lr = cls().get_params()["lr"]
        ests = []
        for factor in LR_FACTORS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ests.append(cls(k, random_state=0, lr=lr * factor, **params).fit(views))
                except FloatingPointError:
                    continue
        row["settings"][method] = _level_of_fits(ests, y, views)
    return row


def _ran(row) -> tuple:
    """The methods a results row fitted (a rerun of a set with other methods is new)."""
    return tuple(sorted(row.get("restarts", row.get("settings", {}))))


def _name(row) -> str:
    """A row's set, and its methods when they are not all five."""
    ran = _ran(row)
    return row["dataset"] if len(ran) == len(METHODS) else f"{row['dataset']} ({', '.join(ran)})"


def _per_method_table(rows, key) -> dict:
    """Print the regret of each criterion per set (mean over methods) for the level ``key``;
    return every method's regret per criterion."""
    print("| set | " + " | ".join(CRITERIA) + " | best − median |")
    print("|---|" + "---|" * (len(CRITERIA) + 1))
    pooled = {c: [] for c in CRITERIA}
    for r in rows:
        per = r[key].values()
        cells = []
        for c in CRITERIA:
            regret = [m["best"] - m[c] for m in per]
            pooled[c] += regret
            cells.append(f"{np.mean(regret):.3f}")
        spread = np.mean([m["best"] - m["median"] for m in per])
        print(f"| {_name(r)} | " + " | ".join(cells) + f" | {spread:.3f} |")
    means = " | ".join(f"**{np.mean(pooled[c]):.3f}**" for c in CRITERIA)
    print(f"| **mean** | {means} | |")
    return pooled


def report(path: Path, profile: str, brief: bool = False) -> int:
    """The regret tables at each level (``brief``: each criterion's mean regret per level
    only), and the figure."""
    quiet = contextlib.redirect_stdout(io.StringIO()) if brief else contextlib.nullcontext()
    with quiet:  # brief: the tables are computed, and only the means printed
        levels = _tables(path, profile)
    if brief:
        print(f"Mean regret (best − selected ACC) of each criterion; {profile} schedules.\n")
        print("| candidates | " + " | ".join(CRITERIA) + " |")
        print("|---|" + "---|" * len(CRITERIA))
        for level, values in levels.items():
            cells = [f"{values[c]:.3f}" if c in values else "" for c in CRITERIA]
            print(f"| {level} | " + " | ".join(cells) + " |")
    name = "selection_regret.png" if profile == "quick" else f"selection_regret_{profile}.png"
    _figure(levels, HERE.parent / "docs" / name, profile)  # the figures on the benchmarks page
    return 0


def _tables(path: Path, profile: str) -> dict:
    """Print the regret tables; each level's mean regret per criterion."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("profile", "quick") == profile]
    print(f"Candidates fitted with the {profile!r} schedules.\n")
    settings = [r for r in rows if r.get("level") == "settings"]
    rows = [r for r in rows if r.get("level") != "settings"]
    print("**Among restarts of one method**: regret (best − selected ACC), mean over methods\n")
    all_regrets = _per_method_table(rows, "restarts")
    crits = CRITERIA[1:]
    print("\n**Among the five methods and k-means**: selected ACC (regret)\n")
    print("| set | best | k-means | " + " | ".join(crits) + " |")
    print("|---|---|---|" + "---|" * len(crits))
    regrets = {c: [] for c in crits}
    for r in rows:
        m = r["methods"]
        cells = []
        for c in crits:
            regrets[c].append(m["best"] - m[c])
            cells.append(f"{m[c]:.3f} ({m['best'] - m[c]:.3f})")
        print(f"| {_name(r)} | {m['best']:.3f} | {m['kmeans']:.3f} | " + " | ".join(cells) + " |")
    print(
        "| **mean regret** | | | "
        + " | ".join(f"**{np.mean(regrets[c]):.3f}**" for c in crits)
        + " |"
    )
    if settings:
        print("\n**Among settings** (learning rate x 1/3, 1, 3; seed 0): regret\n")
        pooled = _per_method_table(settings, "settings")
    levels = {
        "restarts": {c: np.mean(all_regrets[c]) for c in CRITERIA},
        "methods + k-means": {c: np.mean(regrets[c]) for c in crits},
    }
    if settings:
        levels["settings (lr)"] = {c: np.mean(pooled[c]) for c in CRITERIA}
    return levels


def _figure(levels: dict, out: Path, profile: str) -> None:
    """Mean regret of each criterion at each level, with the targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / len(CRITERIA)
    for i, c in enumerate(CRITERIA):
        values = [lv.get(c, np.nan) for lv in levels.values()]
        ax.bar(np.arange(len(levels)) + i * width, values, width, label=c)
    ax.set_xticks(np.arange(len(levels)) + 0.4 - width / 2, list(levels))
    ax.axhline(0.02, color="k", lw=0.8, ls="--", label="target 0.02 (restarts, settings)")
    ax.axhline(0.05, color="k", lw=0.8, ls=":", label="target 0.05 (methods)")
    ax.set_ylabel("mean regret (ACC)")
    ax.set_title(f"Label-free selection: regret of each criterion ({profile} schedules)")
    ax.legend(fontsize=7, ncols=2, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"\nfigure written to {out}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=HERE.parent.parent / "shared" / "datasets"
    )
    parser.add_argument("--datasets", nargs="+", default=["MSRC-v1", "BBCSport", "Prokaryotic"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=None, help="cap on each stage (quick)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument(
        "--profile",
        choices=["quick", "default"],
        default="quick",
        help="the candidates' schedules: the short 'quick' ones, or each estimator's defaults",
    )
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--brief", action="store_true", help="with --report: the means only")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument(
        "--level",
        choices=["restarts-and-methods", "settings"],
        default="restarts-and-methods",
        help="which candidates to fit: 5 restarts of each method and k-means, or a grid of "
        "learning rates",
    )
    args = parser.parse_args(argv)
    if args.report:
        return report(args.results, args.profile, args.brief)
    if args.threads:
        torch.set_num_threads(args.threads)
    level = None if args.level == "restarts-and-methods" else args.level
    done = set()
    if args.results.exists():
        for line in args.results.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                profile = row.get("profile", "quick")
                done.add((row["dataset"], row.get("level"), profile, _ran(row)))
    methods = tuple(sorted(args.methods))
    for name in args.datasets:
        if (name, level, args.profile, methods) in done:
            continue
        start = time.perf_counter()
        if level == "settings":
            row = run_settings(name, args.data_dir, args.epochs, args.methods, args.profile)
        else:
            row = run_set(name, args.data_dir, args.seeds, args.epochs, args.methods, args.profile)
        row["seconds"] = time.perf_counter() - start
        row.update(commit=code_version(), threads=torch.get_num_threads())
        with args.results.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{name}: done in {row['seconds']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
