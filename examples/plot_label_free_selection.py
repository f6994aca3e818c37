"""
Choosing a method and its settings without labels
=================================================

With no labels there is no accuracy to compare fits by. This example follows the recipe
that the development suite measured (benchmarks page, "Choosing without labels"):

1. **Settings of one method**: fit each setting and keep the one whose clusters have the
   highest **silhouette in the input views**
   (:func:`skmvc.metrics.input_silhouette_score`). The input space is the same for every
   setting, so the scores compare; in a grid search it is
   ``scoring=SCORERS["silhouette"]``.
2. **Methods**: rank each method's chosen fit and k-means with
   :func:`skmvc.model_selection.rank_clusterings` by **agreement**: how much a fit's
   clusters agree with the other fits' (mean NMI). The consensus ranks high; a collapsed or
   eccentric fit ranks low. It needs several candidates (four here): two fits agree with
   each other equally.

The training loss cannot do either: a method's losses differ in kind and scale from
another's, and with early stopping a learning rate also changes where the loss settles.
The labels are used only at the end, to show how good each choice really is.
"""

# %%
import os

import matplotlib.pyplot as plt
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline

from skmvc import CONANClustering, CRRCClustering, EAMCClustering
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_accuracy, input_silhouette_score
from skmvc.model_selection import rank_clusterings
from skmvc.preprocessing import ViewConcatenator, ViewScaler

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
views = ViewScaler("auto", row_norm="rms").fit_transform(views)  # each view by its kind
if QUICK:
    views, y = [v[::10] for v in views], y[::10]

small = dict(encoder_layers=(256,), latent_dim=64, batch_size=64, random_state=0, device="cpu")
# Each method's default learning rate times 1/3, 1 and 3.
settings = {
    "CRRC": {
        f"lr={lr:g}": CRRCClustering(
            10, pretrain_epochs=epochs(10), max_epochs=epochs(10), lr=lr, **small
        )
        for lr in (1e-4, 3e-4, 1e-3)
    },
    "CONAN": {
        f"lr={lr:g}": CONANClustering(
            10, max_epochs=epochs(20), lr=lr, random_state=0, device="cpu"
        )
        for lr in (3e-4, 1e-3, 3e-3)
    },
    "EAMC": {
        f"lr={lr:g}": EAMCClustering(
            10,
            pretrain_epochs=epochs(100),
            max_epochs=epochs(100),
            lr=lr,
            random_state=0,
            device="cpu",
        )
        for lr in (3e-6, 1e-5, 3e-5)
    },
}

# %%
# Step 1: within each method, the setting with the highest input silhouette.
silhouettes, accuracy, chosen = {}, {}, {}
for method, candidates in settings.items():
    for name, model in candidates.items():
        model.fit(views)
        key = f"{method} {name}"
        silhouettes[key] = input_silhouette_score(model, views)
        accuracy[key] = clustering_accuracy(y, model.labels_)  # the fit's own labels
    best = max(candidates, key=lambda name: silhouettes[f"{method} {name}"])
    chosen[f"{method} {best}"] = candidates[best]
    print(f"{method}: chooses {best}")
    for name in candidates:
        key = f"{method} {name}"
        print(f"  {name:9s} silhouette {silhouettes[key]:.3f}  accuracy {accuracy[key]:.3f}")

# %%
# Step 2: rank each method's chosen fit and k-means by agreement.
chosen["k-means"] = make_pipeline(ViewConcatenator(), KMeans(10, n_init=10, random_state=0)).fit(
    views
)
accuracy["k-means"] = clustering_accuracy(y, chosen["k-means"].predict(views))
ranking = rank_clusterings(chosen, views, criterion="agreement")
for name, score in zip(ranking["name"], ranking["score"]):
    print(f"{name:16s} agreement {score:.3f}  accuracy {accuracy[name]:.3f}")
print("chosen:", ranking["name"][0], f"accuracy {accuracy[ranking['name'][0]]:.3f}")
print("best by labels:", max(accuracy, key=accuracy.get), f"{max(accuracy.values()):.3f}")

# %%
# Each criterion's scores beside the accuracy it could not see.
agreement = dict(zip(ranking["name"], ranking["score"]))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for ax, scores, title in (
    (axes[0], silhouettes, "settings: input silhouette"),
    (axes[1], agreement, "methods: agreement"),
):
    names = list(scores)
    ax.scatter([scores[n] for n in names], [accuracy[n] for n in names])
    for n in names:
        ax.annotate(n, (scores[n], accuracy[n]), fontsize=7)
    ax.set_xlabel(title)
    ax.set_ylabel("accuracy (labels, evaluation only)")
fig.suptitle("Choosing without labels on Handwritten")
fig.tight_layout()
plt.show()
