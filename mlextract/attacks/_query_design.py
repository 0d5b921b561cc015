"""Where equation solving asks: a finite-difference design in the valid input space.

Valid inputs with G one-hot groups span only d + 1 − G affine dimensions, so the
equations are written in *reduced coordinates*: each group's first column is
dropped (its category becomes the reference, coded as all zeros). An affine
function of valid inputs is an affine function of the reduced coordinates, and
back: the dropped column's coefficient is 0 (the group's constant shift).

The design is a base point ``x0`` and one query per direction: each numeric
feature moved to another value, each group switched to each of its other
categories. It has exactly d + 1 − G rows and full rank.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Reduction",
    "balanced_rows",
    "base_point",
    "coverage_deficit",
    "design_rows",
    "informative",
    "numeric_steps",
    "shrink_row",
]


class Reduction:
    """Map valid inputs to reduced coordinates (each group's first column dropped).

    Parameters
    ----------
    domain : Domain
    """

    def __init__(self, domain):
        d = domain.n_features
        keep = np.ones(d, dtype=bool)
        for g in domain.one_hot_groups:
            keep[g[0]] = False
        self.keep = keep
        self.n_features = d
        self.n_reduced = int(keep.sum())

    def reduce(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)[:, self.keep]

    def expand(self, coef_r) -> np.ndarray:
        """Coefficients on the full inputs (0 on each group's reference column)."""
        coef_r = np.atleast_2d(coef_r)
        out = np.zeros((coef_r.shape[0], self.n_features))
        out[:, self.keep] = coef_r
        return out


def numeric_steps(domain):
    """For each non-one-hot feature: a base value and a far value to step to."""
    lo, hi = domain.lower.copy(), domain.upper.copy()
    base = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2, 0.0)
    base = np.clip(base, lo, hi)
    far = np.where(np.isfinite(hi) & (hi > base), hi, np.where(np.isfinite(lo), lo, base + 1.0))
    far = np.where(far == base, base + 1.0, far)
    for j in domain.integer:
        base[j] = np.clip(np.floor(base[j]), lo[j], hi[j])
        far[j] = hi[j] if np.isfinite(hi[j]) and hi[j] > base[j] else (
            lo[j] if np.isfinite(lo[j]) and lo[j] < base[j] else base[j] + 1
        )
    for j, vals in domain.categorical.items():
        base[j] = vals[0]
        far[j] = vals[-1] if vals.size > 1 else vals[0]
    return base, far


def base_point(domain) -> np.ndarray:
    """The centre of the domain; each one-hot group on its first category."""
    base, _ = numeric_steps(domain)
    for g in domain.one_hot_groups:
        base[g] = 0.0
        base[g[0]] = 1.0
    return base


def design_rows(domain, x0):
    """The finite-difference design around ``x0``.

    Returns
    -------
    X : ndarray of shape (d + 1 − G, d)
        ``x0`` first, then one row per direction.
    kinds : list of (str, int)
        For each row after the first: ``("numeric", j)`` or ``("one_hot", j)``
        (the column switched on).
    """
    _, far = numeric_steps(domain)
    grouped = np.zeros(domain.n_features, dtype=bool)
    for g in domain.one_hot_groups:
        grouped[g] = True
    rows, kinds = [x0.copy()], []
    for j in np.flatnonzero(~grouped):
        x = x0.copy()
        x[j] = far[j] if far[j] != x0[j] else _other_value(domain, j, x0[j])
        if x[j] == x0[j]:
            continue  # a constant feature: no direction to learn
        rows.append(x)
        kinds.append(("numeric", int(j)))
    for g in domain.one_hot_groups:
        active = g[np.argmax(x0[g])]
        for j in g:
            if j == active:
                continue
            x = x0.copy()
            x[g] = 0.0
            x[j] = 1.0
            rows.append(x)
            kinds.append(("one_hot", int(j)))
    return np.array(rows), kinds


def _other_value(domain, j, v):
    if j in domain.categorical:
        vals = domain.categorical[j]
        others = vals[vals != v]
        return others[-1] if others.size else v
    lo, hi = domain.lower[j], domain.upper[j]
    step = 1.0
    if v + step <= hi:
        return v + step
    if v - step >= lo:
        return v - step
    return v


def shrink_row(domain, x0, x, j):
    """Move numeric feature ``j`` of ``x`` halfway back to ``x0``; None if it cannot."""
    if j in domain.categorical:
        return None
    new = x0[j] + (x[j] - x0[j]) / 2
    if j in domain.integer:
        new = np.trunc(new) if new != x0[j] else new
        if new == x0[j]:
            new = x0[j] + np.sign(x[j] - x0[j])
        if new == x[j]:
            return None
    if new == x0[j] or new == x[j]:
        return None
    out = x.copy()
    out[j] = new
    return out


def informative(P, floor) -> np.ndarray:
    """Rows whose every probability is at least ``floor`` (usable in the equations)."""
    P = np.asarray(P, dtype=np.float64)
    return np.all(P >= floor, axis=1) & np.all(np.isfinite(P), axis=1)


def balanced_rows(domain, n, rng, existing=None, min_count=2):
    """``n`` random valid inputs whose one-hot categories are spread evenly.

    Numeric features are uniform on the domain. In each group, the categories seen
    fewer than ``min_count`` times in ``existing`` come first, then every category in
    turn, shuffled so that the groups pair at random. A category active in a single
    answer leaves one of its c one-vs-rest coefficients free; each needs two.
    """
    X = domain.sample(n, random_state=rng)
    if n == 0:
        return X
    for g in domain.one_hot_groups:
        seen = (np.zeros(g.size, dtype=int) if existing is None or len(existing) == 0
                else np.asarray(existing)[:, g].sum(axis=0).astype(int))
        need = np.repeat(np.arange(g.size), np.maximum(min_count - seen, 0))
        cycle = np.concatenate([rng.permutation(g.size) for _ in range(n // g.size + 1)])
        seq = np.concatenate([need, cycle])[:n]
        seq = rng.permutation(seq)
        X[:, g] = 0.0
        X[np.arange(n), g[seq]] = 1.0
    return X


def coverage_deficit(domain, existing, min_count=2) -> int:
    """Rows needed so every one-hot category is active at least ``min_count`` times."""
    worst = 0
    for g in domain.one_hot_groups:
        seen = np.asarray(existing)[:, g].sum(axis=0)
        worst = max(worst, int(np.maximum(min_count - seen, 0).sum()))
    return worst
