"""Every method learns on the bundled UCI Handwritten set (2000 samples, 6 views, 10
classes), in every clone — no ``../shared/`` needed — measured against what a user would do
otherwise: k-means (10 initialisations) on the same min-max scaled views, which scores 0.804
with seed 0 (0.790 ± 0.022 over seeds 0-2). Chance is 0.10.

Each method is fitted once (seed 0) and the fit shared by the two tests. Measured figures
(seeds 0-2) are in docs/benchmarks.md.
"""

from __future__ import annotations

from functools import cache

import pytest
from sklearn.preprocessing import MinMaxScaler

from skmvc import (
    CMMCClustering,
    CONANClustering,
    CRRCClustering,
    EAMCClustering,
    RAVClustering,
)
from skmvc._benchmark import kmeans_baseline
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_accuracy
from skmvc.preprocessing import ViewTransformer

#: name -> (class, parameters, margin over k-means the test asks for, what was measured)
CASES = {
    # 5 epochs keep the test fast (one restart of them: 0.608); the default schedule
    # (until the loss plateaus, three restarts) scores 0.928 ± 0.027 over seeds 0-2 (the
    # development suite).
    "CONAN": (CONANClustering, dict(max_epochs=5), 0.05, "0.906 ± 0.039 with 5 epochs"),
    # The README's quick start.
    "CRRC": (CRRCClustering, dict(pretrain_epochs=10, max_epochs=10), 0.05, "0.900 ± 0.040"),
    # Defaults but 20 pre-training epochs (of 100): k-means on the fused representation
    # (without pre-training 0.957 ± 0.003; the DDC head 0.386 ± 0.034).
    "EAMC": (EAMCClustering, dict(pretrain_epochs=20), 0.10, "0.962 ± 0.002"),
    "CMMC": (
        CMMCClustering,
        dict(pretrain_epochs=10, max_epochs=10, finetune_epochs=5),
        0.0,
        "0.434 ± 0.022",
    ),
    "RAV": (RAVClustering, dict(pretrain_epochs=10, max_epochs=10), 0.0, "0.469 ± 0.031"),
}

#: Methods that do not beat k-means here yet (issue 13): their test is a strict xfail, so it
#: fails as XPASS the day they do, and the marker must then go.
NOT_YET = {"CMMC", "RAV"}


@cache
def _views():
    views, y = load_handwritten(return_X_y=True)
    return ViewTransformer(MinMaxScaler()).fit_transform(views), y


@cache
def _fitted(name: str):
    """(ACC of labels_, ACC of predict, ACC of k-means) for the method on Handwritten."""
    cls, params, _, _ = CASES[name]
    views, y = _views()
    model = cls(10, random_state=0, device="cpu", **params).fit(views)
    kmeans = clustering_accuracy(y, kmeans_baseline(10, seed=0).fit_predict(views))
    return (
        clustering_accuracy(y, model.labels_),
        clustering_accuracy(y, model.predict(views)),
        kmeans,
    )


@pytest.mark.learning
@pytest.mark.parametrize("name", list(CASES))
def test_learns_well_above_chance(name):
    """Three times chance fails any model that has not learned."""
    acc, predicted, _ = _fitted(name)
    assert acc >= 0.30 and predicted >= 0.30


@pytest.mark.learning
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=True,
                reason=f"issue 13: {name} scores {CASES[name][3]} here, below k-means",
            ),
        )
        if name in NOT_YET
        else name
        for name in CASES
    ],
)
def test_beats_kmeans_on_the_same_views(name):
    acc, predicted, kmeans = _fitted(name)
    margin = CASES[name][2]
    assert acc >= kmeans + margin, (acc, kmeans)
    assert predicted >= kmeans + margin, (predicted, kmeans)
