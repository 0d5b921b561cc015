"""Contract case for ``active_extraction``: a seeded linear victim, a pool of natural data."""

from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from mlextract.oracles import Domain, LocalOracle


def make_case(random_state):
    X, y = make_classification(n_samples=400, n_features=4, random_state=random_state)
    victim = LogisticRegression().fit(X[:200], y[:200])
    oracle = LocalOracle(victim, output="label", domain=Domain.from_data(X))
    settings = {"strategy": "uncertainty", "pool": X[200:], "n_uniform": 100, "n_queries": 60}
    return oracle, settings, 80
