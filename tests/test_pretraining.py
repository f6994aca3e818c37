"""The optional reconstruction pre-training of CONAN and EAMC (``pretrain_epochs``)."""

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS, small_conan, small_eamc

from skmvc._data import Batch
from skmvc._schedules import AutoEpochs
from skmvc.nn import build_decoders

SMALL = {"CONAN": small_conan, "EAMC": small_eamc}


@pytest.mark.parametrize("name", list(SMALL))
def test_no_pretraining_builds_no_decoders(name, two_views):
    views, _ = two_views
    est = SMALL[name](pretrain_epochs=0, max_epochs=2).fit(views)
    assert est.module_.decoders is None
    assert {row["stage"] for row in est.history_} == {"train"}


@pytest.mark.parametrize("name", list(SMALL))
def test_pretraining_runs_first_and_reduces_the_reconstruction(name, two_views):
    views, _ = two_views
    est = SMALL[name](pretrain_epochs=15, max_epochs=2, n_iter_no_change=None).fit(views)
    stages = [row["stage"] for row in est.history_]
    assert stages == ["pretrain"] * 15 + ["train"] * 2
    errors = [row["reconstruction"] for row in est.history_ if row["stage"] == "pretrain"]
    assert errors[-1] < 0.5 * errors[0]
    # The method's own stage does not carry the reconstruction (weight 0).
    assert "reconstruction" not in est.history_[-1]


@pytest.mark.parametrize("name", list(SMALL))
def test_pretraining_loss_is_the_views_mse_through_the_mirrored_decoders(name, two_views):
    views, _ = two_views
    est = SMALL[name](pretrain_epochs=1, max_epochs=1)
    est.fit(views)
    module = est.module_.eval()
    x = [torch.as_tensor(v, dtype=torch.float32) for v in views]
    stage = est._stages(module, None, 0)[0]
    assert stage.name == "pretrain"
    with torch.no_grad():
        terms = stage.steps[0].loss(Batch(x, torch.arange(len(views[0]))))
        expected = sum(
            ((dec(enc(xv)) - xv) ** 2).mean()
            for enc, dec, xv in zip(module.encoders, module.decoders, x)
        )
    assert terms["loss"].item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("name", list(SMALL))
def test_pretraining_leaves_the_other_modules_initial_weights_alone(name, two_views):
    """Decoders are drawn after every other module, so the same seed gives the same
    encoders, heads and discriminators with or without them."""
    views, _ = two_views
    plain = SMALL[name](pretrain_epochs=0)
    with_decoders = SMALL[name](pretrain_epochs=1)
    shapes = [(6,), (4,)]
    a = plain._build_module(shapes, torch.Generator().manual_seed(0))
    b = with_decoders._build_module(shapes, torch.Generator().manual_seed(0))
    a_params, b_params = dict(a.named_parameters()), dict(b.named_parameters())
    assert (
        set(b_params) - set(a_params)
        == {k for k in b_params if k.startswith("decoders.")}
        != set()
    )
    for key, value in a_params.items():
        torch.testing.assert_close(value, b_params[key])


def test_decoders_mirror_the_encoder_widths():
    decoders = build_decoders([5, 5], (12, 8, 5), [(7,), (1, 2, 3)])
    assert [[m.out_features for m in d if isinstance(m, torch.nn.Linear)] for d in decoders] == [
        [8, 12, 7],
        [8, 12, 6],
    ]
    out = decoders[1](torch.zeros(4, 5))
    assert out.shape == (4, 6)
    assert np.isfinite(out.detach().numpy()).all()


#: The stages of each autoencoder method, with the parameter that sets each one's epochs.
AUTOENCODER_STAGES = {
    "CMMCClustering": {
        "pretrain": "pretrain_epochs",
        "contrastive": "max_epochs",
        "finetune": "finetune_epochs",
    },
    "CRRCClustering": {"pretrain": "pretrain_epochs", "train": "max_epochs"},
    "RAVClustering": {"pretrain": "pretrain_epochs", "train": "max_epochs"},
}


@pytest.mark.filterwarnings("ignore::skmvc.exceptions.CollapseWarning")
@pytest.mark.parametrize("name", sorted(AUTOENCODER_STAGES))
def test_auto_epochs_cap_each_stage_by_a_budget_of_samples(name, monkeypatch):
    """``"auto"`` epochs (the autoencoder methods' default): each stage runs the paper's
    number of epochs, or as many as its budget of samples allows on a larger set but at
    least its floor; integers are kept. The rules are shrunk here so that 60 samples exceed
    the budgets."""
    stages = AUTOENCODER_STAGES[name]
    factory = ESTIMATORS[name]
    rng = np.random.RandomState(0)
    views = [rng.rand(60, 5), rng.rand(60, 3)]

    def epochs_run(**params):
        est = factory(n_iter_no_change=None, **params).fit(views)
        return [sum(row["stage"] == s for row in est.history_) for s in stages]

    def rules(budgets, least, full=(7, 6, 5)):
        rule = {p: AutoEpochs(f, b, least) for p, f, b in zip(stages.values(), full, budgets)}
        monkeypatch.setattr(type(factory()), "_auto_epochs", rule)

    auto = dict.fromkeys(stages.values(), "auto")
    assert all(getattr(type(factory())(), p) == "auto" for p in stages.values())
    rules(budgets=(120, 150, 90), least=1)  # 2, 2.5 -> 3 and 1.5 -> 2 epochs of 60
    assert epochs_run(**auto) == [2, 3, 2][: len(stages)]
    assert epochs_run(**dict.fromkeys(stages.values(), 4)) == [4] * len(stages)
    rules(budgets=(120, 150, 90), least=4)  # the floors
    assert epochs_run(**auto) == [4] * len(stages)
    rules(budgets=(10**6,) * 3, least=1)  # a small set: the full epochs
    assert epochs_run(**auto) == [7, 6, 5][: len(stages)]
