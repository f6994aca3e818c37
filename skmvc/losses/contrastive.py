"""Contrastive losses: NT-Xent (SimCLR) between two sets of rows, and SimSiam."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["nt_xent", "simsiam_loss"]


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
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

    Returns
    -------
    loss : torch.Tensor, scalar
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
    targets = torch.cat([idx + n, idx])
    return F.cross_entropy(logits, targets)


def simsiam_loss(
    pred_a: torch.Tensor, pred_b: torch.Tensor, target_a: torch.Tensor, target_b: torch.Tensor
) -> torch.Tensor:
    """Symmetric SimSiam loss ``−½ [cos(pred_a, sg(target_b)) + cos(pred_b, sg(target_a))]``.

    Cosines are averaged over the batch; ``sg`` is the stop-gradient on the targets (CONAN
    Eq. 5 with the standard SimSiam placement).
    """
    return -0.5 * (
        F.cosine_similarity(pred_a, target_b.detach(), dim=1).mean()
        + F.cosine_similarity(pred_b, target_a.detach(), dim=1).mean()
    )
