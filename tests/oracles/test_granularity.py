"""Response granularity: rounding, top-k and label-only, as functions and wrappers."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlextract import BudgetExhausted
from mlextract.oracles import (
    AnswerWrapper,
    LabelOnly,
    LocalOracle,
    Rounded,
    TopK,
    labels_from_scores,
    round_answers,
    top_k_answers,
)


@pytest.fixture(scope="module")
def victim():
    X, y = make_classification(
        n_samples=300, n_features=5, n_informative=4, n_redundant=0, n_classes=4,
        random_state=2,
    )
    return LogisticRegression(max_iter=1000).fit(X, y), X


# ------------------------------------------------------------------ the functions
def test_round_answers_known_values():
    a = np.array([[0.123456, 0.876544], [0.5, 0.5]])
    np.testing.assert_array_equal(round_answers(a, 2), [[0.12, 0.88], [0.5, 0.5]])
    np.testing.assert_array_equal(round_answers(a, 0), [[0.0, 1.0], [0.0, 0.0]])
    assert round_answers([1.25, -3.14159], 3).tolist() == [1.25, -3.142]


def test_top_k_known_values_and_ties():
    p = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6]])
    np.testing.assert_array_equal(
        top_k_answers(p, 1), [[0.0, 0.5, 0.0], [0.0, 0.0, 0.4], [0.0, 0.0, 0.6]]
    )
    # ties: the lower class index is kept
    np.testing.assert_array_equal(
        top_k_answers(p, 2), [[0.0, 0.5, 0.4], [0.3, 0.0, 0.4], [0.2, 0.0, 0.6]]
    )
    np.testing.assert_array_equal(top_k_answers(p, 3), p)
    np.testing.assert_array_equal(top_k_answers(p, 10), p)
    with pytest.raises(ValueError, match=r"needs \(n, k\) answers"):
        top_k_answers(np.array([0.1, 0.9]), 1)


def test_labels_from_scores():
    classes = np.array(["a", "b", "c"])
    s = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert labels_from_scores(s, classes, "proba").tolist() == ["b", "a"]
    assert labels_from_scores(s, None, "proba").tolist() == [1, 0]
    # binary decision values: one column, positive means the second class
    d = np.array([[-1.0], [2.0], [0.0]])
    assert labels_from_scores(d, np.array([3, 7]), "logit").tolist() == [3, 7, 3]
    assert labels_from_scores(d[:, 0], None, "logit").tolist() == [0, 1, 0]


# ------------------------------------------------------------------ the wrappers
def test_rounded_wrapper(victim):
    model, X = victim
    o = Rounded(LocalOracle(model, output="proba"), decimals=2)
    ans = o.query(X[:10])
    np.testing.assert_array_equal(ans, np.round(model.predict_proba(X[:10]), 2))
    assert o.output == "proba" and o.n_queries == 10
    np.testing.assert_array_equal(o.log.answers, ans)  # the log holds what was seen


def test_rounded_logits_and_values(victim):
    model, X = victim
    o = Rounded(LocalOracle(model, output="logit"), decimals=1)
    np.testing.assert_array_equal(o.query(X[:4]), np.round(model.decision_function(X[:4]), 1))
    reg = LinearRegression().fit(X, X[:, 0] * 3.3)
    r = Rounded(LocalOracle(reg), decimals=0)
    np.testing.assert_array_equal(r.query(X[:4]), np.round(reg.predict(X[:4])))


def test_top_k_wrapper(victim):
    model, X = victim
    o = TopK(LocalOracle(model, output="proba"), k=2)
    ans = o.query(X[:20])
    p = model.predict_proba(X[:20])
    assert np.all((ans > 0).sum(axis=1) == 2)
    np.testing.assert_array_equal(np.sort(ans, axis=1)[:, -2:], np.sort(p, axis=1)[:, -2:])


def test_label_only_wrapper(victim):
    model, X = victim
    o = LabelOnly(LocalOracle(model, output="proba"))
    assert o.output == "label"
    np.testing.assert_array_equal(o.query(X[:20]), model.predict(X[:20]))
    lo = LabelOnly(LocalOracle(model, output="logit"))
    np.testing.assert_array_equal(lo.query(X[:20]), model.predict(X[:20]))
    ll = LabelOnly(LocalOracle(model, output="label"))
    np.testing.assert_array_equal(ll.query(X[:5]), model.predict(X[:5]))


def test_binary_logit_label_only():
    X, y = make_classification(n_samples=100, n_features=3, n_redundant=0, random_state=0)
    model = LogisticRegression().fit(X, y + 5)
    o = LabelOnly(LocalOracle(model, output="logit"))
    np.testing.assert_array_equal(o.query(X), model.predict(X))


def test_wrappers_refuse_what_they_cannot_do(victim):
    model, X = victim
    label = LocalOracle(model, output="label")
    with pytest.raises(ValueError, match="rounding needs numeric answers"):
        Rounded(label, decimals=2)
    with pytest.raises(ValueError, match="top-k needs"):
        TopK(label, k=1)
    value = LocalOracle(LinearRegression().fit(X, X[:, 0]))
    with pytest.raises(ValueError, match="LabelOnly needs a classifier"):
        LabelOnly(value)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        TopK(LocalOracle(model), k=0)
    with pytest.raises(ValueError, match="decimals must be"):
        Rounded(LocalOracle(model), decimals=-2)
    with pytest.raises(TypeError, match="wraps an mlextract Oracle"):
        Rounded(model, decimals=2)


def test_composed_wrappers_count_once_and_share_the_budget(victim):
    model, X = victim
    inner = LocalOracle(model, output="proba", budget=12)
    o = LabelOnly(TopK(Rounded(inner, decimals=3), k=1))
    np.testing.assert_array_equal(o.query(X[:10]), model.predict(X[:10]))
    assert inner.n_queries == o.n_queries == 10
    assert o.budget == 12 and o.remaining == 2
    with pytest.raises(BudgetExhausted):
        o.query(X[:3])
    assert inner.n_queries == 10
    assert "Rounded(decimals=3)" in o._signature() and "TopK(k=1)" in o._signature()


def test_local_oracle_arguments_build_the_same_layers(victim):
    """LocalOracle(decimals=, top_k=) answers as TopK then Rounded wrappers."""
    model, X = victim
    built = LocalOracle(model, output="proba", top_k=2, decimals=3)
    wrapped = Rounded(TopK(LocalOracle(model, output="proba"), k=2), decimals=3)
    np.testing.assert_array_equal(built.query(X[:30]), wrapped.query(X[:30]))


def test_a_custom_wrapper_is_a_defense(victim):
    """Subclassing AnswerWrapper is how defenses transform answers."""
    model, X = victim

    class Flip(AnswerWrapper):
        def _transform(self, answers, X):
            return answers[:, ::-1]

    o = Flip(LocalOracle(model, output="proba"))
    np.testing.assert_array_equal(o.query(X[:3]), model.predict_proba(X[:3])[:, ::-1])
    assert o.n_queries == 3 and o.domain is None and o.n_features == 5
