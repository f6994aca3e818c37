"""The input model: MultiView, the validator, and every bad input of the contract."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import ESTIMATORS, small_conan
from sklearn.utils import _safe_indexing

from skmvc import MultiView, check_views
from skmvc.multiview import split_columns


def test_multiview_is_sliceable_like_sklearn_expects():
    a, b = np.arange(20).reshape(10, 2), np.arange(30).reshape(10, 3)
    X = MultiView([a, b])
    assert X.shape == (10, 2) and len(X) == 10 and X.n_views == 2
    for key in ([1, 3], np.array([1, 3]), slice(1, 4, 2)):
        sub = X[key]
        np.testing.assert_array_equal(sub.views[0], a[key])
    mask = np.zeros(10, bool)
    mask[[2, 5]] = True
    np.testing.assert_array_equal(X[mask].views[1], b[[2, 5]])
    np.testing.assert_array_equal(X[[4], ...].views[0], a[[4]])
    np.testing.assert_array_equal(_safe_indexing(X, [0, 9]).views[1], b[[0, 9]])


def test_multiview_slices_pandas_and_sparse_views():
    df = pd.DataFrame(np.arange(12).reshape(6, 2))
    S = sp.csr_matrix(np.eye(6))
    sub = MultiView([df, S])[[0, 5]]
    assert sub.views[0].shape == (2, 2) and sub.views[1].shape == (2, 6)


def test_multiview_errors_and_immutability():
    with pytest.raises(ValueError, match="view 0: 5, view 1: 4"):
        MultiView([np.zeros((5, 2)), np.zeros((4, 2))])
    with pytest.raises(TypeError, match="View 1"):
        MultiView([np.zeros((5, 2)), np.zeros(5)])
    with pytest.raises(TypeError, match="non-empty list"):
        MultiView([])
    X = MultiView([np.zeros((3, 2))])
    with pytest.raises(AttributeError):
        X.views = ()
    with pytest.raises(TypeError, match="does not iterate"):
        list(X)


def test_check_views_forms():
    a = np.random.RandomState(0).rand(8, 5)
    assert [v.shape for v in check_views([a[:, :2], a[:, 2:]])] == [(8, 2), (8, 3)]
    assert [v.shape for v in check_views(a, view_sizes=[2, 3])] == [(8, 2), (8, 3)]
    assert [v.shape for v in check_views(a, view_sizes=2)] == [(8, 3), (8, 2)]
    assert [v.shape for v in check_views(a)] == [(8, 5)]
    assert [v.shape for v in check_views(a.tolist())] == [(8, 5)]  # a list of rows is 2-D
    images = check_views([np.zeros((8, 28, 28)), np.zeros((8, 3, 16, 16))])
    assert [v.shape for v in images] == [(8, 1, 28, 28), (8, 3, 16, 16)]
    sparse = check_views([sp.csr_matrix(a)])[0]
    assert sp.issparse(sparse) and sparse.dtype == np.float32


def test_int_and_float64_converted_without_touching_caller():
    a = np.arange(12).reshape(6, 2)
    b = np.linspace(0, 1, 18).reshape(6, 3)
    a0, b0 = a.copy(), b.copy()
    views = check_views([a, b])
    assert all(v.dtype == np.float32 for v in views)
    views[0][:] = -1
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize(
    "sizes, match",
    [([2, 2], "sums to 4, but X has 5 features"), (6, "asks for 6 views"), ([0, 5], ">= 1")],
)
def test_bad_view_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        split_columns(5, sizes)


def bad_inputs():
    good = np.random.RandomState(0).rand(30, 4)
    nan = good.copy()
    nan[3, 1] = np.nan
    inf = good.copy()
    inf[0, 0] = np.inf
    return {
        "nan in view 1": ([good, nan], ValueError, "View 1.*NaN"),
        "inf in view 0": ([inf, good], ValueError, "View 0.*infinity"),
        "sample counts differ": ([good, good[:20]], ValueError, "view 0: 30, view 1: 20"),
        "view without features": ([good, np.zeros((30, 0))], ValueError, "View 1.*feature"),
        "non-numeric view": ([good, np.full((30, 2), "a")], ValueError, "View 1"),
        "complex view": ([good, good + 1j], ValueError, "^Complex data not supported in View 1"),
        "list of 1-D arrays": ([good[:, 0], good[:, 1]], ValueError, "1-D"),
        "a 1-D view among views": ([good, good[:, 0]], TypeError, r"view 1 has shape \(30,\)"),
        "fewer samples than clusters": ([good[:2], good[:2]], ValueError, "n_clusters=3"),
        "one sample": ([good[:1], good[:1]], ValueError, "n_samples=1"),
        "5-D view": ([np.zeros((30, 1, 2, 2, 2))], ValueError, "View 0.*image view"),
    }


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("case", list(bad_inputs()))
def test_bad_input_at_fit_raises_clear_error(name, case):
    X, error, match = bad_inputs()[case]
    copies = [x.copy() for x in X]
    with pytest.raises(error, match=match) as info:
        ESTIMATORS[name]().fit(X)
    assert len(str(info.value)) < 600  # a message, not a printed array
    for x, c in zip(X, copies):
        np.testing.assert_array_equal(x, c)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_fit_arguments_name_the_argument(name, two_views):
    views, y = two_views
    with pytest.raises(ValueError, match="y has 59 entries but X has 60 samples"):
        ESTIMATORS[name]().fit(views, y[:59])
    with pytest.raises(ValueError, match="device='meta' is a 'meta' device"):
        ESTIMATORS[name](device="meta").fit(views)
    with pytest.raises(ValueError, match="'n_clusters' parameter"):
        ESTIMATORS[name](n_clusters=0).fit(views)
    if name != "CONANClustering":
        with pytest.raises(ValueError, match=f"{name} needs at least 2 views, got 1"):
            ESTIMATORS[name]().fit(views[:1])


@pytest.mark.parametrize("name", ["CONANClustering", "EAMCClustering", "CRRCClustering"])
def test_image_view_too_small_for_the_cnn_names_the_view(name):
    rng = np.random.RandomState(0)
    views = [rng.rand(30, 5), rng.rand(30, 1, 8, 8)]
    with pytest.raises(ValueError, match=r"View 1: image samples of shape \(1, 8, 8\) are too"):
        ESTIMATORS[name]().fit(views)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_input_at_predict_raises_clear_error(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name](max_epochs=1).fit(views)
    cls = type(est).__name__
    with pytest.raises(ValueError, match=f"X has 1 views, but {cls} was fitted with 2 views"):
        est.predict(views[:1])
    with pytest.raises(ValueError, match=r"View 1 has samples of shape \(3,\).*\(4,\)"):
        est.predict([views[0], views[1][:, :3]])
    partial_nan = views[0].copy()
    partial_nan[3, 0] = np.nan  # a NaN inside a present row (an all-NaN row is a missing view)
    with pytest.raises(ValueError, match="View 0: Input contains NaN in sample 3"):
        est.predict([partial_nan, views[1]])
    with pytest.raises(ValueError, match="view 0: 60, view 1: 10"):
        est.predict([views[0], views[1][:10]])


def test_view_sizes_with_a_list_is_an_error(two_views):
    views, _ = two_views
    with pytest.raises(ValueError, match="view_sizes=2 only applies to a single 2-D array"):
        small_conan(view_sizes=2).fit(views)


def test_errors_about_lists_mention_multiview(two_views):
    views, _ = two_views
    with pytest.raises((ValueError, TypeError), match="MultiView"):
        small_conan().fit([views[0][:, 0], views[1][:, 0]])
    # A list mixing a view and a 1-D array names the 1-D one (not numpy's "inhomogeneous").
    with pytest.raises(TypeError, match=r"view 1 has shape \(60,\).*reshape\(-1, 1\)"):
        small_conan().fit([views[0], views[1][:, 0]])


def test_unavailable_cuda_is_a_clear_error(two_views, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        small_conan(device="cuda").fit(two_views[0])
    with pytest.raises(ValueError, match="not a valid torch device"):
        small_conan(device="tpu-ish").fit(two_views[0])


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("n_clusters", 0, "'n_clusters' parameter"),
        ("batch_size", 1, "'batch_size' parameter"),
        ("batch_size", "large", "'batch_size' parameter"),
        ("lr", -1.0, "'lr' parameter"),
        ("n_init", 0, "'n_init' parameter"),
        ("contrast", "byol", "'contrast' parameter"),
        ("encoder_layers", [], "encoder_layers must be"),
        ("encoder_layers", [8, 2.5], "positive integer widths"),
    ],
)
def test_impossible_parameters_name_the_parameter(param, value, match, two_views):
    with pytest.raises(ValueError, match=match):
        small_conan(**{param: value}).fit(two_views[0])


def test_sparse_pandas_and_image_views_fit_and_predict(two_views):
    views, _ = two_views
    sparse = sp.csr_matrix(np.where(views[1] > 0.5, views[1], 0.0))
    df = pd.DataFrame(views[0])
    est = small_conan(max_epochs=2).fit([df, sparse])
    assert est.predict([df, sparse]).shape == (60,)
    np.testing.assert_array_equal(est.predict([views[0], sparse.toarray()]), est.labels_)
    assert sp.issparse(sparse)  # kept sparse, caller's matrix untouched

    rng = np.random.RandomState(0)
    images = rng.rand(40, 28, 28).astype(np.float32)
    est = small_conan(max_epochs=1, encoder_layers=(288,)).fit([images, rng.rand(40, 5)])
    assert est.view_shapes_ == ((1, 28, 28), (5,))
    assert est.transform([images, rng.rand(40, 5)]).shape == (40, 288)


def test_dataframe_feature_names_are_checked(two_views):
    views, _ = two_views
    X = pd.DataFrame(np.hstack(views), columns=[f"f{i}" for i in range(10)])
    est = small_conan(view_sizes=[6, 4], max_epochs=1).fit(X)
    assert list(est.feature_names_in_) == list(X.columns)
    assert est.n_features_per_view_ == (6, 4)
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(np.hstack(views))


def _bag_of_words(n=60, d=1200, words=24, seed=0):
    """A min-max-scaled view that looks like bag-of-words: 98 % of its values are zero."""
    rng = np.random.RandomState(seed)
    X = np.zeros((n, d))
    for row in X:
        row[rng.choice(d, words, replace=False)] = rng.rand(words)
    return X


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bag_of_words_views_warn_for_conan_and_eamc_by_h_f_only(name, two_views):
    from skmvc.exceptions import SparseViewWarning

    views, _ = two_views
    X = [views[0], _bag_of_words()]
    poor = {"CONANClustering": {}, "EAMCClustering": {"embedding": "fused"}}
    if name in poor:
        with pytest.warns(SparseViewWarning, match=r"view 1 \(1200 features, 98% zeros\)"):
            ESTIMATORS[name](max_epochs=1, **poor[name]).fit(X)
        with pytest.warns(SparseViewWarning, match="view 1"):  # a scipy sparse view too
            ESTIMATORS[name](max_epochs=1, **poor[name]).fit([views[0], sp.csr_matrix(X[1])])
    if name != "CONANClustering":  # every other method, and EAMC by default
        with warnings.catch_warnings():
            warnings.simplefilter("error", SparseViewWarning)
            ESTIMATORS[name](max_epochs=1).fit(X)
    with warnings.catch_warnings():  # dense views: no warning for any method
        warnings.simplefilter("error", SparseViewWarning)
        ESTIMATORS[name](max_epochs=1).fit(views)


def test_sparse_views_counts_zeros_over_present_rows_only():
    from skmvc.inspection import SPARSE_MIN_FEATURES, sparse_views

    words = _bag_of_words()
    dense = np.random.RandomState(1).rand(60, SPARSE_MIN_FEATURES)  # wide but dense
    assert sparse_views([dense, words]) == ["view 1 (1200 features, 98% zeros)"]
    assert sparse_views([dense, sp.csr_matrix(words)]) == sparse_views([dense, words])
    assert sparse_views([words[:, :999]]) == []  # too few features to look like text
    # Half the rows are dense but marked missing: they are not counted.
    half = words.copy()
    half[30:] = 1.0
    observed = np.ones((60, 1), dtype=bool)
    assert sparse_views([half]) == []
    observed[30:] = False
    assert sparse_views([half], observed) == ["view 0 (1200 features, 98% zeros)"]


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_unscaled_views_warn_and_name_the_view(name, two_views):
    from skmvc.exceptions import ScaleWarning

    views, _ = two_views
    huge = [views[0], views[1] * 1e13]
    advice = "kind='minmax'" if name == "CONANClustering" else "kind='auto', row_norm='rms'"
    with pytest.warns(
        ScaleWarning, match=r"view 1 has values up to .*e\+13.*ViewScaler\(" + advice + r"\)"
    ):
        try:
            ESTIMATORS[name](max_epochs=1).fit(huge)
        except FloatingPointError:
            pass  # some methods diverge on such a view: the warning came first
    counts = np.random.RandomState(0).poisson(3, size=views[0].shape).astype(float)
    with pytest.warns(ScaleWarning, match="view 0 holds raw counts"):
        ESTIMATORS[name](max_epochs=1).fit([counts, views[1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScaleWarning)
        ESTIMATORS[name](max_epochs=1).fit(views)  # min-max scaled: no warning
