"""Contract case for semi_supervised: a small digits MLP victim, the attacker's digits."""

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from mlextract.nn import NumpyMLPClassifier
from mlextract.oracles import Domain, LocalOracle


def digits_case(random_state, output="proba"):
    """(oracle, pool, copy model): a digits MLP victim and the attacker's own digits."""
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        victim = MLPClassifier((16,), max_iter=50, random_state=random_state).fit(
            X[:600], y[:600])
    oracle = LocalOracle(victim, output=output, domain=Domain(np.zeros(64), np.full(64, 16.0)))
    return oracle, X[600:900], NumpyMLPClassifier((16,), max_iter=20)


def make_case(random_state):
    oracle, pool, model = digits_case(random_state)
    return oracle, {"pool": pool, "n_queries": 100, "n_rounds": 1, "model": model}, 100
