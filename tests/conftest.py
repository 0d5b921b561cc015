"""Shared fixtures: seeded data, the reference data folder, plotting off-screen."""

import os
from pathlib import Path

# BLAS threads limited to the cores, before numpy loads (CI exports them too).
try:
    _CORES = str(len(os.sched_getaffinity(0)) or 1)
except (AttributeError, OSError):
    _CORES = str(os.cpu_count() or 1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _CORES)

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_data_dir():
    """../shared/data, or None. Under CI=true its absence is a failure."""
    env = os.environ.get("MLEXTRACT_DATA_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    return None


@pytest.fixture
def data_dir():
    d = shared_data_dir()
    if d is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but ../shared/data is absent")
        pytest.skip("reference data absent: ../shared/data (or $MLEXTRACT_DATA_DIR) not found")
    return d
