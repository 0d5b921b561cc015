"""Metrics on cases whose answers are known."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlextract.metrics import (
    accuracy,
    agreement,
    linear_parameters,
    max_proba_gap,
    parameter_error,
    uniform_agreement,
)
from mlextract.oracles import Domain


def step(t):
    return lambda X: (np.asarray(X)[:, 0] > t).astype(int)


class Fixed:
    """A model answering fixed probabilities and labels."""

    def __init__(self, proba):
        self.proba = np.asarray(proba, dtype=float)

    def predict_proba(self, X):
        return self.proba[: len(X)]

    def predict(self, X):
        return self.proba[: len(X)].argmax(axis=1)


def test_agreement_known_cases():
    X = np.array([[0.1], [0.3], [0.5], [0.7]])
    assert agreement(step(0.2), step(0.2), X) == 1.0
    assert agreement(step(0.2), step(0.4), X) == 0.75  # they differ on 0.3 only
    assert agreement(step(0.0), step(1.0), X) == 0.0


def test_agreement_works_with_estimators():
    X, y = make_classification(n_samples=100, n_features=3, n_redundant=0, random_state=0)
    m = LogisticRegression().fit(X, y)
    assert agreement(m, m, X) == 1.0
    assert accuracy(m, X, y) == float(np.mean(m.predict(X) == y))


@pytest.mark.parametrize(
    "X, match",
    [(np.zeros((0, 2)), "non-empty 2-D"), (np.zeros(3), "non-empty 2-D"),
     (np.array([[np.nan]]), "NaN or inf"), (np.array([[np.inf]]), "NaN or inf")],
)
def test_bad_points_are_refused(X, match):
    with pytest.raises(ValueError, match=match):
        agreement(step(0), step(0), X)


def test_not_a_model():
    with pytest.raises(TypeError, match="expected a model"):
        agreement(step(0), "model", np.zeros((1, 1)))


def test_uniform_agreement_is_the_measure_of_the_agreeing_region():
    # On [0, 1]^2 the two steps disagree where 0.5 < x0 <= 0.6: 10% of the square.
    dom = Domain([0, 0], [1, 1])
    a = uniform_agreement(step(0.5), step(0.6), dom, n=100_000, random_state=0)
    assert abs(a - 0.9) < 0.005  # 5 standard deviations of the estimate
    assert a == uniform_agreement(step(0.5), step(0.6), dom, n=100_000, random_state=0)
    assert uniform_agreement(step(0.5), step(0.5), dom, n=10) == 1.0
    # the chunked loop: n not a multiple of the chunk size
    b = uniform_agreement(step(0.5), step(0.6), dom, n=45_001, random_state=1)
    assert abs(b - 0.9) < 0.01


def test_uniform_agreement_respects_integer_and_one_hot_features():
    dom = Domain([0, 0, 0], [3, 1, 1], integer=[0], one_hot_groups=[[1, 2]])
    # 4 equally likely integer values; the two disagree on x0 == 2 only
    a = uniform_agreement(step(1.5), step(2.5), dom, n=40_000, random_state=0)
    assert abs(a - 0.75) < 0.01


def test_uniform_agreement_bad_arguments():
    with pytest.raises(TypeError, match="domain must be a Domain"):
        uniform_agreement(step(0), step(0), [[0, 1]])
    with pytest.raises(ValueError, match="n must be >= 1"):
        uniform_agreement(step(0), step(0), Domain([0], [1]), n=0)


def test_accuracy_known_case():
    X = np.array([[0.1], [0.3], [0.5], [0.7]])
    assert accuracy(step(0.2), X, [0, 1, 0, 1]) == 0.75
    with pytest.raises(ValueError, match="X has 4 rows but y has 3"):
        accuracy(step(0.2), X, [0, 1, 1])


def test_max_proba_gap_known_case():
    a = Fixed([[0.2, 0.8], [0.5, 0.5]])
    b = Fixed([[0.3, 0.7], [0.9, 0.1]])
    assert max_proba_gap(a, b, np.zeros((2, 1))) == pytest.approx(0.4)
    assert max_proba_gap(a, a, np.zeros((2, 1))) == 0.0
    with pytest.raises(ValueError, match="shapes"):
        max_proba_gap(a, Fixed([[0.1, 0.2, 0.7], [0.1, 0.2, 0.7]]), np.zeros((2, 1)))


def test_max_proba_gap_for_regressors():
    X = np.array([[0.0], [1.0], [2.0]])
    r1 = LinearRegression().fit(X, [0.0, 1.0, 2.0])
    r2 = LinearRegression().fit(X, [0.0, 1.5, 3.0])
    assert max_proba_gap(r1, r2, X) == pytest.approx(1.0)


def test_linear_parameters_layout():
    X, y = make_classification(n_samples=100, n_features=3, n_redundant=0, random_state=0)
    m = LogisticRegression().fit(X, y)
    theta = linear_parameters(m)
    assert theta.shape == (1, 4)
    np.testing.assert_array_equal(theta[0, :3], m.coef_[0])
    assert theta[0, 3] == m.intercept_[0]
    r = LinearRegression().fit(X, X @ [1.0, 2.0, 3.0] + 4)
    np.testing.assert_allclose(linear_parameters(r), [[1, 2, 3, 4]], atol=1e-10)


def test_parameter_error_known_cases():
    t = np.array([[3.0, 4.0, 0.0]])  # norm 5
    assert parameter_error(t, t) == 0.0
    assert parameter_error(t, np.array([[3.0, 4.0, 5.0]])) == pytest.approx(1.0)
    assert parameter_error(t, 2 * t) == pytest.approx(1.0)
    assert parameter_error(t, 2 * t, up_to="scale") == pytest.approx(0.0, abs=1e-15)
    # a negative factor is not a symmetry of a label-only answer
    assert parameter_error(t, -t, up_to="scale") == pytest.approx(2.0)
    # one row (binary): there is no class shift to factor out
    assert parameter_error(t, np.array([[3.0, 4.0, 5.0]]), up_to="class_shift") == (
        pytest.approx(1.0)
    )


def test_parameter_error_class_shift():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(4, 6))
    shifted = theta + rng.normal(size=(1, 6))  # the same softmax probabilities
    assert parameter_error(theta, shifted, up_to="class_shift") < 1e-14
    assert parameter_error(theta, shifted) > 0.1
    # relative error of the shifted differences, computed by hand
    wrong = shifted.copy()
    wrong[0, 0] += 0.5
    d = theta - theta[-1]
    expected = 0.5 / np.linalg.norm(d[:-1])
    assert parameter_error(theta, wrong, up_to="class_shift") == pytest.approx(expected)


def test_parameter_error_one_hot_shift():
    # x1, x2 one-hot: adding s to both coefficients and -s to the intercept is invisible
    theta = np.array([[1.0, 2.0, -1.0, 0.5]])
    s = 3.0
    same = np.array([[1.0, 2.0 + s, -1.0 + s, 0.5 - s]])
    assert parameter_error(theta, same) > 0.5
    assert parameter_error(theta, same, one_hot_groups=[[1, 2]]) < 1e-15


def test_parameter_error_models_and_shapes():
    X, y = make_classification(n_samples=100, n_features=3, n_redundant=0, random_state=0)
    m = LogisticRegression().fit(X, y)
    assert parameter_error(m, m) == 0.0
    with pytest.raises(ValueError, match="parameter shapes differ"):
        parameter_error(np.zeros((1, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="up_to must be"):
        parameter_error(np.ones((1, 4)), np.ones((1, 4)), up_to="sign")
