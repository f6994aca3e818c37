"""What the benchmark scripts claim about how they measure."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from skmvc import RAVClustering
from skmvc._benchmark import scaler_named
from skmvc.datasets import make_multiview_blobs
from skmvc.metrics import clustering_accuracy

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def blobs():
    return make_multiview_blobs(80, 3, view_features=(6, 5), random_state=0)


def test_the_accuracy_probe_leaves_the_fit_unchanged(blobs):
    """The label-picked comparison scores every epoch without steering the fit: the same
    labels with and without the probe, and its last epoch scores what the fit scores."""
    probe_module = _script("label_picked")
    views, y = blobs
    params = dict(pretrain_epochs=2, max_epochs=4, random_state=0, device="cpu")
    plain = RAVClustering(3, **params).fit(views)
    probed = RAVClustering(3, **params)
    probe = probe_module.AccuracyProbe(probed, y, seed=0)
    probed.set_params(callbacks=[probe]).fit(views)
    np.testing.assert_array_equal(plain.labels_, probed.labels_)
    assert [s["stage"] for s in probe.scores] == ["train"] * 4  # not pre-training
    assert probe.scores[-1]["accuracy"] == pytest.approx(clustering_accuracy(y, plain.labels_))


def test_the_consensus_benchmark_names_each_preparation_it_fits():
    consensus = _script("consensus")
    for label in ("minmax", "auto", "auto-rms"):
        scaler = scaler_named(label)
        assert consensus._prepare_label(_Pipeline(scaler)) == label
    assert consensus._row_prepare({"candidate": "CRRC"}) == "minmax"  # rows before the field
    assert consensus._row_prepare({"candidate": "kmeans-unit", "prepare": "x"}) is None
    assert consensus.library_prepare() in ("minmax", "auto", "auto-rms")


class _Pipeline:
    def __init__(self, scaler):
        self.named_steps = {"prepare": scaler}
