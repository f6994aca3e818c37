"""Kernel-alignment loss of EAMC's attention (Eq. 6)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .ddc import gaussian_kernel

__all__ = ["kernel_alignment_loss"]


def kernel_alignment_loss(
    fused: torch.Tensor,
    views: Sequence[torch.Tensor],
    weights: torch.Tensor,
    rel_sigma: float = 0.15,
    observed: torch.Tensor | None = None,
) -> torch.Tensor:
    """``||K_f − Σ_v w_v K_v||²_F`` (EAMC Eq. 6).

    ``K_f`` and every ``K_v`` are Gaussian kernels with the median bandwidth rule of
    :func:`~skmvc.losses.gaussian_kernel`, each with its own bandwidth.

    With missing views (``observed``), ``K_v`` is computed on the samples that have view
    v only, and entry (i, j) of the combination is ``Σ_v w_v K_v(i, j) / Σ_v w_v`` over the
    views both i and j have; pairs with no view in common are left out.

    Parameters
    ----------
    fused : torch.Tensor of shape (B, d)
        The fused representation h_f.
    views : sequence of torch.Tensor of shape (B, d_v)
        The views' representations h^v.
    weights : torch.Tensor of shape (V,)
        The view weights w.
    rel_sigma : float, default=0.15
    observed : torch.Tensor of bool of shape (B, V) or None
        Which views each sample has; None when all.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import kernel_alignment_loss
    >>> h = torch.randn(6, 3)
    >>> kernel_alignment_loss(h, [h, h], torch.tensor([0.5, 0.5])).item()  # fused = views
    0.0
    """
    k_f = gaussian_kernel(fused, rel_sigma)
    if observed is None:
        k_c = sum(w * gaussian_kernel(h, rel_sigma) for w, h in zip(weights, views))
        return (k_f - k_c).pow(2).sum()
    n = fused.shape[0]
    combined, total = fused.new_zeros(n, n), fused.new_zeros(n, n)
    for v, (w, h) in enumerate(zip(weights, views)):
        idx = observed[:, v].nonzero().squeeze(1)
        if len(idx) < 2:
            continue
        k_v = gaussian_kernel(h[idx], rel_sigma)
        rows, cols = idx[:, None].expand_as(k_v), idx[None, :].expand_as(k_v)
        combined = combined.index_put((rows, cols), w * k_v, accumulate=True)
        total = total.index_put((rows, cols), w.expand_as(k_v), accumulate=True)
    covered = total > 0
    k_c = combined[covered] / total[covered]
    return (k_f[covered] - k_c).pow(2).sum()
