"""Multi-view input: the :class:`MultiView` container and the one input validator.

Every estimator and helper of skmvc accepts three forms of input (see the user guide):

1. a list or tuple of views, each a 2-D array-like (NumPy, pandas, SciPy sparse) or an image
   array ``(n, C, H, W)`` / ``(n, H, W)``;
2. a :class:`MultiView`, which scikit-learn's model selection can slice by rows;
3. a 2-D array split into views by ``view_sizes``.

:func:`check_views` turns each of them into a list of validated per-view arrays.
"""

from __future__ import annotations

import mmap
import numbers
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

__all__ = [
    "MultiView",
    "check_views",
    "observed_mask",
    "split_columns",
]

LIST_HINT = (
    " A plain list of views cannot pass through scikit-learn's model selection "
    "(GridSearchCV, cross_validate count its elements as samples): wrap it as "
    "skmvc.MultiView(views)."
)


def _is_view_like(obj) -> bool:
    """True for an array-like that can be a view: it has a shape of 2 or more dimensions."""
    shape = getattr(obj, "shape", None)
    return shape is not None and not isinstance(obj, MultiView) and len(shape) >= 2


def is_list_of_views(X) -> bool:
    """A list/tuple is a list of views when every element has a shape of >= 2 dimensions.

    A list of rows (``X.tolist()``) is a 2-D array, not a list of views.
    """
    return isinstance(X, (list, tuple)) and len(X) > 0 and all(_is_view_like(v) for v in X)


def _check_same_n_samples(views) -> None:
    counts = [view.shape[0] for view in views]
    if len(set(counts)) != 1:
        raise ValueError(
            "All views must have the same number of samples; got "
            + ", ".join(f"view {v}: {c}" for v, c in enumerate(counts))
            + "."
        )


