"""Query strategies: a measure scores candidates, a selector picks the best, seeded.

Every strategy has modAL's query-strategy signature,
``strategy(learner, X, n_instances=1, random_state=None, **kwargs)``, and returns
``(indices, scores)`` (the indices into ``X`` and the chosen rows' scores), so it
can be handed to a modAL ``ActiveLearner`` or ``Committee`` as ``query_strategy``.
Unlike modAL's selectors, ties are broken by ``random_state`` (a numpy Generator or
seed), never by the global ``np.random``.

Copies without ``predict_proba`` (``SVC()``) are scored through
``decision_function``: :func:`copy_proba` turns decision values into a
probability-like vector (a logistic sigmoid for two classes, a softmax otherwise),
so that every measure ranks points by their distance to the copy's boundary.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, softmax, xlogy
from sklearn.metrics import pairwise_distances, pairwise_distances_argmin_min

from .._random import check_rng

__all__ = [
    "STRATEGIES",
    "COMMITTEE_STRATEGIES",
    "consensus_entropy",
    "consensus_entropy_sampling",
    "copy_proba",
    "density_weighted_sampling",
    "entropy",
    "entropy_sampling",
    "information_density",
    "kl_max_disagreement",
    "make_strategy",
    "margin",
    "margin_sampling",
    "max_disagreement_sampling",
    "random_sampling",
    "ranked_batch_sampling",
    "select_top",
    "uncertainty",
    "uncertainty_sampling",
    "vote_entropy",
    "vote_entropy_sampling",
]


# ----------------------------------------------------------------- probabilities
def _estimator(model):
    """The scikit-learn estimator inside a modAL learner (or the model itself)."""
    return getattr(model, "estimator", model)


def copy_proba(model, X) -> np.ndarray:
    """Class probabilities of a copy, or a stand-in from its decision function.

    Parameters
    ----------
    model : estimator or modAL learner
        A fitted classifier with ``predict_proba`` or ``decision_function``.
    X : ndarray of shape (n, d)

    Returns
    -------
    ndarray of shape (n, n_classes)
        ``predict_proba(X)``; without it, ``[1 − σ(f), σ(f)]`` for a binary decision
        function ``f`` and ``softmax(f)`` for one column per class.
    """
    est = _estimator(model)
    if hasattr(est, "predict_proba"):
        return np.asarray(est.predict_proba(X), dtype=np.float64)
    if hasattr(est, "decision_function"):
        f = np.asarray(est.decision_function(X), dtype=np.float64)
        if f.ndim == 1 or f.shape[1] == 1:
            p = expit(f.reshape(-1))
            return np.column_stack([1.0 - p, p])
        return softmax(f, axis=1)
    raise TypeError(
        f"{type(est).__name__} has neither predict_proba nor decision_function; "
        "uncertainty strategies need one of them (use strategy='random' or a "
        "committee strategy based on votes)."
    )


# ---------------------------------------------------------------------- measures
def uncertainty(proba) -> np.ndarray:
    """Least confidence ``1 − max_c p(c|x)``; larger is more informative."""
    return 1.0 - np.max(proba, axis=1)


def margin(proba) -> np.ndarray:
    """``p(ĉ1|x) − p(ĉ2|x)`` of the two likeliest classes; smaller is more informative."""
    if proba.shape[1] < 2:
        return np.zeros(proba.shape[0])
    top = np.partition(proba, -2, axis=1)
    return top[:, -1] - top[:, -2]


def entropy(proba) -> np.ndarray:
    """Shannon entropy ``−Σ_c p(c|x) log p(c|x)`` (nats); larger is more informative."""
    return -np.sum(xlogy(proba, proba), axis=1)


def vote_entropy(votes, classes) -> np.ndarray:
    """Entropy of the committee's vote shares (Dagan & Engelson 1995).

    ``votes`` has shape (n, n_members): each member's predicted label.
    """
    votes = np.asarray(votes)
    shares = np.stack([(votes == c).mean(axis=1) for c in classes], axis=1)
    return entropy(shares)


def consensus_entropy(member_proba) -> np.ndarray:
    """Entropy of the members' mean probability vector; ``member_proba`` (m, n, k)."""
    return entropy(np.mean(member_proba, axis=0))


