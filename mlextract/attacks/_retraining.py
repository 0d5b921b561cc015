"""Retraining: label queries, then an ordinary fit (Tramèr et al. 2016, §6)."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from ..oracles import labels_from_scores
from ._base import Attack, Run
from ._registry import register

__all__ = ["Retraining", "answers_to_targets"]


def answers_to_targets(answers, oracle):
    """Training targets from an oracle's answers: labels, or regression values."""
    if oracle.output in ("label", "value"):
        return np.asarray(answers)
    return labels_from_scores(answers, oracle.classes_, oracle.output)


def fit_copy(model, X, y, *, regression: bool):
    """Fit a clone of ``model``; a classifier shown one class becomes a constant."""
    if not regression and np.unique(y).size < 2:
        return DummyClassifier(strategy="most_frequent").fit(X, y), False
    return clone(model).fit(X, y), True


@register
class Retraining(Attack):
    """Query points of the domain, then train a copy on the victim's labels.

    The passive baseline of model extraction: Tramèr et al.'s retraining with
    uniform queries. The attacker spends ``n_queries`` label queries on points drawn
    uniformly from the oracle's published domain and fits ``model`` to the answers.

    Parameters
    ----------
    n_queries : int, default=1000
        Queries to spend (fewer if the run's budget is smaller).
    model : estimator, default=None
        The copy's family, cloned before fitting. Default: ``LogisticRegression``
        for classifiers, ``LinearRegression`` for regressors.
    strategy : {"uniform"}, default="uniform"
        Where queries come from.
    random_state : int, RandomState or None
        Seeds the query points.

    Notes
    -----
    With m uniform queries and a copy of VC dimension d, the passive PAC bound
    (Blumer et al. 1989) gives disagreement at most ε with probability 1−δ once
    m ≥ max(4/ε·log2(2/δ), 8d/ε·log2(13/ε)) — see :mod:`mlextract.theory`.

    References
    ----------
    .. [1] F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. "Stealing
       Machine Learning Models via Prediction APIs". USENIX Security 2016.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    >>> oracle = LocalOracle(LogisticRegression().fit(X, y), output="label",
    ...                      domain=Domain.from_data(X))
    >>> result = Retraining(n_queries=300, random_state=0).extract(oracle)
    >>> result.n_queries, result.status
    (300, 'success')
    """

    name = "retraining"
    outputs = ("label", "proba", "logit", "value")

    def __init__(self, *, n_queries=1000, model=None, strategy="uniform", random_state=None):
        self.n_queries = n_queries
        self.model = model
        self.strategy = strategy
        self.random_state = random_state

    def _validate_params(self):
        if (
            isinstance(self.n_queries, bool)
            or not isinstance(self.n_queries, (int, np.integer))
            or self.n_queries < 1
        ):
            raise ValueError(f"n_queries must be a positive integer; got {self.n_queries!r}.")
        if self.strategy not in ("uniform",):
            raise ValueError(f"strategy must be 'uniform'; got {self.strategy!r}.")
        if self.model is not None and not hasattr(self.model, "fit"):
            raise ValueError(f"model must be an estimator with fit; got {self.model!r}.")

    def _check_oracle(self, oracle):
        if oracle.domain is None:
            raise ValueError(
                "Retraining samples the oracle's domain, and this oracle has none; "
                "build it with domain=Domain(...) or Domain.from_data(X)."
            )

    def _extract(self, run: Run) -> None:
        oracle = run.oracle
        regression = oracle.output == "value"
        model = self.model
        if model is None:
            model = LinearRegression() if regression else LogisticRegression(max_iter=1000)
        elif regression != is_regressor(model):
            kind = "regressor" if regression else "classifier"
            raise ValueError(f"the oracle answers a {kind}; the copy model must be one too.")
        n = int(self.n_queries)
        left = run.remaining()
        if left is not None and left < n:
            n = left
        X = oracle.domain.sample(max(n, 1), random_state=run.rng)[:n]
        if n == 0:
            oracle.query(oracle.domain.sample(1, random_state=run.rng), phase="uniform")
        y = answers_to_targets(oracle.query(X, phase="uniform"), oracle)
        run.model, ok = fit_copy(model, X, y, regression=regression)
        run.info["n_uniform"] = n
        if n < self.n_queries:
            run.status = "budget_exhausted"
            run.message = (
                f"the budget allowed {n} of the {self.n_queries} queries; the copy was "
                "fitted on those."
            )
        elif not ok:
            run.status = "approximate"
            run.message = "every answer was the same class; the copy is a constant."
