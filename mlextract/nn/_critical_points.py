"""Critical-point search along random lines (Jagielski et al. 2020; Carlini et al. 2020).

Restricted to a line ``x(t) = x0 + t v``, a ReLU network is a piecewise linear
function of ``t``; each hidden unit whose pre-activation changes sign on the line puts
one kink (a *critical point*) into it. This module finds those kinks to float
precision with few, batched queries: sample a grid, flag the points where three
neighbours are not collinear, and, where a single kink sits between two pieces known
to be linear, take the intersection of the two pieces and verify it with a few queries
at and around it.
Everything else is subdivided, with a floor on the gap so the search always ends.
"""

from __future__ import annotations

import numpy as np

__all__ = ["line_grid", "collinearity_residuals", "search_lines", "LineSearch"]


def line_grid(n_points, t_min, t_max):
    """``n_points`` positions in ``[t_min, t_max]``, dense near 0 like a Cauchy law.

    Along a random line through a random point, the critical point of a unit with
    random weights sits at ``t = -(w·x0 + b) / (w·v)``: a ratio of two centred normals,
    i.e. Cauchy distributed. The grid ``t = tan(u)`` with ``u`` uniform puts equal
    probability mass between neighbouring points.
    """
    u = np.linspace(np.arctan(t_min), np.arctan(t_max), int(n_points))
    t = np.tan(u)
    t[0], t[-1] = t_min, t_max
    return t


def collinearity_residuals(t, F):
    """How far each interior sample lies from the chord of its two neighbours.

    Parameters
    ----------
    t : ndarray of shape (n,)
        Sorted positions on the line.
    F : ndarray of shape (n, k)
        The outputs there.

    Returns
    -------
    r : ndarray of shape (n,)
        ``max_o |F_j - chord_j|`` for ``0 < j < n-1``; 0 at both ends.
    mag : ndarray of shape (n,)
        The largest ``|F|`` of the three points (the scale of rounding errors).
    """
    n = t.size
    r = np.zeros(n)
    mag = np.zeros(n)
    if n < 3:
        return r, np.abs(F).max(axis=1) if n else mag
    w = ((t[1:-1] - t[:-2]) / (t[2:] - t[:-2]))[:, None]
    chord = F[:-2] + w * (F[2:] - F[:-2])
    r[1:-1] = np.abs(F[1:-1] - chord).max(axis=1)
    a = np.abs(F).max(axis=1)
    mag[1:-1] = np.maximum(np.maximum(a[:-2], a[1:-1]), a[2:])
    return r, mag


def _runs(mask):
    """(start, stop) index pairs (inclusive) of the runs of True in ``mask``."""
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


class LineSearch:
    """The samples and the critical points found on one line.

    Attributes
    ----------
    x0, v : ndarray of shape (d,)
        The line ``x0 + t v``.
    t : ndarray
        Sorted sample positions; ``F`` the outputs there.
    kinks : list of (t_star, slope_change)
        Verified single critical points: the position and the change of the slope
        vector (right minus left), which for a unit ``i`` equals ``a_i |w_i·v|``.
    clusters : list of (t_lo, t_hi)
        Intervals holding several critical points closer together than the search's
        floor: units crossing close together, left to other lines.
    """

    def __init__(self, x0, v, t, F):
        self.x0 = x0
        self.v = v
        self.t = t
        self.F = F
        self.kinks: list[tuple[float, np.ndarray]] = []
        self.clusters: list[tuple[float, float]] = []
        self.resolved: list[tuple[float, float]] = []
        self.tried: set[float] = set()

    def add(self, t_new, F_new):
        t = np.concatenate([self.t, t_new])
        F = np.concatenate([self.F, F_new])
        order = np.argsort(t, kind="stable")
        t, F = t[order], F[order]
        keep = np.concatenate([[True], np.diff(t) > 0])
        self.t, self.F = t[keep], F[keep]

    def is_resolved(self, lo, hi):
        return any(a <= lo and hi <= b for a, b in self.resolved)

    def kink_array(self):
        """Positions of the kinks, sorted, and the matching slope changes."""
        if not self.kinks:
            return np.empty(0), np.empty((0, self.F.shape[1]))
        order = np.argsort([k[0] for k in self.kinks])
        ts = np.array([self.kinks[i][0] for i in order])
        ds = np.array([self.kinks[i][1] for i in order])
        return ts, ds


