"""VC dimensions: halfspaces exactly, trees between brute-forced bounds."""

import itertools

import numpy as np
import pytest

from mlextract.theory import vc_halfspaces, vc_tree_bounds


def test_halfspaces():
    assert vc_halfspaces(1) == 2 and vc_halfspaces(105) == 106
    assert vc_halfspaces(105, homogeneous=True) == 105
    with pytest.raises(ValueError):
        vc_halfspaces(0)


def _stump_labelings(P):
    """Every labeling of the points P that an axis-aligned stump (2 leaves) makes."""
    out = set()
    n, d = P.shape
    for j in range(d):
        vals = np.unique(P[:, j])
        cuts = np.r_[vals[0] - 1, (vals[:-1] + vals[1:]) / 2, vals[-1] + 1]
        for t in cuts:
            side = P[:, j] <= t
            for a, b in itertools.product((0, 1), repeat=2):
                out.add(tuple(np.where(side, a, b)))
    return out


def _max_shattered_by_stumps(d, n_max, rng, tries=300):
    best = 1
    for n in range(2, n_max + 1):
        if any(len(_stump_labelings(rng.standard_normal((n, d)))) == 2**n
               for _ in range(tries)):
            best = n
    return best


def test_trees_on_a_line_are_exactly_L():
    # On one feature, L leaves realise a labeling of sorted points iff it changes
    # label at most L − 1 times: L points are shattered, L + 1 alternating are not.
    for L in (1, 2, 3, 7):
        lo, hi = vc_tree_bounds(L, 1)
        assert lo == L <= hi
        alternating = [i % 2 for i in range(L + 1)]
        assert sum(a != b for a, b in zip(alternating, alternating[1:])) == L > L - 1


def test_stumps_in_the_plane_sit_between_the_bounds():
    lo, hi = vc_tree_bounds(2, 2)
    found = _max_shattered_by_stumps(2, 4, np.random.default_rng(0))
    assert lo <= found <= hi
    assert found >= 3  # three points in general position are shattered by stumps


def test_tree_bounds_grow_with_leaves_and_features():
    prev = (0, 0)
    for L in (1, 2, 5, 20, 100):
        lo, hi = vc_tree_bounds(L, 10)
        assert lo <= hi and lo >= prev[0] and hi >= prev[1]
        prev = (lo, hi)
    assert vc_tree_bounds(50, 100)[1] >= vc_tree_bounds(50, 2)[1]
