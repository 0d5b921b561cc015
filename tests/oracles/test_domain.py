"""Domain: validation, uniform sampling, projection, membership, (de)serialisation."""

import json

import numpy as np
import pytest

from mlextract.oracles import Domain


@pytest.fixture
def mixed():
    """x0 continuous in [-1, 2], x1 integer in [0, 4], x2 categorical, x3..x5 one-hot."""
    return Domain(
        [-1, 0, 0, 0, 0, 0],
        [2, 4, 9, 1, 1, 1],
        integer=[1],
        categorical={2: [0.5, 3.0, 9.0]},
        one_hot_groups=[[3, 4, 5]],
        feature_names=["a", "b", "c", "d=x", "d=y", "d=z"],
    )


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([0, 0], [1]), {}, "same length"),
        (([], []), {}, "at least one feature"),
        (([np.nan], [1]), {}, "must not be NaN"),
        (([2, 0], [1, 1]), {}, r"lower > upper for features \[0\]"),
        (([0], [1]), {"integer": [3]}, "integer index out of range"),
        (([0, 0], [1, 1]), {"one_hot_groups": [[0, 2]]}, "one_hot_groups index out of range"),
        (([0, 0], [1, 1]), {"one_hot_groups": [[0, 1], [1]]}, "more than one"),
        (([0, 0], [1, 1]), {"categorical": {0: []}}, "has no values"),
        (([0, 0], [1, 1]), {"feature_names": ["a"]}, "1 names for 2 features"),
    ],
)
def test_bad_domains_are_refused(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Domain(*args, **kwargs)


def test_sample_respects_every_kind(mixed):
    X = mixed.sample(5000, random_state=0)
    assert X.shape == (5000, 6)
    assert mixed.contains(X).all()
    assert X[:, 0].min() >= -1 and X[:, 0].max() <= 2
    assert set(np.unique(X[:, 1])) == {0, 1, 2, 3, 4}  # both ends reached
    assert set(np.unique(X[:, 2])) == {0.5, 3.0, 9.0}
    assert np.all(X[:, 3:].sum(axis=1) == 1)
    # roughly uniform: each integer value and one-hot column gets its share
    for col, k in ((1, 5), (2, 3)):
        counts = np.unique(X[:, col], return_counts=True)[1]
        assert np.all(np.abs(counts / 5000 - 1 / k) < 0.03)
    assert np.all(np.abs(X[:, 3:].mean(axis=0) - 1 / 3) < 0.03)
    assert abs(X[:, 0].mean() - 0.5) < 0.05


def test_sample_is_seeded(mixed):
    np.testing.assert_array_equal(mixed.sample(10, random_state=4), mixed.sample(10, 4))
    assert not np.array_equal(mixed.sample(10, random_state=4), mixed.sample(10, 5))
    rng = np.random.default_rng(0)
    a, b = mixed.sample(3, random_state=rng), mixed.sample(3, random_state=rng)
    assert not np.array_equal(a, b)  # a Generator advances
    assert mixed.sample(0, random_state=0).shape == (0, 6)
    with pytest.raises(ValueError, match="n must be >= 0"):
        mixed.sample(-1)


def test_unbounded_features_cannot_be_sampled():
    dom = Domain([0, -np.inf], [1, np.inf])
    with pytest.raises(ValueError, match=r"features \[1\] are unbounded"):
        dom.sample(3)


def test_project_gives_the_nearest_valid_point(mixed):
    X = np.array([
        [5.0, 2.4, 2.0, 0.2, 0.9, 0.1],
        [-3.0, 7.0, 8.0, 0.0, 0.0, 0.3],
    ])
    P = mixed.project(X)
    np.testing.assert_array_equal(
        P, [[2.0, 2.0, 3.0, 0.0, 1.0, 0.0], [-1.0, 4.0, 9.0, 0.0, 0.0, 1.0]]
    )
    assert mixed.contains(P).all()
    assert X[0, 0] == 5.0  # the input is not modified


def test_contains(mixed):
    ok = [0.0, 1.0, 3.0, 1.0, 0.0, 0.0]
    rows = np.array([
        ok,
        [0.0, 1.5, 3.0, 1.0, 0.0, 0.0],  # integer feature not whole
        [0.0, 1.0, 3.5, 1.0, 0.0, 0.0],  # not a category
        [0.0, 1.0, 3.0, 1.0, 1.0, 0.0],  # two ones in the group
        [2.5, 1.0, 3.0, 1.0, 0.0, 0.0],  # above a bound
        [0.0, 1.0, 3.0, np.nan, np.nan, np.nan],  # group wholly missing
        [0.0, 1.0, 3.0, 1.0, np.nan, 0.0],  # group partly missing
        [np.nan, np.nan, np.nan, 0.0, 0.0, 1.0],  # other features missing
    ])
    assert mixed.contains(rows).tolist() == [True] + [False] * 7
    assert mixed.contains(rows, allow_nan=True).tolist() == [
        True, False, False, False, False, True, False, True,
    ]


def test_from_data():
    X = np.array([[0.0, 1.0, 2.5], [4.0, 3.0, 0.5], [2.0, 2.0, 1.5]])
    dom = Domain.from_data(X)
    np.testing.assert_array_equal(dom.lower, [0, 1, 0.5])
    np.testing.assert_array_equal(dom.upper, [4, 3, 2.5])
    assert dom.contains(X).all() and dom.closed
    auto = Domain.from_data(X, integer="auto")
    assert auto.integer.tolist() == [0, 1]
    wide = Domain.from_data(X, margin=0.5)
    np.testing.assert_array_equal(wide.lower, [-2, 0, -0.5])
    cat = Domain.from_data(X, categorical=[2])
    assert cat.categorical[2].tolist() == [0.5, 1.5, 2.5]
    with pytest.raises(ValueError, match="non-empty 2-D"):
        Domain.from_data(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        Domain.from_data([[np.nan]])
    with pytest.raises(ValueError, match="'auto'"):
        Domain.from_data(X, integer="all")


def test_one_hot_bounds_are_zero_one():
    X = np.array([[1.0, 0.0, 5.0], [1.0, 0.0, 6.0]])  # column 1 never active
    dom = Domain.from_data(X, one_hot_groups=[[0, 1]])
    np.testing.assert_array_equal(dom.lower[:2], [0, 0])
    np.testing.assert_array_equal(dom.upper[:2], [1, 1])
    assert dom.contains([[0.0, 1.0, 5.5]]).all()


def test_dict_round_trip(mixed):
    spec = mixed.to_dict()
    json.dumps(spec)  # JSON-ready
    back = Domain.from_dict(json.loads(json.dumps(spec)))
    assert back.to_dict() == spec
    open_ = Domain([0, -np.inf], [1, np.inf], closed=False)
    again = Domain.from_dict(json.loads(json.dumps(open_.to_dict())))
    assert again.upper[1] == np.inf and again.lower[1] == -np.inf and not again.closed


def test_kinds_and_groups(mixed):
    assert mixed.kinds() == ["continuous", "integer", "categorical"] + ["one_hot"] * 3
    assert mixed.continuous.tolist() == [True] + [False] * 5
    assert mixed.group_of(4).tolist() == [3, 4, 5]
    assert mixed.group_of(0) is None
    assert "3 one_hot" in repr(mixed) and "1 one-hot groups" in repr(mixed)


def test_the_callers_bounds_are_not_modified():
    lower, upper = np.array([0.5, 0.5, -1.0]), np.array([0.5, 0.5, 1.0])
    dom = Domain(lower, upper, one_hot_groups=[[0, 1]])
    assert lower.tolist() == [0.5, 0.5, -1.0] and upper.tolist() == [0.5, 0.5, 1.0]
    assert dom.lower.tolist() == [0.0, 0.0, -1.0]
