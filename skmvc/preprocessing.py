"""Per-view preprocessing: apply a transformer to each view, split and concatenate views."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    StandardScaler,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .inspection import SPARSE_MIN_FEATURES, SPARSE_MIN_ZEROS, value_summary
from .multiview import MultiView, check_views, n_view_features, view_shape

__all__ = ["ViewConcatenator", "ViewScaler", "ViewSplitter", "ViewTransformer", "view_kind"]


def _same_form(X, views):
    """Return views in the container the caller used: a MultiView stays a MultiView (with
    its mask of present views)."""
    return MultiView(views, observed=X.observed) if isinstance(X, MultiView) else list(views)


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


class ViewTransformer(TransformerMixin, BaseEstimator):
    """Apply a scikit-learn transformer to each view separately.

    Parameters
    ----------
    transformer : estimator or list of estimators
        One transformer cloned for every view, or one per view. Image views are flattened
        to 2-D before they are transformed. A view's transformer is fitted on, and applied
        to, the samples that have that view only; the rows of a missing view come out as
        NaN (and a :class:`~skmvc.MultiView` keeps its ``observed`` mask).
    view_sizes : int, list of int or None, default=None
        How to split a 2-D array X into views (see :func:`skmvc.multiview.check_views`).

    Attributes
    ----------
    transformers_ : list of estimators
        The fitted transformer of each view.
    n_views_ : int
        Number of views.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skmvc.preprocessing import ViewTransformer
    >>> views = [np.array([[0.0], [10.0]]), np.array([[1.0, 2.0], [3.0, 6.0]])]
    >>> [v.tolist() for v in ViewTransformer(MinMaxScaler()).fit_transform(views)]
    [[[0.0], [1.0]], [[0.0, 0.0], [1.0, 1.0]]]
    """

    _parameter_constraints = {
        "transformer": [object],
        "view_sizes": [Interval(Integral, 1, None, closed="left"), "array-like", None],
    }

    def __init__(self, transformer, *, view_sizes=None):
        self.transformer = transformer
        self.view_sizes = view_sizes

    def _views(self, X):
        views, observed = check_views(X, view_sizes=self.view_sizes, return_observed=True)
        views = [v.reshape(v.shape[0], -1) if v.ndim > 2 else v for v in views]
        present = [None if observed is None else observed[:, j] for j in range(len(views))]
        return views, present

    def fit(self, X, y=None):
        """Fit one clone of the transformer on each view.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        views, present = self._views(X)
        if isinstance(self.transformer, (list, tuple)):
            if len(self.transformer) != len(views):
                raise ValueError(
                    f"{len(self.transformer)} transformers were given for {len(views)} views."
                )
            templates = list(self.transformer)
        else:
            templates = [self.transformer] * len(views)
        self.transformers_ = [
            clone(t).fit(v if rows is None else v[rows])
            for t, v, rows in zip(templates, views, present)
        ]
        self.n_views_ = len(views)
        return self

    def transform(self, X):
        """Transform each view with its fitted transformer.

        Returns
        -------
        views : list of arrays, or MultiView if X was a MultiView
        """
        check_is_fitted(self)
        views, present = self._views(X)
        if len(views) != self.n_views_:
            raise ValueError(
                f"X has {len(views)} views, but ViewTransformer was fitted with "
                f"{self.n_views_} views."
            )
        out = []
        for t, v, rows in zip(self.transformers_, views, present):
            if rows is None or rows.all():
                out.append(t.transform(v))
                continue
            done = _dense(t.transform(v[rows]))
            full = np.full(
                (v.shape[0], done.shape[1]), np.nan, dtype=np.result_type(done, np.float32)
            )
            full[rows] = done
            out.append(full)
        return _same_form(X, out)


