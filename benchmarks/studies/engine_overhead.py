"""How much time the training engine adds over a minimal hand-written PyTorch loop.

Both loops train the same CONAN network (built by CONANClustering) on the same data with the
same batch size, device and optimiser, computing the same loss; the minimal loop only
permutes indices, slices the device tensors, computes the loss, and steps Adam. The engine
additionally goes through skorch's callbacks, logs every loss term per batch and per epoch,
and steps the cosine scheduler.

    python benchmarks/studies/engine_overhead.py                     # bundled Handwritten, CPU
    python benchmarks/studies/engine_overhead.py --n-samples 5000 --dim 784 --views 2 --device cuda

Prints seconds per epoch of each loop (median over --repeats epochs after one warm-up epoch)
and their ratio. The engine's epochs are timed by its own epoch timer inside one stage, as
``fit`` runs it; an epoch of the minimal loop runs after each engine epoch (interleaved, so
both see the same machine load). Target: ratio <= 1.15.
"""

from __future__ import annotations

import argparse
import copy
import platform
import time

import numpy as np
import torch
from sklearn.preprocessing import MinMaxScaler
from skorch.callbacks import Callback

from skmvc import CONANClustering
from skmvc._data import ViewData, resolve_device
from skmvc._engine import Stage, Trainer
from skmvc.datasets import load_handwritten
from skmvc.preprocessing import ViewTransformer


def minimal_epoch(module, objective, data, optimizer, batch_size, generator):
    module.train()
    n = len(data)
    order = torch.randperm(n, generator=generator).to(data.device)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        if index.numel() < 2:
            break
        loss = objective(module, data.take(index))["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if data.device.type == "cuda":
        torch.cuda.synchronize()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="random data of this size instead of Handwritten",
    )
    parser.add_argument("--dim", type=int, default=784)
    parser.add_argument("--views", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    if args.n_samples:
        rng = np.random.RandomState(0)
        views = [rng.rand(args.n_samples, args.dim).astype(np.float32) for _ in range(args.views)]
        name = f"random {args.n_samples} x {args.views} views x {args.dim}"
    else:
        views = ViewTransformer(MinMaxScaler()).fit_transform(load_handwritten().views)
        views = [v.astype(np.float32) for v in views]
        name = "Handwritten (2000 samples, 6 views)"
    est = CONANClustering(10, batch_size=args.batch_size, max_epochs=1, device=str(device))
    shapes = [v.shape[1:] for v in views]
    base = est._build_module(shapes, torch.Generator().manual_seed(0)).to(device)
    data = ViewData(views, device)

    # The engine runs the stage exactly as fit builds it, for repeats + 1 epochs; its epochs
    # are timed by its own epoch timer (skorch's EpochTimer). After each engine epoch, a
    # callback runs and times one epoch of the minimal loop on a copy of the same initial
    # network, so both loops see the same machine load (interleaved measurements).
    plain_module = copy.deepcopy(base)
    optimizer = torch.optim.Adam(plain_module.parameters(), lr=est.lr)
    plain_generator = torch.Generator().manual_seed(0)
    plain_times = []

    class InterleavedMinimalLoop(Callback):
        def on_epoch_end(self, net, **kwargs):
            t0 = time.perf_counter()
            minimal_epoch(
                plain_module, est._objective, data, optimizer, args.batch_size, plain_generator
            )
            plain_times.append(time.perf_counter() - t0)

    engine_module = copy.deepcopy(base)
    trainer = Trainer(
        engine_module,
        batch_size=args.batch_size,
        device=device,
        generator=torch.Generator().manual_seed(0),
    )
    trainer.callbacks.append(("minimal_loop", InterleavedMinimalLoop()))
    stage = est._stages(engine_module, data, seed=0)[0]
    trainer.run_stage(Stage(stage.name, args.repeats + 1, stage.steps, stage.optimizers), data)
    engine_times = trainer.history[1:, "dur"]
    plain_times = plain_times[1:]

    engine, plain = float(np.median(engine_times)), float(np.median(plain_times))
    print(
        f"data: {name}; batch {args.batch_size}; device {device}; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{platform.processor() or platform.machine()}"
    )
    print(f"minimal torch loop: {plain:.3f} s/epoch")
    print(f"skmvc engine:       {engine:.3f} s/epoch")
    print(f"ratio engine/minimal: {engine / plain:.3f}")


if __name__ == "__main__":
    main()
