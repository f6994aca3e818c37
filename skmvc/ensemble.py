"""Estimators over estimators: one call that clusters with several candidates and answers
without labels."""

from __future__ import annotations

import time
import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, clone
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._estimator_tree import decode, encode
from ._labels import COLLAPSE_SHARE
from ._persistence import read_model_file, write_model_file
from .base import registered_methods
from .exceptions import CandidateFailedWarning
from .metrics import agreement_scores, silhouette_or_worst
from .multiview import check_views, n_view_features, view_shape
from .preprocessing import ViewConcatenator, ViewScaler

__all__ = [
    "ConsensusClustering",
    "consensus_partition",
    "default_candidates",
    "silhouette_rank_scores",
]


def _kmeans(kind, n_clusters, seed):
    return make_pipeline(
        ViewScaler(kind),
        ViewConcatenator(),
        SimpleImputer(keep_empty_features=True),  # the columns of a view a sample misses
        KMeans(n_clusters, n_init=10, random_state=seed),
    )


def default_candidates(n_clusters, n_views, *, profile="fast", random_state=None, device="auto"):
    """The candidates :class:`ConsensusClustering` fits by default, name -> estimator.

    k-means (10 initialisations, missing views imputed by the mean) on the views prepared
    by :class:`~skmvc.preprocessing.ViewScaler`'s ``kind="auto"`` rule (``"kmeans"``) and
    on their rows scaled to unit length (``"kmeans-unit"``), side by side; and each skmvc
    method that takes ``n_views`` views, on views prepared by min-max (the preparation its
    defaults were measured with), with each method's quick schedule (``profile="fast"``:
    about 10 to 20 epochs a stage) or its defaults (``profile="default"``).

    Examples
    --------
    >>> from skmvc.ensemble import default_candidates
    >>> sorted(default_candidates(3, n_views=2))
    ['CMMC', 'CONAN', 'CRRC', 'EAMC', 'RAV', 'kmeans', 'kmeans-unit']
    >>> sorted(default_candidates(3, n_views=1))
    ['CONAN', 'kmeans', 'kmeans-unit']
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    candidates = {
        "kmeans": _kmeans("auto", n_clusters, seed),
        "kmeans-unit": _kmeans("unit", n_clusters, seed),
    }
    for cls in registered_methods().values():
        if n_views < cls._min_views or not cls.__module__.startswith("skmvc."):
            continue  # too few views, or a user's method (pass it in candidates)
        params = dict(cls._schedules["quick"]) if profile == "fast" else {}
        method = cls(n_clusters, random_state=seed, device=device, **params)
        name = cls.__name__.removesuffix("Clustering")
        candidates[name] = Pipeline([("prepare", ViewScaler("minmax")), ("cluster", method)])
    return candidates


def _collapse(labels, n_clusters) -> str | None:
    counts = np.bincount(labels, minlength=n_clusters)
    share = counts.max() / counts.sum()
    if n_clusters > 1 and share >= COLLAPSE_SHARE:
        return f"one cluster holds {share:.0%} of the samples"
    return None


def _fit_candidate(name, estimator, X):
    """Fit one candidate; its labels, fit time and the error that ended it (or None)."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a candidate's own warnings: reported as a whole
            labels = np.asarray(estimator.fit_predict(X), dtype=np.int64)
        error = None
    except Exception as exc:  # a candidate that fails is dropped, never the whole call
        labels, error = None, f"{type(exc).__name__}: {exc}"
    return name, estimator, labels, time.perf_counter() - start, error


def _memberships(partitions, n_clusters_each) -> np.ndarray:
    """The candidates' labels as one-hot columns side by side (samples x sum of clusters)."""
    blocks = [np.eye(k, dtype=np.float64)[p] for p, k in zip(partitions, n_clusters_each)]
    return np.hstack(blocks)


#: The preparations whose input spaces ``criterion="silhouette"`` reads.
SILHOUETTE_SPACES = ("auto", "unit", "minmax")


def silhouette_rank_scores(partitions, X, *, sample_size=2000, random_state=0) -> np.ndarray:
    """How well each partition of the samples of X separates them in the input space, read
    three ways: its silhouette on the views side by side as :class:`ViewScaler` prepares
    them with ``kind="auto"``, with unit-length rows and with min-max (missing views
    imputed by the mean). Each partition is ranked in each space; its score is minus the
    sum of its ranks (higher is better), so that no one preparation's space, which favours
    the k-means that optimised it, decides alone. No label is read.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.ensemble import silhouette_rank_scores
    >>> from skmvc.datasets import make_multiview_blobs
    >>> views, y = make_multiview_blobs(60, 3, random_state=0)
    >>> noise = np.random.RandomState(0).randint(3, size=60)
    >>> scores = silhouette_rank_scores([y, noise], views)
    >>> bool(scores[0] > scores[1])
    True
    """
    ranks = []
    for kind in SILHOUETTE_SPACES:
        space = make_pipeline(
            ViewScaler(kind), ViewConcatenator(), SimpleImputer(keep_empty_features=True)
        ).fit_transform(X)
        space = space.toarray() if hasattr(space, "toarray") else np.asarray(space)
        scores = np.array(
            [silhouette_or_worst(space, p, sample_size, random_state) for p in partitions]
        )
        ranks.append(np.argsort(np.argsort(-scores, kind="stable"), kind="stable"))
    return -np.sum(ranks, axis=0).astype(float)


