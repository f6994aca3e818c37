"""Clustering metrics and the scorers built on them.

ACC (Hungarian-matched accuracy), purity, NMI and ARI, as the multi-view clustering
literature reports them, plus scorers for :class:`~sklearn.model_selection.GridSearchCV` and
:func:`~sklearn.model_selection.cross_validate`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    make_scorer,
    normalized_mutual_info_score,
    silhouette_score,
)
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils.validation import check_consistent_length, column_or_1d

__all__ = [
    "clustering_accuracy",
    "purity_score",
    "normalized_mutual_info_score",
    "adjusted_rand_score",
    "clustering_report",
    "SCORERS",
    "get_scorer",
    "get_scorer_names",
    "agreement_scores",
    "pooled_silhouette_scores",
    "input_silhouette_score",
    "kmeans_stability",
    "UNSUPERVISED_SCORERS",
]


def _contingency(y_true, y_pred) -> np.ndarray:
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty.")
    # rows: classes, columns: clusters
    return contingency_matrix(y_true, y_pred)


def clustering_accuracy(y_true, y_pred) -> float:
    """Clustering accuracy (ACC) under the best one-to-one matching of clusters to classes.

    The matching maximises the number of agreeing samples; it is found by the Hungarian
    algorithm on the contingency table (:func:`scipy.optimize.linear_sum_assignment`). When
    the numbers of clusters and classes differ the table is rectangular: the surplus clusters
    (or classes) stay unmatched and their samples count as errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels. Their values are arbitrary identifiers.

    Returns
    -------
    accuracy : float
        In ``[0, 1]``; 1 means the clustering equals the classes up to a renaming.

    Examples
    --------
    >>> from skmvc.metrics import clustering_accuracy
    >>> clustering_accuracy([0, 0, 1, 1, 2], [5, 5, 3, 3, 3])
    0.8
    """
    table = _contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def purity_score(y_true, y_pred) -> float:
    """Purity: for each cluster the count of its majority class, summed, divided by n.

    Purity is 1 for a clustering that puts every sample in its own cluster, so report it next
    to ACC or NMI, never alone.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    purity : float
        In ``(0, 1]``.

    Examples
    --------
    >>> from skmvc.metrics import purity_score
    >>> purity_score([0, 0, 1, 1, 2], [5, 5, 3, 3, 3])
    0.8
    """
    table = _contingency(y_true, y_pred)
    return float(table.max(axis=0).sum() / table.sum())


def clustering_report(y_true, y_pred, *, average_method: str = "arithmetic") -> dict:
    """All four clustering metrics at once.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth class labels.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.
    average_method : {"arithmetic", "geometric", "min", "max"}, default="arithmetic"
        Normaliser of NMI, passed to
        :func:`~sklearn.metrics.normalized_mutual_info_score`. CONAN's and EAMC's published
        code used ``"geometric"``.

    Returns
    -------
    report : dict
        ``{"accuracy": ..., "nmi": ..., "purity": ..., "ari": ...}`` as floats.

    Examples
    --------
    >>> from skmvc.metrics import clustering_report
    >>> report = clustering_report([0, 0, 1, 1], [1, 1, 0, 0])
    >>> {k: round(v, 3) for k, v in report.items()}
    {'accuracy': 1.0, 'nmi': 1.0, 'purity': 1.0, 'ari': 1.0}
    """
    return {
        "accuracy": clustering_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred, average_method=average_method)),
        "purity": purity_score(y_true, y_pred),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
    }


class _ScorerDict(dict):
    """The scorers by canonical name; a lookup also accepts the aliases
    (``SCORERS["accuracy"]`` is the matched clustering accuracy), while iterating — as
    ``scoring=SCORERS`` does — yields each scorer once."""

    def __missing__(self, key):
        if key in _ALIASES:
            return self[_ALIASES[key]]
        raise KeyError(
            f"Unknown clustering scorer {key!r}. Valid names: {sorted(self)} "
            f"(aliases: {sorted(_ALIASES)})."
        )

    def __contains__(self, key):
        return dict.__contains__(self, key) or key in _ALIASES


#: Scorers by name, each calling the estimator's ``predict``. Use the dict itself as
#: ``scoring=SCORERS`` (all at once) or one entry, ``scoring=SCORERS["accuracy"]``.
#: ``SCORERS["silhouette"]`` needs no labels (:func:`input_silhouette_score`).
#: Aliases (``"accuracy"``, ``"acc"``, ``"adjusted_rand_score"``, ...) work for lookups.
#:
#: Never pass ``scoring="accuracy"`` (a string) to scikit-learn: that is classification
#: accuracy on raw cluster ids, which are arbitrary, not the matched accuracy.
SCORERS = _ScorerDict(
    {
        "clustering_accuracy": make_scorer(clustering_accuracy, response_method="predict"),
        "purity": make_scorer(purity_score, response_method="predict"),
        "nmi": make_scorer(normalized_mutual_info_score, response_method="predict"),
        "ari": make_scorer(adjusted_rand_score, response_method="predict"),
    }
)

_ALIASES = {
    "accuracy": "clustering_accuracy",
    "acc": "clustering_accuracy",
    "purity_score": "purity",
    "normalized_mutual_info": "nmi",
    "normalized_mutual_info_score": "nmi",
    "adjusted_rand": "ari",
    "adjusted_rand_score": "ari",
}


def get_scorer_names() -> list[str]:
    """Names accepted by :func:`get_scorer` (aliases excluded).

    Examples
    --------
    >>> from skmvc.metrics import get_scorer_names
    >>> get_scorer_names()
    ['ari', 'clustering_accuracy', 'nmi', 'purity', 'silhouette']
    """
    return sorted(SCORERS)


def get_scorer(name: str):
    """Look up a clustering scorer by name.

    Parameters
    ----------
    name : str
        One of :func:`get_scorer_names` or an alias (``"acc"``, ``"accuracy"``,
        ``"adjusted_rand_score"``, ...).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` as scikit-learn expects.

    Examples
    --------
    >>> from skmvc.metrics import get_scorer
    >>> get_scorer("acc") is get_scorer("clustering_accuracy")
    True
    """
    try:
        return SCORERS[name]
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None


# ---------------------------------------------------------------------- label-free criteria
def concatenated_views(X) -> np.ndarray:
    """The views of X side by side as one dense float array (the input space)."""
    from .multiview import check_views

    views = check_views(X)
    return np.hstack(
        [
            (v.toarray() if hasattr(v, "toarray") else np.asarray(v)).reshape(v.shape[0], -1)
            for v in views
        ]
    )


def _standardise(x) -> np.ndarray:
    """Zero mean and unit variance per column (constant columns are only centred)."""
    x = np.asarray(x, dtype=np.float64)
    spread = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def silhouette_or_worst(embedding, labels, sample_size, random_state) -> float:
    """Silhouette, or -1 (the worst value) for a partition with one cluster or as many
    clusters as samples, where it is undefined."""
    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(labels):
        return -1.0
    size = None if sample_size is None or sample_size >= len(labels) else sample_size
    return float(silhouette_score(embedding, labels, sample_size=size, random_state=random_state))


def agreement_scores(partitions, *, metric: str = "nmi") -> np.ndarray:
    """How much each candidate partition agrees with the others (no labels).

    The score of candidate ``i`` is its mean NMI (or ARI) with every other candidate: a
    partition that the candidates agree on — their consensus — scores high, a collapsed or
    eccentric one low (a partition with one cluster has NMI 0 with any other).

    Parameters
    ----------
    partitions : sequence of array-like of shape (n_samples,)
        The labels of each candidate (restarts, settings or methods) on the same samples.
    metric : {"nmi", "ari"}, default="nmi"

    Returns
    -------
    scores : ndarray of shape (n_candidates,)
        Higher is better; NaN when there is a single candidate.

    Examples
    --------
    >>> from skmvc.metrics import agreement_scores
    >>> agreement_scores([[0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]]).round(3).tolist()
    [0.5, 0.5, 0.0]
    """
    if metric not in ("nmi", "ari"):
        raise ValueError(f"metric must be 'nmi' or 'ari', got {metric!r}.")
    pair = normalized_mutual_info_score if metric == "nmi" else adjusted_rand_score
    parts = [column_or_1d(p) for p in partitions]
    if len({len(p) for p in parts}) > 1:
        raise ValueError("Every partition must label the same samples (same length).")
    m = len(parts)
    if m < 2:
        return np.full(m, np.nan)
    table = np.eye(m)
    for i in range(m):
        for j in range(i + 1, m):
            table[i, j] = table[j, i] = pair(parts[i], parts[j])
    return (table.sum(axis=1) - 1.0) / (m - 1)


def pooled_silhouette_scores(
    partitions, embeddings, *, sample_size: int | None = 2000, random_state=0
) -> np.ndarray:
    """Silhouette of each candidate partition averaged over every candidate's embedding.

    Scoring a candidate in its own embedding rewards embeddings that make any partition
    look compact; averaging over all candidates' embeddings (Wang & Ye, 2024) measures the
    partition, not the embedding. A partition with a single cluster scores -1 (the worst).

    Parameters
    ----------
    partitions : sequence of array-like of shape (n_samples,)
    embeddings : sequence of array-like of shape (n_samples, n_features_j)
        Each candidate's embedding of the same samples (any widths); each is standardised
        before use.
    sample_size : int or None, default=2000
        Silhouettes on a random subset of this many samples (O(n²) otherwise).
    random_state : int, default=0
        Draws that subset (the same for every pair).

    Returns
    -------
    scores : ndarray of shape (n_candidates,)
        In [-1, 1]; higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.metrics import pooled_silhouette_scores
    >>> z = np.r_[np.zeros((5, 2)), np.ones((5, 2))] + np.random.RandomState(0).rand(10, 2) / 10
    >>> good, bad = [0] * 5 + [1] * 5, [0, 1] * 5
    >>> s = pooled_silhouette_scores([good, bad], [z, z])
    >>> bool(s[0] > s[1])
    True
    """
    parts = [column_or_1d(p) for p in partitions]
    spaces = [_standardise(np.reshape(e, (len(parts[0]), -1))) for e in embeddings]
    return np.array(
        [
            np.mean([silhouette_or_worst(z, p, sample_size, random_state) for z in spaces])
            for p in parts
        ]
    )


def kmeans_stability(
    embedding,
    n_clusters: int,
    *,
    n_runs: int = 4,
    sample_size: int | None = 2000,
    random_state: int = 0,
) -> float:
    """How reproducible k-means is on an embedding (no labels): the mean NMI between the
    partitions of ``n_runs`` single-initialisation k-means runs.

    Where the embedding has clusters, every run finds the same ones and the score is near 1;
    where the points are spread evenly (as contrastive training spreads them when it goes
    on too long), each run cuts them differently and the score falls. An embedding with
    fewer distinct points than ``n_clusters`` (collapsed) scores 0.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_features)
    n_clusters : int
    n_runs : int, default=4
        k-means runs, each with one initialisation (seeds ``random_state + i``).
    sample_size : int or None, default=2000
        Runs on a random subset of this many samples (all samples when None or fewer).
    random_state : int, default=0
        Draws the subset and seeds the runs.

    Returns
    -------
    score : float
        In [0, 1]; higher is more stable.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.metrics import kmeans_stability
    >>> rng = np.random.RandomState(0)
    >>> blobs = np.r_[rng.randn(50, 2), rng.randn(50, 2) + 10, rng.randn(50, 2) - 10]
    >>> round(kmeans_stability(blobs, 3), 3)
    1.0
    >>> bool(kmeans_stability(rng.randn(200, 20), 5) < 0.5)  # no clusters at all
    True
    """
    if n_runs < 2:
        raise ValueError(f"n_runs must be at least 2, got {n_runs}.")
    x = np.asarray(embedding, dtype=np.float64).reshape(len(embedding), -1)
    rng = np.random.RandomState(random_state)
    if sample_size is not None and len(x) > sample_size:
        x = x[rng.choice(len(x), sample_size, replace=False)]
    if len(np.unique(x, axis=0)) < n_clusters:
        return 0.0
    partitions = [
        KMeans(n_clusters, n_init=1, random_state=random_state + i).fit_predict(x)
        for i in range(n_runs)
    ]
    return float(agreement_scores(partitions).mean())


def input_silhouette_score(estimator, X, y=None, *, sample_size=2000) -> float:
    """A scorer that needs no labels: the silhouette of ``estimator.predict(X)`` in the
    input space (the views concatenated as given, standardised).

    The space is the same for every setting and every method, so the score compares them;
    scale the views as for fitting. ``y`` is ignored. ``SCORERS["silhouette"]`` is this
    function, for ``GridSearchCV(model, grid, scoring=SCORERS["silhouette"]).fit(X)``.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmvc.datasets import make_multiview_blobs
    >>> from skmvc.metrics import input_silhouette_score
    >>> from skmvc.preprocessing import ViewConcatenator
    >>> views, _ = make_multiview_blobs(60, 3, view_features=(4, 5), random_state=0)
    >>> model = make_pipeline(ViewConcatenator(), KMeans(3, n_init=3, random_state=0))
    >>> round(input_silhouette_score(model.fit(views), views), 2)
    0.26
    """
    embedding = _standardise(concatenated_views(X))
    return silhouette_or_worst(embedding, estimator.predict(X), sample_size, 0)


#: Scorers that need no labels, by name (``scoring=SCORERS["silhouette"]`` also works).
UNSUPERVISED_SCORERS = {"silhouette": input_silhouette_score}
SCORERS["silhouette"] = input_silhouette_score
