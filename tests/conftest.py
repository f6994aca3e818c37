"""Shared fixtures: small, fast settings for every estimator, and the real data sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.preprocessing import MinMaxScaler
from toy_method import ToyClustering  # noqa: E402  (tests/ is on the import path)

from skmvc import (
    CMMCClustering,
    CONANClustering,
    CRRCClustering,
    EAMCClustering,
    RAVClustering,
)

#: Every fit in the tests uses one torch thread: the suite runs in parallel processes
#: (pytest-xdist, one per core), and labels do not depend on the machine's core count (float
#: rounding follows the thread count).
torch.set_num_threads(1)

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


#: Settings every small test instance shares: three clusters, CPU, a fixed seed, batch 16.
_COMMON = dict(n_clusters=3, batch_size=16, device="cpu", random_state=0)


def _small(cls, doc, **method_defaults):
    """A factory of ``cls`` instances with tiny networks and few epochs (contract tests,
    not quality); keyword arguments of the factory override the defaults."""

    def factory(**params):
        return cls(**{**_COMMON, **method_defaults, **params})

    factory.__doc__ = doc
    return factory


small_conan = _small(
    CONANClustering,
    "CONAN with tiny networks and few epochs, one restart (its default is 3).",
    max_epochs=10,
    n_init=1,
    lr=1e-2,
    encoder_layers=(16,),
    projection_dim=8,
    ddc_hidden=8,
)
small_cmmc = _small(
    CMMCClustering,
    "CMMC with tiny networks and a few epochs per stage.",
    pretrain_epochs=2,
    max_epochs=6,
    finetune_epochs=2,
    lr=1e-2,
    encoder_layers=(16,),
    latent_dim=8,
    feature_dim=8,
    hidden_dim=16,
)
small_eamc = _small(
    EAMCClustering,
    "EAMC with tiny networks, few epochs and larger learning rates than the paper's.",
    pretrain_epochs=2,
    max_epochs=10,
    lr=1e-3,
    head_lr=1e-2,
    attention_lr=1e-2,
    encoder_layers=(16,),
    ddc_hidden=8,
)
small_crrc = _small(
    CRRCClustering,
    "CRRC with tiny networks and a few epochs per stage.",
    pretrain_epochs=2,
    max_epochs=8,
    lr=1e-2,
    encoder_layers=(16,),
    latent_dim=8,
    feature_dim=8,
    fusion_hidden=16,
    gate_hidden=16,
)
small_rav = _small(
    RAVClustering,
    "RAV with tiny networks and a few epochs per stage.",
    pretrain_epochs=2,
    max_epochs=8,
    lr=1e-2,
    encoder_layers=(16,),
    latent_dim=8,
    hidden_dim=16,
)


small_toy = _small(ToyClustering, "The toy method (toy_method.py) with its small defaults.")

#: name -> factory(**params) of a small instance, for the shared checks.
ESTIMATORS = {
    "CONANClustering": small_conan,
    "CMMCClustering": small_cmmc,
    "EAMCClustering": small_eamc,
    "CRRCClustering": small_crrc,
    "RAVClustering": small_rav,
}
#: The contract every method meets (scikit-learn's checks, save and load, the fail-safe fit,
#: missing views): the five and a toy method defined in one file (toy_method.py).
CONTRACT = {**ESTIMATORS, "ToyClustering": small_toy}


def sklearn_check_instance(name):
    """The instance scikit-learn's checks run on: they pass 2-D arrays, which methods that
    need two views split into two blocks of columns."""
    return CONTRACT[name](**SKLEARN_CHECK_PARAMS.get(name, {}))


#: Settings for sklearn's checks where they differ from the small defaults. check_clustering
#: asks for ARI > 0.4 on 50 blobs and no empty cluster; CMMC gets 2-D blobs as two
#: one-feature views and needs a longer contrastive stage to separate three clusters.
SKLEARN_CHECK_PARAMS = {
    "CMMCClustering": dict(view_sizes=2, max_epochs=30, finetune_epochs=5, batch_size=25),
    "EAMCClustering": dict(view_sizes=2),
    "CRRCClustering": dict(view_sizes=2),
    "RAVClustering": dict(view_sizes=2),
}

#: Checks of scikit-learn's suite that an estimator is expected to fail, each with the reason.
_SPARSE_AND_PROBA = {
    # sklearn's sparse check assumes an estimator with predict_proba is a classifier (it
    # reads classifier_tags.multi_class, which is None for a clusterer) and crashes after
    # fit and predict have succeeded on the sparse input. Sparse views are tested in
    # tests/test_input.py.
    "check_estimator_sparse_array": "predict_proba on a clusterer trips sklearn's check",
    "check_estimator_sparse_matrix": "predict_proba on a clusterer trips sklearn's check",
}

EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "ToyClustering": _SPARSE_AND_PROBA,
    "CMMCClustering": _SPARSE_AND_PROBA,
    "EAMCClustering": _SPARSE_AND_PROBA,
    "RAVClustering": _SPARSE_AND_PROBA,
    "CONANClustering": {
        **_SPARSE_AND_PROBA,
        # CONAN's transform is computed in float32: a matrix product over 320 rows and over
        # 10-row slices rounds differently in the last bit (~2.5e-7 > the check's
        # atol=1e-7). Labels agree; tests/test_estimators.py checks batch invariance at
        # float32 tolerance.
        "check_methods_subset_invariance": "float32 network: last-bit differences by batch",
    },
}


def load_shared(name: str):
    """Views and labels of ``../shared/datasets/<name>.npz``, or skip with the reason."""
    path = SHARED_DATASETS / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared benchmark data sets are not available here")
    with np.load(path) as z:
        n_views = len([k for k in z.files if k.startswith("X")])
        views = [z[f"X{v}"] for v in range(n_views)]
        y = z["y"]
    return views, y


@pytest.fixture
def two_views():
    """Two small float views of 3 separated groups (60 samples) and their labels."""
    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(3), 20)
    centers_a = rng.normal(size=(3, 6)) * 4
    centers_b = rng.normal(size=(3, 4)) * 4
    a = centers_a[y] + rng.normal(size=(60, 6))
    b = centers_b[y] + rng.normal(size=(60, 4))
    return [MinMaxScaler().fit_transform(a), MinMaxScaler().fit_transform(b)], y


def rewrite_model_file(path, edit, out=None):
    """Write ``out`` (default: ``path`` itself) with the content of the model file ``path``
    changed in place by ``edit(content)`` and a valid checksum: a crafted file, not a damaged
    one."""
    import hashlib
    import io

    payload = torch.load(path, weights_only=True)
    content = torch.load(io.BytesIO(payload["content"].numpy().tobytes()), weights_only=True)
    edit(content)
    buffer = io.BytesIO()
    torch.save(content, buffer)
    raw = buffer.getvalue()
    payload["sha256"] = hashlib.sha256(raw).hexdigest()
    payload["content"] = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
    torch.save(payload, path if out is None else out)
