"""Fusion modules: turn the per-view representations into one."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .missing import fill_missing, masked_view_logits, mean_over_present

__all__ = [
    "ConcatMLPFusion",
    "MeanFusion",
    "ModalityAttention",
    "CrossViewRecalibration",
    "normalized_concatenation",
]


def normalized_concatenation(
    hs: Sequence[torch.Tensor], observed=None, *, missing: str = "zeros"
) -> torch.Tensor:
    """The concatenation of the views' representations, each row of each view scaled to
    unit Euclidean norm.

    Every present view then weighs the same in the distances between samples, whatever the
    width or scale of its representation, and within a view only the direction of a row
    counts (the cosine geometry of spherical k-means). No weights.

    Parameters
    ----------
    hs : sequence of tensors of shape (batch, ...)
        The views' representations (flattened per sample).
    observed : bool tensor of shape (batch, n_views) or None
        Which views each sample has (None: all).
    missing : {"zeros", "mean"}, default="zeros"
        A view a sample misses is a block of zeros (``"zeros"``), or the mean of the
        sample's present normalised blocks (``"mean"``, :func:`~skmvc.nn.missing.fill_missing`;
        needs equal widths).

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import normalized_concatenation
    >>> normalized_concatenation([torch.tensor([[3.0, 4.0]]), torch.tensor([[2.0]])])
    tensor([[0.6000, 0.8000, 1.0000]])
    """
    if missing not in ("zeros", "mean"):
        raise ValueError(f"missing must be 'zeros' or 'mean', got {missing!r}.")
    blocks = [F.normalize(h.flatten(1), dim=1) for h in hs]
    if observed is not None and missing == "mean":
        blocks = fill_missing(blocks, observed)
    elif observed is not None:
        blocks = [b * observed[:, v : v + 1].to(b.dtype) for v, b in enumerate(blocks)]
    return torch.cat(blocks, dim=1)


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

    def forward(self, hs: Sequence[torch.Tensor], observed=None) -> torch.Tensor:
        # A missing view's representation is the mean of the sample's present ones.
        return self.layers(torch.cat(fill_missing(hs, observed), dim=1))


class MeanFusion(nn.Module):
    """The mean of the views' representations over the views each sample has
    (``observed``, as in :func:`skmvc.nn.missing.mean_over_present`); they must have the
    same width. No weights.

    The uniform case of the weighted-mean fusion of SiMVC and CoMVC (Trosten et al.,
    "Reconsidering Representation Alignment for Multi-view Clustering", CVPR 2021); with
    CONAN (``fusion="mean"``) it keeps the structure the views' representations have, which
    the concatenation MLP loses on most development sets (``benchmarks/studies/README.md``).

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import MeanFusion
    >>> MeanFusion()([torch.zeros(2, 3), torch.ones(2, 3)])
    tensor([[0.5000, 0.5000, 0.5000],
            [0.5000, 0.5000, 0.5000]])
    """

    def forward(self, hs: Sequence[torch.Tensor], observed=None) -> torch.Tensor:
        return mean_over_present(hs, observed)


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
    >>> with torch.no_grad():
    ...     fused, w = ModalityAttention(2, 4)([torch.randn(5, 4), torch.randn(5, 4)])
    >>> fused.shape, w.shape, round(w.sum().item(), 4)
    (torch.Size([5, 4]), torch.Size([2]), 1.0)
    """

    def __init__(self, n_views: int, in_features: int, temperature: float = 10.0) -> None:
        super().__init__()
        self.temperature = float(temperature)
        self.scores = nn.Sequential(
            nn.Linear(n_views * in_features, 100), nn.Linear(100, 50), nn.Linear(50, n_views)
        )
        self.register_buffer("frozen_weights", torch.full((n_views,), float("nan")))

    def sample_weights(self, hs: Sequence[torch.Tensor], observed=None) -> torch.Tensor:
        """Per-sample weights ``e`` of shape (B, V); rows sum to one. With ``observed``
        (B, V), a missing view's h is the mean of the sample's present ones in the
        attention's input, and its weight is zero."""
        act = torch.sigmoid(self.scores(torch.cat(fill_missing(hs, observed), dim=1)))
        return torch.softmax(masked_view_logits(act / self.temperature, observed), dim=1)

    def forward(self, hs: Sequence[torch.Tensor], observed=None):
        """The fused representation (B, d) and the view weights w (V,). A sample with a
        missing view is fused over its present views, with their weights renormalised."""
        if not self.training and not torch.isnan(self.frozen_weights).any():
            weights = self.frozen_weights
        else:
            weights = self.sample_weights(hs, observed).mean(dim=0)
        if observed is None:
            fused = sum(w * h for w, h in zip(weights, hs))
        else:
            per_sample = weights[None] * observed.to(weights.dtype)  # (B, V)
            per_sample = per_sample / per_sample.sum(dim=1, keepdim=True)
            fused = sum(per_sample[:, v : v + 1] * h for v, h in enumerate(hs))
        return fused, weights

    @torch.no_grad()
    def freeze_weights(self, weights: torch.Tensor) -> None:
        """Fix the weights used in eval mode (e.g. their mean over the training set)."""
        self.frozen_weights.copy_(weights)


