"""Every example script runs with reduced settings and draws its figure, so the gallery
cannot rot; one runs copied into an empty folder, as a user runs it."""

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, monkeypatch, capsys):
    monkeypatch.setenv("SKMVC_EXAMPLE_QUICK", "1")
    plt.close("all")
    runpy.run_path(str(path), run_name="__main__")
    assert plt.get_fignums(), f"{path.name} drew no figure"
    assert "accuracy" in capsys.readouterr().out
    plt.close("all")


def test_there_are_examples():
    assert len(EXAMPLES) >= 7


def test_an_example_runs_copied_into_an_empty_folder(tmp_path):
    """Only skmvc and the example: no helper module beside it, no private import."""
    script = shutil.copy(EXAMPLES_DIR / "plot_quickstart.py", tmp_path)
    # One torch thread, as in the test processes (two would contend with the other worker).
    env = {**os.environ, "SKMVC_EXAMPLE_QUICK": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "accuracy" in done.stdout


def test_examples_import_only_public_names():
    for path in EXAMPLES:
        text = path.read_text()
        assert "import _" not in text and "._" not in text.replace("__", ""), path.name
