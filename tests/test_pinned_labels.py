"""Refactoring the package must not change what a fit computes.

Each method is fitted with small fixed settings and a fixed ``random_state`` on 240 samples
of the bundled Handwritten set (three of its views), with every view present and with 20 %
of the samples missing a view, and its labels are compared with the labels stored in
``tests/data/pinned_labels.json``. A change that is meant to change results (a new default,
another initialisation) updates the file in the same commit:
``python tests/test_pinned_labels.py --write``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ESTIMATORS
from sklearn.preprocessing import MinMaxScaler

from skmvc import MultiView
from skmvc.datasets import load_handwritten

PINNED = Path(__file__).parent / "data" / "pinned_labels.json"

#: name -> the small instance's parameters besides the shared small ones.
CASES = {
    "CONANClustering": dict(n_init=2),
    "CMMCClustering": dict(assign_labels="auto"),
    "EAMCClustering": dict(),
    "CRRCClustering": dict(n_init=2, selection="agreement"),
    "RAVClustering": dict(assign_labels="kmeans"),
}


def _data(missing: bool):
    views, _ = load_handwritten(return_X_y=True)
    rows = np.random.RandomState(0).choice(len(views[0]), 240, replace=False)
    views = [MinMaxScaler().fit_transform(views[v][rows]) for v in (0, 2, 4)]
    if not missing:
        return views
    observed = np.ones((240, 3), dtype=bool)
    drop = np.random.RandomState(1).choice(240, 48, replace=False)
    observed[drop, np.arange(48) % 3] = False
    return MultiView(views, observed=observed)


def _labels(name: str, missing: bool) -> list[int]:
    model = ESTIMATORS[name](**{**CASES[name], "n_clusters": 10})
    return model.fit(_data(missing)).labels_.tolist()


def _key(name: str, missing: bool) -> str:
    return f"{name}{'-missing' if missing else ''}"


@pytest.mark.parametrize("missing", [False, True], ids=["complete", "missing"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_labels_are_pinned(name, missing):
    pinned = json.loads(PINNED.read_text())[_key(name, missing)]
    labels = _labels(name, missing)
    differ = int(np.sum(np.asarray(labels) != np.asarray(pinned)))
    assert differ == 0, f"{name}: {differ} of {len(labels)} labels changed"


if __name__ == "__main__":  # python tests/test_pinned_labels.py --write
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_pinned_labels.py --write")
    table = {_key(n, m): _labels(n, m) for n in sorted(CASES) for m in (False, True)}
    PINNED.write_text(json.dumps(table, separators=(",", ":")) + "\n")
