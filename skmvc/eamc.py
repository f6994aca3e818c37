"""EAMC: End-to-end Adversarial-attention network for Multi-modal Clustering
(``specs/eamc.md``)."""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real
from typing import NamedTuple

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._autoencoder import reconstruction_pretraining
from ._docs import with_shared_parameters
from ._engine import OptimizerSpec, Stage, Step, apply_module
from ._labels import ASSIGN_LABELS_CONSTRAINT
from .base import BaseMultiViewClustering
from .losses import DDCLoss, discriminator_loss, generator_loss, kernel_alignment_loss
from .nn import (
    ConvNetEncoder,
    DDCHead,
    Discriminator,
    ModalityAttention,
    build_decoders,
    build_encoders,
    init_children,
    normalized_concatenation,
    output_size,
)
from .nn.missing import term_on_present

__all__ = ["EAMCClustering"]


class EAMCOutput(NamedTuple):
    """What EAMC's network returns, by name: the view representations h^v, the fused h_f
    and the attention's view weights w."""

    views: list
    fused: torch.Tensor
    weights: torch.Tensor


class _EAMCNetwork(nn.Module):
    """Encoders E_v, modality attention, V−1 discriminators (view 1 the anchor), DDC head."""

    def __init__(
        self,
        view_shapes,
        n_clusters,
        encoder_layers,
        encoder_factory,
        temperature,
        ddc_hidden,
        reconstruct=False,
    ):
        super().__init__()
        self.encoders = build_encoders(
            view_shapes,
            encoder_layers,
            encoder_factory,
            cnn=lambda shape: ConvNetEncoder(shape, encoder_layers[-1]),
        )
        dims = [output_size(e, s) for e, s in zip(self.encoders, view_shapes)]
        if len(set(dims)) != 1:
            raise ValueError(
                "EAMC fuses the views by a weighted mean, so all encoders must output the same "
                f"width; got {dims}. Adjust encoder_layers or encoder_factory."
            )
        d = dims[0]
        self.attention = ModalityAttention(len(view_shapes), d, temperature)
        self.discriminators = nn.ModuleList(Discriminator(d) for _ in view_shapes[1:])
        self.ddc = DDCHead(d, n_clusters, ddc_hidden)
        # Only for the optional reconstruction pre-training (built last: without it, the
        # other modules draw the same initial weights).
        self.decoders = build_decoders(dims, encoder_layers, view_shapes) if reconstruct else None

    def encode(self, views):
        """The view representations h^v."""
        return [encoder(x) for encoder, x in zip(self.encoders, views)]

    def forward(self, views, observed=None):
        """View representations h^v, fused h_f (over each sample's present views) and the
        view weights w."""
        hs = self.encode(views)
        fused, weights = self.attention(hs, observed)
        return EAMCOutput(hs, fused, weights)


