import numpy as np
import pytest
import scipy.io
from sklearn.cluster import KMeans

from skmvc.datasets import load_handwritten, load_mat, load_npz, make_multiview_blobs
from skmvc.metrics import clustering_accuracy


def test_handwritten_is_bundled_and_unscaled():
    data = load_handwritten()
    assert [v.shape for v in data.views] == [(2000, d) for d in (76, 216, 64, 240, 47, 6)]
    assert np.bincount(data.target).tolist() == [200] * 10
    assert max(v.max() for v in data.views) > 1000  # returned as published
    assert "CC BY 4.0" in data.DESCR
    views, y = load_handwritten(return_X_y=True)
    assert len(views) == 6 and y.shape == (2000,)


def test_load_npz_round_trip_and_bad_files(tmp_path):
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "ok.npz", X0=rng.rand(5, 2), X1=rng.rand(5, 3), y=np.arange(5))
    data = load_npz(tmp_path / "ok.npz")
    assert [v.shape for v in data.views] == [(5, 2), (5, 3)]
    np.savez(tmp_path / "noy.npz", X0=rng.rand(5, 2))
    with pytest.raises(ValueError, match="X0..X"):
        load_npz(tmp_path / "noy.npz")
    np.savez(tmp_path / "gap.npz", X0=rng.rand(5, 2), X2=rng.rand(5, 2), y=np.arange(5))
    with pytest.raises(ValueError, match=r"must be named \['X0', 'X1'\]"):
        load_npz(tmp_path / "gap.npz")


@pytest.fixture
def mv():
    rng = np.random.RandomState(0)
    return [rng.rand(12, 3), rng.rand(12, 5)], np.repeat([3, 7, 9], 4)


@pytest.mark.parametrize("transposed", [False, True])
def test_load_mat_numbered_views(tmp_path, mv, transposed):
    views, y = mv
    stored = {f"X{i + 1}": (v.T if transposed else v) for i, v in enumerate(views)}
    scipy.io.savemat(tmp_path / "d.mat", {**stored, "Y": y[:, None]})
    data = load_mat(tmp_path / "d.mat")
    assert [v.shape for v in data.views] == [(12, 3), (12, 5)]
    np.testing.assert_allclose(data.views[1], views[1])
    np.testing.assert_array_equal(data.target, np.repeat([0, 1, 2], 4))


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("label_key", ["gt", "truelabel", "y"])
def test_load_mat_cell_array(tmp_path, mv, transposed, label_key):
    views, y = mv
    cell = np.empty((1, 2), dtype=object)
    for i, v in enumerate(views):
        cell[0, i] = v.T if transposed else v
    scipy.io.savemat(tmp_path / "c.mat", {"X": cell, label_key: y})
    data = load_mat(tmp_path / "c.mat")
    assert [v.shape for v in data.views] == [(12, 3), (12, 5)]
    assert data.view_names == ["X{1}", "X{2}"]


def test_load_mat_bad_files(tmp_path, mv):
    views, y = mv
    scipy.io.savemat(tmp_path / "nolabel.mat", {"X1": views[0]})
    with pytest.raises(ValueError, match="No labels"):
        load_mat(tmp_path / "nolabel.mat")
    scipy.io.savemat(tmp_path / "noviews.mat", {"Y": y, "data": views[0]})
    with pytest.raises(ValueError, match="No views"):
        load_mat(tmp_path / "noviews.mat")
    scipy.io.savemat(tmp_path / "square.mat", {"X1": np.eye(12), "Y": y})
    with pytest.raises(ValueError, match="ambiguous"):
        load_mat(tmp_path / "square.mat")
    scipy.io.savemat(tmp_path / "mismatch.mat", {"X1": np.zeros((5, 4)), "Y": y})
    with pytest.raises(ValueError, match="neither dimension"):
        load_mat(tmp_path / "mismatch.mat")
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(ValueError, match="not a readable MATLAB file"):
        load_mat(tmp_path / "junk.mat")


def test_load_mat_v73_needs_h5py(tmp_path):
    pytest.importorskip("scipy")
    try:
        import h5py  # noqa: F401

        pytest.skip("h5py is installed")
    except ImportError:
        pass
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" ") + b"\x00" * 8
    (tmp_path / "v73.mat").write_bytes(header + b"\x00\x02IM" + b"\x00" * 512)
    with pytest.raises(ImportError, match="h5py"):
        load_mat(tmp_path / "v73.mat")


def test_make_multiview_blobs():
    views, y = make_multiview_blobs(
        120, 4, view_features=(5, 7, 3), noise=[0.1, 0.1, 50.0], random_state=0
    )
    assert [v.shape for v in views] == [(120, 5), (120, 7), (120, 3)]
    assert np.bincount(y).tolist() == [30] * 4
    again, y2 = make_multiview_blobs(
        120, 4, view_features=(5, 7, 3), noise=[0.1, 0.1, 50.0], random_state=0
    )
    np.testing.assert_array_equal(views[0], again[0])
    clean = KMeans(4, n_init=5, random_state=0).fit_predict(views[0])
    noisy = KMeans(4, n_init=5, random_state=0).fit_predict(views[2])
    assert clustering_accuracy(y, clean) > 0.9 > 0.5 > clustering_accuracy(y, noisy)
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        make_multiview_blobs(2, 3)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        make_multiview_blobs(10, 2, noise=-1)
