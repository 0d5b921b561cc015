"""Incomplete queries on trees: the deepest node reached, checked against a hand walk."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlextract.oracles import LocalOracle, deepest_nodes, node_answers


def walk(estimator, x):
    """The slow, obvious walk: one node at a time, stopping at a leaf or at the
    first node whose test needs a feature the query did not supply."""
    t = estimator.tree_
    node = 0
    while t.children_left[node] != -1:
        value = x[t.feature[node]]
        if np.isnan(value):
            break
        # scikit-learn compares float32 inputs with its thresholds
        go_left = np.float32(value) <= t.threshold[node]
        node = t.children_left[node] if go_left else t.children_right[node]
    return node


def answer_of(estimator, node, output):
    value = estimator.tree_.value[node]
    if output == "value":
        return value[0, 0]
    dist = value[0] / value[0].sum()
    return dist if output == "proba" else estimator.classes_[np.argmax(dist)]


# ------------------------------------------------------------------ a tree by hand
@pytest.fixture
def grid():
    # 5 points left of x0 = 0.5, 3 right of it; the right ones split on x1.
    X = np.array([[0.25, 0.25]] * 3 + [[0.25, 0.75]] * 2 + [[0.75, 0.25]] + [[0.75, 0.75]] * 2)
    return X


def test_classifier_answers_by_hand(grid):
    y = np.array(["no"] * 6 + ["yes"] * 2)
    tree = DecisionTreeClassifier(random_state=0).fit(grid, y)
    t = tree.tree_
    # The tree the data forces: 0: x0 <= 0.5 ? 1 (leaf, 5 no) : 2; 2: x1 <= 0.5 ? 3 : 4.
    assert t.children_left.tolist() == [1, -1, 3, -1, -1]
    assert t.children_right.tolist() == [2, -1, 4, -1, -1]
    assert t.feature[[0, 2]].tolist() == [0, 1]
    oracle = LocalOracle(tree, output="proba")
    nan = np.nan
    Q = np.array([
        [0.25, nan],  # x0 known: left leaf 1, x1 never needed
        [nan, 0.25],  # root tests x0: stops at the root (6 no, 2 yes)
        [0.75, nan],  # right node tests x1: stops at node 2 (1 no, 2 yes)
        [0.75, 0.75],  # complete: leaf 4
        [0.75, 0.25],  # complete: leaf 3
        [nan, nan],  # nothing supplied: the root
    ])
    np.testing.assert_array_equal(deepest_nodes(t, Q), [1, 0, 2, 4, 3, 0])
    np.testing.assert_allclose(
        oracle.query(Q),
        [[1, 0], [0.75, 0.25], [1 / 3, 2 / 3], [0, 1], [1, 0], [0.75, 0.25]],
        rtol=0, atol=1e-15,
    )
    labels = LocalOracle(tree, output="label").query(Q)
    assert labels.tolist() == ["no", "no", "yes", "yes", "no", "no"]


def test_regressor_answers_by_hand(grid):
    y = np.array([0.0] * 5 + [10.0] + [20.0] * 2)
    tree = DecisionTreeRegressor(random_state=0).fit(grid, y)
    assert tree.tree_.children_left.tolist() == [1, -1, 3, -1, -1]
    assert tree.tree_.feature[[0, 2]].tolist() == [0, 1]
    nan = np.nan
    Q = np.array([[0.25, nan], [nan, 0.9], [0.75, nan], [0.75, 0.75], [0.75, 0.25]])
    ans = LocalOracle(tree).query(Q)
    np.testing.assert_allclose(ans, [0.0, 50 / 8, 50 / 3, 20.0, 10.0], rtol=1e-14)


# ------------------------------------------------------------------ against the hand walk
def _with_holes(X, rng, rate):
    Q = X.copy()
    Q[rng.random(Q.shape) < rate] = np.nan
    return Q


@pytest.mark.parametrize("rate", [0.0, 0.15, 0.5, 1.0])
def test_classifier_matches_the_hand_walk(rate):
    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    tree = DecisionTreeClassifier(max_depth=7, random_state=0).fit(X, y)
    rng = np.random.default_rng(1)
    Q = _with_holes(np.vstack([X[:150], rng.uniform(-4, 4, size=(150, 6))]), rng, rate)
    expected_nodes = np.array([walk(tree, q) for q in Q])
    np.testing.assert_array_equal(deepest_nodes(tree.tree_, Q), expected_nodes)
    for output in ("proba", "label"):
        ans = LocalOracle(tree, output=output).query(Q)
        expected = np.array([answer_of(tree, n, output) for n in expected_nodes])
        np.testing.assert_array_equal(ans, expected)
    if rate == 0.0:  # complete rows: the ordinary predictions
        np.testing.assert_array_equal(expected_nodes, tree.apply(Q))
        np.testing.assert_array_equal(LocalOracle(tree).query(Q), tree.predict_proba(Q))


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_regressor_matches_the_hand_walk(rate):
    X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    tree = DecisionTreeRegressor(max_depth=6, random_state=0).fit(X, y)
    rng = np.random.default_rng(2)
    Q = _with_holes(X[:200], rng, rate)
    expected = np.array([answer_of(tree, walk(tree, q), "value") for q in Q])
    np.testing.assert_array_equal(LocalOracle(tree).query(Q), expected)
    if rate == 0.0:
        np.testing.assert_array_equal(expected, tree.predict(Q))


def test_float32_comparison_at_thresholds():
    X, y = make_classification(n_samples=200, n_features=4, random_state=3)
    tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y)
    t = tree.tree_
    internal = np.flatnonzero(t.children_left != -1)
    rows = []
    for node in internal:  # values on, just above and just below each threshold
        for v in (t.threshold[node], np.nextafter(t.threshold[node], np.inf),
                  np.nextafter(t.threshold[node], -np.inf),
                  float(np.nextafter(np.float32(t.threshold[node]), np.float32(np.inf)))):
            r = X[node % len(X)].copy()
            r[t.feature[node]] = v
            rows.append(r)
    Q = np.array(rows)
    np.testing.assert_array_equal(deepest_nodes(t, Q), tree.apply(Q))
    np.testing.assert_array_equal(deepest_nodes(t, Q), [walk(tree, q) for q in Q])


def test_node_answers_refuses_logits():
    X, y = make_classification(n_samples=50, n_features=3, n_redundant=0, random_state=0)
    tree = DecisionTreeClassifier(max_depth=2).fit(X, y)
    with pytest.raises(ValueError, match="a tree answers"):
        node_answers(tree, np.array([0]), "logit")


def test_only_bare_trees_answer_incomplete_queries():
    X, y = make_classification(n_samples=50, n_features=3, n_redundant=0, random_state=0)
    pipe = make_pipeline(StandardScaler(), DecisionTreeClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="incomplete queries"):
        LocalOracle(pipe, allow_missing=True)
    with pytest.raises(ValueError, match="NaN"):
        LocalOracle(pipe).query([[np.nan, 0.0, 0.0]])
    with pytest.raises(ValueError, match="regression tree has no labels"):
        LocalOracle(DecisionTreeRegressor().fit(X, y), output="label")
    with pytest.raises(ValueError, match="for regressors"):
        LocalOracle(DecisionTreeClassifier().fit(X, y), output="value")
    with pytest.raises(ValueError, match="for classifiers"):
        LocalOracle(DecisionTreeRegressor().fit(X, y), output="proba")
