"""Speed against the reference codes, side by side: one script, one run, same data, schedule
and torch threads.

    git clone https://github.com/SubmissionsIn/MFLVC /tmp/refs/MFLVC      # outside this repo
    git clone https://github.com/SongwuJob/SCMVC /tmp/refs/SCMVC
    git clone https://github.com/Guanzhou-Ke/conan /tmp/refs/conan
    python benchmarks/reference_speed.py cmmc /tmp/refs/MFLVC
    python benchmarks/reference_speed.py crrc /tmp/refs/SCMVC
    python benchmarks/reference_speed.py conan /tmp/refs/conan
    python benchmarks/reference_speed.py --report

Pairs: skmvc CMMC against MFLVC (CMMC's base method), skmvc CRRC against SCMVC (CRRC's base
method), skmvc CONAN against the official CONAN code. The reference repository is never
copied: its directory is put on ``sys.path`` and its own network and loss modules are
imported. Its training loop lives in a script that runs on import, so this file drives its
modules with the same steps, in the same order, as that script's epoch functions (named
below at each loop): zero_grad, forward, the reference's loss terms, backward, step, and the
per-batch ``loss.item()`` the script logs. The data are the same arrays for both sides
(MNIST-USPS, 5 000 samples, 2 × 784 pixels scaled to [0, 1]; for MFLVC and SCMVC written
to the ``.mat`` file their ``dataloader.py`` reads, and read back through it).

Both sides run in this one process with the same ``torch.set_num_threads``, the same batch
size, network widths and number of epochs per stage (early stopping off), in alternation
(reference, skmvc, skmvc, reference) so that a background load falls on both alike. Time
per epoch is the median over the epochs of a stage and over the two repetitions; skmvc's is
its engine's epoch timer (``history_[i]["dur"]``, the same loop body: batches, forward,
loss, backward, step). Quality after the short schedule is each side's own evaluation
(labels used for evaluation only): MFLVC's and SCMVC's ``metric.valid``; for CONAN the
head's argmax on both sides. The short schedule is for timing; its ACC is a sanity check,
not the papers' figures (``docs/benchmarks.md`` has those).

Where the schedules cannot be the same, the row says so: MFLVC fine-tunes with one
full-batch step per epoch, skmvc CMMC with mini-batches (``batch_size``); that stage's ratio
is not like for like and is reported apart.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import torch

from skmvc import CMMCClustering, CONANClustering, CRRCClustering  # noqa: E402
from skmvc._benchmark import (  # noqa: E402
    append_row,
    load_dataset,
    machine_description,
    read_rows,
)
from skmvc.metrics import clustering_accuracy  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_reference_speed.jsonl"
REFERENCE = {"cmmc": "MFLVC", "crrc": "SCMVC", "conan": "CONAN (official)"}


def _import_reference(path: Path, names):
    """Import the reference's own modules (by file name) from its directory."""
    sys.path.insert(0, str(path))
    return [__import__(name) for name in names]


def _write_mat(workdir: Path, views, y):
    """The ``data/MNIST_USPS.mat`` that MFLVC's and SCMVC's ``dataloader.py`` read."""
    from scipy.io import savemat

    (workdir / "data").mkdir(parents=True, exist_ok=True)
    savemat(workdir / "data" / "MNIST_USPS.mat", {"X1": views[0], "X2": views[1], "Y": y})


@contextlib.contextmanager
def _mat_reference(path, views, y, seed):
    """MFLVC's or SCMVC's modules, run from a temporary directory holding the ``.mat``
    file their ``dataloader.py`` reads: (network, loss, metric, dataset, loader), with
    ``dataset.meta`` = (dims, n_views, n_samples, n_clusters) and the loader of their
    ``train.py`` (batch 256, shuffled, last batch dropped)."""
    workdir = Path(tempfile.mkdtemp(prefix="reference-"))
    _write_mat(workdir, views, y)
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        network, loss, dataloader, metric = _import_reference(
            path, ["network", "loss", "dataloader", "metric"]
        )
        torch.manual_seed(seed)
        dataset, *meta = dataloader.load_data("MNIST-USPS")
        dataset.meta = meta
        loader = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=True, drop_last=True)
        yield network, loss, metric, dataset, loader
    finally:
        os.chdir(cwd)


def _step(optimizer, terms):
    """Back-propagate the sum of ``terms`` and step, logging the total as train.py does."""
    total = sum(terms)
    total.backward()
    optimizer.step()
    total.item()


def _two_stages(pretrain, contrastive, epochs, metric, model, dataset):
    """Time ``epochs`` epochs of each loop; then the reference's own evaluation."""
    times = {"pretrain": _epochs(pretrain, epochs), "contrastive": _epochs(contrastive, epochs)}
    _, view, data_size, class_num = dataset.meta
    with contextlib.redirect_stdout(io.StringIO()):
        acc, nmi, _ = metric.valid(model, torch.device("cpu"), dataset, view, data_size, class_num)
    return times, acc, nmi


