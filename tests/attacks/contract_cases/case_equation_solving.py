"""Contract case for ``equation_solving``: a seeded softmax victim answering probabilities."""

from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from mlextract.oracles import Domain, LocalOracle


def make_case(random_state):
    X, y = make_classification(
        n_samples=200, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
        n_clusters_per_class=1, random_state=random_state,
    )
    victim = LogisticRegression().fit(X, y)
    oracle = LocalOracle(victim, domain=Domain.from_data(X))
    return oracle, {"family": "auto", "verify": 2}, 20
