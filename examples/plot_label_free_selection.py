"""
Choosing a method and its settings without labels
=================================================

With no labels there is no accuracy to compare fits by. This example fits k-means and two
deep methods, in two settings each, on the bundled Handwritten set, and ranks the fits with
:func:`skmvc.model_selection.rank_clusterings` by two label-free criteria:

- **agreement**: how much a fit's clusters agree with the other fits' (mean NMI). The fits'
  consensus ranks high; a collapsed or eccentric fit ranks low.
- **silhouette**: the silhouette of a fit's clusters averaged over every fit's embedding, so
  that an embedding cannot flatter its own clusters.

The training loss cannot rank these candidates: the methods' losses differ in kind and scale.
The labels are used only at the end, to show how good the chosen fit really is. How often
each criterion picks well is measured on the development sets (benchmarks page).
"""

# %%
import matplotlib.pyplot as plt
from _settings import QUICK, epochs
from sklearn.preprocessing import MinMaxScaler

from skmvc import CONANClustering, CRRCClustering
from skmvc._benchmark import kmeans_baseline
from skmvc.datasets import load_handwritten
from skmvc.metrics import clustering_accuracy
from skmvc.model_selection import rank_clusterings
from skmvc.preprocessing import ViewTransformer

views, y = load_handwritten(return_X_y=True)
views = ViewTransformer(MinMaxScaler()).fit_transform(views)
if QUICK:
    views, y = [v[::10] for v in views], y[::10]

small = dict(encoder_layers=(256,), latent_dim=64, batch_size=64, random_state=0, device="cpu")
candidates = {
    "k-means": kmeans_baseline(10, seed=0),
    "CRRC lr=1e-3": CRRCClustering(
        10, pretrain_epochs=epochs(10), max_epochs=epochs(10), lr=1e-3, **small
    ),
    "CRRC lr=1e-4": CRRCClustering(
        10, pretrain_epochs=epochs(10), max_epochs=epochs(10), lr=1e-4, **small
    ),
    "CONAN λ=0.01": CONANClustering(10, max_epochs=epochs(20), random_state=0, device="cpu"),
    "CONAN λ=0.1": CONANClustering(
        10, max_epochs=epochs(20), contrast_weight=0.1, random_state=0, device="cpu"
    ),
}
fitted = {name: model.fit(views) for name, model in candidates.items()}

# %%
# Rank the fits by each criterion; ``pandas.DataFrame(ranking)`` would print it as a table.
rankings = {c: rank_clusterings(fitted, views, criterion=c) for c in ("agreement", "silhouette")}
accuracy = {name: clustering_accuracy(y, model.predict(views)) for name, model in fitted.items()}
for criterion, ranking in rankings.items():
    chosen = ranking["name"][0]
    print(f"{criterion}: chooses {chosen} (accuracy {accuracy[chosen]:.3f}); ranking:")
    for name, score in zip(ranking["name"], ranking["score"]):
        print(f"  {name:14s} score {score:.3f}  accuracy {accuracy[name]:.3f}")

# %%
# The criteria's scores beside the accuracy they could not see.
names = list(fitted)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharey=True)
series = {
    c: dict(zip(rankings[c]["name"], rankings[c]["score"])) for c in ("agreement", "silhouette")
}
series["accuracy (labels)"] = accuracy
for ax, (title, values) in zip(axes, series.items()):
    ax.barh(names, [values[n] for n in names])
    ax.set_title(title)
axes[0].invert_yaxis()
fig.suptitle("Ranking fits without labels")
fig.tight_layout()
plt.show()
print("best accuracy:", max(accuracy, key=accuracy.get), f"{max(accuracy.values()):.3f}")
