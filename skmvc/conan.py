"""CONAN: CONtrAstive fusion Network for multi-view clustering (``specs/conan.md``)."""

from __future__ import annotations

import math
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._autoencoder import reconstruction_pretraining, reconstruction_terms
from ._docs import with_shared_parameters
from ._engine import OptimizerSpec, Stage, Step, apply_module
from ._labels import ASSIGN_LABELS_CONSTRAINT
from .base import BaseMultiViewClustering
from .losses import DDCLoss, dec_loss, nt_xent, simsiam_loss
from .nn import (
    ConcatMLPFusion,
    DDCHead,
    DECHead,
    MeanFusion,
    PredictionHead,
    ProjectionHead,
    build_decoders,
    build_encoders,
    init_children,
    output_size,
)
from .nn.missing import term_on_present

__all__ = ["CONANClustering"]

#: ``fusion="auto"`` takes the concatenation when at least this fraction of the training
#: samples miss a view: on four development sets the mean did better at missing rates 0.1
#: and 0.3, the concatenation at 0.5 and 0.7 (benchmarks/studies/README.md, "CONAN's fusion with
#: missing views").
AUTO_CONCAT_MISSING_FRACTION = 0.4


class _CONANNetwork(nn.Module):
    """Encoders e_v, fusion f, projection head p (+ predictor q), clustering head g, and,
    when ``reconstruct``, a decoder per view from h^v back to the (flattened) input."""

    def __init__(
        self,
        view_shapes,
        n_clusters: int,
        encoder_layers,
        encoder_factory,
        projection_dim: int,
        ddc_hidden: int,
        contrast: str,
        clustering: str,
        reconstruct: bool = False,
        fusion: str = "mean",
    ) -> None:
        super().__init__()
        self.encoders = build_encoders(view_shapes, encoder_layers, encoder_factory)
        dims = [output_size(e, s) for e, s in zip(self.encoders, view_shapes)]
        if (contrast != "none" or fusion == "mean") and len(set(dims)) != 1:
            why = (
                "CONAN's projection head is shared by the fused representation and every "
                "view's representation"
                if contrast != "none"
                else "fusion='mean' averages the views' representations (as fusion='auto' "
                "does unless many samples miss views; fusion='concat' takes any widths)"
            )
            raise ValueError(
                f"{why}, so all encoders must output the same width; got {dims}. Adjust "
                "encoder_layers or encoder_factory."
            )
        d = dims[0]
        self.fusion = MeanFusion() if fusion == "mean" else ConcatMLPFusion(dims, d)
        self.projector = ProjectionHead(d, d, projection_dim) if contrast != "none" else None
        self.predictor = PredictionHead(projection_dim) if contrast == "simsiam" else None
        self.ddc = DDCHead(d, n_clusters, ddc_hidden) if clustering == "ddc" else None
        self.dec = DECHead(n_clusters, d) if clustering == "dec" else None
        self.decoders = build_decoders(dims, encoder_layers, view_shapes) if reconstruct else None

    def forward(self, views, observed=None):
        hs = [encoder(x) for encoder, x in zip(self.encoders, views)]
        # Each fusion reads only the present views; a missing view's h is not contrasted
        # (``_objective``).
        return self.fusion(hs, observed), hs


