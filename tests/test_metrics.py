"""Clustering metrics: properties over a registry of metrics, known values, and scorers."""

import numpy as np
import pytest
from sklearn.model_selection import cross_validate

from skmvc.metrics import (
    SCORERS,
    adjusted_rand_score,
    clustering_accuracy,
    clustering_report,
    get_scorer,
    get_scorer_names,
    normalized_mutual_info_score,
    purity_score,
)

METRICS = {
    "accuracy": clustering_accuracy,
    "purity": purity_score,
    "nmi": normalized_mutual_info_score,
    "ari": adjusted_rand_score,
}


@pytest.fixture
def labels():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 4, size=200)
    pred = np.where(rng.rand(200) < 0.7, y, rng.randint(0, 4, size=200))
    return y, pred


@pytest.mark.parametrize("name", METRICS)
def test_invariant_to_renaming_clusters(name, labels):
    y, pred = labels
    renamed = np.array([7, 3, 9, 1])[pred]
    assert METRICS[name](y, renamed) == pytest.approx(METRICS[name](y, pred))


@pytest.mark.parametrize("name", METRICS)
def test_perfect_clustering_scores_one(name, labels):
    y, _ = labels
    assert METRICS[name](y, (y + 1) % 4) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["accuracy", "purity", "nmi"])
def test_bounded_in_unit_interval(name, labels):
    y, pred = labels
    assert 0.0 <= METRICS[name](y, pred) <= 1.0


@pytest.mark.parametrize("name", METRICS)
def test_list_and_array_inputs_agree(name, labels):
    y, pred = labels
    assert METRICS[name](list(y), list(pred)) == pytest.approx(METRICS[name](y, pred))


def brute_force_accuracy(y, pred):
    from itertools import permutations

    classes, clusters = np.unique(y), np.unique(pred)
    best = 0
    for perm in permutations(classes, len(clusters)) if len(clusters) <= len(classes) else []:
        mapping = dict(zip(clusters, perm))
        best = max(best, np.mean([mapping[p] == t for p, t in zip(pred, y)]))
    return best


def test_accuracy_matches_brute_force(labels):
    y, pred = labels
    assert clustering_accuracy(y, pred) == pytest.approx(brute_force_accuracy(y, pred))


def test_accuracy_with_more_clusters_than_classes():
    y = [0, 0, 0, 1, 1, 1]
    pred = [0, 0, 2, 1, 1, 3]  # 4 clusters, 2 classes: two clusters stay unmatched
    assert clustering_accuracy(y, pred) == pytest.approx(4 / 6)
    assert purity_score(y, pred) == pytest.approx(1.0)


def test_accuracy_with_fewer_clusters_than_classes():
    y = [0, 0, 1, 1, 2, 2]
    pred = [0, 0, 1, 1, 1, 1]
    assert clustering_accuracy(y, pred) == pytest.approx(4 / 6)
    assert purity_score(y, pred) == pytest.approx(4 / 6)


def test_purity_known_value():
    assert purity_score([0, 0, 1, 1, 2], [5, 5, 3, 3, 3]) == pytest.approx(0.8)


def test_report_has_all_metrics_and_nmi_average_method(labels):
    y, pred = labels
    report = clustering_report(y, pred)
    assert set(report) == {"accuracy", "nmi", "purity", "ari"}
    geo = clustering_report(y, pred, average_method="geometric")["nmi"]
    assert geo == pytest.approx(normalized_mutual_info_score(y, pred, average_method="geometric"))


def test_metrics_reject_bad_lengths():
    with pytest.raises(ValueError):
        clustering_accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError):
        purity_score([], [])


def test_get_scorer_by_name_and_alias():
    assert get_scorer_names() == sorted(SCORERS)
    assert get_scorer("acc") is SCORERS["clustering_accuracy"]
    assert get_scorer("adjusted_rand_score") is SCORERS["ari"]
    with pytest.raises(ValueError, match="Unknown clustering scorer 'f1'"):
        get_scorer("f1")


def test_scorers_call_predict_in_cross_validate():
    from sklearn.cluster import KMeans

    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 30)
    X = rng.normal(size=(60, 2)) + 6 * y[:, None]
    scores = cross_validate(KMeans(2, n_init=3, random_state=0), X, y, cv=3, scoring=dict(SCORERS))
    for name in SCORERS:
        if name == "silhouette":  # label-free; -1 where a fold holds one class only
            assert np.all(np.abs(scores[f"test_{name}"]) <= 1)
        else:
            assert np.all(scores[f"test_{name}"] > 0.9)


def test_kmeans_stability_is_the_mean_nmi_of_single_init_kmeans_runs():
    from sklearn.cluster import KMeans

    from skmvc.metrics import kmeans_stability

    x = np.random.RandomState(1).rand(120, 3)
    runs = [KMeans(4, n_init=1, random_state=7 + i).fit_predict(x) for i in range(3)]
    pairs = [(0, 1), (0, 2), (1, 2)]
    expected = np.mean([normalized_mutual_info_score(runs[i], runs[j]) for i, j in pairs])
    got = kmeans_stability(x, 4, n_runs=3, sample_size=None, random_state=7)
    assert got == pytest.approx(expected)
    assert got < 0.95  # uniform points: the runs cut them differently


def test_kmeans_stability_of_clusters_is_one_and_of_a_collapse_is_zero():
    from skmvc.metrics import kmeans_stability

    rng = np.random.RandomState(0)
    blobs = np.r_[rng.randn(40, 2), rng.randn(40, 2) + 20, rng.randn(40, 2) - 20]
    assert kmeans_stability(blobs, 3) == pytest.approx(1.0)
    assert kmeans_stability(np.ones((50, 4)), 3) == 0.0
    with pytest.raises(ValueError, match="n_runs"):
        kmeans_stability(blobs, 3, n_runs=1)
