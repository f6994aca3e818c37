import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skmvc import MultiView
from skmvc.preprocessing import ViewConcatenator, ViewSplitter, ViewTransformer


@pytest.fixture
def views():
    rng = np.random.RandomState(0)
    return [rng.rand(20, 3) * 100, rng.rand(20, 5) - 3]


def test_view_transformer_scales_each_view_separately(views):
    out = ViewTransformer(MinMaxScaler()).fit_transform(views)
    assert isinstance(out, list)
    for v in out:
        np.testing.assert_allclose(v.min(0), 0, atol=1e-6)
        np.testing.assert_allclose(v.max(0), 1, atol=1e-6)
    assert views[0].max() > 1  # caller's arrays untouched


def test_view_transformer_keeps_multiview_and_accepts_one_transformer_per_view(views):
    vt = ViewTransformer([MinMaxScaler(), StandardScaler()])
    out = vt.fit_transform(MultiView(views))
    assert isinstance(out, MultiView)
    np.testing.assert_allclose(out.views[1].mean(0), 0, atol=1e-5)
    with pytest.raises(ValueError, match="2 transformers were given for 3 views"):
        vt.fit(views + [views[0]])
    with pytest.raises(ValueError, match="X has 1 views, but ViewTransformer was fitted with 2"):
        vt.transform(views[:1])


def test_view_transformer_splits_2d_input(views):
    X = np.hstack(views)
    out = ViewTransformer(MinMaxScaler(), view_sizes=[3, 5]).fit_transform(X)
    assert [v.shape for v in out] == [(20, 3), (20, 5)]


def test_splitter_and_concatenator_round_trip(views):
    X = np.hstack(views)
    split = ViewSplitter([3, 5]).fit_transform(X)
    np.testing.assert_allclose(ViewConcatenator().fit_transform(split), X, rtol=1e-6)
    with pytest.raises(ValueError, match="sums to 7"):
        ViewSplitter([3, 4]).fit(X)


def test_concatenator_handles_images_and_sparse():
    rng = np.random.RandomState(0)
    out = ViewConcatenator().fit_transform([rng.rand(4, 2, 3, 3), rng.rand(4, 5)])
    assert out.shape == (4, 23)
    out = ViewConcatenator().fit_transform([sp.csr_matrix(np.eye(4)), rng.rand(4, 2)])
    assert sp.issparse(out) and out.shape == (4, 6)


def test_kmeans_baseline_pipeline(views):
    labels = make_pipeline(ViewConcatenator(), KMeans(2, n_init=2, random_state=0)).fit_predict(
        views
    )
    assert labels.shape == (20,)


def _kinds_of_views(n=40):
    rng = np.random.RandomState(0)
    counts = np.zeros((n, 1500))
    counts[:, :20] = rng.randint(0, 5, size=(n, 20))
    weights = counts / 7.0  # normalised term weights: sparse, in [0, 1], not integers
    return [
        rng.rand(n, 4) * 50,  # dense non-negative features
        rng.randn(n, 3) * 10,  # signed features
        counts,
        sp.csr_matrix(weights),
        rng.randint(0, 256, size=(n, 1, 4, 4)).astype(np.uint8),  # images
    ]


def test_view_scaler_prepares_each_view_by_its_kind():
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    from skmvc.preprocessing import ViewScaler

    views = _kinds_of_views()
    scaler = ViewScaler().fit(views)
    assert scaler.kinds_ == ["standard-unit", "standard-unit", "tfidf", "unit", "image"]
    out = scaler.transform(views)
    for v in (0, 1):
        expected = normalize(StandardScaler().fit_transform(views[v]))
        np.testing.assert_allclose(out[v], expected, atol=1e-6)
    tfidf = TfidfTransformer().fit_transform(views[2]).toarray()
    np.testing.assert_allclose(sp.csr_matrix(out[2]).toarray(), tfidf, atol=1e-6)
    assert sp.issparse(out[3])
    np.testing.assert_allclose(out[3].toarray(), normalize(views[3]).toarray(), atol=1e-6)
    assert out[4].shape == views[4].shape
    np.testing.assert_allclose(out[4], views[4] / views[4].max(), atol=1e-6)


def test_view_scaler_takes_a_kind_per_view_and_keeps_missing_views():
    from skmvc.preprocessing import ViewScaler

    rng = np.random.RandomState(0)
    views = [rng.rand(10, 3) * 9, rng.rand(10, 2) * 9]
    observed = np.ones((10, 2), dtype=bool)
    observed[0, 1] = False
    out = ViewScaler(["unit", "none"]).fit_transform(MultiView(views, observed=observed))
    assert isinstance(out, MultiView)
    np.testing.assert_allclose(np.linalg.norm(out.views[0], axis=1), 1, rtol=1e-6)
    assert np.isnan(out.views[1][0]).all()
    np.testing.assert_allclose(out.views[1][1:], views[1][1:])


@pytest.mark.parametrize(
    "kind, message",
    [(["unit"], "1 kinds were given for 2 views"), (["unit", "log"], "not a preparation")],
)
def test_view_scaler_names_a_bad_kind(views, kind, message):
    from skmvc.preprocessing import ViewScaler

    with pytest.raises(ValueError, match=message):
        ViewScaler(kind).fit(views)


def test_view_scaler_rms_rows_have_values_of_order_one():
    """``row_norm="rms"``: the rows the preparation normalises have unit root mean square
    (unit length times the square root of the number of features); other kinds are the
    same as with unit-length rows, and a sparse view stays sparse."""
    from skmvc.preprocessing import ViewScaler

    views = _kinds_of_views()
    l2 = ViewScaler().fit_transform(views)
    rms = ViewScaler(row_norm="rms").fit_transform(views)
    for v in range(4):  # standard-unit twice, tfidf, unit
        d = views[v].shape[1]
        expected = l2[v] * np.sqrt(d)
        got = rms[v]
        if sp.issparse(got):
            got, expected = got.toarray(), sp.csr_matrix(expected).toarray()
        np.testing.assert_allclose(got, expected, rtol=1e-5)
        assert np.allclose(np.sqrt((got**2).mean(axis=1)), 1, rtol=1e-4)
    assert sp.issparse(rms[3])
    np.testing.assert_array_equal(rms[4], l2[4])  # images: not a row preparation
    minmax = ViewScaler("minmax", row_norm="rms").fit_transform(views[:2])
    np.testing.assert_allclose(minmax[0], ViewScaler("minmax").fit_transform(views[:2])[0])
