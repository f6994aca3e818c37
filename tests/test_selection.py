"""Label-free criteria: formulas, the selection among restarts, ranking fitted models, and a
grid search without labels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import ESTIMATORS, small_conan
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score, silhouette_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmvc import MultiView
from skmvc.metrics import (
    SCORERS,
    agreement_scores,
    input_silhouette_score,
    pooled_silhouette_scores,
)
from skmvc.model_selection import rank_clusterings
from skmvc.preprocessing import ViewConcatenator


def _standardised(x):
    x = np.asarray(x, dtype=float)
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1)


def test_agreement_is_the_mean_nmi_with_the_others():
    rng = np.random.RandomState(0)
    parts = [rng.randint(0, 3, 40) for _ in range(4)]
    expected = [
        np.mean([normalized_mutual_info_score(parts[i], parts[j]) for j in range(4) if j != i])
        for i in range(4)
    ]
    np.testing.assert_allclose(agreement_scores(parts), expected)
    assert np.isnan(agreement_scores(parts[:1])).all()
    with pytest.raises(ValueError, match="same length"):
        agreement_scores([parts[0], parts[1][:10]])


def test_pooled_silhouette_is_the_mean_over_embeddings():
    rng = np.random.RandomState(0)
    embeddings = [rng.rand(50, 3), rng.rand(50, 5) * 10]
    parts = [rng.randint(0, 3, 50), rng.randint(0, 2, 50), np.zeros(50, dtype=int)]
    got = pooled_silhouette_scores(parts, embeddings, sample_size=None)
    for p, g in zip(parts[:2], got[:2]):
        want = np.mean([silhouette_score(_standardised(e), p) for e in embeddings])
        assert g == pytest.approx(want)
    assert got[2] == -1.0  # one cluster: the worst score


def test_input_silhouette_is_computed_in_the_concatenated_standardised_views(two_views):
    views, _ = two_views
    model = make_pipeline(ViewConcatenator(), KMeans(3, n_init=3, random_state=0)).fit(views)
    want = silhouette_score(_standardised(np.hstack(views)), model.predict(views))
    assert input_silhouette_score(model, views) == pytest.approx(want)
    assert SCORERS["silhouette"] is input_silhouette_score


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("selection", ["agreement", "silhouette"])
def test_selection_keeps_the_restart_the_criterion_prefers(name, selection, two_views):
    views, _ = two_views
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ESTIMATORS[name](n_init=3, selection=selection).fit(views)
    scores = est.selection_scores_
    assert scores.shape == (3,) and np.isfinite(scores).all()
    healthy = ~est.init_collapsed_ if (~est.init_collapsed_).any() else np.ones(3, bool)
    kept = int(np.flatnonzero(est.init_losses_ == est.loss_)[0])
    assert healthy[kept] and scores[kept] == scores[healthy].max()
    # among restarts with the same score, the lower loss
    tied = healthy & (scores == scores[kept])
    assert est.loss_ == est.init_losses_[tied].min()


def test_loss_selection_scores_are_minus_the_losses(two_views):
    est = small_conan(n_init=2, selection="loss").fit(two_views[0])
    np.testing.assert_allclose(est.selection_scores_, -est.init_losses_)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_agreement_is_the_default_and_two_restarts_tie_to_the_lower_loss(name, two_views):
    assert ESTIMATORS[name]().selection == "agreement"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ESTIMATORS[name](n_init=2, random_state=0).fit(two_views[0])
    # NMI is symmetric: two restarts agree with each other equally.
    assert est.selection_scores_[0] == est.selection_scores_[1]
    healthy = ~est.init_collapsed_ if (~est.init_collapsed_).any() else np.ones(2, bool)
    assert est.loss_ == est.init_losses_[healthy].min()


def test_rank_clusterings_ranks_methods_and_kmeans_and_puts_a_collapse_last(two_views):
    views, _ = two_views
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = {
            "kmeans": make_pipeline(ViewConcatenator(), KMeans(3, n_init=3, random_state=0)),
            "conan": small_conan(),
            "one cluster": make_pipeline(ViewConcatenator(), KMeans(1, n_init=1)),
        }
        models = {k: m.fit(views) for k, m in models.items()}
    for criterion in ("agreement", "silhouette", "input_silhouette"):
        ranking = rank_clusterings(models, views, criterion=criterion)
        assert sorted(ranking["name"]) == sorted(models)
        assert ranking["rank"].tolist() == [1, 2, 3]
        assert np.all(np.diff(ranking["score"]) <= 0)
        assert ranking["name"][-1] == "one cluster"
    with pytest.raises(ValueError, match="criterion must be one of"):
        rank_clusterings(models, views, criterion="accuracy")


def test_grid_search_without_labels(two_views):
    views, _ = two_views
    search = GridSearchCV(
        small_conan(max_epochs=3), {"lr": [1e-2, 1e-3]}, scoring=SCORERS["silhouette"], cv=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(MultiView(views))  # no y anywhere
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_["lr"] in (1e-2, 1e-3)
