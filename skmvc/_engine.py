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
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer

from .exceptions import DivergenceError
from .multiview import is_memmap, release_pages, row_chunks

__all__ = [
    "build_optimizer",
    "Batch",
    "ViewData",
    "OptimizerSpec",
    "Step",
    "Stage",
    "Trainer",
    "resolve_device",
    "all_finite",
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


class Batch(NamedTuple):
    """A mini-batch: one tensor per view, the indices of its samples in the data set, and
    which views each sample has.

    ``observed`` is a bool tensor of shape ``(batch, n_views)``, or None when every sample
    of the data set has every view. The rows of a missing view hold zeros: a loss or a
    fusion must not treat them as observed (:mod:`skmvc.nn.missing`).
    """

    views: list
    index: torch.Tensor
    observed: torch.Tensor | None = None


def build_optimizer(cls, params, **kwargs) -> torch.optim.Optimizer:
    """``cls(params, **kwargs)``; Adam and AdamW take their fused kernel where the device
    and the torch version support it.

    The fused kernel applies the same update rule in one pass over all parameters instead
    of a handful of element-wise operations per tensor (measured in ``docs/benchmarks.md``,
    "Speed against the reference codes"). Its rounding differs from the per-tensor loop,
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


def resolve_device(device) -> torch.device:
    """Turn the ``device`` parameter into a :class:`torch.device`.

    ``"auto"`` is CUDA when available, else the CPU. Asking for CUDA on a machine without it
    raises a ``ValueError`` that says so (rather than failing later inside PyTorch).
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', 'cuda' or "
            "'cuda:<index>'."
        ) from exc
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is a {resolved.type!r} device, on which skmvc cannot train; "
            "use 'auto', 'cpu', 'cuda' or 'cuda:<index>' (or 'mps' on Apple silicon)."
        )
    if resolved.type == "mps" and not (
        hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    ):
        raise ValueError(
            f"device={device!r} was requested but MPS is not available on this machine. Use "
            "device='cpu' or device='auto'."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this machine "
                "(torch.cuda.is_available() is False). Use device='cpu' or device='auto'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} CUDA "
                "device(s) are available."
            )
    return resolved


#: Fraction of the device's free memory the views may take to be held there whole
#: (``on_device="auto"``).
DEVICE_MEMORY_FRACTION = 0.5


