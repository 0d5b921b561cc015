"""Equation solving (Tramèr et al. 2016, §4.1): one solver, configured per model family."""

from __future__ import annotations

import math

import numpy as np
from sklearn.pipeline import Pipeline

from .._exceptions import OracleError
from ._base import Attack, Run
from ._feature_discovery import BinnedFeatures, BinnedQueries, binned_domain, find_steps
from ._linear_copies import OneVsRestLogistic, SigmoidEnsemble, logistic_copy
from ._linear_equations import (
    design_matrix,
    fit_ovr,
    fit_probabilities,
    fit_sigmoid_ensemble,
    log_ratios,
    ovr_start,
    solve_affine,
    solve_rounded_log_ratios,
)
from ._query_design import (
    Reduction,
    balanced_rows,
    base_point,
    coverage_deficit,
    design_rows,
    informative,
    numeric_steps,
    shrink_row,
)
from ._registry import register

__all__ = ["EquationSolving", "detect_decimals"]

FAMILIES = ("auto", "binary", "softmax", "ovr", "platt_ensemble")
#: Answers closer than this to the copy's are "exact" (float64 answers agree to ~1e-15).
EXACT_TOL = 1e-8
#: Smallest usable probability of a two-class answer: victims compute the smaller
#: probability as 1 − p, whose relative precision is eps / p.
BINARY_FLOOR = 1e-6
#: Multiclass probabilities are computed directly; only zero (underflow) is unusable.
MULTI_FLOOR = 1e-300
_MAX_HALVINGS = 60
#: Line search for bin edges: grid points first, then bisection to this fraction
#: of the feature's range.
_BIN_GRID = 16
_BIN_TOL = 1e-9


def detect_decimals(P, max_decimals: int = 10):
    """The number of decimals the answers are rounded to, or None if they are not.

    Exact float64 probabilities almost never all have ten or fewer decimals.
    """
    P = np.asarray(P, dtype=np.float64)
    for k in range(max_decimals + 1):
        if np.array_equal(np.round(P, k), P):
            return k
    return None


def _is_count(value, low):
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= low


