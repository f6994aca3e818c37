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

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import generator_loss
    >>> round(generator_loss(torch.full((4, 1), 0.5)).item(), 4)  # log 2
    0.6931
    """
    return F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """``BCE(D(h^1), 1) + BCE(D(h^v), 0)``: tell the anchor view from view v.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import discriminator_loss
    >>> round(discriminator_loss(torch.full((4, 1), 0.9), torch.full((4, 1), 0.1)).item(), 4)
    0.2107
    """
    return F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(
        d_fake, torch.zeros_like(d_fake)
    )
