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


def test_the_consensus_report_combines_stored_labels_as_the_call_does(blobs):
    """From stored candidates' labels the report drops a collapsed candidate and a baseline
    (as ConsensusClustering.fit does), and selects what the call selects."""
    from skmvc import ConsensusClustering
    from skmvc.exceptions import CandidateFailedWarning

    consensus = _script("consensus")
    views, y = blobs
    noise = np.random.RandomState(0).randint(3, size=len(y))
    collapsed = np.zeros(len(y), dtype=int)
    rows = [
        {"candidate": "right", "labels": y.tolist()},
        {"candidate": "noise", "labels": noise.tolist()},
        {"candidate": "one cluster", "labels": collapsed.tolist()},
        {"candidate": consensus.BASELINE, "labels": noise.tolist()},
        {"candidate": consensus.CALL, "labels": noise.tolist()},
    ]
    answers = consensus._combined(rows, views, 3, seed=0)
    assert answers["select-silhouette"][1] == "right"
    candidates = {r["candidate"]: _Fixed(r["labels"]) for r in rows[:3]}
    for combine, answer in (("select", "select-silhouette"), ("consensus", "consensus")):
        call = ConsensusClustering(3, candidates=candidates, combine=combine, random_state=0)
        with pytest.warns(CandidateFailedWarning, match="one cluster"):
            call.fit(views)
        np.testing.assert_array_equal(call.labels_, answers[answer][0])
    assert call.ranking_["error"][2].startswith("collapsed")


class _Fixed:
    """A clusterer that answers fixed labels (a stored candidate)."""

    def __init__(self, labels=None):
        self.labels = labels

    def get_params(self, deep=True):
        return {"labels": self.labels}

    def set_params(self, **params):
        self.labels = params["labels"]
        return self

    def fit_predict(self, X, y=None):
        return np.asarray(self.labels)

    def predict(self, X):
        return np.asarray(self.labels)


def test_suite_compare_names_the_sets_a_setting_loses(tmp_path, capsys):
    """``suite.py --compare A B``: each method's mean ACC and fit seconds per tag over the
    sets both have, and the sets where B lies more than 0.03 below A."""
    import json

    rows = [
        dict(tag=tag, method="crrc", dataset=name, seed=seed, accuracy=acc, seconds=sec)
        for tag, name, acc, sec in [
            ("old", "A", 0.80, 100), ("new", "A", 0.70, 10),
            ("old", "B", 0.50, 300), ("new", "B", 0.52, 30),
            ("old", "C", 0.90, 50),  # only one tag: left out of the means
        ]
        for seed in (0, 1)
    ]  # fmt: skip
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _script("suite").compare(path, ["old", "new"], metrics=())
    out = capsys.readouterr().out
    assert "| CRRC (2 sets) | **0.650** | 0.610 | 200 / 20 | A -0.100 |" in out
