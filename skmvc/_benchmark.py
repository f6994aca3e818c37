"""Benchmark runs: named schedules per method, data set loading, timing and peak memory.

Used by ``skmvc benchmark`` and the scripts in ``benchmarks/``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import issparse
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, Normalizer

from . import cmmc, conan, crrc, eamc, rav  # noqa: F401  (each method registers itself)
from ._data import resolve_device
from .base import registered_methods
from .datasets import load_handwritten, load_npz, make_multiview_blobs
from .metrics import clustering_report
from .preprocessing import ViewConcatenator, ViewScaler, ViewTransformer

__all__ = [
    "BASELINE",
    "DATASETS",
    "prepared_views",
    "METHODS",
    "PROFILES",
    "code_version",
    "machine_description",
    "kmeans_baseline",
    "load_dataset",
    "method_params",
    "run_one",
    "stage_summary",
    "read_rows",
    "append_row",
    "peak_memory",
]

#: Every method, by its short name (the one registry, :func:`skmvc.base.registered_methods`).
METHODS = registered_methods()

#: The name of the k-means baseline in benchmarks (:func:`kmeans_baseline`).
BASELINE = "kmeans"

#: Schedules by method: each class's "paper" (the paper's, ``specs/``; early stopping off,
#: as in the papers) and "quick" (a 2-core CPU in minutes; early stopping as by default).
PROFILES = {name: cls._schedules for name, cls in METHODS.items()}

#: Contrastive epochs E_c per data set in CMMC's paper.
PAPER_EPOCHS = {("cmmc", "BDGP"): 10, ("cmmc", "MNIST-USPS"): 50, ("cmmc", "Fashion-MV"): 100}

#: Data sets whose 784-d views are images: reshaped to (1, 28, 28) for the CNN encoders of
#: CONAN and EAMC, as in their papers.
IMAGE_SETS = {"Edge-MNIST", "Edge-FashionMNIST"}

#: Methods whose defaults encode an image view with a CNN, and so are given the views of
#: ``IMAGE_SETS`` as images (CMMC and RAV flatten them for their MLP autoencoders).
IMAGE_METHODS = {name for name, cls in METHODS.items() if cls._takes_images}


#: Benchmarks cluster at most this many samples of a set (a seeded subset beyond it).
MAX_SAMPLES = 10_000
#: The development sets, smallest first (so that a partial run covers many sets).
DATASETS = [
    "MSRC-v1",
    "COIL20-3V",
    "BBCSport",
    "Prokaryotic",
    "ProteinFold",
    "WebKB",
    "Reuters-1200",
    "100Leaves",
    "Handwritten",
    "BDGP",
    "Scene-15",
    "MNIST-USPS",
    "Fashion-MV",
    "Edge-MNIST",
    "Edge-FashionMNIST",
]


def method_params(method: str, dataset: str, profile: str) -> dict:
    """The schedule of ``method`` on ``dataset`` for ``profile`` ("quick" or "paper")."""
    params = dict(PROFILES[method][profile])
    if profile == "paper":
        params["n_iter_no_change"] = None  # the papers run every epoch of their schedules
        params["selection"] = "loss"  # the lowest-loss restart, as CONAN's paper keeps
        if (method, dataset) in PAPER_EPOCHS:
            params["max_epochs"] = PAPER_EPOCHS[(method, dataset)]
    return params


def load_dataset(name: str, data_dir=None, *, images: bool = False, n_samples=None, seed=0):
    """Views and labels of a named benchmark set.

    ``handwritten`` is the bundled set (min-max scaled per view), ``blobs`` a synthetic set
    from :func:`~skmvc.datasets.make_multiview_blobs`; any other name is
    ``<data_dir>/<name>.npz``. uint8 views are divided by 255 (pixels), others are used as
    stored. ``n_samples`` keeps a random
    subset (drawn with ``seed``).
    """
    if name.lower() == "handwritten":
        views, y = load_handwritten(return_X_y=True)
        views = ViewTransformer(MinMaxScaler()).fit_transform(views)
    elif name.lower() == "blobs":
        views, y = make_multiview_blobs(
            n_samples or 300, 3, view_features=(8, 6), noise=[0.5, 1.0], random_state=seed
        )
    else:
        if data_dir is None:
            raise ValueError(f"Data set {name!r} needs a data directory (--data-dir).")
        path = Path(data_dir) / f"{name}.npz"
        if not path.exists():
            raise ValueError(f"No data set {name!r}: {path} does not exist.")
        data = load_npz(path)
        views = [v.astype(np.float32) / 255.0 if v.dtype == np.uint8 else v for v in data.views]
        y = data.target
    if images:
        views = [
            v.reshape(-1, 1, 28, 28) if v.ndim == 2 and v.shape[1] == 784 else v for v in views
        ]
    if n_samples and n_samples < len(y):
        idx = np.random.RandomState(seed).permutation(len(y))[:n_samples]
        views, y = [v[idx] for v in views], y[idx]
    return views, y


def scaler_named(name: str) -> ViewScaler:
    """The :class:`~skmvc.preprocessing.ViewScaler` a benchmark names by a ``kind``, with
    ``"-rms"`` appended for ``row_norm="rms"`` (``"minmax"``, ``"auto"``, ``"auto-rms"``)."""
    rms = name.endswith("-rms")
    return ViewScaler(name.removesuffix("-rms"), row_norm="rms" if rms else "l2")


def prepared_views(name: str, data_dir: Path, images: bool, rows: str = "none"):
    """The set's views as a user following the user guide would prepare them.

    ``rows`` names the preparation: ``"none"`` (min-max per view, the suite's), ``"l2"``
    (min-max, then each row scaled to unit Euclidean norm), or any ``kind`` of
    :class:`~skmvc.preprocessing.ViewScaler` (``"auto"``, ``"unit"``, ``"tfidf"``, ...),
    with ``"-rms"`` appended for its ``row_norm="rms"`` (``"auto-rms"``).
    """
    views, y = load_dataset(name, data_dir, n_samples=MAX_SAMPLES, seed=0)
    views = [np.asarray(v, dtype=np.float32) for v in views]
    if rows in ("none", "l2"):
        scaler = MinMaxScaler() if rows == "none" else make_pipeline(MinMaxScaler(), Normalizer())
        views = ViewTransformer(scaler).fit_transform(views)
    else:
        views = [
            np.asarray(v.toarray() if issparse(v) else v, dtype=np.float32)
            for v in scaler_named(rows).fit_transform(views)
        ]
    if images and name in IMAGE_SETS:
        views = [v.reshape(-1, 1, 28, 28) if v.shape[1] == 784 else v for v in views]
    return views, y


def code_version() -> str | None:
    """The commit of the git checkout this package runs from, with ``+dirty`` when the
    package's files differ from it, so that a benchmark row records the code that produced
    it (None outside a git checkout, e.g. an installed wheel)."""
    root = Path(__file__).resolve().parents[1]

    def git(*cmd):
        return subprocess.run(
            ["git", *cmd], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        dirty = git("status", "--porcelain", "--", "skmvc")
        return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine_description() -> str:
    """The machine a benchmark row was measured on: architecture, CPU model (where
    ``/proc/cpuinfo`` names it), cores and torch build. Training is chaotic enough that the
    same seed and commit can give another result on another CPU, so a row records it."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    name = f"{platform.machine()} {cpu}".strip()
    return f"{name}, {os.cpu_count()} cores, torch {torch.__version__}"


def read_rows(path) -> list[dict]:
    """The rows of a JSON-lines results file (none when it does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_row(path, row: dict) -> None:
    """Append one result to a JSON-lines file at once (benchmarks resume from it)."""
    with Path(path).open("a") as f:
        f.write(json.dumps(row) + "\n")


def _reset_peak_rss() -> bool:
    try:  # Linux: writing 5 resets the process's peak resident set size (VmHWM)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class peak_memory:
    """Context manager measuring the peak memory of a block: the process's peak resident
    set (CPU; reset at entry where Linux allows it) and, on CUDA, the peak allocated by
    torch."""

    device: torch.device
    result: dict = field(default_factory=dict)

    def __enter__(self):
        self._reset = _reset_peak_rss()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def __exit__(self, *exc):
        self.result["peak_rss_mb"] = _peak_rss_mb()
        self.result["rss_reset"] = self._reset
        if self.device.type == "cuda":
            self.result["peak_cuda_mb"] = torch.cuda.max_memory_allocated(self.device) / 2**20
        return False


def kmeans_baseline(n_clusters: int, seed: int):
    """The baseline every method must beat: k-means (10 initialisations) on the
    concatenated views, as a pipeline that takes the views."""
    return make_pipeline(ViewConcatenator(), KMeans(n_clusters, n_init=10, random_state=seed))


#: A stage has "settled" at the first epoch that has made this share of the stage's loss
#: decrease (from its highest epoch loss to its lowest).
SETTLED_SHARE = 0.99


def settled_epoch(losses) -> int:
    """The first epoch (1-based) whose loss lies within ``1 - SETTLED_SHARE`` of the stage's
    range of epoch losses above its lowest: where the stage stopped improving. Epochs after it
    bought at most 1 % of the stage's decrease.

    >>> settled_epoch([4.0, 2.0, 1.5, 1.01, 1.0, 1.0])
    4
    >>> settled_epoch([1.0, 2.0, 1.5])  # rising: the first epoch was already the lowest
    1
    """
    losses = np.asarray(losses, dtype=float)
    losses = losses[np.isfinite(losses)]
    if not len(losses):
        return 0
    low, high = losses.min(), losses.max()
    return int(np.argmax(losses - low <= (1 - SETTLED_SHARE) * (high - low))) + 1


def stage_summary(history) -> list[dict]:
    """Where a fit's time went, stage by stage, from its ``history_``: the stage's name,
    epochs run, optimiser steps (batches), seconds of training, why it stopped, the epoch at
    which its loss had settled (:func:`settled_epoch`) and its epoch losses."""
    stages: dict = {}
    for row in history:
        s = stages.setdefault(
            row.get("stage"),
            {"stage": row.get("stage"), "epochs": 0, "steps": 0, "seconds": 0.0, "losses": []},
        )
        s["epochs"] += 1
        s["steps"] += int(row.get("train_batch_count", 0))
        s["seconds"] += float(row.get("dur", 0.0))
        s["losses"].append(float(f"{float(row.get('loss', np.nan)):.5g}"))
        if "stopped" in row:
            s["stopped"] = row["stopped"]
    return [
        dict(s, seconds=round(s["seconds"], 2), settled=settled_epoch(s["losses"]))
        for s in stages.values()
    ]


def run_one(method: str, views, y, params: dict, seed: int, device="auto", verbose=0) -> dict:
    """Fit one model and return its metrics, time and peak memory (labels only score).

    ``method`` is a key of :data:`METHODS`, or ``"kmeans"`` for :func:`kmeans_baseline`.
    """
    n_clusters = len(np.unique(y))
    if method == BASELINE:
        est = kmeans_baseline(n_clusters, seed)
        with peak_memory(torch.device("cpu")) as mem:
            start = time.perf_counter()
            labels = est.fit_predict([v.reshape(len(v), -1) for v in views])
            seconds = time.perf_counter() - start
        extra = {"loss": float(est[-1].inertia_), "epochs": 0, "device": "cpu"}
    else:
        est = METHODS[method](
            n_clusters, random_state=seed, device=device, verbose=verbose, **params
        )
        with peak_memory(resolve_device(device)) as mem:
            start = time.perf_counter()
            est.fit(views)
            if est.device_.type == "cuda":
                torch.cuda.synchronize(est.device_)
            seconds = time.perf_counter() - start
        labels = est.labels_
        extra = {
            "loss": float(est.loss_),
            "epochs": int(est.n_iter_),
            "device": str(est.device_),
        }
        extra["stages"] = stage_summary(est.history_)
        kept = [row["kept_epoch"] for row in est.history_ if "kept_epoch" in row]
        if kept:  # stages that chose their epoch by a label-free monitor
            extra["kept_epochs"] = kept
        if hasattr(est, "view_weights_"):  # EAMC (V,), RAV (V, V)
            extra["view_weights"] = np.round(np.asarray(est.view_weights_), 4).tolist()
    return {
        "seed": seed,
        "seconds": seconds,
        **extra,
        **mem.result,
        **clustering_report(y, labels),
    }
