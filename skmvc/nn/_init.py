"""Weight initialisation with a local random generator (no global seeding)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["init_children", "init_weights"]

_SCHEMES = ("xavier_normal", "kaiming_normal", "default")


@torch.no_grad()
def init_weights(
    module: nn.Module,
    generator: torch.Generator,
    scheme: str = "default",
    gain: float = 1.0,
) -> nn.Module:
    """(Re-)initialise every ``Linear`` and ``Conv`` layer of ``module`` from ``generator``.

    PyTorch's layers initialise themselves from the global random state; this draws from a
    local generator instead, so two fits with the same ``random_state`` build identical
    networks without touching global state.

    Parameters
    ----------
    module : torch.nn.Module
        Initialised in place (and returned).
    generator : torch.Generator
        Source of randomness (a CPU generator).
    scheme : {"default", "xavier_normal", "kaiming_normal"}, default="default"
        ``"default"`` reproduces PyTorch's own initialisation (Kaiming-uniform with
        ``a=sqrt(5)``, uniform bias); ``"xavier_normal"`` uses ``gain``; ``"kaiming_normal"``
        is He-normal (fan-in, ReLU). Biases are zero for the two normal schemes.
    gain : float, default=1.0
        Gain of the Xavier scheme.

    Returns
    -------
    module : torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import MLP, init_weights
    >>> a = init_weights(MLP(4, [3]), torch.Generator().manual_seed(0))
    >>> b = init_weights(MLP(4, [3]), torch.Generator().manual_seed(0))
    >>> torch.equal(a[0].weight, b[0].weight)
    True
    """
    if scheme not in _SCHEMES:
        raise ValueError(f"scheme must be one of {_SCHEMES}, got {scheme!r}.")
    for layer in module.modules():
        if not isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            continue
        weight, bias = layer.weight, layer.bias
        device = weight.device
        # Draw on the CPU from the generator, then copy: results do not depend on the device.
        w = torch.empty(weight.shape, dtype=weight.dtype)
        if scheme == "default":
            nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
        elif scheme == "xavier_normal":
            nn.init.xavier_normal_(w, gain=gain, generator=generator)
        else:
            nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator)
        weight.copy_(w.to(device))
        if bias is not None:
            if scheme == "default":
                fan_in = nn.init._calculate_fan_in_and_fan_out(weight)[0]
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                b = torch.empty(bias.shape, dtype=bias.dtype).uniform_(
                    -bound, bound, generator=generator
                )
                bias.copy_(b.to(device))
            else:
                bias.zero_()
    return module


def init_children(module, generator, *, keep=(), scheme="default", gain=1.0):
    """Initialise each child of ``module`` in order from ``generator``
    (:func:`skmvc.nn.init_weights`), except the children named in ``keep`` (e.g. a user's
    pretrained encoders).

    Examples
    --------
    >>> import torch
    >>> from skmvc.nn import init_children
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    >>> kept = net[1].weight.clone()
    >>> _ = init_children(net, torch.Generator().manual_seed(0), keep=("1",))
    >>> bool(torch.equal(net[1].weight, kept))
    True
    """
    for name, part in module.named_children():
        if name not in keep:
            init_weights(part, generator, scheme, gain)
    return module
