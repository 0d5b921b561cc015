"""Query synthesis through the version space of halfspaces (Chandrasekaran et al. 2020)."""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np
from sklearn.linear_model import LogisticRegression

from ._base import Attack, Run
from ._label_queries import BinaryLabels, LinearBoundary, check_binary_oracle
from ._registry import register

__all__ = ["QuerySynthesis", "VersionSpace", "CLARABEL_TOLERANCES"]

#: Clarabel's stopping tolerances for every centre and width computed here.
CLARABEL_TOLERANCES = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9}


class VersionSpace:
    """The halfspaces ``w`` (‖w‖ ≤ 1) that agree with every answer: ``a_i·w ≥ 0``.

    Each answer ``y`` to a query ``z`` adds the row ``a = y z / ‖z‖``. The cvxpy
    problems are built once for ``capacity`` rows, with the rows as a
    ``Parameter`` (unused rows are zero); each new answer only changes parameter
    values, and the problem is re-solved from its cached canonical form. When the
    rows outgrow the capacity, the problems are rebuilt once for twice as many
    (so a run builds them about log2(n/capacity) times, and each solve stays
    proportional to the answers so far, not to the budget).

    * ``analytic`` centre: maximise ``Σ log(a_i·w) + log(1 − ‖w‖²)``;
    * ``chebyshev`` centre: the centre of the largest ball inside the cone and
      the unit ball: maximise ``r`` subject to ``a_i·w ≥ r`` and ``‖w‖ + r ≤ 1``.
    """

    def __init__(self, dim: int, capacity: int = 64, centre: str = "analytic"):
        self.dim, self.centre_kind = dim, centre
        self.rows = np.zeros((0, dim))
        self.n_fallbacks = 0
        self.n_builds = 0
        self._build(max(int(capacity), 1))

    def _build(self, capacity):
        dim = self.dim
        self.capacity = capacity
        self.n_builds += 1
        A = np.zeros((capacity, dim))
        off = np.ones(capacity)
        A[: len(self.rows)] = self.rows
        off[: len(self.rows)] = 0.0
        self._A = cp.Parameter((capacity, dim), value=A)
        self._off = cp.Parameter(capacity, nonneg=True, value=off)
        w = cp.Variable(dim)
        if self.centre_kind == "analytic":
            t = cp.Variable(1)  # t ≤ 1 − ‖w‖²: the unit ball's barrier term
            obj = cp.sum(cp.log(self._A @ w + self._off)) + cp.sum(cp.log(t))
            self._centre = cp.Problem(cp.Maximize(obj), [cp.sum_squares(w) + t <= 1])
        else:
            r = cp.Variable()
            self._centre = cp.Problem(
                cp.Maximize(r), [self._A @ w >= cp.multiply(r, 1 - self._off),
                                 cp.norm(w, 2) + r <= 1]
            )
        self._w = w
        # widths: max q·w over the cone's slice {c·w = 1}
        self._q = cp.Parameter(dim, value=np.zeros(dim))
        self._c = cp.Parameter(dim, value=np.ones(dim))
        u = cp.Variable(dim)
        self._u = u
        self._width = cp.Problem(
            cp.Maximize(self._q @ u), [self._A @ u >= 0, self._c @ u == 1,
                                       cp.norm(u, "inf") <= 1e6]
        )

    def add(self, z, y):
        """Add the answer ``y`` (±1) to the query ``z`` (rows of a 2-D array)."""
        z = np.atleast_2d(z)
        a = (np.asarray(y, dtype=float)[:, None] * z) / np.linalg.norm(z, axis=1)[:, None]
        k = len(self.rows)
        self.rows = np.vstack([self.rows, a])
        if len(self.rows) > self.capacity:
            cap = self.capacity
            while cap < len(self.rows):
                cap *= 2
            self._build(cap)
            return
        A = self._A.value.copy()
        A[k : k + len(a)] = a
        off = self._off.value.copy()
        off[k : k + len(a)] = 0.0
        self._A.value, self._off.value = A, off

    def centre(self):
        """The centre, or None when the answers admit no halfspace.

        Clarabel solves the centre problem; when it fails numerically (a very thin
        version space), a linear program decides whether any halfspace is still
        consistent, and if one is, the analytic centre is found by damped Newton
        steps from it (``info["n_solver_fallbacks"]`` counts these).
        """
        c = None
        try:
            with warnings.catch_warnings(), np.errstate(invalid="ignore"):
                # "optimal_inaccurate" and infeasibility are checked below
                warnings.simplefilter("ignore", UserWarning)
                self._centre.solve(solver="CLARABEL", warm_start=True, **CLARABEL_TOLERANCES)
            if self._centre.status in ("optimal", "optimal_inaccurate"):
                c = np.asarray(self._w.value, dtype=float)
        except cp.error.SolverError:
            c = None
        if c is not None and np.all(np.isfinite(c)) and np.linalg.norm(c) > 0 and (
            not len(self.rows) or np.min(self.rows @ c) > 0
        ):
            return c
        self.n_fallbacks += 1
        u = self.strictly_feasible()
        return None if u is None else analytic_centre_newton(self.rows, u)

    def strictly_feasible(self):
        """A point with every ``a_i·w > 0`` (by a linear program), or None."""
        u = cp.Variable(self.dim)
        t = cp.Variable()
        prob = cp.Problem(cp.Maximize(t), [self.rows @ u >= t, cp.norm(u, "inf") <= 1])
        try:
            prob.solve(solver="CLARABEL", **CLARABEL_TOLERANCES)
        except cp.error.SolverError:
            return None
        if prob.status not in ("optimal", "optimal_inaccurate") or not t.value > 1e-12:
            return None
        u = np.asarray(u.value, dtype=float)
        return 0.5 * u / np.linalg.norm(u)

    def barrier_hessian(self, c):
        """Hessian of ``−Σ log(a_i·w) − log(1 − ‖w‖²)`` at ``c``: its Dikin ellipsoid."""
        s = self.rows @ c
        H = (self.rows / s[:, None]).T @ (self.rows / s[:, None])
        g = 1 - c @ c
        return H + 2 * np.eye(self.dim) / g + 4 * np.outer(c, c) / g**2

    def angular_radius_bound(self, c, directions):
        """An upper bound on the angle between ``c`` and any halfspace still consistent.

        Solves ``max ±v·w`` over the slice ``{w: a_i·w ≥ 0, ĉ·w = 1}`` for each
        direction ``v`` (orthonormal, ⊥ c): the slice lies in the box those widths
        span, so ``atan`` of the box's farthest corner bounds the angle.
        """
        ch = c / np.linalg.norm(c)
        self._c.value = ch
        ext = []
        for v in directions:
            far = 0.0
            for sgn in (1.0, -1.0):
                self._q.value = sgn * v
                with warnings.catch_warnings():  # "optimal_inaccurate" is accepted
                    warnings.simplefilter("ignore", UserWarning)
                    self._width.solve(solver="CLARABEL", **CLARABEL_TOLERANCES)
                if self._width.status not in ("optimal", "optimal_inaccurate"):
                    return np.pi / 2
                far = max(far, abs(self._width.value))
            ext.append(far)
        return float(np.arctan(np.linalg.norm(ext)))