def search_lines(answer, lines, *, n_grid, tol, min_gap, max_rounds=200, n_checks=8):
    """Find the critical points on several lines at once (batched queries).

    Parameters
    ----------
    answer : callable
        ``answer(X) -> F`` of shape (n, k): the victim's logits for a batch.
    lines : list of (x0, v, t_min, t_max)
        The lines and the stretch of each to search.
    n_grid : int
        Initial samples per line.
    tol : callable
        ``tol(mag) -> float array``: the largest residual of collinearity that is
        rounding noise for outputs of magnitude ``mag``.
    min_gap : float
        Relative floor on the gap between samples: a gap shorter than
        ``min_gap * max(1, |t|)`` is not split further (a loop guard, and the
        resolution below which neurons count as crossing together).
    max_rounds : int, default=200
        Guard on the rounds of refinement.
    n_checks : int, default=8
        Verification points on each side of a candidate, at ``4^-1 .. 4^-n_checks``
        of the distance to the run's ends.

    Returns
    -------
    searches : list of LineSearch
    complete : bool
        False when ``max_rounds`` stopped the search with work left.

    Notes
    -----
    A sample ``j`` is *bad* when ``F_{j-1}, F_j, F_{j+1}`` are not collinear. A run of
    bad samples ``j1..j2`` holds every kink between ``t_{j1}`` and ``t_{j2}`` whenever
    its neighbours are good, and the pieces ``[t_{j1-2}, t_{j1}]`` and
    ``[t_{j2}, t_{j2+2}]`` are then linear. If one kink lies between them it is where the
    two pieces' lines meet: ``t* = argmin |L(t) - R(t)|``; queries at ``t*`` and around it matching
    both lines verifies it to rounding precision (Carlini et al. 2020, §4.2).
    """
    searches = []
    grids = [line_grid(n_grid, lo, hi) for _, _, lo, hi in lines]
    X = np.concatenate([x0 + t[:, None] * v for (x0, v, _, _), t in zip(lines, grids)])
    F = answer(X)
    pos = 0
    for (x0, v, _, _), t in zip(lines, grids):
        searches.append(LineSearch(x0, v, t, F[pos:pos + t.size]))
        pos += t.size
    offsets = 4.0 ** -np.arange(1, n_checks + 1)
    for _ in range(max_rounds):
        if any(s.t.size > 32 * n_grid for s in searches):
            return searches, False  # guard: noise taken for kinks everywhere
        plans = [_plan(s, tol, min_gap) for s in searches]
        rows = []
        for ts, infos, sub in plans:
            checks = [_check_points(t_star, info, offsets) for t_star, info in zip(ts, infos)]
            pts = np.concatenate([np.asarray(sub, float), *checks]) if (sub or checks) else \
                np.empty(0)
            rows.append(pts)
        if sum(r.size for r in rows) == 0:
            return searches, True
        F = answer(np.concatenate([s.x0 + r[:, None] * s.v for s, r in zip(searches, rows)]))
        pos = 0
        for s, (ts, infos, sub), r in zip(searches, plans, rows):
            Fl = F[pos:pos + r.size]
            pos += r.size
            n_sub = len(sub)
            keep_t, keep_F = list(sub), list(Fl[:n_sub])
            q = n_sub
            per = 2 * offsets.size + 1
            for t_star, info in zip(ts, infos):
                left, right, lo, hi = info
                tc, Fc = r[q:q + per], Fl[q:q + per]
                q += per
                model = np.where((tc <= t_star)[:, None], left(tc), right(tc))
                mag = np.abs(Fc).max(axis=1)
                if np.all(np.abs(Fc - model).max(axis=1) <= tol(mag)):
                    s.kinks.append((float(t_star), right.slope - left.slope))
                    s.resolved.append((lo, hi))
                else:
                    # every check point is a valid sample: keep them all
                    keep_t.extend(tc)
                    keep_F.extend(Fc)
                    s.tried.add(round(float(t_star), 12))
                    if hi - lo <= 4 * min_gap * max(1.0, abs(t_star)):
                        s.clusters.append((float(lo), float(hi)))
                        s.resolved.append((float(lo), float(hi)))
            if keep_t:
                s.add(np.asarray(keep_t, float), np.asarray(keep_F).reshape(len(keep_t), -1))
    return searches, False


