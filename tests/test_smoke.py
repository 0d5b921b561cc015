"""The README's main job runs, and the package imports its public face."""

import subprocess
import sys
import time

import mlextract


def test_public_face():
    assert "retraining" in mlextract.available()
    assert mlextract.__version__


def test_reproduce_quick_runs_within_a_minute(tmp_path):
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mlextract.cli", "reproduce", "--quick", "--no-progress",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "README.md").exists()
    assert "0 failed" in proc.stdout
    # The smoke budget of the issue: the quick reproduction stays light.
    assert time.perf_counter() - t0 < 600
