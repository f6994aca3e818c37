"""View encoders: MLPs for vector views, a small CNN for image views."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = [
    "MLP",
    "CNNEncoder",
    "ConvNetEncoder",
    "output_size",
    "build_encoders",
    "build_decoders",
]


class MLP(nn.Sequential):
    """A stack of ``Linear`` layers with an activation (and optional batch norm) between.

    Parameters
    ----------
    in_features : int
        Input width.
    layers : sequence of int
        Output width of each ``Linear`` layer, in order.
    activation : callable returning nn.Module, default=nn.ReLU
        Built after every layer (after the last one too when ``activate_last``).
    activate_last : bool, default=True
        Whether the last layer is followed by the activation (CONAN and EAMC encoders: yes;
        autoencoder latents: no).
    batch_norm : bool, default=False
        Insert ``BatchNorm1d`` after each activation.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import MLP
    >>> MLP(8, [16, 4])(torch.zeros(3, 8)).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        in_features: int,
        layers: Sequence[int],
        activation: Callable[[], nn.Module] = nn.ReLU,
        activate_last: bool = True,
        batch_norm: bool = False,
    ) -> None:
        modules: list[nn.Module] = []
        width = int(in_features)
        layers = [int(w) for w in layers]
        if not layers:
            raise ValueError("MLP needs at least one layer.")
        for i, out in enumerate(layers):
            modules.append(nn.Linear(width, out))
            if i < len(layers) - 1 or activate_last:
                modules.append(activation())
                if batch_norm:
                    modules.append(nn.BatchNorm1d(out))
            width = out
        super().__init__(*modules)
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, ...) -> (B, out)
        return super().forward(x.flatten(1))


class CNNEncoder(nn.Sequential):
    """The small image encoder of CONAN's code, for views of shape ``(C, H, W)``.

    ``Conv(C,32,5) ReLU → Conv(32,32,5) BN ReLU MaxPool2 → Conv(32,32,3) ReLU →
    Conv(32,32,3) BN ReLU MaxPool2 → Flatten``: 288 outputs for 28×28 inputs.

    Parameters
    ----------
    in_channels : int
        Number of image channels C.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import CNNEncoder
    >>> CNNEncoder(1)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 288])
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, 32, 5),
            nn.ReLU(),
            nn.Conv2d(32, 32, 5),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )


class ConvNetEncoder(nn.Module):
    """The small image encoder of EAMC's re-implementation, for views ``(C, H, W)``.

    ``Conv(C,32,5) ReLU MaxPool2 → Conv(32,64,5) ReLU MaxPool2 → Flatten →
    Linear(·, out_features) → BN → ReLU``.

    Parameters
    ----------
    in_shape : tuple of int
        ``(C, H, W)`` of one sample.
    out_features : int, default=500
        Output width.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import ConvNetEncoder
    >>> ConvNetEncoder((1, 28, 28)).eval()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 500])
    """

    def __init__(self, in_shape: Sequence[int], out_features: int = 500) -> None:
        super().__init__()
        channels, height, width = (int(s) for s in in_shape)
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = self.features(torch.zeros(1, channels, height, width)).shape[1]
        self.head = nn.Sequential(
            nn.Linear(flat, out_features), nn.BatchNorm1d(out_features), nn.ReLU()
        )
        self.out_features = int(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@torch.no_grad()
def output_size(module: nn.Module, input_shape: Sequence[int]) -> int:
    """Width of ``module``'s output for one sample of shape ``input_shape``.

    Runs two zero samples through a copy of the module in eval mode on the CPU.

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import CNNEncoder, output_size
    >>> output_size(CNNEncoder(1), (1, 28, 28))
    288
    """
    declared = getattr(module, "out_features", None)
    if isinstance(declared, int):
        return declared
    was_training = module.training
    module.eval()
    try:
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        out = module(torch.zeros((2, *input_shape), device=device))
    finally:
        module.train(was_training)
    if out.ndim != 2:
        raise ValueError(
            f"An encoder must return a (batch, features) tensor, got shape {tuple(out.shape)}."
        )
    return int(out.shape[1])


def image_module(
    v: int, shape: tuple, make: Callable[[tuple], nn.Module], factory: str
) -> nn.Module:
    """``make(shape)``, the built-in network of image view ``v``, checked on one sample: an
    image too small for its convolutions and poolings is a ``ValueError`` that names the
    view, its shape and the two ways out (flatten it, or pass ``factory``)."""
    try:
        module = make(shape)
        was_training = module.training
        with torch.no_grad():
            module.eval()(torch.zeros((2, *shape)))
        module.train(was_training)
    except RuntimeError as exc:
        raise ValueError(
            f"View {v}: image samples of shape {shape} are too small for the built-in "
            "CNN (its convolutions and poolings need larger images; 28×28 works). Flatten "
            f"the view to vectors (view.reshape(n_samples, -1)) or pass {factory}."
        ) from exc
    return module


def build_encoders(
    view_shapes: Sequence[Sequence[int]],
    mlp_layers: Sequence[int],
    encoder_factory: Callable[[int, tuple], nn.Module] | None = None,
    cnn: Callable[[tuple], nn.Module] = lambda shape: CNNEncoder(shape[0]),
) -> nn.ModuleList:
    """One encoder per view: ``encoder_factory(v, shape)`` if given, else an MLP for vector
    views (``mlp_layers``) and ``cnn(shape)`` for image views ``(C, H, W)``.

    Examples
    --------
    >>> from skmvc.nn import build_encoders
    >>> [type(e).__name__ for e in build_encoders([(6,), (1, 28, 28)], mlp_layers=(8,))]
    ['MLP', 'CNNEncoder']
    """
    encoders = []
    for v, shape in enumerate(view_shapes):
        shape = tuple(shape)
        if encoder_factory is not None:
            enc = encoder_factory(v, shape)
            if not isinstance(enc, nn.Module):
                raise TypeError(
                    f"encoders(view={v}, shape={shape}) must return a torch.nn.Module, "
                    f"got {type(enc).__name__}."
                )
        elif len(shape) == 3:
            enc = image_module(v, shape, cnn, "encoder_factory")
        else:
            enc = MLP(shape[0], mlp_layers)
        encoders.append(enc)
    return nn.ModuleList(encoders)


def build_decoders(
    widths: Sequence[int], mlp_layers: Sequence[int], view_shapes: Sequence[Sequence[int]]
) -> nn.ModuleList:
    """One decoder per view, from its encoder's output width back to the flattened view:
    the mirror of an MLP encoder (its hidden widths ``mlp_layers[:-1]`` reversed), with a
    linear output.

    Examples
    --------
    >>> from skmvc.nn import build_decoders
    >>> build_decoders([4], mlp_layers=(8, 4), view_shapes=[(6,)])[0]
    MLP(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=6, bias=True)
    )
    """
    layers = [int(w) for w in mlp_layers][-2::-1]
    return nn.ModuleList(
        MLP(width, [*layers, math.prod(shape)], activate_last=False)
        for width, shape in zip(widths, view_shapes)
    )