class ViewSplitter(TransformerMixin, BaseEstimator):
    """Split a 2-D array into a list of views by column counts.

    Parameters
    ----------
    view_sizes : int or list of int
        Column count of each view, or a number of near-equal blocks.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.preprocessing import ViewSplitter
    >>> [v.shape for v in ViewSplitter([2, 3]).fit_transform(np.zeros((4, 5)))]
    [(4, 2), (4, 3)]
    """

    _parameter_constraints = {
        "view_sizes": [Interval(Integral, 1, None, closed="left"), "array-like"],
    }

    def __init__(self, view_sizes=2):
        self.view_sizes = view_sizes

    def fit(self, X, y=None):
        """Check X and record the view sizes.

        Returns
        -------
        self : object
        """
        self._validate_params()
        views, _ = check_views(X, view_sizes=self.view_sizes, return_observed=True)
        self.n_views_ = len(views)
        self.n_features_in_ = sum(v.shape[1] for v in views)
        return self

    def transform(self, X):
        """Split X.

        Returns
        -------
        views : list of arrays
        """
        check_is_fitted(self)
        return check_views(X, view_sizes=self.view_sizes, return_observed=True)[0]


class ViewConcatenator(TransformerMixin, BaseEstimator):
    """Concatenate views into one 2-D array (for single-view baselines such as KMeans).

    Image views are flattened; if any view is sparse the result is a CSR matrix. The
    columns of a view that a sample lacks are NaN (dense views), ready for an imputer such
    as :class:`~sklearn.impute.SimpleImputer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.preprocessing import ViewConcatenator
    >>> ViewConcatenator().fit_transform([np.zeros((4, 2)), np.ones((4, 3))]).shape
    (4, 5)
    """

    def fit(self, X, y=None):
        """Check X and record the views' widths.

        Returns
        -------
        self : object
        """
        views, _ = check_views(X, return_observed=True)
        self.n_views_ = len(views)
        self.n_features_per_view_ = tuple(n_view_features(view_shape(v)) for v in views)
        return self

    def transform(self, X):
        """Concatenate the views of X.

        Returns
        -------
        X_concat : ndarray or CSR matrix of shape (n_samples, sum of view widths)
        """
        check_is_fitted(self)
        views, observed = check_views(X, return_observed=True)
        views = [v.reshape(v.shape[0], -1) if v.ndim > 2 else v for v in views]
        if observed is not None:
            if any(sp.issparse(v) for v in views):
                raise ValueError(
                    "ViewConcatenator cannot mark missing views in sparse views: densify "
                    "them first, or drop the samples with missing views."
                )
            views = [np.where(observed[:, [j]], v, np.nan) for j, v in enumerate(views)]
        if len(views) != self.n_views_:
            raise ValueError(
                f"X has {len(views)} views, but ViewConcatenator was fitted with "
                f"{self.n_views_} views."
            )
        if any(sp.issparse(v) for v in views):
            return sp.hstack(views, format="csr")
        return np.hstack(views)


#: The preparations :class:`ViewScaler` knows, by name.
PREPARATIONS = ("minmax", "unit", "tfidf", "standard", "standard-unit", "image", "none")


class _ImageScaler(TransformerMixin, BaseEstimator):
    """Divide every value by the largest absolute value seen in fit (pixels 0-255 become
    0-1), keeping the array's shape."""

    def fit(self, X, y=None):
        self.scale_ = float(np.max(np.abs(X))) or 1.0
        return self

    def transform(self, X):
        check_is_fitted(self)
        return np.asarray(X, dtype=np.float32) / np.float32(self.scale_)


def view_kind(view, present=None) -> str:
    """What a view is, read from its values (the rows ``present`` marks):

    - ``"image"``: 3 or more dimensions;
    - ``"counts"``: sparse, non-negative integers (word counts, binary words, links);
    - ``"weights"``: sparse, non-negative and not all integers (term weights such as
      tf-idf, already weighted);
    - ``"dense"``: anything else (features, signed or not; pixels stored flat).

    A view is sparse when it has at least ``SPARSE_MIN_FEATURES`` features of which at least
    ``SPARSE_MIN_ZEROS`` of the values are zero.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.preprocessing import view_kind
    >>> words = np.zeros((4, 2000))
    >>> words[:, :10] = 3.0
    >>> [view_kind(v) for v in (words, words / 7, np.random.randn(4, 3))]
    ['counts', 'weights', 'dense']
    """
    if view.ndim > 2:
        return "image"
    _, low, integral, values, nonzero = value_summary(view, present)
    zeros = 1 - nonzero / max(values, 1)
    sparse = view.shape[1] >= SPARSE_MIN_FEATURES and zeros >= SPARSE_MIN_ZEROS
    if not sparse or low < 0:
        return "dense"
    return "counts" if integral else "weights"


