import subprocess
import sys

from skmvc._cli import main


def test_demo_prints_a_metrics_table(capsys):
    assert main(["demo", "--epochs", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "UCI Handwritten: 2000 samples, 6 views" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("model"))
    assert header.split() == ["model", "ACC", "NMI", "purity", "ARI", "fit", "(s)"]
    rows = [line for line in lines if line.startswith(("k-means", "CONAN"))]
    assert len(rows) == 2
    acc = float(rows[0].split()[-5])
    assert 0.5 < acc <= 1.0  # k-means on the scaled views


def test_bad_device_is_a_clean_error(capsys):
    assert main(["demo", "--epochs", "1", "--device", "nonsense"]) == 2
    assert "not a valid torch device" in capsys.readouterr().err


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "skmvc", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("skmvc ")
