"""CRRC: residual cross-view recalibration for deep multi-view clustering (``specs/crrc.md``)."""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval
from torch import nn

from ._autoencoder import (
    AUTOENCODER_PAPER,
    PAPER_ENCODER_LAYERS,
    AutoencoderClustering,
    reconstruction_terms,
)
from ._docs import with_shared_parameters
from ._engine import apply_module
from ._labels import embedding_centers
from .losses import info_nce
from .nn import MLP, CrossViewRecalibration, build_autoencoders, encode_views, init_weights
from .nn.missing import CrossViewPredictor, fill_missing, term_on_present

__all__ = ["CRRCClustering"]


class CRRCOutput(NamedTuple):
    """What CRRC's network returns, by name: per view the latent z^v and its
    reconstruction, the global representation H, the view representations R^v and the
    recalibrated R̂^v."""

    latents: list
    reconstructions: list
    global_representation: torch.Tensor
    view_representations: list
    recalibrated: list


class _CRRCNetwork(nn.Module):
    """Autoencoders, global fusion MLP (H), per-view MLPs (R^v), recalibration, centroids."""

    def __init__(
        self,
        view_shapes,
        n_clusters,
        encoder_layers,
        latent_dim,
        feature_dim,
        fusion_hidden,
        gate_hidden,
        use_attention,
        use_gate,
        use_residual,
        autoencoder_factory,
        conv_images,
    ):
        super().__init__()
        n_views = len(view_shapes)
        self.autoencoders = build_autoencoders(
            view_shapes, encoder_layers, latent_dim, autoencoder_factory, conv_images
        )
        self.global_mlp = MLP(
            n_views * latent_dim, [fusion_hidden, feature_dim], activate_last=False
        )
        self.view_mlps = nn.ModuleList(nn.Linear(latent_dim, feature_dim) for _ in view_shapes)
        self.recalibration = CrossViewRecalibration(
            feature_dim, gate_hidden, use_attention, use_gate, use_residual
        )
        # k-means centroids of the normalised H of the training data, set after training.
        self.register_buffer("centroids", torch.zeros(n_clusters, feature_dim))
        # A CrossViewPredictor (``view_prediction_weight > 0``), attached after initialisation.
        self.predictor = None

    def _fused(self, zs, observed):
        """H from the latents: a missing view's latent enters as the predictor's estimate,
        or, without a predictor, as the mean of the sample's present latents."""
        if self.predictor is not None:
            zs = self.predictor(zs, observed)
        return self.global_mlp(torch.cat(fill_missing(zs, observed), dim=1))

    def forward(self, views, observed=None) -> CRRCOutput:
        """The latents z^v, reconstructions, the global H, the view representations R^v
        and the recalibrated R̂^v; no complement is drawn from a missing view."""
        zs, recons = zip(*(ae(x) for ae, x in zip(self.autoencoders, views)))
        h = self._fused(zs, observed)
        rs = [mlp(z) for mlp, z in zip(self.view_mlps, zs)]
        return CRRCOutput(list(zs), list(recons), h, rs, self.recalibration(h, rs, observed))

    def global_representation(self, views, observed=None):
        return self._fused(encode_views(self.autoencoders, views), observed)