#: ``ViewScaler(kind="auto")``: the preparation of each kind of view (:func:`view_kind`).
AUTO_PREPARATION = {
    "image": "image",
    "counts": "tfidf",
    "weights": "unit",
    "dense": "standard-unit",
}


class _RowScale(TransformerMixin, BaseEstimator):
    """Multiply every value by ``factor`` (rows of unit length to rows of unit root mean
    square: ``factor`` is the square root of the number of features)."""

    def __init__(self, factor=1.0):
        self.factor = factor

    def fit(self, X, y=None):
        self.factor_ = float(self.factor)
        return self

    def transform(self, X):
        check_is_fitted(self)
        return X * np.float32(self.factor_) if not sp.issparse(X) else X * self.factor_


#: The preparations whose rows end with unit length (``row_norm`` applies to them).
ROW_NORMALISING = ("unit", "tfidf", "standard-unit")


def _preparation(name: str, sparse: bool, n_features: int = 1, row_norm: str = "l2"):
    if row_norm == "rms" and name in ROW_NORMALISING:
        scale = _RowScale(float(np.sqrt(n_features)))
        return make_pipeline(_preparation(name, sparse), scale)
    if name == "minmax":
        return MinMaxScaler() if not sparse else MaxAbsScaler()
    if name == "unit":
        return Normalizer()
    if name == "tfidf":
        return TfidfTransformer()
    if name == "standard":
        return StandardScaler(with_mean=not sparse)
    if name == "standard-unit":
        return make_pipeline(StandardScaler(with_mean=not sparse), Normalizer())
    if name == "image":
        return _ImageScaler()
    return FunctionTransformer()


