"""Equation solving: exact recovery per family, query counts, domains, bad input."""

import math

import numpy as np
import pytest
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, StandardScaler
from sklearn.svm import LinearSVC

from mlextract.attacks import EquationSolving, OneVsRestLogistic, SigmoidEnsemble
from mlextract.attacks._equation_solving import detect_decimals
from mlextract.attacks._feature_discovery import find_steps
from mlextract.attacks._linear_equations import gauss_newton
from mlextract.metrics import agreement, max_proba_gap, parameter_error, uniform_agreement
from mlextract.oracles import Domain, LabelOnly, LocalOracle, Rounded

pytestmark = pytest.mark.timeout(60)


def _data(n_classes=2, n_features=6, seed=0):
    X, y = make_classification(
        n_samples=400, n_features=n_features, n_informative=min(n_features, 4),
        n_redundant=0, n_classes=n_classes, n_clusters_per_class=1, random_state=seed,
    )
    return X, y


def _oracle(victim, X, **kw):
    return LocalOracle(victim, domain=Domain.from_data(X), **kw)


def _exact_agreement(victim, copy, X, domain):
    assert agreement(victim, copy, X) == 1.0
    assert uniform_agreement(victim, copy, domain, n=5000) == 1.0


def _naive_log_odds_solve(victim, domain, rng):
    """Slow, obviously correct: d + 1 random points, one np.linalg.solve per ratio."""
    d = domain.n_features
    X = domain.sample(d + 1, random_state=rng)
    P = victim.predict_proba(X)
    A = np.hstack([X, np.ones((d + 1, 1))])
    return np.column_stack(
        [np.linalg.solve(A, np.log(P[:, k]) - np.log(P[:, 0])) for k in range(1, P.shape[1])]
    )


# ---------------------------------------------------------------- binary and softmax
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_exact_with_d_plus_1_queries(seed):
    X, y = _data(seed=seed)
    victim = LogisticRegression().fit(X, y)
    oracle = _oracle(victim, X)
    res = EquationSolving(family="binary", random_state=seed).extract(oracle)
    assert res.status == "success"
    assert res.n_queries == X.shape[1] + 1 == oracle.n_queries
    assert parameter_error(victim, res.model) < 1e-9
    _exact_agreement(victim, res.model, X, oracle.domain)


