"""Building blocks for samples with missing views.

A batch carries ``observed``, a bool tensor of shape ``(batch, n_views)`` (None when every
sample has every view; see :class:`skmvc._data.Batch`). A missing view's input row holds
zeros, so everything a network computes from it is meaningless: these helpers keep it out
of fusions and losses. With ``observed=None`` each returns its input unchanged, so the
complete-data path is the same computation as without them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .encoders import MLP

__all__ = [
    "CrossViewPredictor",
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


class CrossViewPredictor(nn.Module):
    """Predicts each view's representation from the sample's other views, to fill a missing
    one (the idea of COMPLETER's and DCP's cross-view prediction, in a simpler form).

    One MLP per view ``v`` maps the mean of the representations of the sample's other
    present views to a prediction of ``z^v``. :meth:`forward` returns the representations
    with each missing one replaced by its prediction; :meth:`loss` is the prediction error
    on the samples that have view ``v`` and at least one other, and marks the predictor
    ``trained``. An untrained predictor predicts nothing: :meth:`forward` returns ``zs``
    unchanged, and the caller fills missing views its own way.

    Parameters
    ----------
    n_views : int
        Number of views (at least two).
    dim : int
        Width of every view's representation.
    hidden : int
        Hidden width of each MLP (``dim → hidden → dim``).

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn.missing import CrossViewPredictor
    >>> predictor = CrossViewPredictor(3, dim=4, hidden=8)
    >>> zs = [torch.randn(5, 4) for _ in range(3)]
    >>> observed = torch.tensor([[1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]]).bool()
    >>> predictor.loss(zs, observed).shape
    torch.Size([])
    >>> filled = predictor(zs, observed)
    >>> bool((filled[0][0] == zs[0][0]).all()), bool((filled[1][1] == zs[1][1]).all())
    (True, False)
    """

    def __init__(self, n_views: int, dim: int, hidden: int) -> None:
        super().__init__()
        if n_views < 2:
            raise ValueError(f"Cross-view prediction needs at least two views; got {n_views}.")
        self.predictors = nn.ModuleList(
            MLP(dim, [hidden, dim], activate_last=False) for _ in range(n_views)
        )
        self.register_buffer("trained", torch.tensor(False))

    def _sources(self, zs, observed, v):
        """The mean of the other present views' representations, and which samples have
        at least one other view."""
        others = [u for u in range(len(zs)) if u != v]
        stacked = torch.stack([zs[u] for u in others])  # (V - 1, B, d)
        if observed is None:
            return stacked.mean(dim=0), torch.ones(
                stacked.shape[1], dtype=torch.bool, device=stacked.device
            )
        weights = observed[:, others].t().to(stacked.dtype).unsqueeze(-1)  # (V - 1, B, 1)
        count = weights.sum(dim=0)
        return (stacked * weights).sum(dim=0) / count.clamp_min(1.0), count[:, 0] > 0

    def forward(self, zs: Sequence[torch.Tensor], observed: torch.Tensor | None) -> list:
        """``zs`` with each missing view's representation replaced by its prediction
        (``zs`` itself when ``observed`` is None or the predictor is untrained)."""
        zs = list(zs)
        if observed is None or not bool(self.trained):
            return zs
        filled = []
        for v, z in enumerate(zs):
            if bool(observed[:, v].all()):
                filled.append(z)
                continue
            source, _ = self._sources(zs, observed, v)
            filled.append(torch.where(observed[:, v : v + 1], z, self.predictors[v](source)))
        return filled

    def loss(self, zs: Sequence[torch.Tensor], observed: torch.Tensor | None) -> torch.Tensor:
        """Σ_v mean squared error of view ``v``'s prediction, over the samples that have
        view ``v`` and another view. Its gradient reaches the representations as well as
        the predictors, so that a term on it also makes each view's representation
        predictable from the others (COMPLETER's dual prediction); detach ``zs`` to train
        the predictors only."""
        if self.training:
            self.trained.fill_(True)
        total = zs[0].new_zeros(())
        for v, z in enumerate(zs):
            source, has_other = self._sources(zs, observed, v)
            rows = has_other if observed is None else has_other & observed[:, v]
            if bool(rows.any()):
                total = total + F.mse_loss(self.predictors[v](source[rows]), z[rows])
        return total
