"""How good a copy is: agreement, accuracy, probability gaps, parameter error.

Agreement is the fraction of inputs on which the copy predicts the victim's label:
Tramèr et al. report it as 1−R_test (on test data) and 1−R_unif (on points drawn
uniformly from the input domain). Report both: agreement on uniform points alone
can flatter an attack.
"""

from __future__ import annotations

import numpy as np

from ._random import check_rng
from .oracles import Domain

__all__ = [
    "agreement",
    "uniform_agreement",
    "accuracy",
    "max_proba_gap",
    "parameter_error",
    "linear_parameters",
]


def _predict(model, X):
    if hasattr(model, "predict"):
        return np.asarray(model.predict(X))
    if callable(model):
        return np.asarray(model(X))
    raise TypeError(f"expected a model with predict or a callable; got {type(model).__name__}.")


def _check_X(X, name="X"):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array; got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or inf.")
    return X


def agreement(victim, copy, X) -> float:
    """Fraction of the rows of ``X`` on which two models predict the same label.

    This is 1−R_test of Tramèr et al. when ``X`` is test data. For regressors,
    use :func:`max_proba_gap` or compare values directly.

    Parameters
    ----------
    victim, copy : estimator or callable
        Anything with ``predict`` (or a function returning labels).
    X : array-like of shape (n, d)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> agreement(lambda X: X[:, 0] > 0, lambda X: X[:, 0] > 1, np.array([[0.5], [2.0]]))
    0.5
    """
    X = _check_X(X)
    a, b = _predict(victim, X), _predict(copy, X)
    return float(np.mean(a == b))


def uniform_agreement(victim, copy, domain: Domain, *, n: int = 100_000, random_state=0):
    """Agreement on ``n`` points drawn uniformly from ``domain`` (1−R_unif).

    Points are drawn in chunks of 20,000 so that memory stays small.
    """
    if not isinstance(domain, Domain):
        raise TypeError(f"domain must be a Domain; got {type(domain).__name__}.")
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}.")
    rng = check_rng(random_state)
    same = 0
    done = 0
    while done < n:
        m = min(20_000, n - done)
        X = domain.sample(m, random_state=rng)
        same += int(np.sum(_predict(victim, X) == _predict(copy, X)))
        done += m
    return same / n


def accuracy(model, X, y) -> float:
    """Fraction of rows of ``X`` whose label ``model`` predicts correctly."""
    X = _check_X(X)
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}.")
    return float(np.mean(_predict(model, X) == y))


def max_proba_gap(victim, copy, X) -> float:
    """Largest absolute difference between two models' probability vectors on X.

    ``max_i max_k |p_victim(x_i)_k − p_copy(x_i)_k|``; for regressors (no
    ``predict_proba``) the largest absolute difference of predicted values.
    """
    X = _check_X(X)
    if hasattr(victim, "predict_proba") and hasattr(copy, "predict_proba"):
        a, b = victim.predict_proba(X), copy.predict_proba(X)
    else:
        a, b = _predict(victim, X).astype(float), _predict(copy, X).astype(float)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"the models answer shapes {a.shape} and {b.shape}.")
    return float(np.max(np.abs(a - b)))


def linear_parameters(model) -> np.ndarray:
    """``[coef_ | intercept_]`` of a linear model as a (n_rows, d + 1) matrix."""
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(getattr(model, "intercept_", 0.0), dtype=np.float64))
    intercept = np.broadcast_to(intercept, (coef.shape[0],))
    return np.hstack([coef, intercept[:, None]])


def _canonical(theta, up_to, one_hot_groups):
    theta = np.array(theta, dtype=np.float64, copy=True)
    for g in one_hot_groups or []:
        g = np.asarray(g, dtype=int)
        shift = theta[:, g].mean(axis=1, keepdims=True)
        theta[:, g] -= shift
        theta[:, -1] += shift[:, 0]
    if up_to in ("class_shift", "softmax"):
        # Softmax depends only on w_i - w_c; one row (binary) has no such shift.
        if theta.shape[0] > 1:
            theta = (theta - theta[-1:])[:-1]
    elif up_to == "scale":
        norms = np.linalg.norm(theta, axis=1, keepdims=True)
        theta = theta / np.where(norms == 0, 1.0, norms)
    elif up_to is not None:
        raise ValueError(
            f"up_to must be None, 'scale' or 'class_shift'; got {up_to!r}."
        )
    return theta


def parameter_error(victim, copy, *, up_to=None, one_hot_groups=None) -> float:
    """Relative error of a copy's linear parameters, up to the model's symmetries.

    Parameters
    ----------
    victim, copy : linear model or array of shape (n_rows, d + 1)
        Models with ``coef_``/``intercept_``, or parameter matrices
        ``[coef | intercept]``.
    up_to : {None, "scale", "class_shift"}, default=None
        The symmetry to factor out: ``"scale"`` for label-only attacks (weights
        known up to a positive factor); ``"class_shift"`` for softmax, whose
        probabilities only depend on ``w_i − w_c``.
    one_hot_groups : sequence of index arrays, default=None
        On valid one-hot inputs, adding a constant to a group's coefficients and
        subtracting it from the intercept changes nothing; such shifts are factored
        out.

    Returns
    -------
    float
        ``||θ̂ − θ||_F / ||θ||_F`` after canonicalisation.

    Notes
    -----
    Binary logistic regression stores one row (``w``) where a two-row softmax
    would store ``(−w/2, w/2)``; compare like with like.
    """
    t = victim if isinstance(victim, np.ndarray) else linear_parameters(victim)
    c = copy if isinstance(copy, np.ndarray) else linear_parameters(copy)
    if t.shape != c.shape:
        raise ValueError(f"parameter shapes differ: victim {t.shape}, copy {c.shape}.")
    t, c = _canonical(t, up_to, one_hot_groups), _canonical(c, up_to, one_hot_groups)
    denom = np.linalg.norm(t)
    return float(np.linalg.norm(c - t) / (denom if denom > 0 else 1.0))
