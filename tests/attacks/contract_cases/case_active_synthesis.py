"""Contract case: an RBF SVM on two moons."""

from sklearn.datasets import make_moons
from sklearn.svm import SVC

from mlextract.oracles import Domain, LocalOracle


def make_case(random_state):
    X, y = make_moons(200, noise=0.2, random_state=random_state)
    oracle = LocalOracle(SVC().fit(X, y), output="label", domain=Domain.from_data(X))
    return oracle, {"n_queries": 100, "batch_size": 40}, 100
