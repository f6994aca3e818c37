"""The estimator contract, shared by every method: pipelines, searches, persistence,
reproducibility, fitted attributes."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from conftest import ESTIMATORS
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skmvc import BaseMultiViewClustering, MultiView
from skmvc.metrics import SCORERS, get_scorer
from skmvc.preprocessing import ViewTransformer

pytestmark = pytest.mark.parametrize("name", list(ESTIMATORS))


def test_pipeline_with_view_transformer(name, two_views):
    views, _ = two_views
    raw = [v * 100 + 5 for v in views]
    pipe = Pipeline([("scale", ViewTransformer(MinMaxScaler())), ("mvc", ESTIMATORS[name]())])
    labels = pipe.fit_predict(raw)
    assert labels.shape == (60,)
    np.testing.assert_array_equal(pipe.predict(raw), labels)


def test_grid_search_with_multiview_and_accuracy_scorer(name, two_views):
    views, y = two_views
    search = GridSearchCV(
        ESTIMATORS[name](max_epochs=2),
        {"lr": [1e-2, 1e-3]},
        scoring=get_scorer("accuracy"),
        cv=2,
        error_score="raise",
    ).fit(MultiView(views), y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.predict(MultiView(views)).shape == (60,)


def test_grid_search_label_free_with_score(name, two_views):
    views, _ = two_views
    search = GridSearchCV(
        ESTIMATORS[name](max_epochs=2), {"batch_size": [16, 30]}, cv=2, error_score="raise"
    ).fit(MultiView(views))
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_cross_validate_with_2d_array_and_view_sizes(name, two_views):
    views, y = two_views
    X = np.hstack(views)
    scores = cross_validate(
        ESTIMATORS[name](max_epochs=2, view_sizes=[6, 4]),
        X,
        y,
        cv=3,
        scoring=dict(SCORERS),
        error_score="raise",
    )
    for key in SCORERS:
        assert np.all(np.isfinite(scores[f"test_{key}"]))


def test_fitted_attributes(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    assert est.labels_.dtype == np.int64 and est.labels_.shape == (60,)
    assert est.n_views_ == 2
    assert est.n_features_in_ == 10 and est.n_features_per_view_ == (6, 4)
    assert est.device_ == torch.device("cpu")
    epochs = sum(v for k, v in est.get_params().items() if k.endswith("epochs"))
    assert est.n_iter_ == len(est.history_) == epochs
    assert est.loss_ == pytest.approx(-est.score(views), rel=1e-6)
    assert np.isfinite(est.history_[-1, "loss"])
    row = est.history_[-1]
    assert row["stage"] and row["dur"] > 0
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(views)
        np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(proba.argmax(1), est.labels_)
    np.testing.assert_array_equal(est.predict(views), est.labels_)
    assert est.transform(views).dtype == np.float32
    assert np.isfinite(est.score(views))


def test_score_is_minus_the_objective(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name](batch_size=64).fit(views)  # one batch: score is one evaluation
    from skmvc._data import ViewData

    data = ViewData(est._validate_views(views, reset=False)[0], est.device_)
    est.module_.eval()
    with torch.no_grad():
        loss = est._objective(est.module_, next(data.batches(64)))["loss"].item()
    assert est.score(views) == pytest.approx(-loss, rel=1e-5)


def test_same_random_state_same_labels_whatever_n_jobs(name, two_views):
    views, _ = two_views
    a = ESTIMATORS[name](n_init=2, n_jobs=1, random_state=7).fit(views)
    b = ESTIMATORS[name](n_init=2, n_jobs=2, random_state=7).fit(views)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.init_losses_, b.init_losses_)


def test_n_init_with_loss_selection_keeps_the_lowest_final_loss(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name](n_init=3, random_state=1, selection="loss").fit(views)
    assert est.init_losses_.shape == est.init_collapsed_.shape == (3,)
    # Restarts that did not collapse are preferred; among them, the lowest loss.
    healthy = est.init_losses_[~est.init_collapsed_]
    assert est.loss_ == pytest.approx((healthy if healthy.size else est.init_losses_).min())
    assert len(np.unique(est.init_losses_)) > 1  # the restarts really differ


def test_pickle_and_joblib_round_trips_predict_identically(name, two_views, tmp_path):
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    expected = est.transform(views)
    clone_a = pickle.loads(pickle.dumps(est))
    joblib.dump(est, tmp_path / "model.joblib")
    clone_b = joblib.load(tmp_path / "model.joblib")
    for loaded in (clone_a, clone_b):
        np.testing.assert_array_equal(loaded.transform(views), expected)
        np.testing.assert_array_equal(loaded.predict(views), est.predict(views))
        np.testing.assert_array_equal(loaded.labels_, est.labels_)


def test_safe_save_and_load(name, two_views, tmp_path):
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    path = tmp_path / "model.pt"
    est.save(path)
    loaded = BaseMultiViewClustering.load(path, device="cpu")
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.transform(views), est.transform(views))
    np.testing.assert_array_equal(loaded.predict(views), est.predict(views))
    np.testing.assert_array_equal(loaded.labels_, est.labels_)
    assert loaded.history_[-1, "loss"] == est.history_[-1, "loss"]
    # The file is readable without pickle.
    payload = torch.load(path, weights_only=True)
    assert payload["format_version"] == 1 and len(payload["sha256"]) == 64
    with pytest.raises(ValueError, match="not written by skmvc's save"):
        torch.save({"a": torch.zeros(1)}, tmp_path / "other.pt")
        type(est).load(tmp_path / "other.pt")


def test_save_refuses_unpicklable_params(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    factory = next(p for p in est.get_params() if p.endswith("_factory"))
    est.set_params(**{factory: lambda v, shape: None})
    with pytest.raises(TypeError, match=f"{factory}.*pickle"):
        est.save(io.BytesIO())


def test_clone_fitted_and_unfitted(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name]()
    assert clone(est).get_params() == est.get_params()
    est.fit(views)
    cloned = clone(est)
    assert not hasattr(cloned, "module_")
    assert cloned.get_params() == est.get_params()


def test_cuda_trained_model_unpickles_on_cpu(name, two_views, monkeypatch):
    """A model whose training device is not available loads onto the CPU with a warning.

    (With no GPU here, the device a pickled model was trained on is simulated; the real
    CUDA round trip is ``test_cuda_round_trip`` below.)"""
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    expected = est.predict(views)
    est.device_ = torch.device("cuda:0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    data = pickle.dumps(est)
    with pytest.warns(UserWarning, match="loaded onto the CPU"):
        loaded = pickle.loads(data)
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.predict(views), expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_round_trip(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name](device="cuda").fit(views)
    assert est.device_.type == "cuda"
    assert next(est.module_.parameters()).is_cuda
    state = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(state)
    np.testing.assert_array_equal(loaded.predict(views), est.predict(views))
    buffer = io.BytesIO()
    est.save(buffer)
    buffer.seek(0)
    on_cpu = BaseMultiViewClustering.load(buffer, device="cpu")
    np.testing.assert_array_equal(on_cpu.predict(views), est.predict(views))


def test_verbose_reports_progress_and_silent_by_default(name, two_views, capsys):
    views, _ = two_views
    ESTIMATORS[name](max_epochs=2).fit(views)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    ESTIMATORS[name](max_epochs=2, verbose=2).fit(views)
    captured = capsys.readouterr()
    assert "epoch" in captured.err + captured.out
    assert "loss=" in captured.err + captured.out


def test_predict_is_batch_invariant(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    full = est.transform(views)
    parts = np.vstack([est.transform([v[i : i + 7] for v in views]) for i in range(0, 60, 7)])
    np.testing.assert_allclose(full, parts, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        np.concatenate([est.predict([v[i : i + 7] for v in views]) for i in range(0, 60, 7)]),
        est.predict(views),
    )


def test_early_stopping_stops_every_stage_on_a_plateau(name, two_views):
    views, _ = two_views
    caps = dict(max_epochs=40)
    if name in ("CMMCClustering", "CRRCClustering", "RAVClustering", "EAMCClustering"):
        caps["pretrain_epochs"] = 40
    if name == "CMMCClustering":
        caps["finetune_epochs"] = 40
    # EAMC's pre-training has its own learning rate.
    rates = dict(pretrain_lr=1e-9) if name == "EAMCClustering" else {}
    # A tiny learning rate and a large tol: no epoch counts as progress.
    est = ESTIMATORS[name](lr=1e-9, tol=0.5, n_iter_no_change=2, **rates, **caps).fit(views)
    stages = {}
    for row in est.history_:
        stages.setdefault(row["stage"], []).append(row)
    assert len(stages) == len(caps)
    for rows in stages.values():
        assert len(rows) == 5  # 2 epochs of warm-up, the best, then 2 without progress
        assert rows[-1]["stopped"] == "plateau"
    assert est.n_iter_ == 5 * len(caps)
    # n_iter_no_change=None: the paper's fixed schedule, every epoch runs.
    est = ESTIMATORS[name](n_iter_no_change=None, max_epochs=4).fit(views)
    assert est.history_[-1, "stopped"] == "max_epochs"
    assert est.history_[-1, "epoch"] == est.n_iter_


def test_loss_and_score_do_not_depend_on_the_order_of_the_rows(name):
    # Class-sorted rows put one class per batch; shuffled rows mix them. Contrastive terms
    # depend on what shares a batch, so a sequential evaluation would differ.
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(3), 40)
    views = [
        rng.normal(size=(3, 6))[y] * 3 + rng.normal(size=(120, 6)),
        rng.normal(size=(3, 4))[y] * 3 + rng.normal(size=(120, 4)),
    ]
    perm = rng.permutation(120)
    shuffled = [v[perm] for v in views]
    est = ESTIMATORS[name](batch_size=16).fit(shuffled)
    assert est.score(views) == pytest.approx(est.score(shuffled), rel=1e-5)
    assert est.loss_ == pytest.approx(-est.score(views), rel=1e-5)


def test_auto_batch_size_trains_a_small_set_in_small_batches(name):
    from skmvc._schedules import AUTO_SMALL_BATCH_SIZE
    from skmvc.datasets import make_multiview_blobs

    views, _ = make_multiview_blobs(150, 3, view_features=(6, 4), random_state=0)
    est = ESTIMATORS[name](batch_size="auto").fit(views)
    sizes = [b["train_batch_size"] for row in est.history_ for b in row["batches"]]
    assert max(sizes) == AUTO_SMALL_BATCH_SIZE  # 150 samples: batches of 64, 64 and 22
    assert sorted(set(sizes)) == [22, 64]


@pytest.mark.filterwarnings("ignore::skmvc.exceptions.CollapseWarning")  # 40 clusters, 1 epoch
def test_auto_batch_size_takes_small_batches_for_a_fine_partition_in_crrc_only(name):
    """Past 1 024 samples, CRRC's ``"auto"`` still takes batches of 64 when the clusters
    average fewer than 32 samples (1 100 samples in 40 clusters), and 256 otherwise (in 3);
    the other methods' ``"auto"`` goes by the number of samples alone."""
    from skmvc._schedules import AUTO_BATCH_SIZE, AUTO_SMALL_BATCH_SIZE
    from skmvc.datasets import make_multiview_blobs

    views, _ = make_multiview_blobs(1100, 3, view_features=(6, 4), random_state=0)
    fine = AUTO_SMALL_BATCH_SIZE if name == "CRRCClustering" else AUTO_BATCH_SIZE
    for n_clusters, expected in ((40, fine), (3, AUTO_BATCH_SIZE)):
        est = ESTIMATORS[name](batch_size="auto", n_clusters=n_clusters).fit(views)
        sizes = {b["train_batch_size"] for row in est.history_ for b in row["batches"]}
        assert max(sizes) == expected, n_clusters


#: The methods whose default ``batch_size`` is ``"auto"`` (the benchmarks behind each choice
#: are in their docstrings); the others keep their paper's fixed size.
AUTO_BATCH_DEFAULT = {"CRRCClustering", "RAVClustering"}


def test_default_batch_size_is_auto_only_where_measured(name):
    """A default fit of 150 samples trains in batches of 64 for CRRC and RAV, and in the
    paper's fixed batches (100 to 256 samples) for the others."""
    from skmvc._schedules import AUTO_SMALL_BATCH_SIZE
    from skmvc.datasets import make_multiview_blobs

    views, _ = make_multiview_blobs(150, 3, view_features=(6, 4), random_state=0)
    est = ESTIMATORS[name]()  # tiny networks, with the class's own default batch_size:
    est.set_params(batch_size=type(est)().batch_size).fit(views)
    sizes = {b["train_batch_size"] for row in est.history_ for b in row["batches"]}
    if name in AUTO_BATCH_DEFAULT:
        assert est.batch_size == "auto"
        assert max(sizes) == AUTO_SMALL_BATCH_SIZE
    else:
        assert est.batch_size != "auto"
        assert max(sizes) > AUTO_SMALL_BATCH_SIZE
