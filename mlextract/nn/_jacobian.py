"""Jacobian-based dataset augmentation (Papernot et al. 2017)."""

from __future__ import annotations

import numpy as np

from ..attacks import Attack, Run, register
from ._common import (
    affordable,
    answers_to_proba,
    check_pool,
    check_positive_int,
    default_copy,
    fit_copy,
    touch_budget,
)

__all__ = ["JacobianAugmentation", "jacobian_step", "reservoir_sample"]


def reservoir_sample(n_stream, k, rng):
    """Indices of ``k`` items drawn uniformly from a stream of ``n_stream`` (Algorithm R).

    Keep the first k; item i (i ≥ k) replaces a random kept one with probability k/(i+1).
    """
    keep = np.arange(min(k, n_stream))
    for i in range(k, n_stream):
        j = int(rng.integers(0, i + 1))
        if j < k:
            keep[j] = i
    return np.sort(keep)


def jacobian_step(copy, X, labels_idx, step):
    """``x + λ·sign(∂F_{O(x)}(x)/∂x)``: move each point along the sign of the copy's
    gradient for the class the victim gave it."""
    net = copy.network_
    if net.n_outputs_ == 1:
        delta = np.where(labels_idx == 1, 1.0, -1.0)[:, None]
    else:
        delta = np.zeros((X.shape[0], net.n_outputs_))
        delta[np.arange(X.shape[0]), labels_idx] = 1.0
    return X + step * np.sign(net.input_gradient(X, delta))


@register
class JacobianAugmentation(Attack):
    """Grow a query set from a small seed along the copy's Jacobian; retrain each round.

    Round ρ: query the victim on the new points, train the copy on every answer so
    far, then create ``x + λ_ρ·sign(J_F(x)[O(x)])`` for the points of the set
    (chosen by reservoir sampling when the budget cannot pay for all of them),
    projected onto the oracle's domain. ``λ_ρ = λ·(−1)^⌊ρ/τ⌋`` alternates its sign
    every τ rounds, as in the paper's periodic step size.

    Parameters
    ----------
    seed : ndarray of shape (n_seed, d)
        The attacker's initial set (e.g. 10 samples per class; stored).
    n_queries : int, default=1000
        Total queries (the seed's included).
    n_rounds : int, default=6
        Augmentation rounds at most (ρ).
    step : float, default=0.1
        λ, in the units of the inputs.
    sign_period : int, default=3
        τ.
    model : NumpyMLPClassifier, default=None
    random_state : int, Generator or None

    Notes
    -----
    ``S_{ρ+1} = S_ρ ∪ {x + λ_{ρ}·sgn(J_F[O(x)]) : x ∈ S_ρ}``: the set doubles each
    round; with reservoir sampling only κ = (queries left) of the candidates are
    asked, which keeps the query count linear in the rounds.

    References
    ----------
    .. [1] N. Papernot, P. McDaniel, I. Goodfellow, S. Jha, Z. B. Celik, A. Swami.
       "Practical Black-Box Attacks against Machine Learning". AsiaCCS 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import MLPClassifier
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> X, y = load_digits(return_X_y=True)
    >>> victim = MLPClassifier((32,), max_iter=300, random_state=0).fit(X[:900], y[:900])
    >>> oracle = LocalOracle(victim, output="label", domain=Domain.from_data(X))
    >>> attack = JacobianAugmentation(seed=X[900:950], n_queries=200, random_state=0)
    >>> attack.extract(oracle).n_queries
    200
    """

    name = "jacobian_augmentation"
    outputs = ("label", "proba", "logit")

    def __init__(self, *, seed=None, n_queries=1000, n_rounds=6, step=0.1, sign_period=3,
                 model=None, random_state=None):
        self.seed = seed
        self.n_queries = n_queries
        self.n_rounds = n_rounds
        self.step = step
        self.sign_period = sign_period
        self.model = model
        self.random_state = random_state

    def _validate_params(self):
        check_positive_int(self.n_queries, "n_queries")
        check_positive_int(self.n_rounds, "n_rounds")
        check_positive_int(self.sign_period, "sign_period")
        if not (np.isfinite(self.step) and self.step > 0):
            raise ValueError(f"step must be a positive number; got {self.step!r}.")
        default_copy(self.model)

    def _check_oracle(self, oracle):
        check_pool(self.seed, oracle.n_features, name="seed")
        if oracle.classes_ is None:
            raise ValueError("JacobianAugmentation needs the oracle's classes_.")

    def _extract(self, run: Run) -> None:
        oracle, rng = run.oracle, run.rng
        seed = check_pool(self.seed, oracle.n_features, name="seed")
        model = default_copy(self.model)
        classes = np.asarray(oracle.classes_)
        dom = oracle.domain
        touch_budget(run, seed, "seed")
        total = affordable(run, int(self.n_queries))
        new = seed[: min(seed.shape[0], total)]
        X = np.empty((0, seed.shape[1]))
        Y = np.empty((0, len(classes)))
        for rho in range(int(self.n_rounds) + 1):
            A = oracle.query(new, phase=f"round {rho}")
            X = np.vstack([X, new])
            Y = np.vstack([Y, answers_to_proba(A, oracle, classes)])
            run.model = fit_copy(model, X, Y, classes, rng=rng)
            left = total - X.shape[0]
            if left <= 0 or rho == self.n_rounds:
                break
            lam = self.step * (-1.0) ** (rho // int(self.sign_period))
            pick = reservoir_sample(X.shape[0], left, rng)
            cand = jacobian_step(run.model, X[pick], Y[pick].argmax(axis=1), lam)
            new = dom.project(cand) if dom is not None else cand
        run.info["n_rounds"] = rho + 1
        run.info["n_train"] = X.shape[0]
