"""Loaders that return views and labels as a :class:`~sklearn.utils.Bunch`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "load_handwritten",
    "load_npz",
    "load_mat",
    "make_multiview_blobs",
    "make_missing_views",
]

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


def _bunch_from_npz(z, descr: str = "", view_names=None, require_labels=True) -> Bunch:
    keys = sorted(
        (k for k in z.files if k.startswith("X") and k[1:].isdigit()), key=lambda k: int(k[1:])
    )
    if not keys or (require_labels and "y" not in z.files):
        raise ValueError(
            f"Expected arrays X0..X{{V-1}} and y in the file, found {sorted(z.files)}."
        )
    expected = [f"X{v}" for v in range(len(keys))]
    if keys != expected:
        raise ValueError(f"View arrays must be named {expected}, found {keys}.")
    views = [z[k] for k in keys]
    return Bunch(
        views=views,
        target=np.asarray(z["y"]) if "y" in z.files else None,
        view_names=list(view_names) if view_names else keys,
        DESCR=descr,
    )


def load_npz(path, *, require_labels: bool = True) -> Bunch:
    """Load a multi-view data set stored as ``X0 … X{V-1}`` and ``y`` in a ``.npz`` file.

    Values are returned as stored: nothing is scaled.

    Parameters
    ----------
    path : str or path-like
    require_labels : bool, default=True
        Whether a missing ``y`` is an error; if not, ``target`` is ``None``.

    Returns
    -------
    data : Bunch
        ``views`` (list of arrays), ``target`` (labels), ``view_names`` and ``DESCR``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skmvc.datasets import load_npz
    >>> path = os.path.join(tempfile.mkdtemp(), 'd.npz')
    >>> np.savez(path, X0=np.zeros((4, 2)), X1=np.ones((4, 3)), y=np.arange(4))
    >>> data = load_npz(path)
    >>> [v.shape for v in data.views], data.target.tolist()
    ([(4, 2), (4, 3)], [0, 1, 2, 3])
    """
    path = Path(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(
            f"{path}: not a valid .npz file of arrays (np.load failed: "
            f"{str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})."
        ) from exc
    if not hasattr(archive, "files"):  # a single .npy array saved under a .npz name
        raise ValueError(f"{path}: holds a single array, not named views X0, X1, ...")
    with archive as z:
        return _bunch_from_npz(
            z, descr=f"Multi-view data set loaded from {path.name}.", require_labels=require_labels
        )


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


_LABEL_KEYS = ("Y", "y", "gt", "truth", "truelabel", "labels", "label")


def _read_mat(path: Path) -> dict:
    """The variables of a MATLAB file: v5 through SciPy, v7.3 (HDF5) through h5py."""
    try:
        return {
            k: v
            for k, v in scipy.io.loadmat(path, squeeze_me=False).items()
            if not k.startswith("__")
        }
    except NotImplementedError:  # MATLAB 7.3 files are HDF5
        pass
    except ValueError as exc:
        raise ValueError(f"{path} is not a readable MATLAB file: {exc}") from exc
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(
            f"{path} is a MATLAB v7.3 (HDF5) file; reading it needs h5py (pip install h5py)."
        ) from exc
    out = {}
    with h5py.File(path, "r") as f:
        for key in f:
            if key.startswith("#"):
                continue
            item = f[key]
            if item.dtype == object:  # a cell array: references to datasets
                out[key] = np.array(
                    [[np.asarray(f[ref]) for ref in row] for row in item[()]], dtype=object
                )
            else:
                out[key] = np.asarray(item)
    # h5py reads MATLAB's column-major arrays transposed.
    return {
        k: (v.T if v.dtype != object else np.vectorize(np.transpose, otypes=[object])(v))
        for k, v in out.items()
    }


def _orient(view, n_samples: int, name: str):
    """Return a view as (n_samples, d): transpose when stored d x n."""
    rows, cols = view.shape[0], view.shape[1]
    if rows == n_samples and cols == n_samples:
        raise ValueError(
            f"{name} is {rows} x {cols}: square, so whether samples are rows or columns is "
            "ambiguous. Transpose it yourself if needed and use load_npz."
        )
    if rows == n_samples:
        return view
    if cols == n_samples:
        return view.T
    raise ValueError(
        f"{name} has shape {view.shape}, but there are {n_samples} labels: neither dimension "
        "matches."
    )


def load_mat(path, *, require_labels: bool = True) -> Bunch:
    """Load a multi-view data set from a MATLAB ``.mat`` file in the literature's layouts.

    Two layouts are recognised: views in variables ``X1 … Xn`` (or ``X0 …``), or a cell array
    ``X`` of views; labels in ``Y``, ``y``, ``gt``, ``truth``, ``truelabel``, ``labels`` or
    ``label``. Views stored d × n are transposed: the orientation is read off the number of
    labels (a square view is ambiguous and raises). v5 files are read by SciPy, v7.3 (HDF5)
    files by h5py if it is installed. Values are returned as stored (nothing is scaled);
    labels are returned as integers ``0..K-1`` in the order of their sorted values.

    Without labels (``require_labels=False``), views are taken as n × d when they all have
    the same number of rows, else as d × n when they all have the same number of columns.

    Parameters
    ----------
    path : str or path-like
    require_labels : bool, default=True
        Whether missing labels are an error; if not, ``target`` is ``None``.

    Returns
    -------
    data : Bunch
        ``views``, ``target``, ``view_names`` and ``DESCR``.

    Examples
    --------
    >>> import numpy as np, scipy.io, tempfile, os
    >>> from skmvc.datasets import load_mat
    >>> path = os.path.join(tempfile.mkdtemp(), 'd.mat')
    >>> y = [1, 1, 2, 2, 3]
    >>> scipy.io.savemat(path, {'X1': np.zeros((2, 5)), 'X2': np.ones((5, 3)), 'Y': y})
    >>> data = load_mat(path)  # X1 is stored d x n: transposed
    >>> [v.shape for v in data.views], data.target.tolist()
    ([(5, 2), (5, 3)], [0, 0, 1, 1, 2])
    """
    path = Path(path)
    variables = _read_mat(path)
    label_key = next((k for k in _LABEL_KEYS if k in variables), None)
    if label_key is None and require_labels:
        raise ValueError(
            f"No labels in {path.name}: expected one of {list(_LABEL_KEYS)}, found "
            f"{sorted(variables)}."
        )
    y = None
    if label_key is not None:
        raw_y = np.asarray(variables[label_key])
        if raw_y.dtype == object or (raw_y.ndim > 1 and min(raw_y.shape) != 1):
            raise ValueError(f"Labels {label_key!r} must be a vector, got shape {raw_y.shape}.")
        _, y = np.unique(raw_y.ravel(), return_inverse=True)

    numbered = sorted(
        (k for k in variables if k.startswith("X") and k[1:].isdigit()), key=lambda k: int(k[1:])
    )
    if numbered:
        names = numbered
        raw_views = [variables[k] for k in numbered]
    elif "X" in variables and np.asarray(variables["X"]).dtype == object:
        cells = np.asarray(variables["X"]).ravel()
        names = [f"X{{{i + 1}}}" for i in range(len(cells))]
        raw_views = list(cells)
    else:
        raise ValueError(
            f"No views in {path.name}: expected variables X1..Xn or a cell array X, found "
            f"{sorted(variables)}."
        )
    raw_views = [v if sp.issparse(v) else np.asarray(v) for v in raw_views]
    for name, view in zip(names, raw_views):
        if view.ndim != 2:
            raise ValueError(f"View {name} must be 2-D, got shape {view.shape}.")
    if y is not None:
        n = y.shape[0]
    elif len({v.shape[0] for v in raw_views}) == 1:
        n = raw_views[0].shape[0]
    elif len({v.shape[1] for v in raw_views}) == 1:
        n = raw_views[0].shape[1]
    else:
        raise ValueError(
            "Without labels the sample count is read from the views, but they share neither "
            f"their row nor their column count: {[v.shape for v in raw_views]}."
        )
    views = [_orient(view, n, name) for name, view in zip(names, raw_views)]
    return Bunch(
        views=views,
        target=y,
        view_names=names,
        DESCR=f"Multi-view data set loaded from {path.name}.",
    )


def make_multiview_blobs(
    n_samples: int = 300,
    n_clusters: int = 3,
    view_features=(10, 10),
    noise=1.0,
    cluster_std: float = 1.0,
    center_box: float = 5.0,
    random_state=None,
):
    """Synthetic multi-view data: Gaussian blobs seen through noisy random projections.

    Each sample belongs to one of ``n_clusters`` clusters; every cluster has a centre in a
    shared latent space, and each view is a random linear map of the latent point (centre +
    ``cluster_std`` spread) plus Gaussian noise of its own level. A view with large noise
    carries little cluster information, which makes it easy to test how a method weights
    views.

    Parameters
    ----------
    n_samples : int, default=300
    n_clusters : int, default=3
    view_features : sequence of int, default=(10, 10)
        Number of features of each view (and so the number of views).
    noise : float or sequence of float, default=1.0
        Standard deviation of the noise added to each view (one value for all, or one per
        view).
    cluster_std : float, default=1.0
        Spread of the samples around their cluster centre in the latent space.
    center_box : float, default=5.0
        Cluster centres are drawn uniformly in ``[-center_box, center_box]``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    views : list of ndarray of shape (n_samples, d_v), float32
    y : ndarray of shape (n_samples,)
        Cluster of each sample (balanced).

    Examples
    --------
    >>> from skmvc.datasets import make_multiview_blobs
    >>> views, y = make_multiview_blobs(n_samples=6, n_clusters=2, view_features=(3, 4),
    ...                                 random_state=0)
    >>> [v.shape for v in views], sorted(set(y.tolist()))
    ([(6, 3), (6, 4)], [0, 1])
    """
    view_features = [int(d) for d in view_features]
    if n_samples < n_clusters or n_clusters < 1:
        raise ValueError(f"n_samples={n_samples} should be >= n_clusters={n_clusters} >= 1.")
    if not view_features or min(view_features) < 1:
        raise ValueError(f"view_features must list positive widths, got {view_features}.")
    noise = np.broadcast_to(np.asarray(noise, dtype=float), (len(view_features),))
    if np.any(noise < 0):
        raise ValueError(f"noise must be >= 0, got {noise.tolist()}.")
    rng = check_random_state(random_state)
    latent_dim = max(2, n_clusters)
    centers = rng.uniform(-center_box, center_box, size=(n_clusters, latent_dim))
    y = np.arange(n_samples) % n_clusters
    rng.shuffle(y)
    latent = centers[y] + cluster_std * rng.normal(size=(n_samples, latent_dim))
    views = []
    for d, level in zip(view_features, noise):
        projection = rng.normal(size=(latent_dim, d)) / np.sqrt(latent_dim)
        views.append(
            (latent @ projection + level * rng.normal(size=(n_samples, d))).astype(np.float32)
        )
    return views, y


def make_missing_views(views, missing_rate, *, random_state=None):
    """Copies of ``views`` in which a fraction of the samples lack some views (NaN rows).

    A fraction ``missing_rate`` of the samples, drawn at random, each lose between 1 and
    V − 1 of their V views (the number and the views drawn uniformly), so that every sample
    keeps at least one view: the protocol of incomplete multi-view clustering benchmarks
    (e.g. COMPLETER, DCP), with "missing rate" the fraction of samples missing at least one
    view. The input arrays are not modified.

    Parameters
    ----------
    views : list of array-like of shape (n_samples, ...)
        Dense views (at least two).
    missing_rate : float in [0, 1]
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    views : list of ndarray of float32
        The views, with the rows of missing views set to NaN.
    observed : ndarray of bool of shape (n_samples, n_views)
        Which views each sample kept.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.datasets import make_missing_views
    >>> views, observed = make_missing_views([np.ones((10, 2)), np.ones((10, 3))], 0.5,
    ...                                      random_state=0)
    >>> int((~observed).any(axis=1).sum()), bool(observed.any(axis=1).all())
    (5, True)
    """
    if not 0.0 <= float(missing_rate) <= 1.0:
        raise ValueError(f"missing_rate must be in [0, 1], got {missing_rate}.")
    if len(views) < 2:
        raise ValueError(f"Missing views need at least 2 views, got {len(views)}.")
    rng = check_random_state(random_state)
    n, n_views = int(views[0].shape[0]), len(views)
    observed = np.ones((n, n_views), dtype=bool)
    for i in rng.permutation(n)[: int(round(missing_rate * n))]:
        lost = rng.randint(1, n_views)  # 1 .. V-1
        observed[i, rng.choice(n_views, lost, replace=False)] = False
    out = []
    for v, view in enumerate(views):
        arr = np.array(view, dtype=np.float32, copy=True)
        arr[~observed[:, v]] = np.nan
        out.append(arr)
    return out, observed
