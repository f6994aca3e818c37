"""The Deep Divergence-based Clustering loss (``specs/ddc.md``).

Kampffmeyer et al., "Deep divergence-based approach to clustering", Neural Networks 2019;
CONAN Eq. 7, EAMC Eqs. 7–11, in the form all public implementations share.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "squared_distances",
    "gaussian_kernel",
    "cauchy_schwarz_divergence",
    "ddc_1",
    "ddc_2",
    "ddc_2_flipped",
    "ddc_3",
    "DDCLoss",
]

EPSILON = 1e-9


def _pair_mean(x: torch.Tensor) -> torch.Tensor:
    """``2/(m(m−1)) Σ_{i<j} x_ij`` for a square ``x`` of size m: the mean over pairs.

    Zero when m = 1 (there is no pair).
    """
    m = x.shape[0]
    if m < 2:
        return x.sum() * 0.0
    return 2.0 / (m * (m - 1)) * torch.triu(x, diagonal=1).sum()


def squared_distances(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Pairwise squared Euclidean distances ``(B_x, B_y)``, clamped at zero.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import squared_distances
    >>> squared_distances(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))
    tensor([[ 0., 25.],
            [25.,  0.]])
    """
    y = x if y is None else y
    d = (x * x).sum(1, keepdim=True) - 2.0 * x @ y.T + (y * y).sum(1)[None, :]
    return d.clamp_min(0.0)


def gaussian_kernel(h: torch.Tensor, rel_sigma: float = 0.15) -> torch.Tensor:
    """Gaussian kernel with the median bandwidth rule of DDC.

    ``K_ij = exp(−D_ij / (2σ²))``, ``σ² = rel_sigma · median(D)`` over all B² entries of the
    squared distances D (diagonal included, no gradient, floored at 1e-9).

    Parameters
    ----------
    h : torch.Tensor of shape (B, d)
    rel_sigma : float, default=0.15

    Returns
    -------
    K : torch.Tensor of shape (B, B)

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import gaussian_kernel
    >>> k = gaussian_kernel(torch.randn(5, 3))
    >>> k.shape, torch.allclose(k.diagonal(), torch.ones(5))
    (torch.Size([5, 5]), True)
    """
    d = squared_distances(h)
    sigma2 = (rel_sigma * torch.median(d.detach())).clamp_min(EPSILON)
    return torch.exp(-d / (2.0 * sigma2))


def cauchy_schwarz_divergence(m: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """``d_cs(M) = 2/(K(K−1)) Σ_{i<j} N_ij / sqrt(N_ii N_jj)`` with ``N = Mᵀ K M``.

    Parameters
    ----------
    m : torch.Tensor of shape (B, K)
        Assignment-like matrix (K = 1 gives 0: there is no pair of clusters).
    kernel : torch.Tensor of shape (B, B)

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import cauchy_schwarz_divergence
    >>> m = torch.eye(2).repeat_interleave(3, dim=0)  # two separated clusters
    >>> round(cauchy_schwarz_divergence(m, m @ m.T).item(), 6)
    0.0
    """
    nom = m.T @ kernel @ m
    diag = torch.diagonal(nom)
    dnom_squared = (diag[:, None] * diag[None, :]).clamp_min(EPSILON**2)
    nom = nom.clamp_min(EPSILON)
    return _pair_mean(nom / torch.sqrt(dnom_squared))


def ddc_1(assignments: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Cluster separation and compactness: ``d_cs(A)``.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import ddc_1, gaussian_kernel
    >>> a = torch.softmax(torch.tensor([[4.0, 0.0], [4.0, 0.0], [0.0, 4.0], [0.0, 4.0]]), 1)
    >>> k = gaussian_kernel(torch.tensor([[0.0], [0.1], [5.0], [5.1]]))
    >>> round(ddc_1(a, k).item(), 4)
    0.0366
    """
    return cauchy_schwarz_divergence(assignments, kernel)


def ddc_2(assignments: torch.Tensor) -> torch.Tensor:
    """Orthogonality of the samples' assignment vectors: ``2/(B(B−1)) Σ_{i<j} (A Aᵀ)_ij``.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import ddc_2
    >>> ddc_2(torch.eye(2)).item(), ddc_2(torch.ones(2, 2) / 2).item()
    (0.0, 0.5)
    """
    return _pair_mean(assignments @ assignments.T)


def ddc_2_flipped(assignments: torch.Tensor) -> torch.Tensor:
    """Orthogonality of the clusters (EAMC's D_reg): ``2/(K(K−1)) Σ_{i<j} (Aᵀ A)_ij``.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import ddc_2_flipped
    >>> ddc_2_flipped(torch.eye(3)).item()
    0.0
    """
    return _pair_mean(assignments.T @ assignments)


def ddc_3(assignments: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Push assignments to the simplex corners: ``d_cs(M)``, ``M_qj = exp(−||a_q − e_j||²)``.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import ddc_3
    >>> a = torch.eye(2).repeat_interleave(2, dim=0)
    >>> round(ddc_3(a, a @ a.T).item(), 4)
    0.2658
    """
    eye = torch.eye(assignments.shape[1], device=assignments.device, dtype=assignments.dtype)
    return cauchy_schwarz_divergence(torch.exp(-squared_distances(assignments, eye)), kernel)


class DDCLoss(nn.Module):
    """The three DDC terms as a dict of named tensors.

    Parameters
    ----------
    rel_sigma : float, default=0.15
        Relative kernel bandwidth (``σ² = rel_sigma · median squared distance``).
    flipped : bool, default=False
        Use ``ddc_2_flipped`` (EAMC) instead of ``ddc_2`` (CONAN).

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import DDCLoss
    >>> a = torch.softmax(torch.randn(8, 3), 1)
    >>> sorted(DDCLoss()(a, torch.randn(8, 5)))
    ['ddc_1', 'ddc_2', 'ddc_3']
    """

    def __init__(self, rel_sigma: float = 0.15, flipped: bool = False) -> None:
        super().__init__()
        if rel_sigma <= 0:
            raise ValueError(f"rel_sigma must be > 0, got {rel_sigma}.")
        self.rel_sigma = float(rel_sigma)
        self.flipped = bool(flipped)

    def forward(self, assignments: torch.Tensor, hidden: torch.Tensor) -> dict:
        """Terms for soft assignments ``(B, K)`` and the head's hidden activations ``(B, h)``."""
        kernel = gaussian_kernel(hidden, self.rel_sigma)
        second = ddc_2_flipped(assignments) if self.flipped else ddc_2(assignments)
        return {
            "ddc_1": ddc_1(assignments, kernel),
            "ddc_2_flipped" if self.flipped else "ddc_2": second,
            "ddc_3": ddc_3(assignments, kernel),
        }
