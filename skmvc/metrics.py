"""Clustering metrics and the scorers built on them.

ACC (Hungarian-matched accuracy), purity, NMI and ARI, as the multi-view clustering
literature reports them, plus scorers for :class:`~sklearn.model_selection.GridSearchCV` and
:func:`~sklearn.model_selection.cross_validate`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, make_scorer, normalized_mutual_info_score
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
#: ``scoring=SCORERS`` (all four at once) or one entry, ``scoring=SCORERS["accuracy"]``.
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
    ['ari', 'clustering_accuracy', 'nmi', 'purity']
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
