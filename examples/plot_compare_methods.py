"""
The five methods on one data set
================================

All five estimators on the bundled Handwritten set (2000 samples, 6 views, 10 classes) with
short schedules and smaller networks than the papers', so the comparison runs on a laptop
CPU in about a minute. It shows how to call each method, not which is best: see the
benchmark page for the papers' schedules. Two k-means baselines come first: on the min-max
views, and on the views as :class:`~skmvc.preprocessing.ViewScaler` prepares them by their
kind (here standardised rows of unit length), often the stronger one. The methods take the
views prepared by their kind with rows of unit root mean square (``row_norm="rms"``), so
that the networks see values of order one; CONAN takes them min-max scaled, on which it
clusters better.
"""

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline

from skmvc import (
    CMMCClustering,
    CONANClustering,
    CRRCClustering,
    EAMCClustering,
    RAVClustering,
)
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_report
from skmvc.preprocessing import ViewConcatenator, ViewScaler

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
if QUICK:
    views, y = [v[::10] for v in views], y[::10]

small_ae = dict(encoder_layers=(256,), latent_dim=64, batch_size=64, lr=1e-3)
models = {
    "k-means": make_pipeline(
        ViewScaler("minmax"), ViewConcatenator(), KMeans(10, n_init=10, random_state=0)
    ),
    "k-means, ViewScaler": make_pipeline(
        ViewScaler("auto"), ViewConcatenator(), KMeans(10, n_init=10, random_state=0)
    ),
    "CONAN": CONANClustering(10, max_epochs=epochs(5)),
    "CMMC": CMMCClustering(
        10,
        pretrain_epochs=epochs(5),
        max_epochs=epochs(10),
        finetune_epochs=epochs(3),
        hidden_dim=128,
        feature_dim=64,
        **small_ae,
    ),
    "CRRC": CRRCClustering(10, pretrain_epochs=epochs(5), max_epochs=epochs(10), **small_ae),
    "RAV": RAVClustering(
        10, pretrain_epochs=epochs(5), max_epochs=epochs(10), hidden_dim=128, **small_ae
    ),
    "EAMC": EAMCClustering(
        10, pretrain_epochs=epochs(10), max_epochs=epochs(5), lr=1e-4, head_lr=1e-4
    ),
}
scores = {}
for name, model in models.items():
    if not name.startswith("k-means"):
        model.set_params(random_state=0, device="cpu")
        scaler = ViewScaler("minmax") if name == "CONAN" else ViewScaler("auto", row_norm="rms")
        model = make_pipeline(scaler, model)
    start = time.perf_counter()
    labels = model.fit_predict(views)
    scores[name] = clustering_report(y, labels)
    print(
        f"{name:8s} accuracy {scores[name]['accuracy']:.3f} "
        f"NMI {scores[name]['nmi']:.3f} ({time.perf_counter() - start:.0f} s)"
    )

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
x = np.arange(len(scores))
for offset, metric, label in [(-0.2, "accuracy", "ACC"), (0.2, "nmi", "NMI")]:
    ax.bar(x + offset, [s[metric] for s in scores.values()], width=0.4, label=label)
ax.set_xticks(x, list(scores), rotation=30, ha="right")
ax.set_ylim(0, 1)
ax.set_title("Handwritten, short schedules")
ax.legend()
fig.tight_layout()
