"""Sign recovery and the last layer by least squares (Jagielski et al. 2020, §5.2).

A gradient jump gives each unit's hyperplane up to sign: ``ŵ_i = s_i w_i / ||w_i||``
with ``s_i = ±1`` unknown. Since ``relu(-z) = relu(z) - z``, for any choice of signs

    F(x) = Σ_i α_i relu(ŵ_i·x + b̂_i) + Lᵀx + c,   L = -Σ_{s_i=-1} ŵ_i α_iᵀ,

so one least-squares fit with a linear term is exact whatever the signs, and the
linear term ``L`` tells them: ``vec(L) = Σ_i φ_i vec(ŵ_i α_iᵀ)`` with ``φ_i ∈ {0, -1}``.
When the ``h`` matrices ``ŵ_i α_iᵀ`` are independent (``h ≤ d·k``: a contracting
layer) ``φ`` is the unique solution of a linear system. In an expansive layer the
system has a null space; small ones are searched exhaustively for a 0/−1 solution,
and otherwise the copy keeps the linear term as a skip connection, which is exactly
equivalent too.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._network import Network

__all__ = ["LinearSkipNetwork", "fit_last_layer", "recover_signs"]


class LinearSkipNetwork(Network):
    """A ReLU network plus a linear skip term from the inputs to the logits.

    ``logits(X) = Network.logits(X) + X @ skip_coef_``. It is what functionally
    equivalent extraction returns when the signs of an expansive layer cannot be
    told apart: ``relu(z) - z = relu(-z)`` makes the two exactly equivalent.

    Parameters
    ----------
    coefs, intercepts, activation, output, classes, dtype
        As in :class:`Network`.
    skip : ndarray of shape (n_features, n_outputs)
        The skip term's weights.

    Examples
    --------
    >>> import numpy as np
    >>> net = LinearSkipNetwork([np.eye(2), np.ones((2, 1))], [np.zeros(2), np.zeros(1)],
    ...                         skip=np.array([[-1.0], [-1.0]]), output="identity")
    >>> net.logits(np.array([[-1.0, 2.0]]))   # relu(-1)+relu(2) - (-1) - 2
    array([[1.]])
    """

    def __init__(self, coefs, intercepts, *, skip, activation="relu", output="softmax",
                 classes=None, dtype=np.float64):
        super().__init__(coefs, intercepts, activation=activation, output=output,
                         classes=classes, dtype=dtype)
        skip = np.asarray(skip, dtype=self.dtype)
        if skip.shape != (self.n_features_in_, self.n_outputs_):
            raise ValueError(
                f"skip must have shape ({self.n_features_in_}, {self.n_outputs_}); got "
                f"{skip.shape}."
            )
        self.skip_coef_ = skip

    def logits(self, X) -> np.ndarray:
        return super().logits(X) + np.asarray(X, dtype=self.dtype) @ self.skip_coef_

    def __repr__(self) -> str:
        return "LinearSkip" + super().__repr__()


def _relu_features(X, W, b):
    return np.maximum(X @ W.T + b, 0.0)


def fit_last_layer(X, Y, W, b, *, free=None, linear=True):
    """Least-squares output weights for known hidden units.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Query points; ``Y`` (n, k) the victim's logits there.
    W : ndarray of shape (h, d)
        Hidden units' weights, one row each; ``b`` (h,) their biases.
    free : ndarray of int, default=None
        Coordinates the linear term may use (default all).
    linear : bool, default=True
        Fit a linear term ``Lᵀx`` beside the units (see the module notes).

    Returns
    -------
    A : ndarray of shape (h, k)
        Output weights.
    c : ndarray of shape (k,)
        Output bias.
    L : ndarray of shape (d, k) or None
        The linear term (zero on fixed coordinates).
    residual : float
        Largest absolute residual of the fit on ``X``.
    rank_deficient : bool
        True when the design matrix lost rank (some unit never switched on the
        points, or two units coincide).
    """
    n, d = X.shape
    h = W.shape[0]
    free = np.arange(d) if free is None else np.asarray(free)
    cols = [_relu_features(X, W, b)]
    if linear:
        cols.append(X[:, free])
    cols.append(np.ones((n, 1)))
    M = np.hstack(cols)
    scale = np.linalg.norm(M, axis=0)
    scale[scale == 0] = 1.0
    coef, _, rank, _ = np.linalg.lstsq(M / scale, Y, rcond=None)
    coef = coef / scale[:, None]
    A = coef[:h]
    L = None
    if linear:
        L = np.zeros((d, Y.shape[1]))
        L[free] = coef[h:h + free.size]
    c = coef[-1]
    residual = float(np.abs(M @ coef - Y).max()) if n else 0.0
    return A, c, L, residual, bool(rank < M.shape[1])


def recover_signs(W, A, L, *, free=None, max_subsets=1 << 16, tol=1e-6):
    """The signs ``s_i`` with ``L = -Σ_{s_i=-1} ŵ_i α_iᵀ`` (see the module notes).

    Parameters
    ----------
    W : ndarray of shape (h, d)
        Normalised unit hyperplanes ``ŵ_i``.
    A : ndarray of shape (h, k)
        Their output weights ``α_i``.
    L : ndarray of shape (d, k)
        The least-squares linear term.
    free : ndarray of int, default=None
    max_subsets : int, default=65536
        Largest exhaustive search over the null space of an expansive layer.
    tol : float, default=1e-6
        Relative residual below which a 0/−1 solution is accepted.

    Returns
    -------
    signs : ndarray of shape (h,) or None
        +1 or −1 per unit, or None when no 0/−1 solution was found within the limits.
    method : str
        "linear system", "exhaustive search over 2^q", or why it failed.
    """
    h, d = W.shape
    free = np.arange(d) if free is None else np.asarray(free)
    if h == 0:
        return np.ones(0), "no units"
    M = np.stack([np.outer(W[i, free], A[i]).ravel() for i in range(h)], axis=1)
    y = L[free].ravel()
    norm = max(np.linalg.norm(y), np.abs(A).max() if A.size else 0.0, 1e-300)
    sv = np.linalg.svd(M, compute_uv=False)
    rank = int(np.sum(sv > sv[0] * 1e-10)) if sv.size and sv[0] > 0 else 0
    if rank == h:
        phi = np.linalg.lstsq(M, y, rcond=None)[0]
        r = np.round(np.clip(phi, -1, 0))
        if np.abs(phi - r).max() < 0.1 and np.linalg.norm(M @ r - y) <= tol * norm:
            return np.where(r < 0, -1.0, 1.0), "linear system"
        return None, "the linear system has no 0/-1 solution (imprecise units?)"
    q = h - rank
    if 2 ** q > max_subsets:
        return None, f"expansive layer: null space of dimension {q}, 2^{q} > max_subsets"
    import scipy.linalg

    _, _, piv = scipy.linalg.qr(M, pivoting=True, mode="economic")
    basic, other = piv[:rank], piv[rank:]
    Mb, Mo = M[:, basic], M[:, other]
    pinv = np.linalg.pinv(Mb)
    Z = -np.array(list(itertools.product([0.0, 1.0], repeat=q)))  # (2^q, q)
    R = y[:, None] - Mo @ Z.T
    Pb = pinv @ R  # (rank, 2^q)
    Rb = np.round(np.clip(Pb, -1, 0))
    close = np.abs(Pb - Rb).max(axis=0) < 0.1
    res = np.linalg.norm(Mb @ Rb - R, axis=0)
    good = np.flatnonzero(close & (res <= tol * norm))
    if good.size == 0:
        return None, f"exhaustive search over 2^{q} found no 0/-1 solution"
    phi = np.empty(h)
    phi[basic] = Rb[:, good[0]]
    phi[other] = Z[good[0]]
    return np.where(phi < 0, -1.0, 1.0), f"exhaustive search over 2^{q}"


def output_head(out, classes, k):
    """The copy's output function and classes, from what the oracle answered.

    Probabilities give a logistic (one output) or softmax head; logits do too when the
    class labels are known and match the outputs; anything else stays an identity head
    without classes (the copy answers raw values).
    """
    output = "identity"
    if out == "proba":
        output = "logistic" if k == 1 else "softmax"
    elif out == "logit" and classes is not None:
        if k == 1 and len(classes) == 2:
            output = "logistic"
        elif k >= 2 and len(classes) == k:
            output = "softmax"
    return output, (None if output == "identity" else classes)
