"""Active-learning bounds: hand values, and the clever formulas against slow versions."""

import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from mlextract.theory import (
    a2_queries,
    agnostic_active_lower_bound,
    cal_queries,
    centroid_cut_queries,
    cover_count_log2,
    dhm_queries,
    generalized_binary_search,
    halfspace_disagreement_coefficient,
    halfspace_packing_log2,
    halving_queries,
    iwal_queries,
    margin_based_queries,
    noisy_repetition_queries,
    packing_lower_bound,
    pool_halfspace_lower_bound,
    query_synthesis_lower_bound,
    sauer_shelah_log2,
)


def _cap_fraction(d, theta):
    """Normalised area of a spherical cap of angular radius θ on S^{d−1}, by quadrature."""
    num = integrate.quad(lambda t: np.sin(t) ** (d - 2), 0, theta)[0]
    den = integrate.quad(lambda t: np.sin(t) ** (d - 2), 0, np.pi)[0]
    return num / den


@pytest.mark.parametrize("d", [2, 3, 5, 12, 40])
@pytest.mark.parametrize("r", [0.01, 0.05, 0.2, 0.45, 0.5])
def test_packing_bound_is_below_the_covering_count(d, r):
    # M(r) ≥ 1/σ(C(πr)) is the covering argument; our closed form must not exceed it.
    exact = -math.log2(_cap_fraction(d, math.pi * r))
    assert halfspace_packing_log2(d, r) <= exact + 1e-9


def test_packing_and_query_synthesis_hand_values():
    assert halfspace_packing_log2(3, 1 / 6) == pytest.approx(3.0)  # 1 + 2·log2(1/sin 30°)
    assert halfspace_packing_log2(7, 0.75) == 1.0  # antipodal pair only
    assert query_synthesis_lower_bound(3, 1 / 12).value == 3
    assert query_synthesis_lower_bound(1, 0.01).value == 1  # sign(x) or sign(−x)
    assert query_synthesis_lower_bound(5, 0.6).value == 0  # a constant guess suffices
    assert packing_lower_bound(9.2).value == 10
    b = query_synthesis_lower_bound(4, 0.01, query_model="pool")
    assert (b.kind, b.query_model) == ("lower", "pool")


def test_centroid_cut_hand_values():
    ratio = math.log2(math.e / (math.e - 1))
    assert centroid_cut_queries(1, 0.5).value == math.ceil(1 / ratio) == 2
    assert centroid_cut_queries(10, 2.0**-10).value == math.ceil(100 / ratio)
    # the 1.5·d·log2(1/ε) is this guarantee rounded
    assert 1.50 < 1 / ratio < 1.52


def test_sauer_shelah_and_cover_against_direct_sums():
    for n, d in [(1, 1), (5, 2), (10, 3), (7, 7), (20, 4)]:
        phi = sum(math.comb(n, i) for i in range(min(n, d) + 1))
        assert 2 ** sauer_shelah_log2(n, d) == pytest.approx(phi)
        cover = 2 * sum(math.comb(n - 1, k) for k in range(d))
        assert 2 ** cover_count_log2(n, d) == pytest.approx(cover)
        assert cover <= 2 * phi  # C(n, d) ≤ Φ_d(n) up to the sign flip


def test_cover_count_against_brute_force_in_the_plane():
    # Homogeneous dichotomies of 5 points in general position in R^2: C(5, 2) = 10.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 2))
    angles = np.linspace(0, 2 * np.pi, 20001)
    W = np.c_[np.cos(angles), np.sin(angles)]
    patterns = {tuple(row) for row in (X @ W.T > 0).T}
    assert len(patterns) == round(2 ** cover_count_log2(5, 2)) == 10


def test_pool_and_halving_hand_values():
    assert halving_queries(1000).value == 10
    assert halving_queries(1).value == 0
    assert generalized_binary_search(4, 1).value == 3  # Φ_1(4) = 5
    g = generalized_binary_search(4, 1, opt=2.0)
    assert g.value == math.ceil(4 * math.log(5) * 2)
    assert pool_halfspace_lower_bound(4, 1).value == 3  # C(4, 2) = 8
    # the information lower bound never exceeds the balanced-GBS count
    for n, d in itertools.product([5, 50, 500], [1, 3, 10]):
        assert pool_halfspace_lower_bound(n, d).value <= generalized_binary_search(n, d + 1).value