def analytic_centre_newton(rows, w, *, n_iter=100):
    """Analytic centre of ``{a_i·w ≥ 0, ‖w‖ < 1}`` by damped Newton from a feasible ``w``."""
    def f(v):
        s = rows @ v
        g = 1 - v @ v
        return np.inf if np.any(s <= 0) or g <= 0 else -np.sum(np.log(s)) - np.log(g)

    for _ in range(n_iter):
        s = rows @ w
        g = 1 - w @ w
        grad = -(rows / s[:, None]).sum(axis=0) + 2 * w / g
        H = (rows / s[:, None]).T @ (rows / s[:, None])
        H += 2 * np.eye(w.size) / g + 4 * np.outer(w, w) / g**2
        step = np.linalg.solve(H, -grad)
        dec = float(-grad @ step)
        if dec < 1e-18:
            break
        t, f0 = 1.0, f(w)
        while f(w + t * step) > f0 - 0.25 * t * dec and t > 1e-12:
            t *= 0.5
        w = w + t * step
    return w


def long_axis(H, c):
    """Unit vectors ⊥ ``c``, longest axis of the Dikin ellipsoid first."""
    ch = c / np.linalg.norm(c)
    P = np.eye(len(c)) - np.outer(ch, ch)
    M = P @ H @ P + (np.trace(H) + 1.0) * np.outer(ch, ch)
    vals, vecs = np.linalg.eigh(M)
    return vals, vecs  # ascending: the first columns are the long axes