class MultiView:
    """An immutable container of views that scikit-learn can slice by rows.

    A plain list of views cannot go through :class:`~sklearn.model_selection.GridSearchCV`
    or :func:`~sklearn.model_selection.cross_validate`: scikit-learn would count the list's
    elements as samples. ``MultiView(views)`` reports ``shape[0]`` and ``len()`` as the
    number of samples and indexes every view at once, so it can.

    Parameters
    ----------
    views : list or tuple of array-like
        The views, each of shape ``(n_samples, ...)``: 2-D arrays (NumPy, pandas, SciPy
        sparse) or image arrays ``(n_samples, C, H, W)`` / ``(n_samples, H, W)``. They are
        stored as given (not copied).
    observed : array-like of bool of shape (n_samples, n_views), default=None
        Which views each sample has. ``observed[i, v] = False`` marks view ``v`` of sample
        ``i`` as missing: the values in that row are never read by a model (they may be
        anything, NaN included). ``None``: every view of every sample is present, except
        rows that are entirely NaN, which are missing whatever the mask says. Every sample
        must keep at least one view (checked when a model reads the data).

    Attributes
    ----------
    views : tuple of array-like
        The stored views.
    observed : ndarray of bool of shape (n_samples, n_views) or None
        The mask given, or None.
    shape : tuple of int
        ``(n_samples, n_views)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc import MultiView
    >>> X = MultiView([np.zeros((6, 3)), np.ones((6, 2))])
    >>> X.shape, len(X), X.n_views
    ((6, 2), 6, 2)
    >>> X[[0, 2]].shape
    (2, 2)
    >>> X = MultiView([np.zeros((3, 3)), np.ones((3, 2))], observed=[[1, 1], [1, 0], [0, 1]])
    >>> X[1:].observed
    array([[ True, False],
           [False,  True]])
    """

    __slots__ = ("_views", "_observed")

    def __init__(self, views, observed=None):
        if isinstance(views, MultiView):
            if observed is None:
                observed = views.observed
            views = views.views
        if not isinstance(views, (list, tuple)) or len(views) == 0:
            raise TypeError(
                "MultiView expects a non-empty list or tuple of views, "
                f"got {type(views).__name__}."
            )
        for v, view in enumerate(views):
            if not _is_view_like(view):
                raise TypeError(
                    f"View {v} of a MultiView must be an array-like with a shape of 2 or more "
                    f"dimensions (n_samples, ...), got {type(view).__name__}"
                    + (f" of shape {view.shape}" if hasattr(view, "shape") else "")
                    + "."
                )
        _check_same_n_samples(views)
        object.__setattr__(self, "_views", tuple(views))
        object.__setattr__(self, "_observed", _check_observed(observed, views))

    def __setattr__(self, name, value):
        raise AttributeError("MultiView is immutable.")

    def __getstate__(self):
        return {"views": self._views, "observed": self._observed}

    def __setstate__(self, state):
        object.__setattr__(self, "_views", tuple(state["views"]))
        object.__setattr__(self, "_observed", state.get("observed"))

    @property
    def views(self) -> tuple:
        """The views, as a tuple."""
        return self._views

    @property
    def observed(self):
        """The per-sample mask of present views given at construction, or None."""
        return self._observed

    @property
    def n_views(self) -> int:
        """Number of views."""
        return len(self._views)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_samples, n_views)``."""
        return (self._views[0].shape[0], len(self._views))

    def __len__(self) -> int:
        return self._views[0].shape[0]

    def __iter__(self):
        raise TypeError(
            "A MultiView is indexed by rows and does not iterate; use .views for the views."
        )

    def __getitem__(self, key):
        # scikit-learn's _safe_indexing passes (rows, Ellipsis).
        if isinstance(key, tuple):
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError("MultiView can only be indexed by rows.")
        if isinstance(key, numbers.Integral):
            key = [key]
        if not isinstance(key, slice):
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (len(self),):
                    raise IndexError(
                        f"Boolean mask of shape {key.shape} does not match {len(self)} samples."
                    )
                key = np.flatnonzero(key)
        observed = None if self._observed is None else self._observed[key]
        return MultiView([_take_rows(view, key) for view in self._views], observed=observed)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(v.shape)) for v in self._views)
        missing = ""
        if self._observed is not None:
            missing = f", missing views in {int((~self._observed).any(axis=1).sum())} samples"
        return f"MultiView(n_samples={len(self)}, views=[{shapes}]{missing})"


def _check_observed(observed, views):
    """A user's mask of present views as a bool array of shape (n_samples, n_views)."""
    if observed is None:
        return None
    mask = np.asarray(observed)
    shape = (views[0].shape[0], len(views))
    if mask.shape != shape:
        raise ValueError(
            f"observed must have shape (n_samples, n_views) = {shape}, got {mask.shape}."
        )
    if mask.dtype != bool:
        if mask.dtype.kind not in "biuf" or not np.isin(mask, (0, 1)).all():
            raise ValueError(
                "observed must hold booleans (True: the view is present), or 0 and 1; got "
                f"values of dtype {mask.dtype}."
            )
        mask = mask.astype(bool)
    mask = mask.copy()
    mask.setflags(write=False)
    return mask


def _take_rows(view, rows):
    if hasattr(view, "iloc"):
        return view.iloc[rows]
    if sp.issparse(view):
        return view[rows] if isinstance(rows, slice) else view[np.asarray(rows)]
    return view[rows]


def split_columns(n_features: int, view_sizes) -> list[int]:
    """Resolve ``view_sizes`` into a list of column counts that sums to ``n_features``.

    Parameters
    ----------
    n_features : int
        Number of columns of the 2-D array.
    view_sizes : int or sequence of int
        An int splits the columns into that many near-equal blocks; a sequence gives the
        number of columns of each view.

    Returns
    -------
    sizes : list of int
    """
    if isinstance(view_sizes, numbers.Integral):
        k = int(view_sizes)
        if k < 1 or k > n_features:
            raise ValueError(
                f"view_sizes={k} asks for {k} views, but X has n_features={n_features}; "
                "each view needs at least one feature."
            )
        return [len(block) for block in np.array_split(np.arange(n_features), k)]
    sizes = [int(s) for s in view_sizes]
    if any(s < 1 for s in sizes):
        raise ValueError(f"Every entry of view_sizes must be >= 1, got {list(view_sizes)}.")
    if sum(sizes) != n_features:
        raise ValueError(
            f"view_sizes={sizes} sums to {sum(sizes)}, but X has {n_features} features."
        )
    return sizes


