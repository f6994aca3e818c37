"""Warnings and errors specific to skmvc.

Each is a subclass of a built-in type (``UserWarning``, ``FloatingPointError``,
``ValueError``), so code that catches the general type keeps working.
"""

from __future__ import annotations

__all__ = [
    "CandidateFailedWarning",
    "CollapseWarning",
    "DivergenceError",
    "ModelFileError",
    "RestartFailedWarning",
    "ScaleWarning",
    "SparseViewWarning",
]


class CollapseWarning(UserWarning):
    """A fitted clustering has empty clusters, or one cluster holds nearly every sample.

    Raised as a warning after ``fit`` (the model is kept, so you can inspect it). Likely
    causes: a learning rate that is too large, unscaled views, or more clusters than the data
    support. Scale each view (:class:`skmvc.preprocessing.ViewTransformer`), lower ``lr``, or
    use several restarts (``n_init``): restarts that did not collapse are preferred.

    Examples
    --------
    >>> from skmvc.exceptions import CollapseWarning
    >>> issubclass(CollapseWarning, UserWarning)
    True
    """


class ScaleWarning(UserWarning):
    """A view looks unscaled: values far from unit scale, or raw counts.

    The networks train badly on such views (a view spanning 1e13 dominates every other).
    Prepare each view, inside a pipeline so that ``predict`` sees the same preparation:
    ``make_pipeline(ViewScaler("auto", row_norm="rms"), model)`` prepares each view by its
    kind (``ViewScaler("minmax")`` as in the papers, and for CONAN); the warning names the
    method's own.

    Examples
    --------
    >>> from skmvc.exceptions import ScaleWarning
    >>> issubclass(ScaleWarning, UserWarning)
    True
    """


class SparseViewWarning(UserWarning):
    """A method that is known to cluster sparse, high-dimensional views poorly was given one.

    Bag-of-words views (thousands of features, nearly all zero) lose most of their cluster
    structure in the random layers of CONAN's encoders, and CONAN clustered such views far
    below k-means on the development suite. EAMC clustered them below k-means too while it
    took its labels from the fused h_f; with its default ``embedding="views"`` it is above
    k-means on the suite's three text sets, so only ``embedding="fused"`` warns
    (``benchmarks/studies/README.md``, "What the untrained encoders keep", "EAMC: the views side by
    side"). The fit goes on; compare its labels with k-means on the views as
    ``ViewScaler("auto")`` prepares them before relying on them.

    Examples
    --------
    >>> from skmvc.exceptions import SparseViewWarning
    >>> issubclass(SparseViewWarning, UserWarning)
    True
    """


class CandidateFailedWarning(UserWarning):
    """A candidate of :class:`~skmvc.ConsensusClustering` failed or collapsed and was
    dropped; the others were kept.

    Examples
    --------
    >>> from skmvc.exceptions import CandidateFailedWarning
    >>> issubclass(CandidateFailedWarning, UserWarning)
    True
    """


class RestartFailedWarning(UserWarning):
    """One of the ``n_init`` restarts diverged and was dropped; the others were kept.

    Examples
    --------
    >>> from skmvc.exceptions import RestartFailedWarning
    >>> issubclass(RestartFailedWarning, UserWarning)
    True
    """


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or non-finite weights.

    The message names the method, the stage and the epoch, and the likely causes (a
    learning rate that is too large, views that are not scaled). The estimator is left as it
    was before ``fit``.

    Examples
    --------
    >>> from skmvc.exceptions import DivergenceError
    >>> issubclass(DivergenceError, FloatingPointError)
    True
    """


class ModelFileError(ValueError):
    """A file given to :meth:`skmvc.BaseMultiViewClustering.load` is not a valid model file.

    It is damaged (truncated, bytes changed: the checksum does not match), foreign (not
    written by ``save``), of a newer format version, or holds content the estimator class
    does not declare. The message names the file and what is wrong.

    Examples
    --------
    >>> from skmvc.exceptions import ModelFileError
    >>> issubclass(ModelFileError, ValueError)
    True
    """