@with_shared_parameters
class EAMCClustering(BaseMultiViewClustering):
    """EAMC: adversarially aligned view representations, fused by attention, clustered by DDC.

    Each view has its own encoder. Discriminators D_2..D_V try to tell view 1's
    representations (the anchor) from those of views 2..V, and the encoders learn to fool
    them (Eq. 5), which aligns the views' distributions. An attention module weights the
    views (one weight each) and fuses them into h_f, trained so that the kernel of h_f
    matches the weighted sum of the views' kernels (Eq. 6). A DDC head clusters h_f
    (Eqs. 7–11). Generator and discriminator steps alternate batch by batch (Algorithm 1).
    Zhou & Shen, "End-to-End Adversarial-Attention Network for Multi-Modal Clustering",
    CVPR 2020. By default skmvc pre-trains the encoders and takes the labels from k-means
    on the views' representations side by side instead (``pretrain_epochs``,
    ``assign_labels``, ``embedding``).

    Needs at least two views (the adversarial alignment compares views 2..V with view 1);
    with one view it raises a ``ValueError``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    max_epochs : int, default=100
        Training epochs. The authors' code ran 500; 100 is skmvc's default for cost (see
        ``benchmarks/studies/README.md``).
    batch_size : int or "auto", default=100
        Mini-batch size (paper). ``"auto"`` takes 64 below 1 024 samples, else 256
        (:func:`skmvc.base.resolve_batch_size`; CRRC's default). Not EAMC's: on five small
        development sets (3 seeds) batches of 64 gained a little on three (MSRC-v1 0.667 →
        0.679, COIL20-3V 0.747 → 0.771, ProteinFold 0.231 → 0.259) and lost on BBCSport
        (0.276 → 0.267), and ``"auto"`` would move EAMC's larger sets from its paper's 100
        to 256, which is not measured (benchmarks/studies/README.md, "Batches on small sets").
    lr : float, default=1e-5
        Adam learning rate of the encoders in EAMC's own stage (authors' code; the paper
        text says 1e-3). The small rate keeps the encoders near where that stage finds
        them. Without pre-training that is their random He-normal initialisation (paper
        §3.1), and a trained EAMC clusters about as well as k-means on its untrained
        encoders' output (``benchmarks/studies/encoder_geometry.py``), which keeps the data's
        structure on dense feature views and loses much of it on bag-of-words views; hence
        the reconstruction pre-training (``pretrain_epochs``). Without it, higher rates did
        worse with the default k-means labels (development suite, 7 sets × 3 seeds: mean
        ACC 0.593 at 1e-5, 0.570 at 1e-4, 0.500 at 1e-3; ``benchmarks/studies/README.md``).
    attention_lr : float, default=1e-4
        Learning rate of the attention module (paper and code).
    head_lr : float, default=1e-5
        Learning rate of the DDC head (paper and code).
    discriminator_lr : float, default=1e-3
        Learning rate of the discriminators (paper and code).
    betas : tuple of float, default=(0.95, 0.999)
        Adam betas of the generator side (encoders, attention, head), as coded.
    discriminator_betas : tuple of float, default=(0.5, 0.999)
        Adam betas of the discriminators, as coded.
    generator_steps : int, default=1
        Generator steps per batch (Algorithm 1's t).
    discriminator_steps : int, default=1
        Discriminator steps per batch, after the generator steps.
    clip_grad_norm : float or None, default=0.5
        Gradient-norm clipping on generator steps (authors' code).
    adversarial_weight : float, default=10.0
        γ, the weight of the generator loss (authors' code).
    attention_temperature : float, default=10.0
        τ of the attention softmax (authors' code). With τ = 10 the weights of two views
        stay within about 0.475–0.525 (see ``specs/eamc.md``), so the fusion is close to a
        plain mean of the views. Kept on purpose: letting the attention weight the views
        lowered ACC (development suite, 7 sets × 3 seeds: mean ACC 0.593 at τ = 10, 0.545 at
        τ = 1, 0.451 at τ = 0.1; ``benchmarks/studies/README.md``, "EAMC's attention temperature").
    encoder_layers : tuple of int, default=(200, 200, 500)
        MLP encoder widths for vector views (ReLU after every layer); the last width is also
        the output width of the CNN used for image views ``(C, H, W)``.
    encoder_factory : callable or None, default=None
        ``encoder_factory(view_index, sample_shape) -> torch.nn.Module``; all encoders must
        output the same width. Such encoders are not re-initialised.
    ddc_hidden : int, default=100
        Hidden width of the DDC head.
    rel_sigma : float, default=0.15
        Relative kernel bandwidth of the DDC and attention losses.
    pretrain_epochs : int, default=100
        Epochs of a reconstruction pre-training stage before EAMC's own, not in the paper
        (``0`` gives the paper's schedule, as does the ``paper`` profile of the benchmarks).
        A decoder per view, the mirror of its MLP encoder, reconstructs the view from
        ``h^v`` (mean squared error, each view over the samples that have it), so that the
        encoders, which EAMC's own stage moves little at ``lr=1e-5``, start from features
        that keep the input's structure instead of random ones. Stops early on a plateau
        like every stage (``tol``, ``n_iter_no_change``); ``history_`` shows it as the
        stage ``pretrain``. On 13 development sets (3 seeds) it raised the mean ACC on ten,
        most on the bag-of-words and small sets (BBCSport 0.276 → 0.415, WebKB 0.755 →
        0.890, BDGP 0.510 → 0.712, MSRC-v1 0.667 → 0.732), and lowered it on three
        (MNIST-USPS 0.742 → 0.684, Prokaryotic and Scene-15 by 0.02): 0.593 → 0.640 over
        the 13 (k-means 0.633). 200 epochs were no better (``benchmarks/studies/README.md``,
        "Reconstruction pre-training").
    pretrain_lr : float, default=1e-3
        Adam learning rate of the pre-training stage (encoders and decoders). Encoders from
        ``encoder_factory`` are trained by it too; ``pretrain_epochs=0`` leaves them as
        given until EAMC's own stage.
    assign_labels : {"head", "kmeans", "auto"}, default="kmeans"
        As in :class:`skmvc.CONANClustering`. skmvc's default departs from the paper
        (``"head"``, the DDC head's argmax): k-means on the fused representation h_f
        scored higher than the head on each of 12 development sets (mean ACC over seeds
        0-2; over the 12 sets 0.571 against 0.323; Handwritten 0.96 against 0.39, MSRC-v1
        0.66 against 0.35; ``benchmarks/studies/assign_labels.py``,
        ``benchmarks/studies/README.md``).
        Training is the same either way.
    embedding : {"views", "fused"}, default="views"
        What :meth:`transform` returns, and so what ``assign_labels="kmeans"`` clusters.
        ``"fused"``: the attention-fused h_f (the paper's representation, ``n_features``
        wide). ``"views"`` (a departure from the paper): the views' representations h^v, each
        row scaled to unit norm, side by side (:func:`skmvc.nn.normalized_concatenation`;
        ``n_views × n_features`` wide; a view a sample misses is a block of zeros).
        Training is the same either way. The views' encoders are pre-trained each with its
        own decoder, so their coordinates are unrelated, and the mean h_f mixes them. On 13
        development sets (3 seeds) the views side by side raised the mean ACC from 0.640 to
        0.692 (k-means on the views: 0.633), most on BDGP (0.712 → 0.955), Reuters-1200
        (0.350 → 0.514), BBCSport (0.415 → 0.528) and MNIST-USPS (0.684 → 0.761), and
        lowered it on COIL20-3V (0.767 → 0.726), Prokaryotic (0.540 → 0.509) and 100Leaves
        (0.880 → 0.867) (``benchmarks/studies/README.md``, "EAMC: the views side by side").
    <shared parameters>

    Attributes
    ----------
    view_weights_ : ndarray of shape (n_views,)
        The learned modality weights w: the attention's weights averaged over the training
        set after training. Prediction uses these fixed weights, so a sample's label does
        not depend on the rest of its batch.
    labels_, n_views_, n_features_in_, n_features_per_view_, view_shapes_, module_, \
n_iter_, init_losses_, init_collapsed_, selection_scores_, device_, \
cluster_centers_, view_patterns_, pattern_centers_
        As in :class:`skmvc.CONANClustering`.
    history_ : skorch.history.History
        Per epoch: ``stage`` (``pretrain``, then ``train``); in pre-training ``loss`` and
        ``reconstruction``; in training ``loss`` (the generator side's total), ``ddc_1``,
        ``ddc_2_flipped``, ``ddc_3``, ``attention``, ``generator`` and ``discriminator``.
    loss_ : float
        The clustering loss (``ddc_1 + ddc_2_flipped + ddc_3``) of the kept restart on the
        training data, in eval mode: the paper keeps the run with the lowest clustering
        loss (``loss_ == -score(X_train)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc import EAMCClustering
    >>> rng = np.random.RandomState(0)
    >>> views = [rng.rand(60, 5), rng.rand(60, 3)]
    >>> model = EAMCClustering(n_clusters=3, max_epochs=2, encoder_layers=(16,),
    ...                        ddc_hidden=8, random_state=0, device="cpu").fit(views)
    >>> model.labels_.shape, model.view_weights_.shape
    ((60,), (2,))
    """

    _min_views = 2

    @property
    def _poor_on_sparse_views(self):
        # With the views side by side EAMC is above k-means on the suite's three text
        # sets; by h_f it was below on all three (benchmarks/studies/README.md).
        return self.embedding == "fused"

    _parameter_constraints: dict = {
        **BaseMultiViewClustering._parameter_constraints,
        **ASSIGN_LABELS_CONSTRAINT,
        "attention_lr": [Interval(Real, 0, None, closed="neither")],
        "head_lr": [Interval(Real, 0, None, closed="neither")],
        "discriminator_lr": [Interval(Real, 0, None, closed="neither")],
        "betas": ["array-like"],
        "discriminator_betas": ["array-like"],
        "generator_steps": [Interval(Integral, 1, None, closed="left")],
        "discriminator_steps": [Interval(Integral, 0, None, closed="left")],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        "attention_temperature": [Interval(Real, 0, None, closed="neither")],
        "encoder_layers": ["array-like"],
        "encoder_factory": [callable, None],
        "ddc_hidden": [Interval(Integral, 1, None, closed="left")],
        "rel_sigma": [Interval(Real, 0, None, closed="neither")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "pretrain_lr": [Interval(Real, 0, None, closed="neither")],
        "embedding": [StrOptions({"views", "fused"})],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        max_epochs=100,
        batch_size=100,
        lr=1e-5,
        attention_lr=1e-4,
        head_lr=1e-5,
        discriminator_lr=1e-3,
        betas=(0.95, 0.999),
        discriminator_betas=(0.5, 0.999),
        generator_steps=1,
        discriminator_steps=1,
        clip_grad_norm=0.5,
        adversarial_weight=10.0,
        attention_temperature=10.0,
        encoder_layers=(200, 200, 500),
        encoder_factory=None,
        ddc_hidden=100,
        rel_sigma=0.15,
        pretrain_epochs=100,
        pretrain_lr=1e-3,
        device="auto",
        random_state=None,
        n_init=1,
        n_jobs=None,
        verbose=0,
        callbacks=None,
        view_sizes=None,
        tol=1e-3,
        n_iter_no_change=10,
        selection="agreement",
        assign_labels="kmeans",
        embedding="views",
        views_on_device="auto",
    ):
        self.n_clusters = n_clusters
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.attention_lr = attention_lr
        self.head_lr = head_lr
        self.discriminator_lr = discriminator_lr
        self.betas = betas
        self.discriminator_betas = discriminator_betas
        self.generator_steps = generator_steps
        self.discriminator_steps = discriminator_steps
        self.clip_grad_norm = clip_grad_norm
        self.adversarial_weight = adversarial_weight
        self.attention_temperature = attention_temperature
        self.encoder_layers = encoder_layers
        self.encoder_factory = encoder_factory
        self.ddc_hidden = ddc_hidden
        self.rel_sigma = rel_sigma
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.callbacks = callbacks
        self.view_sizes = view_sizes
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.selection = selection
        self.assign_labels = assign_labels
        self.embedding = embedding
        self.views_on_device = views_on_device

    def _build_module(self, view_shapes, generator):
        layers = self._layer_widths()
        module = _EAMCNetwork(
            view_shapes,
            self.n_clusters,
            layers,
            self.encoder_factory,
            self.attention_temperature,
            self.ddc_hidden,
            reconstruct=self.pretrain_epochs > 0,
        )
        # He-normal weights, zero biases (the re-implementation); a user's encoders are kept.
        keep = ("encoders",) if self.encoder_factory is not None else ()
        return init_children(module, generator, keep=keep, scheme="kaiming_normal")

    # ------------------------------------------------------------------ losses
    def _objective(self, module, batch):
        """The clustering loss ``ddc_1 + ddc_2_flipped + ddc_3`` on h_f (Eq. 11)."""
        fused = module(batch.views, batch.observed).fused
        assignments, hidden = module.ddc(fused)
        terms = DDCLoss(self.rel_sigma, flipped=True)(assignments, hidden)
        terms["loss"] = sum(terms.values())
        return terms

    def _generator_loss(self, module, batch):
        """Encoders, attention and head: clustering + attention (Eq. 6) + γ · generator."""
        observed = batch.observed
        out = module(batch.views, observed)
        hs, fused, weights = out.views, out.fused, out.weights
        assignments, hidden = module.ddc(fused)
        terms = DDCLoss(self.rel_sigma, flipped=True)(assignments, hidden)
        clustering = sum(terms.values())
        terms["attention"] = kernel_alignment_loss(
            fused, hs, weights, self.rel_sigma, observed=observed
        )
        terms["generator"] = sum(
            term_on_present(lambda h, d=d: generator_loss(d(h)), observed, v, h)
            for v, (d, h) in enumerate(zip(module.discriminators, hs[1:]), start=1)
        )
        terms["loss"] = (
            clustering + terms["attention"] + self.adversarial_weight * terms["generator"]
        )
        return terms

    def _discriminator_loss(self, module, batch):
        """Discriminators: tell the anchor view 1 from each view v >= 2."""
        with torch.no_grad():
            hs = module.encode(batch.views)
        if batch.observed is not None:  # each view's representations where it is present
            hs = [h[batch.observed[:, v]] for v, h in enumerate(hs)]
        loss = sum(
            discriminator_loss(d(hs[0]), d(h)) if len(hs[0]) and len(h) else hs[0].new_zeros(())
            for d, h in zip(module.discriminators, hs[1:])
        )
        return {"loss": loss, "discriminator": loss}

    # ------------------------------------------------------------------ training
    def _stages(self, module, data, seed):
        generator_groups = [
            {"params": list(module.encoders.parameters()), "lr": self.lr},
            {"params": list(module.attention.parameters()), "lr": self.attention_lr},
            {"params": list(module.ddc.parameters()), "lr": self.head_lr},
        ]
        steps = [
            Step(
                partial(self._generator_loss, module),
                ("generator",),
                clip_grad_norm=self.clip_grad_norm,
            )
        ] * self.generator_steps + [
            Step(partial(self._discriminator_loss, module), ("discriminator",), objective=False)
        ] * self.discriminator_steps
        return [
            *reconstruction_pretraining(
                module.encoders, module.decoders, self.pretrain_epochs, self.pretrain_lr
            ),
            Stage(
                "train",
                self.max_epochs,
                tuple(steps),
                {
                    "generator": OptimizerSpec(
                        generator_groups, kwargs={"betas": tuple(self.betas)}
                    ),
                    "discriminator": OptimizerSpec(
                        list(module.discriminators.parameters()),
                        kwargs={
                            "lr": self.discriminator_lr,
                            "betas": tuple(self.discriminator_betas),
                        },
                    ),
                },
            ),
        ]

    _extra_fitted_attributes = ("view_weights_",)
    _takes_images = True
    _schedules = {
        # The authors' re-implemented schedule (500 epochs, no pre-training); skmvc's
        # default is 100 epochs after 100 of reconstruction pre-training.
        "paper": dict(max_epochs=500, assign_labels="head", pretrain_epochs=0),
        "quick": dict(pretrain_epochs=20, max_epochs=20),
    }

    def _fitted_extras(self, module, data, seed):
        """Fix the attention's weights to their mean over the training set."""
        e = apply_module(
            lambda m, batch: m.attention.sample_weights(m.encode(batch.views), batch.observed),
            module,
            data,
            self._batch_size(data),
        )
        weights = torch.as_tensor(e.mean(axis=0))
        module.attention.freeze_weights(weights.to(module.attention.frozen_weights.device))
        return {"view_weights_": weights.numpy()}

    # ------------------------------------------------------------------ inference
    def _soft_assignments(self, module, batch):
        fused = module(batch.views, batch.observed).fused
        return module.ddc(fused)[0]

    def _embedding(self, module, batch):
        if self.embedding == "fused":
            return module(batch.views, batch.observed).fused
        # The views side by side need no attention pass.
        return normalized_concatenation(module.encode(batch.views), batch.observed)
