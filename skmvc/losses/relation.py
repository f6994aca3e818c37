"""RAV's relationship alignment and view-distance weights (``specs/rav.md``).

Everything is computed per batch: memory is O(B²), never O(n²).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .contrastive import nt_xent
from .ddc import squared_distances

__all__ = ["relation_matrix", "relation_alignment_loss", "view_distance_weights"]


def relation_matrix(z: torch.Tensor, sigma: float = 1.0, scale: float = 1.0) -> torch.Tensor:
    """Gaussian relation matrix ``S_ik = exp(−||z_i − z_k||² / (scale · σ))``, shape (B, B).

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import relation_matrix
    >>> relation_matrix(torch.tensor([[0.0], [1.0]])).round(decimals=4)
    tensor([[1.0000, 0.3679],
            [0.3679, 1.0000]])
    """
    return torch.exp(-squared_distances(z) / (scale * sigma))


def relation_alignment_loss(
    latents: Sequence[torch.Tensor],
    sigma: float = 1.0,
    temperature: float = 0.5,
    normalize: bool = True,
    scale_global: bool = True,
    observed: torch.Tensor | None = None,
) -> torch.Tensor:
    """RAV's L_S: the global relation matrix supervises each view's (global-supervise-local).

    For each view, NT-Xent from the rows of ``S^v`` (anchors) to the rows of the global
    ``S``: the positive of ``s^v_i`` is ``s_i``; the other rows of ``S`` and of ``S^v`` are
    negatives, the row itself is excluded. Summed over views, averaged over anchors.

    Parameters
    ----------
    latents : sequence of torch.Tensor of shape (B, d_v)
        The views' latents z^v.
    sigma : float, default=1.0
        σ of the kernel.
    temperature : float, default=0.5
        τ_F.
    normalize : bool, default=True
        L2-normalise the latents first (*assumption*: on raw latents a σ = 1 kernel is
        nearly the identity).
    scale_global : bool, default=True
        Divide the global squared distances by V so their scale matches the views'
        (*assumption*).
    observed : torch.Tensor of bool of shape (B, V) or None
        Which views each sample has (None: all). With missing views, the global squared
        distance of two samples is the mean over the views both have (times V without
        ``scale_global``), zero relation when they share none; each view's term runs over
        the samples that have that view.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import relation_alignment_loss
    >>> z = [torch.randn(8, 4), torch.randn(8, 5)]
    >>> relation_alignment_loss(z).shape
    torch.Size([])
    """
    zs = [F.normalize(z, dim=1) if normalize else z for z in latents]
    scale = float(len(zs)) if scale_global else 1.0
    if observed is None:
        global_s = relation_matrix(torch.cat(zs, dim=1), sigma, scale)
        return sum(
            nt_xent(relation_matrix(z, sigma), global_s, temperature, both_directions=False)
            for z in zs
        )
    pairs = [(observed[:, v, None] & observed[None, :, v]).to(zs[0].dtype) for v in range(len(zs))]
    shared = sum(pairs)
    distance = sum(squared_distances(z) * p for z, p in zip(zs, pairs)) / shared.clamp_min(1.0)
    global_s = torch.exp(-distance * len(zs) / (scale * sigma)) * (shared > 0)
    total = zs[0].new_zeros(())
    for v, z in enumerate(zs):
        idx = observed[:, v].nonzero().squeeze(1)
        if len(idx) >= 2:
            total = total + nt_xent(
                relation_matrix(z[idx], sigma),
                global_s[idx][:, idx],
                temperature,
                both_directions=False,
            )
    return total


@torch.no_grad()
def view_distance_weights(
    latents: Sequence[torch.Tensor], normalize: bool = True, observed=None
) -> torch.Tensor:
    """RAV's view-aware weights ``w^{(v,u)} = softmax_u(−WD(v, u))``, shape (V, V).

    ``WD(v, u)`` is the mean Euclidean distance between every sample of view v and every
    sample of view u in the batch (the summary's "Wasserstein distance"); the softmax runs
    over all u = 1..V, v itself included, so each row sums to one. No gradient. With
    ``observed`` (B, V), each view's samples are those that have it.

    Examples
    --------
    >>> import torch
    >>> from skmvc.losses import view_distance_weights
    >>> z = torch.randn(10, 4)
    >>> w = view_distance_weights([z, z + 0.01, -z])
    >>> w.sum(dim=1).round(decimals=4), bool(w[0, 1] > w[0, 2])
    (tensor([1., 1., 1.]), True)
    """
    zs = [F.normalize(z, dim=1) if normalize else z for z in latents]
    if observed is not None:  # each view's distribution: the samples that have it
        zs = [z[observed[:, v]] for v, z in enumerate(zs)]
    wd = torch.stack(
        [
            torch.stack(
                [torch.cdist(a, b).mean() if len(a) and len(b) else a.new_zeros(()) for b in zs]
            )
            for a in zs
        ]
    )
    return torch.softmax(-wd, dim=1)
