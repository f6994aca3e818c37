"""RAV specifics: relation alignment and weighted label contrast against direct
evaluations, the view weights, per-batch computation, and learning on real data."""

import numpy as np
import pytest
import torch
from conftest import load_shared, small_rav

from skmvc import RAVClustering
from skmvc.losses import relation_alignment_loss, relation_matrix, view_distance_weights
from skmvc.metrics import clustering_accuracy
from skmvc.rav import weighted_label_contrast


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def np_norm(z):
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def np_kernel(z, sigma=1.0, scale=1.0):
    d = ((z[:, None] - z[None]) ** 2).sum(-1)
    return np.exp(-d / (scale * sigma))


def cos(a, b):
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def np_one_way(anchors, others, tau):
    """Anchors a_i; positive o_i; denominator: all o_k and a_k for k != i."""
    n = len(anchors)
    total = 0.0
    for i in range(n):
        num = np.exp(cos(anchors[i], others[i]) / tau)
        den = sum(np.exp(cos(anchors[i], others[k]) / tau) for k in range(n))
        den += sum(np.exp(cos(anchors[i], anchors[k]) / tau) for k in range(n) if k != i)
        total += np.log(num / den)
    return -total / n


def test_relation_alignment_matches_direct_evaluation():
    rng = np.random.RandomState(0)
    z1, z2 = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    n1, n2 = np_norm(z1), np_norm(z2)
    global_s = np_kernel(np.hstack([n1, n2]), scale=2.0)
    expected = np_one_way(np_kernel(n1), global_s, 0.5) + np_one_way(np_kernel(n2), global_s, 0.5)
    got = relation_alignment_loss([t(z1), t(z2)], sigma=1.0, temperature=0.5).item()
    assert got == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(relation_matrix(t(n1)).numpy(), np_kernel(n1), rtol=1e-10)


def test_weighted_label_contrast_matches_formula():
    rng = np.random.RandomState(1)
    qs = [rng.dirichlet(np.ones(3), size=8) for _ in range(3)]
    w = rng.dirichlet(np.ones(3), size=3)
    expected = 0.5 * sum(
        0.5 * (w[v, u] + w[u, v]) * np_one_way(qs[v].T, qs[u].T, 0.5)
        for v in range(3)
        for u in range(3)
        if u != v
    )
    got = weighted_label_contrast([t(q) for q in qs], t(w), 0.5).item()
    assert got == pytest.approx(expected, rel=1e-9)
    unweighted = 0.5 * sum(
        np_one_way(qs[v].T, qs[u].T, 0.5) for v in range(3) for u in range(3) if u != v
    )
    assert weighted_label_contrast([t(q) for q in qs], None, 0.5).item() == pytest.approx(
        unweighted
    )


def test_view_weights_rows_sum_to_one_and_favour_close_views():
    rng = np.random.RandomState(2)
    base = rng.normal(size=(20, 5))
    close = base + 0.01 * rng.normal(size=(20, 5))
    far = rng.normal(size=(20, 5)) + 3.0
    w = view_distance_weights([t(base), t(close), t(far)]).numpy()
    np.testing.assert_allclose(w.sum(1), 1.0)
    assert w[0, 1] > w[0, 2] and w[1, 0] > w[1, 2]
    # Direct evaluation: softmax over u of minus the mean pairwise distance.
    zs = [np_norm(z) for z in (base, close, far)]
    wd = np.array(
        [[np.mean(np.linalg.norm(a[:, None] - b[None], axis=-1)) for b in zs] for a in zs]
    )
    expected = np.exp(-wd) / np.exp(-wd).sum(1, keepdims=True)
    np.testing.assert_allclose(w, expected, rtol=1e-8)


def test_losses_are_per_batch(two_views, monkeypatch):
    """Pairwise quantities are computed on batches: no matrix larger than B x B is built."""
    views, _ = two_views
    import skmvc.losses.relation as rel

    biggest = []
    real = rel.relation_matrix

    def spy(z, sigma=1.0, scale=1.0):
        out = real(z, sigma, scale)
        biggest.append(out.shape[0])
        return out

    monkeypatch.setattr(rel, "relation_matrix", spy)
    small_rav(batch_size=16, max_epochs=1).fit(views)
    assert biggest and max(biggest) <= 16


def test_fitted_view_weights_and_history(two_views):
    views, _ = two_views
    est = small_rav().fit(views)
    assert est.view_weights_.shape == (2, 2)
    np.testing.assert_allclose(est.view_weights_.sum(1), 1.0, rtol=1e-5)
    assert {"label_contrast", "entropy", "relation", "reconstruction"} <= set(est.history_[-1])
    assert est.history_[0, "stage"] == "pretrain" and est.history_[-1, "stage"] == "train"


def test_assumption_switches_change_the_objective(two_views):
    views, _ = two_views
    losses = {
        key: small_rav(max_epochs=1, **{key: False}).fit(views).loss_
        for key in ("normalize_latents", "scale_global_distance", "use_view_weights")
    }
    base = small_rav(max_epochs=1).fit(views).loss_
    assert all(loss != base for loss in losses.values())


def test_one_view_is_refused_clearly(two_views):
    with pytest.raises(ValueError, match="RAVClustering needs at least 2 views, got 1"):
        small_rav().fit(two_views[0][0])


@pytest.mark.learning
def test_learns_on_bdgp_subset():
    """1000 BDGP samples, smaller networks, 5 + 10 epochs (~8 s). Chance is 0.20; seeds
    0-2 reach 0.978-0.982, so 0.80 fails any run that has not learned."""
    views, y = load_shared("BDGP")
    idx = np.random.RandomState(0).permutation(len(y))[:1000]
    views, y = [v[idx] for v in views], y[idx]
    est = RAVClustering(
        5,
        pretrain_epochs=5,
        max_epochs=10,
        batch_size=64,
        lr=1e-3,
        encoder_layers=(256, 256),
        latent_dim=64,
        hidden_dim=128,
        random_state=0,
        device="cpu",
    ).fit(views)
    assert clustering_accuracy(y, est.labels_) >= 0.80
