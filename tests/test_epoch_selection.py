"""``epoch_selection="stability"``: a stage of CRRC, RAV or CONAN (training) or CMMC
(contrastive) keeps its last weights unless a label-free reading of their embedding is clearly
worse."""

import numpy as np
import pytest
from conftest import small_cmmc, small_conan, small_crrc, small_rav

from skmvc._schedules import STABILITY_EVERY, STABILITY_TOLERANCE

# (estimator factory, the selected stage, parameters that end the fit with that stage)
CASES = {
    "CRRC": (small_crrc, "train", dict(max_epochs=12, n_iter_no_change=None)),
    "RAV": (small_rav, "train", dict(max_epochs=12, n_iter_no_change=None)),
    "CMMC": (
        small_cmmc,
        "contrastive",
        dict(max_epochs=12, finetune_epochs=0, n_iter_no_change=None),
    ),
    # a constant rate, so that a fit stopped at the kept epoch trains as the selected one did
    "CONAN": (
        small_conan,
        "train",
        dict(max_epochs=12, pretrain_epochs=3, lr_schedule="constant", n_iter_no_change=None),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_stability_selection_keeps_the_last_epoch_unless_clearly_less_stable(name, two_views):
    small, stage, params = CASES[name]
    views, _ = two_views
    est = small(epoch_selection="stability", **params).fit(views)
    rows = [row for row in est.history_ if row["stage"] == stage]
    read = [i + 1 for i, row in enumerate(rows) if "monitor" in row]
    assert read == [STABILITY_EVERY, 2 * STABILITY_EVERY, 12]  # every 5 epochs and the last
    scores = [row["monitor"] for row in rows if "monitor" in row]
    # ... and before the first epoch (the pre-trained weights, epoch 0)
    epochs, scores = [0, *read], [rows[0]["monitor_start"], *scores]
    kept = rows[-1]["kept_epoch"]
    clearly_worse = scores[-1] < max(scores) - STABILITY_TOLERANCE
    assert kept == (epochs[int(np.argmax(scores))] if clearly_worse else 12)
    # The readings draw no random numbers of training's: the kept weights are those of a
    # fit that stops at that epoch, and so are the labels (epoch 0, the pre-trained
    # weights, has no such fit: the engine's tests cover it).
    if kept > 0:
        stopped = small(epoch_selection="last", **{**params, "max_epochs": kept})
        stopped.fit(views)
        np.testing.assert_array_equal(est.labels_, stopped.labels_)
        np.testing.assert_allclose(est.transform(views), stopped.transform(views), rtol=1e-5)
    # "last" (the paper) reads nothing
    last = small(epoch_selection="last", **params).fit(views)
    assert all("monitor" not in row for row in last.history_)
    assert all("monitor" not in row for row in est.history_ if row["stage"] != stage)
