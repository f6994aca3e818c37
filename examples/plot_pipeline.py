"""
Per-view preprocessing in a pipeline
====================================

Views often live on very different scales (Handwritten's range from 1 to about 18 000).
``ViewTransformer`` applies a scikit-learn transformer to each view separately, and
``ViewScaler`` prepares each view by its kind (these are dense features: standardised, then
rows of unit root mean square), here inside a ``Pipeline`` with CRRC; the same model without
scaling does much worse.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skmvc import CRRCClustering
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_accuracy
from skmvc.preprocessing import ViewScaler, ViewTransformer

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
views = views[:3]
if QUICK:
    views, y = [v[::10] for v in views], y[::10]
print("largest value per view:", [round(float(v.max()), 1) for v in views])


def crrc():
    return CRRCClustering(
        10,
        pretrain_epochs=epochs(5),
        max_epochs=epochs(10),
        encoder_layers=(256,),
        batch_size=64,
        lr=1e-3,
        random_state=0,
        device="cpu",
    )


pipelines = {
    "no scaling": crrc(),
    "min-max per view": make_pipeline(ViewTransformer(MinMaxScaler()), crrc()),
    "standardised per view": make_pipeline(ViewTransformer(StandardScaler()), crrc()),
    "ViewScaler, rms rows": make_pipeline(ViewScaler("auto", row_norm="rms"), crrc()),
}
accuracy = {}
for name, model in pipelines.items():
    accuracy[name] = clustering_accuracy(y, model.fit_predict(views))
    print(f"{name:22s} accuracy {accuracy[name]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(accuracy), list(accuracy.values()))
ax.set_xlim(0, 1)
ax.set_xlabel("accuracy")
ax.set_title("CRRC on three Handwritten views")
fig.tight_layout()
