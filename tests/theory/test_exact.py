"""Tramèr et al.'s exact counts, Lowd–Meek and path finding, on hand-computed values."""

import math

import pytest

from mlextract.theory import (
    binary_lr_queries,
    lowd_meek_queries,
    mlp_queries,
    mlp_unknowns,
    ovr_queries,
    path_finding_lower_bound,
    path_finding_queries,
    softmax_queries,
)


def test_equation_solving_counts():
    b = binary_lr_queries(105)
    assert (b.value, b.kind, b.query_model, b.order_only) == (106, "exact", "confidence", False)
    assert binary_lr_queries(105, one_hot_groups=8).value == 98  # Adult: d + 1 − G
    assert softmax_queries(105, 5).value == 106
    assert softmax_queries(105, 5, one_hot_groups=8).value == 98
    u = softmax_queries(105, 5, target="unknowns")
    assert (u.value, u.kind) == (530, "upper")  # the paper's budget unit
    assert ovr_queries(105, 5).value == math.ceil(530 / 4) == 133
    assert ovr_queries(3, 2).value == 8  # c = 2: 2(d + 1)
    assert ovr_queries(105, 5).kind == "lower"


def test_mlp_counts():
    assert mlp_unknowns(105, 20, 5) == 2225  # Tramèr et al.'s Adult MLP
    assert mlp_unknowns(2, 3, 2) == 3 * 3 + 2 * 4
    # identifiable: h(d+1) + (c−1)(h+1) = 2120 + 84, over c − 1 = 4 values per answer
    assert mlp_queries(105, 20, 5).value == 551
    assert mlp_queries(2, 3, 2).value == 9 + 4


def test_lowd_meek_both_forms():
    assert lowd_meek_queries(10, length=1.0, tau=1e-3).value == 2 + 10 * 10
    assert lowd_meek_queries(3, length=1.0, tau=1 / 8, w=7).value == 7 + 3 * 3
    assert lowd_meek_queries(4, length=2.0, tau=2.0).value == 2  # no halving needed
    b = lowd_meek_queries(5)
    assert (b.kind, b.query_model) == ("upper", "synthesis")


def test_path_finding_hand_values():
    # top-down: 1 + (m − 1)·(d + max(⌈log2(b/ε)⌉, k)) = 1 + 3·(2 + 3)
    assert path_finding_queries(leaves=4, d_cont=2, eps=1 / 8).value == 16
    # with categorical features: per node d = 3 plus max(3, k = 5)
    assert path_finding_queries(leaves=4, d_cont=2, d_cat=1, categories=5, eps=1 / 8).value \
        == 1 + 3 * (3 + 5)
    # bottom-up: m·(d_cat·k + d_cont·m·log2(b/ε)) = 4·(1·5 + 2·4·3)
    b = path_finding_queries(leaves=4, d_cont=2, d_cat=1, categories=5, eps=1 / 8,
                             method="bottom_up")
    assert b.value == 4 * (5 + 2 * 4 * 3) and b.order_only
    assert path_finding_queries(leaves=4, d_cont=2, eps=1 / 8, constant=2.5).value == 40
    b = path_finding_queries(leaves=4, d_cont=2, eps=1 / 8, depth=2)
    assert b.query_model == "leaf_identity"


def test_path_finding_lower_bound_hand_values():
    # m = 2, grid ⌊1/(2/16)⌋ = 8 positions: log2 8 = 3 bits over log2 3 answers → 1.9 < 2 ids
    assert path_finding_lower_bound(leaves=2, d_cont=1, eps=1 / 16).value == 2
    # m = 3, complete queries (3 answers), ε = 2^-11: log2 C(1024, 2) / log2 3
    expect = math.ceil(math.log2(math.comb(1024, 2)) / math.log2(3))
    assert path_finding_lower_bound(leaves=3, d_cont=1, eps=2.0**-11,
                                    incomplete=False).value == expect
    # categorical only: just the identities
    assert path_finding_lower_bound(leaves=5, d_cont=0, d_cat=2).value == 5
    # lower ≤ top-down count
    for m in (2, 5, 50, 300):
        lo = path_finding_lower_bound(leaves=m, d_cont=3, eps=1e-4)
        up = path_finding_queries(leaves=m, d_cont=3, eps=1e-4)
        assert lo.value <= up.value


@pytest.mark.parametrize("call", [
    lambda: binary_lr_queries(4, one_hot_groups=3),
    lambda: softmax_queries(4, 1),
    lambda: softmax_queries(4, 3, target="everything"),
    lambda: lowd_meek_queries(3, tau=0.0),
    lambda: lowd_meek_queries(3, length=1.0, tau=2.0),
    lambda: lowd_meek_queries(3, tau=float("nan")),
    lambda: path_finding_queries(leaves=0, d_cont=2),
    lambda: path_finding_queries(leaves=8, d_cont=2, depth=2),
    lambda: path_finding_queries(leaves=4, d_cont=0, d_cat=0),
    lambda: path_finding_queries(leaves=4, d_cont=2, method="sideways"),
    lambda: path_finding_queries(leaves=4, d_cont=2, eps=1.0),
    lambda: path_finding_lower_bound(leaves=4, d_cont=2, n_ids=5),
    lambda: mlp_unknowns(3, 0, 2),
])
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()
