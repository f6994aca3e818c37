"""Loaders that return views and labels as a :class:`~sklearn.utils.Bunch`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_handwritten", "load_npz"]

_HANDWRITTEN_DESCR = """\
UCI Handwritten (Multiple Features) data set
--------------------------------------------

2000 handwritten digits (200 per class, 10 classes) from Dutch utility maps, described by six
feature sets (views): 76 Fourier coefficients of the character shapes, 216 profile
correlations, 64 Karhunen-Loeve coefficients, 240 pixel averages in 2x3 windows, 47 Zernike
moments and 6 morphological features. The views are on very different scales (up to ~1.8e4):
scale them (e.g. ViewTransformer(MinMaxScaler())) before clustering.

Source: R. Duin, "Multiple Features", UCI Machine Learning Repository,
https://doi.org/10.24432/C5HC70. Licensed under CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). Stored as published in the multi-view
clustering literature's .mat file, converted to (n_samples, n_features) views and labels 0..9.
"""

_HANDWRITTEN_VIEWS = ["fourier", "profile", "karhunen-loeve", "pixel", "zernike", "morphological"]


def _bunch_from_npz(z, descr: str = "", view_names=None) -> Bunch:
    keys = sorted((k for k in z.files if k.startswith("X")), key=lambda k: int(k[1:]))
    if not keys or "y" not in z.files:
        raise ValueError(
            f"Expected arrays X0..X{{V-1}} and y in the file, found {sorted(z.files)}."
        )
    expected = [f"X{v}" for v in range(len(keys))]
    if keys != expected:
        raise ValueError(f"View arrays must be named {expected}, found {keys}.")
    views = [z[k] for k in keys]
    return Bunch(
        views=views,
        target=np.asarray(z["y"]),
        view_names=list(view_names) if view_names else keys,
        DESCR=descr,
    )


def load_npz(path) -> Bunch:
    """Load a multi-view data set stored as ``X0 … X{V-1}`` and ``y`` in a ``.npz`` file.

    Values are returned as stored: nothing is scaled.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    data : Bunch
        ``views`` (list of arrays), ``target`` (labels), ``view_names`` and ``DESCR``.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        return _bunch_from_npz(z, descr=f"Multi-view data set loaded from {path.name}.")


def load_handwritten(*, return_X_y: bool = False):
    """Load the bundled UCI Handwritten (multiple features) data set: 2000 digits, 6 views.

    =================   ==============================
    Samples             2000 (200 per class)
    Classes             10
    Views (features)    76, 216, 64, 240, 47, 6
    Values              float32, unscaled
    =================   ==============================

    Licensed CC BY 4.0 (R. Duin, UCI Machine Learning Repository); see ``DESCR``.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(views, target)`` instead of a Bunch.

    Returns
    -------
    data : Bunch or tuple
        ``views`` (list of six float32 arrays), ``target`` (int64 labels 0..9),
        ``view_names`` and ``DESCR``.

    Examples
    --------
    >>> from skmvc.datasets import load_handwritten
    >>> data = load_handwritten()
    >>> [v.shape[1] for v in data.views], data.target.shape
    ([76, 216, 64, 240, 47, 6], (2000,))
    """
    ref = resources.files("skmvc.datasets") / "data" / "handwritten.npz"
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as z:
        data = _bunch_from_npz(z, descr=_HANDWRITTEN_DESCR, view_names=_HANDWRITTEN_VIEWS)
    if return_X_y:
        return data.views, data.target
    return data
