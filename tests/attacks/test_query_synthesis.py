"""Query synthesis through the version space, against known halfspaces (d ≤ 5)."""

import numpy as np
import pytest
from sklearn.svm import SVR

from mlextract.attacks import QuerySynthesis
from mlextract.attacks._query_synthesis import VersionSpace
from mlextract.oracles import Domain, LocalOracle


def _angle(a, b):
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    return float(np.arccos(np.clip(a @ b, -1, 1)))


def _halfspace(w, b=0.0):
    return lambda X: (X @ w + b > 0).astype(int)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("d", [2, 5])
@pytest.mark.parametrize("centre", ["analytic", "chebyshev"])
def test_homogeneous_recovery_within_epsilon(d, centre):
    eps = 0.01
    w = np.random.default_rng(d).normal(size=d)
    oracle = LocalOracle(_halfspace(w), classes=[0, 1], domain=Domain(-np.ones(d), np.ones(d)))
    res = QuerySynthesis(epsilon=eps, centre=centre, fit_intercept=False,
                         random_state=0).extract(oracle)
    assert res.status == "success", res.message
    assert _angle(res.model.coef_[0], w) <= eps * np.pi  # the certificate holds
    assert res.info["angle_bound"] <= eps * np.pi
    # within the centre-of-gravity guarantee 1.5·d·log2(1/ε) (+ the random first query)
    n = res.info["n_synthesis"]
    assert n <= 1.5 * d * np.log2(1 / eps) + 1
    assert res.n_queries == n + res.info["n_verify"]


@pytest.mark.timeout(60)
def test_affine_victim_lifted():
    w, b = np.array([1.0, -2.0, 0.5]), 0.3
    dom = Domain(-np.ones(3), 2 * np.ones(3))
    oracle = LocalOracle(_halfspace(w, b), classes=[0, 1], domain=dom)
    res = QuerySynthesis(epsilon=0.01, random_state=0).extract(oracle)
    got = np.append(res.model.coef_[0], res.model.intercept_[0])
    assert _angle(got, np.append(w, b)) < 0.05
    assert res.n_queries <= 4 * 4 * np.log2(100) + 20


def test_centre_is_consistent_and_slow_check():
    # a slow check of the version space: the centre satisfies every answer,
    # and lies inside the unit ball
    rng = np.random.default_rng(0)
    w = rng.normal(size=3)
    Z = rng.normal(size=(12, 3))
    y = np.where(Z @ w > 0, 1, -1)
    vs = VersionSpace(3, capacity=4)  # grows (rebuilds) as answers arrive
    vs.add(Z, y)
    c = vs.centre()
    assert np.all(y * (Z @ c) > 0) and np.linalg.norm(c) < 1
    assert vs.capacity == 16 and vs.n_builds == 2
    vs.add(Z[:1], -y[:1])  # a contradiction: no halfspace fits
    assert vs.centre() is None


@pytest.mark.timeout(60)
def test_label_noise_terminates_and_reports():
    w = np.array([1.0, -1.0, 0.5])
    rng = np.random.default_rng(0)

    def flipping(X):
        lab = (X @ w > 0).astype(int)
        return np.where(rng.random(len(X)) < 0.3, 1 - lab, lab)

    oracle = LocalOracle(flipping, classes=[0, 1], domain=Domain(-np.ones(3), np.ones(3)))
    res = QuerySynthesis(epsilon=0.001, fit_intercept=False, random_state=0).extract(
        oracle, budget=150)
    assert res.n_queries <= 150
    assert res.status in ("approximate", "budget_exhausted")
    assert res.model is not None


def test_bad_input():
    d = 2
    dom = Domain(-np.ones(d), np.ones(d))
    X = dom.sample(50, random_state=0)
    with pytest.raises(ValueError, match="answers .value."):
        QuerySynthesis().extract(LocalOracle(SVR().fit(X, X[:, 0]), domain=dom))
    with pytest.raises(ValueError, match="epsilon must be"):
        QuerySynthesis(epsilon=0).extract(LocalOracle(_halfspace(np.ones(d)), domain=dom))
    with pytest.raises(ValueError, match="0 inside"):
        QuerySynthesis(fit_intercept=False).extract(
            LocalOracle(_halfspace(np.ones(d)), domain=Domain(np.zeros(d), np.ones(d))))
    res = QuerySynthesis().extract(LocalOracle(_halfspace(np.ones(d)), domain=dom), budget=0)
    assert res.status == "budget_exhausted" and res.n_queries == 0