def check_not_list_of_1d(X) -> None:
    """Raise if X is a list of 1-D arrays: most likely views missing their second dimension."""
    if (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(getattr(e, "shape", None) is not None and len(e.shape) == 1 for e in X)
    ):
        raise ValueError(
            "X is a list of 1-D arrays. Each view must be 2-D (n_samples, n_features): "
            "reshape a single-feature view with view.reshape(-1, 1)." + LIST_HINT
        )


def check_not_complex(X, where: str) -> None:
    """Raise a short ``ValueError`` for complex-valued input (scikit-learn's own message
    prints the whole array)."""
    dtypes = getattr(X, "dtypes", None)  # pandas
    dtypes = list(dtypes) if dtypes is not None else [getattr(X, "dtype", None)]
    for dtype in dtypes:
        try:
            is_complex = dtype is not None and np.issubdtype(dtype, np.complexfloating)
        except TypeError:  # a pandas extension dtype
            is_complex = False
        if is_complex:
            raise ValueError(
                f"Complex data not supported in {where} (dtype {dtype}). Pass real "
                "features, e.g. the real and imaginary parts, or the magnitude and phase."
            )


#: Values read at a time when a view is scanned whole (validation, hashing): the
#: temporary arrays of a scan stay a few MB, whatever the number of samples.
CHUNK_VALUES = 1 << 16


def is_memmap(view) -> bool:
    """Whether ``view`` is a NumPy memory map (``np.memmap``, or ``np.load`` with
    ``mmap_mode``)."""
    return isinstance(view, np.memmap)


def release_pages(view) -> None:
    """Drop the pages of a memory-mapped view that reads have mapped into this process.

    Reading a memory map leaves its pages in the process's resident memory; for a read-only
    file mapping they are clean, so dropping them only means a later read comes from the
    page cache or the disk. Keeps the resident memory of a pass over a large map bounded.
    No-op for other arrays and where ``madvise`` is unavailable.
    """
    mm = getattr(view, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        mm.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):  # a closed map, or a platform that refuses it
        pass


def chunk_rows(view) -> int:
    """Rows per block when scanning ``view``: about ``CHUNK_VALUES`` values."""
    return max(1, CHUNK_VALUES // max(1, int(np.prod(view.shape[1:]))))


def row_chunks(view, present=None):
    """Consecutive row blocks of a dense view (as they are stored), releasing a memory map's
    pages after each block; only the rows where ``present`` (a bool mask) is True, if
    given."""
    rows = chunk_rows(view)
    for start in range(0, view.shape[0], rows):
        block = view[start : start + rows]
        yield block if present is None else block[present[start : start + rows]]
        release_pages(view)


def _check_memmap_view(view, v: int):
    """Validate a memory-mapped view without reading it whole into memory: its dtype and
    shape (its values are checked by :func:`_missing_rows`, in row blocks). The view is
    returned as it is; the engine converts each mini-batch to float32 as it reads it."""
    if view.dtype.kind not in "biuf":
        raise ValueError(
            f"View {v}: a memory-mapped view must be numeric, got dtype {view.dtype}."
        )
    if view.ndim not in (2, 3, 4):
        raise ValueError(
            f"View {v}: a memory-mapped view must have shape (n, d), (n, H, W) or (n, C, H, W), "
            f"got {view.shape}."
        )
    if view.shape[0] < 1 or int(np.prod(view.shape[1:])) < 1:
        raise ValueError(f"View {v}: Found array with shape {view.shape}; it has no data.")
    return view[:, None] if view.ndim == 3 else view


def _check_one_view(view, v: int):
    """Validate one view; returns a float32 ndarray (2-D or 4-D), a float32 CSR matrix, or a
    memory-mapped view as it is (read in mini-batches, never whole)."""
    check_not_complex(view, f"View {v}")
    if is_memmap(view):
        return _check_memmap_view(view, v)
    shape = getattr(view, "shape", None)
    ndim = len(shape) if shape is not None else None
    try:
        if ndim is not None and ndim > 2:
            if ndim not in (3, 4):
                raise ValueError(
                    f"an image view must have shape (n, C, H, W) or (n, H, W), got {shape}"
                )
            arr = check_array(
                view, dtype=np.float32, allow_nd=True, ensure_all_finite=False, copy=False
            )
            if arr.ndim == 3:
                arr = arr[:, None, :, :]
        else:
            arr = check_array(
                view,
                accept_sparse="csr",
                dtype=np.float32,
                ensure_all_finite=False,  # NaN rows mark missing views: _missing_rows
                ensure_min_features=1,
                copy=False,
            )
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"View {v}: {exc}") from exc
    return arr


