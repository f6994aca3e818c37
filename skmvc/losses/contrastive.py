"""Contrastive losses: NT-Xent (SimCLR) between two sets of rows, and SimSiam."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "nt_xent",
    "info_nce",
    "cluster_contrast",
    "cluster_entropy",
    "reconstruction_loss",
    "simsiam_loss",
]


def nt_xent(
    a: torch.Tensor, b: torch.Tensor, temperature: float, both_directions: bool = True
) -> torch.Tensor:
    """NT-Xent between the rows of ``a`` and the rows of ``b`` (SimCLR; CONAN Eq. 4).

    The 2B rows of ``[a; b]`` are compared by cosine similarity divided by ``temperature``.
    The positive of row ``a_i`` is ``b_i`` (and vice versa); the denominator holds every other
    row, the positive included and the row itself excluded. The cross-entropy is averaged
    over the 2B anchors. CMMC's feature and label contrasts (Eqs. 3–4, 8–9) are this same
    construction (on rows of features, or on columns of soft labels passed transposed).

    Parameters
    ----------
    a, b : torch.Tensor of shape (B, d)
    temperature : float
        τ > 0.
    both_directions : bool, default=True
        Average over the 2B anchors of ``a`` and ``b``; with ``False``, over the B anchors of
        ``a`` only (the one-directional ℓ^{(v,u)} of RAV's label contrast).

    Returns
    -------
    loss : torch.Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import nt_xent
    >>> a = torch.eye(3)
    >>> round(nt_xent(a, a, 0.1).item(), 4)  # aligned pairs: low loss
    0.0002
    >>> round(nt_xent(a, a.roll(1, 0), 0.1).item(), 4)  # mismatched pairs: high loss
    10.0002
    """
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}.")
    n = a.shape[0]
    rows = F.normalize(torch.cat([a, b], dim=0), dim=1)
    logits = rows @ rows.T / temperature
    logits = logits.masked_fill(
        torch.eye(2 * n, dtype=torch.bool, device=logits.device), float("-inf")
    )
    idx = torch.arange(n, device=a.device)
    if not both_directions:
        return F.cross_entropy(logits[:n], idx + n)
    return F.cross_entropy(logits, torch.cat([idx + n, idx]))


def info_nce(anchors: torch.Tensor, targets: torch.Tensor, temperature: float) -> torch.Tensor:
    """One-directional InfoNCE from the rows of ``anchors`` to the rows of ``targets``.

    ``−(1/B) Σ_i log [exp(cos(a_i, t_i)/τ) / Σ_j exp(cos(a_i, t_j)/τ)]``: the positive of
    ``a_i`` is ``t_i``; the denominator holds every row of ``targets``, the positive included
    (CRRC Eqs. 12–13, H → R̂^v).

    Parameters
    ----------
    anchors, targets : torch.Tensor of shape (B, d)
    temperature : float

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import info_nce
    >>> a = torch.eye(3)
    >>> round(info_nce(a, a, 0.5).item(), 4)
    0.2395
    """
    logits = F.normalize(anchors, dim=1) @ F.normalize(targets, dim=1).T / temperature
    return F.cross_entropy(logits, torch.arange(anchors.shape[0], device=anchors.device))


def cluster_contrast(
    q_a: torch.Tensor, q_b: torch.Tensor, temperature: float, both_directions: bool = True
) -> torch.Tensor:
    """Contrast of the K cluster **columns** of two soft-label matrices (CMMC Eq. 8).

    :func:`nt_xent` on ``q_a.T`` and ``q_b.T``: column j of ``q_a`` (a B-vector) is pulled
    towards column j of ``q_b`` and pushed from the other 2K − 2 columns.

    Parameters
    ----------
    q_a, q_b : torch.Tensor of shape (B, K)
    temperature : float
        τ_L.
    both_directions : bool, default=True
        See :func:`nt_xent`.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import cluster_contrast
    >>> q = torch.eye(3).repeat(2, 1)  # 6 samples, 3 clusters
    >>> round(cluster_contrast(q, q, 1.0).item(), 4)
    0.9048
    """
    return nt_xent(q_a.T, q_b.T, temperature, both_directions)


def cluster_entropy(q: torch.Tensor) -> torch.Tensor:
    """``Σ_j s_j log s_j`` with ``s`` the batch mean of the soft labels (CMMC Eq. 9).

    This is minus the entropy of the cluster sizes: minimising it spreads the samples over
    the clusters (it stops every sample from landing in one cluster).

    Examples
    --------
    >>> import math
    >>> import torch
    >>> from skmvc.losses import cluster_entropy
    >>> balanced = cluster_entropy(torch.eye(4)).item()  # the minimum, -log(4)
    >>> round(balanced, 4) == round(-math.log(4), 4)
    True
    """
    s = q.mean(dim=0)
    return (s * torch.log(s.clamp_min(1e-12))).sum()


def reconstruction_loss(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Squared reconstruction error averaged over samples and features (CMMC Eq. 1, averaged
    as the reference code does). ``x`` is flattened to match ``x_hat``.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import reconstruction_loss
    >>> reconstruction_loss(torch.ones(2, 3), torch.zeros(2, 3)).item()
    1.0
    """
    return F.mse_loss(x_hat, x.flatten(1))


def simsiam_loss(
    pred_a: torch.Tensor, pred_b: torch.Tensor, target_a: torch.Tensor, target_b: torch.Tensor
) -> torch.Tensor:
    """Symmetric SimSiam loss ``−½ [cos(pred_a, sg(target_b)) + cos(pred_b, sg(target_a))]``.

    Cosines are averaged over the batch; ``sg`` is the stop-gradient on the targets (CONAN
    Eq. 5 with the standard SimSiam placement).

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import simsiam_loss
    >>> p = torch.randn(4, 8)
    >>> round(simsiam_loss(p, p, p, p).item(), 4)  # identical predictions and targets
    -1.0
    """
    return -0.5 * (
        F.cosine_similarity(pred_a, target_b.detach(), dim=1).mean()
        + F.cosine_similarity(pred_b, target_a.detach(), dim=1).mean()
    )
