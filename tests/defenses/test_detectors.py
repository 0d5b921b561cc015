"""PRADA, the OOD detector and the tree monitor: known streams, benign streams, attacks."""

import numpy as np
import pytest

from mlextract.defenses import PRADA, OODDetector, TreeMonitor, prada_statistic

pytestmark = pytest.mark.timeout(120)


def test_prada_statistic_on_known_distances():
    rng = np.random.default_rng(0)
    assert prada_statistic(rng.normal(5, 1, 500)) > 0.99
    assert prada_statistic(rng.exponential(1, 500)) < 0.9
    # Outliers beyond 3 sigma are removed before the test.
    d = np.r_[rng.normal(5, 1, 500), [1e6]]
    assert prada_statistic(d) > 0.99
    assert prada_statistic(np.ones(200)) == 0.0


def test_prada_tests_every_10_queries_once_more_than_100_distances():
    """A stream of one repeated point: every distance is 0, as non-normal as it gets.

    The first query of a class gives no distance; the first test with more than 100
    distances is at query 110 (109 distances), so that is where PRADA flags.
    """
    det = PRADA(delta=0.9)
    X = np.zeros((300, 3))
    labels = np.zeros(300, dtype=int)
    assert det.run(X, labels, batch_size=1) == 110
    assert det.states_["default"]["W"] == [0.0]


def test_prada_growing_sets_and_threshold_by_hand():
    det = PRADA()
    X = np.array([[0.0], [1.0], [3.0], [3.5], [10.0]])
    det.observe(X, np.zeros(5, dtype=int))
    st = det.states_["default"]
    # d: 1 (added, T=1), 2 (added, T=max(1, 1.5-0.5)=1), 0.5 (not added: 3.5 is left
    # out of G), 7 = 10 - 3 (added)
    np.testing.assert_allclose(st["D"], [1.0, 2.0, 0.5, 7.0])
    np.testing.assert_allclose(st["G"][0].ravel(), [0.0, 1.0, 3.0, 10.0])
    dg = np.array([1.0, 2.0, 7.0])
    assert st["T"][0] == pytest.approx(max(1.0, dg.mean() - dg.std()))


def _detectors(owner):
    return {
        "prada": lambda: PRADA(delta=0.9, scaler=owner.scaler),
        "ood": lambda: OODDetector(in_distribution=owner.X_train,
                                   out_distribution=owner.ood),
        "tree_monitor": lambda: TreeMonitor(tree=owner.tree, owner_data=owner.X_train),
    }


# Queries until each detector flags the line-search stream, measured on this owner
# (seed 0): PRADA 110, OOD 50, tree monitor 193. The bound leaves a margin.
LINE_SEARCH_BOUND = {"prada": 200, "ood": 100, "tree_monitor": 400}


@pytest.mark.parametrize("name", ["prada", "ood", "tree_monitor"])
def test_no_false_positive_on_benign_streams_but_line_search_is_flagged(owner, name):
    make = _detectors(owner)[name]
    for seed in range(5):
        det = make()
        S = owner.benign_stream(seed)
        assert det.run(S, owner.model.predict(S), batch_size=20) is None, f"seed {seed}"
    det = make()
    L = owner.line_search_stream(600)
    at = det.run(L, owner.model.predict(L), batch_size=1)
    assert at is not None and at <= LINE_SEARCH_BOUND[name]


def test_clients_are_separate_unless_grouped(owner):
    L = owner.line_search_stream(300)
    labels = owner.model.predict(L)
    det = PRADA(scaler=owner.scaler)
    # Two colluders each send half: separately neither has > 100 distances by 150.
    det.observe(L[:150], labels[:150], client="a")
    det.observe(L[150:], labels[150:], client="b")
    assert det.queries_until_flag("a") is not None or det.queries_until_flag("b") is not None
    pooled = PRADA(scaler=owner.scaler, groups={"a": "g", "b": "g"})
    pooled.observe(L[:60], labels[:60], client="a")
    pooled.observe(L[60:120], labels[60:120], client="b")
    assert pooled.flagged("a") == pooled.flagged("b")
    assert pooled.states_["g"]["n_queries"] == 120


def test_tree_monitor_flags_incomplete_queries(owner):
    det = TreeMonitor(tree=owner.tree, owner_data=owner.X_train, min_queries=20)
    X = owner.X_test[:40].copy()
    X[::4, 0] = np.nan
    assert det.observe(X) is True
    assert det.report()["incomplete"] == 10


def test_bad_input_is_a_clear_error(owner):
    det = PRADA()
    with pytest.raises(ValueError, match="2-D"):
        det.observe(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="answers"):
        det.observe(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="needs the answers"):
        det.observe(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="delta"):
        PRADA(delta=1.5)
    with pytest.raises(ValueError, match="same width"):
        OODDetector(in_distribution=np.zeros((3, 2)), out_distribution=np.zeros((3, 3))
                    ).observe(np.zeros((1, 2)))
