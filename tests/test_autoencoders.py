"""The per-view autoencoders of CMMC, CRRC and RAV, as ``autoencoder_factory`` documents
them."""

import numpy as np
import pytest
import torch
from conftest import ESTIMATORS


class _ForwardOnlyAutoencoder(torch.nn.Module):
    """An autoencoder as ``autoencoder_factory`` documents it: a forward that returns
    ``(latent, flat reconstruction)``, and no ``encode`` method."""

    def __init__(self, n_features, latent_dim=8):
        super().__init__()
        self.enc = torch.nn.Linear(n_features, latent_dim)
        self.dec = torch.nn.Linear(latent_dim, n_features)

    def forward(self, x):
        z = self.enc(x.flatten(1))
        return z, self.dec(z)


@pytest.mark.parametrize("name", ["CMMCClustering", "CRRCClustering", "RAVClustering"])
def test_a_users_autoencoder_needs_only_the_documented_forward(name, two_views):
    """CRRC and RAV read each view's latent after training; with a factory's module that has
    no ``encode`` they used to fail there, after the whole fit."""
    views, _ = two_views
    est = ESTIMATORS[name](
        autoencoder_factory=lambda v, shape: _ForwardOnlyAutoencoder(shape[0])
    ).fit(views)
    assert isinstance(est.module_.autoencoders[0], _ForwardOnlyAutoencoder)
    assert est.predict(views).shape == (len(views[0]),)
    assert np.isfinite(est.transform(views)).all()


def test_conv_autoencoder_matches_its_formula():
    """A CNN and a linear map to the latent; the MLP decoder mirrors ``layers`` to the flat
    image, as the MLP autoencoder's does."""
    from skmvc.nn import CNNEncoder, ConvAutoencoder

    ae = ConvAutoencoder((2, 20, 20), layers=(16, 8), latent_dim=4).eval()
    assert isinstance(ae.encoder[0], CNNEncoder)
    decoder_widths = [m.out_features for m in ae.decoder if isinstance(m, torch.nn.Linear)]
    assert decoder_widths == [8, 16, 2 * 20 * 20]
    x = torch.rand(3, 2, 20, 20)
    z, x_hat = ae(x)
    torch.testing.assert_close(z, ae.encoder[1](ae.encoder[0](x)))
    torch.testing.assert_close(x_hat, ae.decoder(z))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        ConvAutoencoder((400,))


@pytest.mark.parametrize("name", ["CMMCClustering", "CRRCClustering", "RAVClustering"])
def test_image_views_train_through_a_conv_autoencoder(name):
    """Image views reach the factory with their (C, H, W) shape; the CNN's weights move."""
    from skmvc.nn import ConvAutoencoder

    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(2), 20)
    views = [rng.rand(40, 1, 20, 20) * 0.2 + y[:, None, None, None] * 0.5 for _ in range(2)]
    before = []

    def factory(v, shape):
        ae = ConvAutoencoder(shape, layers=(16,), latent_dim=8)
        before.append(ae.encoder[0][0].weight.detach().clone())
        return ae

    est = ESTIMATORS[name](autoencoder_factory=factory, latent_dim=8, n_clusters=2).fit(views)
    after = est.module_.autoencoders[0].encoder[0][0].weight.detach().cpu()
    assert not torch.equal(before[0], after)
    assert est.predict(views).shape == (40,)


def test_crrc_encodes_image_views_with_a_conv_autoencoder_by_default():
    """CRRC's default gives an image view a ConvAutoencoder and a vector view the MLP one;
    CMMC and RAV flatten image views for the MLP autoencoder (their papers' network)."""
    from skmvc.nn import Autoencoder, ConvAutoencoder

    rng = np.random.RandomState(0)
    y = np.repeat(np.arange(2), 20)
    image = rng.rand(40, 1, 20, 20) * 0.2 + y[:, None, None, None] * 0.5
    vector = rng.rand(40, 6) * 0.2 + y[:, None] * 0.5
    small = dict(pretrain_epochs=3, max_epochs=3, encoder_layers=(16,), latent_dim=8)
    crrc = ESTIMATORS["CRRCClustering"](n_clusters=2, **small).fit([image, vector])
    assert [type(ae) for ae in crrc.module_.autoencoders] == [ConvAutoencoder, Autoencoder]
    assert crrc.module_.autoencoders[0].decoder[-1].out_features == 400
    assert crrc.predict([image, vector]).shape == (40,)
    for name in ("CMMCClustering", "RAVClustering"):
        est = ESTIMATORS[name](n_clusters=2, **small).fit([image, vector])
        assert [type(ae) for ae in est.module_.autoencoders] == [Autoencoder, Autoencoder]


@pytest.mark.parametrize("name", ["CMMCClustering", "CRRCClustering", "RAVClustering"])
def test_auto_encoder_layers_narrow_only_the_narrow_views(name, tmp_path):
    """``encoder_layers="auto"``: a view of fewer than 125 features (a quarter of the
    papers' first width) gets the papers' widths scaled to it, a wider one the papers'
    network; a saved model rebuilds the same networks."""
    from skmvc.nn import view_sized_layers

    rng = np.random.RandomState(0)
    views = [rng.rand(30, 20), rng.rand(30, 130)]
    est = ESTIMATORS[name](
        n_clusters=2, pretrain_epochs=1, max_epochs=1, encoder_layers="auto"
    ).fit(views)
    widths = [
        [m.out_features for m in ae.encoder.modules() if isinstance(m, torch.nn.Linear)][:-1]
        for ae in est.module_.autoencoders
    ]
    assert widths == [[80, 80, 320], [500, 500, 2000]]
    assert widths[0] == list(view_sized_layers((500, 500, 2000), 20))
    est.save(tmp_path / "model.skmvc")
    loaded = type(est).load(tmp_path / "model.skmvc")
    np.testing.assert_array_equal(loaded.predict(views), est.predict(views))


def test_view_sized_layers_keep_the_shape_and_its_bounds():
    from skmvc.nn import view_sized_layers

    assert view_sized_layers((500, 500, 2000), 25) == (100, 100, 400)
    assert view_sized_layers((500, 500, 2000), 3) == (64, 64, 64)
    assert view_sized_layers((16, 8), 2) == (16, 8)  # never above its own width
    assert view_sized_layers((500, 500, 2000), 100, ratio=1, least=32) == (100, 100, 400)
    assert view_sized_layers((500, 500, 2000), 5000) == (500, 500, 2000)