def _missing_rows(view, v: int, marked=None) -> np.ndarray:
    """The rows of a validated view that are missing: entirely NaN, or marked missing
    (``marked``, a bool array: True where the user's mask says the view is present).

    A NaN or an infinity in a row that is present is an error naming the view and the
    sample. Dense views are scanned in row blocks (a memory map is never read whole).
    """
    n = view.shape[0]
    missing = np.zeros(n, dtype=bool) if marked is None else ~marked
    if sp.issparse(view):
        bad = ~np.isfinite(view.data)
        if not bad.any():
            return missing
        row_of = np.repeat(np.arange(n), np.diff(view.indptr))
        nan_count = np.bincount(row_of[np.isnan(view.data)], minlength=n)
        missing |= nan_count == view.shape[1]
        _raise_non_finite(v, np.unique(row_of[bad]), missing, view.data[bad])
        return missing
    if view.dtype.kind != "f":
        return missing
    start = 0
    for block in row_chunks(view):
        stop = start + len(block)
        if not np.isfinite(block.sum(dtype=np.float64)):
            flat = np.asarray(block).reshape(len(block), -1)
            finite = np.isfinite(flat)
            missing[start:stop] |= np.isnan(flat).all(axis=1)
            rows = start + np.flatnonzero(~finite.all(axis=1))
            _raise_non_finite(v, rows, missing, flat[~finite])
        start = stop
    return missing


def _raise_non_finite(v: int, rows, missing, values) -> None:
    """Raise for the first of ``rows`` (rows holding a NaN or an infinity) that is present."""
    present = [int(i) for i in rows if not missing[i]]
    if present:
        what = "NaN" if np.isnan(values).any() else "infinity"
        raise ValueError(
            f"View {v}: Input contains {what} in sample {present[0]}, whose view {v} is "
            f"present ({len(present)} such sample{'s' if len(present) > 1 else ''}). A view "
            "that a sample lacks must be entirely NaN in that sample's row, or marked in "
            "MultiView(views, observed=mask); a NaN or infinity inside a present row is an "
            "error (impute it, or mark the whole view missing for that sample)."
        )


def observed_mask(views, marked=None):
    """The mask of present views of validated ``views`` (bool, ``(n_samples, n_views)``),
    or None when every view of every sample is present.

    A row that is entirely NaN is missing; ``marked`` (a user's mask, e.g.
    :attr:`MultiView.observed`) marks more. Raises when a present row holds a NaN or an
    infinity, or when a sample has no view at all.
    """
    columns = [
        _missing_rows(view, v, None if marked is None else marked[:, v])
        for v, view in enumerate(views)
    ]
    missing = np.stack(columns, axis=1)
    if not missing.any():
        return None
    empty = np.flatnonzero(missing.all(axis=1))
    if len(empty):
        listed = ", ".join(map(str, empty[:5])) + (", ..." if len(empty) > 5 else "")
        raise ValueError(
            f"Sample {empty[0]} has no view at all ({len(empty)} such sample"
            f"{'s' if len(empty) > 1 else ''}: {listed}): every sample needs at least one "
            "present view. Drop those samples."
        )
    return ~missing


