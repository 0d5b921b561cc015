"""The modAL compatibility layer: each breakage occurs without it and is gone with it.

The "without" tests run a fresh interpreter that never imports mlextract, so that
the repair cannot leak in. When one of them finds modAL working on its own, the
upstream packages changed: the test skips and says which repair may be dropped.
"""

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import sklearn.utils
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import mlextract.active as active
from mlextract.active import MODAL_VERSION, check_X_y, install, load_modal_cluster

ROOT = Path(__file__).resolve().parents[2]


# One fresh interpreter (mlextract imported only at the end) tries each breakage.
PROBE = r'''
import json, sys
out = {}
def attempt(name, code):
    try:
        exec(code, {})
        out[name] = "ok"
    except Exception as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
attempt("teach", """
import numpy as np
from sklearn.linear_model import LogisticRegression
from modAL.models import ActiveLearner
X = np.arange(8.0).reshape(4, 2); y = np.array([0, 1, 0, 1])
ActiveLearner(estimator=LogisticRegression()).teach(X, y)
""")
attempt("expected_error", "import modAL.expected_error")
attempt("cluster", "import modAL.cluster")
import mlextract.active, mlextract.attacks
out["cluster_loaded_by_mlextract"] = "modAL.cluster" in sys.modules
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def without_layer():
    """What modAL does on this machine before the layer is installed."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    return X, y


# ------------------------------------------------------------------- version pin
def test_layer_targets_the_installed_and_pinned_modal():
    installed = metadata.version("modAL-python")
    assert installed == MODAL_VERSION, (
        f"modAL-python {installed} is installed, the layer targets {MODAL_VERSION}: "
        "re-check each repair below and update MODAL_VERSION."
    )
    assert f'"modAL-python=={MODAL_VERSION}"' in (ROOT / "pyproject.toml").read_text()


# ---------------------------------------------------- 1. check_X_y(force_all_finite)
def test_without_layer_teach_raises_type_error(without_layer):
    if without_layer["teach"] == "ok":
        pytest.skip(
            "modAL's teach works without the layer on this scikit-learn/modAL: the "
            "check_X_y repair is no longer needed."
        )
    assert without_layer["teach"].startswith("TypeError")
    assert "force_all_finite" in without_layer["teach"]


def test_with_layer_learner_and_committee_fit_and_teach(data):
    from modAL.models import ActiveLearner, Committee

    X, y = data
    install()
    learner = ActiveLearner(estimator=LogisticRegression())
    learner.fit(X[:20], y[:20])
    learner.teach(X[20:30], y[20:30])
    assert learner.X_training.shape == (30, 4)
    members = [ActiveLearner(estimator=LogisticRegression()) for _ in range(3)]
    committee = Committee(learner_list=members)
    committee.teach(X[:30], y[:30])
    assert committee.predict(X).shape == (60,)


def test_repair_is_bound_inside_modal_only():
    import modAL.models.learners as learners

    repairs = install()
    if "force_all_finite" in inspect.signature(sklearn.utils.check_X_y).parameters:
        pytest.skip("this scikit-learn still accepts force_all_finite: nothing to repair.")
    assert "modAL.models.learners.check_X_y" in repairs
    assert learners.check_X_y is check_X_y
    # scikit-learn itself is untouched: its check_X_y still refuses the old name.
    assert sklearn.utils.check_X_y is not check_X_y
    with pytest.raises(TypeError, match="force_all_finite"):
        sklearn.utils.check_X_y(np.eye(2), [0, 1], force_all_finite=True)


def test_install_is_idempotent():
    assert install() == install()


def test_every_modal_module_calling_the_old_keyword_is_repaired():
    """An upstream module added later with the same call would be caught here."""
    import modAL

    install()
    for info in pkgutil.walk_packages(modAL.__path__, "modAL."):
        try:
            module = importlib.import_module(info.name)
        except (ImportError, AttributeError):
            continue  # cluster, expected_error, dropout (torch): tested on their own
        src = inspect.getsource(module)
        if "force_all_finite=" in src and "check_X_y(" in src:
            assert module.check_X_y is check_X_y, f"{info.name} calls the old check_X_y"


def test_shim_translates_the_keyword():
    X = np.array([[0.0, np.nan], [1.0, 2.0]])
    Xc, _ = check_X_y(X, [0, 1], force_all_finite=False)
    assert np.isnan(Xc[0, 1])
    with pytest.raises(ValueError, match="NaN"):
        check_X_y(X, [0, 1], force_all_finite=True)
    with pytest.raises(TypeError, match="not both"):
        check_X_y(X, [0, 1], force_all_finite=True, ensure_all_finite=True)


# ---------------------------------------------------------- 2. modAL.expected_error
def test_without_layer_expected_error_does_not_import(without_layer):
    if without_layer["expected_error"] == "ok":
        pytest.skip(
            "modAL.expected_error imports on this numpy: upstream fixed np.float; "
            "our expected_error_reduction stays (modAL's refits are stale)."
        )
    assert without_layer["expected_error"].startswith("AttributeError")
    assert "np.float" in without_layer["expected_error"]


def test_with_layer_expected_error_reduction_is_a_modal_strategy(data):
    from modAL.models import ActiveLearner

    X, y = data
    learner = ActiveLearner(
        estimator=LogisticRegression(),
        query_strategy=active.expected_error_reduction,
        X_training=X[:10],
        y_training=y[:10],
    )
    idx, rows = learner.query(X[10:], n_instances=2, random_state=0, n_candidates=5)
    assert idx.shape == (2,) and np.array_equal(rows, X[10:][idx])
    assert "modAL.expected_error" not in sys.modules  # ours replaces it, never imports it


# ------------------------------------------------------------------ 3. modAL.cluster
def test_without_layer_cluster_does_not_import(without_layer):
    if without_layer["cluster"] == "ok":
        pytest.skip("modAL.cluster imports on its own: upstream fixed its sklearn import.")
    assert without_layer["cluster"].startswith("ModuleNotFoundError")
    assert "sklearn.cluster.hierarchical" in without_layer["cluster"]


def test_the_layer_never_loads_cluster(without_layer):
    assert without_layer["cluster_loaded_by_mlextract"] is False


def test_with_layer_cluster_loads_without_patching_sklearn():
    module = load_modal_cluster()
    assert module.HierarchicalClustering.__module__ == "modAL.cluster"
    assert module.AgglomerativeClustering is importlib.import_module(
        "sklearn.cluster"
    ).AgglomerativeClustering
    assert load_modal_cluster() is module
    assert "sklearn.cluster.hierarchical" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("sklearn.cluster.hierarchical")
