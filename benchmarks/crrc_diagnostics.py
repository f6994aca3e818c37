"""Why CRRC does not reproduce on MNIST-USPS: the spec's model against three variants.

    python benchmarks/crrc_diagnostics.py      # ~4 minutes on 2 CPU cores

Each variant fits CRRC (15 pre-training + 20 epochs, random_state=0) on a random 2000-sample
subset of MNIST-USPS (seed 0) and prints the accuracy. The variants patch the model inside
this script only:

- ``spec``: the model as specified (H → R̂^v InfoNCE, R̂^v = R^v + g ⊙ G^v);
- ``symmetric``: the symmetric NT-Xent of the base code (SCMVC/MFLVC) instead;
- ``shared-R``: one projection z^v → R^v shared by all views (as SCMVC);
- ``no-recalibration``: R̂^v = R^v (the residual recalibration removed).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from unittest import mock

import torch

import skmvc.crrc as crrc
from skmvc._benchmark import load_dataset
from skmvc.losses import nt_xent
from skmvc.metrics import clustering_accuracy
from skmvc.nn import CrossViewRecalibration


def shared_projection(original):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.view_mlps = torch.nn.ModuleList([self.view_mlps[0]] * len(self.view_mlps))

    return init


VARIANTS = {
    "spec": [],
    "symmetric": [mock.patch.object(crrc, "info_nce", lambda a, b, t: nt_xent(a, b, t))],
    "shared-R": [
        mock.patch.object(
            crrc._CRRCNetwork, "__init__", shared_projection(crrc._CRRCNetwork.__init__)
        )
    ],
    "no-recalibration": [
        mock.patch.object(CrossViewRecalibration, "forward", lambda self, h, rs: list(rs))
    ],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)
    views, y = load_dataset("MNIST-USPS", args.data_dir, n_samples=2000, seed=0)
    for name in args.variants:
        patches = VARIANTS[name]
        for patch in patches:
            patch.start()
        try:
            est = crrc.CRRCClustering(
                10, pretrain_epochs=15, max_epochs=20, random_state=0, device="cpu"
            ).fit(views)
        finally:
            for patch in patches:
                patch.stop()
        print(f"{name:18s} ACC {clustering_accuracy(y, est.labels_):.3f}", flush=True)


if __name__ == "__main__":
    main()
