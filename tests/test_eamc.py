"""EAMC specifics: loss terms against their formulas, the alternation of generator and
discriminator steps, the attention weights, and that it learns on real data."""

import numpy as np
import pytest
import torch
from conftest import small_eamc

from skmvc import EAMCClustering
from skmvc._data import ViewData
from skmvc._engine import Stage, Trainer
from skmvc.losses import discriminator_loss, gaussian_kernel, generator_loss, kernel_alignment_loss
from skmvc.nn import ModalityAttention, normalized_concatenation


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def test_kernel_alignment_matches_numpy():
    rng = np.random.RandomState(0)
    hf, h1, h2 = (rng.normal(size=(6, 3)) for _ in range(3))
    w = np.array([0.3, 0.7])
    k = [gaussian_kernel(t(h)).numpy() for h in (hf, h1, h2)]
    expected = np.sum((k[0] - (w[0] * k[1] + w[1] * k[2])) ** 2)  # ||K_f − Σ w_v K_v||²_F
    got = kernel_alignment_loss(t(hf), [t(h1), t(h2)], t(w)).item()
    assert got == pytest.approx(expected, rel=1e-10)


def test_adversarial_losses_match_bce_formulas():
    real, fake = np.array([[0.9], [0.6]]), np.array([[0.2], [0.7]])
    assert generator_loss(t(fake)).item() == pytest.approx(-np.mean(np.log(fake)))
    expected = -np.mean(np.log(real)) - np.mean(np.log(1 - fake))
    assert discriminator_loss(t(real), t(fake)).item() == pytest.approx(expected)


def test_attention_weights_sum_to_one_and_freeze():
    torch.manual_seed(0)
    att = ModalityAttention(3, 4, temperature=10.0)
    hs = [torch.randn(8, 4) for _ in range(3)]
    e = att.sample_weights(hs)
    np.testing.assert_allclose(e.sum(1).detach().numpy(), 1, rtol=1e-6)
    fused, w = att(hs)
    assert torch.allclose(w, e.mean(0))
    assert torch.allclose(fused, sum(wv * h for wv, h in zip(w, hs)))
    # With τ = 10 the weights stay near 1/V (the spec's known discrepancy).
    assert (w - 1 / 3).abs().max() < 0.05
    att.freeze_weights(torch.tensor([0.2, 0.3, 0.5]))
    att.eval()
    assert torch.allclose(att(hs)[1], torch.tensor([0.2, 0.3, 0.5]))
    att.train()
    assert torch.allclose(att(hs)[1], e.mean(0))


def params_of(module):
    return [p.detach().clone() for p in module.parameters()]


def changed(before, module):
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters()))


@pytest.mark.parametrize("which", ["generator", "discriminator"])
def test_each_side_updates_only_its_own_parameters(which, two_views):
    views, _ = two_views
    est = small_eamc()
    module = est._build_module([(6,), (4,)], torch.Generator().manual_seed(0))
    data = ViewData(views, torch.device("cpu"))
    stage = est._stages(module, data, seed=0)[-1]  # EAMC's own stage, after pre-training
    steps = tuple(s for s in stage.steps if s.optimizers == (which,))
    before = {
        name: params_of(getattr(module, name))
        for name in ("encoders", "attention", "ddc", "discriminators")
    }
    trainer = Trainer(
        module,
        batch_size=16,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(0),
    )
    trainer.run_stage(Stage("one-side", 1, steps, stage.optimizers), data)
    moved = {name: changed(before[name], getattr(module, name)) for name in before}
    if which == "generator":
        assert moved == {"encoders": True, "attention": True, "ddc": True, "discriminators": False}
    else:
        assert moved == {
            "encoders": False,
            "attention": False,
            "ddc": False,
            "discriminators": True,
        }


def test_alternation_and_history_terms(two_views):
    views, _ = two_views
    est = small_eamc(generator_steps=2, discriminator_steps=1).fit(views)
    stage = est._stages(est.module_, ViewData(views, torch.device("cpu")), 0)[-1]
    assert [s.optimizers for s in stage.steps] == [
        ("generator",),
        ("generator",),
        ("discriminator",),
    ]
    assert stage.steps[0].clip_grad_norm == 0.5 and not stage.steps[2].objective
    row = est.history_[-1]
    assert {"ddc_1", "ddc_2_flipped", "ddc_3", "attention", "generator", "discriminator"} <= set(
        row
    )


