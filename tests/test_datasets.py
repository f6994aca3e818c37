import numpy as np
import pytest

from skmvc.datasets import load_handwritten, load_npz


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
