"""Active extraction: a modAL learner whose labels come from the victim.

Chandrasekaran et al. (2020) show that model extraction is active learning with the
victim as the labeller: the attacker's natural data is a pool, a free-input API is
query synthesis, and Tramèr's uniform retraining is passive learning.
"""

from __future__ import annotations

import numbers
from functools import partial

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import pairwise_distances

from .._exceptions import BudgetExhausted
from ..active import (
    COMMITTEE_STRATEGIES,
    STRATEGIES,
    expected_error_reduction,
    install,
)
from ._base import Attack, Run
from ._registry import register
from ._retraining import answers_to_targets

__all__ = ["ActiveExtraction", "boundary_points"]

#: Every strategy name the attack accepts.
STRATEGY_NAMES = (*STRATEGIES, *COMMITTEE_STRATEGIES, "expected_error")


def _seeded(model, rng):
    """A clone of ``model`` whose unset ``random_state`` parameters are seeded."""
    model = clone(model)
    unset = {
        k: int(rng.integers(2**31 - 1))
        for k, v in model.get_params(deep=True).items()
        if (k == "random_state" or k.endswith("__random_state")) and v is None
    }
    return model.set_params(**unset) if unset else model


def _stratified_bootstrap(y, rng):
    """Bootstrap indices that draw each class's rows from that class (no class lost)."""
    idx = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        idx.append(rng.choice(rows, size=rows.size, replace=True))
    return np.concatenate(idx)


def boundary_points(copy, X, X_labelled, *, domain=None, n_steps=12):
    """Synthesise points on the copy's decision boundary near each row of ``X``.

    For each ``x``, take the nearest labelled point that the copy labels
    differently and bisect the segment between them on the copy's predictions
    (``n_steps`` halvings, no query to the victim); return the middle of the final
    bracket, projected onto ``domain`` when given. Rows with no such labelled point
    are returned unchanged.

    Parameters
    ----------
    copy : fitted classifier
    X : ndarray of shape (n, d)
    X_labelled : ndarray of shape (m, d)
    domain : Domain, default=None
    n_steps : int, default=12

    Returns
    -------
    ndarray of shape (n, d)
    """
    X = np.asarray(X, dtype=np.float64)
    own = copy.predict(X)
    other = copy.predict(X_labelled)
    dist = pairwise_distances(X, X_labelled)
    dist[own[:, None] == other[None, :]] = np.inf
    has = np.isfinite(dist).any(axis=1)
    out = X.copy()
    if has.any():
        lo = X[has].copy()
        hi = X_labelled[np.argmin(dist[has], axis=1)].copy()
        side = own[has]
        for _ in range(n_steps):
            mid = 0.5 * (lo + hi)
            same = copy.predict(mid) == side
            lo[same] = mid[same]
            hi[~same] = mid[~same]
        out[has] = 0.5 * (lo + hi)
    return out if domain is None else domain.project(out)


