"""Samples with missing views: how a user marks them, the errors, the
preprocessing, and every method's fit and predict with them.

A view is missing for a sample when its row is entirely NaN, or when
``MultiView(views, observed=mask)`` marks it. The learning test uses the bundled
Handwritten set (2000 samples, 6 views, 10 classes; chance 0.10) with 30 % of the samples
missing one view.
"""

from __future__ import annotations

import io
import warnings
from functools import cache

import numpy as np
import pytest
import torch
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from toy_method import ToyClustering

from skmvc import (
    CMMCClustering,
    CONANClustering,
    CRRCClustering,
    EAMCClustering,
    MultiView,
    RAVClustering,
    check_views,
)
from skmvc.datasets import load_handwritten
from skmvc.losses import kernel_alignment_loss
from skmvc.losses.relation import relation_alignment_loss, view_distance_weights
from skmvc.metrics import clustering_accuracy
from skmvc.nn.missing import CrossViewPredictor, fill_missing, mean_over_present, term_on_pairs
from skmvc.preprocessing import ViewConcatenator, ViewTransformer

#: Short schedules (as in test_learning_handwritten.py).
QUICK = {
    ToyClustering: dict(max_epochs=20),
    CONANClustering: dict(max_epochs=5, n_init=1),
    CRRCClustering: dict(pretrain_epochs=10, max_epochs=10),
    EAMCClustering: dict(pretrain_epochs=20),
    CMMCClustering: dict(pretrain_epochs=5, max_epochs=5, finetune_epochs=3),
    RAVClustering: dict(pretrain_epochs=5, max_epochs=5),
}
TINY = {
    cls: {k: min(v, 2) for k, v in kw.items()} | {"max_epochs": 2} for cls, kw in QUICK.items()
}


def drop_views(views, rate, seed=0):
    """NaN-row copies of ``views`` with a fraction ``rate`` of the samples missing one view
    (drawn at random), and the mask of present views."""
    rng = np.random.RandomState(seed)
    n, n_views = views[0].shape[0], len(views)
    observed = np.ones((n, n_views), dtype=bool)
    rows = rng.permutation(n)[: int(round(rate * n))]
    observed[rows, rng.randint(n_views, size=len(rows))] = False
    out = [v.astype(np.float32, copy=True) for v in views]
    for v, view in enumerate(out):
        view[~observed[:, v]] = np.nan
    return out, observed


@cache
def _handwritten(per_class=None):
    """The bundled Handwritten views, min-max scaled, and their labels; the first
    ``per_class`` samples of each class when given."""
    views, y = load_handwritten(return_X_y=True)
    if per_class is not None:
        rows = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
        views, y = [v[rows] for v in views], y[rows]
    return ViewTransformer(MinMaxScaler()).fit_transform(views), y


# ---------------------------------------------------------------------- input
def test_nan_rows_and_a_mask_give_the_same_observed(two_views):
    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    _, from_nan = check_views(nan_views, return_observed=True)
    _, from_mask = check_views(MultiView(views, observed=observed), return_observed=True)
    np.testing.assert_array_equal(from_nan, observed)
    np.testing.assert_array_equal(from_mask, observed)
    assert check_views(views, return_observed=True)[1] is None  # complete: no mask


def test_multiview_mask_is_sliced_and_pickled(two_views):
    import pickle

    views, _ = two_views
    _, observed = drop_views(views, 0.5)
    X = MultiView(views, observed=observed)
    np.testing.assert_array_equal(X[[3, 1, 7]].observed, observed[[3, 1, 7]])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(X)).observed, observed)
    assert "missing views in" in repr(X)


