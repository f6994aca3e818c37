"""ConsensusClustering: the scikit-learn contract, planted clusters recovered, a failing
candidate dropped with a warning, and labels never read in fit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import small_conan, small_crrc
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmvc import ConsensusClustering, MultiView
from skmvc.datasets import make_multiview_blobs
from skmvc.ensemble import default_candidates
from skmvc.exceptions import CandidateFailedWarning
from skmvc.metrics import get_scorer
from skmvc.preprocessing import ViewConcatenator, ViewScaler, ViewTransformer


def _kmeans(seed, n_init=1):
    return make_pipeline(ViewConcatenator(), KMeans(3, n_init=n_init, random_state=seed))


class _Fails(ClusterMixin, BaseEstimator):
    def fit(self, X, y=None):
        raise RuntimeError("this candidate always fails")

    def predict(self, X):
        raise RuntimeError("never fitted")


class _Fixed(ClusterMixin, BaseEstimator):
    """A candidate whose partition is given (the same samples at fit and predict)."""

    def __init__(self, labels=None):
        self.labels = labels

    def fit(self, X, y=None):
        self.labels_ = np.asarray(self.labels)
        return self

    def predict(self, X):
        return np.asarray(self.labels)


class _OneCluster(ClusterMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.labels_ = np.zeros(len(X[0]), dtype=int)
        return self

    def predict(self, X):
        return np.zeros(len(X[0]), dtype=int)


@pytest.fixture(scope="module")
def blobs():
    return make_multiview_blobs(
        120, 3, view_features=(6, 4), noise=0.3, cluster_std=0.5, random_state=0
    )


def _fast_candidates():
    """Two k-means and two small deep methods: the kinds of candidate the default mixes."""
    return {
        "kmeans": make_pipeline(ViewScaler("minmax"), ViewConcatenator(), KMeans(3, n_init=10)),
        "kmeans-unit": make_pipeline(ViewScaler("unit"), ViewConcatenator(), KMeans(3)),
        "CONAN": make_pipeline(ViewScaler("minmax"), small_conan()),
        "CRRC": make_pipeline(ViewScaler("minmax"), small_crrc()),
    }


@pytest.mark.parametrize(
    "combine, criterion",
    [("consensus", "silhouette"), ("select", "silhouette"), ("select", "agreement")],
)
def test_recovers_planted_clusters(blobs, combine, criterion):
    views, y = blobs
    model = ConsensusClustering(
        3, candidates=_fast_candidates(), combine=combine, criterion=criterion
    )
    model.fit(views)
    assert adjusted_rand_score(y, model.labels_) > 0.9
    np.testing.assert_array_equal(model.predict(views), model.labels_)
    assert set(model.candidates_) == {"kmeans", "kmeans-unit", "CONAN", "CRRC"}
    assert sorted(model.ranking_["rank"]) == [1, 2, 3, 4]
    assert (model.ranking_["fit_time"] > 0).all()
    assert model.chosen_ == ("consensus" if combine == "consensus" else model.chosen_)
    if combine == "select":
        best = model.ranking_["name"][model.ranking_["rank"] == 1][0]
        assert model.chosen_ == best


def test_consensus_is_kmeans_on_the_candidates_one_hot_labels(blobs):
    views, _ = blobs
    candidates = {f"km{s}": _kmeans(s) for s in range(3)}
    model = ConsensusClustering(3, candidates=candidates, combine="consensus", random_state=0)
    model.fit(views)
    onehot = np.hstack([np.eye(3)[est.predict(views)] for est in model.candidates_.values()])
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    expected = KMeans(3, n_init=10, random_state=seed).fit_predict(onehot)
    np.testing.assert_array_equal(model.labels_, expected)
    np.testing.assert_allclose(model.transform(views), model.consensus_.transform(onehot))


def test_the_consensus_outvotes_one_wrong_candidate(blobs):
    """Two candidates find the planted clusters (under other names) and one finds an
    unrelated partition: the consensus is the majority's; selection picks one of the two."""
    views, y = blobs
    wrong = np.arange(len(y)) % 3
    candidates = {
        "right": _Fixed(labels=y),
        "renamed": _Fixed(labels=(y + 1) % 3),
        "wrong": _Fixed(labels=wrong),
    }
    model = ConsensusClustering(3, candidates=candidates, combine="consensus", random_state=0)
    assert adjusted_rand_score(y, model.fit(views).labels_) == 1.0
    for criterion in ("silhouette", "agreement"):
        model.set_params(combine="select", criterion=criterion).fit(views)
        assert model.chosen_ in ("right", "renamed")
        assert model.ranking_["rank"][2] == 3  # the wrong one ranks last


def test_a_failing_or_collapsed_candidate_is_dropped_with_a_warning(blobs):
    views, y = blobs
    candidates = {"good": _kmeans(0, 10), "broken": _Fails(), "flat": _OneCluster()}
    with pytest.warns(CandidateFailedWarning, match="broken.*always fails.*flat.*collapsed"):
        model = ConsensusClustering(3, candidates=candidates).fit(views)
    assert list(model.candidates_) == ["good"]
    assert list(model.ranking_["rank"]) == [1, 0, 0]
    assert "always fails" in model.ranking_["error"][1]
    assert adjusted_rand_score(y, model.labels_) > 0.9


def test_every_candidate_failing_is_an_error(blobs):
    views, _ = blobs
    with pytest.raises(ValueError, match="Every candidate failed"):
        ConsensusClustering(3, candidates={"broken": _Fails()}).fit(views)


@pytest.mark.parametrize(
    "candidates, error, message",
    [({}, ValueError, "empty"), ({"x": object()}, TypeError, "'x'.*no fit_predict")],
)
def test_bad_candidates_are_named(blobs, candidates, error, message):
    with pytest.raises(error, match=message):
        ConsensusClustering(3, candidates=candidates).fit(blobs[0])


