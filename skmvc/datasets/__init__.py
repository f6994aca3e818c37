"""Data sets: the bundled UCI Handwritten set, loaders for benchmark files, a generator."""

from ._base import (
    load_handwritten,
    load_mat,
    load_npz,
    make_missing_views,
    make_multiview_blobs,
)

__all__ = [
    "load_handwritten",
    "load_mat",
    "load_npz",
    "make_missing_views",
    "make_multiview_blobs",
]
