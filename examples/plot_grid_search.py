"""
Grid search with the clustering scorers
=======================================

A plain list of views cannot go through ``GridSearchCV`` (scikit-learn would count the
views as samples); ``skmvc.MultiView`` can. With labels, the accuracy scorer picks the
setting that best matches the classes. Without labels, ``score`` (minus the training loss)
is shown beside it, with a caveat the figure makes visible: ``contrast_weight`` multiplies a
loss term, so it changes the scale of the loss, and the loss then favours the smallest
weight whatever the clustering. Compare losses only between settings that leave the loss's
scale alone (restarts, learning rates, epochs); see the user guide's label-free section.

.. warning::

   Pass the scorer object, ``scoring=SCORERS["accuracy"]`` (or ``get_scorer("accuracy")``),
   never the string ``scoring="accuracy"``: scikit-learn would compute classification
   accuracy on the raw cluster ids, which are arbitrary names.
"""

# %%
import matplotlib.pyplot as plt
import pandas as pd
from _settings import QUICK, epochs
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import MinMaxScaler

from skmvc import CONANClustering, MultiView
from skmvc.datasets import load_handwritten
from skmvc.metrics import SCORERS
from skmvc.preprocessing import ViewTransformer

views, y = load_handwritten(return_X_y=True)
views = ViewTransformer(MinMaxScaler()).fit_transform(views)
if QUICK:
    views, y = [v[::10] for v in views], y[::10]
X = MultiView(views)
grid = {"contrast_weight": [0.0, 0.01, 0.1]}
base = CONANClustering(10, max_epochs=epochs(5), random_state=0, device="cpu")
search = GridSearchCV(base, grid, scoring=SCORERS["accuracy"], cv=3).fit(X, y)
label_free = GridSearchCV(base, grid, cv=3).fit(X)  # uses score = -loss
results = pd.DataFrame(
    {
        "contrast_weight": grid["contrast_weight"],
        "accuracy": search.cv_results_["mean_test_score"],
        "minus loss": label_free.cv_results_["mean_test_score"],
    }
)
print(results)
print("best by accuracy:", search.best_params_, "best by loss:", label_free.best_params_)

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(results["contrast_weight"], results["accuracy"], marker="o")
ax.set_xscale("symlog", linthresh=0.01)
ax.set_xlabel("contrast_weight (λ)")
ax.set_ylabel("held-out accuracy (3-fold)")
ax.set_title("CONAN on Handwritten")
fig.tight_layout()
