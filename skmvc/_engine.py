"""The training engine: declared stages run by one skorch-based loop.

A method declares its training as data — a list of :class:`Stage` objects, each with a
number of epochs, the optimisers it builds (per-module learning rates through parameter
groups, a scheduler each) and one or more :class:`Step` objects (a loss function and the
optimisers it updates). :class:`Trainer`, a small :class:`skorch.NeuralNet` subclass, runs
them: skorch supplies the epoch loop, the callbacks and the history; the trainer supplies
batches sliced from tensors that already live on the device, the multi-optimiser step and
the per-stage bookkeeping. No method writes an epoch loop of its own.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer

from ._data import Batch, ViewData, _ShuffledBatches
from .exceptions import DivergenceError

__all__ = [
    "BestWeights",
    "OptimizerSpec",
    "PlateauStopping",
    "Stage",
    "Step",
    "Trainer",
    "all_finite",
    "apply_module",
    "build_optimizer",
    "mean_objective",
]

#: What a divergence message suggests, after naming where it happened.
DIVERGENCE_HINT = (
    "Likely causes: a learning rate that is too large (lower lr), or views that are not "
    "scaled (scale each view, e.g. skmvc.preprocessing.ViewTransformer(MinMaxScaler()))."
)


@torch.no_grad()
def all_finite(module: torch.nn.Module) -> bool:
    """Whether every parameter of ``module`` is finite (buffers may hold NaN sentinels)."""
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def build_optimizer(cls, params, **kwargs) -> torch.optim.Optimizer:
    """``cls(params, **kwargs)``; Adam and AdamW take their fused kernel where the device
    and the torch version support it.

    The fused kernel applies the same update rule in one pass over all parameters instead
    of a handful of element-wise operations per tensor (measured in ``docs/benchmarks.md``,
    "Speed and scale"). Its rounding differs from the per-tensor loop,
    so a fit's numbers are not bit-identical to one with ``fused=False``; a fit is still
    reproducible with the same ``random_state``.
    An explicit ``fused`` or ``foreach`` in ``kwargs`` is respected.
    """
    params = list(params)
    if cls in (torch.optim.Adam, torch.optim.AdamW) and not {"fused", "foreach"} & set(kwargs):
        try:
            return cls(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):  # older torch, or an unsupported device
            pass
    return cls(params, **kwargs)


@dataclass(frozen=True)
class OptimizerSpec:
    """How a stage builds one optimiser.

    Parameters
    ----------
    params : list of dict or iterable of torch.nn.Parameter
        Parameter groups (each may carry its own ``lr``, ``betas``, ...).
    cls : type, default=torch.optim.Adam
    kwargs : dict
        Keyword arguments of ``cls`` (defaults for every group).
    scheduler : callable or None
        ``scheduler(optimizer, epochs)`` returns a learning-rate scheduler stepped once per
        epoch of the stage.
    """

    params: list
    cls: type = torch.optim.Adam
    kwargs: dict = field(default_factory=dict)
    scheduler: Callable | None = None


@dataclass(frozen=True)
class Step:
    """One optimisation step on a batch: a loss and the optimisers it updates.

    Parameters
    ----------
    loss : callable
        ``loss(batch) -> dict`` of named scalar tensors; the key ``"loss"`` is the total that
        is back-propagated, the other keys are logged.
    optimizers : tuple of str
        Names of the stage's optimisers this step zeroes and steps.
    clip_grad_norm : float or None
        Clip the gradient norm of the stepped parameters before the step.
    objective : bool, default=True
        Whether this step's total counts in the logged ``loss`` of the batch (an adversary's
        loss, for example, does not). A stage with no such step logs its last step's total.
    """

    loss: Callable[[Batch], dict]
    optimizers: tuple
    clip_grad_norm: float | None = None
    objective: bool = True


@dataclass(frozen=True)
class Stage:
    """A training stage: ``epochs`` passes over the data with the given steps per batch.

    ``optimizers`` maps names to :class:`OptimizerSpec` (built when the stage starts) or to
    an already built ``torch.optim.Optimizer``, which keeps its state across the stages that
    share it (e.g. one Adam throughout CMMC's three stages).

    ``on_begin``, if given, runs before the first epoch (e.g. k-means initialisation of
    centroids or pseudo-labels computed from the network trained so far).

    ``callbacks``: skorch callbacks that watch or steer this stage only, e.g.
    :class:`BestWeights` (a label-free choice of the epoch the stage ends with); they run
    after the trainer's own and before its callbacks for every stage.
    """

    name: str
    epochs: int
    steps: tuple
    optimizers: dict
    on_begin: Callable[[], None] | None = None
    callbacks: tuple = ()


class _StopStage(Exception):
    """Ends a stage after the current epoch (raised by :class:`_EndOfStage`)."""


class PlateauStopping(Callback):
    """Early stopping: ends a stage when its epoch loss has stopped improving.

    The stage stops when its last ``n_iter_no_change`` epoch losses bring no improvement
    larger than ``tol`` (relative) over the best loss before them, the stage's first
    ``n_iter_no_change`` epochs (its warm-up) not counted as a best: a stage's loss can
    rise while the network adapts to the stage's objective before it falls (RAV's training
    stage on MSRC-v1 for its first 10 epochs), which is not a plateau.

    Parameters
    ----------
    n_iter_no_change : int
    tol : float, default=0.0
    """

    def __init__(self, n_iter_no_change: int, tol: float = 0.0):
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol

    def on_train_begin(self, net, **kwargs):
        self.losses_ = []

    def on_epoch_end(self, net, **kwargs):
        self.losses_.append(net.history[-1, "loss"])
        n, losses = self.n_iter_no_change, self.losses_
        if len(losses) <= 2 * n:
            return
        best_before = min(losses[n:-n])
        if min(losses[-n:]) > best_before - self.tol * abs(best_before):
            net.stop_stage("plateau")


class BestWeights(Callback):
    """A label-free choice of the epoch a stage ends with.

    ``monitor()`` is a score of the network (higher is better) read every ``every``
    epochs and after the stage's last epoch (its last one or the one early stopping ends
    it at). The stage keeps its last weights unless their reading is more than
    ``tolerance`` below the best one; then it ends with the weights of its best-scoring
    reading (the optimisers' state is not rolled back: use it on a stage that no other
    stage follows with the same optimiser). The history records each reading
    (``monitor``) and the epoch kept (``kept_epoch``). With ``start`` the monitor is also
    read before the first epoch (recorded in the first epoch's row as
    ``monitor_start``), and the stage may end with the weights it began with
    (``kept_epoch`` 0).

    Parameters
    ----------
    monitor : callable
    every : int, default=5
    tolerance : float, default=0.0
    start : bool, default=False
    """

    def __init__(self, monitor, every: int = 5, tolerance: float = 0.0, start: bool = False):
        self.monitor = monitor
        self.every = every
        self.tolerance = tolerance
        self.start = start

    def _read(self, net, epoch: int, record: bool = True) -> float:
        with torch.no_grad():
            score = float(self.monitor())
        if record:
            net.history.record("monitor", score)
        if score > self.best_[0]:
            weights = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
            self.best_ = (score, epoch, weights)
        return score

    def on_train_begin(self, net, **kwargs):
        self.best_ = (-math.inf, None, None)  # (score, epoch, weights)
        self.start_score_ = self._read(net, 0, record=False) if self.start else None

    def on_epoch_end(self, net, **kwargs):
        epoch = net.stage_epoch_
        if epoch == 1 and self.start_score_ is not None:
            net.history.record("monitor_start", self.start_score_)
        last = epoch == net.stage_.epochs or net.stopping_ is not None
        if last or epoch % self.every == 0:
            self._read(net, epoch)

    def on_train_end(self, net, **kwargs):
        score, epoch, weights = self.best_
        if epoch is None:
            return
        if net.history[-1, "monitor"] >= score - self.tolerance:
            net.history.record("kept_epoch", net.stage_epoch_)
        else:
            net.module_.load_state_dict(weights)
            net.history.record("kept_epoch", epoch)
        del self.best_


class _EndOfStage(Callback):
    """The last callback of a stage: ends it when a callback asked to stop."""

    def on_epoch_end(self, net, **kwargs):
        if net.stopping_ is not None:
            raise _StopStage


class _EpochAverages(Callback):
    """Writes the batch-size-weighted epoch mean of every logged loss term to the history."""

    def on_epoch_end(self, net, **kwargs):
        batches = net.history[-1, "batches"]
        if not batches:
            return
        weights = np.array([b["train_batch_size"] for b in batches], dtype=float)
        keys = [k for k in batches[0] if k not in ("train_batch_size", "train_loss")]
        net.history.record(
            "loss", float(np.average([b["train_loss"] for b in batches], weights=weights))
        )
        for key in keys:
            net.history.record(key, float(np.average([b[key] for b in batches], weights=weights)))


class _Progress(Callback):
    """A progress bar per stage (verbose >= 1) and a line per epoch (verbose >= 2)."""

    def __init__(self, verbose: int = 0):
        self.verbose = verbose

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        stage = net.stage_
        self.bar_ = tqdm(
            total=stage.epochs, desc=stage.name, unit="epoch", disable=self.verbose < 1
        )

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.update(1)
        self.bar_.set_postfix(loss=f"{row.get('loss', float('nan')):.4g}")
        if self.verbose >= 2:
            terms = ", ".join(
                f"{k}={v:.4g}"
                for k, v in row.items()
                if k not in ("batches", "epoch", "stage", "train_batch_count")
                and isinstance(v, float)
            )
            self.bar_.write(f"[{row['stage']}] epoch {row['epoch']}: {terms}")

    def on_train_end(self, net, **kwargs):
        if net.history[-1].get("stopped") == "plateau":
            self.bar_.set_postfix_str(
                f"loss={net.history[-1, 'loss']:.4g}, stopped early: loss plateaued"
            )
        self.bar_.close()
        del self.bar_


class Trainer(NeuralNet):
    """Runs a network through declared :class:`Stage` objects (skorch by composition).

    Parameters
    ----------
    module : torch.nn.Module
        The network, already built; it is moved to ``device``.
    batch_size : int
    device : torch.device
    generator : torch.Generator
        Draws the order of the samples in every epoch.
    verbose : int, default=0
        0 silent, 1 a progress bar per stage, 2 also a line per epoch.
    name : str, default="model"
        The method's name, for error messages.
    tol : float, default=0.0
        Relative improvement of a stage's epoch loss that counts as progress.
    n_iter_no_change : int or None, default=None
        A stage stops early when its epoch loss has not improved on its best value before
        the last ``n_iter_no_change`` epochs by more than ``tol`` times that value's
        magnitude, its first ``n_iter_no_change`` epochs being a warm-up whose losses do
        not count as a best (so a stage runs at least ``2 * n_iter_no_change + 1``
        epochs, or all of them if it has fewer; :class:`PlateauStopping`); ``None`` runs
        every stage for all its epochs. The last row of a stage in the history records why
        it stopped (``stopped``: ``"plateau"`` or ``"max_epochs"``).
    extra_callbacks : sequence of skorch callbacks, default=()
        Callbacks for every stage, after the trainer's own and each stage's: they see
        every epoch and batch (``on_epoch_end``, ``on_batch_end``, ...) and the history,
        e.g. to time a fit or to record what a network does during training. A callback
        ends the current stage after this epoch with ``net.stop_stage(reason)``.

    Raises
    ------
    skmvc.exceptions.DivergenceError
        From :meth:`run_stage`, as soon as a step's loss or the network's weights are not
        finite, naming the method, the stage and the epoch.
    """

    def __init__(
        self,
        module,
        *,
        batch_size,
        device,
        generator,
        verbose=0,
        name="model",
        tol=0.0,
        n_iter_no_change=None,
        extra_callbacks=(),
    ):
        super().__init__(
            module=module,
            criterion=torch.nn.Identity,
            train_split=None,
            batch_size=batch_size,
            device=device,
            iterator_train=_ShuffledBatches,
            iterator_train__generator=generator,
            callbacks=[("progress", _Progress(verbose))],
            verbose=0,
        )
        self.name = name
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.extra_callbacks = tuple(extra_callbacks)

    @property
    def _default_callbacks(self):
        return [("epoch_timer", EpochTimer()), ("averages", _EpochAverages())]

    def initialize_optimizer(self, triggered_directly=None):
        # Optimisers belong to stages and are built in run_stage.
        return self

    def get_dataset(self, X, y=None):
        if not isinstance(X, ViewData):
            raise TypeError("Trainer.fit_loop expects a ViewData.")
        return X

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        self.stage_epoch_ += 1
        self.history.record("stage", self.stage_.name)

    def _diverged(self, what: str) -> DivergenceError:
        return DivergenceError(
            f"{self.name} diverged in stage {self.stage_.name!r} at epoch {self.stage_epoch_} "
            f"of {self.stage_.epochs}: {what}. {DIVERGENCE_HINT}"
        )

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        for scheduler in self._schedulers:
            scheduler.step()

    def run_stage(self, stage: Stage, data: ViewData) -> Trainer:
        """Build the stage's optimisers and train for ``stage.epochs`` epochs."""
        if not self.initialized_:
            self.initialize()
        self.stage_ = stage
        self.stage_epoch_ = 0
        self._optimizers_by_name = {}
        self._schedulers = []
        for name, spec in stage.optimizers.items():
            if isinstance(spec, torch.optim.Optimizer):  # shared with other stages
                self._optimizers_by_name[name] = spec
                continue
            optimizer = build_optimizer(spec.cls, spec.params, **spec.kwargs)
            self._optimizers_by_name[name] = optimizer
            if spec.scheduler is not None:
                self._schedulers.append(spec.scheduler(optimizer, stage.epochs))
        if stage.on_begin is not None:
            stage.on_begin()
        if stage.epochs > 0:
            self._train(stage, data)
            if not all_finite(self.module_):
                raise self._diverged("the network's weights are no longer finite")
        return self

    def stop_stage(self, reason: str) -> None:
        """End the current stage after this epoch; the history records ``reason`` as the
        stage's ``stopped``. For a callback's ``on_epoch_end``."""
        self.stopping_ = reason

    def _train(self, stage: Stage, data: ViewData) -> None:
        """Run the stage's epochs with its callbacks installed (the trainer's own, then
        early stopping, the stage's, the trainer's ``extra_callbacks``, and the end-of-stage
        check), and record why it stopped."""
        own = list(self.callbacks_)
        added = [*stage.callbacks, *self.extra_callbacks]
        if self.n_iter_no_change is not None:
            added.insert(0, PlateauStopping(self.n_iter_no_change, self.tol))
        for callback in added:
            callback.initialize()
        self.callbacks_ = [
            *own,
            *((f"stage_{i}", cb) for i, cb in enumerate(added)),
            ("end_of_stage", _EndOfStage()),
        ]
        self.stopping_ = None
        try:
            self.notify("on_train_begin", X=data, y=None)
            try:
                self.fit_loop(data, epochs=stage.epochs)
            except _StopStage:
                pass
            self.history.record("stopped", self.stopping_ or "max_epochs")
            self.notify("on_train_end", X=data, y=None)
        finally:
            self.callbacks_ = own

    def train_step(self, batch: Batch, **fit_params) -> dict:
        """Run each of the stage's steps on the batch; log every named term."""
        self.module_.train()
        objective = None
        logged = {}
        totals = []
        for step in self.stage_.steps:
            optimizers = [self._optimizers_by_name[name] for name in step.optimizers]
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            try:
                terms = step.loss(batch)
                total = terms["loss"]
                total.backward()
            except RuntimeError as exc:
                # A loss that checks its input (e.g. BCE on NaN) fails before ours can:
                # report the divergence, not the symptom.
                if not all_finite(self.module_):
                    raise self._diverged("the network's weights are no longer finite") from exc
                raise
            if step.clip_grad_norm is not None:
                params = [p for o in optimizers for g in o.param_groups for p in g["params"]]
                torch.nn.utils.clip_grad_norm_(params, step.clip_grad_norm)
            for optimizer in optimizers:
                optimizer.step()
            if step.objective:
                objective = total if objective is None else objective + total
            logged.update({k: v for k, v in terms.items() if k != "loss"})
            totals.append(total.detach().reshape(()))
        if objective is None:  # no step counts: log the last step's total
            objective = total
        # One device-to-host transfer for every term and every step's total, which also
        # checks that training has not diverged.
        values = torch.stack(
            [v.detach().reshape(()).float() for v in logged.values()] + totals
        ).tolist()
        if not all(math.isfinite(v) for v in values):
            names = [*logged, *(["loss"] * len(totals))]
            bad = sorted({k for k, v in zip(names, values) if not math.isfinite(v)})
            raise self._diverged(f"the loss is not finite (non-finite terms: {bad})")
        for key, value in zip(logged, values):
            self.history.record_batch(key, value)
        return {"loss": objective.detach(), "y_pred": None}


