"""
Grid search with the clustering scorers
=======================================

A plain list of views cannot go through ``GridSearchCV`` (scikit-learn would count the
views as samples); ``skmvc.MultiView`` can. With labels, the accuracy scorer picks the
setting that best matches the classes. Without labels, score the search with
``SCORERS["silhouette"]``: the silhouette of each setting's clusters in the input views,
a space that every setting shares (on six development sets it chose among learning rates
with a mean regret of 0.014 ACC; benchmarks page, "Choosing without labels"). The
estimator's own ``score`` (minus the training loss) is shown too, with a caveat:
``contrast_weight`` multiplies a loss term, so it changes the scale of the loss, and the
loss then favours the smallest weight whatever the clustering. Compare losses only between
settings that leave the loss's scale alone (restarts); see the user guide's label-free
section.

.. warning::

   Pass the scorer object, ``scoring=SCORERS["accuracy"]`` (or ``get_scorer("accuracy")``),
   never the string ``scoring="accuracy"``: scikit-learn would compute classification
   accuracy on the raw cluster ids, which are arbitrary names.
"""

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV

from skmvc import CONANClustering, MultiView
from skmvc.datasets import load_handwritten
from skmvc.metrics import SCORERS
from skmvc.preprocessing import ViewScaler

# SKMVC_EXAMPLE_QUICK=1 (the docs' quick build, the tests) shrinks every schedule.
QUICK = os.environ.get("SKMVC_EXAMPLE_QUICK") == "1"


def epochs(n):
    return 1 if QUICK else n


views, y = load_handwritten(return_X_y=True)
views = ViewScaler("auto", row_norm="rms").fit_transform(views)  # each view by its kind
if QUICK:
    views, y = [v[::10] for v in views], y[::10]
X = MultiView(views)
grid = {"contrast_weight": [0.0, 0.01, 0.1]}
# One restart a fit (CONAN's default keeps the best of three) keeps the 30 fits short.
base = CONANClustering(10, max_epochs=epochs(5), n_init=1, random_state=0, device="cpu")
search = GridSearchCV(base, grid, scoring=SCORERS["accuracy"], cv=3).fit(X, y)
by_silhouette = GridSearchCV(base, grid, scoring=SCORERS["silhouette"], cv=3).fit(X)  # no y
by_loss = GridSearchCV(base, grid, cv=3).fit(X)  # the estimator's score: minus the loss
results = pd.DataFrame(
    {
        "contrast_weight": grid["contrast_weight"],
        "accuracy": search.cv_results_["mean_test_score"],
        "input silhouette": by_silhouette.cv_results_["mean_test_score"],
        "minus loss": by_loss.cv_results_["mean_test_score"],
    }
)
print(results)
print("best by accuracy:", search.best_params_)
print("best by input silhouette:", by_silhouette.best_params_)
print("best by loss:", by_loss.best_params_)

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for ax, column in zip(axes, ("accuracy", "input silhouette")):
    ax.plot(results["contrast_weight"], results[column], marker="o")
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlabel("contrast_weight (λ)")
    ax.set_ylabel(f"held-out {column} (3-fold)")
fig.suptitle("CONAN on Handwritten")
fig.tight_layout()
