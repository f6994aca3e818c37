"""
Quick start: cluster the bundled Handwritten digits
===================================================

Six views of 2000 handwritten digits (Fourier coefficients, profile correlations, pixel
averages, ...), min-max scaled per view (:class:`~skmvc.preprocessing.ViewScaler`; CONAN
clusters better on min-max views than on views prepared by their kind, unlike the other
methods), clustered by CONAN. The labels are compared with
the classes, which are used for evaluation only.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline

from skmvc import CONANClustering
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_report
from skmvc.preprocessing import ViewScaler

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
model = make_pipeline(
    ViewScaler("minmax"),
    CONANClustering(n_clusters=10, max_epochs=epochs(20), random_state=0, device="cpu"),
)
labels = model.fit_predict(views)
print({k: round(v, 3) for k, v in clustering_report(y, labels).items()})

# %%
# Each cluster against the classes: a good clustering has one large entry per column.
fig, ax = plt.subplots(figsize=(5, 4))
ax.imshow(confusion_matrix(y, labels), cmap="Blues")
ax.set_xlabel("cluster")
ax.set_ylabel("digit")
ax.set_title("Handwritten: digits per CONAN cluster")
fig.tight_layout()
