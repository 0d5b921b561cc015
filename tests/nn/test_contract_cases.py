"""The nn attacks' contract cases, run through the shared contract here as well."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils.validation import check_is_fitted

from mlextract.attacks import get

CASES = Path(__file__).resolve().parents[1] / "attacks" / "contract_cases"
NAMES = ["mlp_equation_solving", "knockoff_nets", "jacobian_augmentation",
         "temperature_distillation", "semi_supervised"]


def _case(name):
    spec = importlib.util.spec_from_file_location(f"case_{name}", CASES / f"case_{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_case


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", NAMES)
def test_contract(name):
    make_case = _case(name)
    cls = get(name)
    oracle, settings, budget = make_case(0)
    attack = cls(**settings, random_state=0)
    assert attack.get_params()["random_state"] == 0
    assert oracle.n_queries == 0  # the constructor asked nothing
    first = attack.extract(oracle, budget=budget)
    assert first.n_queries <= budget
    check_is_fitted(first.model)
    oracle2, settings2, _ = make_case(0)
    second = cls(**settings2, random_state=0).extract(oracle2, budget=budget)
    np.testing.assert_array_equal(first.queries.X, second.queries.X)
    X = first.queries.X[:5]
    np.testing.assert_array_equal(first.model.predict(X), second.model.predict(X))
    oracle3, settings3, _ = make_case(0)
    zero = cls(**settings3, random_state=0).extract(oracle3, budget=0)
    assert zero.status == "budget_exhausted" and zero.n_queries == 0
