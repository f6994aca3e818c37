"""CONAN, CRRC and EAMC learn on the bundled UCI Handwritten set (2000 samples, 6 views, 10
classes), in every clone — no ``../shared/`` needed — measured against what a user would do
otherwise: k-means (10 initialisations) on the same min-max scaled views, which scores 0.804
with seed 0 (0.790 ± 0.022 over seeds 0-2). Chance is 0.10.

Each method is fitted once (seed 0). The defaults' figures (seeds 0-2) are in
docs/benchmarks.md.
"""

from __future__ import annotations

from functools import cache

import pytest
from sklearn.preprocessing import MinMaxScaler

from skmvc import (
    CONANClustering,
    CRRCClustering,
    EAMCClustering,
)
from skmvc._benchmark import kmeans_baseline
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_accuracy
from skmvc.preprocessing import ViewTransformer

#: name -> (class, parameters, margin over k-means the test asks for, what was measured).
#: CMMC and RAV score below k-means here with short schedules (0.434 and 0.469); that they
#: learn is asserted on Handwritten with missing views (test_missing_views.py) and on BDGP
#: (test_cmmc.py, test_rav.py).
CASES = {
    # 10 epochs, three restarts kept by agreement (the default schedule, until the loss
    # plateaus, scores 0.928 ± 0.027 over seeds 0-2 in the development suite).
    "CONAN": (CONANClustering, dict(max_epochs=10), 0.05, "0.908 ± 0.037 with 10 epochs"),
    # 10 + 10 epochs on min-max views.
    "CRRC": (CRRCClustering, dict(pretrain_epochs=10, max_epochs=10), 0.05, "0.900 ± 0.040"),
    # 10 pre-training epochs (of 100) and 5 adversarial ones: k-means on the views'
    # representations (seed 0: 0.970; the DDC head 0.386 ± 0.034 over seeds 0-2).
    "EAMC": (EAMCClustering, dict(pretrain_epochs=10, max_epochs=5), 0.10, "0.970, seed 0"),
}


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
def test_learns_and_beats_kmeans_on_the_same_views(name):
    """Three times chance fails any model that has not learned; the margin over k-means
    on the same views is what each method has shown here."""
    acc, predicted, kmeans = _fitted(name)
    assert acc >= 0.30 and predicted >= 0.30
    margin = CASES[name][2]
    assert acc >= kmeans + margin, (acc, kmeans)
    assert predicted >= kmeans + margin, (predicted, kmeans)
