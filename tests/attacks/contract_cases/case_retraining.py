"""Contract case for ``retraining``: a seeded linear victim answering labels."""

from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from mlextract.oracles import Domain, LocalOracle


def make_case(random_state):
    X, y = make_classification(n_samples=200, n_features=4, random_state=random_state)
    victim = LogisticRegression().fit(X, y)
    oracle = LocalOracle(victim, output="label", domain=Domain.from_data(X))
    return oracle, {"n_queries": 200}, 250