def device_budget(device: torch.device) -> int:
    """Bytes of views that may be held on ``device`` whole (``on_device="auto"``): a
    fraction of the free memory of a CUDA device; unlimited elsewhere (on the CPU, float32
    views are wrapped without a copy)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * DEVICE_MEMORY_FRACTION)
    return np.iinfo(np.int64).max


def _nbytes(view) -> int:
    if sp.issparse(view):
        return int(view.data.nbytes + view.indices.nbytes + view.indptr.nbytes)
    return int(np.prod(view.shape)) * 4  # as float32 on the device


class ViewData(torch.utils.data.Dataset):
    """The training views, held on the device when they fit, else read from the host a
    mini-batch at a time.

    Parameters
    ----------
    views : list
        Validated views (:func:`skmvc.multiview.check_views`).
    device : torch.device
    on_device : {"auto", True, False}, default="auto"
        ``True`` copies every dense view to the device once; ``False`` keeps the views on
        the host and copies each mini-batch (from pinned memory, ahead of its use, on CUDA);
        ``"auto"`` holds them on the device when they take at most :func:`device_budget`.
    observed : ndarray of bool of shape (n_samples, n_views), default=None
        Which views each sample has (:func:`skmvc.multiview.observed_mask`); None when all.
        Each batch carries its rows of the mask, and the rows of its missing views are
        zeros (whatever the input held there, NaN included; the input is not modified).

    Notes
    -----
    On the CPU a float32 array is wrapped without a copy. A memory-mapped view
    (``np.load(..., mmap_mode="r")``) is never read whole: each batch reads its rows, and
    the pages a batch has read are released from the process after it, so resident memory
    depends on the batch, not on the number of samples. A SciPy sparse view stays sparse on
    the host; only the rows of a batch are densified. A batch is taken with one gather per
    view: no per-sample ``__getitem__`` and no collate.
    """

    def __init__(
        self, views: Sequence, device: torch.device, on_device="auto", observed=None
    ) -> None:
        self.device = torch.device(device)
        self.n_samples = int(views[0].shape[0])
        self._order = None
        self.observed = None
        if observed is not None:
            self.observed = torch.as_tensor(np.asarray(observed, dtype=bool), device=self.device)
        dense = [v for v in views if not sp.issparse(v) and not is_memmap(v)]
        if on_device == "auto":
            on_device = sum(map(_nbytes, dense)) <= device_budget(self.device)
        self.on_device = bool(on_device)
        self._views = []
        self._resident = []  # per view: sliced on the device, or gathered on the host
        for view in views:
            self._resident.append(self.on_device and not sp.issparse(view) and not is_memmap(view))
            if sp.issparse(view):
                self._views.append(view.tocsr())
            elif is_memmap(view):
                self._views.append(view)  # read a batch at a time, converted as read
            else:
                arr = np.ascontiguousarray(view, dtype=np.float32)
                with warnings.catch_warnings():
                    # A read-only array is wrapped, not copied: the engine only reads the
                    # views (batches are new tensors).
                    warnings.filterwarnings("ignore", message=".*not writable.*")
                    tensor = torch.from_numpy(arr)
                self._views.append(tensor.to(self.device) if self.on_device else tensor)
        self._copy_stream = None
        if self.device.type == "cuda" and not self.on_device:
            self._copy_stream = torch.cuda.Stream(self.device)

    def __len__(self) -> int:
        return self.n_samples

    def with_observed(self, observed) -> ViewData:
        """The same views (shared, not copied) under another mask of present views, e.g.
        complete samples seen as if some of their views were missing."""
        other = copy.copy(self)
        other.observed = torch.as_tensor(np.array(observed, dtype=bool), device=self.device)
        return other

    def __getitem__(self, i):  # for completeness; the engine never calls it per sample
        return self.take(torch.as_tensor([i], device=self.device))

    def _host_rows(self, view, index: np.ndarray) -> torch.Tensor:
        """The rows at ``index`` of a host view, as a float32 CPU tensor."""
        if isinstance(view, torch.Tensor):
            return view.index_select(0, torch.from_numpy(index))
        if sp.issparse(view):
            return torch.from_numpy(np.asarray(view[index].toarray(), dtype=np.float32))
        # A memory map: read the rows in file order (sequential reads), then restore the
        # batch's order.
        order = np.argsort(index, kind="stable")
        rows = np.empty((len(index), *view.shape[1:]), dtype=np.float32)
        rows[order] = view[index[order]]
        # Released after every batch: a read of scattered rows maps far more than the rows
        # (the kernel maps whole page-cache folios around each), ~0.3 GB in a few batches
        # of a 0.4 GB file; the release costs about 1 ms a batch.
        release_pages(view)
        return torch.from_numpy(rows)

    def _start(self, index: torch.Tensor):
        """Begin taking the batch at ``index``: resident views are sliced on the device;
        host views are gathered, pinned and copied asynchronously on a side stream (CUDA)."""
        views, host_index = [], None
        event = None
        for view, resident in zip(self._views, self._resident):
            if resident:
                views.append(view.index_select(0, index))
                continue
            if host_index is None:
                host_index = index.cpu().numpy()
            rows = self._host_rows(view, host_index)
            if self._copy_stream is not None:
                rows = rows.pin_memory()
                with torch.cuda.stream(self._copy_stream):
                    views.append(rows.to(self.device, non_blocking=True))
            else:
                views.append(rows.to(self.device))
        if self._copy_stream is not None:
            event = torch.cuda.Event()
            event.record(self._copy_stream)
        return views, index, event

    def _finish(self, started) -> Batch:
        """The batch begun by :meth:`_start`, safe to use on the current stream."""
        views, index, event = started
        if event is not None:
            stream = torch.cuda.current_stream(index.device)
            stream.wait_event(event)
            for view in views:
                view.record_stream(stream)
        if self.observed is None:
            return Batch(views, index)
        observed = self.observed.index_select(0, index)
        zero = views[0].new_zeros(())
        views = [
            torch.where(observed[:, v].view(-1, *[1] * (x.ndim - 1)), x, zero)
            for v, x in enumerate(views)
        ]
        return Batch(views, index, observed)

    def take(self, index: torch.Tensor) -> Batch:
        """The batch made of the samples at ``index`` (a 1-D tensor on the device)."""
        return self._finish(self._start(index))

    def take_all(self, indices) -> Iterator[Batch]:
        """The batches at each of ``indices`` in turn; the next batch's copy from the host is
        started before the current one is handed out, so it overlaps the computation."""
        pending = None
        for index in indices:
            started = self._start(index)
            if pending is not None:
                yield self._finish(pending)
            pending = started
        if pending is not None:
            yield self._finish(pending)

    def batches(self, batch_size: int, order: np.ndarray | None = None) -> Iterator[Batch]:
        """Batches of near-equal size, none of size one when n >= 2 (inference): in sample
        order, or along ``order`` (a permutation of the samples, or of some of them) when
        given."""
        n = self.n_samples if order is None else len(order)
        n_chunks = max(1, -(-n // batch_size))
        bounds = np.linspace(0, n, n_chunks + 1).round().astype(int)

        def indices():
            for start, stop in zip(bounds[:-1], bounds[1:]):
                if order is None:
                    yield torch.arange(int(start), int(stop), device=self.device)
                else:
                    yield torch.as_tensor(order[start:stop], device=self.device)

        return self.take_all(indices())

    def canonical_order(self) -> np.ndarray:
        """A pseudo-random order of the samples that depends only on their content, not on
        the order of the rows: the same rows, permuted, give the same batches.

        Each sample's key is an exact integer hash (64-bit, wrapping) of the bits of its
        float32 values in every view; samples are sorted by key (ties are identical rows).
        Losses whose value depends on what shares a batch (contrastive terms) are evaluated
        in this order, so ``loss_`` and ``score`` do not depend on how the rows are sorted.
        Dense views are hashed in row blocks, so memory stays bounded.
        """
        if self._order is None:
            key = np.zeros(self.n_samples, dtype=np.uint64)
            observed = None if self.observed is None else self.observed.cpu().numpy()
            for v, view in enumerate(self._views):
                row_hash = _row_hash(view, v)
                if observed is not None:  # a missing row's content is never read
                    row_hash = np.where(observed[:, v], row_hash, np.uint64(0))
                key = _mix(key + row_hash)
            self._order = np.argsort(key, kind="stable")
        return self._order


def _mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _row_hash(view, v: int) -> np.ndarray:
    """An exact per-row integer hash of a view's float32 values (dense tensor or array,
    hashed in row blocks, or CSR)."""
    if not sp.issparse(view):
        n = view.shape[0]
        width = int(np.prod(view.shape[1:]))
        weights = _mix(np.arange(width, dtype=np.uint64) + np.uint64(1_000_003 * (v + 1)))
        out = np.empty(n, dtype=np.uint64)
        start = 0
        for block in row_chunks(view):
            if isinstance(block, torch.Tensor):
                block = block.detach().cpu().numpy()
            bits = np.asarray(block, dtype=np.float32).reshape(len(block), -1).view(np.uint32)
            with np.errstate(over="ignore"):
                out[start : start + len(bits)] = (_mix(bits.astype(np.uint64)) * weights).sum(
                    axis=1, dtype=np.uint64
                )
            start += len(bits)
        return out
    csr = view.tocsr()
    data = np.asarray(csr.data, dtype=np.float32).view(np.uint32).astype(np.uint64)
    weights = _mix(csr.indices.astype(np.uint64) + np.uint64(1_000_003 * (v + 1)))
    with np.errstate(over="ignore"):
        terms = _mix(data) * weights
    out = np.zeros(csr.shape[0], dtype=np.uint64)
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    np.add.at(out, rows, terms)
    return out


class _ShuffledBatches:
    """Iterates over a :class:`ViewData` in a fresh random order every epoch.

    A final batch of one sample is dropped (batch norm cannot normalise it).
    """

    def __init__(self, dataset: ViewData, batch_size: int, generator: torch.Generator):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.generator = generator

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.dataset)
        order = torch.randperm(n, generator=self.generator).to(self.dataset.device)

        def indices():
            for start in range(0, n, self.batch_size):
                index = order[start : start + self.batch_size]
                if index.numel() < 2 and n >= 2:
                    break
                yield index

        return self.dataset.take_all(indices())

    def __len__(self) -> int:
        return max(1, len(self.dataset) // self.batch_size)


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

    ``monitor``, if given, is a label-free score of the network (higher is better) read
    every ``monitor_every`` epochs and after the stage's last epoch. The stage keeps its
    last weights unless their reading is more than ``monitor_tolerance`` below the best
    one; then it ends with the weights of its best-scoring reading (the optimisers' state
    is not rolled back: use it on a stage that no other stage follows with the same
    optimiser). ``history_`` records each reading (``monitor``) and the epoch kept
    (``kept_epoch``). With ``monitor_start`` the monitor is also read before the first
    epoch (recorded in the first epoch's row as ``monitor_start``), and the stage may end
    with the weights it began with (``kept_epoch`` 0).
    """

    name: str
    epochs: int
    steps: tuple
    optimizers: dict
    on_begin: Callable[[], None] | None = None
    monitor: Callable[[], float] | None = None
    monitor_every: int = 5
    monitor_tolerance: float = 0.0
    monitor_start: bool = False


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
        epochs, or all of them if it has fewer); ``None`` runs every stage for all its
        epochs. The last row of a stage in the history records why it stopped
        (``stopped``: ``"plateau"`` or ``"max_epochs"``).

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
            self.notify("on_train_begin", X=data, y=None)
            losses = []
            best = (-math.inf, None, None)  # (monitor score, epoch, weights)
            start = None
            if stage.monitor is not None and stage.monitor_start:
                start = best = self._read_monitor(stage.monitor, 0, best, record=False)
            for epoch in range(1, stage.epochs + 1):
                self.fit_loop(data, epochs=1)
                if start is not None and epoch == 1:
                    self.history.record("monitor_start", start[0])
                losses.append(self.history[-1, "loss"])
                last = epoch == stage.epochs or self._plateaued(losses)
                if stage.monitor is not None and (last or epoch % stage.monitor_every == 0):
                    best = self._read_monitor(stage.monitor, epoch, best)
                if last:
                    break
            stopped = "plateau" if len(losses) < stage.epochs else "max_epochs"
            self.history.record("stopped", stopped)
            if best[1] is not None:
                if self.history[-1, "monitor"] >= best[0] - stage.monitor_tolerance:
                    self.history.record("kept_epoch", len(losses))
                else:
                    self.module_.load_state_dict(best[2])
                    self.history.record("kept_epoch", best[1])
            self.notify("on_train_end", X=data, y=None)
            if not all_finite(self.module_):
                raise self._diverged("the network's weights are no longer finite")
        return self

    def _read_monitor(self, monitor, epoch: int, best: tuple, record: bool = True) -> tuple:
        """Record the monitor's reading; return the best (score, epoch, weights) so far."""
        with torch.no_grad():
            score = float(monitor())
        if record:
            self.history.record("monitor", score)
        if score > best[0]:
            weights = {k: v.detach().clone() for k, v in self.module_.state_dict().items()}
            return score, epoch, weights
        return best

    def _plateaued(self, losses: list) -> bool:
        """Whether the last ``n_iter_no_change`` epoch losses brought no improvement larger
        than ``tol`` (relative) over the best loss before them, the stage's first
        ``n_iter_no_change`` epochs (its warm-up) not counted as a best: a stage's loss
        can rise while the network adapts to the stage's objective before it falls (RAV's
        training stage on MSRC-v1 for its first 10 epochs), which is not a plateau."""
        n = self.n_iter_no_change
        if n is None or len(losses) <= 2 * n:
            return False
        best_before = min(losses[n:-n])
        return min(losses[-n:]) > best_before - self.tol * abs(best_before)

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