def kl_max_disagreement(member_proba) -> np.ndarray:
    """Largest KL divergence of a member from the consensus (McCallum & Nigam 1998)."""
    consensus = np.mean(member_proba, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(member_proba > 0, np.log(member_proba / consensus), 0.0)
    kl = np.sum(member_proba * log_ratio, axis=2)
    return np.max(kl, axis=0)


def information_density(X, reference, *, metric="euclidean") -> np.ndarray:
    """Mean similarity ``1/(1 + dist(x, r))`` of each row of ``X`` to ``reference``.

    Settles & Craven (2008) weight a point's informativeness by how representative
    it is of the pool; the mean is over ``reference`` (a sample of the pool) instead
    of the whole pool, so the cost is linear in the pool size.
    """
    return np.mean(1.0 / (1.0 + pairwise_distances(X, reference, metric=metric)), axis=1)


# ---------------------------------------------------------------------- selector
def select_top(scores, n_instances, random_state=None, *, largest=True):
    """Indices of the ``n_instances`` best scores, ties broken at random.

    Returns
    -------
    (indices, scores) : tuple of ndarrays
        Best first.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n = scores.shape[0]
    if not 1 <= n_instances <= n:
        raise ValueError(f"n_instances must be in [1, {n}] (the candidates); got {n_instances}.")
    rng = check_rng(random_state)
    key = -scores if largest else scores
    order = np.lexsort((rng.random(n), key))[:n_instances]
    return order, scores[order]


def make_strategy(measure, *, largest=True):
    """A query strategy from a measure of the copy's probabilities and a selector.

    Parameters
    ----------
    measure : callable
        ``measure(proba) -> scores`` of shape (n,).
    largest : bool, default=True
        Pick the largest scores (False: the smallest, as for :func:`margin`).

    Examples
    --------
    >>> strategy = make_strategy(margin, largest=False)
    """

    def strategy(learner, X, n_instances=1, random_state=None):
        return select_top(
            measure(copy_proba(learner, X)), n_instances, random_state, largest=largest
        )

    strategy.__name__ = f"{measure.__name__}_sampling"
    strategy.__doc__ = f"Query the points with the {'largest' if largest else 'smallest'} " \
        f"{measure.__name__} of the copy."
    return strategy


uncertainty_sampling = make_strategy(uncertainty)
margin_sampling = make_strategy(margin, largest=False)
entropy_sampling = make_strategy(entropy)


def random_sampling(learner, X, n_instances=1, random_state=None):
    """Passive learning: ``n_instances`` candidates uniformly without replacement."""
    n = X.shape[0]
    if not 1 <= n_instances <= n:
        raise ValueError(f"n_instances must be in [1, {n}] (the candidates); got {n_instances}.")
    idx = check_rng(random_state).choice(n, size=n_instances, replace=False)
    return idx, np.zeros(n_instances)


def density_weighted_sampling(
    learner, X, n_instances=1, random_state=None, *, reference=None, beta=1.0
):
    """Information density × uncertainty: ``(1 − max_c p(c|x)) · density(x)^β``.

    ``reference`` is the sample of the pool that density is measured against
    (default: up to 1,000 rows of ``X``, drawn with ``random_state``).
    """
    rng = check_rng(random_state)
    if reference is None:
        m = min(1000, X.shape[0])
        reference = X[rng.choice(X.shape[0], size=m, replace=False)]
    score = uncertainty(copy_proba(learner, X)) * information_density(X, reference) ** beta
    return select_top(score, n_instances, rng)


def ranked_batch_sampling(
    learner, X, n_instances=1, random_state=None, *, n_unlabelled=None, metric="euclidean"
):
    """Ranked batch mode (Cardoso et al. 2017): uncertainty balanced by novelty.

    Points are ranked one after the other; each pick maximises
    ``α·(1 − 1/(1 + d_min(x))) + (1 − α)·u(x)``, where ``u`` is the copy's least
    confidence, ``d_min`` the distance to the nearest labelled or already-ranked
    point, and ``α = |U| / (|U| + |D|)`` with ``|U|`` the unlabelled and ``|D|`` the
    labelled-or-ranked counts. ``d_min`` is updated with each pick rather than
    recomputed (linear in the candidates per pick).

    Parameters
    ----------
    learner : modAL ActiveLearner
        Its ``X_training`` is the labelled set.
    n_unlabelled : int, default=None
        ``|U|`` for α: the size of the whole unlabelled pool when ``X`` is a
        subsample of it (default ``len(X)``).
    """
    rng = check_rng(random_state)
    n = X.shape[0]
    if not 1 <= n_instances <= n:
        raise ValueError(f"n_instances must be in [1, {n}] (the candidates); got {n_instances}.")
    unc = uncertainty(copy_proba(learner, X))
    labelled = getattr(learner, "X_training", None)
    if labelled is None or len(labelled) == 0:
        raise ValueError("ranked batch mode needs a labelled set (learner.X_training).")
    _, d_min = pairwise_distances_argmin_min(X, labelled, metric=metric)
    n_lab = labelled.shape[0]
    n_unl = n if n_unlabelled is None else int(n_unlabelled)
    free = np.ones(n, dtype=bool)
    tie = rng.random(n)
    chosen, chosen_scores = [], []
    for t in range(n_instances):
        alpha = (n_unl - t) / ((n_unl - t) + (n_lab + t))
        score = alpha * (1.0 - 1.0 / (1.0 + d_min)) + (1.0 - alpha) * unc
        score = np.where(free, score, -np.inf)
        best = np.lexsort((tie, -score))[0]
        chosen.append(best)
        chosen_scores.append(score[best])
        free[best] = False
        d_new = pairwise_distances(X, X[best : best + 1], metric=metric)[:, 0]
        d_min = np.minimum(d_min, d_new)
    return np.asarray(chosen), np.asarray(chosen_scores)


# ---------------------------------------------------------------- committees
def _member_proba(committee, X):
    """(n_members, n, k) probabilities of each member, aligned on the union of classes."""
    members = [_estimator(m) for m in committee]
    classes = np.unique(np.concatenate([np.asarray(m.classes_) for m in members]))
    out = np.zeros((len(members), X.shape[0], classes.size))
    for i, m in enumerate(members):
        cols = np.searchsorted(classes, np.asarray(m.classes_))
        out[i][:, cols] = copy_proba(m, X)
    return out, classes


def vote_entropy_sampling(committee, X, n_instances=1, random_state=None):
    """Query by committee: the points whose members' votes are most split."""
    members = [_estimator(m) for m in committee]
    votes = np.column_stack([m.predict(X) for m in members])
    classes = np.unique(np.concatenate([np.asarray(m.classes_) for m in members]))
    return select_top(vote_entropy(votes, classes), n_instances, random_state)


def consensus_entropy_sampling(committee, X, n_instances=1, random_state=None):
    """Query by committee: the points whose consensus probability is most uncertain."""
    proba, _ = _member_proba(committee, X)
    return select_top(consensus_entropy(proba), n_instances, random_state)


def max_disagreement_sampling(committee, X, n_instances=1, random_state=None):
    """Query by committee: the points where a member departs most from the consensus."""
    proba, _ = _member_proba(committee, X)
    return select_top(kl_max_disagreement(proba), n_instances, random_state)


#: Strategies scored with the copy alone.
STRATEGIES = {
    "uncertainty": uncertainty_sampling,
    "margin": margin_sampling,
    "entropy": entropy_sampling,
    "ranked_batch": ranked_batch_sampling,
    "density_uncertainty": density_weighted_sampling,
    "random": random_sampling,
}

#: Strategies scored with a committee of copies fitted on bootstrap samples.
COMMITTEE_STRATEGIES = {
    "vote_entropy": vote_entropy_sampling,
    "consensus_entropy": consensus_entropy_sampling,
    "kl_max_disagreement": max_disagreement_sampling,
}
