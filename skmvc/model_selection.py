"""Choosing among fitted clusterings without labels.

:func:`rank_clusterings` ranks already fitted estimators — any of the five methods, k-means,
or any clusterer with ``predict`` — on the same data by a label-free criterion.
"""

from __future__ import annotations

import numpy as np

from .base import BaseMultiViewClustering
from .metrics import (
    agreement_scores,
    concatenated_views,
    input_silhouette_score,
    pooled_silhouette_scores,
)

__all__ = ["rank_clusterings", "CRITERIA"]

#: The label-free criteria :func:`rank_clusterings` accepts.
CRITERIA = ("agreement", "silhouette", "input_silhouette")


def _embedding(estimator, X) -> np.ndarray:
    if isinstance(estimator, BaseMultiViewClustering):
        return estimator.transform(X)
    return concatenated_views(X)


def rank_clusterings(estimators, X, *, criterion="agreement", sample_size=2000, random_state=0):
    """Rank fitted clusterers on the same data by a label-free criterion.

    Parameters
    ----------
    estimators : dict of str to fitted estimator
        The candidates by name: skmvc estimators, a k-means pipeline, any clusterer with
        ``predict`` that takes X.
    X : list of array-like or MultiView
        The data the candidates are compared on (scaled as for fitting).
    criterion : {"agreement", "silhouette", "input_silhouette"}, default="agreement"
        ``"agreement"``: mean NMI of a candidate's labels with every other candidate's
        (:func:`skmvc.metrics.agreement_scores`; needs two or more candidates).
        ``"silhouette"``: its silhouette averaged over every candidate's embedding (skmvc
        estimators' ``transform``; the concatenated views for the others;
        :func:`skmvc.metrics.pooled_silhouette_scores`). ``"input_silhouette"``: its
        silhouette in the input space (:func:`skmvc.metrics.input_silhouette_score`).
    sample_size : int or None, default=2000
        Silhouettes on a random subset of this many samples.
    random_state : int, default=0
        Draws that subset.

    Returns
    -------
    ranking : dict of ndarray
        ``"name"``, ``"score"`` (higher is better) and ``"rank"`` (1 is the best), best
        first, as in scikit-learn's ``cv_results_``: ``pandas.DataFrame(ranking)`` is a
        table.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from skmvc.datasets import make_multiview_blobs
    >>> from skmvc.model_selection import rank_clusterings
    >>> from skmvc.preprocessing import ViewConcatenator
    >>> from sklearn.pipeline import make_pipeline
    >>> views, _ = make_multiview_blobs(90, 3, view_features=(4, 5), random_state=0)
    >>> models = {f"k={k}": make_pipeline(ViewConcatenator(), KMeans(k, n_init=3,
    ...           random_state=0)).fit(views) for k in (2, 3, 8)}
    >>> rank_clusterings(models, views, criterion="silhouette")["name"].tolist()
    ['k=3', 'k=2', 'k=8']
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}.")
    if not isinstance(estimators, dict) or not estimators:
        raise TypeError("estimators must be a non-empty dict of name -> fitted estimator.")
    names = list(estimators)
    if criterion == "input_silhouette":
        scores = np.array(
            [input_silhouette_score(estimators[n], X, sample_size=sample_size) for n in names]
        )
    else:
        labels = [np.asarray(estimators[n].predict(X)) for n in names]
        if criterion == "agreement":
            if len(names) < 2:
                raise ValueError("criterion='agreement' needs at least two candidates.")
            scores = agreement_scores(labels)
        else:
            embeddings = [_embedding(estimators[n], X) for n in names]
            scores = pooled_silhouette_scores(
                labels, embeddings, sample_size=sample_size, random_state=random_state
            )
    order = np.argsort(-scores, kind="stable")
    return {
        "name": np.array(names, dtype=object)[order],
        "score": scores[order],
        "rank": np.arange(1, len(names) + 1),
    }
