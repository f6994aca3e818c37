"""The documentation of the parameters several methods share, written once.

A method's docstring holds the line ``<shared parameters>`` where these entries go;
:func:`with_shared_parameters` puts there each shared parameter of the class that the
docstring does not document itself, so ``help()`` shows every parameter in full.
"""

from __future__ import annotations

import textwrap

__all__ = ["SHARED_PARAMETERS", "with_shared_parameters"]

MARKER = "    <shared parameters>\n"

#: name -> numpydoc entry (unindented).
SHARED_PARAMETERS = {
    "device": """\
device : str or torch.device, default="auto"
    ``"auto"`` uses CUDA when available, else the CPU; or any torch device string.
""",
    "views_on_device": """\
views_on_device : {"auto", True, False}, default="auto"
    Whether the views are copied to the device whole (``True``) or stay in host memory
    and are copied a mini-batch at a time (``False``; on CUDA from pinned memory, the
    next batch's copy overlapping the current batch's computation). ``"auto"`` holds
    them on a CUDA device when they take at most half its free memory; on the CPU,
    float32 views are used where they are, without a copy. Memory-mapped views
    (``np.load(..., mmap_mode="r")``) are always read a batch at a time, whatever
    their dtype, and never loaded whole.
""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Seeds the network initialisation, the batch order and k-means; the same value gives
    the same labels on the CPU, whatever ``n_jobs``.
""",
    "n_init": """\
n_init : int, default=1
    Independent restarts; the one ``selection`` prefers is kept, preferring restarts that
    did not collapse. Restarts run in parallel with ``n_jobs``.
""",
    "n_jobs": """\
n_jobs : int or None, default=None
    Restarts run in parallel through joblib.
""",
    "verbose": """\
verbose : int, default=0
    0 silent, 1 a progress bar per stage, 2 also a line per epoch.
""",
    "callbacks": """\
callbacks : list of skorch callbacks or None, default=None
    Callbacks that watch every training stage of every restart (``on_epoch_end``,
    ``on_batch_end``, ...; :class:`skorch.callbacks.Callback`), e.g. to time a fit or
    record what the network does during training: a value a callback records with
    ``net.history.record(key, value)`` is kept in ``history_``. ``net.stop_stage(reason)``
    in ``on_epoch_end`` ends the current stage after that epoch. The same objects serve
    every restart (copies of them when restarts run in other processes). A model with
    callbacks is saved with pickle or joblib, not :meth:`save`.
""",
    "view_sizes": """\
view_sizes : int, list of int or None, default=None
    How to split a 2-D array X into views (column counts, or a number of near-equal
    blocks). ``None`` keeps a 2-D array as one view.
""",
    "autoencoder_factory": """\
autoencoder_factory : callable or None, default=None
    ``autoencoder_factory(view_index, sample_shape) -> torch.nn.Module`` builds your own
    autoencoder per view; its forward must return ``(latent, reconstruction)`` with a
    latent of width ``latent_dim`` and a reconstruction of shape ``(batch, d_v)``
    (flattened). Such modules are not re-initialised.
""",
    "tol": """\
tol : float, default=1e-3
    Early stopping: the relative improvement of a stage's epoch loss that counts as
    progress.
""",
    "n_iter_no_change": """\
n_iter_no_change : int or None, default=10
    Early stopping, on by default: a training stage stops when its epoch loss has not
    improved by more than ``tol`` (relative) for this many epochs, so the epoch
    parameters are caps. A stage's first ``n_iter_no_change`` epochs are a warm-up
    that sets no best loss (a loss can rise while the network adapts to a new stage's
    objective: with patience alone RAV's training stage stopped after 11 epochs on
    MSRC-v1, at 0.35 ACC against 0.56 with every epoch), so a stage runs at least
    ``2 * n_iter_no_change + 1`` epochs when it has them. ``history_`` marks the last
    epoch of each stage with ``stopped`` (``"plateau"`` or ``"max_epochs"``). ``None``
    runs every epoch, as the paper does.
""",
    "selection": """\
selection : {"agreement", "loss", "silhouette"}, default="agreement"
    How the kept restart is chosen among ``n_init`` (restarts that did not collapse
    first; no labels are used): ``"agreement"`` the restart whose labels agree most
    with the other restarts' (mean NMI, :func:`skmvc.metrics.agreement_scores`; with
    two restarts they tie and the lower loss decides); ``"loss"`` the lowest final
    training loss (the paper's rule); ``"silhouette"`` the best silhouette averaged
    over every restart's embedding (:func:`skmvc.metrics.pooled_silhouette_scores`).
    ``selection_scores_`` records each restart's score. **Departure from the paper**:
    among 5 restarts with the default schedules (all five methods, on three to six
    small development sets each) the restart chosen by agreement was 0.018 ACC below
    the best one on average, the lowest-loss one 0.039 below (``docs/benchmarks.md``,
    "Choosing without labels").
""",
}


def with_shared_parameters(cls):
    """Class decorator: the marker line of ``cls.__doc__`` becomes the entries of the
    shared parameters of ``cls`` that its docstring does not document itself."""
    doc = cls.__doc__
    if MARKER not in doc:
        raise ValueError(f"{cls.__name__}'s docstring has no {MARKER.strip()!r} line.")
    names = [
        name
        for name in SHARED_PARAMETERS
        if name in cls._get_param_names() and f"\n    {name} : " not in doc
    ]
    block = "".join(textwrap.indent(SHARED_PARAMETERS[name], "    ") for name in names)
    cls.__doc__ = doc.replace(MARKER, block)
    return cls
