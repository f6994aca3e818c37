"""A toy method: the whole of what a method author writes, in one file.

Per-view MLP encoders, their mean over the views each sample has, and a DDC clustering
head trained with DDC's loss. The contract tests (scikit-learn's checks, save and load,
missing views, the fail-safe fit) run over it beside the five methods.
"""

from __future__ import annotations

from functools import partial
from numbers import Integral

from sklearn.utils._param_validation import Interval
from torch import nn

from skmvc.base import BaseMultiViewClustering, OptimizerSpec, Stage, Step
from skmvc.losses import DDCLoss
from skmvc.nn import MLP, DDCHead, init_children
from skmvc.nn.missing import mean_over_present


class _ToyNetwork(nn.Module):
    def __init__(self, view_shapes, hidden, n_clusters):
        super().__init__()
        self.encoders = nn.ModuleList(MLP(shape[0], (hidden,)) for shape in view_shapes)
        self.head = DDCHead(hidden, n_clusters, hidden)


class ToyClustering(BaseMultiViewClustering):
    """Mean-fused MLP encoders and a DDC head (a test method)."""

    _parameter_constraints = {
        **BaseMultiViewClustering._parameter_constraints,
        "hidden": [Interval(Integral, 1, None, closed="left")],
    }
    _schedules = {"paper": {}, "quick": {"max_epochs": 10}}

    def __init__(
        self, n_clusters=8, *, hidden=16, max_epochs=30, batch_size=32, lr=1e-2,
        device="auto", random_state=None, n_init=1, tol=1e-3, selection="loss",
        n_iter_no_change=None, n_jobs=None, verbose=0, callbacks=None, view_sizes=None,
        views_on_device="auto",
    ):  # fmt: skip
        self.n_clusters, self.hidden, self.max_epochs = n_clusters, hidden, max_epochs
        self.batch_size, self.lr, self.device = batch_size, lr, device
        self.random_state, self.n_init, self.tol = random_state, n_init, tol
        self.selection, self.n_iter_no_change, self.n_jobs = selection, n_iter_no_change, n_jobs
        self.verbose, self.callbacks, self.view_sizes = verbose, callbacks, view_sizes
        self.views_on_device = views_on_device

    def _build_module(self, view_shapes, generator):
        return init_children(_ToyNetwork(view_shapes, self.hidden, self.n_clusters), generator)

    def _stages(self, module, data, seed):
        adam = OptimizerSpec(list(module.parameters()), kwargs={"lr": self.lr})
        step = Step(partial(self._objective, module), ("adam",))
        return [Stage("train", self.max_epochs, (step,), {"adam": adam})]

    def _objective(self, module, batch):
        terms = DDCLoss()(*module.head(self._embedding(module, batch)))
        return {**terms, "loss": sum(terms.values())}

    def _soft_assignments(self, module, batch):
        return module.head(self._embedding(module, batch))[0]

    def _embedding(self, module, batch):
        hs = [encoder(x) for encoder, x in zip(module.encoders, batch.views)]
        return mean_over_present(hs, batch.observed)
