"""Per-view autoencoders (CMMC, CRRC, RAV)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .encoders import MLP, CNNEncoder, image_module, output_size

__all__ = [
    "Autoencoder",
    "ConvAutoencoder",
    "build_autoencoders",
    "encode_views",
    "view_sized_layers",
]


class Autoencoder(nn.Module):
    """An MLP autoencoder with a linear latent and a mirrored decoder with linear output.

    Encoder ``d → layers[0] → … → layers[-1] → latent`` (ReLU between layers, none on the
    latent); decoder the mirror ``latent → layers[-1] → … → layers[0] → d``. Image inputs
    are flattened; ``decode`` returns flat reconstructions.

    Parameters
    ----------
    in_features : int
        Input width d (C·H·W for an image view).
    layers : sequence of int, default=(500, 500, 2000)
        Hidden widths of the encoder (CMMC, CRRC: 500, 500, 2000).
    latent_dim : int, default=512
        Width of the latent z.
    encoder : torch.nn.Module or None, default=None
        An encoder to use instead of the MLP (``x → latent``, e.g. a CNN for image views;
        see :class:`ConvAutoencoder`); ``layers`` then shapes only the decoder.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import Autoencoder
    >>> ae = Autoencoder(10, layers=(8,), latent_dim=3)
    >>> z, x_hat = ae(torch.zeros(4, 10))
    >>> z.shape, x_hat.shape
    (torch.Size([4, 3]), torch.Size([4, 10]))
    """

    def __init__(
        self,
        in_features: int,
        layers: Sequence[int] = (500, 500, 2000),
        latent_dim: int = 512,
        encoder: nn.Module | None = None,
    ) -> None:
        super().__init__()
        layers = [int(w) for w in layers]
        if encoder is None:
            encoder = MLP(in_features, [*layers, latent_dim], activate_last=False)
        self.encoder = encoder
        self.decoder = MLP(latent_dim, [*layers[::-1], in_features], activate_last=False)
        self.latent_dim = int(latent_dim)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return z, self.decode(z)


class ConvAutoencoder(Autoencoder):
    """An autoencoder for image views ``(C, H, W)``: CONAN's small CNN
    (:class:`~skmvc.nn.CNNEncoder`) and a linear map to the latent, with the MLP decoder of
    :class:`Autoencoder` (``latent → layers[-1] → … → layers[0] → C·H·W``, flat output).

    ``layers`` shapes only the decoder, so an estimator's ``encoder_layers`` keeps one
    meaning: the widths the reconstruction passes through.

    Parameters
    ----------
    in_shape : tuple of int
        ``(C, H, W)`` of one sample.
    layers : sequence of int, default=(500, 500, 2000)
        Hidden widths, mirrored in the decoder as for :class:`Autoencoder`.
    latent_dim : int, default=512
        Width of the latent z.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import ConvAutoencoder
    >>> ae = ConvAutoencoder((1, 28, 28), layers=(8,), latent_dim=3).eval()
    >>> z, x_hat = ae(torch.zeros(2, 1, 28, 28))
    >>> z.shape, x_hat.shape
    (torch.Size([2, 3]), torch.Size([2, 784]))
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        layers: Sequence[int] = (500, 500, 2000),
        latent_dim: int = 512,
    ) -> None:
        shape = tuple(int(s) for s in in_shape)
        if len(shape) != 3:
            raise ValueError(f"ConvAutoencoder takes (C, H, W) samples, got shape {shape}.")
        cnn = CNNEncoder(shape[0])
        encoder = nn.Sequential(cnn, nn.Linear(output_size(cnn, shape), latent_dim))
        super().__init__(int(np.prod(shape)), layers, latent_dim, encoder=encoder)