def test_y_is_never_read_in_fit(blobs):
    views, y = blobs
    candidates = {f"km{s}": _kmeans(s) for s in range(3)}
    plain = ConsensusClustering(3, candidates=candidates, random_state=0).fit(views)
    poisoned = ConsensusClustering(3, candidates=candidates, random_state=0)
    poisoned.fit(views, y=np.random.RandomState(1).permutation(y))
    np.testing.assert_array_equal(plain.labels_, poisoned.labels_)


def test_searches_pickling_and_missing_views(blobs):
    views, y = blobs
    candidates = {f"km{s}": _kmeans(s) for s in range(2)}
    search = GridSearchCV(
        ConsensusClustering(3, candidates=candidates, random_state=0),
        {"combine": ["consensus", "select"]},
        scoring=get_scorer("accuracy"),
        cv=2,
    ).fit(MultiView(views), y)
    assert search.best_score_ > 0.9
    model = clone(search.best_estimator_).fit(views)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(views), model.predict(views))
    observed = np.ones((len(y), 2), dtype=bool)
    observed[::5, 1] = False
    missing = ConsensusClustering(3, candidates=default_candidates(3, 1), random_state=0)
    missing.set_params(candidates={"kmeans": missing.candidates["kmeans"]})
    labels = missing.fit(MultiView(views, observed=observed)).labels_
    assert adjusted_rand_score(y, labels) > 0.8


@pytest.mark.parametrize("combine", ["select", "consensus"])
def test_save_and_load_without_pickle(blobs, tmp_path, combine):
    """The model file holds the fitted candidates (pipelines of scalers and k-means, and a
    method's network): the loaded model predicts and transforms as the saved one."""
    views, _ = blobs
    candidates = _fast_candidates()
    del candidates["CONAN"]
    model = ConsensusClustering(3, candidates=candidates, combine=combine, random_state=0)
    model.fit(views)
    model.save(tmp_path / "model.skmvc")
    loaded = ConsensusClustering.load(tmp_path / "model.skmvc")
    assert loaded.get_params().keys() == model.get_params().keys()
    assert loaded.chosen_ == model.chosen_ and set(loaded.candidates_) == set(model.candidates_)
    np.testing.assert_array_equal(loaded.labels_, model.labels_)
    np.testing.assert_array_equal(loaded.predict(views), model.predict(views))
    np.testing.assert_allclose(loaded.transform(views), model.transform(views), rtol=1e-6)
    np.testing.assert_array_equal(loaded.ranking_["name"], model.ranking_["name"])
    crrc = loaded.candidates_["CRRC"]
    np.testing.assert_array_equal(crrc.predict(views), model.candidates_["CRRC"].predict(views))
    assert crrc[-1].module_ is not model.candidates_["CRRC"][-1].module_  # read, not shared


def test_save_refuses_what_it_cannot_write_and_load_what_it_did_not(blobs, tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    from skmvc.exceptions import ModelFileError

    views, _ = blobs
    custom = make_pipeline(
        ViewTransformer(FunctionTransformer(np.abs)), ViewConcatenator(), KMeans(3)
    )
    model = ConsensusClustering(
        3, candidates={"km": _kmeans(0), "abs": custom}, random_state=0
    ).fit(views)
    before = dict(vars(model))
    with pytest.raises(TypeError, match="cannot be saved without pickle; use pickle or joblib"):
        model.save(tmp_path / "custom.skmvc")
    assert vars(model).keys() == before.keys()  # the model is as it was
    method = small_crrc().fit(views)
    method.save(tmp_path / "crrc.skmvc")
    with pytest.raises(ModelFileError, match="holds a 'CRRCClustering', not a Consensus"):
        ConsensusClustering.load(tmp_path / "crrc.skmvc")
    saved = ConsensusClustering(3, candidates={"km": _kmeans(0)}, random_state=0).fit(views)
    saved.save(tmp_path / "ok.skmvc")
    damaged = bytearray((tmp_path / "ok.skmvc").read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "bad.skmvc").write_bytes(bytes(damaged))
    with pytest.raises(ModelFileError):
        ConsensusClustering.load(tmp_path / "bad.skmvc")


def test_a_file_cannot_name_a_class_outside_the_allowed_ones(tmp_path):
    from skmvc._estimator_tree import ESTIMATOR_CLASSES, decode, encode
    from skmvc.exceptions import ModelFileError

    def bad(what):
        return ModelFileError(what)

    tree = encode(make_pipeline(ViewConcatenator(), KMeans(3)))
    steps = decode(tree, bad).steps
    assert [type(s) for _, s in steps] == [ViewConcatenator, KMeans]
    tree["class"] = "Popen"
    assert "Popen" not in ESTIMATOR_CLASSES
    with pytest.raises(ModelFileError, match="unknown entry"):
        decode(tree, bad)


def test_default_candidates_take_the_methods_that_apply():
    two = default_candidates(3, n_views=2, random_state=0)
    assert set(two) == {"kmeans", "kmeans-unit", "CONAN", "CMMC", "CRRC", "EAMC", "RAV"}
    assert two["CRRC"][-1].pretrain_epochs == 10  # the fast profile
    assert default_candidates(3, 2, profile="default")["CRRC"][-1].pretrain_epochs == "auto"
    assert set(default_candidates(3, n_views=1)) == {"kmeans", "kmeans-unit", "CONAN"}


@parametrize_with_checks(
    [ConsensusClustering(3, candidates={f"km{s}": _kmeans(s) for s in range(2)}, random_state=0)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
