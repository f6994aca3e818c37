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
