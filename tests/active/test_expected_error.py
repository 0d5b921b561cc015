"""Expected error reduction: fresh refits, the stated cost, seeded, checked against a loop."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mlextract.active import copy_proba, expected_error, expected_error_reduction


class CountingLR(LogisticRegression):
    """LogisticRegression that counts its fits (class-wide)."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def learner():
    from modAL.models import ActiveLearner

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    lab = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]]
    return ActiveLearner(estimator=CountingLR(), X_training=X[lab], y_training=y[lab]), X


def test_risks_equal_independent_fresh_refits(learner):
    """No stale refits: each candidate's risk is what a from-scratch loop gives."""
    learner_, X = learner
    coef = learner_.estimator.coef_.copy()
    n_train = learner_.X_training.shape[0]
    idx, risks = expected_error_reduction(
        learner_, X, n_instances=4, random_state=1, n_candidates=12, n_eval=50
    )
    # The loop: same subsamples (same generator calls), each candidate scored alone.
    rng = np.random.default_rng(1)
    cand = rng.choice(200, size=12, replace=False)
    evals = X[rng.choice(200, size=50, replace=False)]
    slow = {}
    for i in cand:
        risk = 0.0
        p = copy_proba(learner_.estimator, X[i : i + 1])[0]
        for c, pc in zip(learner_.estimator.classes_, p):
            m = LogisticRegression().fit(
                np.vstack([learner_.X_training, X[i]]), np.append(learner_.y_training, c)
            )
            risk += pc * np.sum(1 - m.predict_proba(evals).max(axis=1))
        slow[int(i)] = risk
    np.testing.assert_allclose(risks, [slow[int(i)] for i in idx], rtol=1e-10)
    assert sorted(slow.values())[:4] == pytest.approx(sorted(risks))
    # The learner is untouched: same model, same labelled set.
    np.testing.assert_array_equal(learner_.estimator.coef_, coef)
    assert learner_.X_training.shape[0] == n_train


def test_cost_is_candidates_times_classes(learner):
    learner_, X = learner
    CountingLR.n_fits = 0
    expected_error_reduction(learner_, X, n_instances=2, random_state=0, n_candidates=7, n_eval=30)
    assert CountingLR.n_fits == 7 * 2


def test_seeded_and_loss_choice(learner):
    learner_, X = learner
    a = expected_error_reduction(learner_, X, random_state=3, n_candidates=5, loss="log")
    b = expected_error_reduction(learner_, X, random_state=3, n_candidates=5, loss="log")
    assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1])
    with pytest.raises(ValueError, match="loss"):
        expected_error_reduction(learner_, X, loss="hinge")


def test_needs_a_labelled_set():
    from modAL.models import ActiveLearner

    with pytest.raises(ValueError, match="labelled set"):
        expected_error_reduction(ActiveLearner(estimator=LogisticRegression()), np.zeros((3, 2)))


def test_expected_error_skips_impossible_labels(learner):
    learner_, X = learner
    CountingLR.n_fits = 0
    risk = expected_error(learner_.estimator, learner_.X_training, learner_.y_training,
                          X[0], np.array([1.0, 0.0]), X[:20])
    assert CountingLR.n_fits == 1 and risk >= 0


def test_fill_uncertainty_costs_the_scored_candidates_only(learner):
    """fill='uncertainty': n_candidates × n_classes fits whatever the batch; the
    scored candidates are the copy's least sure ones, ranked by expected error, then
    the batch goes on in uncertainty order (risk NaN)."""
    learner_, X = learner
    CountingLR.n_fits = 0
    idx, risks = expected_error_reduction(learner_, X, n_instances=30, random_state=0,
                                          n_candidates=6, n_eval=30, fill="uncertainty")
    assert CountingLR.n_fits == 6 * 2
    assert idx.size == 30 and np.unique(idx).size == 30
    assert np.all(np.isfinite(risks[:6])) and np.all(np.isnan(risks[6:]))
    assert np.all(np.diff(risks[:6]) >= 0)
    unc = 1 - copy_proba(learner_.estimator, X).max(axis=1)
    # The slow way: sort every candidate by uncertainty (no exact ties here).
    by_unc = np.argsort(-unc, kind="stable")
    assert set(idx[:6]) == set(by_unc[:6])
    np.testing.assert_array_equal(idx[6:], by_unc[6:30])


def test_min_proba_skips_unlikely_labels(learner):
    learner_, X = learner
    p = np.array([0.995, 0.005])
    CountingLR.n_fits = 0
    expected_error(learner_.estimator, learner_.X_training, learner_.y_training, X[0], p,
                   X[:20], min_proba=0.01)
    assert CountingLR.n_fits == 1
    with pytest.raises(ValueError, match="min_proba"):
        expected_error_reduction(learner_, X, min_proba=1.5)
    with pytest.raises(ValueError, match="fill"):
        expected_error_reduction(learner_, X, fill="margin")
