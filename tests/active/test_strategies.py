"""Measures against hand computations and slow loops; selectors seeded; ranked batch vs modAL."""

from collections import Counter

import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from mlextract.active import (
    consensus_entropy,
    copy_proba,
    density_weighted_sampling,
    entropy,
    entropy_sampling,
    information_density,
    kl_max_disagreement,
    margin,
    margin_sampling,
    random_sampling,
    ranked_batch_sampling,
    select_top,
    uncertainty,
    uncertainty_sampling,
    vote_entropy,
    vote_entropy_sampling,
)

P = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1.0, 0.0, 0.0]])


@pytest.fixture(scope="module")
def learner():
    from modAL.models import ActiveLearner

    X, y = make_classification(n_samples=300, n_features=5, random_state=1)
    return ActiveLearner(estimator=LogisticRegression(), X_training=X[:40], y_training=y[:40]), X


def test_measures_by_hand():
    np.testing.assert_allclose(uncertainty(P), [0.3, 0.6, 0.0])
    np.testing.assert_allclose(margin(P), [0.5, 0.0, 1.0])
    np.testing.assert_allclose(
        entropy(P), [-(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)),
                     -(2 * 0.4 * np.log(0.4) + 0.2 * np.log(0.2)), 0.0]
    )
    assert np.all(np.isfinite(entropy(P)))  # 0·log 0 = 0, no warning


def test_committee_measures_against_slow_loops():
    rng = np.random.default_rng(0)
    member = rng.dirichlet(np.ones(3), size=(4, 6))  # 4 members, 6 points, 3 classes
    votes = member.argmax(axis=2).T  # (6, 4)
    slow_vote = []
    for row in votes:
        counts = Counter(row.tolist())
        slow_vote.append(scipy_entropy([counts[c] / 4 for c in range(3)]))
    np.testing.assert_allclose(vote_entropy(votes, [0, 1, 2]), slow_vote)
    np.testing.assert_allclose(consensus_entropy(member), scipy_entropy(member.mean(0), axis=1))
    slow_kl = [
        max(scipy_entropy(member[m, i], member[:, i].mean(0)) for m in range(4)) for i in range(6)
    ]
    np.testing.assert_allclose(kl_max_disagreement(member), slow_kl)


def test_information_density_against_a_loop():
    rng = np.random.default_rng(1)
    X, R = rng.normal(size=(5, 3)), rng.normal(size=(7, 3))
    slow = [np.mean([1 / (1 + np.linalg.norm(x - r)) for r in R]) for x in X]
    np.testing.assert_allclose(information_density(X, R), slow)


def test_select_top_is_seeded_and_breaks_ties_at_random():
    scores = np.array([1.0, 3.0, 3.0, 3.0, 0.0])
    first = {int(select_top(scores, 1, s)[0][0]) for s in range(30)}
    assert first == {1, 2, 3}
    a, b = select_top(scores, 3, 7), select_top(scores, 3, 7)
    assert np.array_equal(a[0], b[0])
    assert set(select_top(scores, 2, 0, largest=False)[0]) == {0, 4}
    with pytest.raises(ValueError, match="n_instances"):
        select_top(scores, 6, 0)


def test_uncertainty_strategies_pick_the_least_sure(learner):
    learner_, X = learner
    proba = learner_.predict_proba(X)
    idx, _ = uncertainty_sampling(learner_, X, n_instances=5, random_state=0)
    assert set(idx) == set(np.argsort(-uncertainty(proba))[:5])
    idx, _ = margin_sampling(learner_, X, n_instances=5, random_state=0)
    assert set(idx) == set(np.argsort(margin(proba))[:5])
    idx, _ = entropy_sampling(learner_, X, n_instances=5, random_state=0)
    assert set(idx) == set(np.argsort(-entropy(proba))[:5])


def test_decision_function_measure_ranks_by_distance_to_the_boundary():
    X, y = make_classification(n_samples=200, n_features=4, random_state=3)
    svc = SVC().fit(X[:100], y[:100])
    assert not hasattr(svc, "predict_proba")
    idx, _ = uncertainty_sampling(svc, X[100:], n_instances=10, random_state=0)
    assert set(idx) == set(np.argsort(np.abs(svc.decision_function(X[100:])))[:10])
    X3, y3 = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                                 random_state=0)
    p = copy_proba(SVC().fit(X3, y3), X3)
    assert p.shape == (300, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_copy_proba_needs_scores():
    class Votes:
        def predict(self, X):
            return np.zeros(len(X))

    with pytest.raises(TypeError, match="predict_proba nor decision_function"):
        copy_proba(Votes(), np.zeros((2, 2)))


def test_ranked_batch_matches_modal_reference(learner):
    """Our incremental ranked batch ranks as modAL's quadratic one does."""
    from modAL.batch import ranked_batch

    learner_, X = learner
    pool = X[40:]
    ours, _ = ranked_batch_sampling(learner_, pool, n_instances=8, random_state=0)
    unc = uncertainty(copy_proba(learner_, pool))
    ref, _ = ranked_batch(learner_, pool, unc, 8, "euclidean", None)
    assert np.array_equal(ours, ref)


def test_committee_strategy_on_a_modal_committee(learner):
    from modAL.models import ActiveLearner, Committee

    _, X = learner
    y = (X[:, 0] > 0).astype(int)
    rng = np.random.default_rng(0)
    members = []
    for _ in range(4):
        boot = rng.choice(100, size=100)
        m = ActiveLearner(estimator=DecisionTreeClassifier(random_state=0))
        m.fit(X[boot], y[boot])
        members.append(m)
    committee = Committee(learner_list=members, query_strategy=vote_entropy_sampling)
    idx, rows = committee.query(X[100:], n_instances=5, random_state=0)
    votes = np.column_stack([m.predict(X[100:]) for m in members])
    ve = vote_entropy(votes, [0, 1])
    assert np.all(ve[idx] >= np.sort(ve)[-5] - 1e-12)


def test_random_and_density_strategies_are_seeded(learner):
    learner_, X = learner
    a, _ = random_sampling(learner_, X, n_instances=20, random_state=4)
    b, _ = random_sampling(learner_, X, n_instances=20, random_state=4)
    assert np.array_equal(a, b) and np.unique(a).size == 20
    a, _ = density_weighted_sampling(learner_, X, n_instances=5, random_state=4)
    b, _ = density_weighted_sampling(learner_, X, n_instances=5, random_state=4)
    assert np.array_equal(a, b)
