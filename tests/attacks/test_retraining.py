"""The uniform retraining baseline, end to end through extract."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from mlextract.attacks import Retraining
from mlextract.metrics import agreement, uniform_agreement
from mlextract.oracles import Domain, LocalOracle


@pytest.fixture(scope="module")
def linear():
    X, y = make_classification(n_samples=500, n_features=5, random_state=0)
    return LogisticRegression().fit(X, y), X, Domain.from_data(X)


def test_copies_a_linear_victim(linear):
    victim, X, dom = linear
    res = Retraining(n_queries=2000, random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom)
    )
    assert res.status == "success" and res.n_queries == 2000
    assert agreement(victim, res.model, X) > 0.97
    assert uniform_agreement(victim, res.model, dom, n=20_000) > 0.97


@pytest.mark.parametrize("output", ["proba", "logit"])
def test_scores_are_turned_into_labels(linear, output):
    victim, X, dom = linear
    res = Retraining(n_queries=500, random_state=0).extract(
        LocalOracle(victim, output=output, domain=dom)
    )
    assert res.success and set(res.model.classes_) == {0, 1}


def test_regression_copy_is_exact():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(100, 3))
    victim = LinearRegression().fit(X, X @ [1.0, -2.0, 0.5] + 3.0)
    res = Retraining(n_queries=20, random_state=0).extract(
        LocalOracle(victim, domain=Domain.from_data(X))
    )
    np.testing.assert_allclose(res.model.coef_, victim.coef_, atol=1e-10)


def test_smaller_budget_fits_on_what_it_got(linear):
    victim, X, dom = linear
    oracle = LocalOracle(victim, output="label", domain=dom)
    res = Retraining(n_queries=1000, random_state=0).extract(oracle, budget=300)
    assert res.status == "budget_exhausted" and res.n_queries == 300 == oracle.n_queries
    assert res.info["n_uniform"] == 300 and agreement(victim, res.model, X) > 0.9


def test_one_class_answers_give_a_constant_copy():
    X = np.random.default_rng(0).uniform(size=(50, 2))
    victim = DecisionTreeClassifier().fit(X, np.zeros(50, dtype=int))
    res = Retraining(n_queries=30, random_state=0).extract(
        LocalOracle(victim, output="label", domain=Domain.from_data(X))
    )
    assert res.status == "approximate" and isinstance(res.model, DummyClassifier)


@pytest.mark.parametrize(
    "settings, match",
    [({"n_queries": 0}, "n_queries must be a positive integer; got 0"),
     ({"n_queries": 2.5}, "positive integer"),
     ({"strategy": "active"}, "strategy must be one of .*; got 'active'"),
     ({"model": "lr"}, "model must be an estimator")],
)
def test_bad_settings(linear, settings, match):
    victim, X, dom = linear
    oracle = LocalOracle(victim, output="label", domain=dom)
    with pytest.raises(ValueError, match=match):
        Retraining(**settings).extract(oracle)
    assert oracle.n_queries == 0


def test_needs_a_domain_and_a_matching_copy(linear):
    victim, X, dom = linear
    with pytest.raises(ValueError, match="this oracle has none"):
        Retraining().extract(LocalOracle(victim, output="label"))
    with pytest.raises(ValueError, match="the copy model must be one too"):
        Retraining(model=LinearRegression(), n_queries=5).extract(
            LocalOracle(victim, output="label", domain=dom)
        )
