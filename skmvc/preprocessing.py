"""Per-view preprocessing: apply a transformer to each view, split and concatenate views."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .multiview import MultiView, check_views, n_view_features, view_shape

__all__ = ["ViewTransformer", "ViewSplitter", "ViewConcatenator"]


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