def _epochs(loop, n_epochs):
    """Run ``loop`` (one epoch) ``n_epochs`` times; the seconds of each."""
    times = []
    for _ in range(n_epochs):
        start = time.perf_counter()
        loop()
        times.append(time.perf_counter() - start)
    return times


# --------------------------------------------------------------------------- MFLVC / CMMC
def reference_cmmc(path, views, y, epochs, seed):
    with _mat_reference(path, views, y, seed) as (network, loss, metric, dataset, loader):
        dims, view, data_size, class_num = dataset.meta
        device = torch.device("cpu")
        model = network.Network(view, dims, 512, 128, class_num, device)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=0.0)
        criterion = loss.Loss(256, class_num, 0.5, 1.0, device)
        mse = torch.nn.MSELoss()

        def pretrain():  # train.py: pretrain(epoch)
            for xs, _, _ in loader:
                optimizer.zero_grad()
                _, _, xrs, _ = model(xs)
                _step(optimizer, [mse(xs[v], xrs[v]) for v in range(view)])

        def contrastive():  # train.py: contrastive_train(epoch)
            for xs, _, _ in loader:
                optimizer.zero_grad()
                hs, qs, xrs, _ = model(xs)
                terms = []
                for v in range(view):
                    for w in range(v + 1, view):
                        terms.append(criterion.forward_feature(hs[v], hs[w]))
                        terms.append(criterion.forward_label(qs[v], qs[w]))
                    terms.append(mse(xs[v], xrs[v]))
                _step(optimizer, terms)

        return _two_stages(pretrain, contrastive, epochs, metric, model, dataset)


def ours_cmmc(views, y, epochs, seed, callbacks=None):
    est = CMMCClustering(
        10,
        pretrain_epochs=epochs,
        max_epochs=epochs,
        finetune_epochs=1,
        n_iter_no_change=None,
        device="cpu",
        random_state=seed,
        callbacks=callbacks,
    ).fit(views)
    return est


# --------------------------------------------------------------------------- SCMVC / CRRC
def reference_crrc(path, views, y, epochs, seed):
    with _mat_reference(path, views, y, seed) as (network, loss, metric, dataset, loader):
        dims, view, data_size, class_num = dataset.meta
        device = torch.device("cpu")
        model = network.Network(view, dims, 64, 20, device)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=0.0)
        contrast = loss.ContrastiveLoss(256, 1, device)
        mse = torch.nn.MSELoss()

        def view_weights(rs, H):  # train.py: compute_view_value(rs, H, view)
            n = H.shape[0]
            global_sim = (H @ H.t()).sum()
            w = torch.stack(
                [
                    torch.exp(-((r @ r.t()).sum() + global_sim - 2 * (r @ H.t()).sum()) / (n * n))
                    for r in rs
                ]
            )
            return (w / w.sum()).squeeze()

        def pretrain():  # train.py: pretrain(epoch)
            for xs, _, _ in loader:
                optimizer.zero_grad()
                xrs, _, _, _ = model(xs)
                _step(optimizer, [mse(xs[v], xrs[v]) for v in range(view)])

        def contrastive():  # train.py: contrastive_train(epoch)
            for xs, _, _ in loader:
                optimizer.zero_grad()
                xrs, _, rs, H = model(xs)
                with torch.no_grad():
                    w = view_weights(rs, H)
                terms = []
                for v in range(view):
                    terms.append(contrast(H, rs[v], w[v]))
                    terms.append(mse(xs[v], xrs[v]))
                _step(optimizer, terms)

        return _two_stages(pretrain, contrastive, epochs, metric, model, dataset)


def ours_crrc(views, y, epochs, seed, callbacks=None):
    return CRRCClustering(
        10,
        pretrain_epochs=epochs,
        max_epochs=epochs,
        n_iter_no_change=None,
        device="cpu",
        random_state=seed,
        callbacks=callbacks,
    ).fit(views)


# --------------------------------------------------------------------------- CONAN
def reference_conan(path, views, y, epochs, seed):
    (models,) = _import_reference(path, ["models"])
    torch.manual_seed(seed)
    args = types.SimpleNamespace(
        arch="mlp",
        input_channels=[v.shape[1] for v in views],
        hidden_dim=256,  # the MLP backbone's output width
        views=len(views),
        fusion_layers=2,
        fusion_act="relu",
        use_bn=True,
        clustering_loss_type="ddc",
        cluster_hidden_dim=100,
        num_cluster=10,
        enable_contrastive=True,
        contrastive_type="simclr",
        projection_layers=2,
        projection_dim=100,
        prediction_hidden_dim=128,
        contrastive_lambda=0.01,
        temperature=0.1,
        lr=1e-3,
        opt="adam",
        device="cpu",
    )
    model = models.CONAN(args)
    tensors = [torch.as_tensor(v) for v in views]
    dataset = torch.utils.data.TensorDataset(*tensors)
    loader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True, drop_last=True)

    def train_step():  # train.py: train_step(train_loader, model, epoch, device)
        model.train()
        for data in loader:
            xs = list(data)
            model.optimizer.zero_grad()
            total, clu, con = model.get_loss(xs)
            total.item(), con.item(), clu.item()
            total.backward()
            model.optimizer.step()

    times = {"train": _epochs(train_step, epochs)}
    model.eval()
    with torch.no_grad():
        labels = torch.cat(
            [model.predict(list(b)) for b in torch.utils.data.DataLoader(dataset, 256)]
        ).numpy()
    from sklearn.metrics import normalized_mutual_info_score

    return times, clustering_accuracy(y, labels), normalized_mutual_info_score(y, labels)


