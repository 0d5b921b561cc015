"""Properties every bound must have: monotone in d and ε, lower ≤ upper, clear errors."""

import math

import numpy as np
import pytest

from mlextract import theory as T


def _c(e, top=1 / 8):
    """Clip valid ε to what the lower bounds need (1/8); pass bad values through."""
    return min(e, top) if isinstance(e, float) and 0 < e < 1 else e


EPS = [0.4, 0.2, 0.1, 0.05, 0.02, 0.01, 1e-3, 1e-4]  # decreasing
DS = [1, 2, 3, 5, 10, 40, 105, 400]

# name -> f(d, eps) -> Bound, for every bound that depends on d and ε
BOUNDS_OF_D_EPS = {
    "pac_upper": lambda d, e: T.pac_upper_bound(d, e, 0.05),
    "pac_lower": lambda d, e: T.pac_lower_bound(d, _c(e), 0.01),
    "agnostic_upper": lambda d, e: T.agnostic_upper_bound(d, e, 0.05),
    "agnostic_lower": lambda d, e: T.agnostic_lower_bound(d, _c(e, 1 / 65), 0.01),
    "qs_lower": lambda d, e: T.query_synthesis_lower_bound(d, e),
    "centroid": lambda d, e: T.centroid_cut_queries(d, e),
    "cal": lambda d, e: T.cal_queries(d, e, 0.05, T.halfspace_disagreement_coefficient(d)),
    "margin": lambda d, e: T.margin_based_queries(d, e, 0.05),
    "a2": lambda d, e: T.a2_queries(d, e, 0.05, 3.0, nu=0.01),
    "dhm": lambda d, e: T.dhm_queries(d, e, 0.05, 3.0, nu=0.01),
    "agnostic_active_lower": lambda d, e: T.agnostic_active_lower_bound(d, e, 0.1),
    "lowd_meek": lambda d, e: T.lowd_meek_queries(d, tau=e),
    "path_top_down": lambda d, e: T.path_finding_queries(leaves=20, d_cont=d, eps=e),
    "path_bottom_up": lambda d, e: T.path_finding_queries(leaves=20, d_cont=d, eps=e,
                                                          method="bottom_up"),
    "path_lower": lambda d, e: T.path_finding_lower_bound(leaves=20, d_cont=d, eps=e),
    "growth_multiclass": lambda d, e: T.pac_growth_bound(
        lambda n: 3 * T.sauer_shelah_log2(n, d + 1), e, 0.05),
}
BOUNDS_OF_D = {
    "binary_lr": T.binary_lr_queries,
    "softmax": lambda d: T.softmax_queries(d, 4),
    "softmax_unknowns": lambda d: T.softmax_queries(d, 4, target="unknowns"),
    "ovr": lambda d: T.ovr_queries(d, 4),
    "mlp": lambda d: T.mlp_queries(d, 10, 3),
    "vc_tree_upper": lambda d: T.Bound(T.vc_tree_bounds(10, d)[1], kind="upper",
                                       query_model="passive"),
    "gbs": lambda d: T.generalized_binary_search(200, d),
    "pool_lower": lambda d: T.pool_halfspace_lower_bound(200, d),
}


@pytest.mark.parametrize("name", sorted(BOUNDS_OF_D_EPS))
def test_monotone_in_d_and_eps(name):
    f = BOUNDS_OF_D_EPS[name]
    grid = np.array([[f(d, e).value for e in EPS] for d in DS])
    assert np.all(np.diff(grid, axis=0) >= 0), f"{name} decreases with d:\n{grid}"
    assert np.all(np.diff(grid, axis=1) >= 0), f"{name} decreases as ε shrinks:\n{grid}"


@pytest.mark.parametrize("name", sorted(BOUNDS_OF_D))
def test_monotone_in_d(name):
    values = [BOUNDS_OF_D[name](d).value for d in DS]
    assert values == sorted(values), f"{name} decreases with d: {values}"


