"""The fields a tree attack searches: ordered axes (float32, integer) and category sets.

A decision tree compares ``float32(x_j) <= t``, so on a continuous feature only the
float32 values inside the domain matter: the attack searches them by their rank (the
"ordinal" of a float32), and a threshold is known exactly once two adjacent ordinals
fall on either side. Integer features are searched on their whole values. A one-hot
group or a categorical code column is one field whose values are its categories; a
query either supplies a field (with one value) or leaves it out (NaN).
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["OrderedField", "SetField", "fields_from_domain", "f32_ordinal", "f32_from_ordinal"]

_F32_MAX = float(np.finfo(np.float32).max)
_F32, _U32 = struct.Struct("<f"), struct.Struct("<I")


def f32_ordinal(v: float) -> int:
    """Rank of a float32 value: consecutive float32 numbers have consecutive ranks."""
    try:  # struct rounds a double to float32 as numpy does, without numpy's overhead
        u = _U32.unpack(_F32.pack(v))[0]
    except OverflowError:  # beyond the float32 range: numpy's inf
        u = int(np.float32(v).view(np.uint32))
    return -(u & 0x7FFFFFFF) if u & 0x80000000 else u


def f32_from_ordinal(k: int) -> float:
    """Inverse of :func:`f32_ordinal`, as a float64."""
    u = (-k) | 0x80000000 if k < 0 else k
    return _F32.unpack(_U32.pack(u))[0]


class OrderedField:
    """A continuous or integer feature, searched on its sorted attainable values.

    Values are indexed ``0 .. n_values - 1``; ``value(i)`` is a float64 query value
    inside the domain, and ``threshold(i)`` the cut between values ``i`` and ``i+1``
    that a copy comparing in float32 must use.
    """

    ordered = True

    def __init__(self, column: int, lower: float, upper: float, *, integer: bool, name: str):
        self.column = int(column)
        self.columns = np.array([column])
        self.name = name
        self.integer = bool(integer)
        lo = max(lower, -_F32_MAX)
        hi = min(upper, _F32_MAX)
        self.lower, self.upper = lo, hi
        if self.integer:
            self._base = int(np.ceil(lo))
            self.n_values = int(np.floor(hi)) - self._base + 1
        else:
            self._base = f32_ordinal(np.float32(lo))
            self.n_values = f32_ordinal(np.float32(hi)) - self._base + 1
        if self.n_values < 1:
            raise ValueError(f"feature {name!r} has no attainable value in [{lower}, {upper}].")

    def raw(self, i: int) -> float:
        """The i-th attainable value (float32 value as float64, or the integer)."""
        if self.integer:
            return float(self._base + i)
        return f32_from_ordinal(self._base + i)

    def value(self, i: int) -> float:
        """A query value (inside the domain) whose float32 is the i-th value."""
        return float(min(max(self.raw(i), self.lower), self.upper))

    def threshold(self, i: int) -> float:
        """The cut between values i and i+1: their float64 midpoint."""
        return (self.raw(i) + self.raw(i + 1)) / 2.0

    def index(self, v: float) -> int:
        """Index of the attainable value nearest below-or-at ``v`` (clipped to range)."""
        if self.integer:
            i = int(np.floor(v)) - self._base
        else:
            i = f32_ordinal(np.float32(v)) - self._base
        return min(max(i, 0), self.n_values - 1)

    def middle(self, a: int, b: int) -> int:
        """A value strictly between indices a and b (b > a + 1): the middle by value,
        or by rank where values are tiny next to the range (near zero, where float32
        values crowd)."""
        ra, rb = self.raw(a), self.raw(b)
        m = self.index((ra + rb) / 2.0)
        span = self.raw(self.n_values - 1) - self.raw(0)
        if self.integer or (a < m < b and abs(self.raw(m)) > 1e-3 * span):
            if a < m < b:
                return m
        return (a + b) // 2

    def sample(self, rng, a: int, b: int) -> int:
        """A uniformly drawn value of [a, b] (uniform in value, not in rank)."""
        return self.index(rng.uniform(self.raw(a), self.raw(b)))

    def default(self) -> int:
        return self.index((self.lower + self.upper) / 2.0)

    def full(self):
        return (0, self.n_values - 1)

    def put(self, x: np.ndarray, i: int) -> None:
        x[self.column] = self.value(i)

    def clear(self, x: np.ndarray) -> None:
        x[self.column] = np.nan

    def supplied(self, x: np.ndarray) -> bool:
        return not np.isnan(x[self.column])

    def describe(self, i: int) -> dict:
        kind = "integer" if self.integer else "continuous"
        return {
            "feature": self.name, "column": self.column, "kind": kind,
            "threshold": self.threshold(i),
            "left_max": self.raw(i), "right_min": self.raw(i + 1),
            "precision": ("exact: adjacent integers" if self.integer
                          else "exact: adjacent float32 values"),
        }


class SetField:
    """A one-hot group (one column per category) or a categorical code column."""

    ordered = False

    def __init__(self, columns, values=None, *, name: str, names=None):
        self.columns = np.asarray(columns, dtype=int)
        self.one_hot = values is None
        self.values = (np.arange(self.columns.size, dtype=float) if values is None
                       else np.asarray(values, dtype=float))
        self.n_values = self.values.size if not self.one_hot else self.columns.size
        self.name = name
        self.names = names

    def default(self) -> int:
        return 0

    def full(self):
        return frozenset(range(self.n_values))

    def put(self, x: np.ndarray, c: int) -> None:
        if self.one_hot:
            x[self.columns] = 0.0
            x[self.columns[c]] = 1.0
        else:
            x[self.columns[0]] = self.values[c]

    def clear(self, x: np.ndarray) -> None:
        x[self.columns] = np.nan

    def category(self, x: np.ndarray) -> int:
        """The category a point supplies."""
        if self.one_hot:
            return int(np.argmax(x[self.columns]))
        return int(np.flatnonzero(self.values == x[self.columns[0]])[0])

    def supplied(self, x: np.ndarray) -> bool:
        return not np.isnan(x[self.columns[0]])


def fields_from_domain(domain) -> list:
    """One field per continuous/integer feature, one-hot group and code column."""
    fields = []
    grouped = set()
    names = domain.feature_names
    for g in domain.one_hot_groups:
        grouped.update(int(j) for j in g)
    for j in range(domain.n_features):
        if j in grouped or j in domain.categorical:
            continue
        fields.append(OrderedField(j, domain.lower[j], domain.upper[j],
                                   integer=j in set(domain.integer.tolist()), name=names[j]))
    for j, vals in domain.categorical.items():
        fields.append(SetField([j], vals, name=names[j]))
    for g in domain.one_hot_groups:
        fields.append(SetField(g, name="/".join(names[int(j)] for j in g[:1]) + "...",
                               names=[names[int(j)] for j in g]))
    fields.sort(key=lambda f: int(f.columns.min()))
    return fields
