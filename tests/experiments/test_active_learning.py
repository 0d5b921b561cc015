"""The active-learning reproduction's helpers: fast SVM evaluation, savings with bounds."""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.svm import SVC

from mlextract.experiments.active_learning import (
    NAMED,
    fast_predict,
    learning_curve,
    make_victim,
    ratio_cells,
    summarise_ratios,
)


def test_fast_predict_equals_libsvm():
    X, y = make_classification(n_samples=400, n_features=6, random_state=0)
    svc = SVC().fit(X[:200], y[:200])
    Z = np.random.default_rng(0).normal(scale=3, size=(50_000, 6))
    assert np.array_equal(fast_predict(svc, Z), svc.predict(Z))
    assert np.array_equal(fast_predict(svc, X), svc.predict(X))


def test_savings_with_bounds():
    cells = ratio_cells([400, None, 300, None], [100, 200, None, None], budget=1000)
    assert cells[0] == (4.0, "") and cells[1] == (5.0, ">") and cells[2] == (0.3, "<")
    assert np.isnan(cells[3][0])
    assert summarise_ratios(cells[:2]) == (">4.50", "4.00–5.00")
    assert summarise_ratios(ratio_cells([None], [None], 10))[0].startswith("–")


def test_named_strategies_are_fixed_and_valid():
    from mlextract.attacks._active_extraction import STRATEGY_NAMES

    assert set(NAMED) == {"svm_digits", "lr_adult", "tree_german", "mlp_digits"}
    assert set(NAMED.values()) <= set(STRATEGY_NAMES) - {"random"}


def test_learning_curve_records_thresholds():
    v = make_victim("svm_digits")
    U = v.domain.sample(500, random_state=0)
    out = learning_curve(v, "uncertainty", 0, budget=60, uniform=(U, v.victim.predict(U)),
                         batch_size=0.5)
    ns = [c[0] for c in out["curve"]]
    assert ns[0] == 10 and ns[-1] == out["n_queries"] == 60
    for (crit, t), n in out["reached"].items():
        if n is not None:
            row = out["curve"][ns.index(n)]
            assert (crit == "unif" or row[1] >= t) and (crit == "test" or row[2] >= t)
