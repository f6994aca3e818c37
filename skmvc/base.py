"""The shared estimator base of every skmvc method.

:class:`BaseMultiViewClustering` holds everything the five methods share: parameters and
their validation, the input model, restarts (``n_init``) in parallel through joblib, the
device, fit/predict/transform/score plumbing and persistence. A method declares only its
network (``_build_module``), its training stages (``_stages``), its objective
(``_objective``) and how it predicts and embeds; the engine (:mod:`skmvc._engine`) runs the
stages.
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import os
import warnings
from dataclasses import dataclass
from functools import partial
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data
from skorch.history import History

from ._engine import (
    DIVERGENCE_HINT,
    OptimizerSpec,
    Stage,
    Step,
    Trainer,
    ViewData,
    all_finite,
    resolve_device,
)
from .exceptions import (
    CollapseWarning,
    DivergenceError,
    ModelFileError,
    RestartFailedWarning,
    ScaleWarning,
    SparseViewWarning,
)
from .metrics import agreement_scores, kmeans_stability, pooled_silhouette_scores
from .multiview import (
    _LIST_HINT,
    MultiView,
    check_not_complex,
    check_not_list_of_1d,
    check_views,
    describe_views,
    is_list_of_views,
    n_view_features,
    split_view_columns,
    view_shape,
)
from .nn import init_weights
from .nn.heads import student_t_assignments

__all__ = [
    "AutoEpochs",
    "BaseMultiViewClustering",
    "OptimizerSpec",
    "Stage",
    "Step",
    "resolve_batch_size",
    "resolve_epochs",
]

#: ``epoch_selection="stability"`` reads a stage every this many epochs, ...
STABILITY_EVERY = 5
#: ... on at most this many training samples, with this many k-means runs, ...
STABILITY_SAMPLES = 2000
STABILITY_RUNS = 4
#: ... and keeps the last epoch unless its reading is more than this below the best.
STABILITY_TOLERANCE = 0.1
#: ... and the stage is read before its first epoch too (it may end with the weights it
#: began with).
STABILITY_FROM_START = True


_ESTIMATORS: dict[str, type] = {}
_FORMAT = "skmvc-model"
_FORMAT_VERSION = 2
#: A partition with one cluster holding at least this share of the samples has collapsed.
COLLAPSE_SHARE = 0.95
#: ``batch_size="auto"``: batches of ``AUTO_BATCH_SIZE`` samples, or of
#: ``AUTO_SMALL_BATCH_SIZE`` when the data hold fewer than ``AUTO_MIN_BATCHES`` batches of
#: ``AUTO_BATCH_SIZE`` (fewer than 1 024 samples), so that a small set still gets several
#: optimiser steps an epoch, or (for the estimators that ask for it, CRRC) fewer than
#: ``AUTO_MIN_CLUSTER_SAMPLES`` samples a cluster, a fine partition such as 100Leaves' 16 a
#: cluster (docs/benchmarks.md, "Batches on small sets").
AUTO_BATCH_SIZE = 256
AUTO_SMALL_BATCH_SIZE = 64
AUTO_MIN_BATCHES = 4
AUTO_MIN_CLUSTER_SAMPLES = 32


class AutoEpochs(NamedTuple):
    """The ``"auto"`` rule of one training stage: the paper's ``full`` epochs on a small set;
    on a larger one, fewer, so that the stage passes at most ``budget`` samples through the
    network, but never fewer than ``least`` (:func:`resolve_epochs`)."""

    full: int
    budget: int
    least: int


#: ``"auto"`` epochs of the autoencoder methods (CRRC's; CMMC and RAV, whose epochs cost
#: more, have smaller budgets): every set of up to 1 600 samples gets the paper's 200
#: pre-training + 50 training epochs and every set of 5 000 samples or more 64 + 20, which
#: bounds the time of a fit of 5 000 samples (docs/benchmarks.md, "Schedules on large sets").
AUTO_PRETRAIN = AutoEpochs(200, 320_000, 64)
AUTO_TRAIN = AutoEpochs(50, 100_000, 20)


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


def collapse_message(labels: np.ndarray, n_clusters: int) -> str | None:
    """What is wrong with a partition that has empty clusters or one cluster holding nearly
    every sample (at least ``COLLAPSE_SHARE`` of them), or ``None`` for a healthy one."""
    if n_clusters < 2 or len(labels) == 0:
        return None
    counts = np.bincount(labels, minlength=n_clusters)
    empty = int(np.sum(counts == 0))
    share = counts.max() / counts.sum()
    if share >= COLLAPSE_SHARE:
        return f"one cluster holds {share:.0%} of the {counts.sum()} samples" + (
            f" and {empty} of {n_clusters} clusters are empty" if empty else ""
        )
    if empty:
        return f"{empty} of {n_clusters} clusters are empty"
    return None


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


#: Fitted attributes every method has (``load`` sets no others, besides a class's extras).
_COMMON_FITTED = frozenset(
    {
        "labels_",
        "n_views_",
        "n_features_in_",
        "n_features_per_view_",
        "feature_names_in_",
        "view_shapes_",
        "loss_",
        "init_losses_",
        "init_collapsed_",
        "selection_scores_",
        "n_iter_",
        "device_",
        "view_patterns_",
        "pattern_centers_",
    }
)


#: k-means initialisations wherever a method runs k-means on its embedding.
KMEANS_N_INIT = 10
#: k-means on an embedding fits its centres on at most this many samples (a seeded
#: subsample beyond it), so that its time and memory stay bounded whatever n; every sample
#: is then assigned to its nearest centre, a batch at a time.
KMEANS_MAX_SAMPLES = 100_000


#: When some samples miss views, centres are fitted on the complete samples alone if there
#: are at least this many per cluster (else on every sample): a sample's embedding from
#: fewer views lies elsewhere, and k-means would spend clusters on those.
MIN_COMPLETE_PER_CLUSTER = 5
#: Pattern centres (:func:`pattern_centers`) are averaged over at most
#: ``max(PATTERN_MAX_SAMPLES, PATTERN_SAMPLES_PER_CLUSTER * n_clusters)`` complete samples
#: (the same for every pattern): each pattern embeds them once more, and with V views there
#: may be up to 2**V - 2 patterns.
PATTERN_MAX_SAMPLES = 1_000
PATTERN_SAMPLES_PER_CLUSTER = 20


def complete_rows(data: ViewData, n_clusters: int):
    """Indices of the samples that have every view, when some samples miss views and at
    least ``MIN_COMPLETE_PER_CLUSTER * n_clusters`` have them all; else None."""
    if data.observed is None:
        return None
    complete = data.observed.all(dim=1).cpu().numpy()
    if complete.all() or complete.sum() < MIN_COMPLETE_PER_CLUSTER * n_clusters:
        return None
    return np.flatnonzero(complete)


def _subsample(rows: np.ndarray, size: int, seed: int) -> np.ndarray:
    if len(rows) <= size:
        return rows
    return np.sort(np.random.RandomState(seed).choice(rows, size, replace=False))


def training_embedding(estimator, module, data: ViewData, seed: int, max_samples: int):
    """``estimator``'s embedding under ``module`` of at most ``max_samples`` samples of
    ``data`` (a seeded subsample beyond it): the complete ones when some samples miss views
    (:func:`complete_rows`), else any. What the fit reads its embedding from, e.g. to fit
    centres or to monitor a stage."""
    rows = complete_rows(data, estimator.n_clusters)
    if rows is not None or len(data) > max_samples:
        rows = _subsample(np.arange(len(data)) if rows is None else rows, max_samples, seed)
    return apply_module(
        estimator._embedding, module, data, estimator._batch_size(data), order=rows
    )


def embedding_centers(estimator, module, data: ViewData, seed: int, *, l2_normalise=False):
    """k-means centres (:func:`kmeans_centers`) of ``estimator``'s embedding of ``data``
    under ``module``, fitted on at most ``KMEANS_MAX_SAMPLES`` samples
    (:func:`training_embedding`)."""
    z = training_embedding(estimator, module, data, seed, KMEANS_MAX_SAMPLES)
    return kmeans_centers(z, estimator.n_clusters, seed, l2_normalise=l2_normalise)


def _pattern_keys(observed: np.ndarray) -> list:
    """One key per row of a bool mask, to match patterns of missing views."""
    return [row.tobytes() for row in np.ascontiguousarray(observed, dtype=bool)]


def pattern_centers(estimator, module, data: ViewData, labels: np.ndarray, seed: int):
    """Cluster centres for each pattern of missing views among ``data``'s samples.

    For a pattern (which views a sample has), the complete samples are embedded as if they
    had only those views, and the centre of cluster c is the mean of that embedding over the
    complete samples labelled c. A sample with that pattern is then assigned to its nearest
    centre (:func:`pattern_assignments`): it is compared with complete samples seen through
    the same views, not with their full embedding, which lies elsewhere.

    Returns ``(patterns, centers)``: bool array ``(n_patterns, n_views)`` and float32 array
    ``(n_patterns, n_clusters, n_components)`` (NaN for a cluster with no complete sample);
    None when every sample has every view or too few have (:func:`complete_rows`).
    """
    rows = complete_rows(data, estimator.n_clusters)
    if rows is None:
        return None
    observed = data.observed.cpu().numpy()
    patterns = np.unique(observed[~observed.all(axis=1)], axis=0)
    size = max(PATTERN_MAX_SAMPLES, PATTERN_SAMPLES_PER_CLUSTER * estimator.n_clusters)
    rows = _subsample(rows, size, seed)
    onehot = np.eye(estimator.n_clusters, dtype=np.float64)[labels[rows]]
    counts = onehot.sum(axis=0)[:, None]
    centers = []
    for pattern in patterns:
        seen = data.with_observed(np.broadcast_to(pattern, observed.shape))
        z = apply_module(
            estimator._embedding, module, seen, estimator._batch_size(seen), order=rows
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            centers.append(onehot.T @ z.reshape(len(z), -1).astype(np.float64) / counts)
    return patterns, np.stack(centers).astype(np.float32)


def pattern_assignments(estimator, module, data: ViewData, patterns, centers):
    """Student-t soft assignments (as :meth:`_center_assignments`) of ``data``'s samples
    that miss views to the centres of their pattern (:func:`pattern_centers`).

    Returns ``(rows, proba, unseen)``: the rows assigned, their assignments, and the number
    of samples that miss views in a pattern that has no centres (left to the method's rule).
    """
    empty = np.empty((0, estimator.n_clusters))
    if data.observed is None:
        return np.empty(0, dtype=np.int64), empty, 0
    observed = data.observed.cpu().numpy()
    incomplete = np.flatnonzero(~observed.all(axis=1))
    if patterns is None:
        return np.empty(0, dtype=np.int64), empty, len(incomplete)
    lookup = {key: i for i, key in enumerate(_pattern_keys(patterns))}
    which = np.array([lookup.get(k, -1) for k in _pattern_keys(observed[incomplete])], int)
    rows = incomplete[which >= 0]
    which = which[which >= 0]
    unseen = len(incomplete) - len(rows)
    if not len(rows):
        return rows, empty, unseen
    z = apply_module(estimator._embedding, module, data, estimator._batch_size(data), order=rows)
    z = torch.as_tensor(z.reshape(len(z), -1))
    proba = np.zeros((len(rows), estimator.n_clusters))
    for i in np.unique(which):
        at = np.flatnonzero(which == i)
        filled = np.flatnonzero(~np.isnan(centers[i]).any(axis=1))  # clusters with centres
        q = student_t_assignments(z[at], torch.as_tensor(centers[i][filled]))
        proba[np.ix_(at, filled)] = q.numpy()
    return rows, proba, unseen


def kmeans_centers(
    embedding: np.ndarray, n_clusters: int, seed: int, *, l2_normalise: bool = False
) -> np.ndarray:
    """Centroids (float32) of k-means on the rows of ``embedding``, L2-normalised first if
    asked (``KMEANS_N_INIT`` initialisations, seeded)."""
    x = embedding.astype(np.float64)
    km = KMeans(n_clusters, n_init=KMEANS_N_INIT, random_state=seed)
    km.fit(normalize(x) if l2_normalise else x)
    return km.cluster_centers_.astype(np.float32)


def init_children(module, generator, *, keep=(), scheme="default", gain=1.0):
    """Initialise each child of ``module`` in order from ``generator``
    (:func:`skmvc.nn.init_weights`), except the children named in ``keep`` (e.g. a user's
    pretrained encoders)."""
    for name, part in module.named_children():
        if name not in keep:
            init_weights(part, generator, scheme, gain)
    return module


def resolve_batch_size(batch_size, n_samples: int, n_clusters: int | None = None) -> int:
    """Samples per batch for data of ``n_samples`` samples in ``n_clusters`` clusters:
    ``batch_size`` itself, or what the ``"auto"`` rule gives: :data:`AUTO_SMALL_BATCH_SIZE`
    below ``AUTO_MIN_BATCHES * AUTO_BATCH_SIZE`` samples or below
    ``AUTO_MIN_CLUSTER_SAMPLES`` samples a cluster, else :data:`AUTO_BATCH_SIZE`.

    >>> [resolve_batch_size("auto", n) for n in (500, 1023, 1024, 5000)]
    [64, 64, 256, 256]
    >>> [resolve_batch_size("auto", 1600, k) for k in (10, 50, 51, 100)]
    [256, 256, 64, 64]
    >>> resolve_batch_size(32, 10)
    32
    """
    if batch_size != "auto":
        return int(batch_size)
    if n_samples < AUTO_MIN_BATCHES * AUTO_BATCH_SIZE:
        return AUTO_SMALL_BATCH_SIZE
    if n_clusters is not None and n_samples < AUTO_MIN_CLUSTER_SAMPLES * n_clusters:
        return AUTO_SMALL_BATCH_SIZE
    return AUTO_BATCH_SIZE


def resolve_epochs(epochs, n_samples: int, rule: AutoEpochs) -> int:
    """Epochs of a stage on data of ``n_samples`` samples: ``epochs`` itself, or what the
    ``"auto"`` ``rule`` gives: ``rule.full``, capped so that the stage passes at most
    ``rule.budget`` samples through the network, but at least ``rule.least``.

    >>> sizes = (210, 1600, 2000, 4485, 5000, 10000)
    >>> [resolve_epochs("auto", n, AUTO_PRETRAIN) for n in sizes]
    [200, 200, 160, 72, 64, 64]
    >>> [resolve_epochs("auto", n, AUTO_TRAIN) for n in (2000, 2500, 4485, 5000, 10000)]
    [50, 40, 23, 20, 20]
    >>> [resolve_epochs("auto", n, AutoEpochs(30, 45_000, 9)) for n in (1500, 2500, 5000)]
    [30, 18, 9]
    >>> resolve_epochs(200, 10000, AUTO_PRETRAIN)
    200
    """
    if epochs != "auto":
        return int(epochs)
    return max(rule.least, min(rule.full, -(-rule.budget // n_samples)))


@torch.no_grad()
def apply_module(
    fn, module, data: ViewData, batch_size: int, *, batch_statistics: bool = False, order=None
) -> np.ndarray:
    """``fn(module, batch)`` over the data in sequential batches, in eval mode, as one
    float32 array on the host.

    With ``batch_statistics=True`` the batches go through a throw-away copy of ``module`` in
    train mode, so batch normalisation uses each batch's statistics, as training does (and
    the module's running statistics are left untouched). Use it for what training will
    compare with its own outputs, e.g. centroids initialised before the first epoch. The
    batches follow ``order`` (a permutation of the samples, or of some of them) when given;
    the output rows are in sample order either way (only the samples in ``order``).

    Raises :class:`~skmvc.exceptions.DivergenceError` when the output is not finite (NaN
    weights, or views so large that the network overflows), before anything downstream
    (k-means, an argmax) reads it.
    """
    if batch_statistics:
        module = copy.deepcopy(module).train()
    else:
        module.eval()
    outs = [fn(module, batch).float().cpu() for batch in data.batches(batch_size, order)]
    out = torch.cat(outs)
    if order is not None:
        out = out[torch.as_tensor(np.argsort(order))]
    if not bool(torch.isfinite(out).all()):
        cause = (
            "the network's weights are not finite"
            if not all_finite(module)
            else "the views are too large for the network (values overflow float32)"
        )
        raise DivergenceError(f"The network's output is not finite: {cause}. {DIVERGENCE_HINT}")
    return out.numpy()


@torch.no_grad()
def mean_objective(objective, module, data: ViewData, batch_size: int) -> float:
    """The objective's total averaged over the samples of ``data``, in eval mode.

    Batches follow :meth:`ViewData.canonical_order`, so the value does not depend on the
    order of the rows (contrastive terms depend on what shares a batch).
    """
    if len(data) < 2:
        raise ValueError(f"The loss needs at least 2 samples, got n_samples={len(data)}.")
    module.eval()
    total, count = 0.0, 0
    for batch in data.batches(batch_size, order=data.canonical_order()):
        n = int(batch.index.numel())
        total += float(objective(module, batch)["loss"]) * n
        count += n
    return total / count


class BaseMultiViewClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Base class of the deep multi-view clustering estimators.

    Not to be used directly; see :class:`skmvc.CONANClustering` and the other methods.
    Subclasses define ``__init__`` with their full parameter list and implement
    ``_build_module``, ``_stages``, ``_objective``, ``_soft_assignments`` and
    ``_embedding``.

    Examples
    --------
    >>> from skmvc import BaseMultiViewClustering, CONANClustering
    >>> issubclass(CONANClustering, BaseMultiViewClustering)
    True
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "selection": [StrOptions({"loss", "agreement", "silhouette"})],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "view_sizes": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "views_on_device": [StrOptions({"auto"}), "boolean"],
    }

    #: Method-specific fitted attributes, besides the common ones (what ``load`` may set).
    _extra_fitted_attributes: tuple = ()
    #: The smallest number of views the method accepts.
    _min_views = 1
    #: Whether the method has soft assignments (``predict_proba``).
    _has_proba = True
    #: Whether the method's built-in encoders are known to cluster bag-of-words views
    #: (:func:`sparse_views`) poorly, so that ``fit`` warns with a
    #: :class:`~skmvc.exceptions.SparseViewWarning` (CONAN; EAMC with ``embedding="fused"``).
    _poor_on_sparse_views = False
    #: Whether ``batch_size="auto"`` also takes small batches on a fine partition, fewer
    #: than :data:`AUTO_MIN_CLUSTER_SAMPLES` training samples a cluster (measured for CRRC,
    #: which gains; RAV lost: docs/benchmarks.md, "Batches on small sets").
    _auto_batch_fine_partitions = False
    #: Whether ``assign_labels="auto"`` labels by k-means on the embedding when some
    #: training samples miss views (CONAN, RAV and EAMC, whose heads did worse there; CMMC's
    #: did better: docs/benchmarks.md, "Missing views").
    _auto_kmeans_with_missing_views = True
    #: The :class:`AutoEpochs` rule of each stage-epoch parameter that accepts ``"auto"``.
    _auto_epochs: dict = {}

    #: Parameters whose default changed when they were introduced, with the value that
    #: gives the earlier behaviour: :meth:`load` uses it for a model file that lacks them.
    _params_before_they_existed: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _ESTIMATORS[cls.__name__] = cls

    def _stage_epochs(self, param: str, n_samples: int) -> int:
        """The epochs that the parameter ``param`` gives a stage on ``n_samples`` training
        samples (``"auto"`` resolved by the class's rule for it)."""
        return resolve_epochs(getattr(self, param), n_samples, self._auto_epochs.get(param))

    # ------------------------------------------------------------------ method hooks
    def _build_module(self, view_shapes, generator: torch.Generator) -> torch.nn.Module:
        raise NotImplementedError

    def _resolve_for_data(self, observed) -> None:
        """Set the fitted attributes that a parameter's ``"auto"`` takes from the training
        data, before any network is built (``observed``: the mask of present views, or
        None when every sample has every view). Nothing by default."""

    def _stages(self, module, data: ViewData, seed: int) -> list[Stage]:
        raise NotImplementedError

    def _objective(self, module, batch) -> dict:
        """Named loss terms of a batch, with the total under ``"loss"``."""
        raise NotImplementedError

    def _soft_assignments(self, module, batch) -> torch.Tensor:
        raise NotImplementedError

    def _embedding(self, module, batch) -> torch.Tensor:
        raise NotImplementedError

    def _epoch_selection(self, module, data, seed) -> dict:
        """The stage options of ``epoch_selection``: none for ``"last"``; for
        ``"stability"`` a monitor (:meth:`_stability`) read before the first epoch, every
        ``STABILITY_EVERY`` epochs and at the last, so that the stage keeps its last
        weights unless their reading is more than ``STABILITY_TOLERANCE`` below the best."""
        if self.epoch_selection != "stability":
            return {}
        return {
            "monitor": partial(self._stability, module, data, seed),
            "monitor_every": STABILITY_EVERY,
            "monitor_tolerance": STABILITY_TOLERANCE,
            "monitor_start": STABILITY_FROM_START,
        }

    def _stability(self, module, data, seed):
        """:func:`~skmvc.metrics.kmeans_stability` of the L2-normalised embedding of at
        most ``STABILITY_SAMPLES`` training samples (complete ones when some miss views)."""
        h = training_embedding(self, module, data, seed, STABILITY_SAMPLES)
        return kmeans_stability(
            normalize(h.astype(np.float64)),
            self.n_clusters,
            n_runs=STABILITY_RUNS,
            sample_size=None,
            random_state=seed % (2**31 - STABILITY_RUNS),
        )

    def _fitted_extras(self, module, data: ViewData, seed: int) -> dict:
        """Method-specific fitted attributes (name ending in ``_`` -> numpy array), computed
        after training with the network in eval mode; ``seed`` is the restart's seed."""
        return {}

    def _layer_widths(self, name: str = "encoder_layers") -> list[int]:
        """The parameter ``name`` as a list of positive layer widths, or a clear error."""
        value = getattr(self, name)
        try:
            widths = [int(w) for w in value]
        except (TypeError, ValueError):
            widths = []
        if not widths or min(widths) < 1 or any(w != v for w, v in zip(widths, value)):
            raise ValueError(
                f"{name} must be a non-empty list of positive integer widths, got {value!r}."
            )
        return widths

    # ------------------------------------------------------------------ input
    def _validate_views(self, X, *, reset: bool) -> tuple:
        """The one entry point from user input to validated views, at fit and predict:
        ``(views, observed)``, ``observed`` the mask of present views or None
        (:func:`skmvc.multiview.check_views`)."""
        name = type(self).__name__
        shape = getattr(X, "shape", None)
        list_form = isinstance(X, MultiView) or is_list_of_views(X)
        if (
            not list_form
            and isinstance(X, (list, tuple))
            and any(getattr(e, "shape", None) is not None and len(e.shape) >= 2 for e in X)
        ):
            check_views(X)  # a list mixing views and non-views: its error names them
        if list_form or (shape is not None and not isinstance(X, list) and len(shape) in (3, 4)):
            if list_form and self.view_sizes is not None:
                raise ValueError(
                    f"view_sizes={self.view_sizes!r} only applies to a single 2-D array, but X "
                    "is a list of views or a MultiView. Set view_sizes=None."
                )
            views, observed = check_views(X, return_observed=True)
            if reset:
                self.n_features_in_ = sum(n_view_features(view_shape(v)) for v in views)
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        else:
            check_not_list_of_1d(X)
            check_not_complex(X, "X")
            try:
                arr = validate_data(
                    self,
                    X,
                    accept_sparse="csr",
                    dtype=np.float32,
                    ensure_all_finite=False,
                    reset=reset,
                )
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{exc}{_LIST_HINT if isinstance(X, list) else ''}") from exc
            views, observed = check_views(
                split_view_columns(arr, self.view_sizes), return_observed=True
            )

        if reset:
            never = [] if observed is None else np.flatnonzero(~observed.any(axis=0))
            if len(never):
                raise ValueError(
                    f"View {never[0]} is missing for every sample: {name} cannot learn from "
                    "it. Drop that view."
                )
            if len(views) < self._min_views:
                raise ValueError(
                    f"{name} needs at least {self._min_views} views, got {len(views)}. Pass a "
                    "list of views or a MultiView, or split a 2-D array with view_sizes."
                )
            self.n_views_ = len(views)
            self.view_shapes_ = tuple(view_shape(v) for v in views)
            self.n_features_per_view_ = tuple(n_view_features(s) for s in self.view_shapes_)
        else:
            if len(views) != self.n_views_:
                raise ValueError(
                    f"X has {len(views)} views, but {name} was fitted with {self.n_views_} views."
                )
            for v, (view, fitted) in enumerate(zip(views, self.view_shapes_)):
                if view_shape(view) != fitted:
                    raise ValueError(
                        f"View {v} has samples of shape {view_shape(view)}, but {name} was "
                        f"fitted with samples of shape {fitted} in that view."
                    )
        return views, observed

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model on the views of X.

        The fit is atomic: if it raises — bad input, a diverged training
        (:class:`~skmvc.exceptions.DivergenceError`) or ``KeyboardInterrupt`` (Ctrl-C) — the
        estimator is left exactly as it was before the call (unfitted, or with its previous
        model intact).

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
            The views (see :func:`skmvc.multiview.check_views` for the accepted forms).
        y : None or array-like of shape (n_samples,)
            Not used for fitting; accepted so that pipelines and searches can pass labels for
            scoring. Its length must match X.

        Returns
        -------
        self : object
            The fitted estimator.

        Warns
        -----
        skmvc.exceptions.CollapseWarning
            When the kept fit has empty clusters or one cluster with nearly every sample.
        skmvc.exceptions.RestartFailedWarning
            When some of the ``n_init`` restarts diverged and were dropped.
        skmvc.exceptions.ScaleWarning
            When a view looks unscaled (values far from unit scale, or raw counts).
        skmvc.exceptions.SparseViewWarning
            CONAN and EAMC (with their built-in encoders): when a view looks like
            bag-of-words, on which they are known to cluster poorly.
        """
        before = dict(self.__dict__)
        try:
            collapse, failed = self._fit(X, y)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        name = type(self).__name__
        if failed:
            warnings.warn(
                f"{len(failed)} of {self.n_init} restarts of {name} diverged and were "
                f"dropped (the first: {failed[0]})",
                RestartFailedWarning,
                stacklevel=3,
            )
        if collapse is not None:
            warnings.warn(
                f"{name} collapsed: {collapse} (n_clusters={self.n_clusters}). Try scaling "
                "each view (skmvc.preprocessing.ViewTransformer), a lower lr, fewer clusters "
                "or several restarts (n_init).",
                CollapseWarning,
                stacklevel=3,
            )
        return self

    def _fit(self, X, y):
        """The body of :meth:`fit`; returns the kept restart's collapse message (or None) and
        the errors of the restarts that diverged."""
        views, observed = self._validate_views(X, reset=True)
        n_samples = views[0].shape[0]
        unscaled, sparse = describe_views(views, observed)  # one read of each view
        if unscaled:
            warnings.warn(
                f"{type(self).__name__}: {'; '.join(unscaled)}. The networks train badly on "
                "unscaled views: scale each view in a pipeline, e.g. make_pipeline("
                "ViewTransformer(MinMaxScaler()), model) (divide pixel views by 255).",
                ScaleWarning,
                stacklevel=4,
            )
        if self._poor_on_sparse_views and getattr(self, "encoder_factory", None) is None:
            if sparse:
                name = type(self).__name__
                warnings.warn(
                    f"{name}: {'; '.join(sparse)}: "
                    f"{'it looks' if len(sparse) == 1 else 'they look'} like bag-of-words. "
                    f"{name}'s encoders lose part of the cluster structure of such views, "
                    "and it clustered every text set of the development suite (BBCSport, "
                    "Reuters-1200, WebKB) below k-means (docs/benchmarks.md, 'What the "
                    "untrained encoders keep', 'Reconstruction pre-training'). Compare its "
                    "labels with k-means on row-normalised views (ViewTransformer("
                    "make_pipeline(MinMaxScaler(), Normalizer()))) before relying on them.",
                    SparseViewWarning,
                    stacklevel=4,
                )
        if y is not None:
            try:
                n_y = _num_samples(y)
            except TypeError:
                n_y = None
            if n_y != n_samples:
                raise ValueError(
                    f"y has {n_y if n_y is not None else 'no'} entries but X has {n_samples} "
                    "samples. y is not used for fitting, but must match X when given."
                )
        if n_samples < 2:
            raise ValueError(
                f"n_samples={n_samples}: training needs at least 2 samples (batch "
                "normalisation cannot normalise a batch of one)."
            )
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")
        self._resolve_for_data(observed)
        device = resolve_device(self.device)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=self.n_init
        )
        n_jobs = self.n_jobs if self.n_init > 1 else None
        shared = _SharedViews(views, observed)
        runs = Parallel(n_jobs=n_jobs)(
            delayed(_fit_one)(self, shared, int(seed), device, torch.get_num_threads())
            for seed in seeds
        )
        failed = [run.error for run in runs if run.error is not None]
        ok = [i for i, run in enumerate(runs) if run.error is None]
        if not ok:
            if len(runs) == 1:
                raise failed[0]
            raise DivergenceError(
                f"Every one of the {len(runs)} restarts of {type(self).__name__} diverged; "
                f"the first: {failed[0]}"
            ) from failed[0]
        # Prefer restarts that did not collapse; among them, the best by `selection`.
        scores = np.full(len(runs), np.nan)
        scores[ok] = self._selection_scores([runs[i] for i in ok])
        healthy = [i for i in ok if runs[i].collapse is None] or ok
        best = runs[max(healthy, key=lambda i: (scores[i], -runs[i].loss))]
        self.module_ = best.module
        self.history_ = best.history
        self.loss_ = best.loss
        self.init_losses_ = np.array([run.loss for run in runs], dtype=float)
        self.init_collapsed_ = np.array([run.collapse is not None for run in runs])
        self.selection_scores_ = scores
        self.n_iter_ = len(best.history)
        self.device_ = device
        for key in ("cluster_centers_", "view_patterns_", "pattern_centers_"):
            self.__dict__.pop(key, None)  # absent from this fit (head labels, all views)
        for key, value in best.extras.items():
            setattr(self, key, value)
        self.labels_ = best.labels
        return best.collapse, failed

    def _selection_scores(self, runs) -> np.ndarray:
        """Each successful restart's score under ``selection`` (higher is better)."""
        if self.selection == "loss" or len(runs) < 2:
            return np.array([-run.loss for run in runs])
        labels = [run.labels for run in runs]
        if self.selection == "agreement":
            return agreement_scores(labels)
        return pooled_silhouette_scores(labels, [run.embedding for run in runs])

    # ------------------------------------------------------------------ inference
    def _apply(self, fn, data: ViewData) -> np.ndarray:
        return apply_module(fn, self.module_, data, self._batch_size(data))

    def _batch_size(self, data: ViewData) -> int:
        """Samples per batch for ``data`` (:func:`resolve_batch_size`)."""
        n_clusters = self.n_clusters if self._auto_batch_fine_partitions else None
        return resolve_batch_size(self.batch_size, len(data), n_clusters)

    def _data(self, X) -> ViewData:
        check_is_fitted(self)
        views, observed = self._validate_views(X, reset=False)
        return ViewData(views, self.device_, self.views_on_device, observed=observed)

    def _assigns_by_kmeans(self, data: ViewData) -> bool:
        """Whether a fit on ``data`` labels by k-means on the embedding rather than by the
        method's clustering head: ``assign_labels="kmeans"``, or ``"auto"`` when some
        samples of ``data`` miss views (unless ``_auto_kmeans_with_missing_views`` is
        false)."""
        rule = getattr(self, "assign_labels", "head")
        if rule == "auto":
            missing = data.observed is not None and not bool(data.observed.all())
            return missing and self._auto_kmeans_with_missing_views
        return rule == "kmeans"

    def _kmeans_if_collapsed(self) -> bool:
        """Whether a fit whose head's partition of its complete samples collapsed
        (:func:`collapse_message`: empty clusters, or one cluster with nearly every sample)
        labels by k-means on the embedding instead: ``assign_labels="auto"``."""
        return getattr(self, "assign_labels", "head") == "auto"

    def _center_assignments(self, module, batch, centers: torch.Tensor) -> torch.Tensor:
        """Student-t soft assignments (DEC's kernel, one degree of freedom) of the batch's
        embedding to ``centers``; their argmax is the nearest centre."""
        return student_t_assignments(self._embedding(module, batch).float(), centers)

    def _assignments(self, module, data: ViewData, centers=None, rows=None) -> np.ndarray:
        """Soft assignments of ``data`` (of its samples ``rows``, sorted, when given): to
        ``centers`` when given, else the head's."""
        fn = self._soft_assignments
        if centers is not None:
            c = torch.as_tensor(centers, device=data.device)
            fn = lambda m, batch: self._center_assignments(m, batch, c)  # noqa: E731
        return apply_module(fn, module, data, self._batch_size(data), order=rows)

    def _module_labels(self, module, data: ViewData, centers=None, rows=None) -> np.ndarray:
        """Cluster labels of ``data`` (of its samples ``rows``, sorted, when given) under
        ``module`` (the trained network of a restart): the nearest of ``centers`` when
        given, else the head's argmax."""
        return self._assignments(module, data, centers, rows).argmax(axis=1).astype(np.int64)

    def _fitted_centers(self):
        """The k-means centres when the fit labelled by them (see :meth:`_assigns_by_kmeans`
        and :meth:`_kmeans_if_collapsed`), else None (the head's labels)."""
        if getattr(self, "assign_labels", "head") == "head":
            return None
        return getattr(self, "cluster_centers_", None)

    def _missing_view_assignments(self, data: ViewData):
        """Pattern-centre assignments (:func:`pattern_assignments`) of the samples of
        ``data`` that miss views, with a warning for those in a pattern ``fit`` never saw."""
        rows, proba, unseen = pattern_assignments(
            self,
            self.module_,
            data,
            getattr(self, "view_patterns_", None),
            getattr(self, "pattern_centers_", None),
        )
        if unseen:
            warnings.warn(
                f"{unseen} sample(s) miss a combination of views that {type(self).__name__} "
                "did not see at fit time (with enough complete samples beside it); they are "
                "assigned by the method's own rule over their present views, which is less "
                "accurate. Fit on data with the same kinds of missing views to assign them "
                "by pattern centres.",
                UserWarning,
                stacklevel=3,
            )
        return rows, proba

    def _patterns_then_network(self, data: ViewData, network, of_pattern_proba) -> np.ndarray:
        """A value per sample of ``data``: ``of_pattern_proba(p)`` of the pattern-centre
        assignments ``p`` (:meth:`_missing_view_assignments`) for the samples that miss
        views, and ``network(rows)`` for the others (``rows`` None: every sample), so that
        each sample goes through the network once."""
        rows, proba = self._missing_view_assignments(data)
        if not len(rows):
            return network(None)
        by_pattern = of_pattern_proba(proba)
        rest = np.setdiff1d(np.arange(len(data)), rows)
        if not len(rest):
            return by_pattern
        by_network = network(rest)
        out = np.empty((len(data), *by_network.shape[1:]), dtype=by_network.dtype)
        out[rows], out[rest] = by_pattern, by_network
        return out

    def _labels_of(self, data: ViewData) -> np.ndarray:
        centers = self._fitted_centers()
        return self._patterns_then_network(
            data,
            lambda rows: self._module_labels(self.module_, data, centers, rows),
            lambda proba: proba.argmax(axis=1).astype(np.int64),
        )

    def predict(self, X):
        """Cluster labels of the samples of X.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
            Views with the same number of views and features as at fit time.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self._labels_of(self._data(X))

    @available_if(lambda self: self._has_proba)
    def predict_proba(self, X):
        """Soft cluster assignments of the samples of X.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to one.
        """
        data = self._data(X)  # checks that the estimator is fitted
        centers = self._fitted_centers()
        return self._patterns_then_network(
            data,
            lambda rows: self._assignments(self.module_, data, centers, rows),
            lambda proba: proba.astype(np.float32),
        )

    def transform(self, X):
        """The method's fused embedding of the samples of X.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components), float32
        """
        return self._apply(self._embedding, self._data(X))

    def score(self, X, y=None):
        """Minus the method's training loss on X (higher is better; no labels used).

        The loss is evaluated with the network in eval mode, in batches of ``batch_size``,
        and averaged over samples; ``loss_`` is the same quantity on the training data.
        Batches are formed in an order that depends only on the samples' content, so the
        score does not depend on the order of the rows. Compare scores only between fits
        of one method with the same loss settings: a loss weight or a batch size changes
        the scale of the loss (with ``batch_size="auto"`` the batch size follows the number
        of samples in X, so compare scores on the same X).

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        data = self._data(X)
        return -mean_objective(self._objective, self.module_, data, self._batch_size(data))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        # The networks compute in float32 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ persistence
    def __getstate__(self):
        state = super().__getstate__()
        module = state.get("module_")
        if module is not None and any(
            t.device.type != "cpu" for t in itertools.chain(module.parameters(), module.buffers())
        ):
            # Pickle a CPU copy so the model loads on machines without the training device.
            state = dict(state)
            state["module_"] = copy.deepcopy(module).cpu()
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        device = getattr(self, "device_", None)
        if getattr(self, "module_", None) is not None and device is not None:
            if device.type == "cuda" and not (
                torch.cuda.is_available()
                and (device.index is None or device.index < torch.cuda.device_count())
            ):
                warnings.warn(
                    f"{type(self).__name__} was trained on {device}, which is not available "
                    "here; it was loaded onto the CPU.",
                    UserWarning,
                    stacklevel=2,
                )
                self.device_ = torch.device("cpu")
            self.module_.to(self.device_)

    def _fitted_state(self) -> tuple[dict, dict]:
        arrays, values = {}, {}
        for key, value in vars(self).items():
            if not key.endswith("_") or key.startswith("_") or key in ("module_", "history_"):
                continue
            if isinstance(value, np.ndarray) and value.dtype != object:
                arrays[key] = torch.from_numpy(np.ascontiguousarray(value))
            elif isinstance(value, np.ndarray):
                values[key] = [str(v) for v in value]
            elif isinstance(value, torch.device):
                values[key] = str(value)
            else:
                values[key] = value
        return arrays, values

    def save(self, path) -> None:
        """Save the fitted model without pickle: parameters, weights and fitted attributes.

        The file is read back by :meth:`load` with ``torch.load(weights_only=True)``, so
        loading a shared model cannot run code, and it carries a SHA-256 checksum of its
        content, so a damaged file is refused rather than loaded. Parameters must be plain
        values (a custom ``encoder_factory`` cannot be saved this way: use pickle or joblib
        for such models, and unpickle only files you trust).

        Parameters
        ----------
        path : str or path-like or file-like

        Notes
        -----
        Format version 2 (this version): a dict with ``format``, ``format_version``,
        ``sha256`` and ``content``, the bytes of a ``torch.save`` of the estimator's class
        name, parameters, weights, fitted attributes and history. :meth:`load` reads
        versions 1 (no checksum, read with a warning) and 2, and refuses newer versions with
        a message to upgrade skmvc.
        """
        check_is_fitted(self)
        params = self.get_params(deep=False)
        for key, value in params.items():
            if not _is_plain(value):
                raise TypeError(
                    f"Parameter {key}={value!r} cannot be saved without pickle; use pickle or "
                    "joblib to save this model."
                )
        arrays, values = self._fitted_state()
        content = {
            "estimator": type(self).__name__,
            "params": {
                k: (str(v) if isinstance(v, torch.device) else v) for k, v in params.items()
            },
            "state_dict": {k: v.detach().cpu() for k, v in self.module_.state_dict().items()},
            "arrays": arrays,
            "values": values,
            "history": [_plain_row(row) for row in self.history_],
        }
        buffer = io.BytesIO()
        torch.save(content, buffer)
        raw = buffer.getvalue()
        torch.save(
            {
                "format": _FORMAT,
                "format_version": _FORMAT_VERSION,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "content": torch.frombuffer(bytearray(raw), dtype=torch.uint8),
            },
            path,
        )

    @classmethod
    def _fitted_attribute_names(cls) -> frozenset:
        """The fitted attributes the class declares (what :meth:`load` may set)."""
        names = _COMMON_FITTED | frozenset(cls._extra_fitted_attributes)
        if "assign_labels" in cls._get_param_names():
            names |= {"cluster_centers_"}
        return names

    @classmethod
    def load(cls, path, device="auto"):
        """Load a model written by :meth:`save` (no pickle: ``weights_only=True``).

        Parameters
        ----------
        path : str or path-like or file-like
        device : str or torch.device, default="auto"
            Where the loaded network lives for prediction.

        Returns
        -------
        estimator : BaseMultiViewClustering
            A fitted estimator of the saved class.

        Raises
        ------
        skmvc.exceptions.ModelFileError
            When the file is damaged (truncated, or its checksum does not match), foreign,
            of a newer format version, or holds anything the estimator class does not
            declare. A ``ValueError``.
        TypeError
            When ``cls`` is a method class and the file holds another method.
        """
        where = path if isinstance(path, (str, os.PathLike)) else "the given file object"

        def bad(what):
            return ModelFileError(f"{str(where)!r} is not a valid skmvc model file: {what}.")

        payload = _torch_load(path, bad)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise bad("it was not written by skmvc's save()")
        version = payload.get("format_version")
        if not isinstance(version, int):
            raise bad("it has no format version")
        if version > _FORMAT_VERSION:
            raise ModelFileError(
                f"{str(where)!r} uses skmvc model format version {version}; this skmvc reads "
                f"up to version {_FORMAT_VERSION}. Upgrade skmvc."
            )
        if version == 1:
            warnings.warn(
                f"{str(where)!r} uses skmvc model format version 1, which has no checksum; "
                "save it again to add one.",
                UserWarning,
                stacklevel=2,
            )
            content = payload
        else:
            raw = payload.get("content")
            if not isinstance(raw, torch.Tensor) or raw.dtype != torch.uint8:
                raise bad("its content is missing")
            raw = raw.numpy().tobytes()
            if hashlib.sha256(raw).hexdigest() != payload.get("sha256"):
                raise bad("its checksum does not match its content (the file is damaged)")
            content = _torch_load(io.BytesIO(raw), bad)
        if not isinstance(content, dict):
            raise bad("its content is not a model")

        name = content.get("estimator")
        klass = _ESTIMATORS.get(name) if isinstance(name, str) else None
        if klass is None:
            raise bad(f"it holds an unknown estimator {name!r}")
        if cls is not BaseMultiViewClustering and not issubclass(klass, cls):
            raise TypeError(f"{str(where)!r} holds a {name}, not a {cls.__name__}.")
        try:
            # A parameter added after the file was written takes the value that reproduces
            # the behaviour the file was trained with, not today's default.
            est = klass(**{**klass._params_before_they_existed, **content["params"]})
            est._validate_params()
            allowed = klass._fitted_attribute_names()
            values, arrays = dict(content["values"]), dict(content["arrays"])
            unknown = sorted((set(values) | set(arrays)) - allowed)
            if unknown:
                raise bad(f"it sets attributes that {name} does not declare: {unknown}")
            for key, value in values.items():
                setattr(est, key, value)
            if "feature_names_in_" in values:
                est.feature_names_in_ = np.asarray(values["feature_names_in_"], dtype=object)
            for key, tensor in arrays.items():
                setattr(est, key, tensor.numpy())
            est.view_shapes_ = tuple(tuple(int(d) for d in s) for s in est.view_shapes_)
            est.n_features_per_view_ = tuple(est.n_features_per_view_)
            module = est._build_module(est.view_shapes_, torch.Generator().manual_seed(0))
            module.load_state_dict(content["state_dict"])
            history = History(content["history"])
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
            raise bad(f"its content does not fit {name} ({type(exc).__name__}: {exc})") from exc
        est.device_ = resolve_device(device)
        est.module_ = module.to(est.device_).eval()
        est.history_ = history
        return est


def _torch_load(path, bad):
    """``torch.load(weights_only=True)`` with every failure turned into ``bad(what)``."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # truncated, empty, foreign or crafted files fail in many ways
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise bad(f"it cannot be read ({detail[:200]})") from exc


def _is_plain(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, torch.device)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return False


def _plain_row(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if key == "batches":
            out[key] = [_plain_row(b) for b in value]
        elif isinstance(value, (bool, int, float, str)) or value is None:
            out[key] = value
    return out
