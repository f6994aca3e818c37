"""The training engine: stages, several optimisers, schedulers, batches, logging."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn

import skmvc._data
from skmvc import _engine as engine
from skmvc._data import ViewData, resolve_device
from skmvc._engine import OptimizerSpec, Stage, Step, Trainer


class TwoPart(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 2)
        self.b = nn.Linear(3, 2)


def make_data(n=10):
    rng = np.random.RandomState(0)
    return ViewData([rng.rand(n, 3).astype(np.float32)], torch.device("cpu"))


def trainer_for(module, batch_size=4, seed=0):
    return Trainer(
        module,
        batch_size=batch_size,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(seed),
    )


def loss_of(part):
    def loss(batch):
        out = part(batch.views[0]).pow(2).mean()
        return {"loss": out, f"{id(part)}": out}

    return loss


def test_each_step_updates_only_its_optimisers_parameters():
    module = TwoPart()
    before_a = module.a.weight.detach().clone()
    before_b = module.b.weight.detach().clone()
    stage = Stage(
        name="only-a",
        epochs=1,
        steps=(
            Step(
                lambda batch: {
                    "loss": (module.a(batch.views[0]) + module.b(batch.views[0])).pow(2).mean()
                },
                ("opt_a",),
            ),
        ),
        optimizers={
            "opt_a": OptimizerSpec(list(module.a.parameters()), kwargs={"lr": 0.1}),
            "opt_b": OptimizerSpec(list(module.b.parameters()), kwargs={"lr": 0.1}),
        },
    )
    trainer_for(module).run_stage(stage, make_data())
    assert not torch.equal(module.a.weight, before_a)
    assert torch.equal(module.b.weight, before_b)


def test_alternating_steps_and_objective_flag_and_clipping():
    module = TwoPart()
    seen = []

    def step_a(batch):
        seen.append("a")
        return {"loss": module.a(batch.views[0]).pow(2).sum() * 1e3, "term_a": torch.tensor(1.0)}

    def step_b(batch):
        seen.append("b")
        return {"loss": module.b(batch.views[0]).pow(2).mean(), "term_b": torch.tensor(2.0)}

    stage = Stage(
        name="alternate",
        epochs=2,
        steps=(Step(step_a, ("a",), clip_grad_norm=1e-3), Step(step_b, ("b",), objective=False)),
        optimizers={
            "a": OptimizerSpec(list(module.a.parameters()), torch.optim.SGD, {"lr": 1.0}),
            "b": OptimizerSpec(list(module.b.parameters()), kwargs={"lr": 0.1}),
        },
    )
    before = module.a.weight.detach().clone()
    trainer = trainer_for(module).run_stage(stage, make_data())
    assert seen[:4] == ["a", "b", "a", "b"]
    n_steps = seen.count("a")
    assert n_steps == 6  # 10 samples in batches of 4, 4, 2; two epochs
    # SGD with lr=1 after clipping to norm 1e-3 moves the weights by at most 1e-3 per step
    # (unclipped, the 1e3-scaled loss would move them by far more).
    assert (module.a.weight - before).norm() <= 1e-3 * n_steps + 1e-6
    row = trainer.history[-1]
    assert row["term_a"] == 1.0 and row["term_b"] == 2.0
    batch_losses = [b["train_loss"] for b in row["batches"]]
    assert all(loss > 1.0 for loss in batch_losses)  # only step a's (large) total counts


def test_every_optimisers_scheduler_is_stepped_per_epoch():
    module = TwoPart()

    def sched(opt, epochs):
        return torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    stage = Stage(
        name="s",
        epochs=3,
        steps=(Step(loss_of(module.a), ("a",)), Step(loss_of(module.b), ("b",))),
        optimizers={
            "a": OptimizerSpec(list(module.a.parameters()), kwargs={"lr": 1.0}, scheduler=sched),
            "b": OptimizerSpec(list(module.b.parameters()), kwargs={"lr": 2.0}, scheduler=sched),
        },
    )
    trainer = trainer_for(module).run_stage(stage, make_data())
    lrs = [o.param_groups[0]["lr"] for o in trainer._optimizers_by_name.values()]
    assert lrs == [pytest.approx(1.0 / 8), pytest.approx(2.0 / 8)]


def test_stages_accumulate_in_one_history_with_their_names():
    module = TwoPart()
    trainer = trainer_for(module)
    opts = {"a": OptimizerSpec(list(module.parameters()), kwargs={"lr": 0.01})}
    began = []
    data = make_data()
    trainer.run_stage(Stage("pre", 2, (Step(loss_of(module.a), ("a",)),), opts), data)
    trainer.run_stage(
        Stage(
            "post", 3, (Step(loss_of(module.b), ("a",)),), opts, on_begin=lambda: began.append(1)
        ),
        data,
    )
    assert trainer.history[:, "stage"] == ["pre", "pre", "post", "post", "post"]
    assert trainer.history[:, "epoch"] == [1, 2, 3, 4, 5]
    assert began == [1]
    assert all(np.isfinite(trainer.history[:, "loss"]))


def test_batches_cover_every_sample_once_and_drop_a_single_last_one():
    module = TwoPart()
    seen = []

    def record(batch):
        seen.append(batch.index.tolist())
        np.testing.assert_array_equal(batch.views[0].numpy(), data._views[0][batch.index].numpy())
        return {"loss": module.a(batch.views[0]).sum()}

    data = make_data(n=9)  # batches of 4: 4 + 4 + 1 -> the last one is dropped
    stage = Stage(
        "s",
        1,
        (Step(record, ("a",)),),
        {"a": OptimizerSpec(list(module.parameters()), kwargs={"lr": 0.0})},
    )
    trainer_for(module).run_stage(stage, data)
    assert [len(b) for b in seen] == [4, 4]
    assert len(set(sum(seen, []))) == 8


def batch_order(seed):
    module = TwoPart()
    seen = []

    def record(batch):
        seen.append(batch.index.tolist())
        return {"loss": module.a(batch.views[0]).sum()}

    opts = {"a": OptimizerSpec(list(module.parameters()), kwargs={"lr": 0.0})}
    trainer_for(module, seed=seed).run_stage(
        Stage("s", 2, (Step(record, ("a",)),), opts), make_data()
    )
    return seen


def test_same_generator_seed_same_batch_order():
    first, second = batch_order(3), batch_order(3)
    assert first == second
    assert first[0] != first[len(first) // 2]  # reshuffled each epoch
    assert batch_order(4) != first


def test_sparse_views_are_densified_per_batch():
    dense = np.eye(6, dtype=np.float32)
    data = ViewData([sp.csr_matrix(dense)], torch.device("cpu"))
    batch = data.take(torch.tensor([4, 1]))
    np.testing.assert_array_equal(batch.views[0].numpy(), dense[[4, 1]])
    assert [len(b.index) for b in data.batches(4)] == [3, 3]  # never a batch of one


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="not a valid torch device"):
        resolve_device("gpu0")


def _run_scripted(losses, epochs, **trainer_params):
    """Run a stage whose epoch loss follows ``losses`` (one value per epoch)."""
    module = TwoPart()
    trainer = Trainer(
        module,
        batch_size=4,
        device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(0),
        **trainer_params,
    )

    def scripted(batch):
        value = losses[min(trainer.stage_epoch_ - 1, len(losses) - 1)]
        # the parameters take part so that backward works; the value is the scripted one
        return {"loss": module.a(batch.views[0]).sum() * 0.0 + value}

    opts = {"a": OptimizerSpec(list(module.parameters()), kwargs={"lr": 0.0})}
    trainer.run_stage(Stage("s", epochs, (Step(scripted, ("a",)),), opts), make_data())
    return trainer.history


def test_a_stage_stops_on_a_plateau_and_history_says_so():
    # Improves for 5 epochs, then flat: with a patience of 3 the stage ends after epoch 8.
    losses = [10.0, 8.0, 6.0, 5.0, 4.0] + [4.0] * 20
    history = _run_scripted(losses, 20, tol=1e-3, n_iter_no_change=3)
    assert len(history) == 8
    assert history[-1, "stopped"] == "plateau"
    assert [row.get("stopped") for row in history[:-1]] == [None] * 7


def test_a_stage_that_keeps_improving_runs_to_its_cap():
    losses = [10.0 / (e + 1) for e in range(12)]
    history = _run_scripted(losses, 12, tol=1e-3, n_iter_no_change=3)
    assert len(history) == 12 and history[-1, "stopped"] == "max_epochs"


def test_improvements_below_tol_count_as_a_plateau():
    losses = [10.0] + [10.0 - 1e-4 * e for e in range(1, 30)]  # relative steps of 1e-5
    history = _run_scripted(losses, 30, tol=1e-3, n_iter_no_change=4)
    # 4 epochs of warm-up, then the best, then 4 without progress
    assert len(history) == 9 and history[-1, "stopped"] == "plateau"
    # without early stopping every epoch runs
    assert len(_run_scripted(losses, 30, n_iter_no_change=None)) == 30


def test_a_loss_that_rises_in_the_warm_up_and_then_falls_is_not_a_plateau():
    # RAV's training stage: the loss rises while the network adapts, then falls below its
    # first value; patience alone would stop after epoch 4 (no epoch beat the first).
    losses = [5.0, 6.0, 7.0, 7.5, 7.0, 6.0, 4.0, 3.0, 2.0, 1.0] + [1.0] * 10
    history = _run_scripted(losses, 20, tol=1e-3, n_iter_no_change=3)
    assert len(history) == 13 and history[-1, "stopped"] == "plateau"
    assert min(history[:, "loss"]) == 1.0


def test_the_canonical_order_depends_only_on_the_rows():
    rng = np.random.RandomState(1)
    views = [rng.rand(50, 7).astype(np.float32), sp.random(50, 9, density=0.3, format="csr")]
    perm = rng.permutation(50)
    a = ViewData(views, torch.device("cpu")).canonical_order()
    b = ViewData([v[perm] for v in views], torch.device("cpu")).canonical_order()
    np.testing.assert_array_equal(perm[b], a)  # the same samples in the same order
    assert not np.array_equal(a, np.arange(50))  # and not the input order


def test_a_float32_view_is_wrapped_not_copied():
    view = np.random.RandomState(0).rand(60, 5).astype(np.float32)
    data = ViewData([view], torch.device("cpu"))
    assert data.on_device
    assert data._views[0].data_ptr() == view.ctypes.data


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_memory_mapped_view_is_never_read_whole(tmp_path, dtype):
    """Fit and predict on memory-mapped views (float32 and float64): no NumPy allocation
    anywhere near a view's size is made (a copy of the first view would be 40 MB as
    float32), and the files are unchanged."""
    import tracemalloc

    from conftest import small_conan

    n = 20_000
    rng = np.random.RandomState(0)
    for name, d in (("a", 500), ("b", 250)):
        mm = np.lib.format.open_memmap(tmp_path / f"{name}.npy", "w+", dtype, (n, d))
        for start in range(0, n, 5_000):
            mm[start : start + 5_000] = rng.rand(5_000, d)
        mm.flush()
        del mm
    views = [np.load(tmp_path / f"{name}.npy", mmap_mode="r") for name in "ab"]
    one_view = n * 500 * 4
    est = small_conan(max_epochs=1, batch_size=256)
    est.fit([v[:300] for v in views])  # warm-up: the first fit imports parts of torch
    tracemalloc.start()
    try:
        est.fit(views)
        labels = est.predict(views)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert labels.shape == (n,)
    assert peak < one_view / 4, f"peak NumPy allocation {peak / 1e6:.1f} MB"
    head = np.load(tmp_path / "a.npy", mmap_mode="r")[:5]
    np.testing.assert_array_equal(head, views[0][:5])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_release_pages_drops_what_a_read_mapped(tmp_path):
    from skmvc.multiview import release_pages

    def rss_file_kb():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssFile:"):
                return int(line.split()[1])
        pytest.skip("no RssFile in /proc/self/status")

    np.save(tmp_path / "big.npy", np.ones((4096, 4096), dtype=np.float32))  # 64 MB
    view = np.load(tmp_path / "big.npy", mmap_mode="r")
    before = rss_file_kb()
    assert float(view.sum(dtype=np.float64)) == 4096 * 4096
    read = rss_file_kb()
    release_pages(view)
    released = rss_file_kb()
    assert read - before > 32_000  # reading mapped the pages (KB)
    assert released - before < 8_000  # and releasing dropped them


def test_views_beyond_the_device_budget_stream_from_the_host(monkeypatch, two_views):
    """A patched budget of 0 bytes: the views stay on the host and batches are copied one at
    a time; training and prediction give the same labels as with resident views."""
    from conftest import small_crrc

    X, _ = two_views
    resident = small_crrc().fit(X)
    monkeypatch.setattr(skmvc._data, "device_budget", lambda device: 0)
    assert not ViewData(X, torch.device("cpu")).on_device
    streamed = small_crrc().fit(X)
    np.testing.assert_array_equal(streamed.labels_, resident.labels_)
    np.testing.assert_array_equal(streamed.predict(X), resident.predict(X))
    forced = small_crrc(views_on_device=False).fit(X)
    np.testing.assert_array_equal(forced.labels_, resident.labels_)


def test_views_on_device_is_validated(two_views):
    from conftest import small_crrc

    with pytest.raises(ValueError, match="views_on_device"):
        small_crrc(views_on_device="sometimes").fit(two_views[0])


def _run_monitored(scores, epochs, every, plateau_after=None, tolerance=0.0, start=False):
    """A stage that trains module.a with lr 0.1 and a monitor that returns ``scores`` in
    turn; returns (module, history, the weights of module.a after each epoch, and before
    the first)."""
    module = TwoPart()
    trainer = trainer_for(module)
    if plateau_after is not None:
        trainer.set_params(n_iter_no_change=1, tol=1e-3)
    weights, readings = [], iter(scores)

    def loss(batch):
        out = module.a(batch.views[0]).pow(2).mean()
        if plateau_after is not None and trainer.stage_epoch_ > plateau_after:
            out = out * 0.0 + 1.0  # flat from here on
        return {"loss": out}

    class Record(engine.Callback):
        def on_epoch_end(self, net, **kwargs):
            weights.append(module.a.weight.detach().clone())

    trainer.callbacks = [("record", Record())]
    trainer.initialize()
    weights.append(module.a.weight.detach().clone())  # before the first epoch
    opts = {"a": OptimizerSpec([module.a.weight], kwargs={"lr": 0.1})}
    stage = Stage(
        "s",
        epochs,
        (Step(loss, ("a",)),),
        opts,
        callbacks=(engine.BestWeights(lambda: next(readings), every, tolerance, start),),
    )
    trainer.run_stage(stage, make_data())
    return module, trainer.history, weights


def test_a_monitored_stage_ends_with_its_best_reading_weights():
    # readings after epochs 2, 4, 6 and 7 (the last); the best is epoch 4's
    module, history, weights = _run_monitored([0.1, 0.9, 0.5, 0.3], epochs=7, every=2)
    assert len(history) == 7
    assert [row.get("monitor") for row in history] == [None, 0.1, None, 0.9, None, 0.5, 0.3]
    assert history[-1, "kept_epoch"] == 4
    torch.testing.assert_close(module.a.weight, weights[4])
    assert not torch.equal(weights[4], weights[7])  # training did move on after epoch 4


def test_a_monitored_stage_keeps_its_last_weights_within_the_tolerance():
    # the last reading (0.85) is within 0.1 of the best (0.9): the last epoch is kept ...
    module, history, weights = _run_monitored([0.1, 0.9, 0.5, 0.85], 7, 2, tolerance=0.1)
    assert history[-1, "kept_epoch"] == 7
    torch.testing.assert_close(module.a.weight, weights[-1])
    # ... and one more than 0.1 below it is not
    module, history, weights = _run_monitored([0.1, 0.9, 0.5, 0.75], 7, 2, tolerance=0.1)
    assert history[-1, "kept_epoch"] == 4
    torch.testing.assert_close(module.a.weight, weights[4])


def test_a_monitored_stage_whose_last_reading_is_best_keeps_its_last_weights():
    module, history, weights = _run_monitored([0.1, 0.2, 0.3], epochs=6, every=2)
    assert history[-1, "kept_epoch"] == 6
    torch.testing.assert_close(module.a.weight, weights[-1])


def test_a_monitored_stage_read_from_its_start_may_end_where_it_began():
    # read before epoch 1 (0.9), then after epochs 2, 4 and 5; the start is the best
    module, history, weights = _run_monitored([0.9, 0.1, 0.5, 0.3], 5, 2, start=True)
    assert history[0, "monitor_start"] == 0.9
    assert [row.get("monitor") for row in history] == [None, 0.1, None, 0.5, 0.3]
    assert history[-1, "kept_epoch"] == 0
    torch.testing.assert_close(module.a.weight, weights[0])
    assert not torch.equal(weights[0], weights[5])
    # a later reading as good as the start's does not replace it (the earliest best is kept)
    module, history, weights = _run_monitored([0.9, 0.9, 0.1, 0.1], 5, 2, start=True)
    assert history[-1, "kept_epoch"] == 0


def test_a_stage_stopped_on_a_plateau_reads_its_monitor_at_the_stop():
    # flat from epoch 2: warm-up 1, best at 2, stop after 3 with patience 1
    module, history, _ = _run_monitored([0.5, 0.7], epochs=10, every=5, plateau_after=1)
    assert history[-1, "stopped"] == "plateau"
    assert [row.get("monitor") for row in history] == [None, None, 0.5]
