"""MLP equation solving: exact recovery of seeded victims within the budget of unknowns."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from mlextract.metrics import agreement, max_proba_gap, uniform_agreement
from mlextract.nn import MLPEquationSolving, Network
from mlextract.nn._mlp_equation_solving import log_ratio_targets
from mlextract.oracles import Domain, LabelOnly, LocalOracle, Rounded


def _victim(d=30, h=10, c=5, seed=1):
    net = Network.random([d, h, c], activation="tanh", random_state=seed)
    net.coefs_[0] *= 3
    return net, Domain([-1] * d, [1] * d)


@pytest.mark.timeout(60)
def test_recovers_a_seeded_victim_with_as_many_queries_as_unknowns():
    victim, dom = _victim()
    oracle = LocalOracle(victim, output="proba", domain=dom)
    res = MLPEquationSolving(hidden_layer_sizes=(10,), random_state=0).extract(oracle)
    assert res.n_queries == victim.n_parameters == 365
    assert res.status == "success"
    assert uniform_agreement(victim, res.model, dom, n=20_000) >= 0.999
    X = dom.sample(2000, random_state=5)
    assert max_proba_gap(victim, res.model, X) < 1e-5


@pytest.mark.timeout(60)
def test_binary_sklearn_victim_and_logit_answers():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 6))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    mlp = MLPClassifier((4,), activation="tanh", max_iter=500, random_state=0).fit(X, y)
    dom = Domain([-1] * 6, [1] * 6)
    oracle = LocalOracle(mlp, output="proba", domain=dom)
    res = MLPEquationSolving(hidden_layer_sizes=(4,), random_state=0).extract(oracle)
    assert res.n_queries == 4 * 7 + 5
    # one equation per binary answer: as many as unknowns is not enough to be sure
    assert res.status == "approximate"
    res = MLPEquationSolving(hidden_layer_sizes=(4,), n_queries=66,
                             random_state=0).extract(oracle)
    assert res.status == "success"
    assert agreement(mlp, res.model, dom.sample(5000, random_state=1)) >= 0.999
    victim, dom = _victim(d=5, h=3, c=3, seed=3)
    res = MLPEquationSolving(hidden_layer_sizes=(3,), random_state=0).extract(
        LocalOracle(victim, output="logit", domain=dom))
    assert res.status == "success"
    assert uniform_agreement(victim, res.model, dom, n=5000) >= 0.999


def test_log_ratio_targets_against_slow_version():
    P = np.array([[0.7, 0.2, 0.1], [0.5, 0.0, 0.5]])
    D, known, ref = log_ratio_targets(P, "proba", floor=1e-10)
    assert ref == 0
    for i in range(2):
        for j in range(3):
            if P[i, j] > 1e-10 and j != ref:
                assert D[i, j] == pytest.approx(np.log(P[i, j]) - np.log(P[i, ref]))
                assert known[i, j]
    assert not known[1, 1] and not known[0, 0]


@pytest.mark.timeout(60)
def test_rounded_answers_give_an_approximate_copy_without_nan():
    victim, dom = _victim(d=6, h=3, c=3, seed=2)
    oracle = Rounded(LocalOracle(victim, output="proba", domain=dom), decimals=2)
    res = MLPEquationSolving(hidden_layer_sizes=(3,), n_restarts=2,
                             random_state=0).extract(oracle)
    assert res.info["floor"] == pytest.approx(0.005)
    assert np.all(np.isfinite(res.model.coefs_[0]))
    assert agreement(victim, res.model, dom.sample(2000, random_state=1)) > 0.9


def test_zero_budget_and_bad_input():
    victim, dom = _victim(d=4, h=2, c=3)
    oracle = LocalOracle(victim, output="proba", domain=dom)
    res = MLPEquationSolving(hidden_layer_sizes=(2,)).extract(oracle, budget=0)
    assert res.status == "budget_exhausted" and res.n_queries == 0
    small = MLPEquationSolving(hidden_layer_sizes=(2,), random_state=0).extract(oracle,
                                                                                budget=5)
    assert small.status == "budget_exhausted" and small.n_queries == 5
    with pytest.raises(ValueError, match="answering"):
        MLPEquationSolving().extract(LabelOnly(oracle))
    with pytest.raises(ValueError, match="domain"):
        MLPEquationSolving().extract(LocalOracle(victim, output="proba"))
    for bad in ({"hidden_layer_sizes": (0,)}, {"activation": "swish"}, {"n_restarts": 0},
                {"n_queries": -3}, {"floor": 2.0}):
        with pytest.raises(ValueError):
            MLPEquationSolving(**bad).extract(oracle)
