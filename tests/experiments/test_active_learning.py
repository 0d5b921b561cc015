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


def test_ceiling_note_states_the_shortfall():
    from mlextract.experiments.active_learning import ceiling_note

    low = ceiling_note(100.0, 95.0, 1000, best=(100.0, 96.0))
    assert "uniform by 4.00 points" in low and "held-out by" not in low
    assert "neither the whole pool nor any run" in low and "out of reach" in low
    assert ceiling_note(99.5, 99.2, 1000).endswith("reached.")
    # the whole pool short of 99% on held-out, a subset above: not called out of reach
    lr = ceiling_note(98.9, 99.4, 1000, best=(99.3, 99.6))
    assert "held-out by 0.10 points" in lr and "out of reach" not in lr
    # the whole pool reaches 99%, the runs did not within their budget
    quick = ceiling_note(99.5, 99.5, 1000, best=(98.0, 97.0))
    assert "within its budget" in quick and "out of reach" not in quick


def test_pool_ceiling_fits_the_copy_on_every_candidate():
    from sklearn.linear_model import LogisticRegression

    from mlextract.experiments.active_learning import Victim, pool_ceiling
    from mlextract.oracles import Domain

    X, y = make_classification(n_samples=600, n_features=3, n_redundant=0, random_state=1)
    victim = LogisticRegression().fit(X[:300], y[:300])
    dom = Domain.from_data(X)
    v = Victim("lr", "lr", victim, LogisticRegression(), X[300:], dom)
    U = dom.sample(2000, random_state=3)
    test, unif = pool_ceiling(v, 4, (U, victim.predict(U)))
    # the slow, explicit version: label all 600 candidates, fit, compare
    C = np.vstack([X[300:], dom.sample(300, random_state=4)])
    copy = LogisticRegression().fit(C, victim.predict(C))
    assert test == np.mean(copy.predict(X[300:]) == victim.predict(X[300:]))
    assert unif == np.mean(copy.predict(U) == victim.predict(U))
    assert test > 0.98 and unif > 0.98  # same family, noise-free labels


def test_summary_says_when_the_ceiling_makes_the_target_unreachable():
    from mlextract.experiments.active_learning import THRESHOLDS, Victim, _summary

    def res(n_random, n_named):
        out = {}
        for strat, n in (("random", n_random), (NAMED["svm_digits"], n_named)):
            reached = {(c, t): n for c in ("test", "unif", "both") for t in THRESHOLDS}
            out[(strat, 0)] = {"reached": reached, "curve": [(10, 0.9, 0.9), (n or 9, 0.995,
                                                                            0.97)]}
        return out

    v = Victim("svm_digits", "svm", None, None, np.zeros((5, 2)), None)
    good = res(400, 100) | {"ceiling": [(1.0, 0.995)]}
    bad = res(None, None) | {"ceiling": [(0.996, 0.95)]}
    rows = _summary([(v, good), (v, bad)], [0], {"svm_digits": 1000}).rows
    assert rows[0][3] == "100.00 / 99.50" and rows[0][4] == "99.50 / 97.00"
    assert rows[0][5].startswith("4.00") and rows[0][7] == "Met on 1 of 1 seeds."
    assert rows[1][3] == "99.60 / 95.00" and "out of reach" in rows[1][7]


def test_learning_curve_with_fresh_uniform_goes_past_the_pool():
    from sklearn.linear_model import LogisticRegression

    from mlextract.experiments.active_learning import SYNTHESIS, Victim
    from mlextract.oracles import Domain

    X, y = make_classification(n_samples=400, n_features=3, n_redundant=0, random_state=1)
    victim = LogisticRegression().fit(X[:300], y[:300])
    dom = Domain.from_data(X)
    v = Victim("lr", "lr", victim, LogisticRegression(), X[370:], dom)  # 30 rows
    U = dom.sample(1000, random_state=3)
    out = learning_curve(v, "margin", 0, budget=90, uniform=(U, victim.predict(U)),
                         batch_size=0.5, **SYNTHESIS)
    assert out["n_queries"] == 90 > 2 * 30  # more than the 60 pool candidates
    assert out["curve"][-1][2] > 0.95


def test_synthesis_table_savings_and_bounds():
    from mlextract.experiments.active_learning import THRESHOLDS, Victim, _synthesis_table

    def run(n):
        reached = {(c, t): n for c in ("test", "unif", "both") for t in THRESHOLDS}
        return {"reached": reached, "curve": [(10, 0.9, 0.9), (n or 50, 0.99, 0.97)],
                "seconds": 1.0}

    seeds = [0, 1]
    results = {("named+fresh", 0): run(400), ("named+fresh", 1): run(250),
               ("random+fresh", 0): run(1200), ("random+fresh", 1): run(None),
               ("random (pool)", 0): run(None), ("random (pool)", 1): run(None),
               "ceiling": [(1.0, 0.94), (1.0, 0.95)]}
    v = Victim("tree_german", "tree", None, None, np.zeros((500, 2)), None)
    rows = _synthesis_table(v, results, seeds, 3000, 1000, 0).rows
    # vs the pool: random never reached within its 1,000 rows -> bounds 2.5 and 4
    assert rows[0][6] == ">3.25 (2.50–4.00)"
    # vs the same source: 1200/400 = 3 and a bound 3000/250 = 12
    assert rows[0][7] == ">7.50 (3.00–12.00)"
    assert rows[0][5] == 2 and rows[2][5] == 0 and rows[2][1] == 1000
    assert rows[-1][-2] == 94.5


def test_uniform_limits_row():
    from sklearn.linear_model import LogisticRegression

    from mlextract.experiments.active_learning import Victim, uniform_limits
    from mlextract.oracles import Domain

    X, y = make_classification(n_samples=400, n_features=3, n_redundant=0, random_state=1)
    victim = LogisticRegression().fit(X[:200], y[:200])
    dom = Domain.from_data(X)
    v = Victim("lr", "lr", victim, LogisticRegression(), X[200:], dom)
    row = uniform_limits(v, n_uniform=2000, n_labelled=2000, n_active=300)
    U = dom.sample(2000, random_state=100)
    shares = np.bincount(victim.predict(U)) / 2000
    assert row[1].startswith(f"{np.argmax(shares)}: {100 * shares.max():.1f}%")
    assert row[2] > 0 and row[3] > 0 and 0 <= row[4] <= 100
    assert row[5] > 99 and row[7] > 98  # same family, noise-free: nearly exact
    best, queries = row[8].split(" (")
    assert float(best) > 95 and 10 <= int(queries.rstrip(")").replace(",", "")) <= 300
