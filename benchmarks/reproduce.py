"""Fit a method on a benchmark data set with a named schedule and print the metrics.

    python benchmarks/reproduce.py --method cmmc --dataset BDGP --profile paper --seeds 1
    python benchmarks/reproduce.py --method conan --dataset MNIST-USPS --profile quick
    python benchmarks/reproduce.py --method crrc --dataset MNIST-USPS --profile paper \
        --set view_contrast_weight=0

The single-pair form of ``skmvc benchmark`` (same schedules, same data handling, see
``skmvc/_benchmark.py``), printing every seed. ``--data-dir`` defaults to
``../shared/datasets``. uint8 image views are divided by 255; Edge-MNIST's views go to CONAN
and EAMC as 1×28×28 images; ``--n-samples`` keeps a random subset (seed 0). Labels only
score the result. Each seed is one fit with ``random_state=seed``; the summary is the mean
and standard deviation over seeds (no selection by accuracy). ``--set NAME=VALUE`` (any
number of times) sets one more estimator parameter; VALUE is read as a Python literal.
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
from pathlib import Path

import numpy as np
import torch

from skmvc._benchmark import IMAGE_SETS, METHODS, load_dataset, method_params, run_one


def parameter(text: str) -> tuple[str, object]:
    """``"name=value"`` → ``("name", value)`` with value read as a Python literal."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(
            f"the value of {name} is not a Python literal: {value!r}"
        ) from None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=sorted(METHODS), required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--profile", choices=["quick", "paper"], default="quick")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--n-samples", type=int, default=None, help="random subset size")
    parser.add_argument("--max-epochs", type=int, default=None, help="override max_epochs")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("-o", "--output", type=Path, help="write the runs as JSON")
    parser.add_argument(
        "--set",
        type=parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one more estimator parameter (VALUE: a Python literal)",
    )
    args = parser.parse_args(argv)

    images = args.dataset in IMAGE_SETS and args.method in ("conan", "eamc")
    views, y = load_dataset(args.dataset, args.data_dir, images=images, n_samples=args.n_samples)
    params = method_params(args.method, args.dataset, args.profile)
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    params.update(args.set)
    runs = []
    for seed in range(args.seeds):
        run = run_one(args.method, views, y, params, seed, args.device)
        runs.append(run)
        print(
            f"seed {seed}: ACC {run['accuracy']:.4f} NMI {run['nmi']:.4f} "
            f"PUR {run['purity']:.4f} ARI {run['ari']:.4f} ({run['seconds']:.0f} s, "
            f"peak {run['peak_rss_mb']:.0f} MB)",
            flush=True,
        )
    print(
        f"{args.method} on {args.dataset} (n={len(y)}), profile {args.profile} {params}, "
        f"{args.seeds} seed(s), device {runs[0]['device']}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {platform.machine()}:"
    )
    for key in ("accuracy", "nmi", "purity", "ari", "seconds"):
        vals = np.array([r[key] for r in runs])
        print(f"  {key:9s} {vals.mean():.4f} ± {vals.std():.4f}")
    if args.output:
        args.output.write_text(json.dumps({"params": params, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
