"""
Training curves from ``history_``
=================================

Every estimator records each named loss term per epoch and per stage in ``history_`` (a
skorch History). CMMC has three stages: autoencoder pre-training, contrastive learning and
pseudo-label fine-tuning.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from skmvc import CMMCClustering
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_accuracy
from skmvc.preprocessing import ViewScaler

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
views = ViewScaler("auto", row_norm="rms").fit_transform(views)[:3]  # three of the six views
model = CMMCClustering(
    10,
    pretrain_epochs=epochs(10),
    max_epochs=epochs(15),
    finetune_epochs=epochs(5),
    encoder_layers=(256,),
    latent_dim=64,
    hidden_dim=128,
    feature_dim=64,
    batch_size=64,
    lr=1e-3,
    random_state=0,
    device="cpu",
).fit(views)
print(f"accuracy {clustering_accuracy(y, model.labels_):.3f}")

# %%
history = model.history_
epoch = np.array(history[:, "epoch"])
stage = np.array(history[:, "stage"])
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
for ax, name, terms in [
    (axes[0], "pretrain", ["reconstruction"]),
    (axes[1], "contrastive", ["feature_contrast", "label_contrast", "entropy"]),
    (axes[2], "finetune", ["cross_entropy"]),
]:
    rows = [row for row in history if row["stage"] == name]
    for term in terms:
        ax.plot(epoch[stage == name], [row[term] for row in rows], marker=".", label=term)
    ax.set_title(name)
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
fig.tight_layout()
