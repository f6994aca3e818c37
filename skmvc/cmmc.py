"""CMMC: Contrastive Multi-Modal Clustering (``specs/cmmc.md``)."""

from __future__ import annotations

from functools import partial
from itertools import combinations
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._autoencoder import (
    AUTOENCODER_PAPER,
    PAPER_ENCODER_LAYERS,
    AutoencoderClustering,
    reconstruction_terms,
)
from ._docs import with_shared_parameters
from ._engine import apply_module
from ._labels import ASSIGN_LABELS_CONSTRAINT, KMEANS_N_INIT
from ._schedules import AutoEpochs
from .losses import cluster_contrast, cluster_entropy, nt_xent
from .nn import MLP, build_autoencoders, normalized_concatenation
from .nn.missing import mean_over_present, term_on_pairs, term_on_present

__all__ = ["CMMCClustering"]


class CMMCOutput(NamedTuple):
    """What CMMC's network returns, by name: per view, the latent z^v, its
    reconstruction, the high-level feature h^v and the soft labels Q^v."""

    latents: list
    reconstructions: list
    features: list
    labels: list


class _CMMCNetwork(nn.Module):
    """Per-view autoencoders, a shared feature module F and a shared label module L."""

    def __init__(
        self,
        view_shapes,
        n_clusters,
        encoder_layers,
        latent_dim,
        feature_dim,
        hidden_dim,
        autoencoder_factory=None,
        conv_images=False,
    ):
        super().__init__()
        self.autoencoders = build_autoencoders(
            view_shapes, encoder_layers, latent_dim, autoencoder_factory, conv_images
        )
        self.feature = MLP(latent_dim, [hidden_dim, feature_dim], activate_last=False)
        self.label = MLP(latent_dim, [hidden_dim, n_clusters], activate_last=False)
        # Matched pseudo-labels of the training samples (n_samples, n_views), set before
        # fine-tuning; a plain attribute, not part of the model's state.
        self.pseudo_labels = None

    def forward(self, views):
        """Latents z^v, reconstructions, high-level features h^v and soft labels Q^v."""
        zs, recons = zip(*(ae(x) for ae, x in zip(self.autoencoders, views)))
        hs = [self.feature(z) for z in zs]
        qs = [torch.softmax(self.label(z), dim=1) for z in zs]
        return CMMCOutput(list(zs), list(recons), hs, qs)


def match_pseudo_labels(pseudo: np.ndarray, predicted: np.ndarray, n_clusters: int) -> np.ndarray:
    """Rename the k-means pseudo-labels into the label module's clusters (CMMC Eq. 13).

    The renaming is the one-to-one map of pseudo-label clusters to predicted clusters that
    maximises the number of samples on which they agree (Hungarian algorithm on the K×K
    contingency table).

    Parameters
    ----------
    pseudo : ndarray of shape (n_samples,)
        k-means labels p in ``0..K-1``.
    predicted : ndarray of shape (n_samples,)
        The label module's argmax for one view, in ``0..K-1``.
    n_clusters : int

    Returns
    -------
    matched : ndarray of shape (n_samples,)
        p̂: the pseudo-label of each sample in the predicted clusters' numbering.
    """
    table = contingency_matrix(
        predicted, pseudo, eps=None, sparse=False
    )  # rows: predicted ids present, cols: pseudo ids present
    rows_present = np.unique(predicted)
    cols_present = np.unique(pseudo)
    full = np.zeros((n_clusters, n_clusters))
    full[np.ix_(rows_present, cols_present)] = table
    rows, cols = linear_sum_assignment(full, maximize=True)
    mapping = np.empty(n_clusters, dtype=np.int64)
    mapping[cols] = rows
    return mapping[pseudo]


