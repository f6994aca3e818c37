"""The Deep Embedded Clustering loss (Xie et al., 2016; CONAN Eq. 8)."""

from __future__ import annotations

import torch

__all__ = ["dec_target", "dec_loss"]


def dec_target(q: torch.Tensor) -> torch.Tensor:
    """Sharpened target ``p_ij = (q_ij² / Σ_i q_ij)`` normalised per row, without gradient.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import dec_target
    >>> dec_target(torch.tensor([[0.6, 0.4], [0.4, 0.6]])).round(decimals=3)
    tensor([[0.6920, 0.3080],
            [0.3080, 0.6920]])
    """
    q = q.detach()
    weight = q.pow(2) / q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)


def dec_loss(q: torch.Tensor) -> torch.Tensor:
    """``KL(P ‖ Q)`` summed over the batch and divided by B, with P = :func:`dec_target` (q).

    Parameters
    ----------
    q : torch.Tensor of shape (B, K)
        Soft assignments (rows sum to one, strictly positive).

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import dec_loss
    >>> q = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    >>> round(dec_loss(q).item(), 4)
    0.0784
    """
    p = dec_target(q)
    return (p * (torch.log(p) - torch.log(q))).sum() / q.shape[0]
