"""The one registry of attacks, and mlextract.extract."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import mlextract
from mlextract.attacks import Attack, Retraining, _registry, available, extract, get, register
from mlextract.oracles import Domain, LocalOracle


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry, so test attacks never leak into it."""
    reg = dict(_registry._REGISTRY)
    monkeypatch.setattr(_registry, "_REGISTRY", reg)
    return reg


def test_available_is_sorted_and_holds_the_baseline():
    names = available()
    assert names == sorted(names) and "retraining" in names
    assert mlextract.available() == names


def test_every_registered_attack_is_an_attack_with_its_name():
    for name in available():
        cls = get(name)
        assert issubclass(cls, Attack) and cls.name == name
        assert cls.outputs and set(cls.outputs) <= {"label", "proba", "logit", "value"}


def test_get_unknown_names_the_available_ones():
    with pytest.raises(ValueError, match="unknown attack 'nope'; available: .*retraining"):
        get("nope")


def test_register_and_conflicts(registry):
    @register
    class Mine(Attack):
        name = "test_mine"

    assert get("test_mine") is Mine and "test_mine" in available()
    assert register(Mine) is Mine  # registering again (a module reload) is fine

    class Other(Attack):
        name = "test_mine"

    with pytest.raises(ValueError, match="'test_mine' is taken by Mine"):
        register(Other)

    class Nameless(Attack):
        pass

    with pytest.raises(ValueError, match="needs a non-empty class attribute 'name'"):
        register(Nameless)


def test_extract_by_name():
    X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    victim = LogisticRegression().fit(X, y)
    oracle = LocalOracle(victim, output="label", domain=Domain.from_data(X))
    res = mlextract.extract(oracle, method="retraining", n_queries=150, random_state=0,
                            budget=200)
    assert res.attack == "retraining" and res.n_queries == 150 and res.success
    same = Retraining(n_queries=150, random_state=0).extract(
        LocalOracle(victim, output="label", domain=Domain.from_data(X))
    )
    np.testing.assert_array_equal(res.queries.X, same.queries.X)
    with pytest.raises(TypeError, match="unexpected keyword"):
        extract(oracle, method="retraining", epochs=3)