@register
class EquationSolving(Attack):
    """Solve the victim's parameters from its confidence answers.

    The answers of a linear model are a fixed link function of affine scores, so
    each query is an equation in the parameters. One solver covers the families,
    as scikit-learn's ``Perceptron`` is a configuration of SGD:

    - ``"binary"``: logistic regression, or a linear SVM with Platt scaling
      (``CalibratedClassifierCV(LinearSVC(), method="sigmoid", ensemble=False)``);
      ``logit p_1(x) = w·x + b`` — d + 1 queries, a linear solve.
    - ``"softmax"``: multinomial logistic regression; ``log(p_k/p_0)`` is affine,
      so the same d + 1 queries give every ``w_k − w_0`` (the paper spent c(d+1)).
    - ``"ovr"``: one-vs-rest sigmoids normalised to sum to one
      (``OneVsRestClassifier(LogisticRegression())``, multiclass Platt scaling);
      a nonlinear system, solved by Levenberg–Marquardt from about
      ⌈c(d+1)/(c−1)⌉ queries.
    - ``"platt_ensemble"``: the average of ``n_members`` sigmoids
      (``CalibratedClassifierCV(..., ensemble=True)``, binary); a nonlinear
      least-squares fit from ``n_members·(d+1)`` queries and more.
    - ``"auto"``: ``"binary"`` for two classes, else ``"softmax"``, checked with one
      more query; a multiclass victim that fails the check is solved as ``"ovr"``.

    Affine preprocessing (a ``Pipeline`` with ``StandardScaler``) composes with the
    model into one affine map on raw inputs, which is what is recovered.

    Parameters
    ----------
    family : {"auto", "binary", "softmax", "ovr", "platt_ensemble"}, default="auto"
        The victim's link function.
    n_queries : int, default=None
        Total queries for the fit when more than the minimum are needed: rounded
        answers (default 4× the minimum), one-vs-rest (default and cap:
        2·(d + 1 − G)), Platt ensembles (default ``n_members·(d+1−G) + (d+1−G)``).
        Exact binary and softmax answers always use the minimum.
    verify : int, default=0
        Extra random queries that check the copy; the largest probability gap is
        reported as ``info["verify_residual"]``.
    n_members : int, default=5
        Sigmoids averaged by a Platt ensemble (scikit-learn's default ``cv=5``).
    binned : None, "auto" or sequence of int, default=None
        Numeric features the victim bins before its linear model (as
        ``KBinsDiscretizer`` does). Their bin edges are found by line search, then
        the model is solved in the bin indicators and the copy is a ``Pipeline``
        of a :class:`BinnedFeatures` encoder and the linear copy. ``"auto"`` tests
        each numeric feature with two extra queries (a step function, or not an
        affine log-odds, means binned).
    random_state : int, Generator or None
        Seeds the random queries (fill, fit, verification) and restarts.

    Notes
    -----
    Queries live in the valid input space: with G one-hot groups (exactly one
    column on per group), valid inputs span d + 1 − G affine dimensions, so
    d + 1 − G queries determine a softmax or binary model, with each group's
    coefficients known up to a constant shift — a functionally equivalent copy on
    every valid input. The design is a base point and one step per direction
    (numeric features moved to a bound, groups switched to each other category).

    Saturated answers (a probability too close to 0 to give a usable logarithm)
    are avoided adaptively: a saturated base point is replaced by one near the
    decision boundary (random points, then bisection), and a saturated step is
    halved until informative. The queries this costs are reported in ``info``.

    Binned features cost a grid of 16 queries each, plus about
    log2(1/(16·1e-9)) ≈ 26 bisection queries per bin edge (edges to 1e-9 of the
    feature's range); they are counted in ``info["queries"]["bins"]``.

    Rounded answers (detected from the answers themselves) make the equations
    inexact: the solver then fits by weighted least squares over more queries
    (log-ratios, each weighted by how little rounding moves it; for one-vs-rest the
    probabilities themselves), the queries chosen where the current copy is least
    certain, and the result's status is ``"approximate"``.

    References
    ----------
    .. [1] F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. "Stealing
       Machine Learning Models via Prediction APIs". USENIX Security 2016, §4.1.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    >>> victim = LogisticRegression().fit(X, y)
    >>> oracle = LocalOracle(victim, domain=Domain.from_data(X))
    >>> result = EquationSolving(family="binary").extract(oracle)
    >>> result.n_queries, result.status
    (6, 'success')
    >>> bool(np.allclose(result.model.coef_, victim.coef_, rtol=1e-9))
    True
    """

    name = "equation_solving"
    outputs = ("proba",)

    def __init__(
        self,
        *,
        family="auto",
        n_queries=None,
        verify=0,
        n_members=5,
        binned=None,
        random_state=None,
    ):
        self.family = family
        self.n_queries = n_queries
        self.verify = verify
        self.n_members = n_members
        self.binned = binned
        self.random_state = random_state

    # ------------------------------------------------------------ validation
    def _validate_params(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}; got {self.family!r}.")
        if self.n_queries is not None and not _is_count(self.n_queries, 1):
            raise ValueError(
                f"n_queries must be a positive integer or None; got {self.n_queries!r}."
            )
        if not _is_count(self.verify, 0):
            raise ValueError(f"verify must be an integer >= 0; got {self.verify!r}.")
        if not _is_count(self.n_members, 1):
            raise ValueError(f"n_members must be an integer >= 1; got {self.n_members!r}.")
        if isinstance(self.binned, str) and self.binned != "auto":
            raise ValueError(
                f"binned must be None, 'auto' or feature indices; got {self.binned!r}."
            )

    def _check_oracle(self, oracle):
        if oracle.domain is None:
            raise ValueError(
                "EquationSolving chooses its queries in the oracle's domain, and this "
                "oracle has none; build it with domain=Domain(...) or Domain.from_data(X)."
            )
        c = oracle.n_classes
        if c is not None and c != 2 and self.family in ("binary", "platt_ensemble"):
            raise ValueError(
                f"family={self.family!r} is for two classes; the victim has {c}. "
                "Use 'softmax' or 'ovr'."
            )
        if self.binned is not None and not isinstance(self.binned, str):
            idx = np.asarray(self.binned)
            d = oracle.domain.n_features
            numeric = _numeric_mask(oracle.domain)
            if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer) or (
                idx.size and (idx.min() < 0 or idx.max() >= d or not numeric[idx].all())
            ):
                raise ValueError(
                    f"binned must list numeric (continuous or integer) feature indices in "
                    f"[0, {d}); got {self.binned!r}."
                )
            bad = idx[~np.isfinite(oracle.domain.lower[idx] + oracle.domain.upper[idx])]
            if bad.size:
                raise ValueError(
                    f"binned features {bad.tolist()} are unbounded in the domain; the line "
                    "search needs finite bounds."
                )
        if oracle.allow_missing:
            raise ValueError(
                "EquationSolving needs a model answering complete inputs; this oracle "
                "takes incomplete queries (a tree?). Use PathFinding for trees."
            )

    # ------------------------------------------------------------ the phases
    def _extract(self, run: Run) -> None:
        if self.binned is None:
            self._solve(run)
            return
        binned, edges = self._discover_bins(run)
        if not binned:
            self._solve(run)
            return
        inner = run.oracle
        dom, to_raw = binned_domain(inner.domain, binned, edges)
        encoder = BinnedFeatures.from_edges(inner.domain.n_features, binned, edges)
        run.oracle = BinnedQueries(inner, dom, to_raw)
        try:
            self._solve(run)
        finally:
            run.oracle = inner
            if run.model is not None:
                run.model = Pipeline([("bins", encoder), ("model", run.model)])

    def _discover_bins(self, run):
        """Line-search the binned features' edges (Tramèr et al.'s feature extraction)."""
        dom = run.oracle.domain
        x0 = base_point(dom)
        if isinstance(self.binned, str):
            binned = self._binned_features(run, x0)
        else:
            binned = [int(j) for j in self.binned]
        run.info["binned"] = binned
        edges = []
        for j in binned:
            lo, hi = dom.lower[j], dom.upper[j]

            def answer(t, j=j):
                Xq = np.repeat(x0[None], len(t), axis=0)
                Xq[:, j] = t
                return self._ask(run, Xq, "bins")

            e, _ = find_steps(answer, lo, hi, n_grid=_BIN_GRID, tol=_BIN_TOL * (hi - lo),
                              integer=j in set(dom.integer.tolist()))
            edges.append(e)
        run.info["bin_edges"] = edges
        return binned, edges

    def _binned_features(self, run, x0):
        """Continuous features along which the answer is a step function, not a sigmoid.

        Three points per feature (the base, halfway, the far bound): an affine
        log-odds puts the middle answer's log-ratios halfway between the others'.
        """
        dom = run.oracle.domain
        _, far = numeric_steps(dom)
        integer = set(dom.integer.tolist())
        cand = [
            j for j in np.flatnonzero(_numeric_mask(dom))
            if abs(far[j] - x0[j]) >= (2 if j in integer else 0) and far[j] != x0[j]
        ]
        if not cand:
            return []
        rows, frac = [x0], []
        for j in cand:
            mid = (x0[j] + far[j]) / 2
            mid = np.round(mid) if j in integer else mid
            frac.append((mid - x0[j]) / (far[j] - x0[j]))
            for t in (mid, far[j]):
                x = x0.copy()
                x[j] = t
                rows.append(x)
        P = self._ask(run, np.array(rows), "bins")
        with np.errstate(divide="ignore", invalid="ignore"):
            L = log_ratios(P)
        out = []
        for k, j in enumerate(cand):
            p0, pm, pf = P[0], P[1 + 2 * k], P[2 + 2 * k]
            l0, lm, lf = L[0], L[1 + 2 * k], L[2 + 2 * k]
            same = [np.array_equal(p0, pm), np.array_equal(pm, pf), np.array_equal(p0, pf)]
            if all(same):
                continue
            if any(same):
                out.append(int(j))
                continue
            if np.all(np.isfinite([l0, lm, lf])):
                scale = 1.0 + np.abs(np.concatenate([l0, lf])).max()
                if np.max(np.abs(lm - (l0 + frac[k] * (lf - l0)))) > 1e-7 * scale:
                    out.append(int(j))
        return out

    def _solve(self, run: Run) -> None:
        oracle = run.oracle
        dom = oracle.domain
        red = Reduction(dom)
        n_dir = red.n_reduced + 1  # unknowns per score: d + 1 − G
        run.info.update(n_unknowns_per_class=n_dir)
        counts = run.info.setdefault("queries", {})

        x0 = base_point(dom)
        P0 = self._ask(run, x0[None], "design")
        c = P0.shape[1]
        classes = oracle.classes_ if oracle.classes_ is not None else np.arange(c)
        family = self._family(c)
        run.info["family"] = family
        floor = BINARY_FLOOR if c == 2 else MULTI_FLOOR
        if family == "ovr":
            counts["design"] = 1
            self._one_vs_rest(run, _Equations(red, classes, x0[None], P0))
            if self.verify:
                self._verification(run, run.info.get("decimals"))
            return
        if not informative(P0, floor)[0] and detect_decimals(P0) is None:
            x0, P0 = self._boundary_base(run, x0, P0, floor)
        X, kinds = design_rows(dom, x0)
        P = np.vstack([P0, self._ask(run, X[1:], "design")]) if len(X) > 1 else P0
        counts["design"] = len(X)
        decimals = detect_decimals(P)
        if decimals is None:
            X, P = self._desaturate(run, x0, X, P, kinds, floor)
        run.info["decimals"] = decimals
        eq = _Equations(red, classes, X, P)

        if decimals is not None:
            self._rounded(run, eq, family, decimals)
        elif family == "ovr":
            self._one_vs_rest(run, eq)
        elif family == "platt_ensemble":
            self._ensemble(run, eq)
        else:
            self._affine(run, eq, floor)
            if self.family == "auto":
                self._auto_check(run, eq, floor)
        n_sat = counts.get("boundary", 0) + counts.get("saturation", 0)
        if n_sat:
            run.message += (
                f" {n_sat} queries went to avoiding saturated answers (a base point near "
                "the boundary, shorter steps)."
            )
        if self.verify:
            self._verification(run, decimals)

    def _family(self, c):
        if self.family == "auto":
            return "binary" if c == 2 else "softmax"
        if self.family in ("binary", "platt_ensemble") and c != 2:
            raise ValueError(
                f"family={self.family!r} is for two classes; the victim answers {c}. "
                "Use 'softmax' or 'ovr'."
            )
        if self.family in ("softmax", "ovr") and c < 2:
            raise ValueError(f"the victim answers {c} class; nothing to solve.")
        return self.family

    def _ask(self, run, X, phase):
        P = run.oracle.query(X, phase=phase)
        P = np.asarray(P, dtype=np.float64)
        if P.ndim != 2 or P.shape[0] != len(X) or P.shape[1] < 2:
            raise OracleError(
                f"the oracle answered shape {P.shape} for {len(X)} queries; equation "
                "solving needs one probability vector (n, c >= 2) per query."
            )
        if not np.all(np.isfinite(P)) or np.any(P < 0) or np.any(P > 1 + 1e-9) or np.any(
            P.sum(axis=1) > 1.5
        ):
            raise OracleError(
                "the oracle's answers are not probability vectors (NaN, negative, above 1 "
                "or summing well above 1); equation solving cannot use them."
            )
        counts = run.info.setdefault("queries", {})
        if phase != "design":
            counts[phase] = counts.get(phase, 0) + len(X)
        return P

    # -- saturation ------------------------------------------------------------
    def _boundary_base(self, run, x0, P0, floor):
        """Replace a saturated base point by an informative one near the boundary."""
        dom = run.oracle.domain
        m = 16
        left = run.remaining()
        if left is not None:
            m = max(1, min(m, left - 1))
        C = dom.sample(m, random_state=run.rng)
        PC = self._ask(run, C, "boundary")
        score = PC.min(axis=1)
        best = int(np.argmax(score))
        if informative(PC[best:best + 1], floor)[0]:
            return C[best], PC[best]
        # bisect along a path from x0 to a point of another label, one unit at a time
        lab0 = int(np.argmax(P0[0]))
        other = np.flatnonzero(np.argmax(PC, axis=1) != lab0)
        if other.size == 0:
            return C[best], PC[best]
        a, pa, b, pb = x0, P0[0], C[other[0]], PC[other[0]]
        units = [np.array([j]) for j in np.flatnonzero(~_grouped(dom))] + list(
            dom.one_hot_groups
        )
        lo, hi = 0, len(units)  # path point k takes units[:k] from b

        def path(k):
            x = a.copy()
            for u in units[:k]:
                x[u] = b[u]
            return x

        while hi - lo > 1:
            mid = (lo + hi) // 2
            pm = self._ask(run, path(mid)[None], "boundary")[0]
            if informative(pm[None], floor)[0]:
                return path(mid), pm
            if np.argmax(pm) == lab0:
                lo, pa = mid, pm
            else:
                hi, pb = mid, pm
        u = units[lo]
        xa, xb = path(lo), path(hi)
        if u.size == 1 and dom.kinds()[u[0]] == "continuous":
            for _ in range(_MAX_HALVINGS):
                xm = xa.copy()
                xm[u] = (xa[u] + xb[u]) / 2
                pm = self._ask(run, xm[None], "boundary")[0]
                if informative(pm[None], floor)[0]:
                    return xm, pm
                if np.argmax(pm) == lab0:
                    xa = xm
                else:
                    xb = xm
        return (xa, pa) if pa.min() >= pb.min() else (xb, pb)

    def _desaturate(self, run, x0, X, P, kinds, floor):
        """Halve each saturated numeric step until its answer is informative."""
        dom = run.oracle.domain
        X, P = X.copy(), P.copy()
        for _ in range(_MAX_HALVINGS):
            bad = np.flatnonzero(~informative(P[1:], floor)) + 1
            todo = []
            for r in bad:
                kind, j = kinds[r - 1]
                if kind == "numeric":
                    x = shrink_row(dom, x0, X[r], j)
                    if x is not None:
                        todo.append((r, x))
            if not todo:
                break
            rows = np.array([x for _, x in todo])
            ans = self._ask(run, rows, "saturation")
            for (r, x), p in zip(todo, ans):
                X[r], P[r] = x, p
        return X, P

    # -- exact affine solve (binary, softmax) ---------------------------------------
    def _affine(self, run, eq, floor):
        ok = informative(eq.P, max(floor, MULTI_FLOOR))
        A = eq.A(ok)
        theta, rank, _ = solve_affine(A, log_ratios(eq.P[ok]))
        if rank < A.shape[1]:
            theta, rank = self._fill(run, eq, floor)
        run.model = eq.softmax_copy(theta)
        run.info["rank"] = rank
        if rank < eq.n_dir:
            run.status = "approximate"
            run.message = (
                f"only {rank} of the {eq.n_dir} directions gave informative (unsaturated) "
                "answers; the copy is the minimum-norm solution and may differ elsewhere."
            )
        else:
            run.message = (
                f"solved the {eq.n_dir} affine equations exactly "
                f"({eq.P.shape[1] - 1} log-ratio(s) per answer)."
            )

    def _fill(self, run, eq, floor, tries=4):
        """Random informative rows until the affine system has full rank."""
        dom = run.oracle.domain
        for _ in range(tries):
            ok = informative(eq.P, max(floor, MULTI_FLOOR))
            theta, rank, _ = solve_affine(eq.A(ok), log_ratios(eq.P[ok]))
            if rank >= eq.n_dir:
                break
            Xn = dom.sample(2 * (eq.n_dir - rank), random_state=run.rng)
            eq.add(Xn, self._ask(run, Xn, "fill"))
        ok = informative(eq.P, max(floor, MULTI_FLOOR))
        theta, rank, _ = solve_affine(eq.A(ok), log_ratios(eq.P[ok]))
        return theta, rank

    def _auto_check(self, run, eq, floor):
        """One more query tests the fitted link; a multiclass mismatch means OvR."""
        x = run.oracle.domain.sample(1, random_state=run.rng)
        p = self._ask(run, x, "check")
        gap = float(np.max(np.abs(run.model.predict_proba(x) - p)))
        run.info["check_gap"] = gap
        if gap <= EXACT_TOL:
            return
        eq.add(x, p)
        if eq.P.shape[1] > 2:
            run.info["family"] = "ovr"
            self._one_vs_rest(run, eq)
        else:
            run.status = "approximate"
            run.message = (
                f"the answers are not one sigmoid of an affine score (check gap {gap:.2e}); "
                "the copy is the affine fit. Try family='platt_ensemble'."
            )

    # -- one-vs-rest ----------------------------------------------------------------
    def _one_vs_rest(self, run, eq):
        c, p = eq.P.shape[1], eq.n_dir
        n_min = math.ceil(c * p / (c - 1))
        cap = self.n_queries if self.n_queries is not None else 2 * p
        run.info["n_minimum"] = n_min
        # one answer beyond the counting minimum: a square nonlinear system can have
        # spurious exact solutions; c − 1 redundant equations rule them out. And every
        # one-hot category must be active in two answers (one leaves a coefficient free).
        dom = run.oracle.domain
        extra = max(n_min + 1 - eq.n, coverage_deficit(dom, eq.X))
        self._more_balanced(run, eq, extra)
        decimals = detect_decimals(eq.P)
        run.info["decimals"] = decimals
        if decimals is not None:
            self._rounded(run, eq, "ovr", decimals)
            return
        eq.drop_uninformative()
        theta = ovr_start(eq.A(), eq.P)
        step = max(1, math.ceil(p / 8))
        fresh = True
        while True:
            theta, res = fit_ovr(eq.A(), eq.P, theta)
            if res > EXACT_TOL and not fresh:  # stuck: restart from the logit fit
                again, res2 = fit_ovr(eq.A(), eq.P, ovr_start(eq.A(), eq.P))
                if res2 < res:
                    theta, res = again, res2
            fresh = False
            run.model = eq.ovr_copy(theta)
            run.info["residual"] = res
            if res <= EXACT_TOL or eq.n >= cap:
                break
            self._more_balanced(run, eq, min(step, cap - eq.n))
        if res <= EXACT_TOL:
            run.message = (
                f"solved the one-vs-rest equations with {eq.n} answers (counting "
                f"minimum ⌈c(d+1−G)/(c−1)⌉ = {n_min}, plus redundant ones that rule out "
                f"spurious solutions); residual {res:.1e}."
            )
        else:
            run.status = "approximate"
            run.message = (
                f"the one-vs-rest equations did not close with {eq.n} answers "
                f"(residual {res:.1e}); the copy is the least-squares fit."
            )

    def _more_balanced(self, run, eq, n):
        if n <= 0:
            return
        Xn = balanced_rows(run.oracle.domain, n, run.rng, existing=eq.X)
        eq.add(Xn, self._ask(run, Xn, "fit"))

    def _more_random(self, run, eq, n, phase):
        if n <= 0:
            return
        Xn = run.oracle.domain.sample(n, random_state=run.rng)
        Pn = self._ask(run, Xn, phase)
        eq.add(Xn, Pn)
        eq.drop_uninformative()

    # -- Platt ensembles ------------------------------------------------------------
    def _ensemble(self, run, eq):
        K, p = int(self.n_members), eq.n_dir
        n_total = self.n_queries if self.n_queries is not None else (K + 1) * p
        run.info["n_minimum"] = K * p
        eq.drop_uninformative()
        ok = informative(eq.P, MULTI_FLOOR)
        theta1, _, _ = solve_affine(eq.A(ok), log_ratios(eq.P[ok]))
        run.model = eq.softmax_copy(theta1)
        self._more_random(run, eq, n_total - eq.n, "fit")
        ok = informative(eq.P, BINARY_FLOOR)  # one sigmoid fitted to every answer
        theta1, _, _ = solve_affine(eq.A(ok), log_ratios(eq.P[ok]))
        run.model = eq.softmax_copy(theta1)
        start = np.tile(theta1, (1, K))
        theta, res = fit_sigmoid_ensemble(eq.A(), eq.P[:, 1], start, rng=run.rng)
        single = run.model
        single_res = float(np.max(np.abs(single.predict_proba(eq.X) - eq.P)))
        run.model = SigmoidEnsemble.from_parameters(
            eq.red.expand(theta[:-1].T), theta[-1], eq.classes
        )
        if single_res < res:  # the fit went astray: one sigmoid explains the answers better
            run.model, res = single, single_res
            run.info["fallback"] = "single sigmoid"
        run.info["residual"] = res
        if res <= EXACT_TOL:
            run.message = f"fitted {K} sigmoids to {eq.n} answers exactly (residual {res:.1e})."
        else:
            run.status = "approximate"
            run.message = (
                f"the average of {K} sigmoids fits the {eq.n} answers only to {res:.1e}; "
                "the copy is approximate."
            )

    # -- rounded answers ------------------------------------------------------------
    def _rounded(self, run, eq, family, decimals):
        c, p = eq.P.shape[1], eq.n_dir
        h = 10.0 ** (-decimals)
        link = "ovr" if family == "ovr" else "softmax"
        n_min = math.ceil(c * p / (c - 1)) if link == "ovr" else p
        if family == "platt_ensemble":
            n_min = int(self.n_members) * p
        n_total = self.n_queries if self.n_queries is not None else 4 * n_min
        theta = self._rounded_fit(eq, link, h, None)
        run.model = eq.copy(theta, link)
        rounds = 3
        for r in range(rounds):
            want = n_total - run.oracle.n_asked
            if want <= 0:
                break
            n = math.ceil(want / (rounds - r))
            # the most informative answers come where the copy is least certain
            pool = balanced_rows(run.oracle.domain, 20 * n, run.rng, existing=eq.X)
            Xn = pool[_most_uncertain(run.model.predict_proba(pool), n)]
            eq.add(Xn, self._ask(run, Xn, "fit"))
            theta = self._rounded_fit(eq, link, h, theta, final=r == rounds - 1)
            run.model = eq.copy(theta, link)
        gap = float(np.max(np.abs(run.model.predict_proba(eq.X) - eq.P)))
        run.info["max_gap"] = gap
        if family == "platt_ensemble":
            note = " (a single sigmoid: the ensemble is not identifiable from rounded answers)"
        else:
            note = ""
        run.status = "approximate"
        run.message = (
            f"answers are rounded to {decimals} decimals: fitted the "
            f"{'probabilities' if link == 'ovr' else 'log-ratios'} by least squares over "
            f"{eq.n} answers (largest gap {gap:.1e}, rounding step {h:g}); the copy is "
            f"approximate{note}."
        )

    @staticmethod
    def _rounded_fit(eq, link, h, theta, final=True):
        """Softmax: weighted least squares on log-ratios; OvR: on the probabilities."""
        if link == "softmax":
            return solve_rounded_log_ratios(eq.A(), eq.P, h)
        if theta is None:
            Pc = np.clip(eq.P, h / 4, 1.0)
            return ovr_start(eq.A(), Pc / Pc.sum(axis=1, keepdims=True))
        theta, _ = fit_probabilities(eq.A(), eq.P, theta, link="ovr",
                                     max_iter=30 if final else 5)
        return theta

    # -- verification ---------------------------------------------------------------
    def _verification(self, run, decimals):
        Xv = run.oracle.domain.sample(int(self.verify), random_state=run.rng)
        Pv = self._ask(run, Xv, "verify")
        gap = float(np.max(np.abs(run.model.predict_proba(Xv) - Pv)))
        run.info["verify_residual"] = gap
        tol = EXACT_TOL if decimals is None else 10.0 ** (-decimals) / 2 + 1e-12
        run.info["verified"] = gap <= tol
        if gap > tol and run.status == "success":
            run.status = "approximate"
            run.message += (
                f" Verification: the copy misses {self.verify} check answers by up to "
                f"{gap:.1e}."
            )
        elif gap <= tol:
            run.message += f" Verified on {self.verify} more answers (gap {gap:.1e})."


