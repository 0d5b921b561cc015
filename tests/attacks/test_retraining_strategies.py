"""Retraining's line-search and adaptive strategies, and searched kernel copies."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_moons
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from mlextract.attacks import Retraining, SearchedSVC
from mlextract.metrics import agreement, uniform_agreement
from mlextract.oracles import Domain, LocalOracle


def _linear(seed=0):
    X, y = make_classification(600, 8, n_informative=5, random_state=seed)
    victim = LogisticRegression(max_iter=1000).fit(X, y)
    return X, victim, Domain.from_data(X)


@pytest.mark.parametrize("strategy", ["line_search", "adaptive"])
def test_boundary_strategies_beat_uniform(strategy):
    X, victim, dom = _linear()
    copy = LogisticRegression(C=1e4, max_iter=5000)
    scores = {}
    for s in ("uniform", strategy):
        res = Retraining(n_queries=200, strategy=s, model=copy, random_state=0).extract(
            LocalOracle(victim, output="label", domain=dom))
        assert res.n_queries == 200 and res.status == "success"
        scores[s] = uniform_agreement(victim, res.model, dom, n=20_000)
    assert scores[strategy] > scores["uniform"]
    assert scores[strategy] > 0.99


def test_alpha_budget_is_alpha_times_parameters():
    X, victim, dom = _linear()
    res = Retraining(alpha=10, strategy="adaptive", random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom))
    assert res.n_queries == 10 * (8 + 1)


@pytest.mark.timeout(60)
def test_rbf_copy_with_searched_width():
    X, y = make_moons(300, noise=0.2, random_state=0)
    victim = SVC(gamma=2.0).fit(X, y)
    dom = Domain.from_data(X)
    res = Retraining(n_queries=300, strategy="adaptive", model="rbf", random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom))
    assert isinstance(res.model, SearchedSVC)
    assert agreement(victim, res.model, X) > 0.95


def test_noisy_victim_reports_copy_error():
    X, victim, dom = _linear()
    rng = np.random.default_rng(0)

    def flipping(Z):
        lab = victim.predict(Z)
        return np.where(rng.random(len(Z)) < 0.25, 1 - lab, lab)

    res = Retraining(n_queries=200, strategy="adaptive", random_state=0).extract(
        LocalOracle(flipping, classes=[0, 1], domain=dom))
    assert res.n_queries == 200
    assert res.info["rounds"][-1]["copy_error"] > 0.1


def test_bad_settings():
    X, victim, dom = _linear()
    oracle = LocalOracle(victim, output="label", domain=dom)
    with pytest.raises(ValueError, match="strategy must be"):
        Retraining(strategy="active").extract(oracle)
    with pytest.raises(ValueError, match="alpha must be"):
        Retraining(alpha=-1).extract(oracle)
    with pytest.raises(ValueError, match="model must be"):
        Retraining(model="linear-ish").extract(oracle)
    res = Retraining(strategy="adaptive").extract(oracle, budget=0)
    assert res.status == "budget_exhausted"


def test_multiclass_adaptive_from_probabilities():
    X, y = make_classification(600, 6, n_informative=4, n_classes=3, n_clusters_per_class=1,
                               random_state=0)
    victim = LogisticRegression(max_iter=1000).fit(X, y)
    dom = Domain.from_data(X)
    res = Retraining(alpha=10, strategy="adaptive", model=LogisticRegression(C=1e4, max_iter=5000),
                     random_state=0).extract(LocalOracle(victim, output="proba", domain=dom))
    assert res.n_queries == 10 * 3 * (6 + 1)  # α·c·(d+1)
    assert agreement(victim, res.model, X) > 0.98
