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
import itertools
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.history import History

from ._engine import OptimizerSpec, Stage, Step, Trainer, ViewData, resolve_device
from .multiview import (
    _LIST_HINT,
    MultiView,
    check_not_list_of_1d,
    check_views,
    is_list_of_views,
    n_view_features,
    split_view_columns,
    view_shape,
)
from .nn import init_weights

__all__ = ["BaseMultiViewClustering", "OptimizerSpec", "Stage", "Step"]

_ESTIMATORS: dict[str, type] = {}
_FORMAT = "skmvc-model"
_FORMAT_VERSION = 1


@dataclass
class _Run:
    """The outcome of one restart."""

    module: torch.nn.Module
    history: History
    loss: float
    extras: dict


def _fit_one(estimator, views, seed: int, device: torch.device, num_threads: int) -> _Run:
    """Build, train and summarise one restart (a module-level function, so joblib can ship
    it to worker processes).

    ``num_threads`` is the caller's number of torch threads: a worker process (where joblib
    lowers the thread count) uses the same number, so float rounding — and hence the
    labels — do not depend on ``n_jobs``.
    """
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    generator = torch.Generator().manual_seed(seed)
    shapes = [view_shape(v) for v in views]
    module = estimator._build_module(shapes, generator).to(device)
    data = ViewData(views, device)
    trainer = Trainer(
        module,
        batch_size=estimator.batch_size,
        device=device,
        generator=generator,
        verbose=estimator.verbose,
    )
    for stage in estimator._stages(module, data, seed):
        trainer.run_stage(stage, data)
    module.eval()
    extras = estimator._fitted_extras(module, data, seed)  # may fix eval-mode state first
    loss = mean_objective(estimator._objective, module, data, estimator.batch_size)
    return _Run(module, trainer.history, loss, extras)


def init_children(module, generator, *, keep=(), scheme="default", gain=1.0):
    """Initialise each child of ``module`` in order from ``generator``
    (:func:`skmvc.nn.init_weights`), except the children named in ``keep`` (e.g. a user's
    pretrained encoders)."""
    for name, part in module.named_children():
        if name not in keep:
            init_weights(part, generator, scheme, gain)
    return module


@torch.no_grad()
def apply_module(fn, module, data: ViewData, batch_size: int) -> np.ndarray:
    """``fn(module, batch)`` over the data in sequential batches, in eval mode, as one
    float32 array on the host."""
    module.eval()
    outs = [fn(module, batch).float().cpu() for batch in data.batches(batch_size)]
    return torch.cat(outs).numpy()