def _numeric_mask(dom):
    """Continuous and integer features (not categorical codes, not one-hot)."""
    mask = dom.continuous.copy()
    mask[dom.integer] = True
    return mask


def _grouped(dom):
    mask = np.zeros(dom.n_features, dtype=bool)
    for g in dom.one_hot_groups:
        mask[g] = True
    return mask


def _most_uncertain(P, n):
    """Indices of the ``n`` rows of highest entropy."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.nansum(P * np.log(P), axis=1)
    return np.argsort(-ent, kind="stable")[:n]


class _Equations:
    """The answered queries in reduced coordinates, and the copies built from them."""

    def __init__(self, red, classes, X, P):
        self.red = red
        self.classes = np.asarray(classes)
        self.X = np.asarray(X, dtype=np.float64)
        self.P = np.asarray(P, dtype=np.float64)
        self.n_dir = red.n_reduced + 1

    @property
    def n(self):
        return self.X.shape[0]

    def A(self, rows=None):
        X = self.X if rows is None else self.X[rows]
        return design_matrix(self.red.reduce(X))

    def add(self, X, P):
        self.X = np.vstack([self.X, X])
        self.P = np.vstack([self.P, P])

    def drop_uninformative(self):
        ok = informative(self.P, MULTI_FLOOR)
        self.X, self.P = self.X[ok], self.P[ok]

    def copy(self, theta, link):
        return self.ovr_copy(theta) if link == "ovr" else self.softmax_copy(theta)

    def softmax_copy(self, theta):
        """From log-ratio parameters (p, c−1) (class 0 the reference)."""
        W = self.red.expand(theta[:-1].T)
        b = theta[-1]
        if len(self.classes) == 2:
            return logistic_copy(W, b, self.classes)
        W = np.vstack([np.zeros((1, W.shape[1])), W])
        b = np.concatenate([[0.0], b])
        return logistic_copy(W - W.mean(axis=0), b - b.mean(), self.classes)

    def ovr_copy(self, theta):
        """From one-vs-rest parameters (p, c)."""
        return OneVsRestLogistic.from_parameters(
            self.red.expand(theta[:-1].T), theta[-1], self.classes
        )
