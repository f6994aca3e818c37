"""Heads: clustering (DDC, DEC), projection and prediction heads."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["DDCHead", "DECHead", "Discriminator", "ProjectionHead", "PredictionHead"]


class DDCHead(nn.Module):
    """Deep Divergence-based Clustering head (Kampffmeyer et al., 2019; ``specs/ddc.md``).

    ``Linear(d_in, hidden) → ReLU → BatchNorm1d(hidden) → Linear(hidden, K) → Softmax``.

    Parameters
    ----------
    in_features : int
        Input width d_in.
    n_clusters : int
        Number of clusters K.
    hidden : int, default=100
        Width of the hidden layer, on which the DDC loss computes its kernel.

    Returns
    -------
    (assignments, hidden) : tuple of torch.Tensor
        Soft assignments ``(B, K)`` (rows sum to one) and hidden activations ``(B, hidden)``.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import DDCHead
    >>> a, h = DDCHead(8, 3, hidden=5).eval()(torch.randn(4, 8))
    >>> a.shape, h.shape
    (torch.Size([4, 3]), torch.Size([4, 5]))
    """

    def __init__(self, in_features: int, n_clusters: int, hidden: int = 100) -> None:
        super().__init__()
        self.hidden = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.BatchNorm1d(hidden)
        )
        self.output = nn.Linear(hidden, n_clusters)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.hidden(x)
        return torch.softmax(self.output(hidden), dim=1), hidden


def student_t_assignments(z: torch.Tensor, centers: torch.Tensor, alpha: float = 1.0):
    """Soft assignments ``q_ij ∝ (1 + ||z_i − μ_j||² / α)^(−(α+1)/2)`` of the rows of ``z``
    to ``centers`` (DEC's Student-t kernel; rows sum to one). Shared by :class:`DECHead`
    and the estimators' k-means and pattern-centre assignments."""
    d2 = torch.cdist(z, centers).pow(2)
    q = (1.0 + d2 / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


class DECHead(nn.Module):
    """Deep Embedded Clustering head: Student-t soft assignment to trainable centroids.

    ``q_ij ∝ (1 + ||z_i − μ_j||² / α)^(−(α+1)/2)`` (CONAN Eq. 8 with β = α = 1).

    Parameters
    ----------
    n_clusters : int
        Number of centroids K.
    in_features : int
        Embedding width.
    alpha : float, default=1.0
        Degrees of freedom of the Student-t kernel.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import DECHead
    >>> DECHead(3, 2)(torch.zeros(4, 2)).sum(dim=1)
    tensor([1., 1., 1., 1.], grad_fn=<SumBackward1>)
    """

    def __init__(self, n_clusters: int, in_features: int, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)
        self.centroids = nn.Parameter(torch.zeros(n_clusters, in_features))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return student_t_assignments(z, self.centroids, self.alpha)


class ProjectionHead(nn.Sequential):
    """Contrastive projection head ``Linear → BN → ReLU → Linear → BN`` (CONAN's p).

    Parameters
    ----------
    in_features, hidden, out_features : int
        Widths.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import ProjectionHead
    >>> ProjectionHead(8, 8, 4)(torch.randn(5, 8)).shape
    torch.Size([5, 4])
    """

    def __init__(self, in_features: int, hidden: int, out_features: int) -> None:
        super().__init__(
            nn.Linear(in_features, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_features),
            nn.BatchNorm1d(out_features),
        )


class PredictionHead(nn.Sequential):
    """SimSiam prediction head ``Linear(c, c) → BN → ReLU → Linear(c, c)`` (CONAN's q).

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import PredictionHead
    >>> PredictionHead(4)(torch.randn(5, 4)).shape
    torch.Size([5, 4])
    """

    def __init__(self, features: int) -> None:
        super().__init__(
            nn.Linear(features, features),
            nn.BatchNorm1d(features),
            nn.ReLU(),
            nn.Linear(features, features),
        )


class Discriminator(nn.Sequential):
    """EAMC's discriminator ``d → 256 → 256 → 128 → 1`` with LeakyReLU(0.2) and a sigmoid.

    Outputs the probability that a representation comes from the anchor view.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import Discriminator
    >>> Discriminator(8)(torch.randn(3, 8)).shape
    torch.Size([3, 1])
    """

    def __init__(self, in_features: int, layers=(256, 256, 128)) -> None:
        modules: list[nn.Module] = []
        width = int(in_features)
        for out in layers:
            modules += [nn.Linear(width, int(out)), nn.LeakyReLU(0.2)]
            width = int(out)
        modules += [nn.Linear(width, 1), nn.Sigmoid()]
        super().__init__(*modules)
