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
