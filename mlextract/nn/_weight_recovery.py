"""Weight recovery at critical points (Jagielski et al. 2020, §5; Carlini et al. 2020, §4.3).

At a critical point ``x*`` of unit ``i`` only that unit changes state, so the jump of
the network's gradient across its hyperplane is the rank-one matrix

    ∇F(x* + δv) - ∇F(x* - δv) = σ a_i w_iᵀ,     σ = sign(w_i · v),

(``a_i`` the unit's output weights). A ReLU network is exactly linear inside a
region, so finite differences there have no truncation error: the step can be large
(limited only by the distance to the next hyperplane) and the gradient is exact to
rounding. A central difference whose two halves disagree has crossed a hyperplane;
its step is shrunk, with a floor, until they agree.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gradients", "gradient_jumps", "unit_from_jump"]


def gradients(answer, centers, free, eps, tol, *, max_halvings=20, shrink=4.0,
              max_rows=1 << 15, snap=None, box=None):
    """The gradient of ``answer`` at each center by exact central differences.

    Parameters
    ----------
    answer : callable
        ``answer(X) -> F`` of shape (n, k).
    centers : ndarray of shape (m, d)
    free : ndarray of int
        The coordinates that may vary (the others are held fixed).
    eps : ndarray of shape (m,) or (m, len(free))
        First step per center (or per center and coordinate).
    tol : callable
        ``tol(mag)``: rounding noise for outputs of magnitude ``mag``.
    max_halvings : int, default=20
        Guard: how many times a step may shrink before the coordinate is given up.
    shrink : float, default=4.0
        Factor by which a failing step shrinks.
    max_rows : int, default=32768
        Rows per batch sent to ``answer`` (memory guard).
    snap : callable, default=None
        ``snap(X)``: the points as the victim will see them (a float32 victim rounds
        its inputs). The differences divide by the steps actually taken.
    box : (lower, upper) or None, default=None
        A closed domain: steps are cut so that no query leaves it.

    Returns
    -------
    G : ndarray of shape (m, len(free), k)
        ``(F(c + ε e_j) - F(c - ε e_j)) / 2ε``.
    ok : ndarray of bool, shape (m, len(free))
        False where the two halves of the difference never agreed.
    """
    m, d = centers.shape
    p = free.size
    per = 2 * p + 1
    per_batch = max(1, max_rows // per)
    G_parts, ok_parts = [], []
    for s in range(0, m, per_batch):
        C = centers[s:s + per_batch]
        e = np.asarray(eps[s:s + per_batch], float)
        if e.ndim == 1:
            e = np.repeat(e[:, None], p, axis=1)
        if box is not None:
            room = np.minimum(C[:, free] - box[0][free], box[1][free] - C[:, free])
            e = np.minimum(e, 0.999 * np.maximum(room, 0.0))
        G, ok = _central(answer, C, free, e, tol, max_halvings, shrink, max_rows,
                         snap or (lambda X: X))
        G_parts.append(G)
        ok_parts.append(ok)
    return np.concatenate(G_parts), np.concatenate(ok_parts)


def _steps(C, free, e):
    """Rows ``c ± e_cj e_j`` for every center c and free coordinate j."""
    mc, p = e.shape
    plus = np.repeat(C[:, None, :], p, axis=1)
    minus = plus.copy()
    idx = np.arange(p)
    plus[:, idx, free] += e
    minus[:, idx, free] -= e
    return plus.reshape(-1, C.shape[1]), minus.reshape(-1, C.shape[1])


def _central(answer, C, free, e, tol, max_halvings, shrink, max_rows, snap):
    mc, p = e.shape
    C = snap(C)
    F0 = answer(C)
    k = F0.shape[1]
    plus, minus = _steps(C, free, e)
    plus, minus = snap(plus), snap(minus)
    idx = np.arange(p)
    cj = C[:, free]
    ep = plus.reshape(mc, p, -1)[:, idx, free] - cj  # the steps actually taken
    em = cj - minus.reshape(mc, p, -1)[:, idx, free]
    Fp = answer(plus).reshape(mc, p, k)
    Fm = answer(minus).reshape(mc, p, k)
    G = np.empty((mc, p, k))
    ok = np.zeros((mc, p), dtype=bool)
    todo = np.ones((mc, p), dtype=bool)
    for _ in range(max_halvings + 1):
        with np.errstate(divide="ignore", invalid="ignore"):
            wp = (em / (ep + em))[:, :, None]
            # distance of F(c) from the chord through the two sides (0 if linear)
            curv = 2 * np.abs(wp * Fp + (1 - wp) * Fm - F0[:, None, :]).max(axis=2)
        mag = np.maximum(np.abs(Fp).max(axis=2), np.abs(Fm).max(axis=2))
        mag = np.maximum(mag, np.abs(F0).max(axis=1)[:, None])
        good = todo & (ep > 0) & (em > 0) & (curv <= tol(mag))
        todo &= e > 0  # no room to step (a center on the boundary): give up
        G[good] = (Fp[good] - Fm[good]) / (ep[good] + em[good])[:, None]
        ok |= good
        todo &= ~good
        if not todo.any():
            break
        e = np.where(todo, e / shrink, e)
        ci, ji = np.nonzero(todo)
        base = C[ci]
        P = base.copy()
        M = base.copy()
        r = np.arange(ci.size)
        P[r, free[ji]] += e[ci, ji]
        M[r, free[ji]] -= e[ci, ji]
        P, M = snap(P), snap(M)
        ep[ci, ji] = P[r, free[ji]] - base[r, free[ji]]
        em[ci, ji] = base[r, free[ji]] - M[r, free[ji]]
        A = _chunked(answer, np.concatenate([P, M]), max_rows)
        Fp[ci, ji] = A[:ci.size]
        Fm[ci, ji] = A[ci.size:]
    return G, ok


def _chunked(answer, X, max_rows):
    return np.concatenate([answer(X[s:s + max_rows]) for s in range(0, len(X), max_rows)])


def gradient_jumps(answer, x0, v, t_kinks, boundaries, free, eps_scale, tol, **kwargs):
    """The jump of the gradient across critical points of one line.

    Each kink's two sides are the linear regions of the line next to it, bounded by
    the neighbouring kinks (or clusters, or the line's ends). The gradient is taken
    once per region, at its middle, so neighbouring kinks share it: ``m`` kinks in a
    row cost ``m + 1`` gradients, not ``2m``.

    Parameters
    ----------
    answer : callable
    x0, v : ndarray of shape (d,)
        The line.
    t_kinks : ndarray of shape (m,)
        The kinks whose jumps are wanted.
    boundaries : ndarray
        Every position that bounds a linear region on the line (all kinks, cluster
        ends and the two ends of the searched stretch).
    free : ndarray of int
    eps_scale : ndarray of shape (len(free),)
        First step per coordinate for a region of half-width 1.
    tol : callable

    Returns
    -------
    D : ndarray of shape (m, len(free), k)
        ``∇F(right region) - ∇F(left region)``.
    ok : ndarray of bool, shape (m,)
        True where every coordinate's difference was exact on both sides.
    """
    bnd = np.unique(np.asarray(boundaries, float))
    pos = np.searchsorted(bnd, t_kinks)
    left = np.clip(pos - 1, 0, bnd.size - 2)
    regions = np.unique(np.concatenate([left, left + 1]))
    regions = regions[regions < bnd.size - 1]
    lo, hi = bnd[regions], bnd[regions + 1]
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    centers = x0 + mid[:, None] * v
    G, okr = gradients(answer, centers, free, half[:, None] * eps_scale, tol, **kwargs)
    index = {r: i for i, r in enumerate(regions)}
    li = np.array([index[r] for r in left])
    ri = np.array([index.get(r + 1, index[r]) for r in left])
    D = G[ri] - G[li]
    ok = okr[li].all(axis=1) & okr[ri].all(axis=1) & (ri != li)
    return D, ok


def unit_from_jump(D, slope_change, x_star, v, free, d):
    """A unit's normalised hyperplane and output weights from its gradient jump.

    Parameters
    ----------
    D : ndarray of shape (len(free), k)
        The jump ``σ a wᵀ`` (transposed: one row per input coordinate).
    slope_change : ndarray of shape (k,)
        The jump of the slope along the line, ``a |w·v|``.
    x_star, v : ndarray of shape (d,)
        The critical point and the line's direction.
    free : ndarray of int
    d : int

    Returns
    -------
    w : ndarray of shape (d,)
        ``σ w_i / ||w_i||``: unit norm, oriented so that ``w·v > 0``. The whole
        vector fixes the scale, so no single *reference coordinate* is divided by
        (a constant input feature has zero weight and would make that ill-posed).
    b : float
        ``-w·x*``.
    alpha : ndarray of shape (k,)
        ``a_i ||w_i||``: the output weights of the normalised unit.
    rank1_error : float
        Relative distance of ``D`` from rank one (a jump of two units at once).
    line_error : float
        Relative mismatch of ``alpha (w·v)`` with the measured slope change.
    """
    u = slope_change / np.linalg.norm(slope_change)
    wf = D @ u
    nw = np.linalg.norm(wf)
    w = np.zeros(d)
    if nw == 0:
        return w, 0.0, np.zeros_like(slope_change), np.inf, np.inf
    w[free] = wf / nw
    alpha = D.T @ w[free]
    nD = np.linalg.norm(D)
    rank1 = float(np.linalg.norm(D - np.outer(w[free], alpha)) / nD)
    wv = float(w @ v)
    line = float(np.linalg.norm(alpha * wv - slope_change) / np.linalg.norm(slope_change))
    return w, float(-w @ x_star), alpha, rank1, line
