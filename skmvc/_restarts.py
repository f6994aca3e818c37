"""Restarts (``n_init``): each trained on its own seed, in parallel through joblib, and the
label-free choice among them (``selection``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from joblib import Parallel, delayed
from skorch.history import History

from ._data import ViewData
from ._engine import DIVERGENCE_HINT, Trainer, apply_module, mean_objective
from ._labels import (
    collapse_message,
    complete_rows,
    embedding_centers,
    pattern_assignments,
    pattern_centers,
)
from .exceptions import DivergenceError
from .metrics import agreement_scores, pooled_silhouette_scores
from .multiview import view_shape

__all__ = ["fit_restarts"]


@dataclass
class _Run:
    """The outcome of one restart: a trained network, or the error that ended it."""

    module: torch.nn.Module | None
    history: History | None
    loss: float
    extras: dict
    labels: np.ndarray | None = None
    collapse: str | None = None
    error: DivergenceError | None = None
    embedding: np.ndarray | None = None


class _SharedViews:
    """The validated views, in one object that joblib's Dask backend can scatter: it sends
    an argument once per call (not once per task) only when the argument can be weakly
    referenced, which a plain list cannot."""

    def __init__(self, views: list, observed=None) -> None:
        self.views = views
        self.observed = observed

    def __sizeof__(self) -> int:
        # Dask decides what to scatter by size (sys.getsizeof): count the arrays' bytes.
        total = object.__sizeof__(self)
        for view in self.views:
            data = [view.data, view.indices, view.indptr] if sp.issparse(view) else [view]
            total += sum(int(getattr(a, "nbytes", 0)) for a in data)
        return total


def assign_labels(estimator, module, data: ViewData, seed: int, extras: dict):
    """The labels of a trained module on ``data`` and why they collapsed (or None), by the
    method's rule: its head, or k-means on the embedding where it assigns so or where the
    head collapsed; samples missing views by their pattern's centres. The centres found
    go into ``extras`` (``cluster_centers_``, ``view_patterns_``, ``pattern_centers_``)."""
    if estimator._assigns_by_kmeans(data):
        extras["cluster_centers_"] = embedding_centers(estimator, module, data, seed)
    centers = extras.get("cluster_centers_")
    complete = complete_rows(data, estimator.n_clusters)  # None: take every sample
    labels = estimator._module_labels(module, data, centers, rows=complete)
    collapse = collapse_message(labels, estimator.n_clusters)
    if collapse is not None and centers is None and estimator._kmeans_if_collapsed():
        centers = embedding_centers(estimator, module, data, seed)  # complete samples
        extras["cluster_centers_"] = centers
        labels = estimator._module_labels(module, data, centers, rows=complete)
        collapse = collapse_message(labels, estimator.n_clusters)
    if complete is not None:  # the others: by their pattern's centres, not the rule
        of_complete, labels = labels, np.empty(len(data), dtype=np.int64)
        labels[complete] = of_complete
        found = pattern_centers(estimator, module, data, labels, seed)
        extras["view_patterns_"], extras["pattern_centers_"] = found
        rows, proba, _ = pattern_assignments(estimator, module, data, *found)
        labels[rows] = proba.argmax(axis=1)  # every pattern of the fit has its centres
        collapse = collapse_message(labels, estimator.n_clusters)
    return labels, collapse


def _fit_one(
    estimator, shared: _SharedViews, seed: int, device: torch.device, num_threads: int
) -> _Run:
    """Build, train and summarise one restart (a module-level function, so joblib can ship
    it to worker processes).

    ``num_threads`` is the caller's number of torch threads: a worker process (where joblib
    lowers the thread count) uses the same number, so float rounding — and hence the
    labels — do not depend on ``n_jobs``. A restart that diverges returns its error instead
    of raising, so that the caller can keep the other restarts.
    """
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    views = shared.views
    generator = torch.Generator().manual_seed(seed)
    shapes = [view_shape(v) for v in views]
    module = estimator._build_module(shapes, generator).to(device)
    data = ViewData(views, device, estimator.views_on_device, observed=shared.observed)
    trainer = Trainer(
        module,
        batch_size=estimator._batch_size(data),
        device=device,
        generator=generator,
        verbose=estimator.verbose,
        name=type(estimator).__name__,
        tol=estimator.tol,
        n_iter_no_change=estimator.n_iter_no_change,
        extra_callbacks=estimator.callbacks or (),
    )
    try:
        for stage in estimator._stages(module, data, seed):
            trainer.run_stage(stage, data)
        module.eval()
        extras = estimator._fitted_extras(module, data, seed)  # may fix eval-mode state first
        loss = mean_objective(estimator._objective, module, data, estimator._batch_size(data))
        if not np.isfinite(loss):
            raise DivergenceError(
                f"{type(estimator).__name__} ended with a non-finite training loss "
                f"({loss}). {DIVERGENCE_HINT}"
            )
        labels, collapse = assign_labels(estimator, module, data, seed, extras)
        embedding = None
        if estimator.selection == "silhouette" and estimator.n_init > 1:
            embedding = apply_module(
                estimator._embedding, module, data, estimator._batch_size(data)
            )
    except DivergenceError as exc:
        return _Run(None, None, float("nan"), {}, error=exc)
    return _Run(
        module,
        trainer.history,
        loss,
        extras,
        labels=labels,
        collapse=collapse,
        embedding=embedding,
    )


def selection_scores(selection: str, runs) -> np.ndarray:
    """Each successful restart's score under ``selection`` (higher is better)."""
    if selection == "loss" or len(runs) < 2:
        return np.array([-run.loss for run in runs])
    labels = [run.labels for run in runs]
    if selection == "agreement":
        return agreement_scores(labels)
    return pooled_silhouette_scores(labels, [run.embedding for run in runs])


def fit_restarts(estimator, views, observed, seeds, device: torch.device):
    """Train one restart of ``estimator`` per seed (``estimator.n_jobs`` in parallel) and
    choose among them: restarts that did not collapse first, then the best by
    ``estimator.selection``, then the lowest loss.

    Returns ``(best, runs, scores, failed)``: the kept :class:`_Run`, every restart's run,
    their selection scores (NaN for a diverged one) and the errors of those that diverged.
    Raises the :class:`~skmvc.exceptions.DivergenceError` when every restart diverged.
    """
    n_jobs = estimator.n_jobs if len(seeds) > 1 else None
    shared = _SharedViews(views, observed)
    runs = Parallel(n_jobs=n_jobs)(
        delayed(_fit_one)(estimator, shared, int(seed), device, torch.get_num_threads())
        for seed in seeds
    )
    failed = [run.error for run in runs if run.error is not None]
    ok = [i for i, run in enumerate(runs) if run.error is None]
    if not ok:
        if len(runs) == 1:
            raise failed[0]
        raise DivergenceError(
            f"Every one of the {len(runs)} restarts of {type(estimator).__name__} diverged; "
            f"the first: {failed[0]}"
        ) from failed[0]
    scores = np.full(len(runs), np.nan)
    scores[ok] = selection_scores(estimator.selection, [runs[i] for i in ok])
    healthy = [i for i in ok if runs[i].collapse is None] or ok
    best = runs[max(healthy, key=lambda i: (scores[i], -runs[i].loss))]
    return best, runs, scores, failed