def _positive_int(value, name, low=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")


@register
class ActiveExtraction(Attack):
    """Pool-based active learning with the victim as the labelling oracle.

    A modAL ``ActiveLearner`` holds the copy. It is seeded with ``n_initial``
    random candidates; then, round after round, a query strategy picks the
    ``batch_size`` most informative candidates, the victim labels them (each label
    a counted query) and the copy is refitted, until ``n_queries`` are spent.

    Candidates are the attacker's natural data (``pool``), ``n_uniform`` points
    drawn uniformly from the oracle's domain, or both. With ``synthesis > 0``, that
    fraction of each batch is replaced by points synthesised on the current copy's
    boundary near the chosen candidates (query synthesis on top of the pool
    strategy; needs a domain to project onto).

    Parameters
    ----------
    strategy : str or callable, default="uncertainty"
        ``"uncertainty"``, ``"margin"``, ``"entropy"`` (the copy's probabilities, or
        its decision function when it has no ``predict_proba``); query by
        committee ``"vote_entropy"``, ``"consensus_entropy"``,
        ``"kl_max_disagreement"`` (``n_committee`` copies fitted on stratified
        bootstrap samples of the labelled set); ``"ranked_batch"`` (Cardoso et
        al.); ``"density_uncertainty"`` (information density × uncertainty);
        ``"expected_error"`` (:func:`mlextract.active.expected_error_reduction`);
        ``"random"`` (passive learning, the baseline). Or a modAL query strategy
        ``f(learner, X, n_instances=, random_state=) -> (indices, scores)``.
    model : classifier, default=None
        The copy's family (cloned; unset ``random_state`` parameters are seeded).
        Default ``LogisticRegression(max_iter=1000)``.
    pool : array-like of shape (n, d), default=None
        The attacker's unlabelled natural data.
    n_uniform : int, default=0
        Uniform points of the domain added to the candidates.
    n_queries : int, default=1000
        Label queries to spend (fewer if the run's budget or the pool is smaller).
    n_initial : int, default=10
        Random candidates labelled first. More are drawn, ``n_initial`` at a
        time, until two classes are seen.
    batch_size : int or float, default=10
        Queries per round; a float in (0, 1] is a fraction of the labelled set
        (rounds grow geometrically, refits stay few).
    n_committee : int, default=5
        Committee size of the query-by-committee strategies.
    n_candidates : int or None, default=10000
        Candidates scored per round: a random subsample of the unlabelled ones
        (None: all).
    synthesis : float, default=0.0
        Fraction of each batch replaced by synthesised boundary points.
    n_scored : int, default=20
        ``"expected_error"`` only: candidates the copy is refitted for per round
        (the ones it is least sure of, each with every label of probability above
        1%); a larger batch is completed in the copy's uncertainty order, so the
        cost per round stays ``n_scored × n_classes`` fits.
    n_fresh : int, default=0
        Uniform points of the domain drawn afresh every round and scored with the
        unlabelled candidates (query synthesis: the attacker may ask any point of
        the domain, not only its pool). Needs a domain.
    callback : callable, default=None
        ``callback(n_queries, model)`` after each refit; a true return value stops
        the run (for learning curves and early stopping).
    random_state : int, Generator or None
        Seeds the seed set, subsampling, tie-breaks, bootstraps and the copy.

    Notes
    -----
    Passive learning of a class of VC dimension d needs Θ(d/ε) labels for
    disagreement ε; active learning needs O(θ·d·log(1/ε)) with θ the disagreement
    coefficient (Hanneke), and Θ(d log 1/ε) for halfspaces with query synthesis
    (Chandrasekaran et al. 2020). The seed set needs ``n_initial`` queries: a run
    budget of 0 ends with status ``"budget_exhausted"``, a positive budget below
    ``n_initial`` is a ``ValueError``.

    References
    ----------
    .. [1] V. Chandrasekaran, K. Chaudhuri, I. Giacomelli, S. Jha, S. Yan.
       "Exploring Connections Between Active Learning and Model Extraction".
       USENIX Security 2020.
    .. [2] B. Settles. "Active Learning Literature Survey". 2009.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> X, y = make_classification(n_samples=400, n_features=4, random_state=0)
    >>> oracle = LocalOracle(LogisticRegression().fit(X[:200], y[:200]),
    ...                      output="label", domain=Domain.from_data(X))
    >>> attack = ActiveExtraction(strategy="uncertainty", pool=X[200:], n_queries=40,
    ...                           random_state=0)
    >>> result = attack.extract(oracle)
    >>> result.n_queries, result.status
    (40, 'success')
    """

    name = "active_extraction"
    outputs = ("label", "proba", "logit")

    def __init__(
        self,
        *,
        strategy="uncertainty",
        model=None,
        pool=None,
        n_uniform=0,
        n_queries=1000,
        n_initial=10,
        batch_size=10,
        n_committee=5,
        n_candidates=10_000,
        synthesis=0.0,
        n_scored=20,
        n_fresh=0,
        callback=None,
        random_state=None,
    ):
        self.strategy = strategy
        self.model = model
        self.pool = pool
        self.n_uniform = n_uniform
        self.n_queries = n_queries
        self.n_initial = n_initial
        self.batch_size = batch_size
        self.n_committee = n_committee
        self.n_candidates = n_candidates
        self.synthesis = synthesis
        self.n_scored = n_scored
        self.n_fresh = n_fresh
        self.callback = callback
        self.random_state = random_state

    # ---------------------------------------------------------------- checks
    def _validate_params(self):
        if not callable(self.strategy) and self.strategy not in STRATEGY_NAMES:
            raise ValueError(
                f"strategy must be one of {list(STRATEGY_NAMES)} or a callable; got "
                f"{self.strategy!r}."
            )
        _positive_int(self.n_queries, "n_queries")
        _positive_int(self.n_initial, "n_initial")
        _positive_int(self.n_uniform, "n_uniform", 0)
        _positive_int(self.n_committee, "n_committee", 2)
        _positive_int(self.n_fresh, "n_fresh", 0)
        _positive_int(self.n_scored, "n_scored")
        if self.n_candidates is not None:
            _positive_int(self.n_candidates, "n_candidates")
        b = self.batch_size
        if isinstance(b, bool) or not (
            (isinstance(b, numbers.Integral) and b >= 1)
            or (isinstance(b, float) and 0 < b <= 1)
        ):
            raise ValueError(
                f"batch_size must be an integer >= 1 or a fraction in (0, 1]; got {b!r}."
            )
        if not isinstance(self.synthesis, numbers.Real) or not 0 <= self.synthesis <= 1:
            raise ValueError(f"synthesis must be a fraction in [0, 1]; got {self.synthesis!r}.")
        model = self.model
        if model is not None and not (hasattr(model, "fit") and is_classifier(model)):
            raise ValueError(f"model must be a scikit-learn classifier; got {self.model!r}.")
        if self.callback is not None and not callable(self.callback):
            raise ValueError(f"callback must be callable; got {self.callback!r}.")
        if self.pool is None and self.n_uniform == 0:
            raise ValueError(
                "no candidates to query: give pool= (the attacker's data) or n_uniform > 0 "
                "(uniform points of the oracle's domain)."
            )
        if self.pool is not None:
            pool = self._pool_array()
            if pool.ndim != 2 or pool.shape[0] == 0:
                raise ValueError(
                    f"pool must be a non-empty 2-D array (n_samples, n_features); got shape "
                    f"{pool.shape}."
                )
            if not np.all(np.isfinite(pool)):
                raise ValueError("pool contains NaN or inf; candidates must be finite.")

    def _pool_array(self):
        try:
            return np.asarray(self.pool, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"pool must be numeric; got {exc}.") from exc

    def _check_oracle(self, oracle):
        d = oracle.n_features
        if self.pool is not None:
            pool = self._pool_array()
            if d is not None and pool.shape[1] != d:
                raise ValueError(
                    f"pool has {pool.shape[1]} features, but the oracle expects {d}."
                )
            dom = oracle.domain
            if dom is not None and dom.closed:
                inside = dom.contains(pool)
                if not inside.all():
                    bad = np.flatnonzero(~inside)
                    raise ValueError(
                        f"{bad.size} pool rows lie outside the oracle's domain (first: row "
                        f"{bad[0]}); the victim would refuse them. Use domain.project(pool)."
                    )
        if (self.n_uniform or self.synthesis or self.n_fresh) and oracle.domain is None:
            raise ValueError(
                "n_uniform, n_fresh and synthesis draw points of the oracle's domain, and this "
                "oracle has none; build it with domain=Domain(...) or Domain.from_data(X)."
            )

    # ---------------------------------------------------------------- phases
    def _candidates(self, oracle, rng):
        parts = []
        if self.pool is not None:
            parts.append(self._pool_array())
        if self.n_uniform:
            parts.append(oracle.domain.sample(self.n_uniform, random_state=rng))
        return np.vstack(parts)

    def _label(self, oracle, X, phase):
        return answers_to_targets(oracle.query(X, phase=phase), oracle)

    def _seed_set(self, run, cand, free, n):
        """Label random candidates until two classes are seen (or budget/pool end)."""
        Xs, ys = [], []
        used = 0
        while used < n and free.any():
            k = min(self.n_initial, n - used, int(free.sum()))
            pick = run.rng.choice(np.flatnonzero(free), size=k, replace=False)
            free[pick] = False
            Xs.append(cand[pick])
            ys.append(self._label(run.oracle, cand[pick], "seed"))
            used += k
            if np.unique(np.concatenate(ys)).size >= 2:
                break
        return np.vstack(Xs), np.concatenate(ys)

    def _batch(self, n_labelled):
        b = self.batch_size
        if isinstance(b, float):
            return max(1, int(np.ceil(b * n_labelled)))
        return int(b)

    def _committee(self, model, X, y, rng):
        from modAL.models import ActiveLearner, Committee

        members = []
        for _ in range(self.n_committee):
            boot = _stratified_bootstrap(y, rng)
            member = ActiveLearner(estimator=_seeded(model, rng))
            member.fit(X[boot], y[boot])
            members.append(member)
        return Committee(learner_list=members, query_strategy=COMMITTEE_STRATEGIES[self.strategy])

    def _select(self, learner, model, cand, free, k, run, reference):
        """The next ``k`` queries, best first, and which of them are pool rows.

        Returns ``(X, pool_idx)``: the rows to ask, and the indices (into ``cand``)
        of those that come from the pool (the others are fresh uniform points).
        """
        rng = run.rng
        idx = np.flatnonzero(free)
        if self.n_candidates is not None and idx.size > self.n_candidates:
            idx = np.sort(rng.choice(idx, size=self.n_candidates, replace=False))
        Xc = cand[idx]
        if self.n_fresh:
            Xc = np.vstack([Xc, run.oracle.domain.sample(self.n_fresh, random_state=rng)])
        k = min(k, Xc.shape[0])
        if self.strategy in COMMITTEE_STRATEGIES:
            committee = self._committee(model, learner.X_training, learner.y_training, rng)
            picked, _ = committee.query(Xc, n_instances=k, random_state=rng)
        else:
            kwargs = {}
            if self.strategy == "ranked_batch":
                kwargs["n_unlabelled"] = int(free.sum()) + int(self.n_fresh)
            elif self.strategy == "density_uncertainty":
                kwargs["reference"] = reference
            picked, _ = learner.query(Xc, n_instances=k, random_state=rng, **kwargs)
        picked = np.asarray(picked, dtype=int)
        return Xc[picked], idx[picked[picked < idx.size]]

    def _extract(self, run: Run) -> None:
        from modAL.models import ActiveLearner

        run.info["modal_repairs"] = sorted(install())
        oracle, rng = run.oracle, run.rng
        left = run.remaining()
        n = int(self.n_queries) if left is None else min(int(self.n_queries), left)
        if n == 0:
            raise BudgetExhausted(
                "the run's budget allows no query; active extraction needs at least the "
                f"seed set of n_initial={self.n_initial}.",
                requested=int(self.n_initial),
                remaining=0,
            )
        if n < self.n_initial:
            raise ValueError(
                f"the budget allows {n} queries, fewer than the seed set n_initial="
                f"{self.n_initial}; raise the budget or lower n_initial."
            )
        model = LogisticRegression(max_iter=1000) if self.model is None else self.model
        model = _seeded(model, rng)
        cand = self._candidates(oracle, rng)
        free = np.ones(cand.shape[0], dtype=bool)
        reference = None
        if self.strategy == "density_uncertainty":
            m = min(1000, cand.shape[0])
            reference = cand[rng.choice(cand.shape[0], size=m, replace=False)]
        X0, y0 = self._seed_set(run, cand, free, n)
        used = X0.shape[0]
        run.info.update(strategy=getattr(self.strategy, "__name__", self.strategy),
                        n_seed=used, n_candidates_total=int(cand.shape[0]))
        if np.unique(y0).size < 2:
            run.model = DummyClassifier(strategy="most_frequent").fit(X0, y0)
            run.status = "approximate"
            run.message = (
                f"all {used} labelled candidates were one class ({y0[0]!r}); the copy is a "
                "constant. Give a pool that covers more than one class."
            )
            return
        if callable(self.strategy):
            query_strategy = self.strategy
        elif self.strategy == "expected_error":
            query_strategy = partial(expected_error_reduction, n_candidates=self.n_scored,
                                     fill="uncertainty", min_proba=0.01)
        else:
            query_strategy = STRATEGIES.get(self.strategy, STRATEGIES["uncertainty"])
        learner = ActiveLearner(
            estimator=model, query_strategy=query_strategy, X_training=X0, y_training=y0
        )
        run.model = learner.estimator
        n_rounds = n_synth = 0
        stopped = self.callback is not None and bool(self.callback(used, run.model))
        while not stopped and used < n and (free.any() or self.n_fresh):
            k = min(self._batch(used), n - used, int(free.sum()) + int(self.n_fresh))
            Xq, from_pool = self._select(learner, model, cand, free, k, run, reference)
            free[from_pool] = False
            m = int(round(self.synthesis * Xq.shape[0]))
            if m:
                Xq = Xq.copy()
                Xq[:m] = boundary_points(
                    learner.estimator, Xq[:m], learner.X_training, domain=oracle.domain
                )
                n_synth += m
            phase = run.info["strategy"] if callable(self.strategy) else self.strategy
            y = self._label(oracle, Xq, phase)
            learner.teach(Xq, y)
            run.model = learner.estimator
            used += Xq.shape[0]
            n_rounds += 1
            if self.callback is not None and self.callback(used, run.model):
                stopped = True
        run.info.update(n_rounds=n_rounds, n_synthesised=n_synth, n_labelled=used)
        if stopped:
            run.message = f"stopped by the callback after {used} queries."
        elif used < self.n_queries and not free.any() and not self.n_fresh:
            run.message = (
                f"every one of the {cand.shape[0]} candidates is labelled after {used} "
                "queries; the copy is fitted on all of them."
            )
        elif used < self.n_queries:
            run.status = "budget_exhausted"
            run.message = (
                f"the budget allowed {used} of the {self.n_queries} queries; the copy is "
                "fitted on those."
            )
