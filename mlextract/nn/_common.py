"""What the deep-network attacks share: budgets, answers as targets, the copy model."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from ._estimator import NumpyMLPClassifier
from ._layers import answer_resolution, softmax
from ._training import one_hot

__all__ = [
    "affordable",
    "answers_to_proba",
    "check_pool",
    "check_positive_int",
    "default_copy",
    "fit_copy",
    "oracle_classes",
    "touch_budget",
]


def check_positive_int(value, name, *, low=1, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    return int(value)


def check_pool(pool, n_features=None, name="pool"):
    """The attacker's natural data as a finite float matrix."""
    if pool is None:
        raise ValueError(f"{name} is required: give the attacker's data as an (n, d) array.")
    P = np.asarray(pool, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array; got shape {P.shape}.")
    if not np.all(np.isfinite(P)):
        raise ValueError(f"{name} contains NaN or inf.")
    if n_features is not None and P.shape[1] != n_features:
        raise ValueError(
            f"{name} has {P.shape[1]} features, but the oracle expects {n_features}."
        )
    return P


def affordable(run, n):
    """How many of ``n`` wanted queries the run may still ask."""
    left = run.remaining()
    return n if left is None else min(n, left)


def touch_budget(run, X, phase):
    """With nothing left to spend, ask one row so the oracle says why (BudgetExhausted)."""
    if run.remaining() == 0:
        run.oracle.query(X[:1], phase=phase)


def oracle_classes(oracle, answers=None):
    """The victim's classes: the oracle's, else those seen in label answers."""
    if oracle.classes_ is not None:
        return np.asarray(oracle.classes_)
    if oracle.output == "label" and answers is not None:
        return np.unique(answers)
    if answers is not None and np.ndim(answers) == 2:
        k = max(2, np.shape(answers)[1])
        return np.arange(k)
    raise ValueError("the oracle publishes no classes_; build it with classes=[...].")


def answers_to_proba(answers, oracle, classes):
    """A probability row per answer, whatever the oracle's output.

    Labels become one-hot rows; logits go through the softmax (a single column is a
    sigmoid unit); probabilities are clipped to [0, 1] and renormalised (top-k and
    rounded answers do not sum to 1); an all-zero row (everything rounded away)
    becomes uniform. Never NaN.
    """
    A = np.asarray(answers)
    k = len(classes)
    if oracle.output == "label":
        idx = np.searchsorted(classes, A)
        idx = np.clip(idx, 0, k - 1)
        if np.any(classes[idx] != A):
            raise ValueError("the oracle answered labels outside its classes_.")
        return one_hot(idx, k)
    A = np.asarray(A, dtype=np.float64)
    if A.ndim == 1:
        A = A[:, None]
    if not np.all(np.isfinite(A)):
        raise ValueError("the oracle's answers hold NaN or inf; cannot learn from them.")
    if oracle.output == "logit":
        if A.shape[1] == 1:
            A = np.hstack([np.zeros_like(A), A])
        return softmax(A)
    P = np.clip(A, 0.0, 1.0)
    s = P.sum(axis=1, keepdims=True)
    zero = s[:, 0] <= 0
    P[zero] = 1.0 / k
    s[zero] = 1.0
    return P / s


def log_answer_floor(P):
    """The floor to clip probabilities at before a log: half the rounding unit of
    rounded answers, else 1e-8."""
    r = answer_resolution(P)
    return 1e-8 if r is None or r < 1e-8 else r


def default_copy(model):
    """The copy's architecture: ``model`` (cloned) or a one-hidden-layer MLP."""
    if model is None:
        return NumpyMLPClassifier(hidden_layer_sizes=(64,), max_iter=200)
    if not isinstance(model, NumpyMLPClassifier):
        raise ValueError(
            "model must be an (unfitted) mlextract.nn.NumpyMLPClassifier, whose training "
            f"on probability targets the attack needs; got {type(model).__name__}."
        )
    return clone(model)


def fit_copy(model, X, T, classes, *, rng, **fit_params):
    """Fit a clone of ``model`` to target probabilities ``T`` (columns = classes)."""
    copy = clone(model)
    copy.set_params(random_state=int(rng.integers(2**31 - 1)))
    return copy.fit(X, T, classes=classes, **fit_params)
