"""Active query synthesis against RBF SVMs."""

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.svm import SVC

from mlextract.attacks import ActiveSynthesis
from mlextract.metrics import agreement, uniform_agreement
from mlextract.oracles import Domain, LocalOracle


@pytest.mark.timeout(60)
def test_moons_rbf_svm():
    X, y = make_moons(400, noise=0.2, random_state=0)
    victim = SVC().fit(X, y)
    dom = Domain.from_data(X)
    res = ActiveSynthesis(n_queries=300, batch_size=40, random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom))
    assert res.n_queries == 300
    # success is claimed only when the copy's check-point predictions settled
    assert (res.status == "success") == (max(res.info["changes"][-2:]) <= 0.002)
    assert agreement(victim, res.model, X) > 0.97
    assert uniform_agreement(victim, res.model, dom, n=20_000) > 0.97
    errors = [r["copy_error"] for r in res.info["rounds"]]
    assert errors[-1] < errors[0]  # the copy converges round by round


@pytest.mark.timeout(60)
def test_noise_terminates_within_budget():
    X, y = make_moons(200, noise=0.2, random_state=0)
    victim = SVC().fit(X, y)
    rng = np.random.default_rng(0)

    def flipping(Z):
        lab = victim.predict(Z)
        return np.where(rng.random(len(Z)) < 0.2, 1 - lab, lab)

    res = ActiveSynthesis(n_queries=150, batch_size=30, random_state=0).extract(
        LocalOracle(flipping, classes=[0, 1], domain=Domain.from_data(X)))
    assert res.n_queries == 150
    assert np.mean([r["copy_error"] for r in res.info["rounds"]]) > 0.1  # the noise shows
    assert res.info["estimated_agreement"] < 0.9
    # the copy keeps moving under noise: no success is claimed
    assert res.status == "approximate" and "before the copy settled" in res.message
    assert min(res.info["changes"]) > 0.002


@pytest.mark.timeout(60)
def test_stop_early_only_when_settled_and_success_is_earned():
    X, y = make_moons(400, noise=0.2, random_state=1)
    victim = SVC().fit(X, y)
    dom = Domain.from_data(X)
    res = ActiveSynthesis(n_queries=1000, batch_size=40, stop_early=True,
                          random_state=0).extract(LocalOracle(victim, output="label", domain=dom))
    assert res.status == "success" and res.n_queries < 1000
    assert max(res.info["changes"][-2:]) <= 0.002
    assert uniform_agreement(victim, res.model, dom, n=20_000) > 0.99


@pytest.mark.timeout(60)
def test_pool_setting_high_dimension():
    # a 10-d RBF victim whose positive class is a small region: uniform points of the box
    # almost never show it, the attacker's unlabelled pool does
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(900, 10))
    y = (np.linalg.norm(Z[:, :3] - 0.5, axis=1) < 1.2).astype(int)
    victim = SVC(C=10).fit(Z[:450], y[:450])
    pool, X_test = Z[450:700], Z[700:]
    dom = Domain.from_data(Z)
    oracle = LocalOracle(victim, output="label", domain=dom)
    res = ActiveSynthesis(n_queries=400, pool=pool, random_state=0).extract(oracle)
    assert res.n_queries == oracle.n_queries == 400
    assert agreement(victim, res.model, X_test) >= 0.95
    assert uniform_agreement(victim, res.model, dom, n=20_000) > 0.99
    # the same budget without the pool misses most of the small positive region
    blind = ActiveSynthesis(n_queries=400, random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom))
    assert agreement(victim, blind.model, X_test) < 0.9
    # only the pool points the attack chose were asked: each at most once
    asked = oracle.log.X
    hits = (asked[:, None, :] == pool[None]).all(axis=2)
    assert hits.sum(axis=0).max() == 1 and 0 < hits.any(axis=0).sum() < len(pool)


def test_bad_input_and_zero_budget():
    X, y = make_moons(100, random_state=0)
    dom = Domain.from_data(X)
    oracle = LocalOracle(SVC().fit(X, y), output="label", domain=dom)
    with pytest.raises(ValueError, match="kernel must be"):
        ActiveSynthesis(kernel="linear").extract(oracle)
    with pytest.raises(ValueError, match="n_queries must be"):
        ActiveSynthesis(n_queries=0).extract(oracle)
    res = ActiveSynthesis().extract(oracle, budget=0)
    assert res.status == "budget_exhausted" and res.n_queries == 0
    with pytest.raises(ValueError, match="pool must be"):
        ActiveSynthesis(pool=np.ones((3, 5))).extract(oracle)
    with pytest.raises(ValueError, match="pool contains NaN"):
        ActiveSynthesis(pool=np.full((3, 2), np.nan)).extract(oracle)
    with pytest.raises(ValueError, match="tol must be"):
        ActiveSynthesis(tol=1.5).extract(oracle)
    with pytest.raises(ValueError, match="pool_share must be"):
        ActiveSynthesis(pool_share=1.5).extract(oracle)
    with pytest.raises(ValueError, match="pool_share must be"):
        ActiveSynthesis(pool_share=float("nan")).extract(oracle)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("pool_share", [0.0, 0.25, 1.0])
def test_pool_share_counts_the_pool_points_asked(pool_share):
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(600, 6))
    y = (np.linalg.norm(Z[:, :2], axis=1) < 1.0).astype(int)
    victim = SVC(C=10).fit(Z[:300], y[:300])
    pool = Z[300:]
    oracle = LocalOracle(victim, output="label", domain=Domain.from_data(Z))
    n, explore = 200, 0.2
    res = ActiveSynthesis(n_queries=n, pool=pool, pool_share=pool_share, explore=explore,
                          random_state=0).extract(oracle)
    assert res.n_queries == n
    # round 0: 10% of n (at least 20), of which all but the explore share are pool points;
    # each later round of 5% of n (at least 10): pool_share of its non-uniform part
    n0, batch = max(20, n // 10), max(10, n // 20)
    first = n0 - int(round(explore * n0))
    per_round = int(pool_share * (batch - int(round(explore * batch))))
    expected = first + per_round * ((n - n0) // batch)
    hits = (oracle.log.X[:, None, :] == pool[None]).all(axis=2)
    assert hits.sum(axis=0).max() == 1  # no pool point asked twice
    assert hits.any(axis=0).sum() == expected
