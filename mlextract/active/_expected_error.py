"""Expected error reduction (Roy & McCallum 2001), seeded, with candidate subsampling."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from .._random import check_rng
from ._strategies import copy_proba, entropy, select_top, uncertainty

__all__ = ["expected_error", "expected_error_reduction"]

_LOSSES = {"zero_one": uncertainty, "log": entropy}


def expected_error(estimator, X_train, y_train, x, proba_x, X_eval, *, loss="zero_one",
                   min_proba=0.0):
    """The copy's expected future error if ``x`` were labelled, for each label.

    ``E(x) = Σ_c p(c|x) · Σ_{u ∈ X_eval} L(p_{+(x,c)}(·|u))``, where ``p_{+(x,c)}``
    is a fresh fit of ``estimator`` on the labelled set plus ``(x, c)`` and ``L`` the
    0/1 loss ``1 − max p`` or the log loss (entropy).

    Parameters
    ----------
    estimator : classifier
        Cloned for every refit (never modified).
    X_train, y_train : arrays
        The labelled set.
    x : ndarray of shape (d,)
    proba_x : ndarray of shape (n_classes,)
        The current copy's ``p(c|x)``, in the order of ``estimator.classes_``.
    X_eval : ndarray of shape (m, d)
        The unlabelled points the future error is measured on.
    loss : {"zero_one", "log"}
    min_proba : float, default=0.0
        Labels with ``p(c|x) <= min_proba`` are not refitted (their terms are
        dropped; with the 0/1 loss that lowers ``E(x)`` by at most
        ``Σ_skipped p(c|x) · len(X_eval)``).

    Returns
    -------
    float
    """
    measure = _LOSSES[loss]
    classes = np.asarray(estimator.classes_)
    X_plus = np.vstack([X_train, x[None, :]])
    risk = 0.0
    for c, p_c in zip(classes, proba_x):
        if p_c <= min_proba:
            continue
        refit = clone(estimator).fit(X_plus, np.append(y_train, c))
        risk += p_c * float(np.sum(measure(copy_proba(refit, X_eval))))
    return risk


def expected_error_reduction(
    learner,
    X,
    n_instances=1,
    random_state=None,
    *,
    n_candidates=20,
    n_eval=200,
    loss="zero_one",
    fill=None,
    min_proba=0.0,
):
    """Query the candidates whose labels would most reduce the copy's expected error.

    Roy & McCallum's strategy: for each candidate ``x`` and each label ``c``, refit
    the copy on the labelled set plus ``(x, c)`` and measure its expected loss on
    the unlabelled points; weight by the copy's ``p(c|x)``; query the smallest.
    Every refit starts from the labelled set (no stale refits), and to keep the
    cost at ``n_candidates × n_classes`` fits per query the candidates and the
    evaluation points are random subsamples of ``X``, drawn with ``random_state``.

    Parameters
    ----------
    learner : modAL ActiveLearner
        Its ``estimator`` (fitted) and ``X_training``/``y_training``.
    X : ndarray of shape (n, d)
        The unlabelled candidates.
    n_instances : int, default=1
        Points to return (the best ``n_instances`` of the subsample).
    random_state : int or Generator
    n_candidates : int, default=20
        Candidates scored (at least ``n_instances``).
    n_eval : int, default=200
        Unlabelled points the expected error is measured on.
    loss : {"zero_one", "log"}, default="zero_one"
    fill : {None, "uncertainty"}, default=None
        None: score a random subsample of ``max(n_candidates, n_instances)``
        candidates. ``"uncertainty"``: score the ``n_candidates`` candidates the
        copy is least sure of (ties at random) and, when ``n_instances`` is larger,
        follow the scored ones with the next least sure (their "risk" is returned
        as NaN). The cost per call is then ``n_candidates × n_classes`` fits
        whatever the batch size.
    min_proba : float, default=0.0
        Labels with ``p(c|x) <= min_proba`` are not refitted (see
        :func:`expected_error`).

    Returns
    -------
    (indices, risks) : tuple of ndarrays
        Indices into ``X`` and the expected errors, smallest first.

    Notes
    -----
    Cost per call: ``max(n_candidates, n_instances) × n_classes`` fits of the copy
    and as many predictions on ``n_eval`` points; with ``fill="uncertainty"``,
    ``n_candidates × n_classes`` whatever the batch (fewer with ``min_proba``).
    modAL's ``expected_error_reduction`` fits ``n × n_classes`` models and, from
    the second candidate on, scores a model refitted on the previous candidate's
    data; it also fails to import on numpy ≥ 1.24.

    References
    ----------
    .. [1] N. Roy, A. McCallum. "Toward Optimal Active Learning through Sampling
       Estimation of Error Reduction". ICML 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from modAL.models import ActiveLearner
    >>> X = np.linspace(-1, 1, 41)[:, None]
    >>> learner = ActiveLearner(LogisticRegression(), X_training=X[[0, -1]],
    ...                         y_training=np.array([0, 1]))
    >>> idx, risk = expected_error_reduction(learner, X, random_state=0)
    >>> idx.shape
    (1,)
    """
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {sorted(_LOSSES)}; got {loss!r}.")
    if fill not in (None, "uncertainty"):
        raise ValueError(f"fill must be None or 'uncertainty'; got {fill!r}.")
    if not 0.0 <= min_proba < 1.0:
        raise ValueError(f"min_proba must be in [0, 1); got {min_proba!r}.")
    n = X.shape[0]
    if not 1 <= n_instances <= n:
        raise ValueError(f"n_instances must be in [1, {n}] (the candidates); got {n_instances}.")
    X_train = getattr(learner, "X_training", None)
    y_train = getattr(learner, "y_training", None)
    if X_train is None or len(X_train) == 0:
        raise ValueError("expected error reduction needs a labelled set (learner.X_training).")
    rng = check_rng(random_state)
    estimator = learner.estimator
    if fill is None:
        cand = rng.choice(n, size=min(n, max(n_candidates, n_instances)), replace=False)
        rest = np.empty(0, dtype=int)
    else:
        ranked, _ = select_top(uncertainty(copy_proba(estimator, X)), n, rng)
        cand, rest = ranked[:n_candidates], ranked[n_candidates:n_instances]
    evals = X[rng.choice(n, size=min(n, n_eval), replace=False)]
    proba = copy_proba(estimator, X[cand])
    risks = np.array([
        expected_error(estimator, X_train, y_train, X[i], p, evals, loss=loss,
                       min_proba=min_proba)
        for i, p in zip(cand, proba)
    ])
    order, best = select_top(risks, min(n_instances, cand.size), rng, largest=False)
    return (np.concatenate([cand[order], rest]),
            np.concatenate([best, np.full(rest.size, np.nan)]))
