"""Property-based tests of the input validation (Hypothesis).

Random shapes, dtypes, NaN placements and containers: every input either fits or raises a
clear ``ValueError`` / ``TypeError`` — never another exception — and is never modified.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import small_cmmc, small_conan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skmvc import MultiView, check_views

DTYPES = [np.float64, np.float32, np.int64, np.int8, np.bool_, np.complex128, np.uint8]
CONTAINERS = ["list", "tuple", "multiview", "concatenated"]


@st.composite
def multiview_inputs(draw):
    n_views = draw(st.integers(1, 3))
    n_samples = [draw(st.integers(0, 9))] * n_views
    if draw(st.booleans()):  # sometimes a view with another sample count
        n_samples[draw(st.integers(0, n_views - 1))] = draw(st.integers(0, 9))
    views = []
    for v in range(n_views):
        dtype = draw(st.sampled_from(DTYPES))
        n_features = draw(st.integers(0, 4))
        ndim = draw(st.sampled_from([1, 2, 2, 2, 3]))
        shape = {1: (n_samples[v],), 2: (n_samples[v], n_features), 3: (n_samples[v], 2, 2)}
        rng = np.random.RandomState(draw(st.integers(0, 2**16)))
        view = (rng.rand(*shape[ndim]) * 10).astype(dtype)
        if view.size and dtype in (np.float64, np.float32) and draw(st.booleans()):
            flat = view.reshape(-1)
            flat[draw(st.integers(0, flat.size - 1))] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf])
            )
        views.append(view)
    container = draw(st.sampled_from(CONTAINERS))
    return views, container


def _wrap(views, container):
    if container == "list":
        return list(views)
    if container == "tuple":
        return tuple(views)
    if container == "multiview":
        return MultiView(views)
    return np.concatenate([v.reshape(len(v), -1) for v in views], axis=1)


def _check(estimator, views, container):
    copies = [v.copy() for v in views]
    try:
        X = _wrap(views, container)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert message and len(message) < 800, message
    else:
        assert estimator.labels_.shape == (len(views[0]),)
    for view, copy in zip(views, copies):
        np.testing.assert_array_equal(view, copy)
        assert view.dtype == copy.dtype


@pytest.mark.parametrize("factory", [small_conan, small_cmmc], ids=["CONAN", "CMMC"])
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=multiview_inputs())
def test_fit_either_works_or_raises_a_clear_error(factory, data):
    views, container = data
    epochs = dict(pretrain_epochs=1, finetune_epochs=1) if factory is small_cmmc else {}
    _check(factory(max_epochs=1, **epochs), views, container)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=multiview_inputs())
def test_check_views_either_validates_or_raises_a_clear_error(data):
    views, container = data
    copies = [v.copy() for v in views]
    try:
        checked = check_views(_wrap(views, container))
    except (ValueError, TypeError) as exc:
        assert 0 < len(str(exc)) < 800
    else:
        assert all(v.dtype == np.float32 for v in checked)
        assert len({v.shape[0] for v in checked}) == 1
        assert all(np.isfinite(v).all() for v in checked)
    for view, copy in zip(views, copies):
        np.testing.assert_array_equal(view, copy)
