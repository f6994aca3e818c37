"""Loss terms shared by the methods (pure PyTorch)."""

from .adversarial import discriminator_loss, generator_loss
from .contrastive import (
    cluster_contrast,
    cluster_entropy,
    info_nce,
    nt_xent,
    reconstruction_loss,
    simsiam_loss,
)
from .ddc import (
    DDCLoss,
    cauchy_schwarz_divergence,
    ddc_1,
    ddc_2,
    ddc_2_flipped,
    ddc_3,
    gaussian_kernel,
    squared_distances,
)
from .dec import dec_loss, dec_target
from .kernel import kernel_alignment_loss
from .relation import relation_alignment_loss, relation_matrix, view_distance_weights

__all__ = [
    "DDCLoss",
    "cauchy_schwarz_divergence",
    "ddc_1",
    "ddc_2",
    "ddc_2_flipped",
    "ddc_3",
    "gaussian_kernel",
    "squared_distances",
    "nt_xent",
    "info_nce",
    "cluster_contrast",
    "cluster_entropy",
    "reconstruction_loss",
    "simsiam_loss",
    "dec_loss",
    "dec_target",
    "generator_loss",
    "discriminator_loss",
    "kernel_alignment_loss",
    "relation_matrix",
    "relation_alignment_loss",
    "view_distance_weights",
]
