"""The estimator contract of every skmvc method.

:class:`BaseMultiViewClustering` holds what the five methods share as estimators:
parameters and their validation, the input model, and fit / predict / transform / score. A
method declares only its network (``_build_module``), its training stages (``_stages``), its
objective (``_objective``) and how it predicts and embeds. The mechanisms behind the contract
live in modules of their own: the engine (:mod:`skmvc._engine`, over :mod:`skmvc._data`) runs
the stages, :mod:`skmvc._restarts` trains and chooses among restarts, :mod:`skmvc._labels`
holds the label rule, :mod:`skmvc._schedules` the ``"auto"`` schedules and epoch selection,
and :mod:`skmvc._persistence` the model file.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ._data import ViewData, resolve_device
from ._engine import OptimizerSpec, Stage, Step, apply_module, mean_objective
from ._labels import LabelRuleMixin
from ._persistence import MODEL_CLASSES, ModelFileMixin
from ._restarts import fit_restarts
from ._schedules import AutoEpochs, resolve_batch_size, resolve_epochs, stability_selection
from .exceptions import CollapseWarning, RestartFailedWarning, ScaleWarning, SparseViewWarning
from .inspection import describe_views
from .multiview import (
    LIST_HINT,
    MultiView,
    check_not_complex,
    check_not_list_of_1d,
    check_views,
    is_list_of_views,
    n_view_features,
    split_view_columns,
    view_shape,
)

__all__ = [
    "AutoEpochs",
    "BaseMultiViewClustering",
    "registered_methods",
    "OptimizerSpec",
    "Stage",
    "Step",
    "resolve_batch_size",
    "resolve_epochs",
]


class BaseMultiViewClustering(
    LabelRuleMixin, ModelFileMixin, ClusterMixin, TransformerMixin, BaseEstimator
):
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
        "callbacks": [list, tuple, None],
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
    #: which gains; RAV lost: benchmarks/studies/README.md, "Batches on small sets").
    _auto_batch_fine_partitions = False
    #: Whether ``assign_labels="auto"`` labels by k-means on the embedding when some
    #: training samples miss views (CONAN, RAV and EAMC, whose heads did worse there; CMMC's
    #: did better: docs/benchmarks.md, "Missing views").
    _auto_kmeans_with_missing_views = True
    #: The :class:`~skmvc.preprocessing.ViewScaler` parameters the method's views are best
    #: prepared with: by their kind with rows of unit root mean square, on which CRRC, CMMC,
    #: RAV and EAMC clustered far better than on min-max views with their quick schedules
    #: on 16 benchmark sets (``python benchmarks/consensus.py --compare-prepare minmax
    #: auto-rms``); CONAN min-max. The scale warning and the command line follow it.
    _preparation = {"kind": "auto", "row_norm": "rms"}
    #: The :class:`AutoEpochs` rule of each stage-epoch parameter that accepts ``"auto"``.
    _auto_epochs: dict = {}
    #: Named schedules (parameters over the defaults): ``"paper"``, the paper's
    #: (``specs/``; the benchmarks turn early stopping off with it, as the papers run every
    #: epoch), and ``"quick"``, minutes on a 2-core CPU (``ConsensusClustering``'s
    #: ``profile="fast"``, ``skmvc benchmark --profile quick``).
    _schedules: dict = {"paper": {}, "quick": {}}
    #: Whether the method's default network encodes an image view ``(C, H, W)`` as an
    #: image (a CNN), so that benchmarks give it image views as images.
    _takes_images = False

    #: Parameters whose default changed when they were introduced, with the value that
    #: gives the earlier behaviour: :meth:`load` uses it for a model file that lacks them.
    _params_before_they_existed: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            MODEL_CLASSES[cls.__name__] = cls

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
        """The stage options of ``epoch_selection``
        (:func:`skmvc._schedules.stability_selection`)."""
        return stability_selection(self, module, data, seed)

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
                raise type(exc)(f"{exc}{LIST_HINT if isinstance(X, list) else ''}") from exc
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
            scaler = ", ".join(f"{k}={v!r}" for k, v in self._preparation.items())
            warnings.warn(
                f"{type(self).__name__}: {'; '.join(unscaled)}. The networks train badly on "
                "unscaled views: prepare each view in a pipeline, e.g. make_pipeline("
                f"ViewScaler({scaler}), model).",
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
                    "Reuters-1200, WebKB) below k-means. Compare its labels with k-means on "
                    "the views as ViewScaler('auto') prepares them before relying on them, "
                    "or let skmvc.ConsensusClustering compare for you.",
                    SparseViewWarning,
                    stacklevel=4,
                )
        if y is not None:
            try:
                n_y = np.asarray(y).shape[0]
            except (TypeError, ValueError, IndexError):  # not array-like, or a scalar
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
        best, runs, scores, failed = fit_restarts(self, views, observed, seeds, device)
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


def registered_methods() -> dict:
    """Every method class, by its short lower-case name (``"crrc"`` for
    :class:`~skmvc.CRRCClustering`): the one registry that the command line, the
    benchmarks, :class:`~skmvc.ConsensusClustering` and the tests read. A public subclass
    of :class:`BaseMultiViewClustering` registers itself when it is defined.

    Examples
    --------
    >>> from skmvc.base import registered_methods
    >>> {"cmmc", "conan", "crrc", "eamc", "rav"} <= set(registered_methods())
    True
    """
    return {
        name.removesuffix("Clustering").lower(): cls
        for name, cls in MODEL_CLASSES.items()
        if cls._build_module is not BaseMultiViewClustering._build_module  # not a base
    }
