"""What a view holds, read from its values without loading it whole: its scale and whether
it looks like bag-of-words (the warnings of ``fit``), and its kind
(:func:`skmvc.preprocessing.view_kind`)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .multiview import row_chunks

__all__ = ["describe_views", "sparse_views", "unscaled_views", "value_summary"]

#: A view whose largest absolute value exceeds this looks unscaled.
UNSCALED_MAX = 100.0
#: A 2-D view with at least this many features, of which at least ``SPARSE_MIN_ZEROS`` of
#: the values are zero, looks like bag-of-words (:func:`sparse_views`). The development
#: suite's text views have 1 840-3 203 features and 98-100 % zeros; its other views have at
#: most 85 % zeros, or fewer than 1 000 features.
SPARSE_MIN_FEATURES = 1000
SPARSE_MIN_ZEROS = 0.95


def value_summary(view, present):
    """One read of a view's values (the rows ``present`` marks, in row blocks, so that a
    memory-mapped view is never loaded whole): the largest absolute value, the smallest
    value, whether all are integers, the number of values and of non-zero values. A sparse
    view's implicit zeros count as values, not as its extremes."""
    if sp.issparse(view):
        rows = view if present is None else view[present]
        blocks, values, nonzero = [rows.data], rows.shape[0] * rows.shape[1], rows.count_nonzero()
    else:
        blocks, values, nonzero = row_chunks(view, present), 0, 0
    top, low, integral = 0.0, np.inf, True
    for block in blocks:
        if not sp.issparse(view):
            values += block.size
            nonzero += int(np.count_nonzero(block))
        if block.size == 0:
            continue
        top = max(top, float(np.max(block)), -float(np.min(block)))
        low = min(low, float(np.min(block)))
        integral = integral and bool(np.array_equal(block, np.round(block)))
    return top, low, integral, values, nonzero


def describe_views(views, observed=None) -> tuple[list[str], list[str]]:
    """What looks unscaled and what looks like bag-of-words in validated views, from one
    read of each view: ``(unscaled, sparse)``, lists of one description per such view
    (:func:`unscaled_views`, :func:`sparse_views`). Rows that ``observed`` marks missing
    are not read.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.inspection import describe_views
    >>> words = np.zeros((4, 2000))
    >>> words[:, :10] = 3.0
    >>> unscaled, sparse = describe_views([np.random.rand(4, 3), words])
    >>> unscaled
    ['view 1 holds raw counts (non-negative integers up to 3)']
    >>> sparse
    ['view 1 (2000 features, 100% zeros)']
    """
    unscaled, sparse = [], []
    for v, view in enumerate(views):
        present = None if observed is None else observed[:, v]
        top, low, integral, values, nonzero = value_summary(view, present)
        if values == 0:
            continue
        if top > UNSCALED_MAX:
            unscaled.append(f"view {v} has values up to {top:.3g}")
        elif top > 1 and low >= 0 and integral:
            unscaled.append(f"view {v} holds raw counts (non-negative integers up to {top:.0f})")
        zeros = 1 - nonzero / values
        if view.ndim == 2 and view.shape[1] >= SPARSE_MIN_FEATURES and zeros >= SPARSE_MIN_ZEROS:
            sparse.append(f"view {v} ({view.shape[1]} features, {zeros:.0%} zeros)")
    return unscaled, sparse


def unscaled_views(views, observed=None) -> list[str]:
    """What looks unscaled in validated views: one description per such view (empty when
    every view looks scaled). A view looks unscaled when its largest absolute value exceeds
    ``UNSCALED_MAX``, or when it holds only non-negative integers larger than 1 (raw
    counts). Rows that ``observed`` marks missing are not read.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.inspection import unscaled_views
    >>> unscaled_views([np.random.rand(5, 3), np.array([[0.0, 3e13], [1.0, 2.0]])])
    ['view 1 has values up to 3e+13']
    """
    return describe_views(views, observed)[0]


def sparse_views(views, observed=None) -> list[str]:
    """Which validated views look like bag-of-words: one description per 2-D view with at
    least ``SPARSE_MIN_FEATURES`` features of which at least ``SPARSE_MIN_ZEROS`` of the
    values (over the rows ``observed`` marks present) are zero. Read in row blocks, so a
    memory-mapped view is never loaded whole.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc.inspection import sparse_views
    >>> words = np.zeros((4, 2000))
    >>> words[:, :10] = 1.0
    >>> sparse_views([np.random.rand(4, 3), words])
    ['view 1 (2000 features, 100% zeros)']
    """
    return describe_views(views, observed)[1]
