"""``assign_labels``: the clustering head (the papers), k-means on the learned embedding, or
``"auto"`` (the head on complete data unless its partition collapsed; k-means when samples
miss views, except for CMMC, whose head did better there)."""

import warnings

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS
from sklearn.cluster import KMeans

from skmvc import BaseMultiViewClustering
from skmvc._labels import kmeans_centers
from skmvc.exceptions import CollapseWarning

#: The methods with a clustering head (CRRC always assigns by k-means on its embedding).
HEADED = [name for name in ESTIMATORS if name != "CRRCClustering"]


@pytest.mark.parametrize("name", HEADED)
def test_kmeans_assignment_is_kmeans_on_the_embedding(name, two_views):
    X, _ = two_views
    model = ESTIMATORS[name](assign_labels="kmeans").fit(X)
    embedding = model.transform(X)
    assert model.cluster_centers_.shape == (3, embedding.shape[1])
    # labels_ are k-means's own labels on the embedding of the kept network, same seed.
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    km = KMeans(3, n_init=10, random_state=int(seed)).fit(embedding.astype(np.float64))
    np.testing.assert_allclose(
        np.sort(model.cluster_centers_, axis=0),
        np.sort(km.cluster_centers_, axis=0),
        rtol=1e-4,
        atol=1e-4,
    )
    # Nearest centre, computed directly.
    d = ((embedding[:, None, :] - model.cluster_centers_[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(model.labels_, d.argmin(axis=1))
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), model.labels_)
    # The Student-t kernel of DEC: q_ij ∝ 1 / (1 + ||z_i - mu_j||²).
    q = 1.0 / (1.0 + d)
    np.testing.assert_allclose(proba, q / q.sum(axis=1, keepdims=True), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name", HEADED)
def test_assignment_does_not_change_training(name, two_views):
    X, _ = two_views
    head = ESTIMATORS[name](assign_labels="head").fit(X)
    kmeans = ESTIMATORS[name](assign_labels="kmeans").fit(X)
    assert head.loss_ == pytest.approx(kmeans.loss_)
    np.testing.assert_allclose(head.transform(X), kmeans.transform(X))
    assert not hasattr(head, "cluster_centers_")
    # A refit with the head's assignment leaves no stale centres behind.
    assert not hasattr(kmeans.set_params(assign_labels="head").fit(X), "cluster_centers_")


@pytest.mark.parametrize("name", HEADED)
def test_kmeans_assignment_survives_save_and_load(name, two_views, tmp_path):
    X, _ = two_views
    model = ESTIMATORS[name](assign_labels="kmeans").fit(X)
    model.save(tmp_path / "m.skmvc")
    loaded = BaseMultiViewClustering.load(tmp_path / "m.skmvc", device="cpu")
    np.testing.assert_array_equal(loaded.cluster_centers_, model.cluster_centers_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("name", HEADED)
def test_unknown_assignment_is_refused(name, two_views):
    X, _ = two_views
    with pytest.raises(ValueError, match="assign_labels"):
        ESTIMATORS[name](assign_labels="spectral").fit(X)


def test_kmeans_fits_its_centres_on_a_subsample_beyond_the_limit(two_views, monkeypatch):
    from skmvc import _labels as base

    X, _ = two_views
    monkeypatch.setattr(base, "KMEANS_MAX_SAMPLES", 30)
    model = ESTIMATORS["EAMCClustering"](assign_labels="kmeans").fit(X)
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    rows = np.sort(np.random.RandomState(seed).choice(60, 30, replace=False))
    z = model.transform(X)
    expected = base.kmeans_centers(z[rows], 3, seed)
    np.testing.assert_allclose(model.cluster_centers_, expected, rtol=1e-4, atol=1e-5)
    assert model.labels_.shape == (60,)  # every sample assigned, not only the subsample


@pytest.mark.parametrize("name", HEADED)
def test_auto_is_the_head_on_complete_data_and_kmeans_with_missing_views(name, two_views):
    X, _ = two_views
    if not ESTIMATORS[name]()._auto_kmeans_with_missing_views:
        pytest.skip(f"{name}'s 'auto' keeps the head with missing views (test below)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollapseWarning)
        head = ESTIMATORS[name](assign_labels="head").fit(X)
    auto = ESTIMATORS[name](assign_labels="auto").fit(X)
    if head.init_collapsed_[0]:  # a collapsed head is relabelled (the test below)
        kmeans = ESTIMATORS[name](assign_labels="kmeans").fit(X)
        np.testing.assert_array_equal(auto.labels_, kmeans.labels_)
    else:
        np.testing.assert_array_equal(auto.labels_, head.labels_)
        assert not hasattr(auto, "cluster_centers_")
        np.testing.assert_allclose(auto.predict_proba(X), head.predict_proba(X))

    missing = [v.copy() for v in X]
    missing[1][:12] = np.nan  # 12 of 60 samples miss view 1
    auto = ESTIMATORS[name](assign_labels="auto").fit(missing)
    kmeans = ESTIMATORS[name](assign_labels="kmeans").fit(missing)
    np.testing.assert_array_equal(auto.cluster_centers_, kmeans.cluster_centers_)
    np.testing.assert_array_equal(auto.labels_, kmeans.labels_)
    # The complete samples take the nearest k-means centre, fitted on them alone.
    z = auto.transform([v[12:] for v in X])
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    np.testing.assert_allclose(
        auto.cluster_centers_, kmeans_centers(z, 3, seed), rtol=1e-4, atol=1e-5
    )
    d = ((z[:, None, :] - auto.cluster_centers_[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(auto.labels_[12:], d.argmin(axis=1))
    np.testing.assert_array_equal(auto.predict(missing), auto.labels_)
    # A refit on complete data drops the centres again (unless its head collapses).
    assert hasattr(auto.fit(X), "cluster_centers_") == bool(head.init_collapsed_[0])


def _with_head(name, head):
    """A factory of small instances of a subclass of the method whose clustering head is
    ``head(self, module, batch)`` (a private name: the subclass is not registered)."""
    cls = type(ESTIMATORS[name]())
    sub = type(f"_{cls.__name__}WithGivenHead", (cls,), {"_soft_assignments": head})
    return lambda **params: sub(**{**ESTIMATORS[name]().get_params(), **params})


@pytest.mark.parametrize("name", HEADED)
def test_auto_relabels_a_collapsed_head_by_kmeans(name, two_views):
    """On complete data "auto" keeps the head unless its partition collapsed; then the
    labels are k-means's on the embedding, and predict follows the same centres."""
    X, _ = two_views

    def one_cluster(self, module, batch):  # a head that puts every sample in cluster 0
        p = torch.zeros(len(batch.views[0]), self.n_clusters)
        p[:, 0] = 1.0
        return p

    factory = _with_head(name, one_cluster)
    with pytest.warns(CollapseWarning, match="one cluster holds 100%"):
        head = factory(assign_labels="head").fit(X)
    assert not hasattr(head, "cluster_centers_")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)  # the k-means labels are healthy
        auto = factory(assign_labels="auto").fit(X)
    kmeans = factory(assign_labels="kmeans").fit(X)
    np.testing.assert_array_equal(auto.cluster_centers_, kmeans.cluster_centers_)
    np.testing.assert_array_equal(auto.labels_, kmeans.labels_)
    assert len(np.unique(auto.labels_)) == 3
    np.testing.assert_array_equal(auto.predict(X), auto.labels_)
    np.testing.assert_array_equal(auto.predict_proba(X).argmax(axis=1), auto.labels_)
    assert auto.init_collapsed_.tolist() == [False]


def test_cmmc_auto_keeps_the_head_with_missing_views(two_views):
    """CMMC's "auto" labels the complete samples by its head when some samples miss views
    (measured better than k-means there); only a collapsed head is relabelled (below)."""
    X, _ = two_views
    missing = [v.copy() for v in X]
    missing[1][:12] = np.nan

    def healthy(self, module, batch):  # thirds of the batch by view 0's first feature
        x = batch.views[0][:, 0]
        third = torch.argsort(torch.argsort(x)) * self.n_clusters // len(x)
        return torch.nn.functional.one_hot(third, self.n_clusters).float()

    factory = _with_head("CMMCClustering", healthy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)  # the head is healthy here
        head = factory(assign_labels="head").fit(missing)
        auto = factory(assign_labels="auto").fit(missing)
    assert not hasattr(auto, "cluster_centers_")
    np.testing.assert_array_equal(auto.labels_, head.labels_)
    np.testing.assert_allclose(auto.predict_proba(missing), head.predict_proba(missing))
    assert factory().assign_labels == "auto"


def test_cmmc_auto_relabels_a_collapsed_head_with_missing_views(two_views):
    """Where CMMC's "auto" keeps the head with missing views, a head whose partition of the
    complete samples collapses is still relabelled by k-means, as on complete data."""
    X, _ = two_views
    missing = [v.copy() for v in X]
    missing[1][:12] = np.nan

    def one_cluster(self, module, batch):
        p = torch.zeros(len(batch.views[0]), self.n_clusters)
        p[:, 0] = 1.0
        return p

    factory = _with_head("CMMCClustering", one_cluster)
    with pytest.warns(CollapseWarning):
        head = factory(assign_labels="head").fit(missing)
    assert not hasattr(head, "cluster_centers_")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        auto = factory(assign_labels="auto").fit(missing)
    kmeans = factory(assign_labels="kmeans").fit(missing)
    np.testing.assert_array_equal(auto.cluster_centers_, kmeans.cluster_centers_)
    np.testing.assert_array_equal(auto.labels_, kmeans.labels_)
    np.testing.assert_array_equal(auto.predict(missing), auto.labels_)