@pytest.mark.parametrize("cls", list(QUICK))
def test_missing_view_errors_name_the_problem(cls, two_views):
    views, _ = two_views
    partial_row = [v.copy() for v in views]
    partial_row[1][4, 0] = np.nan
    with pytest.raises(ValueError, match="View 1: Input contains NaN in sample 4"):
        cls(**TINY[cls]).fit(partial_row)
    infinite = [v.copy() for v in views]
    infinite[0][2, 1] = np.inf
    with pytest.raises(ValueError, match="View 0: Input contains infinity in sample 2"):
        cls(**TINY[cls]).fit(infinite)
    nothing = [v.copy() for v in views]
    for v in nothing:
        v[5] = np.nan
    with pytest.raises(ValueError, match="Sample 5 has no view at all"):
        cls(**TINY[cls]).fit(nothing)
    never = [np.full_like(views[0], np.nan), views[1]]
    with pytest.raises(ValueError, match="View 0 is missing for every sample"):
        cls(**TINY[cls]).fit(never)
    with pytest.raises(ValueError, match=r"observed must have shape \(n_samples, n_views\)"):
        MultiView(views, observed=np.ones((60, 3), dtype=bool))
    with pytest.raises(ValueError, match="observed must hold booleans"):
        MultiView(views, observed=np.full((60, 2), 0.5))


def test_caller_arrays_are_not_modified(two_views):
    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    before = [v.copy() for v in nan_views]
    CONANClustering(n_clusters=3, max_epochs=2, random_state=0).fit(nan_views)
    for a, b in zip(before, nan_views):
        np.testing.assert_array_equal(a, b)  # NaN rows stay NaN (equal_nan by default)


# ---------------------------------------------------------------------- preprocessing
def test_view_transformer_fits_on_present_rows_and_passes_missing_rows(two_views):
    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    out = ViewTransformer(StandardScaler()).fit_transform(nan_views)
    for v, (raw, got) in enumerate(zip(nan_views, out)):
        rows = observed[:, v]
        assert np.isnan(got[~rows]).all()
        np.testing.assert_allclose(got[rows], StandardScaler().fit_transform(raw[rows]), 1e-5)
    # With a mask, the missing rows may hold anything: they are not used to fit.
    garbage = [v.copy() for v in views]
    for v, view in enumerate(garbage):
        view[~observed[:, v]] = 1e6
    masked = ViewTransformer(StandardScaler()).fit_transform(MultiView(garbage, observed))
    assert isinstance(masked, MultiView)
    np.testing.assert_array_equal(masked.observed, observed)
    for got, want in zip(masked.views, out):
        np.testing.assert_allclose(got, want, 1e-5)


def test_concatenator_marks_missing_columns_for_an_imputer(two_views):
    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    concat = ViewConcatenator().fit_transform(MultiView(views, observed))
    widths = [v.shape[1] for v in views]
    assert np.isnan(concat[~observed[:, 0], : widths[0]]).all()
    assert np.isnan(concat[~observed[:, 1], widths[0] :]).all()
    imputed = make_pipeline(ViewConcatenator(), SimpleImputer()).fit_transform(nan_views)
    assert np.isfinite(imputed).all()


# ---------------------------------------------------------------------- building blocks
def test_fill_and_mean_over_present_views():
    a, b = torch.tensor([[1.0, 1.0], [2.0, 2.0]]), torch.tensor([[3.0, 5.0], [7.0, 9.0]])
    observed = torch.tensor([[True, False], [True, True]])
    filled = fill_missing([a, b], observed)
    np.testing.assert_allclose(filled[1][0], [1.0, 1.0])  # sample 0 only has view 0
    np.testing.assert_allclose(filled[1][1], [7.0, 9.0])  # present: unchanged
    np.testing.assert_allclose(mean_over_present([a, b], observed), [[1, 1], [4.5, 5.5]])
    assert fill_missing([a, b], None)[1] is b


def test_pair_terms_run_over_samples_with_both_views():
    seen = []
    observed = torch.tensor([[True, True], [True, False], [True, True], [False, True]])
    x = torch.arange(4.0)[:, None]
    term_on_pairs(lambda a, b: seen.append(a[:, 0].tolist()) or a.sum(), observed, 0, 1, x, x)
    assert seen == [[0.0, 2.0]]


