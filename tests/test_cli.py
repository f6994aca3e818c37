import re
import subprocess
import sys

import pytest

from skmvc._cli import main


def test_demo_prints_a_metrics_table(capsys):
    assert main(["demo", "--epochs", "1", "--device", "cpu", "--quiet"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "UCI Handwritten: 2000 samples, 6 views" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("model"))
    assert header.split() == ["model", "ACC", "NMI", "purity", "ARI", "fit", "(s)"]
    rows = [line for line in lines if line.startswith(("k-means", "EAMC"))]
    assert len(rows) == 3
    assert "EAMCClustering (1 + 1 epochs), views by kind" in rows[2]  # --epochs caps both
    minmax, by_kind = (float(row.split()[-5]) for row in rows[:2])
    assert 0.7 < minmax < by_kind <= 1.0  # k-means: views prepared by kind beat min-max
    assert captured.err == ""  # --quiet: no progress bars


def test_bad_device_is_a_clean_error(capsys):
    assert main(["demo", "--epochs", "1", "--device", "nonsense"]) == 2
    assert "not a valid torch device" in capsys.readouterr().err


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "skmvc", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("skmvc ")


def test_fit_a_users_npz_and_mat_file(tmp_path, capsys):
    import numpy as np
    import scipy.io

    from skmvc.datasets import make_multiview_blobs

    views, y = make_multiview_blobs(60, 3, view_features=(4, 5), random_state=0)
    np.savez(tmp_path / "mine.npz", X0=views[0], X1=views[1], y=y)
    out = tmp_path / "labels.txt"
    args = ["--method", "conan", "--n-clusters", "3", "--epochs", "2", "--device", "cpu"]
    assert main(["fit", str(tmp_path / "mine.npz"), *args, "-o", str(out)]) == 0
    labels = np.loadtxt(out, dtype=int)
    assert labels.shape == (60,) and labels.max() < 3
    printed = capsys.readouterr().out
    assert "against the file's labels: accuracy" in printed

    scipy.io.savemat(tmp_path / "mine.mat", {"X1": views[0].T, "X2": views[1].T})  # d x n
    assert (
        main(
            [
                "fit",
                str(tmp_path / "mine.mat"),
                *args,
                "--scale",
                "auto",
                "-o",
                str(tmp_path / "l.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "l.npy").shape == (60,)
    assert "against" not in capsys.readouterr().out  # no labels in that file


def test_fit_reports_bad_files_cleanly(tmp_path, capsys):
    (tmp_path / "x.csv").write_text("1,2\n")
    assert main(["fit", str(tmp_path / "x.csv"), "--method", "conan", "--n-clusters", "2"]) == 2
    assert "expected a .npz or .mat file" in capsys.readouterr().err


def test_benchmark_quick_on_synthetic_data(tmp_path, capsys):
    import json

    out = tmp_path / "results.json"
    code = main(
        [
            "benchmark",
            "--methods",
            "conan",
            "eamc",
            "--datasets",
            "blobs",
            "--n-samples",
            "60",
            "--epochs",
            "1",
            "--seeds",
            "2",
            "--device",
            "cpu",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "profile quick, 2 seed(s)" in printed
    assert any(line.startswith("eamc") and "blobs" in line for line in printed.splitlines())
    results = json.loads(out.read_text())
    assert [r["method"] for r in results] == ["conan", "eamc"]
    run = results[0]["runs"][1]
    assert run["seed"] == 1 and run["epochs"] == 1 and 0 <= run["accuracy"] <= 1
    assert run["peak_rss_mb"] > 0
    # EAMC's learned view weights are recorded (one per view, summing to one); CONAN has none.
    assert "view_weights" not in run
    weights = results[1]["runs"][0]["view_weights"]
    assert len(weights) == 2 and abs(sum(weights) - 1) < 1e-3
    # Where the time went, stage by stage: EAMC pre-trains, then trains, one epoch each.
    stages = results[1]["runs"][0]["stages"]
    assert [s["stage"] for s in stages] == ["pretrain", "train"]
    assert all(s["epochs"] == 1 and s["steps"] >= 1 and s["seconds"] >= 0 for s in stages)
    assert all(s["stopped"] == "max_epochs" for s in stages)


def test_benchmark_rows_name_the_machine():
    """A results row says which machine measured it: cores and torch build, and the CPU
    model where the system names it (the same seed can train differently on another CPU)."""
    import os

    import torch

    from skmvc._benchmark import machine_description

    text = machine_description()
    assert f"{os.cpu_count()} cores" in text
    assert text.endswith(f"torch {torch.__version__}")


def _blobs_file(tmp_path):
    import numpy as np

    from skmvc.datasets import make_multiview_blobs

    views, y = make_multiview_blobs(60, 3, view_features=(4, 5), random_state=0)
    np.savez(tmp_path / "mine.npz", X0=views[0], X1=views[1], y=y)
    return str(tmp_path / "mine.npz")


def test_set_reaches_any_parameter_and_epochs_caps_every_stage(tmp_path, monkeypatch):
    import skmvc._cli

    seen = {}
    make = skmvc._cli.make_estimator

    def recorded(*args, **kwargs):  # the estimator the command line builds, as built
        est = make(*args, **kwargs)
        seen.update(est.get_params())
        return est

    monkeypatch.setattr(skmvc._cli, "make_estimator", recorded)
    args = ["fit", _blobs_file(tmp_path), "--method", "cmmc", "--n-clusters", "3", "--quiet"]
    sets = ["--set", "lr=0.01", "--set", "encoder_layers=(16, 8)", "--set", "feature_dim=4"]
    assert main([*args, "--epochs", "2", *sets, "--device", "cpu"]) == 0
    assert seen["pretrain_epochs"] == seen["max_epochs"] == seen["finetune_epochs"] == 2
    assert seen["lr"] == 0.01 and seen["encoder_layers"] == (16, 8) and seen["feature_dim"] == 4


def test_epochs_caps_what_auto_epochs_give_on_the_data():
    """``--epochs N`` never lengthens a stage: ``"auto"`` is resolved on the data's size
    first (48 + 15 + 9 epochs on 5 000 samples), then capped."""
    from skmvc._cli import make_estimator

    def epochs(cap, n_samples):
        est = make_estimator("cmmc", {"n_clusters": 3}, n_samples, epochs=cap)
        return [est.pretrain_epochs, est.max_epochs, est.finetune_epochs]

    assert epochs(100, 5000) == [48, 15, 9]
    assert epochs(30, 5000) == [30, 15, 9]
    assert epochs(100, 500) == [100, 50, 30]
    assert epochs(None, 5000) == ["auto"] * 3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "missing.npz", "--method", "cmmc", "--n-clusters", "3"], "No such file"),
        (["fit", "{file}", "--method", "nope", "--n-clusters", "3"], "invalid choice: 'nope'"),
        (
            ["fit", "{file}", "--method", "cmmc", "--n-clusters", "3", "--set", "foo=1"],
            "CMMCClustering has no parameter 'foo'",
        ),
        (
            ["fit", "{file}", "--method", "cmmc", "--n-clusters", "3", "--set", "lr=-1"],
            "'lr' parameter of CMMCClustering",
        ),
        (
            ["fit", "{file}", "--method", "cmmc", "--n-clusters", "3", "--set", "lr"],
            "expected NAME=VALUE",
        ),
        (["fit", "{bad}", "--method", "cmmc", "--n-clusters", "3"], "not a valid .npz file"),
        (
            ["benchmark", "--methods", "conan", "--datasets", "nope", "--data-dir", "{dir}"],
            "No data set 'nope'",
        ),
        (
            ["benchmark", "--methods", "conan", "--datasets", "blobs", "--set", "device=cpu"],
            "--set device: the benchmark sets it itself",
        ),
        (["demo", "--epochs", "0"], "--epochs must be >= 1"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, message, tmp_path, capsys):
    (tmp_path / "bad.npz").write_text("not an archive")
    fill = {"file": _blobs_file(tmp_path), "bad": str(tmp_path / "bad.npz"), "dir": str(tmp_path)}
    argv = [a.format(**fill) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_progress_is_on_by_default_on_stderr(tmp_path, capsys):
    args = ["fit", _blobs_file(tmp_path), "--method", "crrc", "--n-clusters", "3"]
    assert main([*args, "--epochs", "2", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    for stage in ("pretrain", "train"):
        assert re.search(rf"{stage}: 100%.*2/2 \[.*<.*loss=", err), err


def test_fit_prepares_views_with_the_row_norm_asked_for(tmp_path, monkeypatch):
    import skmvc._cli as cli
    from skmvc.preprocessing import ViewScaler

    made = []

    class Recording(ViewScaler):
        def fit(self, X, y=None):
            made.append((self.kind, self.row_norm))
            return super().fit(X, y)

    monkeypatch.setattr(cli, "ViewScaler", Recording)
    args = ["--method", "eamc", "--n-clusters", "3", "--epochs", "1", "--device", "cpu", "-q"]
    assert main(["fit", _blobs_file(tmp_path), *args, "--scale", "auto", "--row-norm", "l2"]) == 0
    assert main(["fit", _blobs_file(tmp_path), *args]) == 0
    assert main(["fit", _blobs_file(tmp_path), *args, "--scale", "minmax"]) == 0
    conan = ["--method", "conan", *args[2:]]
    assert main(["fit", _blobs_file(tmp_path), *conan]) == 0  # CONAN: min-max by default
    assert made == [("auto", "l2"), ("auto", "rms"), ("minmax", "rms"), ("minmax", "l2")]
