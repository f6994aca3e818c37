"""Adversarial alignment losses (EAMC Eq. 5, non-saturating form)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["generator_loss", "discriminator_loss"]


def generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """``BCE(D(h^v), 1)``: the encoder of view v tries to pass as the anchor view.

    Parameters
    ----------
    d_fake : torch.Tensor of shape (B, 1)
        The discriminator's probabilities on the non-anchor view's representations.
    """
    return F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """``BCE(D(h^1), 1) + BCE(D(h^v), 0)``: tell the anchor view from view v."""
    return F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(
        d_fake, torch.zeros_like(d_fake)
    )
