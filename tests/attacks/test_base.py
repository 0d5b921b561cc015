"""The Attack protocol: settings stored, one extract, failures become statuses."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from mlextract import BudgetExhausted, OracleError
from mlextract.attacks import Attack, ExtractionResult
from mlextract.oracles import Domain, LocalOracle


class Steps(Attack):
    """Queries ``steps`` batches of ``batch`` rows, refitting the copy after each."""

    name = "test_steps"
    outputs = ("label",)

    def __init__(self, *, steps=3, batch=10, fit=True, random_state=None):
        self.steps = steps
        self.batch = batch
        self.fit = fit
        self.random_state = random_state

    def _validate_params(self):
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1; got {self.steps}.")

    def _check_oracle(self, oracle):
        if oracle.domain is None:
            raise ValueError("Steps needs a domain.")

    def _extract(self, run):
        X_all, y_all = [], []
        run.info["remaining_at_start"] = run.remaining()
        for k in range(self.steps):
            X = run.oracle.domain.sample(self.batch, random_state=run.rng)
            y_all.append(run.oracle.query(X, phase=f"step{k}"))
            X_all.append(X)
            if self.fit:
                run.model = LogisticRegression().fit(np.vstack(X_all), np.concatenate(y_all))


class Flaky:
    def __init__(self, model, fail_after):
        self.model, self.fail_after, self.rows = model, fail_after, 0

    def __call__(self, X):
        if self.rows + len(X) > self.fail_after:
            raise RuntimeError("HTTP 503")
        self.rows += len(X)
        return self.model.predict(X)


@pytest.fixture(scope="module")
def victim():
    X, y = make_classification(n_samples=300, n_features=3, n_redundant=0, random_state=0)
    return LogisticRegression().fit(X, y), Domain.from_data(X)


def _oracle(victim, **kw):
    model, dom = victim
    return LocalOracle(model, output="label", domain=dom, **kw)


def test_constructor_stores_and_params_round_trip():
    a = Steps(steps=5, random_state=3)
    assert a.get_params() == {"batch": 10, "fit": True, "random_state": 3, "steps": 5}
    assert a.set_params(batch=2) is a and a.batch == 2
    with pytest.raises(ValueError, match="Steps has no setting 'epochs'"):
        a.set_params(epochs=1)
    assert repr(a) == "Steps(batch=2, fit=True, random_state=3, steps=5)"
    with pytest.raises(TypeError):
        Steps(5)  # keyword-only


def test_success(victim):
    oracle = _oracle(victim)
    res = Steps(random_state=0).extract(oracle)
    assert isinstance(res, ExtractionResult)
    assert res.status == "success" and res.success and res.n_queries == 30
    assert oracle.n_queries == 30 and len(res.queries) == 30
    assert res.queries.phases.tolist() == ["step0"] * 10 + ["step1"] * 10 + ["step2"] * 10
    assert res.attack == "test_steps" and res.elapsed >= 0
    assert res.info["remaining_at_start"] is None


def test_budget_runs_out_with_the_best_model_so_far(victim):
    oracle = _oracle(victim)
    res = Steps(random_state=0).extract(oracle, budget=25)
    assert res.status == "budget_exhausted" and not res.success
    assert "best copy so far" in res.message
    assert res.n_queries == 20 == oracle.n_queries
    assert res.model is not None and res.model.predict(np.zeros((1, 3))).shape == (1,)


def test_lifetime_budget_runs_out_too(victim):
    oracle = _oracle(victim, budget=15)
    res = Steps(random_state=0).extract(oracle)
    assert res.status == "budget_exhausted" and res.n_queries == 10
    again = Steps(random_state=0).extract(oracle)
    assert again.status == "budget_exhausted" and again.n_queries == 0
    assert again.model is None


def test_budget_zero(victim):
    res = Steps(random_state=0).extract(_oracle(victim), budget=0)
    assert res.status == "budget_exhausted" and res.n_queries == 0 and res.model is None


def test_oracle_error_keeps_the_paid_queries(victim):
    model, dom = victim
    flaky = Flaky(model, fail_after=25)
    oracle = LocalOracle(flaky, domain=dom, classes=[0, 1])
    with pytest.raises(OracleError):  # directly: an exception
        LocalOracle(Flaky(model, fail_after=0), domain=dom).query(dom.sample(1))
    res = Steps(random_state=0).extract(oracle)  # through extract: a status
    assert res.status == "oracle_error" and "HTTP 503" in res.message
    assert res.n_queries == 20 == oracle.n_queries == flaky.rows
    assert len(res.queries) == 20
    np.testing.assert_array_equal(res.queries.answers, model.predict(res.queries.X))
    assert res.model is not None  # fitted on the 20 answers it had


def test_no_model_is_no_convergence(victim):
    res = Steps(fit=False, random_state=0).extract(_oracle(victim))
    assert res.status == "no_convergence" and res.model is None
    assert "no model" in res.message


def test_extract_validates_before_asking(victim):
    model, dom = victim
    with pytest.raises(TypeError, match="needs an mlextract Oracle; got LogisticRegression"):
        Steps().extract(model)
    with pytest.raises(ValueError, match=r"needs an oracle answering one of \('label',\)"):
        Steps().extract(LocalOracle(model, output="proba", domain=dom))
    oracle = _oracle(victim)
    with pytest.raises(ValueError, match="steps must be >= 1; got 0"):
        Steps(steps=0).extract(oracle)
    with pytest.raises(ValueError, match="Steps needs a domain"):
        Steps().extract(LocalOracle(model, output="label"))
    with pytest.raises(ValueError, match="budget must be >= 0"):
        Steps().extract(oracle, budget=-1)
    assert oracle.n_queries == 0


def test_seeded_runs_agree_and_seeds_differ(victim):
    a = Steps(random_state=7).extract(_oracle(victim))
    b = Steps(random_state=7).extract(_oracle(victim))
    c = Steps(random_state=8).extract(_oracle(victim))
    np.testing.assert_array_equal(a.queries.X, b.queries.X)
    assert not np.array_equal(a.queries.X, c.queries.X)


def test_bugs_in_an_attack_are_not_swallowed(victim):
    class Broken(Steps):
        def _extract(self, run):
            raise KeyError("a bug")

    with pytest.raises(KeyError, match="a bug"):
        Broken().extract(_oracle(victim))

    class Overspends(Steps):
        def _extract(self, run):
            raise BudgetExhausted("spent", requested=1, remaining=0)

    assert Overspends().extract(_oracle(victim)).status == "budget_exhausted"
