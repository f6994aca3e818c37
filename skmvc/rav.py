"""RAV: Relationship Alignment for View-aware multi-view clustering (``specs/rav.md``)."""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real
from typing import NamedTuple

import torch
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
from ._labels import ASSIGN_LABELS_CONSTRAINT
from ._schedules import AutoEpochs
from .losses import (
    cluster_contrast,
    cluster_entropy,
    relation_alignment_loss,
    view_distance_weights,
)
from .nn import MLP, build_autoencoders, encode_views, normalized_concatenation
from .nn.missing import mean_over_present, term_on_pairs, term_on_present

__all__ = ["RAVClustering", "weighted_label_contrast"]


class RAVOutput(NamedTuple):
    """What RAV's network returns, by name: per view, the latent z^v, its reconstruction
    and the soft labels Q^v."""

    latents: list
    reconstructions: list
    labels: list


class _RAVNetwork(nn.Module):
    """Per-view autoencoders and a shared label MLP."""

    def __init__(
        self,
        view_shapes,
        n_clusters,
        encoder_layers,
        latent_dim,
        hidden_dim,
        autoencoder_factory,
        conv_images=False,
    ):
        super().__init__()
        self.autoencoders = build_autoencoders(
            view_shapes, encoder_layers, latent_dim, autoencoder_factory, conv_images
        )
        self.label = MLP(latent_dim, [hidden_dim, n_clusters], activate_last=False)

    def forward(self, views):
        """Latents z^v, reconstructions and soft labels Q^v."""
        zs, recons = zip(*(ae(x) for ae, x in zip(self.autoencoders, views)))
        qs = [torch.softmax(self.label(z), dim=1) for z in zs]
        return RAVOutput(list(zs), list(recons), qs)


def weighted_label_contrast(qs, weights, temperature: float, observed=None) -> torch.Tensor:
    """RAV's view-aware label contrast without its entropy term.

    ``½ Σ_v Σ_{u≠v} ½ (w^{(v,u)} + w^{(u,v)}) ℓ^{(v,u)}``, with ``ℓ^{(v,u)}`` the
    one-directional cluster-column contrast from the columns of Q^v to those of Q^v and Q^u.

    Parameters
    ----------
    qs : sequence of torch.Tensor of shape (B, K)
    weights : torch.Tensor of shape (V, V) or None
        ``None`` weighs every pair by one (the paper's ablation without W).
    temperature : float
        τ_L.
    observed : torch.Tensor of bool of shape (B, V) or None
        Which views each sample has; each pair's term runs over the samples with both.
    """
    total = 0.0
    contrast = partial(cluster_contrast, temperature=temperature, both_directions=False)
    n_views = len(qs)
    for v in range(n_views):
        for u in range(n_views):
            if u == v:
                continue
            pair = 1.0 if weights is None else 0.5 * (weights[v, u] + weights[u, v])
            total = total + pair * term_on_pairs(
                contrast, observed, v, u, qs[v], qs[u], min_rows=2
            )
    return 0.5 * total


