"""The Bound record: what it holds, how it prints, what it refuses."""

import dataclasses
import math

import pytest

from mlextract.theory import KINDS, QUERY_MODELS, Bound, binary_lr_queries, cal_queries


def test_bound_fields_and_conversions():
    b = binary_lr_queries(4)
    assert float(b) == 5.0 and b.is_lower and b.is_upper
    assert b.reference.startswith("F. Tramèr") and b.formula == "d + 1 − G"
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.value = 3
    c = cal_queries(3, 0.1, 0.1, 2.0, constant=2.0)
    assert c.order_only and c.constant == 2.0 and "order_only" in repr(c)
    assert c.value == pytest.approx(2 * cal_queries(3, 0.1, 0.1, 2.0).value)
    assert Bound(math.inf, kind="upper", query_model="passive").value == math.inf


def test_every_query_model_and_kind_is_described():
    assert set(QUERY_MODELS) == {"synthesis", "pool", "passive", "confidence",
                                 "leaf_identity"}
    assert KINDS == ("upper", "lower", "exact")
    for model in QUERY_MODELS:
        assert Bound(1.0, kind="lower", query_model=model).query_model == model


@pytest.mark.parametrize("value", [-1.0, float("nan"), "3", None, True])
def test_bad_values_are_refused(value):
    with pytest.raises(ValueError):
        Bound(value, kind="upper", query_model="pool")
