"""The input domain an attacker is allowed to know, as a prediction API publishes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._random import check_rng

__all__ = ["Domain"]


class Domain:
    """What the attacker may know of the victim's input space.

    A public prediction API describes its input fields (BigML published type, range
    and categories of each field). ``Domain`` holds that description: per-feature
    bounds, integer features, categorical features with their values, and one-hot
    groups (sets of 0/1 columns of which exactly one is 1). Attacks take every bound
    from here, never from the victim.

    Parameters
    ----------
    lower, upper : array-like of shape (n_features,)
        Bounds of each feature (inclusive). Use ``-inf``/``inf`` for an unbounded
        feature; such features cannot be sampled uniformly.
    integer : array-like of int, default=None
        Indices of integer-valued features.
    categorical : mapping of int to sequence of float, default=None
        For each categorical feature (given as a code column), its allowed values.
    one_hot_groups : sequence of sequences of int, default=None
        Column indices of each one-hot group: every valid input has exactly one of
        them equal to 1 and the others 0.
    feature_names : sequence of str, default=None
        Names of the features, for reports and exports.
    closed : bool, default=True
        If True, oracles reject inputs outside the domain; if False the domain only
        describes where attackers should sample and any finite input is accepted.

    Attributes
    ----------
    n_features : int
        Number of input columns.

    Examples
    --------
    >>> dom = Domain([0, 0, 0, 0], [1, 10, 1, 1], integer=[1], one_hot_groups=[[2, 3]])
    >>> X = dom.sample(3, random_state=0)
    >>> X.shape, bool(np.all(X[:, 2] + X[:, 3] == 1))
    ((3, 4), True)
    """

    def __init__(
        self,
        lower,
        upper,
        *,
        integer=None,
        categorical: Mapping[int, Sequence[float]] | None = None,
        one_hot_groups: Sequence[Sequence[int]] | None = None,
        feature_names: Sequence[str] | None = None,
        closed: bool = True,
    ):
        lower = np.array(lower, dtype=np.float64, copy=True).ravel()
        upper = np.array(upper, dtype=np.float64, copy=True).ravel()
        if lower.shape != upper.shape:
            raise ValueError(
                f"lower and upper must have the same length; got {lower.size} and "
                f"{upper.size}."
            )
        if lower.size == 0:
            raise ValueError("A domain needs at least one feature; got 0.")
        if np.isnan(lower).any() or np.isnan(upper).any():
            raise ValueError("Domain bounds must not be NaN; use -inf/inf for unbounded.")
        if np.any(lower > upper):
            bad = np.flatnonzero(lower > upper)[:5].tolist()
            raise ValueError(f"lower > upper for features {bad}.")
        d = lower.size
        self.lower = lower
        self.upper = upper
        self.n_features = d
        self.integer = np.unique(np.asarray(integer if integer is not None else [], int))
        self.categorical = {
            int(j): np.unique(np.asarray(v, dtype=np.float64))
            for j, v in (categorical or {}).items()
        }
        self.one_hot_groups = [np.asarray(g, dtype=int) for g in (one_hot_groups or [])]
        self.feature_names = (
            list(feature_names) if feature_names is not None else [f"x{j}" for j in range(d)]
        )
        self.closed = bool(closed)
        self._check_indices()

    def _check_indices(self):
        d = self.n_features
        if len(self.feature_names) != d:
            raise ValueError(
                f"feature_names has {len(self.feature_names)} names for {d} features."
            )
        used = np.zeros(d, dtype=int)
        for name, idx in [("integer", self.integer), *[
            ("categorical", np.array([j])) for j in self.categorical
        ], *[("one_hot_groups", g) for g in self.one_hot_groups]]:
            if idx.size and (idx.min() < 0 or idx.max() >= d):
                raise ValueError(f"{name} index out of range for {d} features: {idx}.")
        for j, vals in self.categorical.items():
            if vals.size == 0:
                raise ValueError(f"categorical feature {j} has no values.")
            used[j] += 1
        for g in self.one_hot_groups:
            if g.size < 1:
                raise ValueError("a one-hot group must hold at least one column.")
            used[g] += 1
        if np.any(used > 1):
            bad = np.flatnonzero(used > 1).tolist()
            raise ValueError(f"features {bad} belong to more than one categorical group.")
        for g in self.one_hot_groups:
            if np.any(self.lower[g] > 0) or np.any(self.upper[g] < 1):
                self.lower[g] = 0.0
                self.upper[g] = 1.0

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_data(
        cls,
        X,
        *,
        integer=None,
        categorical=None,
        one_hot_groups=None,
        feature_names=None,
        margin: float = 0.0,
        closed: bool = True,
    ) -> Domain:
        """Domain spanned by the columns of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        integer : array-like of int or "auto", default=None
            Integer features; ``"auto"`` marks the columns whose values are all whole.
        categorical : sequence of int, or mapping, default=None
            Categorical code columns; given as indices, their values are read from X.
        one_hot_groups, feature_names, closed
            As in the constructor.
        margin : float, default=0.0
            Widen continuous bounds by this fraction of each feature's range.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"X must be a non-empty 2-D array; got shape {X.shape}.")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite to build a domain from it.")
        lo, hi = X.min(axis=0), X.max(axis=0)
        if margin:
            span = hi - lo
            lo, hi = lo - margin * span, hi + margin * span
        if isinstance(integer, str):
            if integer != "auto":
                raise ValueError(f"integer must be indices or 'auto'; got {integer!r}.")
            integer = np.flatnonzero(np.all(X == np.round(X), axis=0))
        if categorical is not None and not isinstance(categorical, Mapping):
            categorical = {int(j): np.unique(X[:, j]) for j in categorical}
        groups = [np.asarray(g, int) for g in (one_hot_groups or [])]
        in_group = set(int(j) for g in groups for j in g) | set((categorical or {}).keys())
        if integer is not None:
            integer = [j for j in np.asarray(integer, int) if int(j) not in in_group]
            lo[integer] = np.floor(lo[integer])
            hi[integer] = np.ceil(hi[integer])
        return cls(
            lo,
            hi,
            integer=integer,
            categorical=categorical,
            one_hot_groups=groups,
            feature_names=feature_names,
            closed=closed,
        )

    # ------------------------------------------------------------------ queries
    @property
    def continuous(self) -> np.ndarray:
        """Boolean mask of the continuous (not integer, categorical, one-hot) features."""
        mask = np.ones(self.n_features, dtype=bool)
        mask[self.integer] = False
        mask[list(self.categorical)] = False
        for g in self.one_hot_groups:
            mask[g] = False
        return mask

    def group_of(self, j: int) -> np.ndarray | None:
        """The one-hot group containing column ``j``, or None."""
        for g in self.one_hot_groups:
            if j in g:
                return g
        return None

    def sample(self, n: int, random_state=None) -> np.ndarray:
        """Draw ``n`` points uniformly from the domain.

        Continuous features are uniform on their bounds, integer features uniform on
        their whole values, categorical features uniform over their values, and each
        one-hot group has one uniformly chosen active column.
        """
        n = int(n)
        if n < 0:
            raise ValueError(f"n must be >= 0; got {n}.")
        rng = check_rng(random_state)
        if not (np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper))):
            bad = np.flatnonzero(~(np.isfinite(self.lower) & np.isfinite(self.upper)))
            raise ValueError(
                f"cannot sample uniformly: features {bad[:5].tolist()} are unbounded; "
                "give finite bounds in the Domain."
            )
        X = rng.uniform(self.lower, self.upper, size=(n, self.n_features))
        if self.integer.size:
            lo = np.ceil(self.lower[self.integer])
            hi = np.floor(self.upper[self.integer])
            X[:, self.integer] = rng.integers(lo, hi + 1, size=(n, self.integer.size))
        for j, vals in self.categorical.items():
            X[:, j] = rng.choice(vals, size=n)
        for g in self.one_hot_groups:
            X[:, g] = 0.0
            X[np.arange(n), g[rng.integers(0, g.size, size=n)]] = 1.0
        return X

    def project(self, X) -> np.ndarray:
        """The nearest valid points: clip to bounds, round integers, snap categories.

        One-hot groups keep their largest entry as the active column.
        """
        X = np.array(X, dtype=np.float64, copy=True)
        X = np.clip(X, self.lower, self.upper)
        if self.integer.size:
            X[:, self.integer] = np.round(X[:, self.integer])
        for j, vals in self.categorical.items():
            idx = np.abs(X[:, [j]] - vals[None, :]).argmin(axis=1)
            X[:, j] = vals[idx]
        for g in self.one_hot_groups:
            top = X[:, g].argmax(axis=1)
            X[:, g] = 0.0
            X[np.arange(X.shape[0]), g[top]] = 1.0
        return X

    def contains(self, X, *, allow_nan: bool = False) -> np.ndarray:
        """Boolean mask of the rows of ``X`` that are valid points of the domain.

        With ``allow_nan``, NaN entries (features not supplied) are accepted; a
        one-hot group must then be either wholly missing or a valid encoding.
        """
        X = np.asarray(X, dtype=np.float64)
        nan = np.isnan(X)
        if not allow_nan:
            ok = ~nan.any(axis=1)
        else:
            ok = np.ones(X.shape[0], dtype=bool)
        with np.errstate(invalid="ignore"):
            inside = ((X >= self.lower) & (X <= self.upper)) | nan
        ok &= inside.all(axis=1)
        if self.integer.size:
            Xi = X[:, self.integer]
            ok &= ((Xi == np.round(Xi)) | np.isnan(Xi)).all(axis=1)
        for j, vals in self.categorical.items():
            ok &= np.isin(X[:, j], vals) | nan[:, j]
        for g in self.one_hot_groups:
            Xg = X[:, g]
            gn = np.isnan(Xg)
            binary = np.isin(np.nan_to_num(Xg, nan=0.0), (0.0, 1.0)).all(axis=1)
            one = np.nansum(Xg, axis=1) == 1
            ok &= (binary & one & ~gn.any(axis=1)) | gn.all(axis=1)
        return ok

    def kinds(self) -> list[str]:
        """Kind of each feature: 'continuous', 'integer', 'categorical' or 'one_hot'."""
        out = ["continuous"] * self.n_features
        for j in self.integer:
            out[j] = "integer"
        for j in self.categorical:
            out[j] = "categorical"
        for g in self.one_hot_groups:
            for j in g:
                out[j] = "one_hot"
        return out

    def to_dict(self) -> dict:
        """A JSON-ready public description (as a prediction API would publish it)."""
        def num(v):
            return None if not np.isfinite(v) else float(v)

        return {
            "feature_names": list(self.feature_names),
            "lower": [num(v) for v in self.lower],
            "upper": [num(v) for v in self.upper],
            "integer": [int(j) for j in self.integer],
            "categorical": {str(j): v.tolist() for j, v in self.categorical.items()},
            "one_hot_groups": [g.tolist() for g in self.one_hot_groups],
            "closed": self.closed,
        }

    @classmethod
    def from_dict(cls, spec: Mapping) -> Domain:
        """Inverse of :meth:`to_dict`."""
        def num(v, default):
            return default if v is None else float(v)

        return cls(
            [num(v, -np.inf) for v in spec["lower"]],
            [num(v, np.inf) for v in spec["upper"]],
            integer=spec.get("integer"),
            categorical={int(k): v for k, v in spec.get("categorical", {}).items()},
            one_hot_groups=spec.get("one_hot_groups"),
            feature_names=spec.get("feature_names"),
            closed=spec.get("closed", True),
        )

    def __repr__(self) -> str:
        kinds = self.kinds()
        counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
        parts = ", ".join(f"{v} {k}" for k, v in counts.items())
        return (
            f"Domain(n_features={self.n_features}: {parts}; "
            f"{len(self.one_hot_groups)} one-hot groups)"
        )
