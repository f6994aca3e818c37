"""Every example script runs with reduced settings and draws its figure, so the gallery
cannot rot."""

import runpy
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
    monkeypatch.syspath_prepend(str(EXAMPLES_DIR))
    sys.modules.pop("_settings", None)
    plt.close("all")
    runpy.run_path(str(path), run_name="__main__")
    assert plt.get_fignums(), f"{path.name} drew no figure"
    assert "accuracy" in capsys.readouterr().out
    plt.close("all")


def test_there_are_examples():
    assert len(EXAMPLES) >= 7
