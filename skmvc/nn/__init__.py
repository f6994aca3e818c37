"""Network building blocks shared by the methods (pure PyTorch, no scikit-learn)."""

from ._init import init_children, init_weights
from .autoencoder import (
    Autoencoder,
    ConvAutoencoder,
    build_autoencoders,
    encode_views,
    view_sized_layers,
)
from .encoders import (
    MLP,
    CNNEncoder,
    ConvNetEncoder,
    build_decoders,
    build_encoders,
    output_size,
)
from .fusion import (
    ConcatMLPFusion,
    CrossViewRecalibration,
    MeanFusion,
    ModalityAttention,
    normalized_concatenation,
)
from .heads import DDCHead, DECHead, Discriminator, PredictionHead, ProjectionHead

__all__ = [
    "MLP",
    "Autoencoder",
    "ConvAutoencoder",
    "build_autoencoders",
    "encode_views",
    "view_sized_layers",
    "CNNEncoder",
    "ConvNetEncoder",
    "build_encoders",
    "build_decoders",
    "output_size",
    "ConcatMLPFusion",
    "MeanFusion",
    "ModalityAttention",
    "CrossViewRecalibration",
    "normalized_concatenation",
    "DDCHead",
    "DECHead",
    "Discriminator",
    "ProjectionHead",
    "PredictionHead",
    "init_children",
    "init_weights",
]