# Pairs (lower, upper) with exact constants that bound the same quantity.
PAIRS = {
    "passive: Ehrenfeucht ≤ Blumer": (
        lambda d, e: T.pac_lower_bound(d, _c(e), 0.01),
        lambda d, e: T.pac_upper_bound(d, _c(e), 0.01)),
    "passive: Ehrenfeucht ≤ growth": (
        lambda d, e: T.pac_lower_bound(d, _c(e), 0.01),
        lambda d, e: T.pac_growth_bound(lambda n: T.sauer_shelah_log2(n, d), _c(e),
                                        0.01)),
    "agnostic: lower ≤ upper": (
        lambda d, e: T.agnostic_lower_bound(d, _c(e, 1 / 65), 0.01),
        lambda d, e: T.agnostic_upper_bound(d, _c(e, 1 / 65), 0.01)),
    "synthesis: packing ≤ centroid cuts": (
        lambda d, e: T.query_synthesis_lower_bound(d, e),
        lambda d, e: T.centroid_cut_queries(d, e)),
    "passive ≥ synthesis lower: packing ≤ Blumer": (
        lambda d, e: T.query_synthesis_lower_bound(d, e),
        lambda d, e: T.pac_upper_bound(d + 1, e, 0.05)),
    "leaf identity: information ≤ top-down": (
        lambda d, e: T.path_finding_lower_bound(leaves=d + 1, d_cont=d, eps=e),
        lambda d, e: T.path_finding_queries(leaves=d + 1, d_cont=d, eps=e)),
    "pool: Cover ≤ GBS": (
        lambda d, e: T.pool_halfspace_lower_bound(math.ceil(1 / e), d),
        lambda d, e: T.generalized_binary_search(math.ceil(1 / e), d + 1)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_lower_never_exceeds_upper(name):
    lo, up = PAIRS[name]
    for d in DS:
        for e in EPS:
            a, b = lo(d, e), up(d, e)
            assert a.is_lower and b.is_upper
            assert a.value <= b.value, f"{name}: d={d}, eps={e}: {a} > {b}"


@pytest.mark.parametrize("family", ["logistic", "linear", "ovr", "softmax", "mlp", "tree"])
@pytest.mark.parametrize("classes", [2, 5])
def test_tables_put_lower_below_upper_per_query_model(family, classes):
    if family == "linear" and classes != 2:
        pytest.skip("the linear family is binary")
    for d in (2, 10, 105):
        for e in (0.1, 1e-2, 1e-3):
            t = T.compare_bounds(family, d, e, 0.01, classes=classes, nu=0.01)
            exact = [b for b in t.bounds if not b.order_only and "Lowd" not in b.name]
            for lo in (b for b in exact if b.kind == "lower"):
                for up in (b for b in exact if b.kind == "upper"
                           and b.query_model == lo.query_model):
                    assert lo.value <= up.value, (family, d, e, lo, up)


BAD_EPS = [0, 1, -0.1, 1.5, float("nan"), float("inf"), "0.1", None, True]
BAD_D = [0, -1, 2.5, float("nan"), True, "3", None]


# Lowd–Meek takes τ (any τ ≤ L is valid, τ = 1 included; tested in test_exact), and the
# growth function's d is the caller's lambda's business.
@pytest.mark.parametrize("name", sorted(set(BOUNDS_OF_D_EPS) - {"lowd_meek",
                                                                 "growth_multiclass"}))
def test_bad_eps_and_d_raise_clear_errors(name):
    f = BOUNDS_OF_D_EPS[name]
    for e in BAD_EPS:
        with pytest.raises(ValueError, match="eps|tau"):
            f(3, e)
    for d in BAD_D:
        with pytest.raises(ValueError, match="d_cont|\\bd\\b"):
            f(d, 0.1)


@pytest.mark.parametrize("call", [
    lambda: T.pac_upper_bound(3, 0.1, 0.0),
    lambda: T.lowd_meek_queries(0),
    lambda: T.lowd_meek_queries(float("nan")),
    lambda: T.pac_growth_bound(lambda n: 1.0, float("nan"), 0.1),
    lambda: T.pac_upper_bound(3, 0.1, float("nan")),
    lambda: T.pac_upper_bound(3, 0.1, 1.0),
    lambda: T.compare_bounds("forest", 3, 0.1),
    lambda: T.compare_bounds("linear", 3, 0.1, classes=3),
    lambda: T.compare_bounds("logistic", 3, float("nan")),
    lambda: T.Bound(float("nan"), kind="upper", query_model="pool"),
    lambda: T.Bound(3.0, kind="sideways", query_model="pool"),
    lambda: T.Bound(3.0, kind="upper", query_model="telepathy"),
])
def test_other_bad_input(call):
    with pytest.raises(ValueError):
        call()