def test_disagreement_based_hand_values():
    assert halfspace_disagreement_coefficient(4) == pytest.approx(2 * math.pi)
    assert cal_queries(1, 0.5, 0.5, 1.0).value == 2.0
    # θ = e², d = 2, ε = e^-3, δ = 3e^-4: θ·(2·2 + Log(3/δ))·3 = e²·(4 + 4)·3
    val = cal_queries(2, math.exp(-3), 3 * math.exp(-4), math.e**2).value
    assert val == pytest.approx(math.e**2 * 8 * 3)
    assert margin_based_queries(1, 0.5, 0.5).value == 3.0
    assert margin_based_queries(1, 0.5, 0.5, constant=4).value == 12.0
    assert a2_queries(1, 0.5, 0.5, 2.0).value == 8.0
    assert dhm_queries(1, 0.5, 0.5, 2.0).value == 4.0
    assert iwal_queries is dhm_queries
    # θ = 2, 1 + ν²/ε² = 2, (d·ln 10 + Log 2 = 1)·ln 10
    ln10 = math.log(10)
    assert dhm_queries(1, 0.1, 0.5, 2.0, nu=0.1).value == pytest.approx(4 * (ln10 + 1) * ln10)
    assert agnostic_active_lower_bound(10, 0.1, 0.2).value == pytest.approx(40.0)
    for b in (cal_queries(3, 0.1, 0.1, 2.0), a2_queries(3, 0.1, 0.1, 2.0)):
        assert b.order_only and b.query_model == "pool"


def test_noisy_repetition_hand_values():
    # k = ⌈ln(10/0.01)/(2·0.25)⌉ = ⌈13.8⌉ = 14 → 15 (odd)
    assert noisy_repetition_queries(10, 0.0, 0.01).value == 150
    # η = 0.25: k = ⌈ln(100)/(2·0.0625)⌉ = ⌈36.8⌉ = 37
    assert noisy_repetition_queries(1, 0.25, 0.01).value == 37
    with pytest.raises(ValueError, match="1/2"):
        noisy_repetition_queries(10, 0.5, 0.1)


@pytest.mark.parametrize("call", [
    lambda: halfspace_packing_log2(3, 0.0),
    lambda: packing_lower_bound(float("nan")),
    lambda: packing_lower_bound(3.0, query_model="confidence"),
    lambda: cal_queries(3, 0.1, 0.1, 0.5),
    lambda: a2_queries(3, 0.1, 0.1, 2.0, nu=0.7),
    lambda: halving_queries(0.5),
    lambda: generalized_binary_search(0, 2),
    lambda: noisy_repetition_queries(0, 0.1, 0.1),
    lambda: noisy_repetition_queries(5, -0.1, 0.1),
])
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()


def test_noisy_packing_bound():
    from mlextract.theory import noisy_query_synthesis_lower_bound as noisy

    # η ≈ 0.11 halves the capacity: ((1 − δ)·3 − 1)/0.5 → 4
    assert noisy(3, 1 / 12, 0.11, 1e-4).value == 4
    # η = 0: Fano's (1 − δ)·log2 M − 1 never exceeds the noiseless packing bound
    for d in (2, 10, 100):
        for e in (0.1, 1e-3):
            assert noisy(d, e, 0.0, 0.01).value <= query_synthesis_lower_bound(d, e).value
    values = [noisy(10, 1e-3, eta, 0.01).value for eta in (0, 0.05, 0.1, 0.2, 0.3, 0.45)]
    assert values == sorted(values) and values[-1] > 100 * values[0]
    # lower ≤ the repeat-and-vote version of centre-of-gravity cuts
    for eta in (0.01, 0.1, 0.3, 0.45):
        for d in (2, 10, 50):
            q = int(centroid_cut_queries(d + 1, 1e-3).value)
            assert noisy(d, 1e-3, eta, 0.01).value <= noisy_repetition_queries(q, eta, 0.01).value
    with pytest.raises(ValueError):
        noisy(3, 0.1, 0.5, 0.1)
    with pytest.raises(ValueError):
        noisy(3, 0.1, float("nan"), 0.1)
