"""Fitted scikit-learn estimators as plain values, and back, without pickle: what
:meth:`~skmvc.ConsensusClustering.save` writes for its candidates.

An estimator becomes its class's name and its attributes (parameters and fitted state),
each encoded in turn: numbers, strings, ``None``, lists, tuples and dicts as they are,
numeric arrays as tensors, string arrays as lists, NumPy scalars and dtypes by name, and
skmvc methods as their own model files (:meth:`~skmvc.base.BaseMultiViewClustering.save`).
Only the classes in :data:`ESTIMATOR_CLASSES` are read back, so a file cannot make
:func:`decode` build anything else, and nothing it holds is code.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    StandardScaler,
)

from . import preprocessing
from ._persistence import MODEL_CLASSES

__all__ = ["ESTIMATOR_CLASSES", "decode", "encode"]

#: The estimators a file may hold besides skmvc's methods, by the name it stores.
ESTIMATOR_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Pipeline,
        KMeans,
        SimpleImputer,
        MinMaxScaler,
        MaxAbsScaler,
        StandardScaler,
        Normalizer,
        TfidfTransformer,
        FunctionTransformer,
        preprocessing.ViewScaler,
        preprocessing.ViewTransformer,
        preprocessing.ViewConcatenator,
        preprocessing.ViewSplitter,
        preprocessing._RowScale,
        preprocessing._ImageScaler,
    )
}

_TAG = "__skmvc__"


def _allowed() -> dict:
    """Classes an encoded estimator may name: those above and skmvc's methods (their
    parameters only: a fitted method is stored as its model file)."""
    return {**ESTIMATOR_CLASSES, **MODEL_CLASSES}


def encode(value, where: str = "the model"):
    """``value`` as plain values ``torch.load(weights_only=True)`` reads back; a
    ``TypeError`` naming ``where`` for anything else (a function, a foreign estimator)."""
    if value is None or type(value) in (bool, int, float, str):  # not NumPy's float64
        return value
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return {_TAG: "array", "data": torch.from_numpy(np.ascontiguousarray(value))}
        if value.dtype.kind in "OU" and all(isinstance(v, str) for v in value.ravel()):
            return {_TAG: "strings", "data": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {_TAG: "scalar", "data": value.item(), "dtype": value.dtype.str}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {_TAG: "dtype", "data": np.dtype(value).str}
    if isinstance(value, torch.device):
        return {_TAG: "device", "data": str(value)}
    if isinstance(value, (list, tuple)):
        items = [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else {_TAG: "tuple", "data": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {_TAG: "dict", "data": {k: encode(v, f"{where}[{k!r}]") for k, v in value.items()}}
    name = type(value).__name__
    if MODEL_CLASSES.get(name) is type(value) and hasattr(value, "module_"):
        buffer = io.BytesIO()
        value.save(buffer)
        data = torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)
        return {_TAG: "model", "data": data}
    if _allowed().get(name) is type(value):  # a scikit-learn estimator, or an unfitted method
        state = {k: encode(v, f"{where}.{k}") for k, v in vars(value).items()}
        return {_TAG: "estimator", "class": name, "state": state}
    raise TypeError(
        f"{where} is a {type(value).__name__}, which cannot be saved without pickle; use "
        "pickle or joblib to save this model (and unpickle only files you trust)."
    )


def decode(value, bad):
    """The value :func:`encode` encoded; ``bad(what)`` is raised for anything it did not
    write."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v, bad) for v in value]
    if not isinstance(value, dict) or _TAG not in value:
        raise bad(f"it holds an unexpected {type(value).__name__}")
    kind, data = value[_TAG], value.get("data")
    if kind == "array" and isinstance(data, torch.Tensor):
        return data.numpy()
    if kind == "strings" and isinstance(data, list):
        return np.array(data, dtype=np.dtype(value["dtype"]))
    if kind == "scalar":
        return np.dtype(value["dtype"]).type(data)
    if kind == "dtype":
        return np.dtype(data)
    if kind == "device":
        return torch.device(data)
    if kind == "tuple" and isinstance(data, list):
        return tuple(decode(v, bad) for v in data)
    if kind == "dict" and isinstance(data, dict):
        return {k: decode(v, bad) for k, v in data.items()}
    if kind == "model" and isinstance(data, torch.Tensor):
        from .base import BaseMultiViewClustering

        return BaseMultiViewClustering.load(io.BytesIO(data.numpy().tobytes()), device="cpu")
    if kind == "estimator" and value.get("class") in _allowed():
        cls = _allowed()[value["class"]]
        est = cls.__new__(cls)
        est.__dict__.update({k: decode(v, bad) for k, v in value["state"].items()})
        return est
    raise bad(f"it holds an unknown entry {kind!r}")
