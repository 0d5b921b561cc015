"""Hyperplane fits through boundary points of one unit (Carlini et al. 2020, §4.4).

A unit of layer ``l`` is the hyperplane ``u·a + b = 0`` in the space of the
activations ``a = a_{l-1}(x)`` of the layer below; points located on its boundary
give one equation each. Its ``(u, b)`` is the smallest right singular vector of the
rows ``[a, 1]``: trimmed (``hyperplane_fit``) for points of the first estimates, or
weighted by each point's rounding precision with outliers dropped
(``exact_hyperplane_fit``) for points located to rounding precision in refinement.
Plain functions, no query.

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884), §4.4 (precision refinement).
"""

from __future__ import annotations

import numpy as np

__all__ = ["hyperplane_fit", "exact_hyperplane_fit"]


def hyperplane_fit(points_a, prior=None):
    """``(u, b)`` with ``u·a + b = 0`` through many points (smallest singular vector).

    Trimmed: starting from ``prior`` (or a plain fit), refit through the 60% of
    points nearest the current plane, then through those within 4 times the
    median distance (a point on another unit's boundary is far off).
    Returns ``u, b, residual, gap`` (relative singular values) and the rows kept.
    """
    A = np.hstack([points_a, np.ones((points_a.shape[0], 1))])
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    keep = np.ones(A.shape[0], dtype=bool)
    v = None if prior is None else np.append(prior[0], prior[1])
    sv = None
    for it in range(6):
        if v is not None:
            r = np.abs(A @ v)
            q = max(0.6, min(1.0, (A.shape[1] + 8) / A.shape[0]))
            cut = np.quantile(r, q) if it < 3 else max(4 * np.median(r),
                                                      np.quantile(r, q))
            keep = r <= max(cut, 1e-300)
        if keep.sum() < A.shape[1]:
            break
        _, sv, Vt = np.linalg.svd(A[keep], full_matrices=False)
        v = Vt[-1]
    if sv is None or sv.size < A.shape[1]:
        return None, None, np.inf, 0.0, keep
    n = np.linalg.norm(v[:-1])
    return v[:-1] / n, v[-1] / n, float(sv[-1] / sv[0]), float(sv[-2] / sv[0]), keep


def exact_hyperplane_fit(points_a, sigma=None, prior=None, max_rounds=4, factor=100.0):
    """``(u, b)`` with ``u·a + b = 0`` through points located to rounding precision.

    A smallest-singular-vector fit of the rows ``[a, 1]``, each divided by its
    expected residual ``sigma`` (for a unit-norm ``u``; rows normalised when not
    given); a point much farther off than the typical one (``factor`` times the
    median: a crossing of another unit that passed the checks) is dropped and the
    fit repeated; with a ``prior`` ``(u, b)`` the first round's distances are
    measured from it (an estimate already much closer than an outlier).
    Returns ``u, b, residual, gap`` (relative singular values of the normalised
    rows) and the rows kept, or Nones when the kept rows do not determine the
    plane.
    """
    A0 = np.hstack([points_a, np.ones((points_a.shape[0], 1))])
    A0 = A0 / np.linalg.norm(A0, axis=1, keepdims=True)
    if sigma is None:
        A = A0
    else:
        w = 1.0 / np.maximum(np.asarray(sigma, float), 1e-300)
        A = np.hstack([points_a, np.ones((points_a.shape[0], 1))]) * w[:, None]
        A = A / np.median(np.linalg.norm(A, axis=1))
    keep = np.ones(A.shape[0], dtype=bool)
    v = None
    if prior is not None:
        v = np.append(prior[0], prior[1])
        v = v / np.linalg.norm(v)
    for it in range(max_rounds + 1):
        if it > 0 or v is None:
            if keep.sum() < A.shape[1]:
                return None, None, np.inf, 0.0, keep
            _, sv, Vt = np.linalg.svd(A[keep], full_matrices=False)
            v = Vt[-1]
        r = np.abs(A @ v)
        far = r > factor * max(np.median(r[keep]), 1e-17)
        if it > 0 and not (far & keep).any():
            break
        keep &= ~far
    n = np.linalg.norm(v[:-1])
    if sv.size < A.shape[1] or n == 0:
        return None, None, np.inf, 0.0, keep
    sv0 = np.linalg.svd(A0[keep], compute_uv=False)
    res = float(np.abs(A0[keep] @ v).max() / sv0[0])
    return v[:-1] / n, v[-1] / n, res, float(sv0[-2] / sv0[0]), keep
