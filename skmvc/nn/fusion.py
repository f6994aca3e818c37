"""Fusion modules: turn the per-view representations into one."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ConcatMLPFusion", "ModalityAttention"]


class ConcatMLPFusion(nn.Module):
    """Concatenate the views' representations and map them through a small MLP.

    CONAN's fusion f: ``z = Linear(d, d)(BN(ReLU(Linear(Σ d_v, d)(cat(h^1..h^V)))))``, with
    the batch norm after the activation as in the authors' code.

    Parameters
    ----------
    in_features : sequence of int
        Width of each view's representation.
    out_features : int
        Width d of the fused representation.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import ConcatMLPFusion
    >>> f = ConcatMLPFusion([3, 5], 4)
    >>> f([torch.randn(6, 3), torch.randn(6, 5)]).shape
    torch.Size([6, 4])
    """

    def __init__(self, in_features: Sequence[int], out_features: int) -> None:
        super().__init__()
        self.out_features = int(out_features)
        self.layers = nn.Sequential(
            nn.Linear(int(sum(in_features)), out_features),
            nn.ReLU(),
            nn.BatchNorm1d(out_features),
            nn.Linear(out_features, out_features),
        )

    def forward(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.layers(torch.cat(list(hs), dim=1))


class ModalityAttention(nn.Module):
    """EAMC's modality-awareness module: one weight per view, a weighted mean of the views.

    ``e = softmax(sigmoid(W3 W2 W1 cat(h^1..h^V)) / τ)`` per sample (three linear layers
    ``V·d → 100 → 50 → V`` with no activation between them, as coded); the view weights are
    ``w = mean over the batch of e`` and the fused representation is ``Σ_v w_v h^v``.

    After training, :meth:`freeze_weights` stores fixed weights that eval mode then uses, so a
    sample's prediction does not depend on the other samples of its batch.

    Parameters
    ----------
    n_views : int
    in_features : int
        Width d of every view's representation.
    temperature : float, default=10.0
        τ (EAMC's code: 10).

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import ModalityAttention
    >>> fused, w = ModalityAttention(2, 4)([torch.randn(5, 4), torch.randn(5, 4)])
    >>> fused.shape, w.shape, round(float(w.sum()), 4)
    (torch.Size([5, 4]), torch.Size([2]), 1.0)
    """

    def __init__(self, n_views: int, in_features: int, temperature: float = 10.0) -> None:
        super().__init__()
        self.temperature = float(temperature)
        self.scores = nn.Sequential(
            nn.Linear(n_views * in_features, 100), nn.Linear(100, 50), nn.Linear(50, n_views)
        )
        self.register_buffer("frozen_weights", torch.full((n_views,), float("nan")))

    def sample_weights(self, hs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Per-sample weights ``e`` of shape (B, V); rows sum to one."""
        act = torch.sigmoid(self.scores(torch.cat(list(hs), dim=1)))
        return torch.softmax(act / self.temperature, dim=1)

    def forward(self, hs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The fused representation (B, d) and the view weights w (V,)."""
        if not self.training and not torch.isnan(self.frozen_weights).any():
            weights = self.frozen_weights
        else:
            weights = self.sample_weights(hs).mean(dim=0)
        fused = sum(w * h for w, h in zip(weights, hs))
        return fused, weights

    @torch.no_grad()
    def freeze_weights(self, weights: torch.Tensor) -> None:
        """Fix the weights used in eval mode (e.g. their mean over the training set)."""
        self.frozen_weights.copy_(weights)
