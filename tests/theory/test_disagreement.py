"""The Monte Carlo disagreement coefficient against known values and a slow version."""

import math

import numpy as np
import pytest

from mlextract.theory import (
    disagreement_coefficient,
    halfspace_disagreement_coefficient,
    halfspace_disagreement_sample,
)


def _theta_slow(target, H, radii):
    dist = [(h != target).mean() for h in H]
    best = 1.0
    for r in radii:
        ball = [h for h, dd in zip(H, dist) if dd <= r]
        dis = np.zeros(target.shape, bool)
        for h in ball:
            dis |= h != target
        best = max(best, dis.mean() / r)
    return best


def test_thresholds_on_a_line_have_theta_two():
    x = np.linspace(0, 1, 2001)
    ts = np.linspace(0, 1, 401)
    est = disagreement_coefficient(x >= 0.5, x[None, :] >= ts[:, None], eps=0.02)
    assert est.theta == pytest.approx(2.0, abs=0.02)
    assert np.all(np.diff(est.dis_mass) >= 0) and np.all(np.diff(est.n_in_ball) >= 0)


def test_matches_the_slow_definition():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 2, 300)
    H = np.where(rng.random((60, 300)) < rng.random((60, 1)) * 0.5, 1 - target, target)
    radii = np.geomspace(0.01, 0.5, 15)
    est = disagreement_coefficient(target, H, eps=0.01, radii=radii)
    assert est.theta == pytest.approx(_theta_slow(target, H, radii))


def test_halfspaces_stay_below_hannekes_bound_and_are_seeded():
    for d in (2, 5, 20):
        est = halfspace_disagreement_sample(d, random_state=0)
        assert 1.0 <= est.theta <= halfspace_disagreement_coefficient(d)
    # in the plane, θ = 2 exactly (the disagreement region of a ball of radius r is 2r)
    assert halfspace_disagreement_sample(2, random_state=3).theta == pytest.approx(2, abs=0.25)
    a = halfspace_disagreement_sample(4, random_state=7)
    b = halfspace_disagreement_sample(4, random_state=7)
    assert a.theta == b.theta and np.array_equal(a.dis_mass, b.dis_mass)
    assert math.isfinite(a.theta)


@pytest.mark.parametrize("target,H,kw", [
    (np.array([]), np.zeros((2, 0)), {}),
    (np.zeros(5), np.zeros((2, 4)), {}),
    (np.zeros(5), np.zeros((0, 5)), {}),
    (np.array([0.0, np.nan]), np.zeros((2, 2)), {}),
    (np.zeros(5), np.zeros((2, 5)), {"eps": 0.0}),
    (np.zeros(5), np.zeros((2, 5)), {"eps": 0.1, "radii": [0.01]}),
    (np.zeros(5), np.zeros((2, 5)), {"radii": [np.nan]}),
])
def test_bad_input(target, H, kw):
    with pytest.raises(ValueError):
        disagreement_coefficient(target, H, **kw)
