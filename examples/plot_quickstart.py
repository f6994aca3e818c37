"""
Quick start: cluster the bundled Handwritten digits
===================================================

Six views of 2000 handwritten digits, min-max scaled per view, clustered by CONAN; the
labels are compared with the classes (used for evaluation only).
"""

# %%
import os

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skmvc import CONANClustering
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_report
from skmvc.preprocessing import ViewTransformer

# Reduced settings for quick checks of the example (SKMVC_EXAMPLE_EPOCHS=1).
epochs = int(os.environ.get("SKMVC_EXAMPLE_EPOCHS", 20))

views, y = load_handwritten(return_X_y=True)
model = make_pipeline(
    ViewTransformer(MinMaxScaler()),
    CONANClustering(n_clusters=10, max_epochs=epochs, random_state=0),
)
labels = model.fit_predict(views)
print({k: round(v, 3) for k, v in clustering_report(y, labels).items()})

# %%
# The training history holds every loss term per epoch.
conan = model[-1]
print(conan.history_[:, ("epoch", "loss", "contrast")][-3:])
