"""The data side of the engine: views held as tensors on the device (or streamed from the
host), batches sliced from them, the row order that does not depend on the rows' order, and
the device parameter."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch

from .multiview import is_memmap, release_pages, row_chunks

__all__ = ["Batch", "ViewData", "device_budget", "resolve_device"]


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