def _check_points(t_star, info, offsets):
    """``t*`` and points at geometric distances on both sides of it, inside the run.

    Two units crossing close together can fool a single check at ``t*`` (when
    their slope changes have opposite signs the two outer lines meet outside the
    pair, where the function *is* one of the lines); the function is then off
    the lines somewhere between ``t*`` and the pair, at a distance these points
    sample on a geometric scale.
    """
    _, _, lo, hi = info
    span = min(t_star - lo, hi - t_star)
    return np.concatenate([[t_star], t_star - span * offsets, t_star + span * offsets])


class _Piece:
    """A linear piece ``F(t) = F_a + slope (t - t_a)`` of the function on a line."""

    def __init__(self, ta, Fa, tb, Fb):
        self.ta = ta
        self.Fa = Fa
        self.slope = (Fb - Fa) / (tb - ta)

    def __call__(self, t):
        return self.Fa + np.multiply.outer(np.asarray(t) - self.ta, self.slope)


def _plan(s, tol, min_gap):
    """One round on one line: candidate kinks to verify, positions to subdivide."""
    t, F = s.t, s.F
    n = t.size
    r, mag = collinearity_residuals(t, F)
    bad = r > tol(mag)
    cand_t, cand_info, sub = [], [], []

    def split(gaps):
        out = []
        for j in gaps:
            if 0 <= j < n - 1 and t[j + 1] - t[j] > min_gap * max(1.0, abs(t[j])):
                out.append(0.5 * (t[j] + t[j + 1]))
        return out

    for j1, j2 in _runs(bad):
        lo, hi = t[max(j1 - 1, 0)], t[min(j2 + 1, n - 1)]
        if s.is_resolved(t[j1], t[j2]) or s.is_resolved(lo, hi):
            continue
        if j1 >= 2 and j2 <= n - 3 and j2 - j1 <= 1:
            left = _Piece(t[j1 - 2], F[j1 - 2], t[j1], F[j1])
            right = _Piece(t[j2], F[j2], t[j2 + 2], F[j2 + 2])
            dS = right.slope - left.slope
            nd = float(dS @ dS)
            if nd > 0:
                # L(t) = R(t) in the least-squares sense over the outputs
                c = (left.Fa - left.slope * left.ta) - (right.Fa - right.slope * right.ta)
                t_star = float(c @ dS / nd)
                if (t[j1 - 1] < t_star < t[j2 + 1] and not s.is_resolved(t_star, t_star)
                        and round(t_star, 12) not in s.tried):
                    cand_t.append(t_star)
                    cand_info.append((left, right, t[j1 - 1], t[j2 + 1]))
                    continue
        if j2 > j1:
            gaps = list(range(j1, j2))
        else:
            gaps = [j1 - 1, j1]
        if j1 < 2:
            gaps += list(range(0, j1))
        if j2 > n - 3:
            gaps += list(range(j2, n - 1))
        pts = split(sorted(set(gaps)))
        if not pts and j2 > j1:
            pts = split([j1 - 1, j2])
        if pts:
            sub.extend(pts)
        else:
            s.clusters.append((float(lo), float(hi)))
            s.resolved.append((float(lo), float(hi)))
    return cand_t, cand_info, sub