class ViewScaler(TransformerMixin, BaseEstimator):
    """Prepare each view as its kind needs: min-max, unit-length rows, tf-idf or
    standardisation, chosen per view from its values (``kind="auto"``) or by name.

    Parameters
    ----------
    kind : str or list of str, default="auto"
        ``"auto"``, or one of ``"minmax"`` (each feature to [0, 1];
        :class:`~sklearn.preprocessing.MaxAbsScaler` on a sparse matrix, which keeps it
        sparse), ``"unit"`` (each row to unit length,
        :class:`~sklearn.preprocessing.Normalizer`), ``"tfidf"``
        (:class:`~sklearn.feature_extraction.text.TfidfTransformer`, rows of unit length),
        ``"standard"`` (zero mean, unit variance), ``"standard-unit"`` (standardised, then
        each row to unit length), ``"image"`` (divided by the view's largest value) or
        ``"none"``; one for every view or a list, one per view. ``"auto"`` reads each
        view's kind (:func:`view_kind`) and prepares it by :data:`AUTO_PREPARATION`: counts
        by tf-idf, term weights to unit-length rows, dense features
        standardised and then to unit-length rows (so that every view weighs the same),
        images by their largest value. No label is read.
    row_norm : {"l2", "rms"}, default="l2"
        The length of the rows of the preparations that normalise rows (``"unit"``,
        ``"tfidf"``, ``"standard-unit"``): ``"l2"``, unit length (each view weighs the same
        when the views are put side by side, what k-means wants); ``"rms"``, unit root mean
        square (unit length times the square root of the view's number of features), so
        that the values are of order one whatever the number of features, what the deep
        methods' networks want (see Notes).
    view_sizes : int, list of int or None, default=None
        How to split a 2-D array X into views (see :func:`skmvc.multiview.check_views`).

    Attributes
    ----------
    kinds_ : list of str
        The preparation applied to each view.
    transformer_ : ViewTransformer
        The fitted per-view transformers.
    view_shapes_ : list of tuple
        Each view's sample shape (an image view keeps it through :meth:`transform`).
    n_views_ : int

    Notes
    -----
    The rule was chosen with k-means on the views side by side over the 18 benchmark sets
    (``python benchmarks/preparation.py``, its table in ``docs/benchmarks.md``, "Preparing
    views"): tf-idf keeps the clusters of word counts (NGs, 3Sources, Cora) far better
    than min-max, unit-length rows those of term weights (BBCSport, WebKB, Reuters-1200),
    and standardised unit-length rows beat both min-max and unit-length rows on
    average over the dense sets, though not on every one (MSRC-v1, MNIST-USPS and
    Edge-MNIST cluster better with unit-length rows alone).

    Rows of unit length starve the networks of views with thousands of features: each value
    is then of order ``1 / sqrt(n_features)`` (about 0.02 for 2 000 words), the
    reconstruction losses are tiny and the fits stop early. With ``row_norm="rms"`` the
    same rows have values of order one; RAV with its quick schedule then clusters NGs and
    BBCSport far better than on min-max or unit-length views (``docs/benchmarks.md``, "The
    methods on each preparation").

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.preprocessing import ViewScaler
    >>> rng = np.random.RandomState(0)
    >>> words = np.zeros((6, 2000))
    >>> words[:, :10] = rng.randint(0, 4, size=(6, 10))
    >>> scaler = ViewScaler().fit([rng.randn(6, 3), words])
    >>> scaler.kinds_
    ['standard-unit', 'tfidf']
    """

    _parameter_constraints = {
        "kind": [StrOptions({"auto", *PREPARATIONS}), list, tuple],
        "row_norm": [StrOptions({"l2", "rms"})],
        "view_sizes": [Interval(Integral, 1, None, closed="left"), "array-like", None],
    }

    def __init__(self, kind="auto", *, row_norm="l2", view_sizes=None):
        self.kind = kind
        self.row_norm = row_norm
        self.view_sizes = view_sizes

    def fit(self, X, y=None):
        """Choose and fit each view's preparation.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : object
        """
        self._validate_params()
        views, observed = check_views(X, view_sizes=self.view_sizes, return_observed=True)
        kinds = [self.kind] * len(views) if isinstance(self.kind, str) else list(self.kind)
        if len(kinds) != len(views):
            raise ValueError(f"{len(kinds)} kinds were given for {len(views)} views.")
        for kind in kinds:
            if kind != "auto" and kind not in PREPARATIONS:
                raise ValueError(
                    f"kind={kind!r} is not a preparation; use 'auto' or one of {PREPARATIONS}."
                )
        resolved = []
        for v, (kind, view) in enumerate(zip(kinds, views)):
            present = None if observed is None else observed[:, v]
            resolved.append(AUTO_PREPARATION[view_kind(view, present)] if kind == "auto" else kind)
        self.kinds_ = resolved
        self.transformer_ = ViewTransformer(
            [
                _preparation(k, sp.issparse(v), int(np.prod(v.shape[1:])), self.row_norm)
                for k, v in zip(resolved, views)
            ],
            view_sizes=self.view_sizes,
        ).fit(X)
        self.view_shapes_ = [v.shape[1:] for v in views]
        self.n_views_ = len(views)
        return self

    def transform(self, X):
        """Prepare each view of X; image views keep their shape, whatever their kind.

        Returns
        -------
        views : list of arrays, or MultiView if X was a MultiView
        """
        check_is_fitted(self)
        out = self.transformer_.transform(X)
        views = list(out.views if isinstance(out, MultiView) else out)
        views = [
            _dense(v).reshape(v.shape[0], *shape) if len(shape) > 1 else v
            for v, shape in zip(views, self.view_shapes_)
        ]
        return _same_form(X, views)
