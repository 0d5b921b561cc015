"""VC dimensions and growth functions of the families mlextract attacks."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln, logsumexp

from ._record import check_int

__all__ = [
    "vc_halfspaces",
    "vc_tree_bounds",
    "sauer_shelah_log2",
    "cover_count_log2",
]


def vc_halfspaces(d, *, homogeneous=False) -> int:
    """VC dimension of halfspaces in R^d: d + 1 (affine) or d (through the origin).

    Notes
    -----
    d + 1 affinely independent points are shattered by affine halfspaces, and by
    Radon's theorem no d + 2 points are. Homogeneous halfspaces ``sign(w·x)`` have
    VC dimension d.

    References
    ----------
    .. [1] T. Cover. Geometrical and statistical properties of systems of linear
       inequalities. IEEE Trans. Electronic Computers, 1965.

    Examples
    --------
    >>> vc_halfspaces(105), vc_halfspaces(105, homogeneous=True)
    (106, 105)
    """
    d = check_int(d, "d")
    return d if homogeneous else d + 1


def _log2_binom(n, k):
    return (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)) / math.log(2)


def sauer_shelah_log2(n, d) -> float:
    """log2 Φ_d(n) = log2 Σ_{i ≤ d} C(n, i): the most labelings of n points by a class of
    VC dimension d (Sauer–Shelah); Φ_d(n) ≤ (en/d)^d for n ≥ d.

    Examples
    --------
    >>> round(2 ** sauer_shelah_log2(3, 3), 9), round(2 ** sauer_shelah_log2(4, 1), 9)
    (8.0, 5.0)
    """
    n = check_int(n, "n", low=0)
    d = check_int(d, "d", low=0)
    i = np.arange(min(n, d) + 1)
    logs = gammaln(n + 1) - gammaln(i + 1) - gammaln(n - i + 1)
    return float(logsumexp(logs) / math.log(2))


def cover_count_log2(n, d) -> float:
    """log2 of Cover's count of homogeneous linear dichotomies of n points in R^d.

    C(n, d) = 2·Σ_{k=0}^{d−1} C(n − 1, k) for n points in general position; for affine
    halfspaces in R^d use d + 1.

    References
    ----------
    .. [1] Cover 1965, Theorem 1.

    Examples
    --------
    >>> cover_count_log2(3, 3), cover_count_log2(4, 2)   # 8 and 2·(1 + 3)
    (3.0, 3.0)
    """
    n = check_int(n, "n")
    d = check_int(d, "d")
    k = np.arange(min(n - 1, d - 1) + 1)
    logs = gammaln(n) - gammaln(k + 1) - gammaln(n - k)
    return float(1 + logsumexp(logs) / math.log(2))


def vc_tree_bounds(leaves, d) -> tuple[int, int]:
    """Lower and upper bounds on the VC dimension of axis-aligned trees with L leaves.

    No closed form is known; the class of binary trees with at most L leaves on d
    real features has VC dimension between L and the largest n with
    n ≤ (L − 1)·log2(4·d·(n + 1)) + L.

    Notes
    -----
    Lower: L points on a line, each in its own cell of L − 1 thresholds, take every
    labeling. Upper: a tree is a shape (at most 4^(L−1) binary trees with L leaves:
    a Catalan number), a feature and one of n + 1 distinct threshold positions at
    each of its L − 1 nodes, and a label per leaf, so it makes at most
    (4d(n + 1))^(L−1)·2^L labelings of n points; shattering needs 2^n of them.
    For d = 1 the lower bound is exact.

    References
    ----------
    .. [1] J.-S. Leboeuf, F. LeBlanc, M. Marchand. Decision trees as partitioning
       machines to characterize their generalization properties. NeurIPS 2020.

    Examples
    --------
    >>> vc_tree_bounds(1, 5)
    (1, 1)
    """
    L = check_int(leaves, "leaves")
    d = check_int(d, "d")

    def fits(n):
        return n <= (L - 1) * math.log2(4 * d * (n + 1)) + L

    hi = max(L, 1)
    while fits(hi * 2):
        hi *= 2
    lo, hi = hi, hi * 2  # fits(lo) holds, fits(hi) fails
    if not fits(lo):
        return L, L
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return L, max(lo, L)