@with_shared_parameters
class CMMCClustering(AutoencoderClustering):
    """CMMC: multi-view contrastive learning on autoencoder latents, then pseudo-label
    fine-tuning.

    Each view has its own autoencoder; a shared feature module F maps every latent to
    high-level features h^v, contrasted across views (Eqs. 2–4), and a shared label module
    L maps it to soft labels Q^v, whose cluster columns are contrasted across views with an
    entropy regulariser (Eqs. 8–9). After contrastive training, k-means on the concatenated
    normalised h^v gives pseudo-labels (Eqs. 11–12), matched to each view's predictions by
    the Hungarian algorithm (Eq. 13), and the model is fine-tuned on them by cross-entropy
    (Eq. 14). Xu, Tang, Ren et al., "Contrastive Multi-Modal Clustering", 2021.

    Needs at least two views.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters K.
    pretrain_epochs : int or "auto", default="auto"
        Autoencoder pre-training epochs E_p (paper, Algorithm 1: 200). ``"auto"`` (a
        departure from the paper, see Notes): 200 on sets of up to 1 200 samples; on larger
        ones as many as keep the stage at 240 000 samples passed through the network, but
        at least 48 (120 epochs of 2 000 samples, 48 of 5 000 or more;
        :func:`skmvc.base.resolve_epochs`).
    max_epochs : int or "auto", default="auto"
        Contrastive-learning epochs E_c (paper: BDGP 10, MNIST-USPS 50, Fashion 100).
        ``"auto"``: 50 on sets of up to 1 500 samples, on larger ones at most 75 000
        samples but at least 15 epochs.
    finetune_epochs : int or "auto", default="auto"
        Fine-tuning epochs E_f (paper: 30). 0 skips the pseudo-label stage. ``"auto"``: 30
        on sets of up to 1 500 samples, on larger ones at most 45 000 samples but at least
        9 epochs.
    batch_size : int or "auto", default=256
        Samples per mini-batch (paper). ``"auto"``, CRRC's default, takes 64 when the
        training set has fewer than 1 024 samples, else 256
        (:func:`skmvc.base.resolve_batch_size`); not CMMC's default: on four small development
        sets (3 seeds) batches of 64 gained on MSRC-v1 (0.522 → 0.686) and COIL20-3V (0.839
        → 0.966) but lost on Prokaryotic (0.514 → 0.466) and BBCSport (0.544 → 0.468,
        below k-means' 0.474) (benchmarks/studies/README.md, "Batches on small sets").
    lr : float, default=3e-4
        Adam learning rate; one optimiser for all three stages (paper).
    feature_temperature : float, default=0.5
        τ_F of the feature contrast (Eq. 3; paper: 0.5).
    label_temperature : float, default=1.0
        τ_L of the label contrast (Eq. 8; paper: 1.0).
    encoder_layers : tuple of int or "auto", default=(500, 500, 2000)
        Hidden widths of each view's encoder; the decoder mirrors them (paper).
        ``"auto"`` narrows them in proportion for a view of fewer than 125 features, so
        that its first hidden layer is four times as wide as the view (at least 64 units;
        :func:`skmvc.nn.view_sized_layers`): a 27-feature view gets 108-108-432, about a
        tenth of the work a sample. A wider view keeps the papers' network.
    latent_dim : int, default=512
        Width of the latents z^v (paper).
    feature_dim : int, default=128
        Width of the high-level features h^v (paper: F is 512 → 512 → 128).
    hidden_dim : int, default=512
        Hidden width of the modules F and L (paper: L is 512 → 512 → K).
    epoch_selection : {"last", "stability"}, default="stability"
        Which weights the contrastive stage ends with, as in
        :class:`skmvc.CRRCClustering`: ``"last"``, its last epoch's (the paper);
        ``"stability"`` (a departure, see Notes), its last epoch's unless how reproducibly
        k-means partitions the normalised embedding ``[h^1;…;h^M]`` (read before the first
        epoch, every 5 epochs and at the last; no labels) is more than 0.1 below its best
        reading, and then the earliest best-reading epoch's. Fine-tuning then starts from
        those weights, with the Adam state of the stage's last epoch.
    image_autoencoder : {"mlp", "conv"}, default="mlp"
        The built-in autoencoder of an image view ``(C, H, W)``: ``"mlp"`` flattens it for
        the MLP autoencoder (the paper's network); ``"conv"`` encodes it with a
        :class:`skmvc.nn.ConvAutoencoder` (CONAN's small CNN and a linear map to the latent,
        with the same MLP decoder), :class:`skmvc.CRRCClustering`'s default, where it
        lifted Edge-MNIST from 0.40 to 0.54 ACC; not yet measured for CMMC. Vector views
        always take the MLP autoencoder; ``autoencoder_factory`` overrides both.
    <shared parameters>
    assign_labels : {"head", "kmeans", "auto"}, default="auto"
        As in :class:`skmvc.CONANClustering`, except for ``assign_labels="auto"`` (the
        default): the head (Eq. 15, the paper's rule), unless its partition of the complete
        training samples collapses (an empty cluster, or one with nearly every sample);
        then k-means on the embedding, as ``"kmeans"``. On 100Leaves (100 classes), where the
        head leaves clusters empty, that gave 0.565 ± 0.005 ACC against the head's 0.435 ±
        0.009 (3 seeds, ``benchmarks/studies/assign_labels.py``; benchmarks/studies/README.md,
        "A collapsed
        head"); a head that does not collapse is kept, so every other fit is the paper's.
        Unlike CONAN's and RAV's ``"auto"``, CMMC's keeps a head that does not collapse
        when samples miss views: at missing rate 0.5 on MSRC-v1 and Prokaryotic (3 seeds)
        k-means scored 0.468 and 0.419 ACC against the head's 0.479 and 0.452
        (docs/benchmarks.md, "Missing views"). ``assign_labels="head"`` keeps the head's
        labels also where it collapses (the paper's rule).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample: argmax of the view-averaged soft labels (Eq. 15),
        or the nearest of ``cluster_centers_`` where ``assign_labels`` took k-means.
    pseudo_labels_ : ndarray of shape (n_samples, n_views)
        The matched pseudo-labels p̂^m used for fine-tuning (empty if ``finetune_epochs=0``).
    n_views_, n_features_in_, n_features_per_view_, view_shapes_, module_, history_, \
n_iter_, init_losses_, init_collapsed_, selection_scores_, device_, \
cluster_centers_, view_patterns_, pattern_centers_
        As in :class:`skmvc.CONANClustering`. ``history_`` has the stages ``pretrain``
        (``reconstruction``), ``contrastive`` (``reconstruction``, ``feature_contrast``,
        ``label_contrast``, ``entropy``) and ``finetune`` (``cross_entropy``).
    loss_ : float
        The contrastive-phase loss (Eq. 10) of the kept restart on the training data, in
        eval mode (``loss_ == -score(X_train)``).

    Notes
    -----
    Following the specification: the reconstruction error is averaged over samples and
    features (the paper writes a sum); the entropy term is counted once per view; the
    cross-entropy uses the log of the soft labels (no second softmax); pseudo-labels are
    computed once, from one k-means on the concatenation of all views' normalised features.

    **A departure, on by default: shorter schedules on large sets** (``"auto"`` epochs;
    ``pretrain_epochs=200, max_epochs=50, finetune_epochs=30`` and the ``paper`` profile are
    the paper's). Early stopping does not end the reconstruction pre-training, so the
    paper's 200 + 50 + 30 epochs took about eight minutes (estimate from the time of an
    epoch) for 5 000 samples of two 784-d views on 2 CPU cores. ``"auto"`` keeps them up to
    1 200 samples and shortens each stage above, to 48 + 15 + 9 epochs at 5 000 samples: a
    default fit of MNIST-USPS took 160 s alone on two threads (192 s with CRRC's longer
    budgets). The development sets of up to 1 200 samples train exactly as before
    (``benchmarks/studies/README.md``, "Schedules on large sets", has the ACC on the larger ones).

    **A second departure, on by default: which epoch the contrastive stage ends with**
    (``epoch_selection="stability"``; ``"last"`` and the ``paper`` profile are the
    paper's). As in :class:`skmvc.CRRCClustering`, long contrastive training can dissolve
    the clusters that pre-training gave the features, and the stage then ends with an
    earlier epoch whose embedding k-means partitions more reproducibly (no labels). On the
    development suite (3 seeds) it took WebKB from 0.622 to 0.858 ACC (k-means 0.896),
    BBCSport from 0.544 to 0.660 and BDGP from 0.883 to 0.983; elsewhere the stage kept
    its last epoch or moved within the spread over seeds (``benchmarks/studies/README.md``, "CMMC
    (and RAV): which epoch the contrastive stage ends with").

    Examples
    --------
    >>> import numpy as np
    >>> from skmvc import CMMCClustering
    >>> rng = np.random.RandomState(0)
    >>> views = [rng.rand(60, 5), rng.rand(60, 3)]
    >>> model = CMMCClustering(n_clusters=3, pretrain_epochs=1, max_epochs=1,
    ...                        finetune_epochs=1, encoder_layers=(16,), latent_dim=8,
    ...                        feature_dim=4, hidden_dim=8, random_state=0,
    ...                        device="cpu").fit(views)
    >>> model.labels_.shape, model.predict_proba(views).shape
    ((60,), (60, 3))
    >>> sorted(set(model.history_[:, "stage"]))
    ['contrastive', 'finetune', 'pretrain']
    """

    #: ``"auto"`` epochs: the paper's 200 + 50 + 30 on sets of up to 1 200 samples, 48 +
    #: 15 + 9 on 5 000 or more (CMMC's epochs cost about 1.2 times CRRC's;
    #: benchmarks/studies/README.md, "Schedules on large sets").
    _auto_epochs: dict = {
        "pretrain_epochs": AutoEpochs(200, 240_000, 48),
        "max_epochs": AutoEpochs(50, 75_000, 15),
        "finetune_epochs": AutoEpochs(30, 45_000, 9),
    }

    #: ``assign_labels="auto"`` keeps the head when samples miss views (see above).
    _auto_kmeans_with_missing_views = False

    _parameter_constraints: dict = {
        **AutoencoderClustering._parameter_constraints,
        **ASSIGN_LABELS_CONSTRAINT,
        "finetune_epochs": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "feature_temperature": [Interval(Real, 0, None, closed="neither")],
        "label_temperature": [Interval(Real, 0, None, closed="neither")],
        "feature_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        pretrain_epochs="auto",
        max_epochs="auto",
        finetune_epochs="auto",
        batch_size=256,
        lr=3e-4,
        feature_temperature=0.5,
        label_temperature=1.0,
        encoder_layers=PAPER_ENCODER_LAYERS,
        latent_dim=512,
        feature_dim=128,
        hidden_dim=512,
        epoch_selection="stability",
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
        self.finetune_epochs = finetune_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.feature_temperature = feature_temperature
        self.label_temperature = label_temperature
        self.encoder_layers = encoder_layers
        self.latent_dim = latent_dim
        self.feature_dim = feature_dim
        self.hidden_dim = hidden_dim
        self.epoch_selection = epoch_selection
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
        module = _CMMCNetwork(
            view_shapes,
            self.n_clusters,
            self._view_layers(view_shapes),
            self.latent_dim,
            self.feature_dim,
            self.hidden_dim,
            self.autoencoder_factory,
            self.image_autoencoder == "conv",
        )
        return self._initialise(module, generator)

    # ------------------------------------------------------------------ losses
    def _objective(self, module, batch):
        """The contrastive-phase loss, Eq. 10: L_lc + L_fc + L_r."""
        observed = batch.observed  # pair terms over the samples that have both views
        out = module(batch.views)
        recons, hs, qs = out.reconstructions, out.features, out.labels
        rec = reconstruction_terms(batch, recons)
        pairs = list(combinations(range(len(hs)), 2))
        feature = partial(nt_xent, temperature=self.feature_temperature)
        label = partial(cluster_contrast, temperature=self.label_temperature)
        fc = sum(
            term_on_pairs(feature, observed, m, n, hs[m], hs[n], min_rows=2) for m, n in pairs
        )
        lc = sum(term_on_pairs(label, observed, m, n, qs[m], qs[n], min_rows=2) for m, n in pairs)
        entropy = sum(term_on_present(cluster_entropy, observed, v, q) for v, q in enumerate(qs))
        return {
            "loss": lc + entropy + fc + rec,
            "reconstruction": rec,
            "feature_contrast": fc,
            "label_contrast": lc,
            "entropy": entropy,
        }

    def _finetune_loss(self, module, batch):
        """Eq. 14: cross-entropy of each view's soft labels against its matched pseudo-labels
        (mean over the batch, summed over views)."""
        qs = module(batch.views).labels
        targets = module.pseudo_labels[batch.index]

        def cross_entropy(q, target):
            return F.nll_loss(torch.log(q.clamp_min(1e-12)), target)

        ce = sum(  # each view's over the samples that have it
            term_on_present(cross_entropy, batch.observed, v, q, targets[:, v])
            for v, q in enumerate(qs)
        )
        return {"loss": ce, "cross_entropy": ce}

    # ------------------------------------------------------------------ training
    def _stages_after_pretraining(self, module, data, seed, optimizers):
        set_pseudo_labels = partial(self._set_pseudo_labels, module, data, seed)
        n = len(data)
        finetune = self._stage_epochs("finetune_epochs", n)
        contrastive = self._stage_epochs("max_epochs", n)
        selection = self._epoch_selection(module, data, seed)
        return [
            self._adam_stage(
                "contrastive", contrastive, self._objective, module, optimizers, **selection
            ),
            self._adam_stage(
                "finetune",
                finetune,
                self._finetune_loss,
                module,
                optimizers,
                on_begin=set_pseudo_labels if finetune else None,
            ),
        ]

    def _set_pseudo_labels(self, module, data, seed):
        """Eqs. 11–13: k-means on [h^1;…;h^M] normalised, matched per view."""
        features = apply_module(self._embedding, module, data, self._batch_size(data))
        km = KMeans(self.n_clusters, n_init=KMEANS_N_INIT, random_state=seed)
        pseudo = km.fit_predict(features.astype(np.float64))
        predicted = apply_module(self._view_predictions, module, data, self._batch_size(data))
        predicted = predicted.astype(np.int64)
        observed = None if data.observed is None else data.observed.cpu().numpy()
        matched = np.zeros_like(predicted)  # a missing view's entry is never read
        for v in range(predicted.shape[1]):
            rows = slice(None) if observed is None else observed[:, v]
            matched[rows, v] = match_pseudo_labels(
                pseudo[rows], predicted[rows, v], self.n_clusters
            )
        module.pseudo_labels = torch.as_tensor(matched, device=data.device)

    _extra_fitted_attributes = ("pseudo_labels_",)
    _schedules = {
        "paper": dict(AUTOENCODER_PAPER, finetune_epochs=30, assign_labels="head"),
        "quick": dict(pretrain_epochs=10, max_epochs=10, finetune_epochs=5),
    }

    def _fitted_extras(self, module, data, seed):
        pseudo, module.pseudo_labels = module.pseudo_labels, None
        if pseudo is None:
            return {"pseudo_labels_": np.zeros((0, len(module.autoencoders)), dtype=np.int64)}
        return {"pseudo_labels_": pseudo.cpu().numpy()}

    # ------------------------------------------------------------------ inference
    def _view_predictions(self, module, batch):
        qs = module(batch.views).labels
        return torch.stack([q.argmax(dim=1) for q in qs], dim=1)

    def _soft_assignments(self, module, batch):
        """Eq. 15: the mean over views of the soft labels (over the views a sample has)."""
        qs = module(batch.views).labels
        return mean_over_present(qs, batch.observed)

    def _embedding(self, module, batch):
        """The concatenated L2-normalised high-level features [h^1;…;h^M] (a missing
        view's part is the mean of the sample's present parts)."""
        hs = module(batch.views).features
        return normalized_concatenation(hs, batch.observed, missing="mean")
