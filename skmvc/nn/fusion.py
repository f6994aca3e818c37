"""Fusion modules: turn the per-view representations into one."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ConcatMLPFusion"]


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