def consensus_partition(partitions, n_clusters, random_state=None):
    """The consensus of several partitions of the same samples: k-means (10
    initialisations) on their labels as one-hot columns side by side (Topchy, Jain & Punch,
    2005). Returns the fitted :class:`~sklearn.cluster.KMeans`, whose ``labels_`` are the
    consensus, and the number of clusters of each partition (its one-hot width).

    Examples
    --------
    >>> from skmvc.ensemble import consensus_partition
    >>> km, _ = consensus_partition([[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 1]], 2, 0)
    >>> km.labels_[0] == km.labels_[1], km.labels_[2] == km.labels_[3]
    (np.True_, np.True_)
    """
    partitions = [np.asarray(p, dtype=np.int64) for p in partitions]
    widths = [int(p.max()) + 1 for p in partitions]
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    kmeans = KMeans(n_clusters, n_init=10, random_state=seed)
    return kmeans.fit(_memberships(partitions, widths)), widths


class ConsensusClustering(ClusterMixin, TransformerMixin, BaseEstimator):
    """Cluster multi-view data without choosing a method: fit several candidates and answer
    with the one that separates the samples best, or with their consensus.

    The candidates are k-means on the views prepared by
    :class:`~skmvc.preprocessing.ViewScaler` (``kind="auto"``, and unit-length rows) and
    each skmvc method that applies to the data (:func:`default_candidates`), or a user's
    dict of estimators. They are fitted side by side through joblib (``n_jobs``; Dask's
    joblib backend works unchanged); one that fails or collapses (one cluster with
    nearly every sample) is dropped with a :class:`~skmvc.exceptions.CandidateFailedWarning`
    naming it. No label is read.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters of every default candidate and of the consensus.
    candidates : "auto" or dict of str -> estimator, default="auto"
        ``"auto"``: :func:`default_candidates`. A dict: name -> any clusterer with
        ``fit_predict`` and ``predict`` on a list of views (a pipeline included); each is
        cloned before it is fitted.
    combine : {"select", "consensus"}, default="select"
        ``"select"``: the best candidate by ``criterion``. ``"consensus"``: a partition
        built from all kept candidates, k-means on their labels as one-hot columns side by
        side (each sample described by the clusters the candidates put it in), which
        maximises the agreement of the consensus with the candidates in the
        quadratic-mutual-information sense (Topchy, Jain & Punch, "Clustering ensembles:
        models of consensus and weak partitions", IEEE TPAMI 27(12), 2005); it follows the
        majority, also where most candidates share a failure. On the default candidates of
        18 benchmark sets, three seeds on 15 (``python benchmarks/consensus.py --report``;
        ``docs/benchmarks.md``, "One call"), selection by ``"silhouette"`` was 0.027 ACC
        below the best candidate on average (mean ACC 0.710, against 0.679 for the better
        k-means baseline of each set), within 0.03 on 14 sets and never more than 0.02
        below that baseline; it missed by 0.220 on Cora (every candidate's silhouette is
        near zero in each input space), 0.126 on Fashion-MV, 0.080 on BDGP and 0.056 on
        COIL20-3V. The consensus was 0.039 below the best candidate on average (at most
        0.243) and selection by ``"agreement"`` 0.043 (at most 0.301).
    criterion : {"silhouette", "agreement"}, default="silhouette"
        How candidates are scored and ranked (``ranking_``) and, with ``combine="select"``,
        chosen: ``"silhouette"``, how well each candidate's partition separates the samples
        in the input space, ranked three ways (:func:`silhouette_rank_scores`);
        ``"agreement"``, its mean NMI with the other candidates
        (:func:`~skmvc.metrics.agreement_scores`), which trusts the majority even where
        most candidates share a failure.
    profile : {"fast", "default"}, default="fast"
        The default candidates' schedules: each method's shorter quick schedule (about 10
        to 20 epochs a stage, early stopping on) or its defaults.
    n_jobs : int or None, default=None
        Candidates fitted in parallel (joblib).
    random_state : int, RandomState instance or None, default=None
        Seeds every default candidate and the consensus.
    device : str, default="auto"
        The default method candidates' torch device.
    verbose : int, default=0
        1: a progress bar over the candidates, with a line per candidate naming it and its
        fit time (on stderr).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    candidates_ : dict of str -> estimator
        The fitted candidates that were kept.
    ranking_ : dict of str -> ndarray
        One entry per candidate, as ``cv_results_``: ``name``, ``score`` (by
        ``criterion``; NaN for a dropped one), ``rank`` (1 is the best; 0 for a dropped
        one), ``fit_time`` (seconds), ``error`` (why it was dropped, or "").
    chosen_ : str
        The selected candidate's name, or ``"consensus"``.
    consensus_ : KMeans or None
        The consensus's k-means on the candidates' one-hot labels (``combine="consensus"``).
    n_views_ : int

    Notes
    -----
    New samples (:meth:`predict`) are assigned by every kept candidate's ``predict``; with
    ``combine="consensus"`` their one-hot labels then go to the nearest consensus centre.

    Examples
    --------
    >>> from skmvc import ConsensusClustering
    >>> from skmvc.datasets import make_multiview_blobs
    >>> views, y = make_multiview_blobs(90, 3, random_state=0)
    >>> from sklearn.cluster import KMeans
    >>> from skmvc.preprocessing import ViewConcatenator
    >>> from sklearn.pipeline import make_pipeline
    >>> model = ConsensusClustering(3, candidates={
    ...     f"k-means {s}": make_pipeline(ViewConcatenator(), KMeans(3, n_init=1, random_state=s))
    ...     for s in range(3)}, random_state=0).fit(views)
    >>> model.labels_.shape, sorted(model.ranking_)
    ((90,), ['error', 'fit_time', 'name', 'rank', 'score'])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "candidates": [StrOptions({"auto"}), dict],
        "combine": [StrOptions({"consensus", "select"})],
        "criterion": [StrOptions({"silhouette", "agreement"})],
        "profile": [StrOptions({"fast", "default"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        candidates="auto",
        combine="select",
        criterion="silhouette",
        profile="fast",
        n_jobs=None,
        random_state=None,
        device="auto",
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.candidates = candidates
        self.combine = combine
        self.criterion = criterion
        self.profile = profile
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _candidate_templates(self, n_views) -> dict:
        if self.candidates == "auto":
            return default_candidates(
                self.n_clusters,
                n_views,
                profile=self.profile,
                random_state=self.random_state,
                device=self.device,
            )
        if not self.candidates:
            raise ValueError("candidates is an empty dict: give at least one estimator.")
        for name, est in self.candidates.items():
            if not (hasattr(est, "fit_predict") and hasattr(est, "predict")):
                raise TypeError(
                    f"Candidate {name!r} ({type(est).__name__}) has no fit_predict and predict."
                )
        return {name: clone(est) for name, est in self.candidates.items()}

    def fit(self, X, y=None):
        """Fit every candidate on X and combine their labels.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
            The views.
        y : Ignored
            Not used; accepted so that pipelines and searches can pass labels.

        Returns
        -------
        self : object
        """
        self._validate_params()
        views, _ = check_views(X, return_observed=True)
        n_samples = views[0].shape[0]
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")
        self.n_features_in_ = sum(n_view_features(view_shape(v)) for v in views)
        templates = self._candidate_templates(len(views))
        results = self._fit_all(templates, X)
        names = [r[0] for r in results]
        errors = [r[4] or "" for r in results]
        for i, (_, _, labels, _, error) in enumerate(results):
            if error is None:
                collapse = _collapse(labels, self.n_clusters)
                if collapse is not None:
                    errors[i] = f"collapsed: {collapse}"
        kept = [i for i in range(len(results)) if not errors[i]]
        if not kept:
            raise ValueError(
                "Every candidate failed or collapsed: "
                + "; ".join(f"{n}: {e}" for n, e in zip(names, errors))
            )
        dropped = [i for i in range(len(results)) if errors[i]]
        if dropped:
            warnings.warn(
                "Dropped candidate(s): "
                + "; ".join(f"{names[i]} ({errors[i][:200]})" for i in dropped),
                CandidateFailedWarning,
                stacklevel=2,
            )
        partitions = [results[i][2] for i in kept]
        scores = np.full(len(results), np.nan)
        if len(kept) < 2:
            scores[kept] = 0.0
        elif self.criterion == "agreement":
            scores[kept] = agreement_scores(partitions)
        else:
            scores[kept] = silhouette_rank_scores(partitions, X)
        rank = np.zeros(len(results), dtype=int)
        order = sorted(kept, key=lambda i: -scores[i])
        rank[order] = np.arange(1, len(order) + 1)
        self.ranking_ = {
            "name": np.array(names, dtype=object),
            "score": scores,
            "rank": rank,
            "fit_time": np.array([r[3] for r in results]),
            "error": np.array(errors, dtype=object),
        }
        self.candidates_ = {names[i]: results[i][1] for i in kept}
        self.n_views_ = len(views)
        if self.combine == "select":
            self.chosen_ = names[order[0]]
            self.consensus_ = None
            self.labels_ = results[order[0]][2]
            return self
        self.consensus_, self._n_clusters_each = consensus_partition(
            partitions, self.n_clusters, self.random_state
        )
        self.chosen_ = "consensus"
        self.labels_ = self.consensus_.labels_.astype(np.int64)
        return self

    def _fit_all(self, templates, X):
        jobs = (delayed(_fit_candidate)(name, est, X) for name, est in templates.items())
        results = []
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(templates), desc="candidates", unit="fit")
        for result in Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs):
            results.append(result)
            if bar is not None:
                name, _, _, seconds, error = result
                bar.write(f"{name}: {seconds:.1f} s" + (f" (failed: {error})" if error else ""))
                bar.update(1)
        if bar is not None:
            bar.close()
        return results

    def predict(self, X):
        """Cluster labels of the samples of X (see Notes).

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        self._check_input(X)
        if self.consensus_ is None:
            return np.asarray(self.candidates_[self.chosen_].predict(X), dtype=np.int64)
        return self.consensus_.predict(self._memberships_of(X)).astype(np.int64)

    def transform(self, X):
        """The chosen candidate's ``transform`` of X (its embedding, or a k-means
        candidate's distances to its centres); with ``combine="consensus"``, the distances
        to the consensus's centres in the space of the candidates' one-hot labels.

        Returns
        -------
        embedding : ndarray of shape (n_samples, n_components)
        """
        self._check_input(X)
        if self.consensus_ is not None:
            return self.consensus_.transform(self._memberships_of(X))
        chosen = self.candidates_[self.chosen_]
        if not hasattr(chosen, "transform"):
            raise AttributeError(f"The chosen candidate {self.chosen_!r} has no transform.")
        return chosen.transform(X)

    def _check_input(self, X) -> None:
        check_is_fitted(self)
        views, _ = check_views(X, return_observed=True)
        n_features = sum(n_view_features(view_shape(v)) for v in views)
        if len(views) != self.n_views_ or n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but ConsensusClustering is expecting "
                f"{self.n_features_in_} features as input ({len(views)} views given, "
                f"{self.n_views_} at fit)."
            )

    def _memberships_of(self, X) -> np.ndarray:
        partitions = []
        for est, k in zip(self.candidates_.values(), self._n_clusters_each):
            labels = np.asarray(est.predict(X), dtype=np.int64)
            partitions.append(np.minimum(labels, k - 1))  # a cluster new at predict time
        return _memberships(partitions, self._n_clusters_each)

    def save(self, path) -> None:
        """Save the fitted model without pickle: its parameters, its fitted candidates and
        what it chose.

        The file is read back by :meth:`load` with ``torch.load(weights_only=True)``, so
        loading a shared model cannot run code, and it carries a SHA-256 checksum of its
        content, so a damaged file is refused. The candidates must be skmvc methods or
        pipelines of the scikit-learn and skmvc estimators the default candidates use
        (:data:`skmvc._estimator_tree.ESTIMATOR_CLASSES`); a model with any other
        candidate raises ``TypeError``: save it with pickle or joblib instead.

        Parameters
        ----------
        path : str or path-like or file-like
        """
        check_is_fitted(self)
        state = encode(vars(self), "ConsensusClustering")
        write_model_file({"estimator": type(self).__name__, "state": state}, path)

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save` (no pickle: ``weights_only=True``).

        Parameters
        ----------
        path : str or path-like or file-like

        Returns
        -------
        model : ConsensusClustering
            Fitted; its method candidates' networks on the CPU.

        Raises
        ------
        skmvc.exceptions.ModelFileError
            When the file is damaged, foreign, of a newer format version, or holds
            anything but a ConsensusClustering and the estimators it may hold.
        """
        content, where, bad = read_model_file(path)
        if content.get("estimator") != cls.__name__:
            raise bad(f"it holds a {content.get('estimator')!r}, not a {cls.__name__}")
        state = decode(content.get("state"), bad)
        if not isinstance(state, dict) or not set(cls._get_param_names()) <= set(state):
            raise bad(f"its content is not a {cls.__name__}")
        model = cls.__new__(cls)
        model.__dict__.update(state)
        try:
            model._validate_params()
            check_is_fitted(model)
        except (ValueError, TypeError) as exc:
            raise bad(f"its content does not fit {cls.__name__} ({exc})") from exc
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.sparse = True
        return tags