def test_optimiser_settings_follow_the_spec(two_views):
    views, _ = two_views
    est = EAMCClustering(3, encoder_layers=(8,), ddc_hidden=4, device="cpu")
    module = est._build_module([(6,), (4,)], torch.Generator().manual_seed(0))
    pretrain, stage = est._stages(module, ViewData(views, torch.device("cpu")), 0)
    (adam,) = pretrain.optimizers.values()
    assert (pretrain.name, pretrain.epochs, adam.kwargs) == ("pretrain", 100, {"lr": 1e-3})
    assert {id(p) for p in adam.params} == {
        id(p) for p in [*module.encoders.parameters(), *module.decoders.parameters()]
    }
    gen, disc = stage.optimizers["generator"], stage.optimizers["discriminator"]
    assert [g["lr"] for g in gen.params] == [1e-5, 1e-4, 1e-5]
    assert gen.kwargs["betas"] == (0.95, 0.999)
    assert disc.kwargs == {"lr": 1e-3, "betas": (0.5, 0.999)}


def test_view_weights_and_batch_independent_prediction(two_views):
    views, _ = two_views
    est = small_eamc().fit(views + [views[0]])  # three views: two discriminators
    assert len(est.module_.discriminators) == 2
    assert est.view_weights_.shape == (3,)
    assert est.view_weights_.sum() == pytest.approx(1.0, rel=1e-5)
    three = views + [views[0]]
    full = est.predict_proba(three)
    np.testing.assert_allclose(
        est.predict_proba([v[:7] for v in three]), full[:7], rtol=1e-5, atol=1e-6
    )


def test_one_view_is_refused_clearly(two_views):
    with pytest.raises(ValueError, match="EAMCClustering needs at least 2 views, got 1"):
        small_eamc().fit(two_views[0][0])


def test_image_views_use_the_cnn():
    rng = np.random.RandomState(0)
    views = [rng.rand(40, 1, 28, 28), rng.rand(40, 1, 28, 28)]
    est = small_eamc(max_epochs=1, encoder_layers=(32,), embedding="fused").fit(views)
    assert est.transform(views).shape == (40, 32)


def test_normalized_concatenation_matches_numpy():
    rng = np.random.RandomState(0)
    hs = [rng.normal(size=(5, 3)), rng.normal(size=(5, 2))]
    observed = np.array([[1, 1], [1, 0], [0, 1], [1, 1], [1, 1]], dtype=bool)
    expected = np.hstack(
        [h / np.linalg.norm(h, axis=1, keepdims=True) * observed[:, [v]] for v, h in enumerate(hs)]
    )
    got = normalized_concatenation([t(h) for h in hs], torch.as_tensor(observed)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # missing="mean" (CMMC's and RAV's embedding): a missing block is the mean of the
    # sample's present unit-norm blocks.
    hs = [rng.normal(size=(5, 3)), rng.normal(size=(5, 3))]
    unit = [h / np.linalg.norm(h, axis=1, keepdims=True) for h in hs]
    mean = (unit[0] * observed[:, [0]] + unit[1] * observed[:, [1]]) / observed.sum(1)[:, None]
    expected = np.hstack([np.where(observed[:, [v]], u, mean) for v, u in enumerate(unit)])
    got = normalized_concatenation([t(h) for h in hs], torch.as_tensor(observed), missing="mean")
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    full = normalized_concatenation([t(h) for h in hs]).numpy()
    with pytest.raises(ValueError, match="missing must be 'zeros' or 'mean'"):
        normalized_concatenation([t(h) for h in hs], missing="drop")
    np.testing.assert_allclose(np.linalg.norm(full[:, :3], axis=1), 1.0, rtol=1e-12)


def test_embedding_chooses_what_kmeans_clusters_and_not_the_training(two_views):
    """``embedding="views"`` (the default) clusters the views' unit-norm representations
    side by side, ``"fused"`` the paper's h_f; the trained network is the same."""
    views, _ = two_views
    by_views = small_eamc().fit(views)
    fused = small_eamc(embedding="fused").fit(views)
    for a, b in zip(by_views.module_.state_dict().values(), fused.module_.state_dict().values()):
        torch.testing.assert_close(a, b)
    z = by_views.transform(views)
    assert z.shape == (len(views[0]), 32) and fused.transform(views).shape == (len(views[0]), 16)
    np.testing.assert_allclose(np.linalg.norm(z[:, :16], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(z[:, 16:], axis=1), 1.0, rtol=1e-5)
    # The labels are the nearest of k-means' centres in that embedding.
    distances = ((z[:, None, :] - by_views.cluster_centers_[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(by_views.labels_, distances.argmin(axis=1))
    assert by_views.cluster_centers_.shape == (3, 32) and fused.cluster_centers_.shape == (3, 16)
