"""A Monte Carlo estimate of Hanneke's disagreement coefficient θ, for teaching."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._random import check_rng
from ._record import check_eps, check_int

__all__ = ["DisagreementEstimate", "disagreement_coefficient", "halfspace_disagreement_sample"]


@dataclass(frozen=True)
class DisagreementEstimate:
    """θ̂ and the curve it is the maximum of.

    Attributes
    ----------
    theta : float
        max over radii r > ε of P(DIS(B(h*, r)))/r (at least 1 by convention).
    radii : ndarray
        The radii r at which the ratio was measured.
    dis_mass : ndarray
        P(DIS(B(h*, r))), the mass of the disagreement region at each radius.
    n_in_ball : ndarray
        How many sampled hypotheses lie within each radius.
    """

    theta: float
    radii: np.ndarray
    dis_mass: np.ndarray
    n_in_ball: np.ndarray


def disagreement_coefficient(target, hypotheses, *, eps=0.01, radii=None):
    """Estimate θ(ε) = sup_{r > ε} P(DIS(B(h*, r))) / r from sampled hypotheses.

    Parameters
    ----------
    target : array-like of shape (n_points,)
        The target h*'s predictions on points drawn from the distribution D.
    hypotheses : array-like of shape (n_hypotheses, n_points)
        Predictions of hypotheses sampled from the class, on the same points.
    eps : float in (0, 1), default=0.01
        Only radii above ε count.
    radii : array-like, default=None
        Radii to try; default 30 log-spaced values from ε to 1/2.

    Returns
    -------
    DisagreementEstimate

    Notes
    -----
    B(h*, r) is the set of hypotheses that disagree with h* on at most an r fraction
    of the points, DIS(B) the points where some member of B disagrees with h*. With
    a finite sample of hypotheses, DIS(B) is underestimated (θ̂ is a lower estimate of
    θ for the sampled distribution of hypotheses): sample many hypotheses near h*.

    References
    ----------
    .. [1] S. Hanneke. A bound on the label complexity of agnostic active learning.
       ICML 2007.

    Examples
    --------
    >>> x = np.linspace(0, 1, 1001)
    >>> ts = np.linspace(0, 1, 201)
    >>> est = disagreement_coefficient(x >= 0.5, x[None, :] >= ts[:, None], eps=0.05)
    >>> round(est.theta, 1)   # thresholds on a line: θ = 2
    2.0
    """
    target = np.asarray(target)
    H = np.asarray(hypotheses)
    if target.ndim != 1 or target.size == 0:
        raise ValueError(f"target must be a non-empty 1-d array; got shape {target.shape}.")
    if H.ndim != 2 or H.shape[1] != target.size or H.shape[0] == 0:
        raise ValueError(
            f"hypotheses must have shape (n_hypotheses ≥ 1, {target.size}); got {H.shape}."
        )
    for name, arr in (("target", target), ("hypotheses", H)):
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"{name} contains NaN; pass the hypotheses' predictions.")
    eps = check_eps(eps)
    if radii is None:
        radii = np.geomspace(eps, 0.5, 30) if eps < 0.5 else np.array([eps])
    radii = np.asarray(radii, dtype=float)
    if radii.ndim != 1 or radii.size == 0 or np.isnan(radii).any() or (radii <= 0).any():
        raise ValueError("radii must be a non-empty 1-d array of positive numbers.")
    radii = radii[radii >= eps]
    if radii.size == 0:
        raise ValueError(f"no radius is ≥ eps={eps}.")
    wrong = H != target[None, :]
    dist = wrong.mean(axis=1)
    # A point is in DIS(B(h*, r)) when its closest disagreeing hypothesis is within r.
    first = np.where(wrong, dist[:, None], np.inf).min(axis=0)
    mass = (first[None, :] <= radii[:, None]).mean(axis=1)
    counts = (dist[None, :] <= radii[:, None]).sum(axis=1)
    theta = max(1.0, float(np.max(mass / radii)))
    return DisagreementEstimate(theta=theta, radii=radii, dis_mass=mass, n_in_ball=counts)


def halfspace_disagreement_sample(d, *, n_hypotheses=500, n_points=5000, eps=0.01,
                                  random_state=None):
    """θ̂ for homogeneous halfspaces under the uniform distribution on the sphere.

    Hypotheses are the target's normal rotated by angles spread log-uniformly from
    ε·π/4 to π/2 in random directions, so every ball B(h*, r) with r ≥ ε holds many.
    Compare with Hanneke's bound π·√d (:func:`halfspace_disagreement_coefficient`).

    Parameters
    ----------
    d : int ≥ 2
    n_hypotheses, n_points : int
    eps : float in (0, 1/2)
    random_state : int, Generator or None

    Returns
    -------
    DisagreementEstimate

    Examples
    --------
    >>> est = halfspace_disagreement_sample(2, random_state=0)
    >>> 1.0 <= est.theta <= 3.2   # θ = 2 in the plane, up to sampling
    True
    """
    d = check_int(d, "d", low=2)
    n_h = check_int(n_hypotheses, "n_hypotheses")
    n_x = check_int(n_points, "n_points")
    eps = check_eps(eps, high=0.5)
    rng = check_rng(random_state)
    X = rng.standard_normal((n_x, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    w = np.zeros(d)
    w[0] = 1.0
    u = rng.standard_normal((n_h, d))
    u[:, 0] = 0.0
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    angles = np.exp(rng.uniform(np.log(eps * np.pi / 4), np.log(np.pi / 2), n_h))
    W = np.cos(angles)[:, None] * w[None, :] + np.sin(angles)[:, None] * u
    target = X @ w >= 0
    H = (X @ W.T >= 0).T
    return disagreement_coefficient(target, H, eps=eps)
