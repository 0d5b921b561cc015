"""An owner with a model, its data, and streams of benign and extraction queries."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlextract.oracles import Domain


class Owner:
    def __init__(self):
        X, y = make_classification(n_samples=14000, n_features=10, n_informative=6,
                                   n_classes=3, random_state=0)
        self.X_train, self.y_train = X[:4000], y[:4000]
        self.X_test, self.y_test = X[4000:], y[4000:]
        self.scaler = StandardScaler().fit(self.X_train)
        self.model = LogisticRegression(max_iter=1000).fit(self.X_train, self.y_train)
        self.tree = DecisionTreeClassifier(max_leaf_nodes=26, random_state=0).fit(
            self.X_train, self.y_train)
        self.domain = Domain.from_data(X)  # the published ranges cover all the data
        self.ood = self.domain.sample(4000, random_state=1)

    def benign_stream(self, seed, n=2000):
        """Test data in order (even seeds) or shuffled (odd seeds)."""
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(self.X_test), n, replace=False)
        return self.X_test[idx] if seed % 2 else self.X_test[np.sort(idx)]

    def line_search_stream(self, n, seed=0):
        """Lowd–Meek style: bisection between differently labelled uniform points."""
        rng = np.random.default_rng(seed)
        pts = []
        predict = self.model.predict
        while len(pts) < n:
            a, b = self.domain.sample(2, random_state=rng)
            la, lb = predict(np.vstack([a, b]))
            if la == lb:
                continue
            lo, hi = a, b
            for _ in range(12):
                m = (lo + hi) / 2
                pts.append(m)
                if predict(m[None])[0] == la:
                    lo = m
                else:
                    hi = m
        return np.array(pts[:n])


@pytest.fixture(scope="session")
def owner():
    return Owner()
