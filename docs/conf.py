"""Sphinx configuration of the skmvc documentation."""

import os
from pathlib import Path

import skmvc

ROOT = Path(__file__).resolve().parents[1]

project = "skmvc"
author = "the skmvc developers"
copyright = "2026, the skmvc developers"
release = skmvc.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
autosummary_generate = True
# Document skmvc's own methods (fit, predict, ... come from BaseMultiViewClustering), not
# those inherited from torch or scikit-learn's mixins.
autodoc_default_options = {
    "members": True,
    "inherited-members": "Module,Sequential,ModuleList,BaseEstimator,TransformerMixin,"
    "ClusterMixin,_SetOutputMixin,_MetadataRequester,object",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
}
# No network where the docs are built here: intersphinx falls back to plain text.
intersphinx_disabled_reftypes = ["*"]
if os.environ.get("SKMVC_DOCS_OFFLINE", "1") == "1":
    intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skmvc {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
suppress_warnings = ["config.cache"]
