"""Retraining: label queries, then an ordinary fit (Tramèr et al. 2016, §6)."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from ..oracles import labels_from_scores
from ._base import Attack, Run
from ._copy_models import SearchedSVC, copy_boundary_points
from ._registry import register

__all__ = ["Retraining", "answers_to_targets", "STRATEGIES"]

#: Where Retraining's queries come from.
STRATEGIES = ("uniform", "line_search", "adaptive")


def answers_to_targets(answers, oracle):
    """Training targets from an oracle's answers: labels, or regression values."""
    if oracle.output in ("label", "value"):
        return np.asarray(answers)
    return labels_from_scores(answers, oracle.classes_, oracle.output)


def fit_copy(model, X, y, *, regression: bool):
    """Fit a clone of ``model``; a classifier shown one class becomes a constant."""
    if not regression and np.unique(y).size < 2:
        return DummyClassifier(strategy="most_frequent").fit(X, y), False
    return clone(model).fit(X, y), True


@register
class Retraining(Attack):
    """Query points of the domain, then train a copy on the victim's labels.

    Tramèr et al.'s retraining (§6.2), with their three ways of choosing the
    queries for a budget of ``α·k`` labels (k = the copy's parameter count):

    * ``"uniform"``: points drawn uniformly from the oracle's published domain —
      the passive baseline.
    * ``"line_search"``: a quarter of the budget on uniform points, the rest on
      binary searches between differently labelled points, which put queries on
      the victim's boundary.
    * ``"adaptive"``: ``n_rounds`` rounds; the first is uniform, each later round
      fits the copy and spends ``boundary_fraction`` of its queries on points of
      the *current copy's* boundary (found by bisection on the copy, for free,
      between random pairs it labels differently) and the rest uniformly (Cohn,
      Atlas and Ladner's selective sampling, as Tramèr et al. used it).

    Parameters
    ----------
    n_queries : int, default=1000
        Queries to spend (fewer if the run's budget is smaller).
    alpha : float, default=None
        If given, spend ``ceil(alpha·k)`` queries instead of ``n_queries``, with
        ``k = (d+1)`` for a binary victim and ``c·(d+1)`` for ``c`` classes.
    model : estimator, "rbf", "poly" or None, default=None
        The copy's family, cloned before fitting. Default: ``LogisticRegression``
        for classifiers, ``LinearRegression`` for regressors. ``"rbf"``/``"poly"``
        select a :class:`SearchedSVC`, whose kernel width and C are chosen by
        cross-validation on the extracted data.
    strategy : {"uniform", "line_search", "adaptive"}, default="uniform"
        Where queries come from (see above).
    n_rounds : int, default=10
        Rounds of the adaptive strategy.
    boundary_fraction : float, default=0.9
        Share of each adaptive round spent at the current copy's boundary.
    line_search_tol : float, default=1e-2
        Line searches stop at this fraction of the segment (⌈log2(1/tol)⌉ queries).
    random_state : int, RandomState or None
        Seeds the query points.

    Notes
    -----
    With m uniform queries and a copy of VC dimension d, the passive PAC bound
    (Blumer et al. 1989) gives disagreement at most ε with probability 1−δ once
    m ≥ max(4/ε·log2(2/δ), 8d/ε·log2(13/ε)) — see :mod:`mlextract.theory`. The
    adaptive strategy is active learning with the victim as labeller
    (Chandrasekaran et al. 2020); for halfspaces it needs far fewer labels.
    ``info["rounds"]`` records the queries and, for the adaptive strategy, the
    share of each round's answers the previous copy got wrong (a confidence: it
    shrinks as the copy converges, and stays high when the answers are noisy).

    References
    ----------
    .. [1] F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. "Stealing
       Machine Learning Models via Prediction APIs". USENIX Security 2016.
    .. [2] D. Cohn, L. Atlas, R. Ladner. "Improving generalization with active
       learning". Machine Learning 15(2), 1994.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    >>> oracle = LocalOracle(LogisticRegression().fit(X, y), output="label",
    ...                      domain=Domain.from_data(X))
    >>> result = Retraining(n_queries=300, random_state=0).extract(oracle)
    >>> result.n_queries, result.status
    (300, 'success')
    >>> result = Retraining(alpha=20, strategy="adaptive", random_state=0).extract(oracle)
    >>> result.n_queries
    100
    """

    name = "retraining"
    outputs = ("label", "proba", "logit", "value")

    def __init__(self, *, n_queries=1000, alpha=None, model=None, strategy="uniform",
                 n_rounds=10, boundary_fraction=0.9, line_search_tol=1e-2,
                 random_state=None):
        self.n_queries = n_queries
        self.alpha = alpha
        self.model = model
        self.strategy = strategy
        self.n_rounds = n_rounds
        self.boundary_fraction = boundary_fraction
        self.line_search_tol = line_search_tol
        self.random_state = random_state

    def _validate_params(self):
        if (
            isinstance(self.n_queries, bool)
            or not isinstance(self.n_queries, (int, np.integer))
            or self.n_queries < 1
        ):
            raise ValueError(f"n_queries must be a positive integer; got {self.n_queries!r}.")
        if self.alpha is not None and (
            isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float))
            or not self.alpha > 0
        ):
            raise ValueError(f"alpha must be None or a positive number; got {self.alpha!r}.")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {self.strategy!r}.")
        if isinstance(self.model, str):
            if self.model not in ("rbf", "poly"):
                raise ValueError(
                    f"model must be an estimator, 'rbf', 'poly' or None; got {self.model!r}."
                )
        elif self.model is not None and not hasattr(self.model, "fit"):
            raise ValueError(f"model must be an estimator with fit; got {self.model!r}.")
        r = self.n_rounds
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
            raise ValueError(f"n_rounds must be a positive integer; got {r!r}.")
        if not 0 <= self.boundary_fraction <= 1:
            raise ValueError(
                f"boundary_fraction must be in [0, 1]; got {self.boundary_fraction!r}."
            )
        if not 0 < self.line_search_tol < 1:
            raise ValueError(f"line_search_tol must be in (0, 1); got {self.line_search_tol!r}.")

    def _check_oracle(self, oracle):
        if oracle.domain is None:
            raise ValueError(
                "Retraining samples the oracle's domain, and this oracle has none; "
                "build it with domain=Domain(...) or Domain.from_data(X)."
            )
        if self.strategy != "uniform" and oracle.output == "value":
            raise ValueError(
                f"strategy={self.strategy!r} searches a classifier's boundary; this "
                "oracle answers regression values. Use strategy='uniform'."
            )

    # -- helpers -------------------------------------------------------------
    def _copy_model(self, regression):
        if self.model is None:
            return LinearRegression() if regression else LogisticRegression(max_iter=1000)
        if isinstance(self.model, str):
            return SearchedSVC(kernel=self.model)
        if regression != is_regressor(self.model):
            kind = "regressor" if regression else "classifier"
            raise ValueError(f"the oracle answers a {kind}; the copy model must be one too.")
        return self.model

    def _budget(self, oracle):
        n = int(self.n_queries)
        if self.alpha is not None:
            c = oracle.n_classes or 2
            k = (oracle.n_features + 1) * (1 if c <= 2 else c)
            n = int(np.ceil(self.alpha * k))
        return n

    # -- the run ---------------------------------------------------------------
    def _extract(self, run: Run) -> None:
        oracle = run.oracle
        regression = oracle.output == "value"
        model = self._copy_model(regression)
        target = self._budget(oracle)
        left = run.remaining()
        n = target if left is None else min(target, left)
        run.info.update(n_target=target, strategy=self.strategy)
        if n == 0:  # ask anyway: the oracle reports the exhausted budget
            oracle.query(oracle.domain.sample(1, random_state=run.rng), phase="uniform")
        if self.strategy == "uniform":
            X = oracle.domain.sample(n, random_state=run.rng)
            y = answers_to_targets(oracle.query(X, phase="uniform"), oracle)
            run.model, ok = fit_copy(model, X, y, regression=regression)
            run.info["n_uniform"] = n
        elif self.strategy == "line_search":
            ok = self._line_search(run, model, n)
        else:
            ok = self._adaptive(run, model, n)
        if n < target:
            run.status = "budget_exhausted"
            run.message = (
                f"the budget allowed {n} of the {target} queries; the copy was "
                "fitted on those."
            )
        elif not ok:
            run.status = "approximate"
            run.message = "every answer was the same class; the copy is a constant."

    def _line_search(self, run, model, n):
        oracle, dom = run.oracle, run.oracle.domain
        n0 = max(2, n // 4) if n >= 2 else n
        X = dom.sample(n0, random_state=run.rng)
        y = answers_to_targets(oracle.query(X, phase="uniform"), oracle)
        if np.unique(y).size < 2 and n - n0 >= n0:  # one class: look at the vertices
            Xv = vertex_sample(dom, n0, run.rng)
            X = np.vstack([X, Xv])
            y = np.concatenate([y, answers_to_targets(oracle.query(Xv, phase="vertex"), oracle)])
            n0 *= 2
        steps = int(np.ceil(np.log2(1.0 / self.line_search_tol) - 1e-12))
        left = n - n0
        n_searches = 0
        Xs, ys = [X], [y]
        while left >= steps:
            m = left // steps
            A, B = _different_pairs(X, y, m, run.rng)
            if A is None:  # one class so far: spend what is left uniformly
                break
            ya = y[_row_index(X, A)]
            for _ in range(steps):
                M = dom.project(0.5 * (A + B))
                ym = answers_to_targets(oracle.query(M, phase="line_search"), oracle)
                Xs.append(M)
                ys.append(ym)
                same = ym == ya
                A[same] = M[same]
                B[~same] = M[~same]
            left -= m * steps
            n_searches += m
        if left > 0:
            Xu = dom.sample(left, random_state=run.rng)
            Xs.append(Xu)
            ys.append(answers_to_targets(oracle.query(Xu, phase="uniform"), oracle))
        X, y = np.vstack(Xs), np.concatenate(ys)
        run.model, ok = fit_copy(model, X, y, regression=False)
        run.info.update(n_uniform=n0, n_line_searches=n_searches, steps_per_search=steps)
        return ok

    def _adaptive(self, run, model, n):
        oracle, dom = run.oracle, run.oracle.domain
        rounds = int(min(self.n_rounds, n))
        sizes = np.full(rounds, n // rounds)
        sizes[: n % rounds] += 1
        X = dom.sample(int(sizes[0]), random_state=run.rng)
        y = answers_to_targets(oracle.query(X, phase="uniform"), oracle)
        run.model, ok = fit_copy(model, X, y, regression=False)
        history = [{"round": 0, "n_queries": int(sizes[0]), "copy_error": None}]
        fitting = model
        for r in range(1, rounds):
            if isinstance(run.model, SearchedSVC) and fitting is model:
                fitting = run.model.fixed()  # reuse the searched width between rounds
            m = int(sizes[r])
            m_b = int(round(self.boundary_fraction * m)) if ok else 0
            # while the copy is a constant, look for the other class at the vertices
            Xn = [dom.sample(m - m_b, random_state=run.rng) if ok
                  else vertex_sample(dom, m, run.rng)]
            if m_b:
                P = dom.sample(4 * m_b + 8, random_state=run.rng)
                A, B = _different_pairs(P, run.model.predict(P), m_b, run.rng)
                if A is None:
                    Xn.append(dom.sample(m_b, random_state=run.rng))
                else:
                    Xn.append(dom.project(copy_boundary_points(run.model, A, B)))
            Xn = np.vstack(Xn)
            yn = answers_to_targets(oracle.query(Xn, phase=f"adaptive_{r}"), oracle)
            err = float(np.mean(run.model.predict(Xn) != yn))
            X, y = np.vstack([X, Xn]), np.concatenate([y, yn])
            final = r == rounds - 1
            run.model, ok = fit_copy(model if final else fitting, X, y, regression=False)
            history.append({"round": r, "n_queries": m, "copy_error": err})
        run.info.update(rounds=history, n_uniform=int(sizes[0]))
        return ok


def vertex_sample(domain, n, rng):
    """Uniform points with every continuous feature pushed to a random bound.

    A linear function takes its extremes at the box's vertices, so vertices show
    both of a victim's labels far more often than uniform points do when one
    class covers most of the box.
    """
    X = domain.sample(n, random_state=rng)
    cont = np.flatnonzero(domain.continuous)
    top = rng.random((n, cont.size)) < 0.5
    X[:, cont] = np.where(top, domain.upper[cont], domain.lower[cont])
    return X


def _row_index(X, A):
    """Indices of the rows of ``A`` in ``X`` (rows of A are copies of rows of X)."""
    lookup = {r.tobytes(): i for i, r in enumerate(X)}
    return np.array([lookup[r.tobytes()] for r in A])


def _different_pairs(X, y, m, rng):
    """``m`` random pairs of rows of ``X`` with different labels (None if one class)."""
    y = np.asarray(y)
    classes = np.unique(y)
    if classes.size < 2:
        return None, None
    i = rng.integers(0, len(X), size=4 * m + 8)
    j = rng.integers(0, len(X), size=4 * m + 8)
    keep = y[i] != y[j]
    i, j = i[keep][:m], j[keep][:m]
    if i.size < m:  # few minority points: pair each with the other classes
        lab = y[i[0]] if i.size else classes[0]
        a = np.flatnonzero(y == lab)
        b = np.flatnonzero(y != lab)
        extra = m - i.size
        i = np.concatenate([i, a[rng.integers(0, a.size, extra)]])
        j = np.concatenate([j, b[rng.integers(0, b.size, extra)]])
    return X[i].copy(), X[j].copy()
