"""Fail safe: atomic fits, divergence and collapse caught, damaged model files refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conftest import CONTRACT as ESTIMATORS
from conftest import rewrite_model_file
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

import skmvc._restarts
from skmvc import BaseMultiViewClustering, CONANClustering
from skmvc.exceptions import (
    CollapseWarning,
    DivergenceError,
    ModelFileError,
    RestartFailedWarning,
)

pytestmark = pytest.mark.parametrize("name", sorted(ESTIMATORS))

#: Settings that make each method diverge in its first epoch on the small two-view data.
DIVERGING = {
    # The paper's concatenation fusion overflows at this rate; the default mean fusion does
    # not reach non-finite values on this data, so it is no divergence to test with.
    "CONANClustering": dict(lr=1e10, fusion="concat"),
    "CMMCClustering": dict(lr=1e10),
    "CRRCClustering": dict(lr=1e10),
    "RAVClustering": dict(lr=1e10),
    "EAMCClustering": dict(lr=1e10, head_lr=1e10, attention_lr=1e10),
    "ToyClustering": dict(lr=1e39),  # past float32: the weights overflow
}


def _fitted_state(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


def test_divergence_is_reported_at_the_source(name, two_views):
    views, _ = two_views
    with pytest.raises(DivergenceError) as info:
        ESTIMATORS[name](**DIVERGING[name]).fit(views)
    message = str(info.value)
    assert name in message and "stage '" in message and "epoch 1 of" in message
    assert "lower lr" in message and "scale each view" in message


def test_first_failed_fit_leaves_the_estimator_unfitted(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name](**DIVERGING[name])
    with pytest.raises(DivergenceError):
        est.fit(views)
    assert _fitted_state(est) == {}
    with pytest.raises(NotFittedError):
        est.predict(views)


def test_failed_refit_keeps_the_previous_model(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    state = _fitted_state(est)
    labels, embedding = est.predict(views), est.transform(views)
    other = [np.hstack([views[0], views[0]]), views[1]]  # other feature counts
    est.set_params(**DIVERGING[name])
    with pytest.raises(DivergenceError):
        est.fit(other)
    assert _fitted_state(est).keys() == state.keys()
    assert all(_fitted_state(est)[k] is v for k, v in state.items())
    est.set_params(**{k: ESTIMATORS[name]().get_params()[k] for k in DIVERGING[name]})
    np.testing.assert_array_equal(est.predict(views), labels)
    np.testing.assert_array_equal(est.transform(views), embedding)
    with pytest.raises(ValueError, match="View 0 has samples of shape"):
        est.predict(other)


class _RaiseOnCall(Callback):
    """Raises ``error`` at the ``at``-th call of ``hook`` (counted across restarts)."""

    def __init__(self, hook, at, error):
        self.hook, self.at, self.error, self.calls = hook, at, error, 0

    def _count(self):
        self.calls += 1
        if self.calls == self.at:
            raise self.error

    def on_batch_end(self, net, **kwargs):
        if self.hook == "on_batch_end":
            self._count()

    def on_train_begin(self, net, **kwargs):
        if self.hook == "on_train_begin":
            self._count()


def test_interrupted_fit_keeps_the_previous_model(name, two_views):
    views, _ = two_views
    est = ESTIMATORS[name]().fit(views)
    state = _fitted_state(est)
    labels = est.predict(views)
    ctrl_c = _RaiseOnCall("on_batch_end", 3, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        est.set_params(callbacks=[ctrl_c]).fit([views[0][:40], views[1][:40]])
    est.set_params(callbacks=None)
    assert all(_fitted_state(est)[k] is v for k, v in state.items())
    np.testing.assert_array_equal(est.predict(views), labels)
    # ... and an interrupted first fit leaves an unfitted estimator.
    fresh = ESTIMATORS[name](callbacks=[_RaiseOnCall("on_batch_end", 3, KeyboardInterrupt())])
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(views)
    with pytest.raises(NotFittedError):
        fresh.predict(views)


def test_a_diverged_restart_is_dropped_with_a_warning(name, two_views):
    views, _ = two_views
    diverges = _RaiseOnCall("on_train_begin", 1, DivergenceError("injected by the test"))
    with pytest.warns(RestartFailedWarning, match="1 of 2 restarts"):
        est = ESTIMATORS[name](n_init=2, n_jobs=1, callbacks=[diverges]).fit(views)
    assert np.isnan(est.init_losses_[0]) and np.isfinite(est.init_losses_[1])
    assert est.loss_ == est.init_losses_[1]


def test_collapse_warns(name, two_views):
    views, _ = two_views
    constant = [np.ones_like(v) for v in views]  # nothing to tell the samples apart
    with pytest.warns(CollapseWarning, match=f"{name} collapsed: one cluster holds 100%"):
        est = ESTIMATORS[name]().fit(constant)
    assert est.init_collapsed_.tolist() == [True]


def test_collapsed_restarts_are_not_preferred(name, two_views, monkeypatch):
    views, _ = two_views
    calls = {"n": 0}

    def first_collapses(labels, n_clusters):
        calls["n"] += 1
        return "injected" if calls["n"] == 1 else None

    monkeypatch.setattr(skmvc._restarts, "collapse_message", first_collapses)
    est = ESTIMATORS[name](n_init=2, n_jobs=1)
    if "assign_labels" in est.get_params():  # "auto" would relabel a collapsed head
        est.set_params(assign_labels="head")
    est.fit(views)
    assert est.init_collapsed_[0] and est.loss_ == est.init_losses_[1]


# ---------------------------------------------------------------------- model files
@pytest.fixture
def saved(name, two_views, tmp_path):
    views, _ = two_views
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollapseWarning)
        est = ESTIMATORS[name]().fit(views)
    path = tmp_path / "model.skmvc"
    est.save(path)
    return est, path


def test_damaged_files_are_refused(name, saved, tmp_path):
    _, path = saved
    raw = path.read_bytes()
    cases = {
        "truncated": raw[: len(raw) // 2],
        "empty": b"",
        "text": b"hello, I am a text file\n" * 10,
    }
    for case, content in cases.items():
        bad = tmp_path / f"{case}.skmvc"
        bad.write_bytes(content)
        with pytest.raises(ModelFileError, match=f"{case}.skmvc.*not a valid skmvc model file"):
            BaseMultiViewClustering.load(bad)
    torch.save({"format": "skmvc-model"}, tmp_path / "noversion.pt")
    with pytest.raises(ModelFileError, match="no format version"):
        BaseMultiViewClustering.load(tmp_path / "noversion.pt")
    torch.save({"format": "skmvc-model", "format_version": 99}, tmp_path / "future.pt")
    with pytest.raises(ModelFileError, match="version 99.*Upgrade skmvc"):
        BaseMultiViewClustering.load(tmp_path / "future.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(ModelFileError, match="not written by skmvc's save"):
        BaseMultiViewClustering.load(tmp_path / "foreign.pt")


def test_flipped_bytes_are_detected(name, saved, tmp_path):
    est, path = saved
    payload = torch.load(path, weights_only=True)
    content = payload["content"].clone()
    # 64 bytes in the middle of the content, where the weights are.
    middle = content.numel() // 2
    content[middle : middle + 64] ^= 0x5A
    payload["content"] = content
    torch.save(payload, tmp_path / "flipped.skmvc")
    with pytest.raises(ModelFileError, match="checksum does not match"):
        BaseMultiViewClustering.load(tmp_path / "flipped.skmvc")


def test_load_sets_only_declared_attributes(name, saved, tmp_path):
    _, path = saved
    crafted = tmp_path / "crafted.skmvc"
    rewrite_model_file(path, lambda c: c["values"].update(predict="boom"), crafted)
    with pytest.raises(ModelFileError, match=r"does not declare: \['predict'\]"):
        BaseMultiViewClustering.load(crafted)
    crafted = tmp_path / "params.skmvc"
    rewrite_model_file(path, lambda c: c["params"].update(n_clusters=-3), crafted)
    with pytest.raises(ModelFileError, match="does not fit"):
        BaseMultiViewClustering.load(crafted)


def test_a_file_without_a_parameter_of_the_class_is_refused(name, saved, tmp_path):
    """A file written by another development version of skmvc, whose class had other
    parameters, is refused: loading it with today's defaults would change the model."""
    est, path = saved
    param = sorted(est.get_params())[0]
    rewrite_model_file(path, lambda content: content["params"].pop(param), tmp_path / "old.pt")
    with pytest.raises(ModelFileError, match=f"lacks the parameter.*{param}"):
        BaseMultiViewClustering.load(tmp_path / "old.pt", device="cpu")


def test_missing_file_is_a_file_not_found_error(name, tmp_path):
    with pytest.raises(FileNotFoundError):
        CONANClustering.load(tmp_path / "nothing-here.skmvc")
