"""Building blocks for samples with missing views.

A batch carries ``observed``, a bool tensor of shape ``(batch, n_views)`` (None when every
sample has every view; see :class:`skmvc._engine.Batch`). A missing view's input row holds
zeros, so everything a network computes from it is meaningless: these helpers keep it out
of fusions and losses. With ``observed=None`` each returns its input unchanged, so the
complete-data path is the same computation as without them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = [
    "present",
    "fill_missing",
    "mean_over_present",
    "masked_view_logits",
    "term_on_present",
    "term_on_pairs",
]


def present(observed: torch.Tensor | None, v: int) -> torch.Tensor | None:
    """The bool mask of the samples that have view ``v``, or None when all have it."""
    return None if observed is None else observed[:, v]


def fill_missing(hs: Sequence[torch.Tensor], observed: torch.Tensor | None) -> list:
    """Per-view representations with each missing one replaced by the mean of the sample's
    present ones, for fusions that need every view (concatenation). Needs equal widths."""
    hs = list(hs)
    if observed is None:
        return hs
    widths = {h.shape[1:] for h in hs}
    if len(widths) != 1:
        raise ValueError(
            "Filling a missing view's representation needs every view's representation to "
            f"have the same shape; got {[tuple(h.shape[1:]) for h in hs]}."
        )
    mean = mean_over_present(hs, observed)
    return [
        torch.where(observed[:, v].view(-1, *[1] * (h.ndim - 1)), h, mean)
        for v, h in enumerate(hs)
    ]


def mean_over_present(hs: Sequence[torch.Tensor], observed: torch.Tensor | None):
    """The per-sample mean of ``hs`` over the views each sample has (all views if None)."""
    stacked = torch.stack(list(hs))  # (V, B, ...)
    if observed is None:
        return stacked.mean(dim=0)
    w = observed.t().to(stacked.dtype).view(*observed.t().shape, *[1] * (stacked.ndim - 2))
    return (stacked * w).sum(dim=0) / w.sum(dim=0).clamp_min(1.0)


def masked_view_logits(logits: torch.Tensor, observed: torch.Tensor | None) -> torch.Tensor:
    """Logits of shape ``(batch, n_views)`` with missing views at -inf, so that a softmax
    over views gives them zero weight and renormalises over the present ones."""
    if observed is None:
        return logits
    return logits.masked_fill(~observed, float("-inf"))


def term_on_present(
    term: Callable[..., torch.Tensor],
    observed: torch.Tensor | None,
    v: int,
    *tensors: torch.Tensor,
    min_rows: int = 1,
) -> torch.Tensor:
    """``term(*tensors)`` over the samples that have view ``v`` (all when ``observed`` is
    None); zero, with the graph intact, when fewer than ``min_rows`` samples have it."""
    mask = present(observed, v)
    if mask is None:
        return term(*tensors)
    if int(mask.sum()) < min_rows:
        return tensors[0].new_zeros(())
    return term(*(t[mask] for t in tensors))


def term_on_pairs(
    term: Callable[..., torch.Tensor],
    observed: torch.Tensor | None,
    v: int,
    w: int,
    *tensors: torch.Tensor,
    min_rows: int = 1,
) -> torch.Tensor:
    """``term(*tensors)`` over the samples that have both view ``v`` and view ``w``."""
    if observed is None:
        return term(*tensors)
    both = (observed[:, v] & observed[:, w])[:, None]
    return term_on_present(term, both, 0, *tensors, min_rows=min_rows)