class CrossViewRecalibration(nn.Module):
    """CRRC's residual cross-view recalibration of the view representations (Eqs. 7–11).

    For view v, the other views' representations are weighted by attention against the
    global representation H (``Q = W_q H``; score of view k ≠ v for sample i:
    ``⟨R^k_i, Q_i⟩ / √d``, softmax over k ≠ v) into ``G^v = Σ_{k≠v} α^k R^k``; a gate
    shared by all views, ``g_v = σ(W2 ReLU(W1 [R^v; G^v] + b1) + b2)``, controls how much of
    it flows back: ``R̂^v = R^v + g_v ⊙ G^v``.

    Parameters
    ----------
    dim : int
        Width d of H and of every R^v.
    gate_hidden : int, default=128
        Hidden width of the gate (CRRC: 2d → 128 → d).
    use_attention : bool, default=True
        ``False``: uniform weights over the other views (the paper's ablation without
        attention-based cross-view weighting).
    use_gate : bool, default=True
        ``False``: ``g_v = 1`` (ablation without dynamic gating).
    use_residual : bool, default=True
        ``False``: ``R̂^v = W_c [R^v; g_v ⊙ G^v]``, a learned linear map of the concatenation
        instead of the residual sum (ablation "direct concatenation").

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import CrossViewRecalibration
    >>> rec = CrossViewRecalibration(4)
    >>> out = rec(torch.randn(5, 4), [torch.randn(5, 4) for _ in range(3)])
    >>> len(out), out[0].shape
    (3, torch.Size([5, 4]))
    """

    def __init__(
        self,
        dim: int,
        gate_hidden: int = 128,
        use_attention: bool = True,
        use_gate: bool = True,
        use_residual: bool = True,
    ) -> None:
        super().__init__()
        self.dim = int(dim)
        self.use_attention = bool(use_attention)
        self.use_gate = bool(use_gate)
        self.use_residual = bool(use_residual)
        self.query = nn.Linear(dim, dim, bias=False) if use_attention else None
        self.gate = (
            nn.Sequential(
                nn.Linear(2 * dim, gate_hidden),
                nn.ReLU(),
                nn.Linear(gate_hidden, dim),
                nn.Sigmoid(),
            )
            if use_gate
            else None
        )
        self.merge = None if use_residual else nn.Linear(2 * dim, dim)

    def attention(self, h: torch.Tensor, rs: Sequence[torch.Tensor], observed=None):
        """Weights ``α[v, k, i]`` of view k for view v and sample i; ``α[v, v] = 0`` and
        ``Σ_k α[v, k, i] = 1``. Shape (V, V, B). With ``observed`` (B, V), a view k that
        sample i lacks gets ``α[v, k, i] = 0``; where i has no other view than v, all of
        ``α[v, :, i]`` are zero (no complement)."""
        r = torch.stack(list(rs))  # (V, B, d)
        n_views = r.shape[0]
        if self.use_attention:
            scores = (r * self.query(h)[None]).sum(-1) / math.sqrt(self.dim)  # (V, B)
        else:
            scores = torch.zeros(r.shape[:2], device=h.device, dtype=h.dtype)
        self_mask = torch.eye(n_views, dtype=torch.bool, device=h.device)[:, :, None]
        logits = scores[None].expand(n_views, -1, -1).masked_fill(self_mask, float("-inf"))
        if observed is None:
            return torch.softmax(logits, dim=1)
        logits = logits.masked_fill(~observed.t()[None], float("-inf"))
        alone = torch.isinf(logits).all(dim=1, keepdim=True)
        return torch.softmax(logits.masked_fill(alone, 0.0), dim=1).masked_fill(alone, 0.0)

    def gates_and_complements(
        self, h: torch.Tensor, rs: Sequence[torch.Tensor], observed=None
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The gates ``g_v`` (ones without the gate), one per view, and the complements
        ``G^v = Σ_{k≠v} α^k R^k`` stacked in shape (V, B, d)."""
        alpha = self.attention(h, rs, observed)
        complements = torch.einsum("vkb,kbd->vbd", alpha, torch.stack(list(rs)))
        if not self.use_gate:
            return [torch.ones_like(c) for c in complements], complements
        return [self.gate(torch.cat([r, c], dim=1)) for r, c in zip(rs, complements)], complements

    def forward(self, h: torch.Tensor, rs: Sequence[torch.Tensor], observed=None) -> list:
        """The recalibrated representations R̂^v, one per view (complemented from the
        views each sample has, with ``observed``)."""
        gates, complements = self.gates_and_complements(h, rs, observed)
        out = []
        for r_v, g_v, c_v in zip(rs, gates, complements):
            if self.use_residual:
                out.append(r_v + g_v * c_v)
            else:
                out.append(self.merge(torch.cat([r_v, g_v * c_v], dim=1)))
        return out
