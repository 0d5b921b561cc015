"""Passive PAC bounds on hand-computed values, and the growth-function search."""

import math

import pytest

from mlextract.theory import (
    agnostic_finite_class,
    agnostic_lower_bound,
    agnostic_upper_bound,
    pac_finite_class,
    pac_growth_bound,
    pac_lower_bound,
    pac_upper_bound,
    sauer_shelah_log2,
)


def test_blumer_hand_values():
    # max(4/0.5·log2 4, 8/0.5·log2 26) = max(16, 75.2)
    assert pac_upper_bound(1, 0.5, 0.5).value == 76
    # d = 10, ε = 0.1, δ = 0.05: max(40·log2 40, 800·log2 130) = 5617.9
    assert pac_upper_bound(10, 0.1, 0.05).value == 5618
    # the δ-term wins for tiny δ: 4/0.5·log2(2e12) = 328.6 > 16·log2 26
    assert pac_upper_bound(1, 0.5, 1e-12).value == math.ceil(8 * math.log2(2e12))
    b = pac_upper_bound(3, 0.1, 0.1)
    assert (b.kind, b.query_model, b.order_only) == ("upper", "passive", False)


def test_ehrenfeucht_hand_values():
    assert pac_lower_bound(33, 0.125, 0.01).value == 33  # max(7·ln 100, 32/4)
    assert pac_lower_bound(1001, 0.01, 0.01).value == math.ceil(1000 / 0.32)
    with pytest.raises(ValueError, match="1/8"):
        pac_lower_bound(10, 0.2, 0.01)
    with pytest.raises(ValueError, match="1/100"):
        pac_lower_bound(10, 0.1, 0.05)


def test_finite_and_agnostic_hand_values():
    assert pac_finite_class(100, 0.1, 0.01).value == 93  # (ln 100 + ln 100)/0.1 = 92.1
    assert agnostic_finite_class(1, 0.5, 0.5).value == 12  # 8·ln 4 = 11.09
    assert agnostic_upper_bound(1, 0.5, 0.5).value == 2160  # 256·(2 ln 24 + ln 8)
    assert agnostic_lower_bound(320, 1 / 80, 0.01).value == 6400
    with pytest.raises(ValueError, match='1/64'):
        agnostic_lower_bound(3, 0.02, 0.01)
    with pytest.raises(ValueError):
        agnostic_lower_bound(3, 0.125, 0.1)


def _growth_bound_slow(log2_growth, eps, delta):
    m = math.ceil(8 / eps)
    while eps * m / 2 < log2_growth(2 * m) + math.log2(2 / delta):
        m += 1
    return m


@pytest.mark.parametrize("d,k,eps,delta", [(1, 1, 0.3, 0.1), (3, 1, 0.2, 0.05),
                                           (2, 3, 0.25, 0.1)])
def test_growth_bound_matches_linear_search(d, k, eps, delta):
    def g(n):
        return k * sauer_shelah_log2(n, d)
    assert pac_growth_bound(g, eps, delta).value == _growth_bound_slow(g, eps, delta)


def test_growth_bound_is_of_blumer_order():
    g = pac_growth_bound(lambda n: sauer_shelah_log2(n, 11), 0.01, 0.01).value
    b = pac_upper_bound(11, 0.01, 0.01).value
    assert 0.2 < g / b < 5
