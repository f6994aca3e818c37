"""The label rule: how a fitted network's samples get their cluster labels.

By the method's clustering head, by k-means centres of its embedding
(``assign_labels="kmeans"``, or ``"auto"`` when the head collapses or samples miss views), and,
for samples that miss views, by the centres of their pattern of present views.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import StrOptions

from ._data import ViewData
from ._engine import apply_module
from .nn.heads import student_t_assignments

__all__ = [
    "LabelRuleMixin",
    "collapse_message",
    "complete_rows",
    "embedding_centers",
    "kmeans_centers",
    "pattern_assignments",
    "pattern_centers",
    "training_embedding",
]

#: A partition with one cluster holding at least this share of the samples has collapsed.
COLLAPSE_SHARE = 0.95


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


#: The ``assign_labels`` parameter of the methods with a clustering head (declared once).
ASSIGN_LABELS_CONSTRAINT = {"assign_labels": [StrOptions({"head", "kmeans", "auto"})]}


class LabelRuleMixin:
    """The label rule of :class:`~skmvc.base.BaseMultiViewClustering`: labels, soft
    assignments and k-means centres of a fitted network, for samples with every view and
    for samples that miss views."""

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