@with_shared_parameters
class RAVClustering(AutoencoderClustering):
    """RAV: relationship alignment and view-aware weighted label contrast.

    Each view has an autoencoder; a shared label MLP turns every latent into soft labels
    Q^v. Per batch, each view's relation matrix (Gaussian kernel between samples) is aligned
    with the global one computed on all views (L_S, "global supervises local"), and the
    cluster columns of the Q^v are contrasted across views, each pair weighted by how close
    the two views' latent distributions are (L_Q, weights from a mean-distance "Wasserstein"
    between views). Loss: ``L_REC + λ1 L_Q + λ2 L_S``; labels: argmax of the view-averaged
    soft labels (k-means on the embedding where that partition collapses; see
    ``assign_labels``). Only a detailed summary of the paper (ICLR 2026) is available; the choices
    marked *assumption* below are skmvc's readings of it, each a parameter.

    Needs at least two views.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    pretrain_epochs : int or "auto", default="auto"
        Autoencoder pre-training epochs (200, as MFLVC, the authors' base code). ``"auto"``
        (a departure, see ``assign_labels`` below): 200 on sets of up to 1 200 samples; on
        larger ones as many as keep the stage at 240 000 samples passed through the
        network, but at least 48 (120 epochs of 2 000 samples, 48 of 5 000 or more;
        :func:`skmvc.base.resolve_epochs`).
    max_epochs : int or "auto", default="auto"
        Joint-training epochs (*assumption*: 50, not stated). ``"auto"``: 50 on sets of up
        to 1 500 samples, on larger ones at most 75 000 samples but at least 15 epochs.
    batch_size : int or "auto", default="auto"
        Samples per mini-batch. ``"auto"`` takes 64 when the training set has fewer than
        1 024 samples, else 256 (:func:`skmvc.base.resolve_batch_size`; also CRRC's
        default); ``batch_size=256`` is the paper summary's (and the ``paper`` profile's).
        On the five development sets below 1 024 samples (3 seeds) batches of 64 gained on
        MSRC-v1 (0.557 → 0.803), Prokaryotic (0.525 → 0.551) and ProteinFold (0.200 →
        0.274) and lost on COIL20-3V (0.881 → 0.833) and BBCSport (0.770 → 0.714), where
        RAV stays far above k-means (0.744, 0.474): none of the five is below 0.9 × k-means,
        against two with 256 (benchmarks/studies/README.md, "Batches on small sets").
    lr : float, default=3e-4
        Adam learning rate, one optimiser for both stages (summary).
    label_weight : float, default=1.0
        λ1, weight of L_Q. The paper tunes it per data set in [1e-5, 1e3] and gives no
        default; 1.0 is skmvc's choice from the sweep in ``benchmarks/studies/rav_sweep.py``.
    relation_weight : float, default=0.1
        λ2, weight of L_S (paper range [1e-5, 1]); chosen by the same sweep.
    feature_temperature : float, default=0.5
        τ_F of the relation alignment (summary).
    label_temperature : float, default=0.5
        τ_L of the label contrast (summary).
    sigma : float, default=1.0
        σ of the relation kernel (summary).
    normalize_latents : bool, default=True
        *Assumption*: L2-normalise the latents before the relation kernels and the view
        distances (on raw 512-d latents a σ = 1 kernel is nearly the identity).
    scale_global_distance : bool, default=True
        *Assumption*: divide the global relation matrix's squared distances by V so their
        scale matches the views'.
    use_view_weights : bool, default=True
        ``False`` weighs every view pair by one (the paper's ablation "w/o W").
    epoch_selection : {"last", "stability"}, default="last"
        Which weights the training stage ends with, as in :class:`skmvc.CRRCClustering`:
        ``"last"``, its last epoch's (the paper); ``"stability"``, its last epoch's unless
        how reproducibly k-means partitions the embedding (the concatenated normalised
        latents; read before the first epoch, every 5 epochs and at the last; no labels)
        is more than 0.1 below its best reading, and then the earliest best-reading
        epoch's.
    encoder_layers : tuple of int or "auto", default=(500, 500, 2000)
        *Assumption* (as CMMC): hidden widths of each view's encoder; the decoder mirrors
        them.
        ``"auto"`` narrows them in proportion for a view of fewer than 125 features, so
        that its first hidden layer is four times as wide as the view (at least 64 units;
        :func:`skmvc.nn.view_sized_layers`): a 27-feature view gets 108-108-432, about a
        tenth of the work a sample. A wider view keeps the papers' network.
    latent_dim : int, default=512
        *Assumption* (as CMMC): width of the latents.
    hidden_dim : int, default=512
        *Assumption*: hidden width of the label MLP (``512 → 512 → K``).
    image_autoencoder : {"mlp", "conv"}, default="mlp"
        The built-in autoencoder of an image view ``(C, H, W)``: ``"mlp"`` flattens it for
        the MLP autoencoder (the paper's network); ``"conv"`` encodes it with a
        :class:`skmvc.nn.ConvAutoencoder`, as :class:`skmvc.CRRCClustering` does by
        default; not yet measured for RAV.
    <shared parameters>
    assign_labels : {"head", "kmeans", "auto"}, default="auto"
        As in :class:`skmvc.CONANClustering`. ``assign_labels="auto"`` (the head, unless
        its partition collapsed or samples miss views; then k-means on the embedding) is
        a **departure from the paper** (the head, ``"head"``): on 100Leaves (100 classes)
        RAV's head left about 8 of 100 clusters empty and scored 0.371 ± 0.026 ACC (seeds
        0–2), k-means on the same networks' embedding 0.665 ± 0.027
        (``benchmarks/studies/assign_labels.py``; benchmarks/studies/README.md, "A collapsed
        head"). With
        missing views (rate 0.5, MSRC-v1 and Prokaryotic, 3 seeds) ``"auto"`` scored 0.552
        and 0.492 against the head's 0.554 and 0.497, within the spread over seeds
        (docs/benchmarks.md, "Missing views").

        ``"auto"`` epochs are a second departure: early stopping does not end the
        reconstruction pre-training, so 200 + 50 epochs took about ten minutes (estimate
        from the time of an epoch) for 5 000 samples of two 784-d views on 2 CPU cores;
        ``"auto"`` keeps them up to 1 200 samples and shortens both stages above, to 48 +
        15 epochs at 5 000 samples, where a default fit of MNIST-USPS took 141 s alone on
        two threads (183 s with CRRC's longer budgets). ``pretrain_epochs=200,
        max_epochs=50`` and the ``paper`` profile give the long schedule
        (benchmarks/studies/README.md, "Schedules on large sets", has the ACC on the larger sets).

    Attributes
    ----------
    view_weights_ : ndarray of shape (n_views, n_views)
        The view-aware weights W (rows sum to one; larger for closer views), averaged over
        the batches of the training set after training.
    labels_, n_views_, n_features_in_, n_features_per_view_, view_shapes_, module_, \
n_iter_, init_losses_, init_collapsed_, selection_scores_, device_, \
cluster_centers_, view_patterns_, pattern_centers_
        As in :class:`skmvc.CONANClustering`. ``history_`` has the stages ``pretrain``
        (``reconstruction``) and ``train`` (``reconstruction``, ``label_contrast``,
        ``entropy``, ``relation``).
    loss_ : float
        The total loss of the kept restart on the training data, in eval mode
        (``loss_ == -score(X_train)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc import RAVClustering
    >>> rng = np.random.RandomState(0)
    >>> views = [rng.rand(60, 5), rng.rand(60, 3)]
    >>> model = RAVClustering(n_clusters=3, pretrain_epochs=1, max_epochs=1,
    ...                       encoder_layers=(16,), latent_dim=8, hidden_dim=8,
    ...                       random_state=0, device="cpu").fit(views)
    >>> model.labels_.shape, model.view_weights_.shape
    ((60,), (2, 2))
    """

    #: ``"auto"`` epochs: the paper's 200 + 50 on sets of up to 1 200 samples, 48 + 15 on
    #: 5 000 or more (RAV's epochs cost about 1.3 times CRRC's; benchmarks/studies/README.md,
    #: "Schedules on large sets").
    _auto_epochs: dict = {
        "pretrain_epochs": AutoEpochs(200, 240_000, 48),
        "max_epochs": AutoEpochs(50, 75_000, 15),
    }

    _parameter_constraints: dict = {
        **AutoencoderClustering._parameter_constraints,
        **ASSIGN_LABELS_CONSTRAINT,
        "label_weight": [Interval(Real, 0, None, closed="left")],
        "relation_weight": [Interval(Real, 0, None, closed="left")],
        "feature_temperature": [Interval(Real, 0, None, closed="neither")],
        "label_temperature": [Interval(Real, 0, None, closed="neither")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "normalize_latents": ["boolean"],
        "scale_global_distance": ["boolean"],
        "use_view_weights": ["boolean"],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        pretrain_epochs="auto",
        max_epochs="auto",
        batch_size="auto",
        lr=3e-4,
        label_weight=1.0,
        relation_weight=0.1,
        feature_temperature=0.5,
        label_temperature=0.5,
        sigma=1.0,
        normalize_latents=True,
        scale_global_distance=True,
        use_view_weights=True,
        epoch_selection="last",
        encoder_layers=PAPER_ENCODER_LAYERS,
        latent_dim=512,
        hidden_dim=512,
        autoencoder_factory=None,
        image_autoencoder="mlp",
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
        assign_labels="auto",
        views_on_device="auto",
    ):
        self.n_clusters = n_clusters
        self.pretrain_epochs = pretrain_epochs
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.label_weight = label_weight
        self.relation_weight = relation_weight
        self.feature_temperature = feature_temperature
        self.label_temperature = label_temperature
        self.sigma = sigma
        self.normalize_latents = normalize_latents
        self.scale_global_distance = scale_global_distance
        self.use_view_weights = use_view_weights
        self.epoch_selection = epoch_selection
        self.encoder_layers = encoder_layers
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
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
        self.assign_labels = assign_labels
        self.views_on_device = views_on_device

    def _build_module(self, view_shapes, generator):
        module = _RAVNetwork(
            view_shapes,
            self.n_clusters,
            self._view_layers(view_shapes),
            self.latent_dim,
            self.hidden_dim,
            self.autoencoder_factory,
            self.image_autoencoder == "conv",
        )
        return self._initialise(module, generator)

    # ------------------------------------------------------------------ losses
    def _objective(self, module, batch):
        """``L_REC + λ1 L_Q + λ2 L_S`` on a batch."""
        observed = batch.observed
        out = module(batch.views)
        zs, recons, qs = out.latents, out.reconstructions, out.labels
        rec = reconstruction_terms(batch, recons)
        weights = (
            view_distance_weights(zs, self.normalize_latents, observed)
            if self.use_view_weights
            else None
        )
        label = weighted_label_contrast(qs, weights, self.label_temperature, observed)
        entropy = sum(term_on_present(cluster_entropy, observed, v, q) for v, q in enumerate(qs))
        relation = relation_alignment_loss(
            zs,
            self.sigma,
            self.feature_temperature,
            self.normalize_latents,
            self.scale_global_distance,
            observed=observed,
        )
        return {
            "loss": rec + self.label_weight * (label + entropy) + self.relation_weight * relation,
            "reconstruction": rec,
            "label_contrast": label,
            "entropy": entropy,
            "relation": relation,
        }

    def _stages_after_pretraining(self, module, data, seed, optimizers):
        selection = self._epoch_selection(module, data, seed)
        epochs = self._stage_epochs("max_epochs", len(data))
        return [
            self._adam_stage("train", epochs, self._objective, module, optimizers, **selection)
        ]

    _extra_fitted_attributes = ("view_weights_",)
    _schedules = {
        "paper": dict(AUTOENCODER_PAPER, assign_labels="head"),
        "quick": dict(pretrain_epochs=10, max_epochs=10),
    }

    def _fitted_extras(self, module, data, seed):
        """W averaged over the batches of the training set (weighted by batch size)."""
        weights = apply_module(
            lambda m, batch: view_distance_weights(
                encode_views(m.autoencoders, batch.views),
                self.normalize_latents,
                batch.observed,
            )[None].expand(len(batch.index), -1, -1),
            module,
            data,
            self._batch_size(data),
        )
        return {"view_weights_": weights.mean(axis=0)}

    # ------------------------------------------------------------------ inference
    def _soft_assignments(self, module, batch):
        return mean_over_present(module(batch.views).labels, batch.observed)

    def _embedding(self, module, batch):
        """The concatenated L2-normalised latents."""
        zs = encode_views(module.autoencoders, batch.views)
        return normalized_concatenation(zs, batch.observed, missing="mean")
