"""What CMMC, CRRC and RAV share: per-view autoencoders pre-trained on reconstruction, then
further stages, all with one Adam optimiser; and the reconstruction pre-training stage that
CONAN and EAMC take as an option (:func:`reconstruction_pretraining`)."""

from __future__ import annotations

from functools import partial
from numbers import Integral

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._engine import OptimizerSpec, Stage, Step, build_optimizer
from ._schedules import AUTO_PRETRAIN, AUTO_TRAIN
from .base import BaseMultiViewClustering
from .losses import reconstruction_loss
from .nn import init_children, view_sized_layers
from .nn.missing import term_on_present

__all__ = ["AutoencoderClustering", "reconstruction_pretraining", "reconstruction_terms"]


def reconstruction_terms(batch, recons):
    """Σ_v MSE(x^v, x̂^v), each view's over the samples that have it."""
    return sum(
        term_on_present(reconstruction_loss, batch.observed, v, x, r)
        for v, (x, r) in enumerate(zip(batch.views, recons))
    )


def reconstruction_pretraining(encoders, decoders, epochs, lr, name="pretrain"):
    """The stages of an optional pre-training: none when ``epochs`` is 0, else one that
    trains ``decoders[v](encoders[v](x^v))`` to reconstruct every view (its own Adam at
    ``lr``), so that the encoders start the method's own stages from features that keep
    the input's structure rather than from random ones."""
    if epochs == 0:
        return []

    def loss(batch):
        recons = [dec(enc(x)) for enc, dec, x in zip(encoders, decoders, batch.views)]
        value = reconstruction_terms(batch, recons)
        return {"loss": value, "reconstruction": value}

    params = [*encoders.parameters(), *decoders.parameters()]
    return [
        Stage(
            name,
            epochs,
            (Step(loss, ("pretrain",)),),
            {"pretrain": OptimizerSpec(params, kwargs={"lr": lr})},
        )
    ]


#: The papers' encoder widths of the three autoencoder methods (``d-500-500-2000-latent``).
PAPER_ENCODER_LAYERS = (500, 500, 2000)

#: The papers' schedule of the three autoencoder methods (200 + 50 epochs, batches of 256,
#: the last epoch), to which each adds its own.
AUTOENCODER_PAPER = dict(
    pretrain_epochs=200, max_epochs=50, batch_size=256, epoch_selection="last"
)


class AutoencoderClustering(BaseMultiViewClustering):
    """Private base of the autoencoder-based methods.

    A subclass's network has an ``autoencoders`` ModuleList (built from
    ``autoencoder_factory`` when given, whose modules are then not re-initialised); the
    subclass lists its stages after pre-training with :meth:`_stages_after_pretraining`
    and passes the options of :meth:`_epoch_selection` to the stage whose end its
    ``epoch_selection`` parameter chooses.
    """

    _min_views = 2
    _auto_epochs: dict = {"pretrain_epochs": AUTO_PRETRAIN, "max_epochs": AUTO_TRAIN}

    _parameter_constraints: dict = {
        **BaseMultiViewClustering._parameter_constraints,
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "encoder_layers": ["array-like", StrOptions({"auto"})],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "autoencoder_factory": [callable, None],
        "image_autoencoder": [StrOptions({"conv", "mlp"})],
        "epoch_selection": [StrOptions({"last", "stability"})],
    }

    def _initialise(self, module, generator):
        """PyTorch's default scheme drawn from ``generator``; a user's autoencoders are kept."""
        keep = ("autoencoders",) if self.autoencoder_factory is not None else ()
        return init_children(module, generator, keep=keep)

    def _view_layers(self, view_shapes) -> list:
        """Each view's encoder widths: ``encoder_layers``, or for ``"auto"`` the papers'
        :data:`PAPER_ENCODER_LAYERS` narrowed in proportion for views of few features
        (:func:`skmvc.nn.view_sized_layers`)."""
        if isinstance(self.encoder_layers, str):
            return [view_sized_layers(PAPER_ENCODER_LAYERS, int(np.prod(s))) for s in view_shapes]
        return [self._layer_widths()] * len(view_shapes)

    def _reconstruction(self, module, batch):
        """Mean squared reconstruction error, summed over views (pre-training loss)."""
        recons = [ae(x)[1] for ae, x in zip(module.autoencoders, batch.views)]
        loss = reconstruction_terms(batch, recons)
        return {"loss": loss, "reconstruction": loss}

    def _stages_after_pretraining(self, module, data, seed, optimizers) -> list[Stage]:
        """The :class:`~skmvc._engine.Stage` objects after pre-training, each training the
        whole network with the one Adam in ``optimizers`` (:meth:`_adam_stage`)."""
        raise NotImplementedError

    def _adam_stage(self, name, epochs, loss, module, optimizers, **options) -> Stage:
        """A stage whose one step minimises ``loss(module, batch)`` with the Adam the
        method's stages share (its state carries over from stage to stage, as in the
        papers); ``options`` are the stage's other fields (``on_begin``, ``callbacks``)."""
        step = Step(partial(loss, module), ("adam",))
        return Stage(name, epochs, (step,), optimizers, **options)

    def _stages(self, module, data, seed):
        shared = {"adam": build_optimizer(torch.optim.Adam, module.parameters(), lr=self.lr)}
        pretrain = self._stage_epochs("pretrain_epochs", len(data))
        return [
            self._adam_stage("pretrain", pretrain, self._reconstruction, module, shared),
            *self._stages_after_pretraining(module, data, seed, shared),
        ]
