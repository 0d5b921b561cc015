"""Feature extraction in front of the model: find the victim's bins by line search.

Tramèr et al. (2016, §4.1, the Amazon attack) face a model that bins numeric
features before a linear model: along a binned feature the answer is a step
function, constant within a bin. A line search finds each step (a bin edge) to a
chosen precision; the model is then linear in the bin indicators, a one-hot group
per binned feature, and equation solving runs in that space.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from ..oracles import Domain

__all__ = ["BinnedFeatures", "find_steps", "binned_domain", "BinnedQueries"]


def find_steps(answer, lo, hi, *, n_grid=16, tol=1e-9, integer=False):
    """The points in ``[lo, hi]`` where a step function of one variable changes.

    Parameters
    ----------
    answer : callable
        Maps an array of t values (m,) to the answers (m, k), in one batch.
    lo, hi : float
        The interval searched.
    n_grid : int
        Evenly spaced points queried first; steps closer together than the grid
        step are found as long as the answers at the grid points differ.
    tol : float
        Width below which a bracket ``[a, b]`` is an edge; the edge reported is
        ``b``, the first point found on the upper side (scikit-learn's
        ``KBinsDiscretizer`` puts a value equal to an edge in the upper bin).
    integer : bool
        The variable takes whole values: the grid and the midpoints are rounded
        and a bracket of width 1 is an edge (``b``, the smallest whole value of
        the upper bin).

    Returns
    -------
    edges : ndarray
        Sorted step positions.
    n_asked : int
        Points queried.
    """
    t = np.linspace(lo, hi, n_grid)
    if integer:
        t = np.unique(np.round(t))
        tol = 1.0
        n_grid = t.size
    A = answer(t)
    n_asked = n_grid
    brackets = [(t[i], A[i], t[i + 1], A[i + 1]) for i in range(n_grid - 1)
                if not np.array_equal(A[i], A[i + 1])]
    edges = []
    while brackets:
        # bisect every open bracket in one batch
        mids = np.array([(a + b) / 2 for a, _, b, _ in brackets])
        if integer:
            mids = np.floor(mids)
        M = answer(mids)
        n_asked += len(mids)
        nxt = []
        for (a, pa, b, pb), m, pm in zip(brackets, mids, M):
            for lo_, plo, hi_, phi in ((a, pa, m, pm), (m, pm, b, pb)):
                if np.array_equal(plo, phi):
                    continue
                if hi_ - lo_ <= tol:
                    edges.append(hi_)
                else:
                    nxt.append((lo_, plo, hi_, phi))
        brackets = nxt
    return np.sort(np.array(edges, dtype=np.float64)), n_asked


class BinnedFeatures(TransformerMixin, BaseEstimator):
    """Replace binned features by their bin indicators (the victim's feature map).

    Output columns: the features that are not binned, in order, then for each
    binned feature one 0/1 column per bin. A value equal to an edge goes to the
    upper bin, as in ``KBinsDiscretizer``.

    Build one with :meth:`from_edges`.

    Attributes
    ----------
    binned_ : ndarray of int
        The binned input columns.
    edges_ : list of ndarray
        The inner edges of each binned feature (k − 1 edges for k bins).
    n_features_in_ : int
    """

    @classmethod
    def from_edges(cls, n_features, binned, edges):
        """A fitted encoder for the given inner bin edges."""
        self = cls()
        self.n_features_in_ = int(n_features)
        self.binned_ = np.asarray(binned, dtype=int)
        self.edges_ = [np.sort(np.asarray(e, dtype=np.float64)) for e in edges]
        return self

    def fit(self, X, y=None):
        """Not available: the edges come from the line search."""
        raise NotImplementedError("BinnedFeatures is built with from_edges(...).")

    def transform(self, X):
        check_is_fitted(self, "edges_")
        X = check_array(X, dtype=np.float64)
        keep = np.setdiff1d(np.arange(self.n_features_in_), self.binned_)
        parts = [X[:, keep]]
        for j, e in zip(self.binned_, self.edges_):
            idx = np.searchsorted(e, X[:, j], side="right")
            parts.append(np.eye(e.size + 1)[idx])
        return np.hstack(parts)


def binned_domain(domain, binned, edges):
    """The domain of the bin-indicator features, and a map back to raw inputs.

    Returns
    -------
    domain : Domain
        The features that are not binned keep their description; each binned
        feature becomes a one-hot group of its bins.
    to_raw : callable
        Maps rows of the new space to raw inputs: each bin is represented by the
        middle of its interval (within the original bounds).
    """
    d = domain.n_features
    binned = np.asarray(binned, dtype=int)
    keep = np.setdiff1d(np.arange(d), binned)
    pos = {int(j): k for k, j in enumerate(keep)}
    lower, upper = list(domain.lower[keep]), list(domain.upper[keep])
    names = [domain.feature_names[j] for j in keep]
    groups = [[pos[int(j)] for j in g] for g in domain.one_hot_groups]
    reps = []
    start = keep.size
    for j, e in zip(binned, edges):
        bounds = np.concatenate([[domain.lower[j]], e, [domain.upper[j]]])
        mid = (bounds[:-1] + bounds[1:]) / 2
        if not np.isfinite(domain.lower[j]):
            mid[0] = e[0] - 1.0 if e.size else 0.0
        if not np.isfinite(domain.upper[j]):
            mid[-1] = e[-1] + 1.0 if e.size else 0.0
        if j in set(domain.integer.tolist()):
            # whole values of bin k: [ceil(e_k), ceil(e_{k+1}) − 1]
            lo_int = np.ceil(bounds[:-1])
            hi_int = np.concatenate([np.ceil(bounds[1:-1]) - 1, [np.floor(bounds[-1])]])
            mid = np.clip(np.floor(mid), lo_int, hi_int)
        reps.append(mid)
        k = e.size + 1
        groups.append(list(range(start, start + k)))
        names += [f"{domain.feature_names[j]}:bin{b}" for b in range(k)]
        lower += [0.0] * k
        upper += [1.0] * k
        start += k
    new = Domain(
        lower, upper,
        integer=[pos[int(j)] for j in domain.integer if int(j) in pos],
        categorical={pos[int(j)]: v for j, v in domain.categorical.items() if int(j) in pos},
        one_hot_groups=groups, feature_names=names,
    )
    group_cols = groups[len(domain.one_hot_groups):]

    def to_raw(Z):
        Z = np.asarray(Z, dtype=np.float64)
        X = np.empty((Z.shape[0], d))
        X[:, keep] = Z[:, :keep.size]
        for j, cols, mid in zip(binned, group_cols, reps):
            X[:, j] = mid[np.argmax(Z[:, cols], axis=1)]
        return X

    return new, to_raw


class BinnedQueries:
    """An oracle view that takes bin-indicator rows and asks the victim raw inputs.

    Equation solving runs unchanged behind it: it sees ``domain`` (the
    bin-indicator space), queries with ``query`` and counts with ``n_asked`` and
    ``run_remaining``, all forwarded to the run's oracle.
    """

    def __init__(self, oracle, domain, to_raw):
        self.inner = oracle
        self.domain = domain
        self.to_raw = to_raw

    def query(self, Z, *, phase=None, reuse=False):
        return self.inner.query(self.to_raw(Z), phase=phase, reuse=reuse)

    def __getattr__(self, name):
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
