"""Contract case: a linear victim answering labels."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from mlextract.oracles import Domain, LocalOracle


def make_case(random_state):
    rng = np.random.default_rng(random_state)
    X = rng.uniform(-1, 1, (200, 4))
    y = X @ [1.0, -2.0, 0.5, 1.5] > 0.2
    victim = LogisticRegression(C=100).fit(X, y)
    oracle = LocalOracle(victim, output="label", domain=Domain.from_data(X))
    return oracle, {"tol": 1e-3}, 200
