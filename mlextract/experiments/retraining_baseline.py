"""The passive baseline: uniform-query retraining against linear victims."""

from __future__ import annotations

import time

from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..attacks import Retraining
from ..metrics import agreement, uniform_agreement
from ..oracles import Domain, LocalOracle
from ._registry import Table, experiment


def _victims(seed):
    X, y = make_classification(
        n_samples=1000, n_features=10, n_informative=6, random_state=seed
    )
    yield "synthetic d=10", X, y
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer d=30", StandardScaler().fit_transform(X), y


@experiment("retraining_baseline", title="Uniform retraining baseline (label answers)", order=90)
def retraining_baseline(ctx):
    budgets = [50, 200, 800] if ctx.quick else [50, 100, 200, 400, 800, 1600, 3200]
    n_unif = 10_000 if ctx.quick else 100_000
    rows = []
    for name, X, y in _victims(ctx.random_state):
        Xtr, Xte, ytr, _ = train_test_split(X, y, random_state=ctx.random_state)
        victim = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
        domain = Domain.from_data(X)
        for b in budgets:
            oracle = LocalOracle(victim, output="label", domain=domain)
            t0 = time.perf_counter()
            res = Retraining(n_queries=b, random_state=ctx.random_state).extract(oracle)
            dt = time.perf_counter() - t0
            rows.append([
                name,
                res.n_queries,
                100 * agreement(victim, res.model, Xte),
                100 * uniform_agreement(victim, res.model, domain, n=n_unif),
                dt,
            ])
    return Table(
        title="Uniform retraining of logistic regression from labels",
        columns=["victim", "queries", "1-R_test %", "1-R_unif %", "time s"],
        rows=rows,
        paper="Tramèr et al. 2016, §6 (uniform retraining is their passive baseline)",
        notes=["Queries counted by the oracle; agreement on held-out data and on uniform points."],
    )