@torch.no_grad()
def mean_objective(objective, module, data: ViewData, batch_size: int) -> float:
    """The objective's total averaged over the samples of ``data``, in eval mode."""
    if len(data) < 2:
        raise ValueError(f"The loss needs at least 2 samples, got n_samples={len(data)}.")
    module.eval()
    total, count = 0.0, 0
    for batch in data.batches(batch_size):
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
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "view_sizes": [Interval(Integral, 1, None, closed="left"), "array-like", None],
    }

    #: The smallest number of views the method accepts.
    _min_views = 1
    #: Whether the method has soft assignments (``predict_proba``).
    _has_proba = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _ESTIMATORS[cls.__name__] = cls

    # ------------------------------------------------------------------ method hooks
    def _build_module(self, view_shapes, generator: torch.Generator) -> torch.nn.Module:
        raise NotImplementedError

    def _stages(self, module, data: ViewData, seed: int) -> list[Stage]:
        raise NotImplementedError

    def _objective(self, module, batch) -> dict:
        """Named loss terms of a batch, with the total under ``"loss"``."""
        raise NotImplementedError

    def _soft_assignments(self, module, batch) -> torch.Tensor:
        raise NotImplementedError

    def _embedding(self, module, batch) -> torch.Tensor:
        raise NotImplementedError

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
    def _validate_views(self, X, *, reset: bool) -> list:
        """The one entry point from user input to validated views, at fit and predict."""
        name = type(self).__name__
        shape = getattr(X, "shape", None)
        list_form = isinstance(X, MultiView) or is_list_of_views(X)
        if list_form or (shape is not None and not isinstance(X, list) and len(shape) in (3, 4)):
            if list_form and self.view_sizes is not None:
                raise ValueError(
                    f"view_sizes={self.view_sizes!r} only applies to a single 2-D array, but X "
                    "is a list of views or a MultiView. Set view_sizes=None."
                )
            views = check_views(X)
            if reset:
                self.n_features_in_ = sum(n_view_features(view_shape(v)) for v in views)
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        else:
            check_not_list_of_1d(X)
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
            views = check_views(split_view_columns(arr, self.view_sizes))

        if reset:
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
        return views

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model on the views of X.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
            The views (see :func:`skmvc.multiview.check_views` for the accepted forms).
        y : Ignored
            Not used; accepted so pipelines and searches can pass labels for scoring.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        views = self._validate_views(X, reset=True)
        n_samples = views[0].shape[0]
        if n_samples < 2:
            raise ValueError(
                f"n_samples={n_samples}: training needs at least 2 samples (batch "
                "normalisation cannot normalise a batch of one)."
            )
        if n_samples < self.n_clusters:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}.")
        device = resolve_device(self.device)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=self.n_init
        )
        n_jobs = self.n_jobs if self.n_init > 1 else None
        runs = Parallel(n_jobs=n_jobs)(
            delayed(_fit_one)(self, views, int(seed), device, torch.get_num_threads())
            for seed in seeds
        )
        losses = np.array([run.loss for run in runs], dtype=float)
        if np.all(~np.isfinite(losses)):
            raise FloatingPointError(
                f"Every restart of {type(self).__name__} ended with a non-finite loss "
                f"({losses.tolist()}); lower lr or check the scale of the views."
            )
        best = runs[int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan)))]
        self.module_ = best.module
        self.history_ = best.history
        self.loss_ = best.loss
        self.init_losses_ = losses
        self.n_iter_ = len(best.history)
        self.device_ = device
        for key, value in best.extras.items():
            setattr(self, key, value)
        self.labels_ = self._labels_of(ViewData(views, device))
        return self

    # ------------------------------------------------------------------ inference
    def _apply(self, fn, data: ViewData) -> np.ndarray:
        return apply_module(fn, self.module_, data, self.batch_size)

    def _data(self, X) -> ViewData:
        check_is_fitted(self)
        return ViewData(self._validate_views(X, reset=False), self.device_)

    def _labels_of(self, data: ViewData) -> np.ndarray:
        return self._apply(self._soft_assignments, data).argmax(axis=1).astype(np.int64)

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
        return self._apply(self._soft_assignments, self._data(X))

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
        Use it for label-free model selection.

        Parameters
        ----------
        X : list of array-like, MultiView, or array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return -mean_objective(self._objective, self.module_, self._data(X), self.batch_size)

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
        loading a shared model cannot run code. Parameters must be plain values (a custom
        ``encoder_factory`` cannot be saved this way: use pickle or joblib for such models).

        Parameters
        ----------
        path : str or path-like or file-like
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
        payload = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "estimator": type(self).__name__,
            "params": {
                k: (str(v) if isinstance(v, torch.device) else v) for k, v in params.items()
            },
            "state_dict": {k: v.detach().cpu() for k, v in self.module_.state_dict().items()},
            "arrays": arrays,
            "values": values,
            "history": [_plain_row(row) for row in self.history_],
        }
        torch.save(payload, path)

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
        """
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise ValueError(f"{path!r} is not a model saved by skmvc's save().")
        if payload["format_version"] > _FORMAT_VERSION:
            raise ValueError(
                f"{path!r} uses format version {payload['format_version']}; this skmvc reads "
                f"up to version {_FORMAT_VERSION}. Upgrade skmvc."
            )
        name = payload["estimator"]
        klass = _ESTIMATORS.get(name)
        if klass is None:
            raise ValueError(f"{path!r} holds an unknown estimator {name!r}.")
        if cls is not BaseMultiViewClustering and not issubclass(klass, cls):
            raise TypeError(f"{path!r} holds a {name}, not a {cls.__name__}.")
        est = klass(**payload["params"])
        values = dict(payload["values"])
        for key, value in values.items():
            setattr(est, key, value)
        if "feature_names_in_" in values:
            est.feature_names_in_ = np.asarray(values["feature_names_in_"], dtype=object)
        for key, tensor in payload["arrays"].items():
            setattr(est, key, tensor.numpy())
        est.view_shapes_ = tuple(tuple(s) for s in est.view_shapes_)
        est.n_features_per_view_ = tuple(est.n_features_per_view_)
        est.device_ = resolve_device(device)
        module = est._build_module(est.view_shapes_, torch.Generator().manual_seed(0))
        module.load_state_dict(payload["state_dict"])
        est.module_ = module.to(est.device_).eval()
        est.history_ = History(payload["history"])
        return est


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