def encode_views(autoencoders: Sequence[nn.Module], views) -> list[torch.Tensor]:
    """Each view's latent from its autoencoder: ``encode(x)`` where the module has one (the
    built-in :class:`Autoencoder`, which then skips its decoder), else the first output of
    its forward, the only thing the ``autoencoder_factory`` contract asks of a module.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import Autoencoder, encode_views
    >>> [z.shape for z in encode_views([Autoencoder(4, (3,), 2)], [torch.zeros(5, 4)])]
    [torch.Size([5, 2])]
    """
    return [
        ae.encode(x) if callable(getattr(ae, "encode", None)) else ae(x)[0]
        for ae, x in zip(autoencoders, views)
    ]


def view_sized_layers(
    layers: Sequence[int], n_features: int, ratio: float = 4.0, least: int = 64
) -> tuple[int, ...]:
    """``layers`` narrowed in proportion for a view of few features.

    A view of ``n_features`` features with ``ratio * n_features < layers[0]`` gets every
    width scaled by ``ratio * n_features / layers[0]`` (the network keeps its shape, and its
    first hidden layer is ``ratio`` times as wide as the view), but no width below ``least``
    nor above its own; a wider view gets ``layers`` unchanged.

    Examples
    --------
    >>> from skmvc.nn import view_sized_layers
    >>> view_sized_layers((500, 500, 2000), 27)
    (108, 108, 432)
    >>> view_sized_layers((500, 500, 2000), 3)
    (64, 64, 64)
    >>> view_sized_layers((500, 500, 2000), 125)
    (500, 500, 2000)
    """
    scale = min(1.0, ratio * n_features / layers[0])
    return tuple(min(int(w), max(least, round(w * scale))) for w in layers)


def build_autoencoders(
    view_shapes: Sequence[Sequence[int]],
    encoder_layers: Sequence,
    latent_dim: int,
    factory=None,
    conv_images: bool = False,
) -> nn.ModuleList:
    """One autoencoder per view: ``factory(v, shape)`` if given (checked to return
    ``(latent, reconstruction)`` with a ``latent_dim``-wide latent), else an MLP
    :class:`~skmvc.nn.Autoencoder`, or with ``conv_images`` a
    :class:`~skmvc.nn.ConvAutoencoder` for image views ``(C, H, W)``. ``encoder_layers``
    is one sequence of widths for every view, or one sequence per view.

    Examples
    --------
    >>> from skmvc.nn import build_autoencoders
    >>> aes = build_autoencoders([(6,), (1, 4, 4)], encoder_layers=(8,), latent_dim=3)
    >>> [ae.latent_dim for ae in aes]
    [3, 3]
    >>> aes = build_autoencoders([(6,), (1, 28, 28)], (8,), 3, conv_images=True)
    >>> [type(ae).__name__ for ae in aes]
    ['Autoencoder', 'ConvAutoencoder']
    """
    if factory is None:
        shared = all(isinstance(w, (int, np.integer)) for w in encoder_layers)
        per_view = [encoder_layers] * len(view_shapes) if shared else list(encoder_layers)
        return nn.ModuleList(
            image_module(
                v,
                tuple(s),
                lambda s, layers=layers: ConvAutoencoder(s, layers, latent_dim),
                'image_autoencoder="mlp" or autoencoder_factory',
            )
            if conv_images and len(s) == 3
            else Autoencoder(int(np.prod(s)), layers, latent_dim)
            for v, (s, layers) in enumerate(zip(view_shapes, per_view))
        )
    modules = []
    for v, shape in enumerate(view_shapes):
        ae = factory(v, tuple(shape))
        if not isinstance(ae, nn.Module):
            raise TypeError(
                f"autoencoder_factory(view={v}, shape={tuple(shape)}) must return a "
                f"torch.nn.Module, got {type(ae).__name__}."
            )
        with torch.no_grad():
            was_training = ae.training
            out = ae.eval()(torch.zeros((2, *shape)))
            ae.train(was_training)
        if not (isinstance(out, tuple) and len(out) == 2 and out[0].shape == (2, latent_dim)):
            raise ValueError(
                f"The autoencoder of view {v} must return (latent, reconstruction) with a "
                f"latent of width latent_dim={latent_dim}."
            )
        modules.append(ae)
    return nn.ModuleList(modules)
