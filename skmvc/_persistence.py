"""The model file: :meth:`save` and :meth:`load` without pickle, and pickling a model
trained on a GPU so that it loads on a machine without one."""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import os
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._data import resolve_device
from .exceptions import ModelFileError

__all__ = ["ModelFileMixin", "MODEL_CLASSES", "read_model_file", "write_model_file"]

#: Estimator class name -> class, for :meth:`ModelFileMixin.load` (every public subclass
#: of the base registers itself).
MODEL_CLASSES: dict[str, type] = {}
_FORMAT = "skmvc-model"
_FORMAT_VERSION = 1


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


class ModelFileMixin:
    """Persistence of :class:`~skmvc.base.BaseMultiViewClustering`: pickling (a CPU copy
    of a GPU network) and the pickle-free model file of :meth:`save` / :meth:`load`."""

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
        Format version 1: a dict with ``format``, ``format_version``, ``sha256`` and
        ``content``, the bytes of a ``torch.save`` of the estimator's class name, parameters,
        weights, fitted attributes and history. :meth:`load` refuses newer versions with a
        message to upgrade skmvc.
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
        write_model_file(content, path)

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
        content, where, bad = read_model_file(path)
        name = content.get("estimator")
        klass = MODEL_CLASSES.get(name) if isinstance(name, str) else None
        if klass is None:
            raise bad(f"it holds an unknown estimator {name!r}")
        if not issubclass(klass, cls):
            raise TypeError(f"{str(where)!r} holds a {name}, not a {cls.__name__}.")
        try:
            lacking = sorted(set(klass._get_param_names()) - set(content["params"]))
            if lacking:
                raise bad(
                    f"it lacks the parameters {lacking} of {name} (it was written by another "
                    "version of skmvc)"
                )
            est = klass(**content["params"])
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


def write_model_file(content: dict, path) -> None:
    """Write ``content`` (plain values and tensors) as a model file: a ``torch.save`` of
    its bytes with the format's name and version and a SHA-256 checksum."""
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


def read_model_file(path):
    """The content of a model file (``torch.load(weights_only=True)``: no code runs), the
    name of the file for messages, and ``bad(what)``, the error to raise for a file that
    does not hold what its reader expects. A damaged, foreign or newer file raises
    :class:`~skmvc.exceptions.ModelFileError`."""
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
    raw = payload.get("content")
    if not isinstance(raw, torch.Tensor) or raw.dtype != torch.uint8:
        raise bad("its content is missing")
    raw = raw.numpy().tobytes()
    if hashlib.sha256(raw).hexdigest() != payload.get("sha256"):
        raise bad("its checksum does not match its content (the file is damaged)")
    content = _torch_load(io.BytesIO(raw), bad)
    if not isinstance(content, dict):
        raise bad("its content is not a model")
    return content, where, bad


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
