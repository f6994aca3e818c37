"""Why CRRC needs the extra view contrast: the paper's Eq. 12 against the default and variants.

    python benchmarks/studies/crrc_diagnostics.py                       # ~3 minutes on 2 CPU cores
    python benchmarks/studies/crrc_diagnostics.py --n-samples 5000 --pretrain-epochs 50 \\
        --max-epochs 30 --variants eq12 default no-recalibration   # ~9 minutes
    python benchmarks/studies/crrc_diagnostics.py --dataset BDGP --n-samples 2500 \\
        --pretrain-epochs 50 --max-epochs 45 --variants default --trace-every 3  # ~2 minutes

Each variant fits CRRC (``random_state=0``) on a random subset (seed 0) of a data set
(``--dataset``, default MNIST-USPS) and prints the accuracy of its labels with two readings
of what the model learnt, on the training data: the mean cosine of the first two views'
representations R^1 and R^2 (do the views agree?) and the mean gate of view 1 (how much of
the other views flows into R̂^1). Variants:

- ``eq12``: the paper's contrast as written, H against R̂^v only (``view_contrast_weight=0``);
- ``default``: the estimator's default, H against R̂^v and against R^v;
- ``no-recalibration``: H against R^v only, R̂^v = R^v (close to CRRC's base method, SCMVC);
- ``symmetric``: ``eq12`` with the symmetric NT-Xent of MFLVC's code;
- ``shared-R``: ``eq12`` with one projection z^v → R^v shared by the views (as SCMVC).

The last three patch the model inside this script only. ``--trace-every N`` also prints,
every N epochs of the training stage, the contrast term, the accuracy of k-means (3
initialisations) on the normalised H of the training data, the mean cos(R^1, R^2), the
mean pairwise cosine of H (0 when H is spread evenly over the sphere) and the label-free
``kmeans_stability`` of H that ``epoch_selection="stability"`` reads: how the partition
that the labels would come from changes as the contrast goes on; the stage then runs all
its ``--max-epochs``. The labels only score.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans

import skmvc.crrc as crrc
from skmvc._benchmark import load_dataset
from skmvc._engine import Trainer
from skmvc.losses import nt_xent
from skmvc.metrics import clustering_accuracy, kmeans_stability
from skmvc.nn import CrossViewRecalibration


def shared_projection(original):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.view_mlps = torch.nn.ModuleList([self.view_mlps[0]] * len(self.view_mlps))

    return init


VARIANTS = {  # name: (view_contrast_weight, patches)
    "eq12": (0.0, []),
    "default": (1.0, []),
    "no-recalibration": (
        0.0,
        [mock.patch.object(CrossViewRecalibration, "forward", lambda self, h, rs: list(rs))],
    ),
    "symmetric": (0.0, [mock.patch.object(crrc, "info_nce", nt_xent)]),
    "shared-R": (
        0.0,
        [
            mock.patch.object(
                crrc._CRRCNetwork, "__init__", shared_projection(crrc._CRRCNetwork.__init__)
            )
        ],
    ),
}


@torch.no_grad()
def readings(module, views):
    """Mean cos(R^1, R^2) and mean gate of view 1 on ``views``, computed with the model's
    own recalibration (unpatched)."""
    out = module([torch.as_tensor(v, dtype=torch.float32) for v in views])
    h, rs = out.global_representation, out.view_representations
    gate = module.recalibration.gates_and_complements(h, rs)[0][0]
    return F.cosine_similarity(rs[0], rs[1]).mean().item(), gate.mean().item()


def tracer(views, y, every):
    """A ``Trainer.on_epoch_end`` that prints the readings of ``--trace-every``."""
    original = Trainer.on_epoch_end
    tensors = [torch.as_tensor(v, dtype=torch.float32) for v in views]
    n_clusters = len(np.unique(y))

    def on_epoch_end(self, net, **kwargs):
        original(self, net, **kwargs)
        if self.stage_.name != "train" or self.stage_epoch_ % every:
            return
        module = self.module_.eval()
        with torch.no_grad():
            out = module(tensors)
            h, rs = out.global_representation, out.view_representations
        module.train()
        h = F.normalize(h, dim=1)
        km = KMeans(n_clusters, n_init=3, random_state=0).fit_predict(h.numpy())
        contrast = np.mean([b["contrast"] for b in self.history[-1, "batches"]])
        print(
            f"  epoch {self.stage_epoch_:3d}  contrast {contrast:.3f}  "
            f"ACC(k-means on H) {clustering_accuracy(y, km):.3f}  "
            f"cos(R1, R2) {F.cosine_similarity(rs[0], rs[1]).mean().item():+.2f}  "
            f"mean cos(H) {(h @ h.T).mean().item():+.3f}  "
            f"stability {kmeans_stability(h.numpy(), n_clusters):.3f}",
            flush=True,
        )

    return mock.patch.object(Trainer, "on_epoch_end", on_epoch_end)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--dataset", default="MNIST-USPS")
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--pretrain-epochs", type=int, default=15)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--temperature", type=float, default=None, help="default: CRRC's")
    parser.add_argument("--trace-every", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    views, y = load_dataset(args.dataset, args.data_dir, n_samples=args.n_samples, seed=0)
    n_clusters = len(np.unique(y))
    extra = {} if args.temperature is None else {"temperature": args.temperature}
    if args.trace_every:  # every epoch of --max-epochs, to see the whole course
        extra["n_iter_no_change"] = None
    print(f"{args.dataset}, {len(y)} samples, {args.pretrain_epochs} + {args.max_epochs} epochs")
    for name in args.variants:
        weight, patches = VARIANTS[name]
        if args.trace_every:
            patches = [*patches, tracer(views, y, args.trace_every)]
        for patch in patches:
            patch.start()
        try:
            est = crrc.CRRCClustering(
                n_clusters,
                pretrain_epochs=args.pretrain_epochs,
                max_epochs=args.max_epochs,
                view_contrast_weight=weight,
                random_state=0,
                device="cpu",
                **extra,
            ).fit(views)
        finally:
            for patch in patches:
                patch.stop()
        cos, gate = readings(est.module_.eval(), views)
        acc = clustering_accuracy(y, est.labels_)
        print(f"{name:18s} ACC {acc:.3f}   cos(R1, R2) {cos:+.2f}   gate {gate:.2f}", flush=True)


if __name__ == "__main__":
    main()
