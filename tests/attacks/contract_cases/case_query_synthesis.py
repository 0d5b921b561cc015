"""Contract case: a homogeneous halfspace in 3 dimensions."""

import numpy as np

from mlextract.oracles import Domain, LocalOracle

W = np.array([1.0, -2.0, 0.5])


def _victim(X):
    return (X @ W > 0).astype(int)


def make_case(random_state):
    oracle = LocalOracle(_victim, classes=[0, 1], domain=Domain(-np.ones(3), np.ones(3)))
    return oracle, {"epsilon": 0.05, "fit_intercept": False}, 200
