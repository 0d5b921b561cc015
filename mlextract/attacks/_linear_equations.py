"""The equations of Tramèr et al. (2016, §4.1) and their solvers, as plain functions.

Every function works on the *design matrix* ``A = [X | 1]`` (one row per query, the
inputs in reduced coordinates, a last column of ones) and a parameter matrix
``theta`` of shape (d + 1, k): one column of ``[w; b]`` per score.

- :func:`log_ratios` and :func:`solve_affine`: softmax and binary logistic
  regression. ``log(p_k/p_0) = (w_k − w_0)·x + (b_k − b_0)`` is linear in the
  unknowns, so d + 1 queries in general position give it exactly.
- :func:`fit_ovr`: one-vs-rest (normalised sigmoids). The ratios
  ``p_k/p_0 = σ(z_k)/σ(z_0)`` are not linear in the parameters; a Gauss–Newton
  (Levenberg–Marquardt) solve of ``log σ(z_k) − log σ(z_0) = log(p_k/p_0)``.
- :func:`fit_probabilities`: least squares on the probabilities themselves, the
  maximum-likelihood fit when answers are rounded (uniform rounding error).
- :func:`fit_sigmoid_ensemble`: the average of K sigmoids (Platt ensembles).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.special import expit, log_expit

__all__ = [
    "design_matrix",
    "log_ratios",
    "solve_affine",
    "solve_rounded_log_ratios",
    "softmax_proba",
    "ovr_proba",
    "ensemble_proba",
    "fit_ovr",
    "gauss_newton",
    "ovr_start",
    "fit_probabilities",
    "fit_sigmoid_ensemble",
]

def design_matrix(X) -> np.ndarray:
    """``[X | 1]``: the inputs with a column of ones for the intercept."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def log_ratios(P) -> np.ndarray:
    """``log(p_k / p_0)`` for k = 1..c−1: the affine scores of a softmax model.

    Rows with a zero probability give ``±inf`` (the caller drops them).
    """
    P = np.asarray(P, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(P)
    return L[:, 1:] - L[:, :1]


def _column_scale(A):
    s = np.max(np.abs(A), axis=0)
    return np.where(s > 0, s, 1.0)


def solve_affine(A, Y):
    """Least-squares solution of ``A @ theta = Y``, with columns equilibrated.

    Returns
    -------
    theta : ndarray of shape (A.shape[1], Y.shape[1])
    rank : int
        Numerical rank of ``A``; below ``A.shape[1]`` the system is underdetermined
        and ``theta`` is its minimum-norm solution.
    residual : float
        ``max |A @ theta − Y|``.
    """
    A = np.asarray(A, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    s = _column_scale(A)
    sol, _, rank, _ = np.linalg.lstsq(A / s, Y, rcond=None)
    theta = sol / s[:, None]
    res = float(np.max(np.abs(A @ theta - Y))) if Y.size else 0.0
    return theta, int(rank), res


def gauss_newton(fun, jac, x0, *, max_iter=100, tol=1e-14, rtol=1e-14):
    """Minimise ``||fun(x)||²`` by Gauss–Newton steps, damped when they fail.

    Each step solves the linearised system ``J dx = −r`` in the least-squares sense
    (columns equilibrated). A step that does not decrease the residual is retried
    with Levenberg–Marquardt damping ``min ||J dx + r||² + λ||dx||²``, λ growing
    tenfold until it does. On equations that hold exactly this converges
    quadratically near the solution. Stops when ``max |r| <= tol``, when the
    residual decreases by less than the fraction ``rtol``, or after ``max_iter``
    steps.

    Returns
    -------
    x : ndarray
    max_residual : float
    """
    x = np.asarray(x0, dtype=np.float64).copy()
    r = fun(x)
    cost = float(r @ r)
    lam = 0.0
    for _ in range(max_iter):
        if np.max(np.abs(r)) <= tol:
            break
        J = jac(x)
        s = np.linalg.norm(J, axis=0)
        s = np.where(s > 0, s, 1.0)
        Js = J / s
        JtJ, Jtr = None, None
        while True:
            if lam == 0.0:  # SVD: accurate on ill-conditioned systems
                dy = scipy.linalg.lstsq(Js, -r, lapack_driver="gelsd", check_finite=False)[0]
            else:  # damped: well conditioned, the normal equations suffice
                if JtJ is None:
                    JtJ, Jtr = Js.T @ Js, Js.T @ r
                dy = scipy.linalg.solve(JtJ + lam * np.eye(JtJ.shape[0]), -Jtr,
                                        assume_a="pos", check_finite=False)
            for _ in range(20):  # backtrack along the step before damping it
                r_new = fun(x + dy / s)
                c_new = float(r_new @ r_new)
                if np.isfinite(c_new) and c_new < cost:
                    break
                dy = dy / 2
            if np.isfinite(c_new) and c_new < cost:
                lam = lam / 100 if lam > 1e-8 else 0.0
                break
            lam = 1e-4 if lam == 0.0 else lam * 100
            if lam > 1e8:
                return x, float(np.max(np.abs(r)))
        x = x + dy / s
        done = cost - c_new <= rtol * cost
        r, cost = r_new, c_new
        if done:
            break
    return x, float(np.max(np.abs(r)))


def solve_rounded_log_ratios(A, P, step):
    """Weighted least squares on the log-ratios of rounded softmax answers.

    Each row is referred to its most probable class r, whose logarithm is the most
    precise; each other class k with a nonzero answer gives the equation
    ``a·(θ_k − θ_r) = log p̃_k − log p̃_r``, weighted by ``p̃_k / step`` (rounding
    by ``step`` moves ``log p̃_k`` by up to ``step / (2 p̃_k)``). Class 0 is the
    reference (θ_0 = 0).

    Returns
    -------
    theta : ndarray of shape (p, c − 1)
    """
    A = np.asarray(A, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    n, p = A.shape
    c = P.shape[1]
    ref = np.argmax(P, axis=1)
    with np.errstate(divide="ignore"):
        L = np.log(P)
    rows, rhs, weights = [], [], []
    for k in range(c):
        use = (P[:, k] > 0) & (ref != k)
        for i in np.flatnonzero(use):
            row = np.zeros((c, p))
            row[k] += A[i]
            row[ref[i]] -= A[i]
            rows.append(row[1:].ravel())
            rhs.append(L[i, k] - L[i, ref[i]])
            weights.append(min(P[i, k] / step, 1e6))
    if not rows:  # every answer rounded to one-hot: no equation; the minimum-norm solution
        return np.zeros((p, c - 1))
    M = np.array(rows) * np.array(weights)[:, None]
    y = np.array(rhs) * np.array(weights)
    s = _column_scale(M)
    sol = np.linalg.lstsq(M / s, y, rcond=None)[0] / s
    return sol.reshape(c - 1, p).T


# ----------------------------------------------------------------- link functions
def softmax_proba(A, theta) -> np.ndarray:
    """Softmax of the scores ``[0, A @ theta]`` (class 0 is the reference)."""
    Z = np.hstack([np.zeros((A.shape[0], 1)), A @ theta])
    Z -= Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def ovr_proba(A, theta) -> np.ndarray:
    """Normalised sigmoids of the scores ``A @ theta`` (one column per class)."""
    S = expit(A @ theta)
    return S / S.sum(axis=1, keepdims=True)


def ensemble_proba(A, theta) -> np.ndarray:
    """Mean sigmoid of the members' scores ``A @ theta`` (one column per member)."""
    return expit(A @ theta).mean(axis=1)


# ----------------------------------------------------------------- one-vs-rest
def _ovr_log_residual(A, Y):
    n, p = A.shape
    c = Y.shape[1] + 1

    def fun(t):
        Z = A @ t.reshape(p, c)
        L = log_expit(Z)
        return (L[:, 1:] - L[:, :1] - Y).ravel()

    def jac(t):
        Z = A @ t.reshape(p, c)
        G = expit(-Z)  # d log σ(z) / dz
        J = np.zeros((n, c - 1, p, c))
        for k in range(1, c):
            J[:, k - 1, :, k] = G[:, k, None] * A
            J[:, k - 1, :, 0] = -G[:, 0, None] * A
        return J.reshape(n * (c - 1), p * c)

    return fun, jac


def fit_ovr(A, P, theta0, *, max_iter=30):
    """Solve the one-vs-rest equations ``log σ(z_k) − log σ(z_0) = log(p_k/p_0)``.

    Parameters
    ----------
    A : ndarray of shape (n, p)
        Design matrix; every row's probabilities must be positive.
    P : ndarray of shape (n, c)
        The answers.
    theta0 : ndarray of shape (p, c)
        Starting point (e.g. ``logit(p_k)`` fitted per class).

    Returns
    -------
    theta : ndarray of shape (p, c)
    residual : float
        Largest absolute residual of the log-ratio equations.

    Notes
    -----
    c(d+1) unknowns and c−1 independent equations per answer: at least
    ⌈c(d+1)/(c−1)⌉ answers are needed. Levenberg–Marquardt from a start near the
    solution converges quadratically on exact answers.
    """
    Y = log_ratios(P)
    fun, jac = _ovr_log_residual(A, Y)
    x, res = gauss_newton(fun, jac, theta0.ravel(), max_iter=max_iter)
    return x.reshape(theta0.shape), res


def ovr_start(A, P):
    """A start for :func:`fit_ovr`: ``logit(p_k) ≈ z_k`` fitted per class.

    Where one classifier says yes and the rest say no, the sigmoids sum to about
    one and ``p_k ≈ σ(z_k)``.
    """
    Pc = np.clip(P, 1e-12, 1 - 1e-12)
    theta, _, _ = solve_affine(A, np.log(Pc) - np.log1p(-Pc))
    return theta


# ----------------------------------------------------------------- rounded answers
def _proba_residual(A, P, link):
    n, p = A.shape
    c = P.shape[1]

    def fun(t):
        return (_link_proba(A, t.reshape(p, -1), link) - P).ravel()

    def jac(t):
        th = t.reshape(p, -1)
        if link == "softmax":
            Q = softmax_proba(A, th)
            # d p_k / d z_j = p_k (δ_kj − p_j), j = 1..c−1
            D = Q[:, :, None] * (np.eye(c)[None, :, 1:] - Q[:, None, 1:])
        else:
            Z = A @ th
            S = expit(Z)
            tot = S.sum(axis=1)
            Q = S / tot[:, None]
            ds = S * (1 - S)
            # d p_k / d z_j = s'_j (δ_kj − p_k) / S
            D = (np.eye(c)[None] - Q[:, :, None]) * (ds / tot[:, None])[:, None, :]
        J = A[:, None, :, None] * D[:, :, None, :]
        return J.reshape(n * c, -1)

    return fun, jac


def _link_proba(A, theta, link):
    return softmax_proba(A, theta) if link == "softmax" else ovr_proba(A, theta)


def fit_probabilities(A, P, theta0, *, link, max_iter=30):
    """Least squares on the answered probabilities: ``min Σ (p(x; θ) − p̃)²``.

    With answers rounded to h = 10^-decimals, the rounding error is uniform on
    [−h/2, h/2] and this is the maximum-likelihood fit under a Gaussian
    approximation of it.

    Parameters
    ----------
    A : ndarray of shape (n, p)
    P : ndarray of shape (n, c)
        Rounded answers.
    theta0 : ndarray of shape (p, c−1) for ``"softmax"``, (p, c) for ``"ovr"``
    link : {"softmax", "ovr"}

    Returns
    -------
    theta : ndarray, shaped as ``theta0``
    max_gap : float
        Largest ``|p(x; θ) − p̃|`` over the answers (≤ h/2 when the copy is
        consistent with every rounded answer).
    """
    fun, jac = _proba_residual(A, P, link)
    x, gap = gauss_newton(fun, jac, theta0.ravel(), max_iter=max_iter, tol=0.0, rtol=1e-8)
    return x.reshape(theta0.shape), gap


# ----------------------------------------------------------------- Platt ensembles
def fit_sigmoid_ensemble(A, p1, theta0, *, n_restarts=4, rng=None, scale=0.05):
    """Fit ``p_1(x) = (1/K) Σ_i σ(a·θ_i)`` to the answers by least squares.

    Parameters
    ----------
    A : ndarray of shape (n, p)
    p1 : ndarray of shape (n,)
        Probability of the second class.
    theta0 : ndarray of shape (p,)
        A single sigmoid fitted to the answers; members start at perturbations of
        it (identical members would make the Jacobian rank-deficient).
    n_restarts : int
        Random starts tried; the best fit is kept.

    Returns
    -------
    theta : ndarray of shape (p, K)
    residual : float
        Largest ``|p̂_1 − p_1|`` over the answers.
    """
    n, p = A.shape
    K = int(theta0.shape[1]) if theta0.ndim == 2 else None
    if K is None:
        raise ValueError("theta0 must be (p, K): one column per member.")

    def fun(t):
        return ensemble_proba(A, t.reshape(p, K)) - p1

    def jac(t):
        S = expit(A @ t.reshape(p, K))
        return (A[:, :, None] * (S * (1 - S) / K)[:, None, :]).reshape(n, p * K)

    best = None
    base = theta0[:, :1]
    spread = scale * (np.abs(base) + np.abs(base).mean())
    for _ in range(max(1, n_restarts)):
        start = base + spread * rng.standard_normal((p, K))
        x, res = gauss_newton(fun, jac, start.ravel(), max_iter=60)
        if best is None or res < best[1]:
            best = (x.reshape(p, K), res)
        if res < 1e-13:
            break
    return best
