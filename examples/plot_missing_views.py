"""
Samples with missing views
==========================

Some samples lack some of their views: a sensor dropped out, an article has no translation.
Mark a missing view of a sample with a row of NaN (or pass ``MultiView(views,
observed=mask)``) and fit as usual. Here a growing fraction of the bundled Handwritten set's
samples lose between one and five of their six views (``make_missing_views``); EAMC with
its default parameters is compared with k-means on the concatenated views, where each
missing view's columns are filled with the column means.

A sample that misses views is assigned to the nearest centre of its *pattern* of views:
the complete samples seen through the same views, averaged per cluster
(``pattern_centers_``). The figure shows the accuracy on the complete samples and on those
that miss views separately. About 10 s per fit on a laptop CPU; the benchmark page has the
same comparison over three seeds and more rates.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from skmvc import EAMCClustering
from skmvc.datasets import load_handwritten, make_missing_views
from skmvc.metrics import clustering_accuracy
from skmvc.preprocessing import ViewConcatenator, ViewScaler

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
if QUICK:
    views, y = [v[::10] for v in views], y[::10]

rates = [0.0, 0.3, 0.5]
results = {}
for rate in rates:
    incomplete, observed = make_missing_views(views, rate, random_state=0)
    complete = observed.all(axis=1)
    # The scaler is fitted on the rows each view has; missing rows stay NaN.
    scaled = ViewScaler("auto", row_norm="rms").fit_transform(incomplete)
    model = EAMCClustering(
        10, pretrain_epochs=epochs(100), max_epochs=epochs(100), random_state=0, device="cpu"
    )
    labels = model.fit(scaled).labels_
    kmeans = make_pipeline(ViewConcatenator(), SimpleImputer(), KMeans(10, random_state=0))
    baseline = kmeans.fit(scaled).predict(scaled)
    results[rate] = {
        "EAMC, all samples": clustering_accuracy(y, labels),
        "EAMC, complete samples": clustering_accuracy(y[complete], labels[complete]),
        "EAMC, samples missing views": (
            clustering_accuracy(y[~complete], labels[~complete]) if (~complete).any() else np.nan
        ),
        "k-means (mean-imputed)": clustering_accuracy(y, baseline),
    }
    print(
        f"missing rate {rate}: "
        + ", ".join(f"{name} accuracy {acc:.3f}" for name, acc in results[rate].items())
    )
    if rate > 0:
        print(f"  patterns of present views seen in fit: {len(model.view_patterns_)}")

# %%
# ``predict`` assigns new samples the same way, whatever views they have. A sample whose
# pattern of views never occurred in ``fit`` falls back to the method's own rule, with a
# warning.
rows = np.flatnonzero(complete)[:5]
first = [v[rows] for v in scaled]  # indexing copies: ``scaled`` is left as it was
first[0][:] = np.nan  # these five samples lost view 0
print("labels of five samples without view 0:", model.predict(first))

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name in results[rates[0]]:
    ax.plot(rates, [results[r][name] for r in rates], marker="o", label=name)
ax.set_xlabel("fraction of samples missing views")
ax.set_ylabel("accuracy")
ax.set_ylim(0, 1)
ax.legend(fontsize=8)
ax.set_title("Handwritten, EAMC with default parameters")
fig.tight_layout()
plt.show()
