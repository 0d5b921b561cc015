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
    assert res.status == "success" and res.n_queries == 300
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