def check_views(X, *, view_sizes=None, min_views: int = 1, return_observed: bool = False):
    """Turn any accepted input form into a list of validated float32 views.

    Parameters
    ----------
    X : list or tuple of array-like, MultiView, or array-like of shape (n_samples, n_features)
        The input (see the module docstring).
    view_sizes : int, sequence of int or None, default=None
        How to split a 2-D array into views. ``None`` keeps a 2-D array as one view.
    min_views : int, default=1
        The smallest number of views accepted.
    return_observed : bool, default=False
        Also return the mask of present views (:func:`observed_mask`). When False, a view
        missing for some sample (an all-NaN row, or a :class:`MultiView` mask) is an error.

    Returns
    -------
    views : list
        Per-view float32 arrays: 2-D ``ndarray``, 4-D ``ndarray`` ``(n, C, H, W)`` for
        image views, or CSR sparse matrices. Inputs that were already float32 may be
        returned without a copy; they are never modified. A memory-mapped view
        (``np.memmap``, ``np.load(..., mmap_mode="r")``) is checked in row blocks and returned
        as it is, whatever its numeric dtype: the engine reads it a mini-batch at a time.
    observed : ndarray of bool of shape (n_samples, n_views) or None
        Only with ``return_observed=True``: which views each sample has; None when every
        sample has every view. Missing rows are returned as given (NaN or anything): a
        model never reads them.

    Raises
    ------
    ValueError, TypeError
        With a message that names the view and the problem.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc import check_views
    >>> [v.shape for v in check_views(np.zeros((4, 5)), view_sizes=[2, 3])]
    [(4, 2), (4, 3)]
    >>> [v.dtype.name for v in check_views([np.zeros((4, 2), dtype=int)])]
    ['float32']
    """
    marked = None
    if isinstance(X, MultiView):
        raw = list(X.views)
        marked = X.observed
        from_list = True
    elif is_list_of_views(X):
        raw = list(X)
        from_list = True
    elif isinstance(X, (list, tuple)) and len(X) > 0 and any(_is_view_like(v) for v in X):
        bad = ", ".join(
            f"view {v} has shape {tuple(getattr(e, 'shape', ()))}"
            if hasattr(e, "shape")
            else f"view {v} is a {type(e).__name__}"
            for v, e in enumerate(X)
            if not _is_view_like(e)
        )
        raise TypeError(
            f"Every view must be an array of shape (n_samples, n_features) or an image array, "
            f"but {bad}. Reshape a single-feature view with view.reshape(-1, 1)."
        )
    else:
        raw = None
        from_list = False

    if from_list:
        if view_sizes is not None:
            raise ValueError(
                "view_sizes only applies to a single 2-D array; X is already a list of "
                f"{len(raw)} views. Set view_sizes=None."
            )
        views = [_check_one_view(view, v) for v, view in enumerate(raw)]
    else:
        check_not_list_of_1d(X)
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) in (3, 4):
            views = [_check_one_view(X, 0)]
        else:
            check_not_complex(X, "X")
            try:
                arr = check_array(
                    X, accept_sparse="csr", dtype=np.float32, ensure_all_finite=False
                )
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{exc}{LIST_HINT if isinstance(X, list) else ''}") from exc
            views = split_view_columns(arr, view_sizes)

    _check_same_n_samples(views)
    if len(views) < min_views:
        raise ValueError(
            f"This method needs at least {min_views} views, got {len(views)}. Pass a list of "
            "views or a MultiView, or split a 2-D array with view_sizes."
        )
    observed = observed_mask(views, marked)
    if return_observed:
        return views, observed
    if observed is not None:
        v = int(np.flatnonzero((~observed).any(axis=0))[0])
        i = int(np.flatnonzero(~observed[:, v])[0])
        raise ValueError(
            f"View {v} is missing for sample {i} (an all-NaN row or a MultiView mask), and "
            "missing views are not accepted here. Input contains NaN."
        )
    return views


def split_view_columns(arr, view_sizes) -> list:
    """Split a validated 2-D array (dense or CSR) into views by ``view_sizes``."""
    if view_sizes is None:
        return [arr]
    sizes = split_columns(arr.shape[1], view_sizes)
    bounds = np.cumsum([0] + sizes)
    return [arr[:, bounds[i] : bounds[i + 1]] for i in range(len(sizes))]


def view_shape(view) -> tuple[int, ...]:
    """The per-sample shape of a validated view: ``(d,)`` or ``(C, H, W)``."""
    return tuple(int(s) for s in view.shape[1:])


def n_view_features(shape: Sequence[int]) -> int:
    """Number of scalar features of a per-sample view shape."""
    return int(np.prod(shape))