def test_binary_matches_naive_solve():
    X, y = _data(seed=3)
    victim = LogisticRegression().fit(X, y)
    oracle = _oracle(victim, X)
    res = EquationSolving(family="binary").extract(oracle)
    naive = _naive_log_odds_solve(victim, oracle.domain, 0)
    ours = np.concatenate([res.model.coef_[0], res.model.intercept_])
    np.testing.assert_allclose(ours, naive[:, 0], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("n_classes", [3, 5])
def test_softmax_exact_with_d_plus_1_queries(n_classes):
    X, y = _data(n_classes=n_classes, n_features=7, seed=n_classes)
    victim = LogisticRegression().fit(X, y)
    oracle = _oracle(victim, X)
    res = EquationSolving(family="softmax").extract(oracle)
    assert res.status == "success"
    assert res.n_queries == X.shape[1] + 1  # not c(d+1): every w_k − w_0 at once
    assert parameter_error(victim, res.model, up_to="class_shift") < 1e-9
    naive = _naive_log_odds_solve(victim, oracle.domain, 1)
    ours = (res.model.coef_ - res.model.coef_[0]).T[:, 1:]
    ours_b = res.model.intercept_[1:] - res.model.intercept_[0]
    np.testing.assert_allclose(np.vstack([ours, ours_b]), naive, rtol=1e-7, atol=1e-9)
    _exact_agreement(victim, res.model, X, oracle.domain)


def test_pipeline_with_scaler_recovers_the_composed_affine_map():
    X, y = _data(seed=4)
    X = X * np.array([1.0, 10.0, 100.0, 0.1, 1000.0, 1.0]) + 50.0
    victim = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    oracle = _oracle(victim, X)
    res = EquationSolving(family="binary").extract(oracle)
    sc, lr = victim[0], victim[-1]
    coef = lr.coef_ / sc.scale_
    intercept = lr.intercept_ - coef @ sc.mean_
    true = np.hstack([coef, intercept[:, None]])
    assert res.n_queries == X.shape[1] + 1
    assert parameter_error(true, res.model) < 1e-9
    _exact_agreement(victim, res.model, X, oracle.domain)


def test_platt_scaled_svm_is_a_binary_model():
    X, y = _data(seed=5)
    victim = CalibratedClassifierCV(LinearSVC(), method="sigmoid", ensemble=False).fit(X, y)
    oracle = _oracle(victim, X)
    res = EquationSolving(family="binary").extract(oracle)
    member = victim.calibrated_classifiers_[0]
    svm, cal = member.estimator, member.calibrators[0]
    # p_1 = σ(−(a·(w·x + c) + b))
    true = -cal.a_ * np.hstack([svm.coef_, svm.intercept_[:, None]])
    true[0, -1] -= cal.b_
    assert res.status == "success" and res.n_queries == X.shape[1] + 1
    assert parameter_error(true, np.hstack([res.model.coef_, res.model.intercept_[:, None]])) < 1e-9


def test_platt_ensemble_solved_as_average_of_sigmoids():
    X, y = _data(n_features=4, seed=6)
    victim = CalibratedClassifierCV(LinearSVC(), method="sigmoid", ensemble=True, cv=3).fit(X, y)
    oracle = _oracle(victim, X)
    auto = EquationSolving(family="auto", random_state=0).extract(oracle)
    assert auto.status == "approximate" and "platt_ensemble" in auto.message
    res = EquationSolving(family="platt_ensemble", n_members=3, random_state=0).extract(
        _oracle(victim, X)
    )
    assert res.status == "success", res.message
    assert isinstance(res.model, SigmoidEnsemble)
    assert res.info["n_minimum"] == 3 * (X.shape[1] + 1)
    Xu = oracle.domain.sample(2000, random_state=1)
    assert max_proba_gap(victim, res.model, Xu) < 1e-9


# ---------------------------------------------------------------- one-vs-rest
def _ovr_true(victim):
    W = np.array([e.coef_[0] for e in victim.estimators_])
    b = np.array([e.intercept_[0] for e in victim.estimators_])
    return np.hstack([W, b[:, None]])


@pytest.mark.parametrize("n_classes,seed", [(3, 0), (4, 1), (6, 2)])
def test_ovr_exact_near_the_counting_minimum(n_classes, seed):
    X, y = _data(n_classes=n_classes, n_features=6, seed=seed)
    victim = OneVsRestClassifier(LogisticRegression()).fit(X, y)
    oracle = _oracle(victim, X)
    res = EquationSolving(family="ovr", random_state=seed).extract(oracle)
    d = X.shape[1]
    n_min = math.ceil(n_classes * (d + 1) / (n_classes - 1))
    assert res.status == "success", res.message
    assert res.info["n_minimum"] == n_min
    assert n_min < res.n_queries <= 2 * (d + 1)
    assert isinstance(res.model, OneVsRestLogistic)
    assert parameter_error(_ovr_true(victim), res.model) < 1e-9
    _exact_agreement(victim, res.model, X, oracle.domain)


def test_auto_detects_ovr_with_one_check_query():
    X, y = _data(n_classes=4, seed=7)
    victim = OneVsRestClassifier(LogisticRegression()).fit(X, y)
    res = EquationSolving(random_state=0).extract(_oracle(victim, X))
    assert res.info["family"] == "ovr" and res.info["queries"]["check"] == 1
    assert res.status == "success"
    assert parameter_error(_ovr_true(victim), res.model) < 1e-9


def test_ovr_copy_normalises_like_one_vs_rest_classifier():
    X, y = _data(n_classes=3, seed=8)
    victim = OneVsRestClassifier(LogisticRegression()).fit(X, y)
    t = _ovr_true(victim)
    copy = OneVsRestLogistic.from_parameters(t[:, :-1], t[:, -1], victim.classes_)
    np.testing.assert_allclose(copy.predict_proba(X), victim.predict_proba(X), rtol=1e-12)
    assert np.array_equal(copy.predict(X), victim.predict(X))
    with pytest.raises(NotImplementedError, match="from_parameters"):
        copy.fit(X, y)


# ---------------------------------------------------------------- one-hot domains
def _one_hot_problem(n_classes, seed):
    """3 numeric features and groups of 3 and 4 categories: d = 10, G = 2."""
    rng = np.random.default_rng(seed)
    groups = [[3, 4, 5], [6, 7, 8, 9]]
    dom = Domain([-1, 0, 0] + [0] * 7, [1, 5, 10] + [1] * 7, one_hot_groups=groups)
    X = dom.sample(600, random_state=rng)
    W = rng.normal(size=(n_classes, 10))
    y = np.argmax(X @ W.T + rng.gumbel(size=(600, n_classes)), axis=1)
    return dom, X, y


@pytest.mark.parametrize("family", ["binary", "softmax", "ovr"])
def test_one_hot_groups_valid_queries_and_minimum(family):
    n_classes = 2 if family == "binary" else 4
    dom, X, y = _one_hot_problem(n_classes, seed=9)
    base = LogisticRegression(max_iter=2000)
    victim = (OneVsRestClassifier(base) if family == "ovr" else base).fit(X, y)
    oracle = LocalOracle(victim, domain=dom)
    res = EquationSolving(family=family, random_state=0).extract(oracle)
    assert res.status == "success", res.message
    assert dom.contains(res.queries.X).all()  # every query a valid encoding
    d, G = 10, 2
    if family == "ovr":
        assert res.n_queries <= 2 * (d + 1 - G)
        true, up_to = _ovr_true(victim), None
    else:
        assert res.n_queries == d + 1 - G
        true, up_to = victim, ("class_shift" if family == "softmax" else None)
    assert parameter_error(true, res.model, up_to=up_to, one_hot_groups=dom.one_hot_groups) < 1e-9
    _exact_agreement(victim, res.model, X, dom)


# ---------------------------------------------------------------- binned features
def _binned_victim(n_classes=3, seed=24):
    X, y = _data(n_classes=n_classes, seed=seed)
    bins = KBinsDiscretizer(n_bins=5, encode="onehot-dense", strategy="quantile",
                            quantile_method="averaged_inverted_cdf")
    ct = ColumnTransformer([("bins", bins, [0, 2])], remainder="passthrough")
    return X, make_pipeline(ct, LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.mark.parametrize("binned", ["auto", [0, 2]])
def test_binned_features_found_by_line_search(binned):
    X, victim = _binned_victim()
    oracle = _oracle(victim, X)
    res = EquationSolving(family="softmax", binned=binned, random_state=0).extract(oracle)
    assert res.status == "success", res.message
    assert res.info["binned"] == [0, 2]
    span = oracle.domain.upper - oracle.domain.lower
    true = victim[0].named_transformers_["bins"].bin_edges_
    for j, found, edges in zip([0, 2], res.info["bin_edges"], true):
        assert found.shape == edges[1:-1].shape
        assert np.max(np.abs(found - edges[1:-1])) <= 1e-9 * span[j]
    n_bins_queries = res.info["queries"]["bins"]
    # the design: 4 raw features, two groups of 5 bins, the base point
    assert res.n_queries == n_bins_queries + 4 + 2 * 4 + 1
    _exact_agreement(victim, res.model, X, oracle.domain)


def test_find_steps_against_a_scan():
    edges = np.array([0.1, 0.1003, 0.55, 0.9])

    def answer(t):
        return np.searchsorted(edges, t, side="right")[:, None].astype(float)

    found, n = find_steps(answer, 0.0, 1.0, n_grid=16, tol=1e-10)
    np.testing.assert_allclose(found, edges, atol=1e-10)
    scan = np.linspace(0, 1, 100_001)
    naive = scan[1:][np.diff(answer(scan)[:, 0]) != 0]  # first point after each step
    np.testing.assert_allclose(found, naive, atol=1e-5)
    assert n < 200


def test_binned_features_bad_indices():
    X, victim = _binned_victim()
    with pytest.raises(ValueError, match="binned"):
        EquationSolving(binned=[7]).extract(_oracle(victim, X))
    with pytest.raises(ValueError, match="binned"):
        EquationSolving(binned="all").extract(_oracle(victim, X))


# ---------------------------------------------------------------- saturation, rounding
def test_saturated_base_point_is_moved_to_the_boundary():
    X, y = _data(seed=10)
    victim = LogisticRegression().fit(X, y)
    victim.coef_ = victim.coef_ * 40
    victim.intercept_ = victim.intercept_ * 40 + 60.0  # the centre answers p = 1.0
    oracle = _oracle(victim, X)
    assert oracle.query(oracle.domain.sample(1, random_state=0)).min() < 1e-6
    res = EquationSolving(family="binary", random_state=0).extract(oracle)
    extra = res.info["queries"].get("boundary", 0) + res.info["queries"].get("saturation", 0)
    assert extra > 0 and res.n_queries == X.shape[1] + 1 + extra
    assert res.status == "success" and "saturated" in res.message
    assert parameter_error(victim, res.model) < 1e-9


def test_saturated_steps_are_halved():
    X, y = _data(seed=11)
    victim = LogisticRegression().fit(X, y)
    victim.coef_ = victim.coef_ * 30
    victim.intercept_ = np.zeros(1)
    dom = Domain(np.full(6, -10.0), np.full(6, 10.0))
    oracle = LocalOracle(victim, domain=dom)
    res = EquationSolving(family="binary").extract(oracle)
    assert res.info["queries"]["saturation"] > 0
    assert parameter_error(victim, res.model) < 1e-9


@pytest.mark.parametrize("decimals", [3, 5])
def test_rounded_answers_give_an_approximate_copy(decimals):
    X, y = _data(n_classes=3, seed=12)
    victim = LogisticRegression().fit(X, y)
    oracle = Rounded(_oracle(victim, X), decimals=decimals)
    res = EquationSolving(family="softmax", random_state=0).extract(oracle)
    assert res.status == "approximate" and "approximate" in res.message
    assert res.info["decimals"] == decimals
    d = X.shape[1]
    assert res.n_queries <= 4 * (d + 1)
    assert agreement(victim, res.model, X) >= 0.99
    assert parameter_error(victim, res.model, up_to="class_shift") < 10.0 ** (2 - decimals)


def test_rounded_one_vs_rest_answers():
    X, y = _data(n_classes=3, seed=25)
    victim = OneVsRestClassifier(LogisticRegression()).fit(X, y)
    oracle = Rounded(_oracle(victim, X), decimals=4)
    res = EquationSolving(family="ovr", random_state=0).extract(oracle)
    assert res.status == "approximate" and res.info["decimals"] == 4
    assert res.n_queries <= 4 * math.ceil(3 * (X.shape[1] + 1) / 2)
    assert agreement(victim, res.model, X) >= 0.99
    assert parameter_error(_ovr_true(victim), res.model) < 0.05


def test_detect_decimals():
    assert detect_decimals(np.array([[0.25, 0.75], [0.5, 0.5]])) == 2
    assert detect_decimals(expit(np.array([[0.3, 1.7]]))) is None


def test_verification_reports_the_residual():
    X, y = _data(seed=13)
    victim = LogisticRegression().fit(X, y)
    res = EquationSolving(family="binary", verify=5, random_state=0).extract(_oracle(victim, X))
    assert res.n_queries == X.shape[1] + 1 + 5
    assert res.info["verified"] and res.info["verify_residual"] < 1e-12


def test_verification_flags_a_wrong_family():
    X, y = _data(n_classes=3, seed=14)
    victim = OneVsRestClassifier(LogisticRegression()).fit(X, y)
    res = EquationSolving(family="softmax", verify=3, random_state=0).extract(_oracle(victim, X))
    assert res.status == "approximate" and not res.info["verified"]
    assert res.info["verify_residual"] > 1e-6


def test_gauss_newton_solves_a_small_nonlinear_system():
    def fun(x):
        return np.array([x[0] ** 2 + x[1] - 3.0, x[0] - x[1] ** 3 + 7.0])

    def jac(x):
        return np.array([[2 * x[0], 1.0], [1.0, -3 * x[1] ** 2]])

    x, res = gauss_newton(fun, jac, np.array([1.2, 1.8]))
    assert res < 1e-13 and np.allclose(x, [1.0, 2.0])


# ---------------------------------------------------------------- bad input
def test_label_only_oracle_is_a_clear_error():
    X, y = _data(seed=15)
    oracle = LabelOnly(_oracle(LogisticRegression().fit(X, y), X))
    with pytest.raises(ValueError, match="'proba'"):
        EquationSolving().extract(oracle)
    assert oracle.n_queries == 0


def test_oracle_without_domain_is_a_clear_error():
    X, y = _data(seed=16)
    with pytest.raises(ValueError, match="domain"):
        EquationSolving().extract(LocalOracle(LogisticRegression().fit(X, y)))


@pytest.mark.parametrize("settings,match", [
    ({"family": "tree"}, "family"), ({"n_queries": 0}, "n_queries"),
    ({"verify": -1}, "verify"), ({"n_members": 0}, "n_members"),
    ({"verify": 1.5}, "verify"),
])
def test_bad_settings(settings, match):
    X, y = _data(seed=17)
    with pytest.raises(ValueError, match=match):
        EquationSolving(**settings).extract(_oracle(LogisticRegression().fit(X, y), X))


def test_binary_family_on_a_multiclass_victim_is_an_error():
    X, y = _data(n_classes=3, seed=18)
    oracle = _oracle(LogisticRegression().fit(X, y), X)
    with pytest.raises(ValueError, match="two classes"):
        EquationSolving(family="binary").extract(oracle)
    assert oracle.n_queries == 0


def test_zero_and_short_budgets_are_a_status():
    X, y = _data(seed=19)
    oracle = _oracle(LogisticRegression().fit(X, y), X)
    res = EquationSolving().extract(oracle, budget=0)
    assert res.status == "budget_exhausted" and res.model is None and res.n_queries == 0
    res = EquationSolving(family="ovr").extract(
        _oracle(OneVsRestClassifier(LogisticRegression()).fit(*_data(3, seed=19)), X), budget=5
    )
    assert res.status == "budget_exhausted" and res.n_queries <= 5


def test_nan_answers_are_an_oracle_error():
    X, y = _data(seed=20)
    victim = LogisticRegression().fit(X, y)

    def broken(Z):
        P = victim.predict_proba(Z)
        P[0, 0] = np.nan
        return P

    oracle = LocalOracle(broken, output="proba", domain=Domain.from_data(X), classes=[0, 1])
    res = EquationSolving().extract(oracle)
    assert res.status == "oracle_error" and "probability" in res.message


def test_wrong_answer_shape_is_an_oracle_error():
    X, y = _data(seed=21)
    oracle = LocalOracle(lambda Z: np.ones(len(Z)), output="proba", domain=Domain.from_data(X))
    res = EquationSolving().extract(oracle)
    assert res.status == "oracle_error" and "shape" in res.message


def test_queries_with_nan_are_rejected_by_the_oracle_not_solved():
    X, y = _data(seed=22)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        Domain.from_data(X)


def test_seeded_runs_agree():
    X, y = _data(n_classes=3, seed=23)
    victim = OneVsRestClassifier(LogisticRegression()).fit(X, y)
    a = EquationSolving(family="ovr", random_state=3).extract(_oracle(victim, X))
    b = EquationSolving(family="ovr", random_state=3).extract(_oracle(victim, X))
    np.testing.assert_array_equal(a.queries.X, b.queries.X)
    np.testing.assert_array_equal(a.model.coef_, b.model.coef_)


def test_rounded_one_hot_answers_give_no_equation_but_no_crash():
    # Every answer rounded to a one-hot vector carries no log-ratio: the weighted
    # least squares has no rows, and its minimum-norm solution is zero.
    from mlextract.attacks._linear_equations import solve_rounded_log_ratios

    A = np.hstack([np.eye(3), np.ones((3, 1))])
    P = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    theta = solve_rounded_log_ratios(A, P, 0.1)
    assert theta.shape == (4, 2) and np.all(theta == 0)
    # a confident softmax victim rounded to one decimal answers one-hot vectors
    X, y = _data(n_classes=3, seed=3)
    victim = LogisticRegression(C=1e4, max_iter=5000).fit(X * 50, y)
    oracle = Rounded(_oracle(victim, X * 50), decimals=1)
    res = EquationSolving(family="softmax", random_state=0).extract(oracle)
    assert res.status == "approximate" and res.model is not None
    assert res.n_queries <= 4 * (X.shape[1] + 1)
