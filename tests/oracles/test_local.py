"""LocalOracle: output modes, counting, budgets at the boundary, bad input, failures."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from mlextract import BudgetExhausted, OracleError
from mlextract.oracles import Domain, LocalOracle


class CountingVictim:
    """A plain-function victim that counts the calls and rows it is asked."""

    def __init__(self, model, fail_after=None):
        self.model = model
        self.calls = 0
        self.rows = 0
        self.fail_after = fail_after

    def __call__(self, X):
        if self.fail_after is not None and self.rows + len(X) > self.fail_after:
            raise ConnectionError("the API went away")
        self.calls += 1
        self.rows += len(X)
        return self.model.predict(X)


@pytest.fixture(scope="module")
def data3():
    X, y = make_classification(
        n_samples=300, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def lr3(data3):
    X, y = data3
    return LogisticRegression(max_iter=1000).fit(X, y)


@pytest.fixture(scope="module")
def lr2():
    X, y = make_classification(n_samples=200, n_features=4, random_state=1)
    return LogisticRegression().fit(X, y), X


@pytest.fixture(scope="module")
def reg():
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    return LinearRegression().fit(X, y), X


# ------------------------------------------------------------------ output modes
def test_label_output_is_predict(lr3, data3):
    X = data3[0][:20]
    o = LocalOracle(lr3, output="label")
    np.testing.assert_array_equal(o.query(X), lr3.predict(X))
    assert o.query(X).shape == (20,)


def test_proba_output_is_predict_proba(lr3, data3):
    X = data3[0][:20]
    o = LocalOracle(lr3, output="proba")
    ans = o.query(X)
    assert ans.shape == (20, 3)
    np.testing.assert_array_equal(ans, lr3.predict_proba(X))


def test_logit_output_is_decision_function(lr3, lr2, data3):
    X = data3[0][:20]
    np.testing.assert_array_equal(
        LocalOracle(lr3, output="logit").query(X), lr3.decision_function(X)
    )
    model, X2 = lr2
    ans = LocalOracle(model, output="logit").query(X2[:7])
    assert ans.shape == (7, 1)  # binary scikit-learn classifiers: one decision value
    np.testing.assert_array_equal(ans[:, 0], model.decision_function(X2[:7]))


def test_value_output_for_regressors(reg):
    model, X = reg
    o = LocalOracle(model)
    assert o.output == "value"
    ans = o.query(X[:5])
    assert ans.shape == (5,) and ans.dtype == np.float64
    np.testing.assert_array_equal(ans, model.predict(X[:5]))


def test_pipeline_victim(data3):
    X, y = data3
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    o = LocalOracle(pipe, output="proba")
    np.testing.assert_array_equal(o.query(X[:5]), pipe.predict_proba(X[:5]))
    assert o.n_features == 4
    np.testing.assert_array_equal(o.classes_, pipe.classes_)
    assert not o.allow_missing  # a tree inside a pipeline does not answer NaN


def test_callable_victim(lr3, data3):
    X = data3[0]
    v = CountingVictim(lr3)
    o = LocalOracle(v, classes=[0, 1, 2], n_features=4)
    assert o.output == "label" and o.n_classes == 3
    np.testing.assert_array_equal(o.query(X[:9]), lr3.predict(X[:9]))
    assert (v.calls, v.rows, o.n_queries) == (1, 9, 9)


def test_default_outputs(lr3, reg):
    assert LocalOracle(lr3).output == "proba"
    assert LocalOracle(reg[0]).output == "value"
    X, y = make_classification(n_samples=50, n_features=3, n_redundant=0, random_state=0)
    assert LocalOracle(LinearSVC().fit(X, y)).output == "label"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"output": "scores"}, "output must be one of"),
        ({"output": "label", "decimals": 2}, "decimals needs numeric"),
        ({"output": "label", "top_k": 1}, "top_k needs"),
        ({"output": "proba", "top_k": 0}, "top_k must be an integer >= 1"),
        ({"output": "proba", "decimals": -1}, "decimals must be an integer >= 0"),
        ({"output": "proba", "decimals": 1.5}, "decimals must be an integer"),
        ({"output": "value"}, "for regressors"),
        ({"budget": -1}, "budget must be >= 0"),
        ({"budget": 2.5}, "non-negative integer"),
        ({"budget": True}, "non-negative integer"),
        ({"allow_missing": True}, "incomplete queries"),
    ],
)
def test_bad_settings_are_refused(lr3, kwargs, match):
    with pytest.raises(ValueError, match=match):
        LocalOracle(lr3, **kwargs)


def test_unsupported_outputs_are_refused(reg, data3):
    X, y = data3
    with pytest.raises(ValueError, match="decision_function"):
        LocalOracle(DecisionTreeClassifier().fit(X, y), output="logit")
    with pytest.raises(ValueError, match="for classifiers"):
        LocalOracle(reg[0], output="proba")
    with pytest.raises(ValueError, match="predict_proba"):
        LocalOracle(LinearSVC().fit(X, y), output="proba")
    with pytest.raises(TypeError, match="victim must be"):
        LocalOracle(None)
    with pytest.raises(TypeError, match="domain must be a Domain"):
        LocalOracle(reg[0], domain=[0, 1])
    with pytest.raises(ValueError, match="the domain has 2 features, the victim 3"):
        LocalOracle(reg[0], domain=Domain([0, 0], [1, 1]))


# ------------------------------------------------------------------ counting
def test_counts_one_query_per_row_and_logs_them(lr3, data3):
    X = data3[0]
    o = LocalOracle(lr3, output="label")
    o.query(X[:3], phase="first")
    o.query(X[3:10], phase="second")
    assert o.n_queries == 10 and len(o.log) == 10
    np.testing.assert_array_equal(o.log.X, X[:10])
    np.testing.assert_array_equal(o.log.answers, lr3.predict(X[:10]))
    assert o.log.phases.tolist() == ["first"] * 3 + ["second"] * 7
    assert o.log.sources.tolist() == ["paid"] * 10
    assert o.log.n_paid == 10
    assert "n_queries=10" in repr(o)


def test_reuse_answers_logged_rows_for_free(lr3, data3):
    X = data3[0]
    v = CountingVictim(lr3)
    o = LocalOracle(v, n_features=4)
    o.query(X[:5])
    ans = o.query(X[3:8], reuse=True)
    np.testing.assert_array_equal(ans, lr3.predict(X[3:8]))
    assert v.rows == 8 and o.n_queries == 8  # rows 3, 4 were not asked again
    assert o.log.sources[-5:].tolist() == ["reused", "reused", "paid", "paid", "paid"]
    o.query(X[:2])  # without reuse, a row is paid again
    assert v.rows == 10 and o.n_queries == 10


# ------------------------------------------------------------------ budget
@pytest.mark.parametrize("budget", [1, 7])
def test_budget_boundary(lr3, data3, budget):
    """Budget b: b rows pass; one more raises before the victim is called."""
    X = data3[0]
    v = CountingVictim(lr3)
    o = LocalOracle(v, n_features=4, budget=budget)
    o.query(X[:budget])
    assert (o.n_queries, v.calls, v.rows, o.remaining) == (budget, 1, budget, 0)
    with pytest.raises(BudgetExhausted) as info:
        o.query(X[budget:budget + 1])
    assert info.value.requested == 1 and info.value.remaining == 0
    assert (o.n_queries, v.calls, v.rows, len(o.log)) == (budget, 1, budget, budget)


def test_budget_refuses_a_whole_batch_that_would_exceed_it(lr3, data3):
    X = data3[0]
    v = CountingVictim(lr3)
    o = LocalOracle(v, n_features=4, budget=5)
    with pytest.raises(BudgetExhausted, match="allows 5 more; the batch needs 6"):
        o.query(X[:6])
    assert (o.n_queries, v.calls) == (0, 0)
    o.query(X[:3])
    with pytest.raises(BudgetExhausted):
        o.query(X[:3])
    assert (o.n_queries, v.rows) == (3, 3)
    o.query(X[:2])  # exactly the rest
    assert (o.n_queries, o.remaining, v.rows) == (5, 0, 5)


def test_budget_zero(lr3, data3):
    v = CountingVictim(lr3)
    o = LocalOracle(v, n_features=4, budget=0)
    with pytest.raises(BudgetExhausted):
        o.query(data3[0][:1])
    assert v.calls == 0


def test_reused_rows_do_not_spend_budget(lr3, data3):
    X = data3[0]
    o = LocalOracle(lr3, output="label", budget=4)
    o.query(X[:4])
    o.query(X[:4], reuse=True)  # all in the log: free
    assert o.n_queries == 4
    with pytest.raises(BudgetExhausted):
        o.query(X[2:5], reuse=True)  # one new row, none left


def test_run_budget_and_lifetime_budget(lr3, data3):
    X = data3[0]
    v = CountingVictim(lr3)
    o = LocalOracle(v, n_features=4, budget=10)
    run = o.run(budget=4)
    run.query(X[:4])
    assert run.run_remaining == 0
    with pytest.raises(BudgetExhausted, match="this run's budget allows 0 more"):
        run.query(X[4:5])
    assert v.rows == 4
    run2 = o.run(budget=100)  # the lifetime cap still holds: 6 left
    assert run2.run_remaining == 6
    with pytest.raises(BudgetExhausted):
        run2.query(X[:7])
    run2.query(X[:6])
    assert (o.n_queries, v.rows, run2.n_asked, o.remaining) == (10, 10, 6, 0)
    assert len(run2.run_log()) == 6
    with pytest.raises(ValueError, match="budget must be >= 0"):
        o.run(budget=-3)


# ------------------------------------------------------------------ bad input
def _bad_inputs():
    good = np.zeros((2, 4))
    inf = good.copy()
    inf[1, 2] = np.inf
    ninf = good.copy()
    ninf[0, 0] = -np.inf
    nan = good.copy()
    nan[0, 3] = np.nan
    return [
        ("wrong width", np.zeros((2, 5)), "X has 5 features, but the oracle expects 4"),
        ("too narrow", np.zeros((2, 3)), "X has 3 features"),
        ("inf", inf, "inf"),
        ("-inf", ninf, "inf"),
        ("nan", nan, "NaN"),
        ("empty", np.zeros((0, 4)), "empty batch"),
        ("1-D", np.zeros(4), "X must be 2-D"),
        ("1-D other width", np.zeros(3), "X must be 2-D"),
        ("3-D", np.zeros((2, 2, 4)), "X must be 2-D"),
        ("scalar", 1.0, "X must be 2-D"),
        ("text", [["a", "b", "c", "d"]], "queries must be numeric"),
        ("ragged", [[1.0, 2.0], [1.0]], "queries must be numeric"),
    ]


@pytest.mark.parametrize("label, X, match", _bad_inputs(), ids=[b[0] for b in _bad_inputs()])
def test_bad_input_raises_before_the_victim_is_asked(lr3, label, X, match):
    v = CountingVictim(lr3)
    o = LocalOracle(v, n_features=4, budget=10)
    with pytest.raises(ValueError, match=match):
        o.query(X)
    assert (v.calls, o.n_queries, len(o.log)) == (0, 0, 0)


@pytest.mark.parametrize(
    "row, match",
    [
        ([2.0, 0.5, 0.0, 1.0], "outside the oracle's domain"),  # above a bound
        ([-0.1, 0.5, 0.0, 1.0], "outside"),  # below a bound
        ([0.5, 0.5, 1.0, 1.0], "outside"),  # one-hot group with two ones
        ([0.5, 0.5, 0.0, 0.0], "outside"),  # one-hot group with none
        ([0.5, 0.5, 0.5, 0.5], "outside"),  # one-hot group not 0/1
    ],
)
def test_values_outside_a_closed_domain(row, match):
    dom = Domain([0, 0, 0, 0], [1, 1, 1, 1], one_hot_groups=[[2, 3]])
    v = CountingVictim(LogisticRegression())
    o = LocalOracle(v, domain=dom)
    with pytest.raises(ValueError, match=match):
        o.query([[0.5, 0.5, 1.0, 0.0], row])
    assert v.calls == 0 and o.n_queries == 0


def test_integer_and_categorical_domain_checks():
    dom = Domain([0, 0], [10, 5], integer=[0], categorical={1: [1.0, 2.5]})
    o = LocalOracle(lambda X: X[:, 0], domain=dom)
    o.query([[3.0, 2.5]])
    with pytest.raises(ValueError, match="outside"):
        o.query([[3.5, 2.5]])
    with pytest.raises(ValueError, match="outside"):
        o.query([[3.0, 2.0]])


def test_open_domain_accepts_any_finite_input():
    dom = Domain([0.0], [1.0], closed=False)
    o = LocalOracle(lambda X: X[:, 0], domain=dom)
    np.testing.assert_array_equal(o.query([[5.0], [-3.0]]), [5.0, -3.0])
    with pytest.raises(ValueError, match="inf"):
        o.query([[np.inf]])


def test_nan_allowed_only_for_incomplete_queries(data3):
    X, y = data3
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    o = LocalOracle(tree, output="label")
    assert o.allow_missing
    Xq = X[:2].copy()
    Xq[0, 1] = np.nan
    assert o.query(Xq).shape == (2,)
    closed = LocalOracle(tree, allow_missing=False)
    with pytest.raises(ValueError, match="does not accept incomplete queries"):
        closed.query(Xq)


# ------------------------------------------------------------------ failures
def test_victim_failure_is_an_oracle_error_and_keeps_paid_queries(lr3, data3):
    X = data3[0]
    v = CountingVictim(lr3, fail_after=5)
    o = LocalOracle(v, n_features=4, budget=100)
    o.query(X[:5], phase="ok")
    with pytest.raises(OracleError, match="ConnectionError: the API went away") as info:
        o.query(X[5:8])
    assert isinstance(info.value.__cause__, ConnectionError)
    assert o.n_queries == 5 and len(o.log) == 5  # the failing batch is not counted
    np.testing.assert_array_equal(o.log.X, X[:5])


@pytest.mark.parametrize(
    "answer", [lambda X: np.zeros(len(X) + 1), lambda X: 3.0, lambda X: np.zeros(0)]
)
def test_wrongly_shaped_answers_are_an_oracle_error(answer):
    o = LocalOracle(answer, n_features=2)
    with pytest.raises(OracleError, match="expected one answer per row"):
        o.query(np.zeros((2, 2)))
    assert o.n_queries == 0


def test_estimator_failure_is_an_oracle_error(data3):
    X, y = data3
    unfitted = LogisticRegression()
    o = LocalOracle(unfitted, output="label", n_features=4)
    with pytest.raises(OracleError, match="NotFittedError"):
        o.query(X[:2])
