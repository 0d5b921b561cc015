"""Lowd–Meek against known linear and polynomial victims."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.svm import SVC, SVR, LinearSVC

from mlextract.attacks import LowdMeek
from mlextract.attacks._lowd_meek import (
    Search,
    boundary_sample,
    boundary_through,
    bracket_influence,
    lowd_meek_query_bound,
)
from mlextract.metrics import parameter_error, uniform_agreement
from mlextract.oracles import Domain, LabelOnly, LocalOracle


def _data(d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (400, d)) * rng.uniform(0.5, 3, d)
    y = X @ rng.normal(size=d) > 0.2
    return X, y


@pytest.mark.parametrize("victim", [
    LogisticRegression(C=100, max_iter=2000), LinearSVC(C=10), SVC(kernel="linear"),
    Perceptron(random_state=0),
])
def test_recovers_linear_victims(victim):
    X, y = _data(5)
    victim.fit(X, y)
    dom = Domain.from_data(X)
    res = LowdMeek(random_state=0).extract(LocalOracle(victim, output="label", domain=dom))
    assert res.status == "success", res.message
    # the count is exactly the formula: w + d·⌈log2(L/τ)⌉ with τ = 1e-3·L
    assert res.n_queries == lowd_meek_query_bound(res.info["n_witness"], 5, 1e-3)
    assert res.info["n_searches"] == 5
    assert parameter_error(victim, res.model, up_to="scale") < 0.01
    assert uniform_agreement(victim, res.model, dom, n=20_000) > 0.995


@pytest.mark.parametrize("d, seed", [(20, 0), (20, 1), (50, 0), (50, 1)])
def test_high_dimension_999_within_the_formula(d, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (500, d)) * rng.uniform(0.5, 3, d)
    w = rng.normal(size=d)
    oracle = LocalOracle(lambda Z: (Z @ w > 0.3).astype(int), classes=[0, 1],
                         domain=Domain.from_data(X))
    res = LowdMeek(random_state=seed).extract(oracle)
    assert res.status == "success", res.message
    assert res.n_queries == oracle.n_queries == lowd_meek_query_bound(
        res.info["n_witness"], d, 1e-3)
    victim = LogisticRegression().fit(X, X @ w > 0.3)  # the same boundary as a model
    victim.coef_, victim.intercept_ = w[None, :], np.array([-0.3])
    assert uniform_agreement(victim, res.model, oracle.domain, n=50_000) >= 0.999
    assert parameter_error(victim, res.model, up_to="scale") < 0.01


def test_a_weight_beyond_the_lever_is_searched_again_on_the_full_chord():
    # nine small weights read first set a short lever; the tenth is 100 times larger
    d = 10
    X = np.random.default_rng(0).uniform(-1, 1, (300, d))
    w = np.full(d, 0.05)
    w[0], w[-1] = 1.0, 5.0
    oracle = LocalOracle(lambda Z: (Z @ w > 0.1).astype(int), classes=[0, 1],
                         domain=Domain.from_data(X))
    res = LowdMeek(random_state=0).extract(oracle)
    assert res.info["n_full_chord_retries"] >= 1
    assert res.status == "success" and res.n_queries <= res.info["query_bound"]
    victim = LogisticRegression().fit(X, X @ w > 0.1)
    victim.coef_, victim.intercept_ = w[None, :], np.array([-0.1])
    assert uniform_agreement(victim, res.model, oracle.domain, n=50_000) >= 0.999


def test_bracket_influence_matches_refitting():
    # the greedy's first-order score against refitting with each point moved
    rng = np.random.default_rng(0)
    d = 4
    w, b = rng.normal(size=d), 0.2
    u = w / np.linalg.norm(w) + 0.3 * rng.normal(size=d)
    u /= np.linalg.norm(u)
    searches = []
    for _ in range(d + 1):  # segments across the boundary with small random brackets
        p = rng.uniform(-0.5, 0.5, d)
        p -= (w @ p + b) / (w @ w) * w
        v = rng.normal(size=d)
        s = Search.segment(p - v, p + v)
        width = rng.uniform(1e-5, 1e-4)
        s.t_neg, s.t_pos = 0.5 - width * rng.random(), 0.5 + width * rng.random()
        searches.append(s)
    wz, bz = boundary_through([s.point() for s in searches], u)
    Q = boundary_sample(wz, bz, 200, rng)
    fast = bracket_influence(searches, wz, bz, u, Q)
    slow = []
    for i in range(len(searches)):
        moved = [t.point() + (t.half_span() if k == i else 0) for k, t in enumerate(searches)]
        w2, b2 = boundary_through(moved, u)
        slow.append(np.sum((Q @ (w2 - wz) + (b2 - bz)) ** 2))
    assert np.allclose(fast, slow, rtol=1e-3)
    assert np.allclose(Q @ wz + bz, 0, atol=1e-9) and np.all(np.abs(Q) <= 1)


def test_query_bound_formula():
    assert lowd_meek_query_bound(2, 10, 1e-3) == 2 + 10 * 10
    assert lowd_meek_query_bound(4, 3, 0.25) == 4 + 3 * 2


def test_probability_oracle_uses_labels_only():
    X, y = _data(3)
    victim = LogisticRegression(C=100).fit(X, y)
    dom = Domain.from_data(X)
    res = LowdMeek(random_state=1).extract(LocalOracle(victim, output="proba", domain=dom))
    assert res.status == "success"
    assert parameter_error(victim, res.model, up_to="scale") < 0.01
    wrapped = LabelOnly(LocalOracle(victim, output="proba", domain=dom))
    res2 = LowdMeek(random_state=1).extract(wrapped)
    assert np.allclose(res2.model.coef_, res.model.coef_)


def test_one_hot_and_boolean_features():
    rng = np.random.default_rng(0)
    n = 600
    cont = rng.uniform(-1, 1, (n, 2))
    group = np.eye(3)[rng.integers(0, 3, n)]
    flag = rng.integers(0, 2, (n, 1)).astype(float)
    X = np.hstack([cont, group, flag])
    w = np.array([2.0, -1.0, 0.5, -0.3, 0.0, 0.4])
    dom = Domain.from_data(X, integer=[5], one_hot_groups=[[2, 3, 4]])
    oracle = LocalOracle(lambda Z: (Z @ w - 0.1 > 0).astype(int), classes=[0, 1], domain=dom)
    res = LowdMeek(random_state=0).extract(oracle)
    assert res.status == "success", res.message
    assert res.info["n_searches"] == 2 + 2 + 1  # 2 continuous, group of 3, one Boolean
    theta = np.append(w, -0.1)[None, :]
    got = np.append(res.model.coef_[0], res.model.intercept_[0])[None, :]
    assert parameter_error(theta, got, up_to="scale", one_hot_groups=[[2, 3, 4]]) < 0.01


def test_polynomial_kernel_through_feature_map():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2))
    y = X[:, 0] ** 2 + X[:, 1] ** 2 < 0.5
    victim = SVC(kernel="poly", degree=2, coef0=1, C=100).fit(X, y)
    dom = Domain.from_data(X)
    res = LowdMeek(degree=2, random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom))
    assert res.n_queries <= res.info["query_bound"]
    assert uniform_agreement(victim, res.model, dom, n=20_000) > 0.99


@pytest.mark.timeout(30)
def test_noisy_answers_terminate_with_honest_status():
    X, y = _data(4)
    victim = LogisticRegression(C=100).fit(X, y)
    rng = np.random.default_rng(0)

    def flipping(Z):  # a defense flipping 20% of the labels at random
        lab = victim.predict(Z).astype(int)
        flip = rng.random(len(Z)) < 0.2
        return np.where(flip, 1 - lab, lab)

    dom = Domain.from_data(X)
    oracle = LocalOracle(flipping, classes=[0, 1], domain=dom)
    res = LowdMeek(random_state=0).extract(oracle, budget=500)
    assert res.n_queries <= res.info["query_bound"]
    assert res.status == "approximate"
    assert res.info["consistency"] < 0.99


def test_constant_victim_and_zero_budget():
    X, _ = _data(2)
    dom = Domain.from_data(X)
    const = LocalOracle(lambda Z: np.zeros(len(Z), int), classes=[0, 1], domain=dom)
    res = LowdMeek(max_witness_queries=10, random_state=0).extract(const)
    assert res.status == "no_convergence" and res.n_queries == 10
    res = LowdMeek(random_state=0).extract(const, budget=0)
    assert res.status == "budget_exhausted" and res.n_queries == 0


def test_bad_input():
    X, y = _data(2)
    dom = Domain.from_data(X)
    reg = LocalOracle(SVR().fit(X, y.astype(float)), domain=dom)
    with pytest.raises(ValueError, match="answers .value."):
        LowdMeek().extract(reg)
    with pytest.raises(ValueError, match="tol must be in"):
        LowdMeek(tol=0).extract(LocalOracle(LogisticRegression().fit(X, y), domain=dom))
    three = LogisticRegression().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="binary"):
        LowdMeek().extract(LocalOracle(three, output="label", domain=dom))
    with pytest.raises(ValueError, match="has none"):
        LowdMeek().extract(LocalOracle(LogisticRegression().fit(X, y), output="label"))