def test_masked_kernel_alignment_matches_its_formula():
    rng = torch.Generator().manual_seed(0)
    hs = [torch.randn(6, 3, generator=rng) for _ in range(2)]
    fused, w = torch.randn(6, 3, generator=rng), torch.tensor([0.3, 0.7])
    full = torch.ones(6, 2, dtype=torch.bool)
    torch.testing.assert_close(
        kernel_alignment_loss(fused, hs, w, observed=full), kernel_alignment_loss(fused, hs, w)
    )
    # Samples 0 and 1 lack view 1: pairs among {0, 1} see view 0's kernel alone.
    observed = full.clone()
    observed[:2, 1] = False
    from skmvc.losses import gaussian_kernel

    k_f = gaussian_kernel(fused)
    k0 = gaussian_kernel(hs[0])
    k1 = torch.zeros(6, 6)
    k1[2:, 2:] = gaussian_kernel(hs[1][2:])
    both = torch.zeros(6, 6)
    both[2:, 2:] = 1.0
    want = (k_f - (w[0] * k0 + w[1] * k1) / (w[0] + w[1] * both)).pow(2).sum()
    torch.testing.assert_close(kernel_alignment_loss(fused, hs, w, observed=observed), want)


def test_masked_relation_terms_reduce_to_the_complete_ones():
    rng = torch.Generator().manual_seed(1)
    zs = [torch.randn(8, 4, generator=rng) for _ in range(3)]
    full = torch.ones(8, 3, dtype=torch.bool)
    torch.testing.assert_close(
        relation_alignment_loss(zs, observed=full), relation_alignment_loss(zs)
    )
    torch.testing.assert_close(view_distance_weights(zs, observed=full), view_distance_weights(zs))


def test_cross_view_predictor_matches_its_formula():
    torch.manual_seed(0)
    predictor = CrossViewPredictor(3, dim=2, hidden=4)
    zs = [torch.randn(4, 2) for _ in range(3)]
    observed = torch.tensor([[1, 1, 1], [1, 0, 1], [0, 0, 1], [1, 1, 0]]).bool()
    # Untrained, it fills nothing; a loss in training mode marks it trained.
    assert all(f is z for f, z in zip(predictor(zs, observed), zs))
    loss = predictor.loss(zs, observed)
    want = 0.0
    for v in range(3):
        others = [u for u in range(3) if u != v]
        rows = [i for i in range(4) if observed[i, v] and observed[i, others].any()]
        source = torch.stack(
            [torch.stack([zs[u][i] for u in others if observed[i, u]]).mean(0) for i in rows]
        )
        want = want + torch.mean((predictor.predictors[v](source) - zs[v][rows]) ** 2)
    torch.testing.assert_close(loss, want)
    filled = predictor(zs, observed)

    def predicted(v, source):
        return predictor.predictors[v](source[None])[0]

    torch.testing.assert_close(filled[1][1], predicted(1, (zs[0][1] + zs[2][1]) / 2))
    torch.testing.assert_close(filled[0][2], predicted(0, zs[2][2]))
    torch.testing.assert_close(filled[2][3], predicted(2, (zs[0][3] + zs[1][3]) / 2))
    for v in range(3):  # present rows are kept as they are
        torch.testing.assert_close(filled[v][observed[:, v]], zs[v][observed[:, v]])
    # The term trains the representations too (dual prediction), not only the predictor.
    zs = [z.requires_grad_() for z in zs]
    predictor.loss(zs, observed).backward()
    assert all(z.grad is not None and z.grad.abs().sum() > 0 for z in zs)


def test_crrc_view_prediction_is_trained_on_missing_views_only(two_views):
    views, _ = two_views
    kw = TINY[CRRCClustering] | dict(n_clusters=3, random_state=0)
    plain = CRRCClustering(**kw).fit(views)
    with_predictor = CRRCClustering(view_prediction_weight=1.0, **kw).fit(views)
    # Every view present: the predictor is not trained and the fit is the same.
    np.testing.assert_array_equal(plain.labels_, with_predictor.labels_)
    assert not bool(with_predictor.module_.predictor.trained)
    nan_views, _ = drop_views(views, 0.3)
    est = CRRCClustering(view_prediction_weight=1.0, **kw).fit(nan_views)
    assert bool(est.module_.predictor.trained)
    assert "view_prediction" in est.history_[-1]
    without = CRRCClustering(**kw).fit(nan_views)
    assert without.module_.predictor is None  # weight 0: no predictor, no term
    assert "view_prediction" not in without.history_[-1]
    assert not np.allclose(est.transform(nan_views), without.transform(nan_views))


