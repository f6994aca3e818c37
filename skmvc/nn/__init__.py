"""Network building blocks shared by the methods (pure PyTorch, no scikit-learn)."""

from ._init import init_weights
from .autoencoder import Autoencoder
from .encoders import MLP, CNNEncoder, build_encoders, output_size
from .fusion import ConcatMLPFusion
from .heads import DDCHead, DECHead, PredictionHead, ProjectionHead

__all__ = [
    "MLP",
    "Autoencoder",
    "CNNEncoder",
    "build_encoders",
    "output_size",
    "ConcatMLPFusion",
    "DDCHead",
    "DECHead",
    "ProjectionHead",
    "PredictionHead",
    "init_weights",
]
