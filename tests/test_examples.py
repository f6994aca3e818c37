"""Every example script runs (with reduced settings), so the gallery cannot rot."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, monkeypatch, capsys):
    monkeypatch.setenv("SKMVC_EXAMPLE_EPOCHS", "1")
    runpy.run_path(str(path), run_name="__main__")
    assert "accuracy" in capsys.readouterr().out


def test_there_are_examples():
    assert EXAMPLES
