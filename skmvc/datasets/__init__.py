"""Data sets: the bundled UCI Handwritten set and loaders for benchmark files."""

from ._base import load_handwritten, load_npz

__all__ = ["load_handwritten", "load_npz"]