# ---------------------------------------------------------------------- every method
@pytest.mark.parametrize("cls", list(QUICK))
def test_complete_data_path_is_unchanged(cls, two_views):
    """An all-present mask takes the complete-data path: the same labels and loss."""
    views, _ = two_views
    kw = TINY[cls] | dict(n_clusters=3, random_state=0)
    plain = cls(**kw).fit(views)
    masked = cls(**kw).fit(MultiView(views, observed=np.ones((60, 2), dtype=bool)))
    np.testing.assert_array_equal(plain.labels_, masked.labels_)
    assert plain.loss_ == masked.loss_


@pytest.mark.parametrize(
    "cls, extra",
    [(cls, {}) for cls in QUICK]
    + [
        (CONANClustering, {"reconstruction_weight": 1.0}),
        (CONANClustering, {"fusion": "concat"}),
        (CONANClustering, {"pretrain_epochs": 2}),
        (EAMCClustering, {"pretrain_epochs": 0}),
        (CRRCClustering, {"view_prediction_weight": 1.0}),
    ],
    ids=[cls.__name__ for cls in QUICK]
    + [
        "CONAN-reconstruction",
        "CONAN-concat",
        "CONAN-pretrain",
        "EAMC-no-pretrain",
        "CRRC-view-prediction",
    ],
)
def test_a_missing_row_is_never_read(cls, extra, two_views):
    """The same fit whether the missing rows hold NaN or huge values: nothing reads them."""
    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    huge = [v.copy() for v in views]
    for v, view in enumerate(huge):
        view[~observed[:, v]] = 1e30
    kw = TINY[cls] | extra | dict(n_clusters=3, random_state=0)
    a = cls(**kw).fit(nan_views)
    b = cls(**kw).fit(MultiView(huge, observed=observed))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.loss_ == b.loss_ and np.isfinite(a.loss_)
    np.testing.assert_array_equal(a.predict(nan_views), b.predict(MultiView(huge, observed)))
    np.testing.assert_allclose(a.transform(nan_views), b.transform(MultiView(huge, observed)))


@pytest.mark.learning
@pytest.mark.parametrize("cls", list(QUICK))
def test_learns_with_30_percent_of_samples_missing_a_view(cls):
    views, y = _handwritten(per_class=50)
    nan_views, observed = drop_views(views, 0.3)
    est = cls(n_clusters=10, random_state=0, **QUICK[cls]).fit(nan_views)
    acc = clustering_accuracy(y, est.labels_)
    assert acc >= 0.30, f"{cls.__name__}: ACC {acc:.3f} with 30 % missing (chance 0.10)"
    # The samples that miss a view are clustered too, not set aside in a cluster of their
    # own (measured with these schedules, seed 0: RAV 0.51 and CMMC 0.61 on those samples).
    incomplete = ~observed.all(axis=1)
    acc = clustering_accuracy(y[incomplete], est.labels_[incomplete])
    assert acc >= 0.30, f"{cls.__name__}: ACC {acc:.3f} on the samples missing a view"
    np.testing.assert_array_equal(est.predict(nan_views), est.labels_)