@torch.no_grad()
def apply_module(
    fn, module, data: ViewData, batch_size: int, *, batch_statistics: bool = False, order=None
) -> np.ndarray:
    """``fn(module, batch)`` over the data in sequential batches, in eval mode, as one
    float32 array on the host.

    With ``batch_statistics=True`` the batches go through a throw-away copy of ``module`` in
    train mode, so batch normalisation uses each batch's statistics, as training does (and
    the module's running statistics are left untouched). Use it for what training will
    compare with its own outputs, e.g. centroids initialised before the first epoch. The
    batches follow ``order`` (a permutation of the samples, or of some of them) when given;
    the output rows are in sample order either way (only the samples in ``order``).

    Raises :class:`~skmvc.exceptions.DivergenceError` when the output is not finite (NaN
    weights, or views so large that the network overflows), before anything downstream
    (k-means, an argmax) reads it.
    """
    if batch_statistics:
        module = copy.deepcopy(module).train()
    else:
        module.eval()
    outs = [fn(module, batch).float().cpu() for batch in data.batches(batch_size, order)]
    out = torch.cat(outs)
    if order is not None:
        out = out[torch.as_tensor(np.argsort(order))]
    if not bool(torch.isfinite(out).all()):
        cause = (
            "the network's weights are not finite"
            if not all_finite(module)
            else "the views are too large for the network (values overflow float32)"
        )
        raise DivergenceError(f"The network's output is not finite: {cause}. {DIVERGENCE_HINT}")
    return out.numpy()


@torch.no_grad()
def mean_objective(objective, module, data: ViewData, batch_size: int) -> float:
    """The objective's total averaged over the samples of ``data``, in eval mode.

    Batches follow :meth:`ViewData.canonical_order`, so the value does not depend on the
    order of the rows (contrastive terms depend on what shares a batch).
    """
    if len(data) < 2:
        raise ValueError(f"The loss needs at least 2 samples, got n_samples={len(data)}.")
    module.eval()
    total, count = 0.0, 0
    for batch in data.batches(batch_size, order=data.canonical_order()):
        n = int(batch.index.numel())
        total += float(objective(module, batch)["loss"]) * n
        count += n
    return total / count