@with_shared_parameters
class CRRCClustering(AutoencoderClustering):
    """CRRC: contrast a global representation with residually recalibrated view
    representations, then cluster the global representation by k-means.

    Each view has an autoencoder; the latents are fused by an MLP into a global H (Eq. 3)
    and mapped per view to R^v (Eq. 4). Each R^v is recalibrated with the other views'
    representations, weighted by attention against H (Eqs. 9–10) and let through by a
    dynamic gate (Eq. 7): ``R̂^v = R^v + g_v ⊙ G^v`` (Eq. 11). H is contrasted with every
    R̂^v (Eqs. 12–13) and, by default, with every R^v as well (``view_contrast_weight``,
    see Notes), next to the reconstruction loss. Labels come from k-means on the
    normalised H of the training data (Eq. 14); new samples go to the nearest centroid.
    (Anonymous, "Residual cross-view learning for deep multi-view clustering", ICLR 2026
    submission.)

    Needs at least two views. With two views the attention has one candidate (α = 1) and
    the gate still acts.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    pretrain_epochs : int or "auto", default="auto"
        Autoencoder pre-training epochs. ``"auto"`` (a departure from the paper's 200, see
        Notes): 200 on sets of up to 1 600 samples; on larger ones as many as keep the
        stage at 320 000 samples passed through the network, but at least 64 (160 epochs of
        2 000 samples, 64 of 5 000 or more; :func:`skmvc.base.resolve_epochs`);
        ``pretrain_epochs=200`` is the paper's.
    max_epochs : int or "auto", default="auto"
        Epochs of training on the total loss. ``"auto"``: the paper's 50 on sets of up to
        2 000 samples; on larger ones at most 100 000 samples, but at least 20 epochs (40 of
        2 500 samples, 20 of 5 000 or more); ``max_epochs=50`` is the paper's.
    batch_size : int or "auto", default="auto"
        Samples per mini-batch. ``"auto"`` (a departure from the paper's 256, see Notes):
        64 when the training set has fewer than 1 024 samples or fewer than 32 a cluster,
        else 256 (:func:`skmvc.base.resolve_batch_size`); ``batch_size=256`` is the paper's.
    lr : float, default=3e-4
        Adam learning rate, one optimiser for both stages (paper).
    temperature : float, default=0.5
        τ of the contrast (the paper's sensitivity study finds 0.5–1 stable).
    view_contrast_weight : float, default=1.0
        Weight of the contrast of H with each view's own representation R^v, added to the
        paper's contrast of H with the recalibrated R̂^v. ``0`` is Eqs. 12–13 as written,
        which does not learn a consistent H (see Notes).
    view_prediction_weight : float, default=0.0
        For samples with missing views (not in the paper; ``0`` turns it off): the network
        gets a :class:`skmvc.nn.missing.CrossViewPredictor`, one MLP a view that predicts
        its latent z^v from the mean of the sample's other present latents, and the loss
        gets its prediction error, over the samples that have the view and another one,
        times this weight (term ``view_prediction``). The term trains the predictor and
        the encoders alike, so that each view's latent becomes predictable from the
        others, as in COMPLETER's dual prediction. A missing view's latent then enters H as
        its prediction instead of the mean of the present latents. When every training
        sample has every view the predictor is not trained and the fit is that of ``0``,
        label for label (a view missing at predict time is then filled with the mean).
        Off by default: at missing rate 0.5 (3 seeds) weight 1 raised ACC on Scene-15
        (0.379 → 0.403) and Prokaryotic (0.497 → 0.527) but lowered it on MSRC-v1 (0.765
        → 0.719) and Handwritten (0.860 → 0.822); weight 0.1 did the same on a smaller
        scale (Scene-15 0.396, MSRC-v1 0.746, Handwritten 0.830) and lost 0.094 on MSRC-v1
        at rate 0.7, so no rule turns it on by itself (``docs/benchmarks.md``, "Missing
        views").
    encoder_layers : tuple of int or "auto", default=(500, 500, 2000)
        Hidden widths of each view's encoder; the decoder mirrors them.
        ``"auto"`` narrows them in proportion for a view of fewer than 125 features, so
        that its first hidden layer is four times as wide as the view (at least 64 units;
        :func:`skmvc.nn.view_sized_layers`): a 27-feature view gets 108-108-432, about a
        tenth of the work a sample. A wider view keeps the papers' network.
    latent_dim : int, default=64
        Width of the latents z^v.
    feature_dim : int, default=20
        Width of H and of every R^v.
    fusion_hidden : int, default=256
        Hidden width of the global fusion MLP (``V·64 → 256 → 20``).
    gate_hidden : int, default=128
        Hidden width of the gate (``40 → 128 → 20``).
    epoch_selection : {"stability", "last"}, default="stability"
        Which weights the training stage ends with. ``"last"``: its last epoch's (the
        paper). ``"stability"`` (a departure, see Notes): before the stage's first epoch,
        every 5 epochs and at the last, how reproducibly k-means partitions the
        normalised H is read (:func:`skmvc.metrics.kmeans_stability`, 4 runs on at most
        2000 training samples; no labels); the last epoch is kept unless its reading is
        more than 0.1 below the best, and then the earliest best-reading epoch is (0: the
        pre-trained weights). Long contrastive training can dissolve the clusters of H,
        where k-means then finds no stable partition (BDGP, WebKB; see Notes).
    use_attention, use_gate, use_residual : bool, default=True
        Switch off the attention-based cross-view weighting (uniform weights), the dynamic
        gate (g = 1), or the residual fusion (a learned linear map of ``[R^v; g ⊙ G^v]``
        instead of the sum): the paper's ablations (Table 2).
    image_autoencoder : {"conv", "mlp"}, default="conv"
        The built-in autoencoder of an image view ``(C, H, W)``, as in
        :class:`skmvc.CMMCClustering`: ``"conv"``, a :class:`skmvc.nn.ConvAutoencoder`
        (a departure, see Notes); ``"mlp"``, the view flattened for the paper's MLP
        autoencoder. Vector views always take the MLP autoencoder.
    <shared parameters>

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, feature_dim)
        k-means centroids of the L2-normalised H of the training data.
    labels_, n_views_, n_features_in_, n_features_per_view_, view_shapes_, module_, \
n_iter_, init_losses_, init_collapsed_, selection_scores_, device_, \
view_patterns_, pattern_centers_
        As in :class:`skmvc.CONANClustering`. ``history_`` has the stages ``pretrain``
        (``reconstruction``) and ``train`` (``reconstruction``, ``contrast`` — the one with
        R̂^v —, ``view_contrast``, and ``view_prediction`` when
        ``view_prediction_weight > 0`` and some views are missing).
    loss_ : float
        The total loss of the kept restart on the training data, in eval mode
        (``loss_ == -score(X_train)``).

    Notes
    -----
    There is no ``predict_proba``: the labels are hard k-means assignments.

    **A deviation from the paper's equations, on by default.** Eq. 12 contrasts H only with
    the recalibrated ``R̂^v = R^v + g_v ⊙ G^v``, and each R̂^v already mixes in the other
    views. Trained that way (``view_contrast_weight=0``), H can match every R̂^v without the
    views agreeing: the views' representations drift apart (mean cosine of R^1 and R^2 at
    or below 0, gates opening towards 1) and k-means on H reaches 0.46 ACC on MNIST-USPS
    with the paper's schedule, against the reported 0.997 (the default: 0.997). Yet the
    paper's ablation (its Table 3) reaches ≥ 0.994 on MNIST-USPS with any one module kept,
    residual fusion alone included (0.996), where both views' targets are the same
    ``R^1 + R^2`` and Eq. 12 cannot make the views agree; so the authors' (unpublished)
    code must tie H to each view by another term. We assume it is the contrast of H with
    each R^v of CRRC's base method (SCMVC), which this estimator adds with weight
    ``view_contrast_weight``. The measurements behind this are in ``docs/benchmarks.md``
    (``benchmarks/studies/crrc_diagnostics.py``).

    **A second departure, on by default: which epoch the training stage ends with**
    (``epoch_selection="stability"``; ``"last"`` is the paper). On BDGP, not a data set of
    the paper, the contrast of the training stage first sharpens H's clusters and then
    dissolves them: k-means on H finds 0.99 ACC after 6 of its epochs
    and 0.45 after 45, and its runs stop agreeing with each other (their mean NMI falls
    from 1.0 to 0.3) while the loss still falls. With the paper's last epoch CRRC scores
    0.45 ± 0.04 on BDGP (3 seeds), where its base method's code scores 0.99 (choosing
    its epoch by the labels); keeping the
    epoch whose H k-means partitions most reproducibly (read every 5 epochs, no labels,
    and only when the last epoch's reading is more than 0.1 below the best) scores
    0.97 ± 0.02. On the other development sets it was better or the same. The reading
    before the first epoch lets the stage end where it began, with the pre-trained
    autoencoders' H: on WebKB the first contrastive epochs undo the clusters that
    pre-training found (k-means on H: 0.97 ACC after the stage's first epoch, 0.67 after
    its second), and ending with the pre-trained weights took CRRC from 0.73 ± 0.12 to
    0.93 ± 0.02 (k-means on the views: 0.90). It costs BDGP one seed (0.98 → 0.88; the
    set's mean is now 0.94 ± 0.04) and Reuters-1200 one (0.57 → 0.51), and left six
    other sets the same, seed by seed.
    Where the last epoch's H is about as stable as any, the fit is the paper's, to the
    bit. The development-suite figures for each set are in ``benchmarks/studies/README.md`` ("CRRC:
    which epoch the training stage ends with").

    **A third departure, on by default: small sets train in smaller batches**
    (``batch_size="auto"``; ``batch_size=256`` is the paper). Below 1 024 samples the
    paper's batches of 256 leave one to three optimiser steps an epoch; batches of 64 give
    three to four times as many. On the five development sets below that size (3 seeds
    each) this took MSRC-v1 from 0.79 to 0.85 (k-means on the views: 0.81), COIL20-3V
    from 0.83 to 0.92, BBCSport from 0.55 to 0.66 and Prokaryotic from 0.554 to 0.560;
    ProteinFold went from 0.304 to 0.297 (within the spread, still above k-means' 0.285).
    Larger sets, which are coarse partitions of hundreds of samples a cluster, train as
    before: batches of 64 lost there (WebKB, one seed of two 0.933 → 0.565; Reuters-1200,
    one seed, 0.505 → 0.458). A large set of fine clusters, fewer than 32 samples each
    on average (as MSRC-v1, COIL20-3V and ProteinFold have), takes the small batches too:
    on 100Leaves (1 600 samples, 100 clusters) they took CRRC from 0.890 to 0.937
    (k-means 0.898), at five to seven times the fit time (``benchmarks/studies/README.md``,
    "Batches on small sets").

    **A fourth departure, on by default: shorter schedules on large sets**
    (``pretrain_epochs="auto"``, ``max_epochs="auto"``; ``200`` and ``50`` are the paper).
    Early stopping does not end the reconstruction pre-training, whose loss keeps falling
    slowly, so the paper's 200 + 50 epochs took about five minutes for 5 000 samples of two
    784-d views on 2 CPU cores. ``"auto"`` keeps 200 + 50 up to 1 600 samples and passes at
    most 320 000 + 100 000 samples through the network above, with a floor of 64 + 20
    epochs (reached at 5 000 samples): a default fit of MNIST-USPS took 131 s on two
    threads, with ACC 0.992 ± 0.001 (3 seeds) against 0.994 ± 0.000. On the other
    development sets above 1 600 samples (3 seeds each): BDGP 0.960 ± 0.008 against
    0.935 ± 0.042, Handwritten 0.830 ± 0.028 against 0.822 ± 0.027, Scene-15 0.410 ±
    0.011 against 0.417 ± 0.046, Edge-FashionMNIST 0.500 ± 0.016 against 0.494 ± 0.026;
    Edge-MNIST loses, 0.403 ± 0.011 against 0.470 (one seed; k-means 0.512); with 32 + 10
    epochs it scored 0.377 and 0.409, hence the floor. The ten development sets of up to
    1 600 samples train exactly as before (``benchmarks/studies/README.md``, "Schedules on large
    sets").

    **A fifth departure, on by default: image views get a convolutional autoencoder**
    (``image_autoencoder="conv"``; ``"mlp"``, the view flattened, is the paper's network).
    A view given as images ``(C, H, W)`` is encoded by CONAN's small CNN and a linear map
    to the latent (:class:`skmvc.nn.ConvAutoencoder`), with the same MLP decoder; vector
    views are unchanged. On Edge-MNIST (10 000 samples, two 1×28×28 views) the MLP
    autoencoder did not beat the pixels: CRRC scored 0.403 ± 0.011 against k-means'
    0.512, and with the CNN 0.501 ± 0.067 in the development suite (3 seeds; 0.538 ±
    0.024 over three other initialisations; NMI 0.447 against 0.358).
    On Edge-FashionMNIST ACC rose from 0.500 ± 0.016 to 0.549 ± 0.036 (k-means 0.491), but
    NMI fell from 0.526 to 0.473 (k-means 0.513). A fit on images costs about six times
    one on flat views: 78–93 minutes for 10 000 samples of an Edge set on one thread
    beside two to four other fits, against 9–15 minutes (``benchmarks/studies/README.md``, "Edge
    sets with image views").

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc import CRRCClustering
    >>> rng = np.random.RandomState(0)
    >>> views = [rng.rand(60, 5), rng.rand(60, 3)]
    >>> model = CRRCClustering(n_clusters=3, pretrain_epochs=1, max_epochs=1,
    ...                        encoder_layers=(16,), latent_dim=8, feature_dim=4,
    ...                        random_state=0, device="cpu").fit(views)
    >>> model.labels_.shape, model.cluster_centers_.shape, model.transform(views).shape
    ((60,), (3, 4), (60, 4))
    """

    _has_proba = False
    _auto_batch_fine_partitions = True
    # A ConvAutoencoder for image views: a departure from the paper's MLP.
    _takes_images = True
    _schedules = {
        "paper": dict(AUTOENCODER_PAPER, image_autoencoder="mlp"),
        "quick": dict(pretrain_epochs=10, max_epochs=10),
    }

    _parameter_constraints: dict = {
        **AutoencoderClustering._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "view_contrast_weight": [Interval(Real, 0, None, closed="left")],
        "view_prediction_weight": [Interval(Real, 0, None, closed="left")],
        "feature_dim": [Interval(Integral, 1, None, closed="left")],
        "fusion_hidden": [Interval(Integral, 1, None, closed="left")],
        "gate_hidden": [Interval(Integral, 1, None, closed="left")],
        "use_attention": ["boolean"],
        "use_gate": ["boolean"],
        "use_residual": ["boolean"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        pretrain_epochs="auto",
        max_epochs="auto",
        batch_size="auto",
        lr=3e-4,
        temperature=0.5,
        view_contrast_weight=1.0,
        view_prediction_weight=0.0,
        encoder_layers=PAPER_ENCODER_LAYERS,
        latent_dim=64,
        feature_dim=20,
        fusion_hidden=256,
        gate_hidden=128,
        epoch_selection="stability",
        use_attention=True,
        use_gate=True,
        use_residual=True,
        autoencoder_factory=None,
        image_autoencoder="conv",
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
        views_on_device="auto",
    ):
        self.n_clusters = n_clusters
        self.pretrain_epochs = pretrain_epochs
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.temperature = temperature
        self.view_contrast_weight = view_contrast_weight
        self.view_prediction_weight = view_prediction_weight
        self.encoder_layers = encoder_layers
        self.latent_dim = latent_dim
        self.feature_dim = feature_dim
        self.fusion_hidden = fusion_hidden
        self.gate_hidden = gate_hidden
        self.epoch_selection = epoch_selection
        self.use_attention = use_attention
        self.use_gate = use_gate
        self.use_residual = use_residual
        self.autoencoder_factory = autoencoder_factory
        self.image_autoencoder = image_autoencoder
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
        self.views_on_device = views_on_device

    def _build_module(self, view_shapes, generator):
        module = _CRRCNetwork(
            view_shapes,
            self.n_clusters,
            self._view_layers(view_shapes),
            self.latent_dim,
            self.feature_dim,
            self.fusion_hidden,
            self.gate_hidden,
            self.use_attention,
            self.use_gate,
            self.use_residual,
            self.autoencoder_factory,
            self.image_autoencoder == "conv",
        )
        module = self._initialise(module, generator)
        if self.view_prediction_weight > 0:
            # From a generator of its own: ``generator`` goes on to draw the batches, which
            # stay those of a fit without the predictor.
            predictor = CrossViewPredictor(len(view_shapes), self.latent_dim, self.latent_dim)
            seed = torch.Generator().manual_seed(generator.initial_seed() + 1)
            module.predictor = init_weights(predictor, seed)
        return module

    # ------------------------------------------------------------------ losses
    def _objective(self, module, batch):
        """Eq. 13: reconstruction + Σ_v InfoNCE(H → R̂^v), plus
        ``view_contrast_weight · Σ_v InfoNCE(H → R^v)`` and, with a predictor and missing
        views, ``view_prediction_weight ·`` its prediction error."""
        observed = batch.observed
        out = module(batch.views, observed)
        zs, recons, h = out.latents, out.reconstructions, out.global_representation
        rs, recalibrated = out.view_representations, out.recalibrated
        rec = reconstruction_terms(batch, recons)
        nce = partial(info_nce, temperature=self.temperature)  # over the samples with view v
        contrast = sum(
            term_on_present(nce, observed, v, h, r, min_rows=2) for v, r in enumerate(recalibrated)
        )
        view_contrast = sum(
            term_on_present(nce, observed, v, h, r, min_rows=2) for v, r in enumerate(rs)
        )
        terms = {
            "loss": rec + contrast + self.view_contrast_weight * view_contrast,
            "reconstruction": rec,
            "contrast": contrast,
            "view_contrast": view_contrast,
        }
        if module.predictor is not None and observed is not None:
            terms["view_prediction"] = module.predictor.loss(zs, observed)
            terms["loss"] = terms["loss"] + self.view_prediction_weight * terms["view_prediction"]
        return terms

    def _stages_after_pretraining(self, module, data, seed, optimizers):
        selection = self._epoch_selection(module, data, seed)
        epochs = self._stage_epochs("max_epochs", len(data))
        return [
            self._adam_stage("train", epochs, self._objective, module, optimizers, **selection)
        ]

    _extra_fitted_attributes = ("cluster_centers_",)

    def _fitted_extras(self, module, data, seed):
        """Eq. 14: k-means on the normalised H of the training data (fitted on at most
        ``skmvc._labels.KMEANS_MAX_SAMPLES`` of them); keep the centroids."""
        centers = embedding_centers(self, module, data, seed, l2_normalise=True)
        module.centroids.copy_(torch.as_tensor(centers))
        return {"cluster_centers_": centers}

    # ------------------------------------------------------------------ inference
    def _embedding(self, module, batch):
        return module.global_representation(batch.views, batch.observed)

    def _nearest_centroid(self, module, batch):
        h = F.normalize(module.global_representation(batch.views, batch.observed), dim=1)
        return torch.cdist(h, module.centroids).argmin(dim=1)

    def _module_labels(self, module, data, centers=None, rows=None):
        # The centroids live in the module (``module.centroids``).
        labels = apply_module(
            self._nearest_centroid, module, data, self._batch_size(data), order=rows
        )
        return labels.astype(np.int64)
