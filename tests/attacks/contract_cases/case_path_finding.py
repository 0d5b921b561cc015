"""Contract case for path finding: a seeded depth-4 tree on iris, incomplete queries."""

from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from mlextract.oracles import Domain, LocalOracle


def make_case(random_state):
    X, y = load_iris(return_X_y=True)
    victim = DecisionTreeClassifier(max_depth=4, random_state=random_state).fit(X, y)
    oracle = LocalOracle(victim, domain=Domain.from_data(X))
    return oracle, {"mode": "top_down"}, 5000