@with_shared_parameters
class CONANClustering(BaseMultiViewClustering):
    """CONAN: contrastive fusion of view representations, clustered by a DDC head.

    Each view is encoded by its own network; the view representations ``h^v`` are fused
    into ``z``; a clustering head assigns ``z`` to clusters, and a contrastive term pulls
    every ``h^v`` towards ``z`` (Ke et al., "CONAN: Contrastive Fusion Networks for
    Multi-view Clustering", IEEE BigData 2021). The loss (Eq. 9) is
    ``L = L_ddc(g(z)) + λ Σ_v L_contrast(p(z), p(h^v))``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    max_epochs : int, default=100
        Training epochs (paper: 100).
    batch_size : int or "auto", default=128
        Mini-batch size (paper: 128; the authors' code used 100). A last batch of one sample
        is dropped each epoch. ``"auto"`` takes 64 below 1 024 samples, else 256
        (:func:`skmvc.base.resolve_batch_size`; CRRC's default). Not CONAN's: on five small
        development sets (3 seeds) batches of 64 were better on three (BBCSport, Prokaryotic,
        ProteinFold) and worse on MSRC-v1 (0.644 → 0.560) and COIL20-3V
        (benchmarks/studies/README.md, "Batches on small sets").
    lr : float, default=1e-3
        Adam learning rate (paper).
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals the learning rate to zero over ``max_epochs`` (stepped each
        epoch).
    fusion : {"auto", "mean", "concat"}, default="auto"
        How the view representations are fused into ``z``: ``"mean"`` their mean over the
        views each sample has (:class:`skmvc.nn.MeanFusion`, the uniform case of SiMVC's
        and CoMVC's weighted mean), with no fusion weights; ``"concat"`` the paper's
        concatenation and MLP (``Linear → ReLU → BN → Linear``; a view a sample misses
        enters as the mean of its present views' representations); ``"auto"`` the mean
        unless at least 40 % of the training samples miss a view, then the concatenation
        (the fitted ``fusion_`` tells which). **Departure from the paper**: on the 12
        development sets measured, ``"mean"`` raised CONAN's mean ACC from 0.517 to 0.539
        (better on 7 sets, by up to 0.09 on WebKB and 0.08 on Reuters-1200; worse on 5, by
        at most 0.026 on BDGP, within the spread over seeds) and left it below 0.9 ×
        k-means on 5 sets instead of 9 (``benchmarks/studies/README.md``, "CONAN's fusion"). With
        half of the samples missing views the concatenation did better on three of four
        development sets (3 seeds: Prokaryotic 0.518 against the mean's 0.368, Scene-15
        0.337 against 0.300, Handwritten 0.749 against 0.715) and worse on MSRC-v1 (0.614
        against 0.662); with a tenth missing views the mean did better on three (MSRC-v1
        0.808 against 0.659; ``benchmarks/studies/README.md``, "CONAN's fusion with missing
        views"),
        hence ``"auto"``. ``fusion="concat"`` is the paper's.
    contrast : {"simclr", "simsiam", "none"}, default="simclr"
        The contrastive term: NT-Xent (Eq. 4, the paper's default), SimSiam (Eq. 5, with the
        standard stop-gradient placement), or none (the paper's ablation).
    clustering : {"ddc", "dec"}, default="ddc"
        Clustering head and loss: DDC (Eq. 7) or DEC (Eq. 8, centroids initialised by
        k-means on ``z`` of the untrained network). On 12 development sets DEC's mean ACC
        was 0.435 against DDC's 0.539: better on WebKB, BDGP, BBCSport and Prokaryotic
        (up to +0.18), far worse with many classes (100Leaves 0.087 against 0.739;
        ``benchmarks/studies/README.md``, "CONAN with the DEC head").
    contrast_weight : float, default=0.01
        λ of Eq. 9 (paper: 0.01 for all data sets).
    temperature : float, default=0.1
        τ of the NT-Xent loss (Eq. 4; paper: 0.1).
    reconstruction_weight : float, default=0.0
        Weight of a reconstruction term, not in the paper: a decoder per view (the mirror
        of its MLP encoder) reconstructs each view's input from ``h^v``, and
        ``reconstruction_weight · Σ_v MSE(x^v, x̂^v)`` (each view over the samples that
        have it) is added to the loss, so that the view representations keep the input's
        structure. 0 (the paper) builds no decoders. On seven development sets ``1``
        raised the mean ACC from 0.515 to 0.531 (better on five, worse on WebKB and
        Prokaryotic, 1.2–2.6× the fit time; ``benchmarks/studies/README.md``, "CONAN with a
        reconstruction term"), so the default stays the paper's.
    pretrain_epochs : int, default=0
        Epochs of a reconstruction pre-training stage before CONAN's own, not in the paper
        (0, the default, has none): the decoders above reconstruct each view from ``h^v``
        (Adam at ``lr``; early stopping as for every stage; ``history_`` stage
        ``pretrain``), so that training starts from features that keep the input's
        structure. On seven development sets 100 epochs raised the mean ACC on four
        (MSRC-v1 0.644 → 0.752) and lowered it on three (WebKB 0.654 → 0.617), below
        k-means on all seven either way (``benchmarks/studies/README.md``, "Reconstruction
        pre-training"), so the default stays the paper's. EAMC pre-trains by default.
    epoch_selection : {"last", "stability"}, default="last"
        Which weights the training stage ends with, as in :class:`skmvc.CRRCClustering`:
        ``"last"``, its last epoch's (the paper); ``"stability"``, its last epoch's unless
        how reproducibly k-means partitions ``z`` (L2-normalised; read before the first
        epoch, every 5 epochs and at the last; no labels) is more than 0.1 below its best
        reading. With 100 epochs of pre-training it kept the last epoch on every fit of
        MSRC-v1, COIL20-3V and BBCSport (3 seeds each): the DDC loss makes ``z`` ever more
        clustered, whether or not the clusters are right (``benchmarks/studies/README.md``, "CONAN
        with the stability epoch selection", in "CONAN with the DEC head"), so the default
        stays the paper's.
    encoder_layers : tuple of int, default=(512, 512, 256)
        Widths of the MLP encoder of each vector view (ReLU after every layer). Image views
        ``(C, H, W)`` use the small CNN of the authors' code (:class:`skmvc.nn.CNNEncoder`).
    encoder_factory : callable or None, default=None
        ``encoder_factory(view_index, sample_shape) -> torch.nn.Module`` builds your own
        encoder per view (e.g. a pretrained image network); it must return
        ``(batch, width)`` tensors, the same width for every view. Such encoders are not
        re-initialised.
    projection_dim : int, default=100
        Output width of the projection head p (the code's DDC hidden size).
    ddc_hidden : int, default=100
        Hidden width of the DDC head (``specs/ddc.md``).
    rel_sigma : float, default=0.15
        Relative bandwidth of the DDC kernel: ``σ² = rel_sigma · median squared distance``.
    <shared parameters>
    n_init : int, default=3
        Independent restarts; the one ``selection`` prefers is kept, preferring restarts
        that did not collapse (the paper kept the lowest-loss of 20 runs). **Departure from
        the paper**, and from the other four methods' default of 1: CONAN's fits vary most
        from seed to seed of the five (Handwritten 0.614, 0.828 and 0.918 with one), and
        are the cheapest, so three restarts, of which ``selection="agreement"`` keeps the
        one that agrees most with the others, fit in about three times one fit's time
        (99 s for 5 000 samples × two 784-d views on 2 cores, measured alone). On the development
        sets (3 seeds) ACC rose on Handwritten (0.787 → 0.928), BDGP (0.499 → 0.604) and
        COIL20-3V (0.707 → 0.759), each to above k-means, and fell most on WebKB (0.654
        → 0.559) and Fashion-MV (0.765 → 0.731); over 13 sets the mean rose by 0.012
        (``benchmarks/studies/README.md``, "CONAN's restarts"). ``n_init=1`` is one fit.
    assign_labels : {"head", "kmeans", "auto"}, default="auto"
        How samples are assigned to clusters after training: ``"head"`` by the method's
        clustering head (the paper); ``"kmeans"`` by k-means (10 initialisations) on the
        embedding (:meth:`transform`) of the training data (on a seeded subsample of
        100 000 when there are more; on the samples that have every view when some miss
        views), after which :meth:`predict` gives the nearest centre and
        :meth:`predict_proba` a Student-t kernel over the centres; ``"auto"`` the head
        when every training sample has every view and the head's partition has not
        collapsed (no empty cluster, no cluster with nearly every sample), else k-means
        (``cluster_centers_`` is then set, and tells which rule labelled). Training is
        the same either way. The default ``"auto"`` is the paper's head on healthy
        complete-data fits (k-means on the fused z gave the same ACC on 7 of 8
        development sets and 0.023 less on Scene-15). Where the head collapses, k-means
        on the same z does much better: on 100Leaves (100 classes) the head left 10 of
        100 clusters empty at 0.739 ACC, k-means on z gave 0.869 (3 seeds,
        ``benchmarks/studies/README.md``, "A collapsed head"). With missing views the head spends
        clusters on patterns of missing views, and k-means on the complete samples does
        much better (Handwritten with half the samples missing views: see
        ``docs/benchmarks.md``, "Missing views").

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    n_views_ : int
        Number of views seen in fit.
    n_features_in_ : int
        Total number of features over all views.
    n_features_per_view_ : tuple of int
        Number of features of each view.
    view_shapes_ : tuple of tuple
        Per-sample shape of each view (``(d,)`` or ``(C, H, W)``).
    feature_names_in_ : ndarray of str
        Column names, when X was a single DataFrame.
    module_ : torch.nn.Module
        The trained network.
    history_ : skorch.history.History
        One row per epoch: ``stage``, ``loss`` and every named term (``ddc_1``, ``ddc_2``,
        ``ddc_3`` or ``dec``, ``contrast``, and ``reconstruction`` when weighted or in
        pre-training), ``dur``, and the per-batch values.
    loss_ : float
        The training loss (Eq. 9) of the kept restart, evaluated on the training data with
        the network in eval mode (``loss_ == -score(X_train)``).
    init_losses_ : ndarray of shape (n_init,)
        Final training loss of each restart (NaN for a restart that diverged and was
        dropped with a :class:`~skmvc.exceptions.RestartFailedWarning`).
    init_collapsed_ : ndarray of shape (n_init,), dtype bool
        Whether each restart collapsed (empty clusters, or one cluster with nearly every
        sample). Restarts that did not collapse are preferred.
    selection_scores_ : ndarray of shape (n_init,)
        Each restart's score under ``selection`` (higher is better; for ``"loss"``, minus
        the final loss; NaN for a restart that diverged).
    n_iter_ : int
        Number of epochs run.
    device_ : torch.device
        The device the network lives on.
    fusion_ : str
        Only with ``fusion="auto"``: the fusion it took, ``"mean"`` or ``"concat"`` (at
        least 40 % of the training samples missed a view).
    cluster_centers_ : ndarray of shape (n_clusters, n_components)
        When the fit labelled by k-means (``assign_labels="kmeans"``, or ``"auto"`` with
        samples missing views or a collapsed head): the centres in the embedding.
    view_patterns_ : ndarray of shape (n_patterns, n_views), dtype bool
        Only when some training samples missed views (and at least five per cluster had
        them all): each pattern of present views among them, True where present.
    pattern_centers_ : ndarray of shape (n_patterns, n_clusters, n_components)
        For each pattern, the mean embedding per cluster of the complete training samples
        seen through that pattern's views only (NaN for a cluster with none). A sample that
        misses views is assigned to the nearest centre of its pattern (user guide,
        "Samples with missing views").

    See Also
    --------
    skmvc.metrics.clustering_accuracy : Evaluate the labels against classes.

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc import CONANClustering
    >>> rng = np.random.RandomState(0)
    >>> views = [rng.rand(60, 5), rng.rand(60, 3)]
    >>> model = CONANClustering(n_clusters=3, max_epochs=2, encoder_layers=(16,),
    ...                         projection_dim=8, ddc_hidden=8, random_state=0,
    ...                         device="cpu").fit(views)
    >>> model.labels_.shape, model.transform(views).shape
    ((60,), (60, 16))
    >>> sorted(k for k in model.history_[-1] if k.startswith(("ddc", "contrast")))
    ['contrast', 'ddc_1', 'ddc_2', 'ddc_3']
    """

    _poor_on_sparse_views = True
    _preparation = {"kind": "minmax"}  # clustered worse on views by kind with rms rows
    _takes_images = True
    _schedules = {
        # One restart, as the reproduction runs measured (the paper keeps the lowest-loss
        # of 20; skmvc's default is 3, kept by agreement).
        "paper": dict(
            max_epochs=100, batch_size=128, assign_labels="head", fusion="concat", n_init=1
        ),
        "quick": dict(max_epochs=10, batch_size=128),
    }
    _extra_fitted_attributes = ("fusion_",)

    _parameter_constraints: dict = {
        **BaseMultiViewClustering._parameter_constraints,
        **ASSIGN_LABELS_CONSTRAINT,
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "fusion": [StrOptions({"auto", "mean", "concat"})],
        "contrast": [StrOptions({"simclr", "simsiam", "none"})],
        "clustering": [StrOptions({"ddc", "dec"})],
        "contrast_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "epoch_selection": [StrOptions({"last", "stability"})],
        "encoder_layers": ["array-like"],
        "encoder_factory": [callable, None],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "ddc_hidden": [Interval(Integral, 1, None, closed="left")],
        "rel_sigma": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        max_epochs=100,
        batch_size=128,
        lr=1e-3,
        lr_schedule="cosine",
        fusion="auto",
        contrast="simclr",
        clustering="ddc",
        contrast_weight=0.01,
        temperature=0.1,
        reconstruction_weight=0.0,
        pretrain_epochs=0,
        epoch_selection="last",
        encoder_layers=(512, 512, 256),
        encoder_factory=None,
        projection_dim=100,
        ddc_hidden=100,
        rel_sigma=0.15,
        device="auto",
        random_state=None,
        n_init=3,
        n_jobs=None,
        verbose=0,
        callbacks=None,
        view_sizes=None,
        tol=1e-3,
        n_iter_no_change=10,
        selection="agreement",
        assign_labels="auto",
        views_on_device="auto",
    ):
        self.n_clusters = n_clusters
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.fusion = fusion
        self.contrast = contrast
        self.clustering = clustering
        self.contrast_weight = contrast_weight
        self.temperature = temperature
        self.reconstruction_weight = reconstruction_weight
        self.pretrain_epochs = pretrain_epochs
        self.epoch_selection = epoch_selection
        self.encoder_layers = encoder_layers
        self.encoder_factory = encoder_factory
        self.projection_dim = projection_dim
        self.ddc_hidden = ddc_hidden
        self.rel_sigma = rel_sigma
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
        self.views_on_device = views_on_device

    def _resolve_for_data(self, observed):
        if self.fusion == "auto":
            missing = 0.0 if observed is None else 1.0 - observed.all(axis=1).mean()
            self.fusion_ = "concat" if missing >= AUTO_CONCAT_MISSING_FRACTION else "mean"
        else:
            self.__dict__.pop("fusion_", None)

    def _build_module(self, view_shapes, generator):
        layers = self._layer_widths()
        module = _CONANNetwork(
            view_shapes,
            self.n_clusters,
            layers,
            self.encoder_factory,
            self.projection_dim,
            self.ddc_hidden,
            self.contrast,
            self.clustering,
            reconstruct=self.reconstruction_weight > 0 or self.pretrain_epochs > 0,
            fusion=getattr(self, "fusion_", self.fusion),
        )
        # Xavier-normal, gain sqrt(2), zero biases (authors' code); a user's encoders are
        # left as given.
        keep = ("encoders",) if self.encoder_factory is not None else ()
        return init_children(
            module, generator, keep=keep, scheme="xavier_normal", gain=math.sqrt(2.0)
        )

    def _objective(self, module, batch):
        z, hs = module(batch.views, batch.observed)
        if self.clustering == "ddc":
            assignments, hidden = module.ddc(z)
            terms = DDCLoss(self.rel_sigma)(assignments, hidden)
            loss = sum(terms.values())
        else:
            terms = {"dec": dec_loss(module.dec(z))}
            loss = terms["dec"]
        if self.contrast != "none":
            pz = module.projector(z)
            contrast = 0.0
            for v, h in enumerate(hs):  # over the samples that have view v
                ph = module.projector(h)
                if self.contrast == "simclr":
                    term = partial(nt_xent, temperature=self.temperature)
                    contrast = contrast + term_on_present(
                        term, batch.observed, v, pz, ph, min_rows=2
                    )
                else:

                    def term(pz, ph):
                        return simsiam_loss(module.predictor(pz), module.predictor(ph), pz, ph)

                    contrast = contrast + term_on_present(term, batch.observed, v, pz, ph)
            terms["contrast"] = contrast
            loss = loss + self.contrast_weight * contrast
        if self.reconstruction_weight > 0:
            recons = [decoder(h) for decoder, h in zip(module.decoders, hs)]
            reconstruction = reconstruction_terms(batch, recons)
            terms["reconstruction"] = reconstruction
            loss = loss + self.reconstruction_weight * reconstruction
        terms["loss"] = loss
        return terms

    def _stages(self, module, data, seed):
        schedule = None
        if self.lr_schedule == "cosine":

            def schedule(optimizer, epochs):
                return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

        on_begin = None
        if self.clustering == "dec":

            def on_begin():
                self._init_dec_centroids(module, data, seed)

        return [
            *reconstruction_pretraining(
                module.encoders, module.decoders, self.pretrain_epochs, self.lr
            ),
            Stage(
                name="train",
                epochs=self.max_epochs,
                steps=(Step(partial(self._objective, module), ("adam",)),),
                optimizers={
                    "adam": OptimizerSpec(
                        list(module.parameters()), kwargs={"lr": self.lr}, scheduler=schedule
                    )
                },
                on_begin=on_begin,
                **self._epoch_selection(module, data, seed),
            ),
        ]

    @torch.no_grad()
    def _init_dec_centroids(self, module, data, seed):
        """DEC: k-means on z of the untrained network over the whole training set.

        z is computed as training computes it (batch normalisation on batch statistics, in
        shuffled batches of ``batch_size``): the untrained network's running statistics are
        still the identity, so eval-mode z would lie in another space than the z the
        centroids are trained against.
        """
        order = np.random.RandomState(seed).permutation(len(data))
        z = apply_module(
            self._embedding,
            module,
            data,
            self._batch_size(data),
            batch_statistics=True,
            order=order,
        )
        km = KMeans(self.n_clusters, random_state=seed).fit(z.astype(np.float64))
        module.dec.centroids.copy_(torch.as_tensor(km.cluster_centers_, dtype=torch.float32))

    def _soft_assignments(self, module, batch):
        z, _ = module(batch.views, batch.observed)
        if self.clustering == "ddc":
            return module.ddc(z)[0]
        return module.dec(z)

    def _embedding(self, module, batch):
        return module(batch.views, batch.observed)[0]
