"""skmvc: deep multi-view clustering estimators for scikit-learn, on PyTorch."""

from . import datasets, ensemble, exceptions, losses, metrics, model_selection, nn, preprocessing
from .base import BaseMultiViewClustering
from .cmmc import CMMCClustering
from .conan import CONANClustering
from .crrc import CRRCClustering
from .eamc import EAMCClustering
from .ensemble import ConsensusClustering
from .multiview import MultiView, check_views
from .rav import RAVClustering

__version__ = "0.1.0.dev0"

__all__ = [
    "BaseMultiViewClustering",
    "CMMCClustering",
    "CONANClustering",
    "CRRCClustering",
    "ConsensusClustering",
    "EAMCClustering",
    "MultiView",
    "RAVClustering",
    "check_views",
    "datasets",
    "ensemble",
    "exceptions",
    "losses",
    "metrics",
    "model_selection",
    "nn",
    "preprocessing",
    "__version__",
]
