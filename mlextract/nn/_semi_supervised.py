"""Semi-supervised extraction: pseudo-labels with consistency (Jagielski et al. 2020)."""

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
from ._distillation import feature_noise
from ._training import one_hot

__all__ = ["SemiSupervised", "pseudo_labels"]


def pseudo_labels(copy, X, threshold):
    """The copy's confident predictions on clean inputs: (rows kept, one-hot targets)."""
    P = copy.predict_proba(X)
    keep = np.flatnonzero(P.max(axis=1) >= threshold)
    return keep, one_hot(P[keep].argmax(axis=1), P.shape[1])


@register
class SemiSupervised(Attack):
    """Query part of the attacker's data; learn from the rest without asking.

    Jagielski et al. reach a given accuracy or fidelity with fewer queries by
    using the attacker's unlabeled data beside the victim's answers (they used
    MixMatch and rotation loss). This is the FixMatch-style core of it: the copy
    is trained on the answered queries; then, for ``n_rounds``, it labels the
    unqueried pool on the clean inputs, keeps the predictions above
    ``threshold`` as pseudo-labels, and is trained on the answers plus the
    pseudo-labelled rows seen through a perturbed view (consistency: the copy must
    give the clean view's label to the perturbed one), the pseudo-labelled rows
    weighted by ``unlabeled_weight``.

    Parameters
    ----------
    pool : ndarray of shape (n_pool, d)
        The attacker's unlabeled data (stored).
    n_queries : int, default=1000
        Pool rows sent to the victim.
    threshold : float, default=0.95
        Confidence a pseudo-label needs.
    unlabeled_weight : float, default=0.5
        λ, the weight of a pseudo-labelled row relative to an answered one.
    noise : float, default=0.2
        Scale of the perturbation, in feature standard deviations.
    n_rounds : int, default=3
    model : NumpyMLPClassifier, default=None
    random_state : int, Generator or None

    Notes
    -----
    Loss of a round: ``Σ_answered ℓ(f(x), O(x)) + λ Σ_{x unlabeled, max f(x) ≥ θ}
    ℓ(f(x + η), argmax f(x))`` with η the perturbation and ℓ the cross-entropy
    (or the KL to the victim's probabilities).

    References
    ----------
    .. [1] M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot. "High
       Accuracy and High Fidelity Extraction of Neural Networks". USENIX Security 2020.
    .. [2] K. Sohn et al. "FixMatch: Simplifying Semi-Supervised Learning with
       Consistency and Confidence". NeurIPS 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neural_network import MLPClassifier
    >>> from mlextract.oracles import LocalOracle
    >>> X, y = load_digits(return_X_y=True)
    >>> victim = MLPClassifier((32,), max_iter=300, random_state=0).fit(X[:900], y[:900])
    >>> attack = SemiSupervised(pool=X[900:1500], n_queries=100, n_rounds=1, random_state=0)
    >>> attack.extract(LocalOracle(victim, output="label")).n_queries
    100
    """

    name = "semi_supervised"
    outputs = ("label", "proba", "logit")

    def __init__(self, *, pool=None, n_queries=1000, threshold=0.95, unlabeled_weight=0.5,
                 noise=0.2, n_rounds=3, model=None, random_state=None):
        self.pool = pool
        self.n_queries = n_queries
        self.threshold = threshold
        self.unlabeled_weight = unlabeled_weight
        self.noise = noise
        self.n_rounds = n_rounds
        self.model = model
        self.random_state = random_state

    def _validate_params(self):
        check_positive_int(self.n_queries, "n_queries")
        check_positive_int(self.n_rounds, "n_rounds", low=0)
        if not (0 < self.threshold <= 1):
            raise ValueError(f"threshold must lie in (0, 1]; got {self.threshold!r}.")
        if not (np.isfinite(self.unlabeled_weight) and self.unlabeled_weight > 0):
            raise ValueError(
                f"unlabeled_weight must be positive; got {self.unlabeled_weight!r}."
            )
        if not (np.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"noise must be >= 0; got {self.noise!r}.")
        default_copy(self.model)

    def _check_oracle(self, oracle):
        check_pool(self.pool, oracle.n_features)
        if oracle.classes_ is None:
            raise ValueError("SemiSupervised needs the oracle's classes_.")

    def _extract(self, run: Run) -> None:
        oracle, rng = run.oracle, run.rng
        pool = check_pool(self.pool, oracle.n_features)
        classes = np.asarray(oracle.classes_)
        model = default_copy(self.model)
        touch_budget(run, pool, "labeled")
        n = affordable(run, min(int(self.n_queries), pool.shape[0]))
        order = rng.permutation(pool.shape[0])
        X, U = pool[order[:n]], pool[order[n:]]
        Y = answers_to_proba(oracle.query(X, phase="labeled"), oracle, classes)
        run.model = fit_copy(model, X, Y, classes, rng=rng)
        run.info["n_pseudo"] = []
        view = feature_noise(self.noise) if self.noise > 0 else None
        for _ in range(int(self.n_rounds)):
            if U.shape[0] == 0:
                break
            keep, T = pseudo_labels(run.model, U, self.threshold)
            run.info["n_pseudo"].append(int(keep.size))
            if keep.size == 0:
                break
            Xa = np.vstack([X, U[keep]])
            Ya = np.vstack([Y, T])
            w = np.concatenate([np.ones(n), np.full(keep.size, float(self.unlabeled_weight))])
            # the perturbed view applies to every row (answered rows: augmentation)
            run.model = fit_copy(model, Xa, Ya, classes, rng=rng, sample_weight=w,
                                 transform=view)
