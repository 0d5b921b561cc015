"""The contract every registered attack keeps (it grows as attacks land).

For each name in ``mlextract.attacks.available()`` there must be a case module
``tests/attacks/contract_cases/case_<name>.py`` defining::

    def make_case(random_state):
        return oracle, settings, budget

a small (< 2 s), seeded victim oracle suited to the attack, the constructor settings
without ``random_state``, and a budget that suffices. The checks: the constructor
only stores; seeded re-runs agree (the same queries, the same copy); queries stay
within the budget and equal the oracle's count; the copy is fitted when the status
says it is usable; a budget of 0 is an honest status; a non-oracle is a TypeError.
"""

import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

from mlextract.attacks import STATUSES, ExtractionResult, available, get
from mlextract.oracles import Oracle

CASES = Path(__file__).parent / "contract_cases"
SEED = 0


def _case_module(name):
    path = CASES / f"case_{name}.py"
    if not path.is_file():
        pytest.fail(
            f"attack {name!r} is registered but has no contract case: add "
            f"tests/attacks/contract_cases/case_{name}.py defining "
            "make_case(random_state) -> (oracle, settings, budget).",
            pytrace=False,
        )
    spec = importlib.util.spec_from_file_location(f"contract_case_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "make_case"):
        pytest.fail(f"{path.name} must define make_case(random_state).", pytrace=False)
    return module


def _case(name, random_state=SEED):
    oracle, settings, budget = _case_module(name).make_case(random_state)
    assert isinstance(oracle, Oracle), f"case_{name}.make_case must return an Oracle first"
    assert "random_state" not in settings, "settings are given without random_state"
    return oracle, dict(settings), budget


def _probe_points(oracle, result):
    """Fixed points to compare copies on: the domain's, else the run's own queries."""
    if oracle.domain is not None and np.all(np.isfinite(oracle.domain.lower)) and np.all(
        np.isfinite(oracle.domain.upper)
    ):
        return oracle.domain.sample(200, random_state=12345)
    X = result.queries.X
    return X[~np.isnan(X).any(axis=1)][:200]


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


NAMES = available()


def test_every_case_defines_make_case():
    paths = sorted(CASES.glob("case_*.py"))
    assert paths, "no contract cases found"
    for path in paths:
        assert callable(_case_module(path.stem[5:]).make_case), path.name
    orphans = [p.name for p in paths if p.stem[5:] not in set(NAMES)]
    if orphans:
        pytest.skip(f"cases without a registered attack (not merged yet?): {orphans}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", NAMES)
def test_constructor_only_stores(name):
    cls = get(name)
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.name != "self"]
    positional = [p.name for p in params if p.kind is not p.KEYWORD_ONLY]
    assert not positional, f"{cls.__name__}.__init__ takes {positional} positionally"
    assert "random_state" in {p.name for p in params}, "an attack takes random_state"
    oracle, settings, _ = _case(name)
    before = oracle.n_queries
    attack = cls(**settings, random_state=SEED)
    assert oracle.n_queries == before  # no work: nothing asked
    stored = attack.get_params()
    for key, value in {**settings, "random_state": SEED}.items():
        assert stored[key] is value, f"{key} is not stored as given"
    public = {k for k in vars(attack) if not k.startswith("_")}
    extra = public - set(stored)
    assert not extra, f"the constructor set attributes beyond its settings: {sorted(extra)}"
    assert not [k for k in vars(attack) if k.endswith("_") and not k.startswith("_")], (
        "fitted attributes (ending in _) belong to extract, not the constructor"
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NAMES)
def test_seeded_reruns_agree_and_stay_within_budget(name):
    cls = get(name)
    results, oracles = [], []
    for _ in range(2):
        oracle, settings, budget = _case(name)
        before = oracle.n_queries
        res = cls(**settings, random_state=SEED).extract(oracle, budget=budget)
        assert isinstance(res, ExtractionResult) and res.status in STATUSES
        assert res.n_queries <= budget, f"{res.n_queries} queries for a budget of {budget}"
        assert res.n_queries == oracle.n_queries - before, "n_queries is the oracle's count"
        assert len(res.queries) >= res.n_queries
        if res.status in ("success", "approximate"):
            assert res.model is not None, f"status {res.status!r} without a model"
        results.append(res)
        oracles.append(oracle)
    a, b = results
    assert a.status == b.status and a.n_queries == b.n_queries
    assert _same(a.queries.X, b.queries.X), "seeded re-runs asked different queries"
    assert _same(a.queries.answers, b.queries.answers)
    if a.model is not None:
        points = _probe_points(oracles[0], a)
        pa, pb = a.model.predict(points), b.model.predict(points)
        assert pa.shape[0] == len(points), "the copy must be fitted (predict works)"
        assert _same(pa, pb), "seeded re-runs returned different copies"
    else:
        assert b.model is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", NAMES)
def test_zero_budget_is_an_honest_status(name):
    oracle, settings, _ = _case(name)
    before = oracle.n_queries
    res = get(name)(**settings, random_state=SEED).extract(oracle, budget=0)
    assert res.status == "budget_exhausted", f"budget 0 gave status {res.status!r}"
    assert res.n_queries == 0 and oracle.n_queries == before


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", NAMES)
def test_extract_needs_an_oracle(name):
    oracle, settings, budget = _case(name)
    attack = get(name)(**settings, random_state=SEED)
    for not_an_oracle in (object(), getattr(oracle, "victim", None), oracle.query):
        if not_an_oracle is None:
            continue
        with pytest.raises(TypeError, match="Oracle"):
            attack.extract(not_an_oracle, budget=budget)