def ours_conan(views, y, epochs, seed, callbacks=None):
    return CONANClustering(
        10,
        max_epochs=epochs,
        n_iter_no_change=None,
        n_init=1,  # one fit, as the reference code runs
        device="cpu",
        random_state=seed,
        callbacks=callbacks,
    ).fit(views)


# --------------------------------------------------------------------------- driver
@contextlib.contextmanager
def adam_kernel(mode):
    """skmvc's Adam with the given kernel: "fused" (skmvc's default where supported), or
    "foreach" / "single" (the per-tensor loop the references use), for comparison."""
    if mode == "fused":
        yield
        return
    init = torch.optim.Adam.__init__

    def patched(self, params, *args, **kwargs):
        kwargs.update(fused=False, foreach=mode == "foreach")
        init(self, params, *args, **kwargs)

    torch.optim.Adam.__init__ = patched
    try:
        yield
    finally:
        torch.optim.Adam.__init__ = init


def _ours(pair, views, y, epochs, seed, adam="fused"):
    from sklearn.metrics import normalized_mutual_info_score

    fit = {"cmmc": ours_cmmc, "crrc": ours_crrc, "conan": ours_conan}[pair]
    with adam_kernel(adam):
        est = fit(views, y, epochs, seed)
    times = {}
    for row in est.history_:
        times.setdefault(row["stage"], []).append(row["dur"])
    labels = est.labels_
    return times, clustering_accuracy(y, labels), normalized_mutual_info_score(y, labels)


def run(pair, reference_path, data_dir, epochs, threads, seed, results, adam="fused"):
    torch.set_num_threads(threads)
    views, y = load_dataset("MNIST-USPS", data_dir)
    views = [np.ascontiguousarray(v, dtype=np.float32) for v in views]
    reference = {"cmmc": reference_cmmc, "crrc": reference_crrc, "conan": reference_conan}[pair]
    sides = {"reference": [], "skmvc": []}
    for side in ("reference", "skmvc", "skmvc", "reference"):
        start = time.perf_counter()
        if side == "reference":
            out = reference(Path(reference_path).resolve(), views, y, epochs, seed)
        else:
            out = _ours(pair, views, y, epochs, seed, adam)
        sides[side].append((*out, time.perf_counter() - start))
        print(f"{pair} {side}: ACC {out[1]:.3f}, {time.perf_counter() - start:.0f} s", flush=True)
    row = {
        "pair": pair,
        "reference_code": REFERENCE[pair],
        "epochs": epochs,
        "threads": threads,
        "seed": seed,
        "skmvc_adam": adam,
        "machine": machine_description(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    for side, runs in sides.items():
        stages = {}
        for times, *_ in runs:
            for stage, t in times.items():
                stages.setdefault(stage, []).extend(t)
        row[side] = {
            "s_per_epoch": {s: statistics.median(t) for s, t in stages.items()},
            "acc": [r[1] for r in runs],
            "nmi": [r[2] for r in runs],
        }
    append_row(results, row)
    return row


def report(results):
    rows = read_rows(results)
    print(
        "| pair | skmvc Adam | stage | reference s/epoch | skmvc s/epoch | speed-up | "
        "ACC ref / skmvc |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        ref, ours = row["reference"], row["skmvc"]
        # The stage names of skmvc CRRC ("pretrain", "train") for SCMVC's two loops.
        stage_map = {"contrastive": "train"} if row["pair"] == "crrc" else {}
        for stage, t_ref in ref["s_per_epoch"].items():
            t_ours = ours["s_per_epoch"].get(stage_map.get(stage, stage))
            if t_ours is None:
                continue
            acc = f"{np.mean(ref['acc']):.3f} / {np.mean(ours['acc']):.3f}"
            print(
                f"| skmvc {row['pair'].upper()} vs {row['reference_code']} | "
                f"{row.get('skmvc_adam', 'fused')} | {stage} | "
                f"{t_ref:.2f} | {t_ours:.2f} | {t_ref / t_ours:.2f}× | {acc} |"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pair", nargs="?", choices=sorted(REFERENCE))
    parser.add_argument("reference", nargs="?", type=Path, help="the reference repository")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--epochs", type=int, default=3, help="epochs per stage")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--skmvc-adam",
        choices=["fused", "foreach", "single"],
        default="fused",
        help="skmvc's Adam kernel (fused: its default)",
    )
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if args.report:
        report(args.results)
        return
    if args.pair is None or args.reference is None:
        parser.error("give a pair and the reference repository's path, or --report")
    run(
        args.pair,
        args.reference,
        args.data_dir,
        args.epochs,
        args.threads,
        args.seed,
        args.results,
        args.skmvc_adam,
    )


if __name__ == "__main__":
    main()
