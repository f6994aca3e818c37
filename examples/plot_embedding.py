"""
What the fused embedding looks like
===================================

``transform`` returns a method's fused representation. A PCA of CONAN's embedding of the
Handwritten digits, coloured once by the found clusters and once by the true classes.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.decomposition import PCA

from skmvc import CONANClustering
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_accuracy
from skmvc.preprocessing import ViewScaler

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
views = ViewScaler("auto", row_norm="rms").fit_transform(views)  # each view by its kind
model = CONANClustering(10, max_epochs=epochs(15), random_state=0, device="cpu").fit(views)
embedding = PCA(2, random_state=0).fit_transform(model.transform(views))
print(f"accuracy {clustering_accuracy(y, model.labels_):.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
for ax, colours, title in [(axes[0], model.labels_, "clusters"), (axes[1], y, "classes")]:
    ax.scatter(*embedding.T, c=colours, cmap="tab10", s=4)
    ax.set_title(f"CONAN embedding (PCA), coloured by {title}")
fig.tight_layout()
