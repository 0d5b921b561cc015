"""Critical points' signatures in the space of the known layers (Carlini et al. 2020, §4.3).

With the first ``l - 1`` layers known, a critical point of a unit of layer ``l``
gives the unit's weights on the units of layer ``l - 1`` active there: its input
normal is ``J_{l-1}(x*)ᵀ u`` (a *partial signature*, unique where the layer below
contracts). Points of one unit agree on their common support wherever they lie;
they are clustered by that agreement and each cluster is solved jointly (its normals
and the hyperplane equations ``u·a_{l-1}(x*) + b = 0``). Plain functions, no query.

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884), §4.3.
"""

from __future__ import annotations

import numpy as np

__all__ = ["forward_known", "activation_jacobian", "signature", "cluster_signatures",
           "joint_solve"]


def forward_known(X, layers):
    """Activations of the last known layer for each row of ``X``.

    ``layers`` is a list of ``(W, b)`` with ``W`` of shape (fan_out, fan_in).
    """
    A = np.asarray(X, dtype=np.float64)
    for W, b in layers:
        A = np.maximum(A @ W.T + b, 0.0)
    return A


def activation_jacobian(x, layers):
    """``a_l(x)``, ``J_l(x) = ∂a_l/∂x`` and the pre-activations of every known layer."""
    a = np.asarray(x, dtype=np.float64)
    J = np.eye(a.size)
    Z = []
    for W, b in layers:
        z = W @ a + b
        Z.append(z)
        on = z > 0
        J = (W @ J) * on[:, None]
        a = np.where(on, z, 0.0)
    return a, J, Z


def signature(normal, a, J, *, rank_tol=1e-9, res_tol=1e-6):
    """A critical point's partial signature in the space of the last known layer.

    Solves ``J[S]ᵀ u = n`` on the active units ``S`` (rows of ``J`` not zero).

    Returns
    -------
    S : ndarray of int or None
        The support (None when the rows of ``J[S]`` are dependent, an *expansive*
        region, or the normal is not in their span).
    u : ndarray of shape (len(S),)
    b : float
        ``-u·a[S]`` (the hyperplane passes through the point).
    """
    S = np.flatnonzero(np.abs(J).max(axis=1) > 0)
    if S.size == 0:
        return None, None, None
    JS = J[S]
    sv = np.linalg.svd(JS, compute_uv=False)
    if sv.size < S.size or sv[-1] < rank_tol * sv[0]:
        return None, None, None
    u, *_ = np.linalg.lstsq(JS.T, normal, rcond=None)
    if np.linalg.norm(JS.T @ u - normal) > res_tol * np.linalg.norm(normal):
        return None, None, None
    b = float(-u @ a[S])
    nrm = np.linalg.norm(u)
    return S, u / nrm, b / nrm


def _match(p, q, min_common, tol):
    """True when two partial signatures are proportional on their common support."""
    Sp, up, bp = p
    Sq, uq, bq = q
    common, ip, iq = np.intersect1d(Sp, Sq, return_indices=True)
    if common.size < min_common:
        return False
    x = np.append(up[ip], bp)
    y = np.append(uq[iq], bq)
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    if nx == 0 or ny == 0:
        return False
    return 1.0 - abs(x @ y) / (nx * ny) <= tol


def cluster_signatures(sigs, *, min_common=2, tol=1e-8):
    """Union-find clusters of matching signatures; ``sigs`` is a list of (S, u, b)."""
    n = len(sigs)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if find(i) != find(j) and _match(sigs[i], sigs[j], min_common, tol):
                parent[find(j)] = find(i)
    groups = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def joint_solve(members, n_prev):
    """One unit's ``(u, b)`` from all its critical points at once.

    Each member ``(x*, n, a, J)`` asks ``Jᵀu ∥ n`` (its normal) and
    ``u·a + b = 0`` (its hyperplane passes through ``x*``); the homogeneous system's
    smallest right singular vector is the unit, up to sign. Only coordinates active
    at some member enter (a coordinate never active is unconstrained: ``e_i`` would
    solve any such system).

    Returns
    -------
    u : ndarray of shape (n_prev,)
        Zero on the coordinates never active at a member.
    b : float
    residual : float
        Smallest singular value relative to the largest (consistency).
    gap : float
        Second smallest relative to the largest (identifiability).
    covered : ndarray of bool, shape (n_prev,)
        The coordinates active at some member.
    """
    covered = np.zeros(n_prev, dtype=bool)
    for *_, J in members:
        covered |= np.abs(J).max(axis=1) > 0
    C = np.flatnonzero(covered)
    rows = []
    for _, normal, a, J in members:
        P = np.eye(normal.size) - np.outer(normal, normal)
        R = P @ J[C].T
        rows.append(np.hstack([R, np.zeros((R.shape[0], 1))]))
        r = np.append(a[C], 1.0)
        rows.append(r[None] / (np.linalg.norm(r) + 1e-300))
    M = np.vstack(rows)
    _, sv, Vt = np.linalg.svd(M, full_matrices=False)
    if C.size == 0 or Vt.shape[0] < C.size + 1:
        return None, None, np.inf, 0.0, covered
    v = Vt[-1]
    u = np.zeros(n_prev)
    u[C] = v[:C.size]
    b = v[C.size]
    nrm = np.linalg.norm(u)
    if nrm == 0:
        return None, None, np.inf, 0.0, covered
    return u / nrm, b / nrm, float(sv[-1] / sv[0]), float(sv[-2] / sv[0]), covered
