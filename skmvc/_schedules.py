"""Schedules: how many epochs a stage runs, how large its batches are, and which of its
epochs it ends with (``epoch_selection="stability"``), read from the data without labels."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np
from sklearn.preprocessing import normalize

from ._engine import BestWeights
from ._labels import training_embedding
from .metrics import kmeans_stability

__all__ = [
    "AUTO_PRETRAIN",
    "AUTO_TRAIN",
    "AutoEpochs",
    "resolve_batch_size",
    "resolve_epochs",
    "stability_selection",
]

#: ``epoch_selection="stability"`` reads a stage every this many epochs, ...
STABILITY_EVERY = 5
#: ... on at most this many training samples, with this many k-means runs, ...
STABILITY_SAMPLES = 2000
STABILITY_RUNS = 4
#: ... and keeps the last epoch unless its reading is more than this below the best.
STABILITY_TOLERANCE = 0.1
#: ... and the stage is read before its first epoch too (it may end with the weights it
#: began with).
STABILITY_FROM_START = True

#: ``batch_size="auto"``: batches of ``AUTO_BATCH_SIZE`` samples, or of
#: ``AUTO_SMALL_BATCH_SIZE`` when the data hold fewer than ``AUTO_MIN_BATCHES`` batches of
#: ``AUTO_BATCH_SIZE`` (fewer than 1 024 samples), so that a small set still gets several
#: optimiser steps an epoch, or (for the estimators that ask for it, CRRC) fewer than
#: ``AUTO_MIN_CLUSTER_SAMPLES`` samples a cluster, a fine partition such as 100Leaves' 16 a
#: cluster (benchmarks/studies/README.md, "Batches on small sets").
AUTO_BATCH_SIZE = 256
AUTO_SMALL_BATCH_SIZE = 64
AUTO_MIN_BATCHES = 4
AUTO_MIN_CLUSTER_SAMPLES = 32


class AutoEpochs(NamedTuple):
    """The ``"auto"`` rule of one training stage: the paper's ``full`` epochs on a small set;
    on a larger one, fewer, so that the stage passes at most ``budget`` samples through the
    network, but never fewer than ``least`` (:func:`resolve_epochs`)."""

    full: int
    budget: int
    least: int


#: ``"auto"`` epochs of the autoencoder methods (CRRC's; CMMC and RAV, whose epochs cost
#: more, have smaller budgets): every set of up to 1 600 samples gets the paper's 200
#: pre-training + 50 training epochs and every set of 5 000 samples or more 64 + 20, which
#: bounds the time of a fit of 5 000 samples (benchmarks/studies/README.md, "Schedules on large
#: sets").
AUTO_PRETRAIN = AutoEpochs(200, 320_000, 64)
AUTO_TRAIN = AutoEpochs(50, 100_000, 20)


def resolve_batch_size(batch_size, n_samples: int, n_clusters: int | None = None) -> int:
    """Samples per batch for data of ``n_samples`` samples in ``n_clusters`` clusters:
    ``batch_size`` itself, or what the ``"auto"`` rule gives: :data:`AUTO_SMALL_BATCH_SIZE`
    below ``AUTO_MIN_BATCHES * AUTO_BATCH_SIZE`` samples or below
    ``AUTO_MIN_CLUSTER_SAMPLES`` samples a cluster, else :data:`AUTO_BATCH_SIZE`.

    >>> [resolve_batch_size("auto", n) for n in (500, 1023, 1024, 5000)]
    [64, 64, 256, 256]
    >>> [resolve_batch_size("auto", 1600, k) for k in (10, 50, 51, 100)]
    [256, 256, 64, 64]
    >>> resolve_batch_size(32, 10)
    32
    """
    if batch_size != "auto":
        return int(batch_size)
    if n_samples < AUTO_MIN_BATCHES * AUTO_BATCH_SIZE:
        return AUTO_SMALL_BATCH_SIZE
    if n_clusters is not None and n_samples < AUTO_MIN_CLUSTER_SAMPLES * n_clusters:
        return AUTO_SMALL_BATCH_SIZE
    return AUTO_BATCH_SIZE


def resolve_epochs(epochs, n_samples: int, rule: AutoEpochs) -> int:
    """Epochs of a stage on data of ``n_samples`` samples: ``epochs`` itself, or what the
    ``"auto"`` ``rule`` gives: ``rule.full``, capped so that the stage passes at most
    ``rule.budget`` samples through the network, but at least ``rule.least``.

    >>> sizes = (210, 1600, 2000, 4485, 5000, 10000)
    >>> [resolve_epochs("auto", n, AUTO_PRETRAIN) for n in sizes]
    [200, 200, 160, 72, 64, 64]
    >>> [resolve_epochs("auto", n, AUTO_TRAIN) for n in (2000, 2500, 4485, 5000, 10000)]
    [50, 40, 23, 20, 20]
    >>> [resolve_epochs("auto", n, AutoEpochs(30, 45_000, 9)) for n in (1500, 2500, 5000)]
    [30, 18, 9]
    >>> resolve_epochs(200, 10000, AUTO_PRETRAIN)
    200
    """
    if epochs != "auto":
        return int(epochs)
    return max(rule.least, min(rule.full, -(-rule.budget // n_samples)))


def stability_selection(estimator, module, data, seed: int) -> dict:
    """The stage options of ``epoch_selection``: none for ``"last"``; for ``"stability"`` a
    :class:`~skmvc._engine.BestWeights` callback that reads
    :func:`stability_of_embedding` before the first epoch, every ``STABILITY_EVERY``
    epochs and at the last, so that the stage keeps its last weights unless their reading
    is more than ``STABILITY_TOLERANCE`` below the best."""
    if estimator.epoch_selection != "stability":
        return {}
    monitor = BestWeights(
        partial(stability_of_embedding, estimator, module, data, seed),
        every=STABILITY_EVERY,
        tolerance=STABILITY_TOLERANCE,
        start=STABILITY_FROM_START,
    )
    return {"callbacks": (monitor,)}


def stability_of_embedding(estimator, module, data, seed: int) -> float:
    """:func:`~skmvc.metrics.kmeans_stability` of the L2-normalised embedding of at most
    ``STABILITY_SAMPLES`` training samples (complete ones when some miss views)."""
    h = training_embedding(estimator, module, data, seed, STABILITY_SAMPLES)
    return kmeans_stability(
        normalize(h.astype(np.float64)),
        estimator.n_clusters,
        n_runs=STABILITY_RUNS,
        sample_size=None,
        random_state=seed % (2**31 - STABILITY_RUNS),
    )
