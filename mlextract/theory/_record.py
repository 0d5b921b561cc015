"""The record every bound returns, the query models, and argument checks."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

__all__ = ["Bound", "QUERY_MODELS", "KINDS"]

#: What the attacker may ask and what it is told. A bound holds only for its model:
#: a lower bound on label queries says nothing about an attack that reads confidences.
QUERY_MODELS = {
    "synthesis": "label answers on inputs the attacker synthesises anywhere in the domain",
    "pool": "label answers on inputs the attacker picks from a pool of natural data",
    "passive": "label answers on i.i.d. inputs drawn from the distribution (retraining)",
    "confidence": "probability (or logit) answers on inputs chosen anywhere",
    "leaf_identity": "the leaf's identity as the answer, with incomplete queries allowed",
}

#: "upper": that many queries suffice; "lower": fewer cannot suffice (for the worst
#: victim of the class, or every generic victim where the docstring says so);
#: "exact": both at once.
KINDS = ("upper", "lower", "exact")


@dataclass(frozen=True)
class Bound:
    """A query-complexity bound: its value and what kind of statement it is.

    Attributes
    ----------
    value : float
        The number of queries (rounded up to an integer when the constants are
        exact; ``inf`` when the bound is vacuous).
    kind : {"upper", "lower", "exact"}
    query_model : str
        One of :data:`QUERY_MODELS`.
    order_only : bool
        True when the literature gives the bound up to an unknown constant factor;
        ``value`` is then ``constant`` times the expression.
    constant : float
        The constant factor used (1 unless given).
    reference : str
        The paper the bound comes from.
    name : str
        Short name of the bound (for tables).
    formula : str
        The expression, as in the docstring.
    assumes : str
        Conditions under which the bound holds.

    Examples
    --------
    >>> b = Bound(6.0, kind="exact", query_model="confidence", name="binary LR")
    >>> float(b), b.kind
    (6.0, 'exact')
    """

    value: float
    kind: str
    query_model: str
    order_only: bool = False
    constant: float = 1.0
    reference: str = ""
    name: str = ""
    formula: str = ""
    assumes: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {self.kind!r}.")
        if self.query_model not in QUERY_MODELS:
            raise ValueError(
                f"query_model must be one of {list(QUERY_MODELS)}; got {self.query_model!r}."
            )
        if isinstance(self.value, bool) or not isinstance(self.value, numbers.Real):
            raise ValueError(f"value must be a real number; got {self.value!r}.")
        if math.isnan(self.value) or self.value < 0:
            raise ValueError(f"value must be a non-negative number; got {self.value!r}.")

    def __float__(self) -> float:
        return float(self.value)

    @property
    def is_lower(self) -> bool:
        """True for lower and exact bounds."""
        return self.kind in ("lower", "exact")

    @property
    def is_upper(self) -> bool:
        """True for upper and exact bounds."""
        return self.kind in ("upper", "exact")

    def __repr__(self) -> str:
        order = f", order_only, constant={self.constant:g}" if self.order_only else ""
        return (
            f"Bound({self.value:g}, kind={self.kind!r}, query_model={self.query_model!r}"
            f"{order}, name={self.name!r})"
        )


def _make(value, kind, model, *, name, formula, reference, assumes="", order_only=False,
          constant=1.0):
    """A Bound, with exact-constant counts rounded up to whole queries."""
    value = float(value)
    if not order_only and math.isfinite(value):
        # Guard against 5.000000000001 rounding up to 6.
        value = float(math.ceil(value - 1e-9 * max(1.0, abs(value))))
    return Bound(
        max(value, 0.0), kind=kind, query_model=model, order_only=order_only,
        constant=float(constant), reference=reference, name=name, formula=formula,
        assumes=assumes,
    )


# ---------------------------------------------------------------- argument checks
def _real(value, name) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN.")
    return value


def check_eps(eps, name="eps", *, high=1.0) -> float:
    """ε in the open interval (0, high)."""
    eps = _real(eps, name)
    if not 0.0 < eps < high:
        raise ValueError(f"{name} must lie in the open interval (0, {high:g}); got {eps!r}.")
    return eps


def check_delta(delta, name="delta") -> float:
    return check_eps(delta, name)


def check_int(value, name, low=1) -> int:
    """An integer ≥ low (integral floats accepted, bools and NaN refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be an integer ≥ {low}; got {value!r}.")
    if isinstance(value, float) and (math.isnan(value) or not value.is_integer()):
        raise ValueError(f"{name} must be an integer ≥ {low}; got {value!r}.")
    value = int(value)
    if value < low:
        raise ValueError(f"{name} must be an integer ≥ {low}; got {value!r}.")
    return value


def check_positive(value, name, *, allow_zero=False) -> float:
    value = _real(value, name)
    if math.isinf(value) or value < 0 or (value == 0 and not allow_zero):
        rel = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {rel}; got {value!r}.")
    return value


def check_constant(constant) -> float:
    return check_positive(constant, "constant")


def Log(x: float) -> float:
    """Hanneke's Log(x) = max(ln x, 1), which keeps order-only bounds monotone."""
    return max(math.log(x), 1.0) if x > 0 else 1.0
