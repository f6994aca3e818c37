"""
Which views does the model trust?
=================================

EAMC learns one weight per view; RAV weighs every pair of views by how close their latent
distributions are. On synthetic data with two informative views and one view drowned in
noise (``make_multiview_blobs``), both can be read after fitting.

EAMC's weights come from ``softmax(sigmoid(·) / τ)`` with τ = 10 (the authors' code), which
keeps them close to 1/V; lower ``attention_temperature`` to let them move further.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import StandardScaler

from skmvc import EAMCClustering, RAVClustering
from skmvc.datasets import make_multiview_blobs
from skmvc.metrics import clustering_accuracy
from skmvc.preprocessing import ViewTransformer

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = make_multiview_blobs(
    600, 4, view_features=(20, 20, 20), noise=[0.5, 0.5, 8.0], random_state=0
)
views = ViewTransformer(StandardScaler()).fit_transform(views)
eamc = EAMCClustering(
    4,
    pretrain_epochs=epochs(30),
    max_epochs=epochs(30),
    encoder_layers=(64, 64),
    lr=1e-4,
    head_lr=1e-4,
    random_state=0,
    device="cpu",
).fit(views)
rav = RAVClustering(
    4,
    pretrain_epochs=epochs(10),
    max_epochs=epochs(20),
    encoder_layers=(64,),
    latent_dim=16,
    hidden_dim=32,
    batch_size=64,
    lr=1e-3,
    random_state=0,
    device="cpu",
).fit(views)
print(
    f"EAMC accuracy {clustering_accuracy(y, eamc.labels_):.3f}, weights "
    f"{np.round(eamc.view_weights_, 3)}"
)
print(
    f"RAV accuracy {clustering_accuracy(y, rav.labels_):.3f}, weights\n"
    f"{np.round(rav.view_weights_, 3)}"
)

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
names = ["view 0", "view 1", "view 2 (noisy)"]
bars = axes[0].bar(names, eamc.view_weights_)
axes[0].bar_label(bars, fmt="%.3f")
axes[0].set_title("EAMC: modality weights w")
image = axes[1].imshow(rav.view_weights_, cmap="viridis")
axes[1].set_xticks(range(3), names)
axes[1].set_yticks(range(3), names)
axes[1].set_title("RAV: view-aware weights W (rows sum to 1)")
fig.colorbar(image, ax=axes[1])
fig.tight_layout()