@register
class QuerySynthesis(Attack):
    """Extract a halfspace by queries that cut its version space through the centre.

    Model extraction is query-synthesis active learning (Chandrasekaran et al.
    2020). The version space — the halfspaces consistent with every answer so far
    — is a convex cone; each query is a point ``z`` whose hyperplane
    ``{w: w·z = 0}`` passes through a centre of that cone (the analytic or the
    Chebyshev centre, computed with cvxpy and Clarabel) across its longest axis
    (of the Dikin ellipsoid at the centre), so either answer removes about half
    of it. The copy is the centre.

    Inputs are scaled so that the domain is [−1, 1]^d. With ``fit_intercept``
    the victim is an affine halfspace ``sign(w·x + b)``, lifted to a homogeneous
    one on ``z = (x, 1)``; the query must then lie in the domain, so the cut is
    the point of ``{x: c·(x, 1) = 0}`` in the box nearest to the long axis.
    Without it the victim is ``sign(w·x)`` and any direction can be asked (scaled
    into the box).

    Parameters
    ----------
    epsilon : float, default=1e-2
        Target: stop once the angle between the copy and any consistent halfspace
        is certified ≤ ε·π.
    max_queries : int, default=None
        Cap on the queries (default 4·d·log2(1/ε) + 20).
    centre : {"analytic", "chebyshev"}, default="analytic"
    fit_intercept : bool, default=True
    n_verify : int, default=10
        Uniform queries asked after the target is certified, to test the
        assumption the certificate rests on (noise-free answers from a
        halfspace): if they make the version space empty the status is
        ``"approximate"``.
    check_every : int, default=None
        Queries between certificate checks (each is 2(d−1) linear programs); the
        check only runs once the Dikin ellipsoid inside the version space is
        narrower than ε·π. Default: d.
    random_state : int, Generator or None
        Seeds the first query.

    Notes
    -----
    A halfspace in d dimensions needs Θ(d log 1/ε) label queries in query
    synthesis: at least log2 of the 2ε-packing number of the sphere (Kulkarni,
    Mitter and Tsitsiklis 1993), and cuts through the centre of gravity reach it
    within a constant factor (Grünbaum: each removes ≥ 1/e of the volume).
    Solver: Clarabel with ``CLARABEL_TOLERANCES`` (1e-9 gap and feasibility).
    ``info["centres"]`` holds the centre after each answer (for convergence
    curves), ``info["angle_bound"]`` the last certified angle (radians), and
    ``info["consistent"]`` whether the answers admit a halfspace at all. When they
    do not (label noise, or a victim that is not a halfspace) the attack stops,
    fits a logistic regression to the answers and reports ``"approximate"``.

    References
    ----------
    .. [1] V. Chandrasekaran, K. Chaudhuri, I. Giacomelli, S. Jha, S. Yan.
       "Exploring Connections Between Active Learning and Model Extraction".
       USENIX Security 2020.
    .. [2] B. Grünbaum. "Partitions of mass-distributions and of convex bodies by
       hyperplanes". Pacific J. Math. 10(4), 1960.

    Examples
    --------
    >>> import numpy as np
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> w = np.array([1.0, -2.0, 0.5])
    >>> oracle = LocalOracle(lambda X: (X @ w > 0).astype(int), classes=[0, 1],
    ...                      domain=Domain(-np.ones(3), np.ones(3)))
    >>> res = QuerySynthesis(epsilon=0.01, fit_intercept=False, random_state=0).extract(oracle)
    >>> res.status, bool(res.info["angle_bound"] <= 0.01 * np.pi)
    ('success', True)
    """

    name = "query_synthesis"
    outputs = ("label", "proba", "logit")

    def __init__(self, *, epsilon=1e-2, max_queries=None, centre="analytic",
                 fit_intercept=True, n_verify=10, check_every=None, random_state=None):
        self.epsilon = epsilon
        self.n_verify = n_verify
        self.max_queries = max_queries
        self.centre = centre
        self.fit_intercept = fit_intercept
        self.check_every = check_every
        self.random_state = random_state

    def _validate_params(self):
        if not isinstance(self.epsilon, (int, float)) or not 0 < self.epsilon < 0.5:
            raise ValueError(f"epsilon must be in (0, 0.5); got {self.epsilon!r}.")
        if self.centre not in ("analytic", "chebyshev"):
            raise ValueError(f"centre must be 'analytic' or 'chebyshev'; got {self.centre!r}.")
        v = self.n_verify
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"n_verify must be a non-negative integer; got {v!r}.")
        for name in ("max_queries", "check_every"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))
                                  or v < 1):
                raise ValueError(f"{name} must be None or a positive integer; got {v!r}.")

    def _check_oracle(self, oracle):
        check_binary_oracle(oracle, "QuerySynthesis")
        dom = oracle.domain
        if not np.all(np.isfinite(dom.lower) & np.isfinite(dom.upper)):
            raise ValueError("QuerySynthesis needs a bounded domain (finite lower and upper).")
        if not dom.continuous.all():
            raise ValueError("QuerySynthesis synthesises continuous inputs; the domain has "
                             "discrete features.")
        if not self.fit_intercept and not np.all((dom.lower < 0) & (dom.upper > 0)):
            raise ValueError("fit_intercept=False (homogeneous victim) needs 0 inside the "
                             "domain in every feature.")

    # -- geometry of the queries --------------------------------------------
    def _scales(self, dom):
        if self.fit_intercept:
            return 0.5 * (dom.lower + dom.upper), 0.5 * (dom.upper - dom.lower)
        return np.zeros(dom.n_features), np.maximum(-dom.lower, dom.upper)

    def _to_input(self, z, dom, mid, half):
        """The input ``x`` whose lifted, scaled form is parallel to ``z``."""
        if not self.fit_intercept:
            x = half * z
            with np.errstate(divide="ignore"):
                t = np.min(np.where(x > 0, dom.upper / x, np.where(x < 0, dom.lower / x, np.inf)))
            return np.clip(t * x, dom.lower, dom.upper)
        return np.clip(mid + half * z[:-1] / z[-1], dom.lower, dom.upper)

    def _cut(self, c, v):
        """A query ``z`` ⊥ ``c`` as close as the box allows to the long axis ``v``."""
        if not self.fit_intercept:
            return v
        e = np.zeros(c.size)
        e[-1] = 1.0
        B = np.stack([c / np.linalg.norm(c), v])
        t = e - B.T @ (B @ e)
        if abs(t[-1]) < 1e-12:
            return None
        xt = t[:-1] / t[-1]  # the point of the cut plane {c·(x,1)=0} nearest the centre
        direction = v[:-1] - v[-1] * xt
        best = None
        for sgn in (1.0, -1.0):
            dvec = sgn * direction
            with np.errstate(divide="ignore", invalid="ignore"):
                lim = np.where(dvec > 0, (1 - xt) / dvec, np.where(dvec < 0, (-1 - xt) / dvec,
                                                                    np.inf))
            tau = np.min(lim)
            if np.all(np.abs(xt) <= 1) and tau > (0 if best is None else best[0]):
                best = (tau, xt + 0.999 * tau * dvec)
        if best is None:
            return None
        return np.append(best[1], 1.0)

    # -- the run ---------------------------------------------------------------
    def _extract(self, run: Run) -> None:
        oracle, dom = run.oracle, run.oracle.domain
        ask = BinaryLabels(oracle)
        d = dom.n_features
        D = d + 1 if self.fit_intercept else d
        mid, half = self._scales(dom)
        log_eps = np.log2(1.0 / self.epsilon)
        cap = self.max_queries or int(4 * D * log_eps + 20)
        cap_verify = cap + self.n_verify
        left = run.remaining()
        if left is not None:
            cap = min(cap, max(left, 1))
            cap_verify = min(cap_verify, max(left, 1))
        check_every = self.check_every or D
        space = VersionSpace(D, min(cap_verify, 4 * D + 16), centre=self.centre)
        raw_X, raw_y = [], []

        def lift(x):
            zx = (x - mid) / half
            return np.append(zx, 1.0) if self.fit_intercept else zx

        def ask_one(x, phase):
            lab = ask.raw(x[None, :], phase=phase)
            raw_X.append(x)
            raw_y.append(lab[0])
            return lab[0]

        # first query: a random point; its answer fixes the first cut
        x = dom.sample(1, random_state=run.rng)[0]
        ask_one(x, "synthesis")
        centres, bound = [], np.pi / 2
        n_checked = 0
        run.info.update(centres=centres, consistent=True, angle_bound=bound)
        while True:
            if not ask.known:  # one class so far: keep asking random points
                if len(raw_X) >= cap:
                    break
                ask_one(dom.sample(1, random_state=run.rng)[0], "synthesis")
                continue
            if len(space.rows) < len(raw_X):
                Z = np.array([lift(v) for v in raw_X[len(space.rows):]])
                space.add(Z, ask.code(np.array(raw_y[len(space.rows):])))
            c = space.centre()
            if c is None:
                self._inconsistent(run, ask, np.array(raw_X), np.array(raw_y), mid, half)
                return
            centres.append(self._unscale(c, mid, half))
            run.model = self._copy(c, ask, mid, half, d)
            H = space.barrier_hessian(c)
            vals, vecs = long_axis(H, c)
            inner = 1.0 / np.sqrt(vals[0]) / np.linalg.norm(c)  # Dikin semi-axis / |c|
            if inner <= self.epsilon * np.pi and len(raw_X) - n_checked >= check_every:
                n_checked = len(raw_X)
                bound = space.angular_radius_bound(c, vecs[:, : D - 1].T)
                run.info["angle_bound"] = bound
                if bound <= self.epsilon * np.pi:
                    break
            if len(raw_X) >= cap:
                break
            z = None
            for k in range(min(D - 1, 5)):
                z = self._cut(c, vecs[:, k])
                if z is not None:
                    break
            x = (self._to_input(z, dom, mid, half) if z is not None
                 else dom.sample(1, random_state=run.rng)[0])
            ask_one(x, "synthesis")
        n_synth = len(raw_X)
        run.info["n_synthesis"] = n_synth
        run.info["n_solver_fallbacks"] = space.n_fallbacks
        run.info["n_problem_builds"] = space.n_builds
        n_verify = min(self.n_verify, cap_verify - n_synth)
        if n_verify > 0:
            Xv = dom.sample(n_verify, random_state=run.rng)
            labels = ask.raw(Xv, phase="verify")
            raw_X.extend(Xv)
            raw_y.extend(labels)
            space.add(np.array([lift(v) for v in Xv]), ask.code(labels))
            run.info["n_verify"] = int(n_verify)
            if space.centre() is None:
                self._inconsistent(run, ask, np.array(raw_X), np.array(raw_y), mid, half)
                return
        run.info["query_scale"] = float(D * log_eps)
        if run.info["angle_bound"] > self.epsilon * np.pi:
            run.status = "approximate" if len(raw_X) >= cap else run.status
            run.message = (
                f"stopped at {len(raw_X)} queries (cap {cap}) with the angle certified "
                f"only to {run.info['angle_bound'] / np.pi:.3g}·π, not {self.epsilon}·π."
            )

    def _unscale(self, c, mid, half):
        """``(w, b)`` in the original input units from a scaled (lifted) normal."""
        w = c[: half.size] / half
        b = (c[-1] - w @ mid) if self.fit_intercept else 0.0
        return np.append(w, b)

    def _copy(self, c, ask, mid, half, d):
        wb = self._unscale(c, mid, half)
        return LinearBoundary.from_parameters(wb[:d], wb[d], ask.classes_(), n_features=d)

    def _inconsistent(self, run, ask, X, raw, mid, half):
        """No halfspace fits the answers: fit a soft one and say so."""
        y = ask.code(raw)
        Z = (X - mid) / half
        if np.unique(y).size == 2:
            lr = LogisticRegression(C=100, max_iter=5000,
                                    fit_intercept=self.fit_intercept).fit(Z, y)
            c = np.append(lr.coef_[0], lr.intercept_[0] if self.fit_intercept else 0.0)
            if not self.fit_intercept:
                c = c[:-1]
            run.model = self._copy(c, ask, mid, half, X.shape[1])
            agree = float(np.mean(lr.predict(Z) == y))
        else:
            agree = float("nan")
        run.info.setdefault("n_synthesis", len(X))
        run.info.update(consistent=False, consistency=agree)
        run.status = "approximate"
        run.message = (
            f"after {len(X)} queries no halfspace agrees with every answer (label noise, "
            f"or the victim is not linear); the copy is a logistic regression fitted to "
            f"the answers, agreeing with {agree:.1%} of them."
        )