@pytest.mark.parametrize("cls", list(QUICK))
def test_missing_view_samples_go_to_their_pattern_centres(cls, two_views):
    """A pattern's centre of cluster c is the mean embedding of the complete samples labelled
    c, seen through that pattern's views; a sample with that pattern gets its nearest
    centre, at fit and at predict, and the centres survive save and load."""
    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    est = cls(**TINY[cls], n_clusters=3, random_state=0).fit(nan_views)
    complete = observed.all(axis=1)
    patterns = np.unique(observed[~complete], axis=0)
    np.testing.assert_array_equal(est.view_patterns_, patterns)
    for pattern, centers in zip(est.view_patterns_, est.pattern_centers_):
        seen = [v[complete].copy() for v in views]
        for v in np.flatnonzero(~pattern):
            seen[v][:] = np.nan
        z = est.transform(seen)
        for c in range(3):
            members = est.labels_[complete] == c
            if members.any():
                np.testing.assert_allclose(
                    centers[c], z[members].mean(axis=0), rtol=1e-4, atol=1e-5
                )
            else:
                assert np.isnan(centers[c]).all()
        rows = np.flatnonzero((observed == pattern).all(axis=1))
        z_rows = est.transform([v[rows] for v in nan_views])
        distance = ((z_rows[:, None, :] - np.nan_to_num(centers, nan=np.inf)[None]) ** 2).sum(-1)
        np.testing.assert_array_equal(est.labels_[rows], distance.argmin(axis=1))
    np.testing.assert_array_equal(est.predict(nan_views), est.labels_)
    buffer = io.BytesIO()
    est.save(buffer)
    buffer.seek(0)
    loaded = cls.load(buffer)
    np.testing.assert_array_equal(loaded.pattern_centers_, est.pattern_centers_)
    np.testing.assert_array_equal(loaded.predict(nan_views), est.labels_)


def test_an_unseen_pattern_of_missing_views_warns(two_views):
    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    complete_fit = EAMCClustering(**TINY[EAMCClustering], n_clusters=3, random_state=0)
    complete_fit.fit(views)
    assert not hasattr(complete_fit, "pattern_centers_")
    with pytest.warns(UserWarning, match=rf"{(~observed.all(axis=1)).sum()} sample\(s\) miss"):
        labels = complete_fit.predict(nan_views)
    assert labels.shape == (60,)
    # Fitted with view 0 missing only: a sample missing view 1 is a pattern it never saw.
    only_first = [v.copy() for v in views]
    only_first[0][:10] = np.nan
    est = EAMCClustering(**TINY[EAMCClustering], n_clusters=3, random_state=0).fit(only_first)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(only_first)
    other = [v.copy() for v in views]
    other[1][:4] = np.nan
    with pytest.warns(UserWarning, match=r"^4 sample\(s\) miss a combination"):
        est.predict(other)


@pytest.mark.parametrize("cls", list(QUICK))
def test_predict_runs_each_sample_through_the_network_once(cls, two_views, monkeypatch):
    """A sample that misses views is assigned by its pattern's centres alone, not also by
    the method's own rule whose answer is then overwritten."""
    import skmvc._engine
    import skmvc._labels
    import skmvc.base
    import skmvc.crrc

    views, _ = two_views
    nan_views, observed = drop_views(views, 0.3)
    est = cls(**TINY[cls], n_clusters=3, random_state=0).fit(nan_views)
    labels, proba = est.predict(nan_views), getattr(est, "predict_proba", None)
    proba = proba(nan_views) if proba else None
    seen = []

    def counting(fn, module, data, batch_size, **kw):
        seen.append(len(data) if kw.get("order") is None else len(kw["order"]))
        return apply_module(fn, module, data, batch_size, **kw)

    apply_module = skmvc._engine.apply_module
    for where in (skmvc.base, skmvc._labels, skmvc.crrc):
        monkeypatch.setattr(where, "apply_module", counting)
    np.testing.assert_array_equal(est.predict(nan_views), labels)
    assert sum(seen) == 60, seen
    if proba is not None:
        seen.clear()
        np.testing.assert_allclose(est.predict_proba(nan_views), proba, rtol=1e-6)
        assert sum(seen) == 60, seen
    seen.clear()
    rows = np.flatnonzero(~observed.all(axis=1))  # only samples that miss views
    np.testing.assert_array_equal(est.predict([v[rows] for v in nan_views]), labels[rows])
    assert sum(seen) == len(rows), seen
