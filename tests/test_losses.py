"""Each loss term against a direct NumPy evaluation of its formula (``specs/ddc.md``,
``specs/conan.md``), plus degenerate and edge cases."""

import numpy as np
import pytest
import torch

from skmvc.losses import (
    DDCLoss,
    cauchy_schwarz_divergence,
    ddc_1,
    ddc_2,
    ddc_2_flipped,
    ddc_3,
    dec_loss,
    dec_target,
    gaussian_kernel,
    nt_xent,
    simsiam_loss,
)


def np_kernel(h, rel_sigma=0.15):
    d = ((h[:, None, :] - h[None, :, :]) ** 2).sum(-1)
    flat = np.sort(d.ravel())
    median = flat[(flat.size - 1) // 2]  # torch.median: the lower median
    sigma2 = max(rel_sigma * median, 1e-9)
    return np.exp(-d / (2 * sigma2))


def np_dcs(m, k):
    n = m.T @ k @ m
    n_clusters = m.shape[1]
    total = 0.0
    for i in range(n_clusters):
        for j in range(i + 1, n_clusters):
            total += max(n[i, j], 1e-9) / np.sqrt(max(n[i, i] * n[j, j], 1e-18))
    return 2.0 / (n_clusters * (n_clusters - 1)) * total


def np_upper_mean(x):
    m = x.shape[0]
    return 2.0 / (m * (m - 1)) * sum(x[i, j] for i in range(m) for j in range(i + 1, m))


@pytest.fixture
def batch():
    rng = np.random.RandomState(0)
    logits = rng.normal(size=(12, 4))
    a = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    h = rng.normal(size=(12, 7))
    return a, h


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def test_gaussian_kernel_matches_numpy(batch):
    _, h = batch
    np.testing.assert_allclose(gaussian_kernel(t(h)).numpy(), np_kernel(h), rtol=1e-10)


def test_ddc_terms_match_numpy(batch):
    a, h = batch
    k = np_kernel(h)
    eye = np.eye(a.shape[1])
    m = np.exp(-((a[:, None, :] - eye[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(ddc_1(t(a), t(k)).item(), np_dcs(a, k), rtol=1e-10)
    np.testing.assert_allclose(ddc_2(t(a)).item(), np_upper_mean(a @ a.T), rtol=1e-10)
    np.testing.assert_allclose(ddc_2_flipped(t(a)).item(), np_upper_mean(a.T @ a), rtol=1e-10)
    np.testing.assert_allclose(ddc_3(t(a), t(k)).item(), np_dcs(m, k), rtol=1e-10)
    terms = DDCLoss()(t(a), t(h))
    assert set(terms) == {"ddc_1", "ddc_2", "ddc_3"}
    np.testing.assert_allclose(terms["ddc_1"].item(), np_dcs(a, k), rtol=1e-10)
    assert set(DDCLoss(flipped=True)(t(a), t(h))) == {"ddc_1", "ddc_2_flipped", "ddc_3"}


def test_dcs_of_separated_one_hot_with_block_kernel_is_zero():
    a = np.repeat(np.eye(3), 4, axis=0)
    k = (a @ a.T > 0).astype(float)  # block-diagonal kernel
    assert cauchy_schwarz_divergence(t(a), t(k)).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("n_clusters", [1, 2, 5])
def test_ddc_finite_for_degenerate_assignments(n_clusters):
    a = torch.zeros(10, n_clusters)
    a[:, 0] = 1.0  # every sample in the same cluster
    h = torch.ones(10, 3)  # all hidden activations equal: median distance 0
    a.requires_grad_(True)
    terms = DDCLoss()(a, h)
    total = sum(terms.values())
    total.backward()
    assert all(torch.isfinite(v) for v in terms.values())
    assert torch.isfinite(a.grad).all()


def np_nt_xent(a, b, tau):
    rows = np.concatenate([a, b])
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    sim = rows @ rows.T / tau
    n = a.shape[0]
    losses = []
    for i in range(2 * n):
        pos = i + n if i < n else i - n
        others = [sim[i, k] for k in range(2 * n) if k != i]  # positive included, self not
        losses.append(-sim[i, pos] + np.log(np.sum(np.exp(others))))
    return np.mean(losses)


def test_nt_xent_matches_numpy():
    rng = np.random.RandomState(1)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    np.testing.assert_allclose(nt_xent(t(a), t(b), 0.1).item(), np_nt_xent(a, b, 0.1), rtol=1e-9)
    np.testing.assert_allclose(nt_xent(t(a), t(b), 1.0).item(), np_nt_xent(a, b, 1.0), rtol=1e-9)


def test_nt_xent_is_symmetric_and_lower_for_aligned_pairs():
    rng = np.random.RandomState(2)
    a, noise = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
    assert nt_xent(t(a), t(noise), 0.5).item() == pytest.approx(
        nt_xent(t(noise), t(a), 0.5).item()
    )
    assert nt_xent(t(a), t(a + 0.01 * noise), 0.5) < nt_xent(t(a), t(noise), 0.5)


def test_nt_xent_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        nt_xent(torch.zeros(3, 2), torch.zeros(4, 2), 0.1)


def test_simsiam_matches_formula_and_stops_gradient():
    rng = np.random.RandomState(3)
    pa, pb, za, zb = (t(rng.normal(size=(5, 4))).requires_grad_(True) for _ in range(4))

    def cos(x, y):
        return (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)

    n = [x.detach().numpy() for x in (pa, pb, za, zb)]
    expected = -0.5 * (cos(n[0], n[3]).mean() + cos(n[1], n[2]).mean())
    loss = simsiam_loss(pa, pb, za, zb)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-10)
    loss.backward()
    assert pa.grad is not None and pb.grad is not None
    assert za.grad is None and zb.grad is None  # targets are behind a stop-gradient


def test_dec_matches_numpy():
    rng = np.random.RandomState(4)
    q = rng.rand(9, 3) + 0.1
    q /= q.sum(1, keepdims=True)
    weight = q**2 / q.sum(0)
    p = weight / weight.sum(1, keepdims=True)
    expected = (p * np.log(p / q)).sum() / q.shape[0]
    np.testing.assert_allclose(dec_target(t(q)).numpy(), p, rtol=1e-10)
    np.testing.assert_allclose(dec_loss(t(q)).item(), expected, rtol=1e-10)
    assert dec_loss(t(q)).item() >= 0
