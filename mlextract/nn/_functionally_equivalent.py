"""Functionally equivalent extraction of a ReLU network (Jagielski et al. 2020).

The attack reads a one-hidden-layer ReLU network's units off the kinks of its
output along random lines, reads each unit's weights from the jump of the gradient
across its hyperplane, solves the last layer by least squares and recovers the
units' signs, up to the network's symmetries (order of the units, positive scaling).
"""

from __future__ import annotations

import numpy as np

from .._exceptions import BudgetExhausted
from ..attacks._base import Attack, Run
from ..attacks._registry import register
from ._critical_points import search_lines
from ._network import Network
from ._sign_recovery import LinearSkipNetwork, fit_last_layer, output_head, recover_signs
from ._weight_recovery import gradient_jumps, unit_from_jump

__all__ = ["FunctionallyEquivalent", "answers_to_logits"]

_EPS64 = float(np.finfo(np.float64).eps)


def answers_to_logits(answers, output):
    """The oracle's answers as logits: as they are, or from probabilities.

    Probabilities give logits up to a constant per row: for two classes the logit
    ``log p1 - log p0``; otherwise the centred log-probabilities
    ``log p - mean(log p)``. Underflowed probabilities give NaN.
    """
    A = np.asarray(answers, dtype=np.float64)
    if output == "value":
        return A.reshape(-1, 1)
    if output == "logit":
        return A.reshape(A.shape[0], -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(A)
        if logp.shape[1] == 2:
            z = (logp[:, 1] - logp[:, 0])[:, None]
        else:
            z = logp - logp.mean(axis=1, keepdims=True)
    z[~np.isfinite(z)] = np.nan
    return z


@register
class FunctionallyEquivalent(Attack):
    """Functionally equivalent extraction of a ReLU network (one or more hidden layers).

    The victim computes ``F(x) = A relu(W x + b) + c`` (logits). Restricted to a line
    it is piecewise linear, with one kink per unit. The attack

    1. ``_critical_point_search``: finds the kinks on random lines (batched
       subdivision, the kink located where the two neighbouring linear pieces meet,
       verified by one query; a floor on the gap ends the search);
    2. ``_weight_recovery``: at each new kink, takes exact central differences of
       the gradient on both sides; their jump is ``σ a_i w_iᵀ``, which gives the
       unit's hyperplane up to sign. Each unit is checked by a second-difference
       test at random points of its hyperplane (two units crossing together fail it)
       and its predicted kinks on the other lines are assigned to it (deduplication);
       lines are added until one shows no new unit and every kink is explained;
    3. ``_precision_refinement`` (victims coarser than float64, or ``refine=True``):
       each hyperplane is refit through ``2d + 8`` critical points located afresh
       along its normal (trimmed least squares);
    4. ``_last_layer``: least squares for the output weights, with a linear term;
       answers the fit leaves unexplained (a unit not yet found) send new lines
       through them;
    5. ``_sign_recovery``: reads the signs off the linear term (a linear system for a
       contracting layer, an exhaustive search over its null space for a small
       expansive one; otherwise the copy keeps an exact linear skip term);
    6. ``_verify``: measures the largest logit error on fresh points of the domain
       and on points 100 times farther out (reported in ``result.info``).

    Parameters
    ----------
    n_lines : int, default=2
        Random lines searched first.
    max_lines : int, default=32
        Guard on the lines searched in all (the search ends earlier as soon as a
        line shows no new unit — three in a row in a closed box — every kink is
        explained and the fit explains every answer). Deeper networks: a guard on
        each layer's first search; the last hidden layer is searched on, 8 lines a
        round for up to 8 rounds, while the copy fails its self-check.
    line_range : float, default=1e4
        Lines run over ``t ∈ [-line_range, line_range]`` (in units of the domain's
        scale) when the domain is open; a closed domain clips them to its box.
    n_grid : int, default=256
        First samples per line.
    precision : "auto" or float, default="auto"
        The victim's relative precision (``2^-52`` for float64, ``2^-23`` for
        float32). "auto" measures it from the noise of second differences on a few
        short segments. Every tolerance scales with it.
    n_verify : int, default=256
        Fresh queries spent on measuring the copy's error (half in the domain, half
        100 times farther out when the domain is open).
    max_sign_subsets : int, default=65536
        Largest exhaustive sign search for an expansive layer.
    refine : "auto" or bool, default="auto"
        Precision refinement (Carlini et al. §4.4): refit each unit's hyperplane
        through critical points located afresh around it, about ``5 (d + 8)``
        queries a unit. "auto" refines when the victim is coarser than float64 (a
        float32 victim's finite differences lose ``ε / step``; points on the
        hyperplane lose only ``ε``).
    hidden_layer_sizes : sequence of int or None, default=None
        The victim's hidden widths, when known. Two or more select the deeper
        attack (Carlini et al. 2020); None or one width the two-layer attack.
    random_state : int, Generator or None
        Seeds the lines and query points.

    Attributes of the result
    ------------------------
    ``result.model`` is a :class:`~mlextract.nn.Network` (ReLU hidden layer; output
    "identity", "logistic" or "softmax" as the oracle's answers suggest) or, when the
    signs of an expansive layer stay unknown, a
    :class:`~mlextract.nn.LinearSkipNetwork`. ``result.info`` holds ``n_units``,
    ``unexplained_kinks``, ``clusters``, ``precision``, ``victim_precision``,
    ``units_refined``, ``max_logit_error`` (domain), ``max_relative_error_far``, the
    signs' method and per-phase query counts.

    Notes
    -----
    Across the hyperplane of unit ``i``, crossed along ``v`` at ``x*``,

        ∇F(x* + δv) - ∇F(x* - δv) = σ a_i w_iᵀ,   σ = sign(w_i·v),

    and the slope along the line jumps by ``a_i |w_i·v|`` (so ``σ`` is the only
    unknown). Inside a linear region finite differences are exact, so the error is
    rounding only: ``O(ε_victim |F| / step)``. Query cost for ``d`` inputs and ``h``
    units: about ``h (4d + 2)`` for the weights, ``~30 h`` per line searched,
    ``h + d + 1`` plus a margin for the last layer.

    Probability oracles: logits are read back up to a constant per row (log-odds
    for two classes, centred log-probabilities otherwise). Two-class answers
    ``(1 - p, p)`` carry ``p0`` only to ``ε`` absolutely, so their logits are noisy as
    ``ε e^|z|``, which the tolerances follow; lines stop where answers underflow.

    Victims coarser than float64 (measured, not assumed): queries are rounded to
    float32 before they are asked, so every difference divides by the step the
    victim really saw; tolerances scale with the measured precision, the search's
    floor on gaps is ``1e-2 sqrt(ε)`` (no unbounded bisection), and
    ``result.info["victim_precision"]`` and ``["max_logit_error"]`` state what was
    reached.

    Closed domains: lines are chords between points of the box (some coordinates on
    its faces), steps are cut at the box's walls, and no query leaves it.

    Deeper networks (Carlini et al. 2020): with ``hidden_layer_sizes`` of length
    two or more (the attacker knows the architecture, the paper's threat model) the
    attack peels the network layer by layer (:mod:`._deep_extraction`): critical
    points on random lines, the normal at each from the gradient jump, the units of
    layer ``l`` as the clusters of partial signatures in the activation space of the
    known layers (joint solve of each cluster; a unit's boundary traced into regions
    where its unseen coordinates are active), precision refinement through critical
    points located afresh in each member's region, signs of inner layers by
    *freezing* (a move that changes only that unit of the layer; it needs the layer
    to contract at some critical point of the unit), the last hidden layer's signs
    and the output layer by least squares. A self-check ends the search: the copy
    must explain 4,096 fresh points of the domain (paid; ``info["self_check_queries"]``),
    every answer on the lines searched and every kink found on them; until it does,
    the last hidden layer is searched on through the points it misses, and a linear
    term left in that layer (a unit on almost everywhere) sends lines along which
    the term falls. A copy still failing it has status "approximate". An expansive
    inner layer (e.g.
    10-20-20-1's first layer) leaves signs unread: status "approximate" and a
    message naming the layer and units; a budget running out returns the recovered
    layers with a least-squares output layer (status "budget_exhausted"). Open
    domains only. Without ``hidden_layer_sizes`` (or with one width) the attack is
    the two-layer one above; ``_check_oracle`` cannot see the depth, so on a deeper
    victim the verification error reports the failure (status "approximate").

    References
    ----------
    .. [1] M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot. "High
       Accuracy and High Fidelity Extraction of Neural Networks". USENIX Security
       2020 (arXiv:1909.01838).
    .. [2] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
       Network Models". CRYPTO 2020 (arXiv:2003.04884).

    Examples
    --------
    >>> import numpy as np
    >>> from mlextract.nn import Network, FunctionallyEquivalent
    >>> from mlextract.oracles import LocalOracle
    >>> rng = np.random.default_rng(0)
    >>> victim = Network([rng.normal(size=(5, 4)), rng.normal(size=(4, 1))],
    ...                  [rng.normal(size=4), np.zeros(1)], output="identity")
    >>> oracle = LocalOracle(victim, output="logit", n_features=5)
    >>> result = FunctionallyEquivalent(random_state=0).extract(oracle)
    >>> result.status, result.info["n_units"], result.info["max_logit_error"] < 1e-9
    ('success', 4, True)
    """

    name = "functionally_equivalent"
    outputs = ("logit", "proba", "value")

    def __init__(self, *, n_lines=2, max_lines=32, line_range=1e4, n_grid=256,
                 precision="auto", n_verify=256, max_sign_subsets=65536, refine="auto",
                 hidden_layer_sizes=None, random_state=None):
        self.n_lines = n_lines
        self.max_lines = max_lines
        self.line_range = line_range
        self.n_grid = n_grid
        self.precision = precision
        self.n_verify = n_verify
        self.max_sign_subsets = max_sign_subsets
        self.refine = refine
        self.hidden_layer_sizes = hidden_layer_sizes
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _validate_params(self):
        for name, low in (("n_lines", 1), ("max_lines", 1), ("n_grid", 8), ("n_verify", 0),
                          ("max_sign_subsets", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {v!r}.")
        if self.max_lines < self.n_lines:
            raise ValueError(
                f"max_lines ({self.max_lines}) must be >= n_lines ({self.n_lines})."
            )
        if not (np.isfinite(self.line_range) and self.line_range > 0):
            raise ValueError(f"line_range must be a positive number; got {self.line_range!r}.")
        if not (self.refine == "auto" or isinstance(self.refine, bool)):
            raise ValueError(f"refine must be 'auto', True or False; got {self.refine!r}.")
        hs = self.hidden_layer_sizes
        if hs is not None:
            ok = isinstance(hs, (list, tuple, np.ndarray)) and len(hs) >= 1 and all(
                isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                for v in hs)
            if not ok:
                raise ValueError(
                    "hidden_layer_sizes must be None or a non-empty sequence of positive "
                    f"integers (the victim's hidden widths); got {hs!r}.")
        p = self.precision
        if not (p == "auto" or (isinstance(p, (float, int)) and not isinstance(p, bool)
                                and 0 < p < 1)):
            raise ValueError(f"precision must be 'auto' or a float in (0, 1); got {p!r}.")

    def _check_oracle(self, oracle):
        if oracle.n_features is None:
            raise ValueError(
                "FunctionallyEquivalent needs the input width: build the oracle with "
                "n_features=... or a domain."
            )
        if oracle.output == "proba" and oracle.n_classes is not None and oracle.n_classes < 2:
            raise ValueError("a probability oracle needs at least two classes.")

    # ------------------------------------------------------------------ driver
    def _extract(self, run: Run) -> None:
        self._setup(run)
        st = self._state
        if self.hidden_layer_sizes is not None and len(self.hidden_layer_sizes) >= 2:
            self._extract_deep(run)
            return
        try:
            self._estimate_precision(run)
            lines = [self._new_line(run) for _ in range(self.n_lines)]
            searches = self._critical_point_search(run, lines)
            for s in searches:
                self._weight_recovery(run, s)
            # the search ends when a line shows no new unit and every kink seen is
            # explained; lines across a box are short and cross few hyperplanes, so
            # there several lines in a row must show nothing new. A fit that leaves
            # answers unexplained sends new lines through the worst of them (a unit
            # not yet found is active there)
            patience = 3 if st["closed"] else 1
            empty = 0 if st["new_on_last"] > 0 or st["unexplained"] else 1
            while True:
                tries = 0
                while (len(st["searches"]) < self.max_lines and empty < patience
                       and tries < 4 * self.max_lines):
                    tries += 1  # guard: lines of zero length are not searched
                    for s in self._critical_point_search(run, [self._new_line(run)]):
                        self._weight_recovery(run, s)
                        empty = 0 if st["new_on_last"] > 0 or st["unexplained"] else empty + 1
                if self.refine is True or (self.refine == "auto" and st["eps"] > 1e-10):
                    self._precision_refinement(run)
                X, Y = self._last_layer_points(run)
                self._last_layer(run, X, Y)
                bad = self._unexplained_points(run, X, Y)
                if bad.size == 0 or len(st["searches"]) >= self.max_lines:
                    break
                st["hints"] = list(X[bad[:patience + 1]])
                empty = 0
        except BudgetExhausted as exc:
            self._partial(run, exc)
            return
        self._sign_recovery(run, X, Y)
        try:
            self._verify(run)
        except BudgetExhausted as exc:
            run.status = "budget_exhausted"
            run.message = f"the copy is complete but its verification was cut short: {exc}"

    def _extract_deep(self, run):
        """Layer-by-layer peeling (Carlini et al. 2020); see ``_deep_extraction``."""
        from ._deep_extraction import DeepExtraction

        if self._state["closed"]:
            raise ValueError(
                "deeper networks are extracted over an open input domain only; build "
                "the oracle with n_features=... (or an unbounded domain).")
        deep = None
        try:
            self._estimate_precision(run)
            deep = DeepExtraction(self, run, self.hidden_layer_sizes)
            done, msg = deep.extract(max(self.max_lines, 4))
        except BudgetExhausted as exc:
            run.status = "budget_exhausted"
            n = deep.info.get("layers_done", 0) if deep is not None else 0
            run.message = (f"{exc} {n} of {len(self.hidden_layer_sizes)} hidden layers "
                           "were recovered; the copy is those layers and a least-squares "
                           "output layer.")
            if deep is not None:
                run.model = deep.partial_model()
            return
        try:
            self._verify(run)
        except BudgetExhausted as exc:
            run.status = "budget_exhausted"
            run.message = f"the copy is complete but its verification was cut short: {exc}"
            return
        err = run.info.get("max_logit_error", float("nan"))
        if not done:
            run.status = "approximate"
            run.message = (f"{msg}; the copy is the {deep.info['layers_done']} recovered "
                           f"layers and a least-squares output layer (largest logit error "
                           f"on fresh points {err:.3g}).")
        elif run.status == "success":
            run.message = (f"{msg}; largest logit error on fresh points {err:.3g} (victim "
                           f"precision {self._state['eps']:.3g}).")
        else:
            run.message = (f"{msg}, but the largest logit error on fresh points is "
                           f"{err:.3g}: some unit is wrong or missing (see info).")

    def _setup(self, run):
        oracle = run.oracle
        d = int(oracle.n_features)
        dom = oracle.domain
        center, scale = np.zeros(d), np.ones(d)
        closed = False
        lo = hi = None
        if dom is not None:
            lo, hi = dom.lower.copy(), dom.upper.copy()
            fin = np.isfinite(lo) & np.isfinite(hi)
            center[fin] = 0.5 * (lo[fin] + hi[fin])
            scale[fin] = 0.5 * (hi[fin] - lo[fin])
            closed = dom.closed
            if not closed:
                pos = scale[fin & (scale > 0)]
                scale[scale <= 0] = np.median(pos) if pos.size else 1.0
        free = np.flatnonzero(scale > 0)
        self._state = {
            "d": d, "center": center, "scale": scale, "free": free, "closed": closed,
            "lo": lo, "hi": hi, "searches": [], "units": [], "bank_X": [], "bank_Y": [],
            "new_on_last": 0, "unexplained": 0, "rejected": 0, "phase_queries": {},
            "output": oracle.output, "classes": oracle.classes_,
        }
        run.info.update({"n_units": 0, "unexplained_kinks": 0, "clusters": 0})

    def _answer(self, run, X, phase, bank=False):
        """Logits for a batch, through the oracle, in chunks; counted per phase."""
        st = self._state
        X = self._snap(X)
        out = []
        step = max(1, (1 << 22) // max(1, st["d"]))
        for s in range(0, len(X), step):
            A = run.oracle.query(X[s:s + step], phase=phase)
            out.append(answers_to_logits(A, st["output"]))
        F = np.concatenate(out)
        st["sigmoid"] = st["output"] == "proba" and A.ndim == 2 and A.shape[1] == 2
        st["phase_queries"][phase] = st["phase_queries"].get(phase, 0) + len(X)
        run.info["queries_by_phase"] = dict(st["phase_queries"])
        if bank:
            st["bank_X"].append(X)
            st["bank_Y"].append(F)
        return F

    def _snap(self, X):
        """The points as the victim sees them: rounded to float32 for a float32 victim.

        Snapping before asking means every difference divides by the step really
        taken, so the victim's input rounding adds no error of its own.
        """
        if self._state.get("input_dtype") == np.float32:
            return np.asarray(X, dtype=np.float32).astype(np.float64)
        return X

    def _tol(self, mag):
        """Rounding noise of logits of magnitude ``mag``.

        Logits read from two-class probabilities lose more: ``p0 = 1 - p1`` is only
        accurate to ``ε`` absolutely, so ``log p0`` to ``ε / p0 ≈ ε e^|z|``.
        """
        st = self._state
        mag = np.asarray(mag, dtype=float)
        noise = mag + st["F_scale"]
        if st.get("sigmoid"):
            noise = noise + np.exp(np.minimum(mag, 700.0))
        return st.get("tol_factor", 1024.0) * st["eps"] * noise

    # ------------------------------------------------------------------ phases
    def _estimate_precision(self, run):
        """The victim's rounding noise, from second differences on short segments."""
        st = self._state
        n, d = 16, st["d"]
        x = self._sample(run, n, inside=1e-3)
        u = run.rng.normal(size=(n, d)) * st["scale"]
        u[:, st["scale"] == 0] = 0
        h = 1e-5
        X = np.concatenate([x + j * h * u for j in range(-2, 3)])
        F = self._answer(run, X, "precision", bank=True).reshape(5, n, -1)
        sd = np.abs(F[:-2] - 2 * F[1:-1] + F[2:]).max(axis=2)
        mag = np.abs(F).max(axis=2).max(axis=0)
        st["F_scale"] = float(np.nanmedian(mag)) if np.isfinite(mag).any() else 1.0
        if self.precision == "auto":
            rel = sd / (mag + 1e-300)
            rel = rel[np.isfinite(rel)]
            eps = 4 * float(np.quantile(rel, 0.75)) if rel.size else _EPS64
            st["eps"] = float(min(max(eps, _EPS64), 1e-3))
        else:
            st["eps"] = float(self.precision)
        run.info["precision"] = st["eps"]
        # a victim noisier than float64 by orders of magnitude is taken to compute (and
        # round its inputs) in float32 or coarser
        coarse = st["eps"] > 1e-10
        st["input_dtype"] = np.float32 if coarse else np.float64
        # float64 rounding accumulates through the layers well past the noise measured
        # on the output, hence a wide slack; a float32 victim's noise is measured
        # reliably, and that wide a slack would let a crossed hyperplane pass as noise
        # (a finite difference off by ``slack / step``)
        st["tol_factor"] = 4.0 if coarse else 1024.0
        run.info["victim_precision"] = "float32 or coarser" if coarse else "float64"
        st["min_gap"] = max(np.sqrt(st["eps"]) * 1e-2, 1e-12)

    def _sample(self, run, n, inside=0.0, far=1.0):
        st = self._state
        z = run.rng.normal(size=(n, st["d"]))
        X = st["center"] + far * st["scale"] * z
        if st["closed"]:
            lo, hi = st["lo"], st["hi"]
            m = inside * (hi - lo)
            X = lo + m + (hi - lo - 2 * m) * run.rng.uniform(size=(n, st["d"]))
        return X

    def _face_points(self, run, n, inside=0.0):
        """Points of a closed box on its faces in a third of their coordinates each way."""
        st = self._state
        X = self._sample(run, n, inside=inside)
        face = run.rng.integers(0, 3, size=X.shape)
        m = inside * (st["hi"] - st["lo"])
        return np.where(face == 1, st["lo"] + m, np.where(face == 2, st["hi"] - m, X))

    def _new_line(self, run):
        st = self._state
        x0 = self._sample(run, 1, inside=0.05)[0]
        v = run.rng.normal(size=st["d"]) * st["scale"]
        hint = st["hints"].pop(0) if st.get("hints") else None
        if isinstance(hint, tuple):  # a point and a direction (an aimed line)
            hint, v = hint
        if hint is not None:
            x0 = hint
        if st["closed"]:
            # between two random points of the box: a random direction leaves a box
            # of many dimensions almost at once, the chord between two points does not.
            # The points lie on faces in a third of their coordinates each way, so the
            # chords also reach the box's faces and corners (where data often sit:
            # blank pixels, zero counts)
            ends = self._face_points(run, 2, inside=0.01)
            m = 0.01 * (st["hi"] - st["lo"])
            if hint is not None:
                ends[0] = np.clip(hint, st["lo"] + 2 * m, st["hi"] - 2 * m)
            x0, v = ends[0], ends[1] - ends[0]
        T = float(self.line_range)
        t_lo, t_hi = -T, T
        if st["closed"]:
            m = 1e-3 * (st["hi"] - st["lo"])
            lo, hi = st["lo"] + m, st["hi"] - m
            nz = v != 0
            a = (lo[nz] - x0[nz]) / v[nz]
            b = (hi[nz] - x0[nz]) / v[nz]
            t_lo = max(t_lo, float(np.max(np.minimum(a, b))))
            t_hi = min(t_hi, float(np.min(np.maximum(a, b))))
        if st["output"] == "proba":
            t_lo, t_hi = self._finite_range(run, x0, v, t_lo, t_hi)
        return x0, v, t_lo, t_hi

    def _finite_range(self, run, x0, v, t_lo, t_hi):
        """The stretch around ``t = 0`` where probabilities have not underflowed."""
        k = np.arange(48)
        ts = np.concatenate([t_lo * 2.0 ** -k, t_hi * 2.0 ** -k])
        F = self._answer(run, x0 + ts[:, None] * v, "search", bank=True)
        ok = np.isfinite(F).all(axis=1)
        lo_ok, hi_ok = ok[:48][::-1], ok[48:][::-1]
        n_lo = np.argmin(lo_ok) if not lo_ok.all() else 48
        n_hi = np.argmin(hi_ok) if not hi_ok.all() else 48
        new_lo = ts[:48][::-1][n_lo - 1] if n_lo else 0.0
        new_hi = ts[48:][::-1][n_hi - 1] if n_hi else 0.0
        return float(new_lo), float(new_hi)

    def _critical_point_search(self, run, lines):
        """Kinks on each line (see :func:`~mlextract.nn._critical_points.search_lines`)."""
        st = self._state
        lines = [ln for ln in lines if ln[3] > ln[2]]
        searches, complete = search_lines(
            lambda X: self._answer(run, X, "critical_point_search"),
            lines, n_grid=self.n_grid, tol=self._tol, min_gap=st["min_gap"],
        )
        for s in searches:
            keep = np.isfinite(s.F).all(axis=1)
            st["bank_X"].append(s.x0 + s.t[keep, None] * s.v)
            st["bank_Y"].append(s.F[keep])
            s.owner = [-1] * len(s.kinks)
            s.kinks.sort(key=lambda k: k[0])
            st["searches"].append(s)
            self._assign(s)
        if not complete:
            run.info["search_incomplete"] = True
        run.info["clusters"] = sum(len(s.clusters) for s in st["searches"])
        run.info["n_lines"] = len(st["searches"])
        return searches

    def _assign(self, s, units=None):
        """Give each kink of ``s`` predicted by a known unit to that unit."""
        st = self._state
        units = st["units"] if units is None else units
        if not s.kinks or not units:
            return
        ts = np.array([k[0] for k in s.kinks])
        ds = np.array([k[1] for k in s.kinks])
        tt = self._t_tol()
        for u in units:
            wv = float(u["w"] @ s.v)
            if wv == 0:
                continue
            tp = -(u["w"] @ s.x0 + u["b"]) / wv
            dp = u["alpha"] * abs(wv)
            close = np.abs(ts - tp) <= tt * max(1.0, abs(tp))
            close &= np.linalg.norm(ds - dp, axis=1) <= self._rel_tol() * np.linalg.norm(dp)
            for j in np.flatnonzero(close):
                if s.owner[j] < 0:
                    s.owner[j] = u["id"]
                    pt = s.x0 + ts[j] * s.v
                    # the unit's reference point moves to the kink nearest the centre,
                    # only on a tight match (a loose one may be another unit's kink)
                    tight = abs(ts[j] - tp) <= 1e-2 * tt * max(1.0, abs(tp))
                    if tight and self._radius(pt) < self._radius(u["point"]):
                        u["point"] = pt
                        u["b"] = float(-u["w"] @ pt)

    def _radius(self, x):
        st = self._state
        sc = np.where(st["scale"] > 0, st["scale"], 1.0)
        return float(np.linalg.norm((x - st["center"]) / sc))

    def _t_tol(self):
        return 1e2 * np.sqrt(self._state["eps"])

    def _rel_tol(self):
        return 1e2 * np.sqrt(self._state["eps"])

    def _weight_recovery(self, run, s):
        """Units from the kinks of line ``s`` that no known unit explains."""
        st = self._state
        st["new_on_last"] = 0
        todo = [j for j, o in enumerate(s.owner) if o < 0]
        if not todo:
            return
        ts = np.array([k[0] for k in s.kinks])
        bounds = np.concatenate([ts, np.ravel(s.clusters) if s.clusters else [],
                                 [s.t[0], s.t[-1]]])
        sc = st["scale"][st["free"]]
        # a step along one coordinate moves a unit's pre-activation about sqrt(d)
        # times less than the same length along the line
        sqp = max(1.0, np.sqrt(st["free"].size) / 4)
        eps_scale = 0.5 * sqp * np.abs(s.v[st["free"]]).mean() / sc.mean() * sc
        D, ok = gradient_jumps(
            lambda X: self._answer(run, X, "weight_recovery"), s.x0, s.v, ts[todo],
            bounds, st["free"], eps_scale, self._tol, snap=self._snap,
            box=(st["lo"], st["hi"]) if st["closed"] else None,
        )
        x_star = s.x0 + ts[todo][:, None] * s.v
        new = []
        for i, j in enumerate(todo):
            if not ok[i]:
                continue
            w, b, alpha, rank1, line = unit_from_jump(
                D[i], s.kinks[j][1], x_star[i], s.v, st["free"], st["d"]
            )
            if rank1 > self._rel_tol() or line > self._rel_tol():
                continue
            new.append({"w": w, "b": b, "alpha": alpha, "point": x_star[i], "kink": (s, j)})
        passed = self._hyperplane_test(run, new)
        for u, good in zip(new, passed):
            s_, j = u.pop("kink")
            if not good:
                st["rejected"] += 1
                continue
            u["id"] = len(st["units"])
            st["units"].append(u)
            s_.owner[j] = u["id"]
            st["new_on_last"] += 1
            for other in st["searches"]:
                self._assign(other, [u])
        st["unexplained"] = sum(o < 0 for x in st["searches"] for o in x.owner)
        run.info["n_units"] = len(st["units"])
        run.info["unexplained_kinks"] = st["unexplained"]

    def _hyperplane_test(self, run, units, n_points=3):
        """Second differences across each unit's hyperplane at random points of it.

        At a point ``p`` of the hyperplane and a direction ``u``,
        ``F(p+hu) - 2F(p) + F(p-hu) = h α |w·u|``; a "unit" made of two units
        crossing a line together has no such hyperplane and fails.
        """
        st = self._state
        if not units:
            return []
        d = st["d"]
        P, U, H = [], [], []
        for u in units:
            for _ in range(n_points):
                r = 0.1 * st["scale"] * run.rng.normal(size=d)
                r -= (u["w"] @ r) * u["w"]  # a move within the hyperplane
                if st["closed"]:  # shortened to stay in the box
                    with np.errstate(divide="ignore", invalid="ignore"):
                        room = np.where(r > 0, st["hi"] - u["point"], u["point"] - st["lo"])
                        lam = np.nanmin(np.where(r != 0, room / np.abs(r), np.inf))
                    r *= min(1.0, 0.5 * max(float(lam), 0.0))
                q = u["point"] + r
                p = q - (u["w"] @ q + u["b"]) * u["w"]
                dirn = run.rng.normal(size=d) * st["scale"]
                P.append(p)
                U.append(dirn)
                # the step makes the expected second difference ~100x the noise
                slope = np.abs(u["alpha"]).max() * abs(u["w"] @ dirn)
                H.append(min(0.1, max(1e-4, 100 * float(self._tol(st["F_scale"]))
                                      / max(slope, 1e-300))))
        P, U, H = np.array(P), np.array(U), np.array(H)[:, None]
        if st["closed"]:
            P = np.clip(P, st["lo"], st["hi"])
            # shorten steps that would leave the box
            with np.errstate(divide="ignore", invalid="ignore"):
                room = np.minimum(P - st["lo"], st["hi"] - P) / np.abs(U)
            room[~np.isfinite(room)] = np.inf
            H = np.minimum(H, 0.999 * room.min(axis=1, keepdims=True))
        X = np.concatenate([P - H * U, P, P + H * U])
        F = self._answer(run, X, "weight_recovery").reshape(3, len(P), -1)
        sd = F[0] - 2 * F[1] + F[2]
        out = []
        for i, u in enumerate(units):
            good = False
            for r in range(i * n_points, (i + 1) * n_points):
                pred = H[r, 0] * u["alpha"] * abs(u["w"] @ U[r])
                mag = np.abs(F[:, r]).max()
                err = np.abs(sd[r] - pred).max()
                if (np.abs(pred).max() > 10 * self._tol(mag)
                        and err <= self._tol(mag) + self._rel_tol() * np.abs(pred).max()):
                    good = True
            out.append(good)
        return out

    def _precision_refinement(self, run, extra=8):
        """Refit each unit's hyperplane through freshly located critical points.

        Around ``2d + extra`` points ``p`` of the unit's estimated hyperplane, the
        function along the normal ``p + t w`` is two linear pieces meeting at the true
        hyperplane; four queries at ``t = ±δ, ±2δ`` give both pieces, their meeting
        point ``t*``, and a fifth at ``t*`` verifies it (another unit in the way
        fails it). The hyperplane through the points ``p + t* w`` is the best-fitting
        plane (smallest singular vector): its error is the points' ``O(ε)``, not the
        ``O(ε / step)`` of a finite difference.
        """
        st = self._state
        units = st["units"]
        if not units:
            return
        d, free = st["d"], st["free"]
        n = 2 * free.size + extra  # well-conditioned: a square random design is not
        sc = st["scale"]
        delta = 0.02 * float(np.median(sc[free]))
        P, Wn = [], []
        for u in units:
            # around the plane's point nearest the centre, where the copy is used
            # most (an error of the normal grows with the distance from the points)
            c = st["center"] - (u["w"] @ st["center"] + u["b"]) * u["w"]
            if st["closed"] and not np.all((c >= st["lo"]) & (c <= st["hi"])):
                c = u["point"]
            R = 0.5 * sc * run.rng.normal(size=(n, d))
            R -= np.outer(R @ u["w"], u["w"])
            if st["closed"]:
                with np.errstate(divide="ignore", invalid="ignore"):
                    room = np.where(R > 0, st["hi"] - c, c - st["lo"])
                    lam = np.where(R != 0, room / np.abs(R), np.inf)
                lam = np.nan_to_num(lam, nan=np.inf).min(axis=1, keepdims=True)
                R *= np.minimum(1.0, 0.5 * np.maximum(lam - 2 * delta, 0.0))
            P.append(c + R)
            Wn.append(np.repeat(u["w"][None], n, axis=0))
        P, Wn = np.concatenate(P), np.concatenate(Wn)
        T = delta * np.array([-2.0, -1.0, 1.0, 2.0])
        X = np.concatenate([P + t * Wn for t in T])
        F = self._answer(run, X, "refinement").reshape(4, len(P), -1)
        sl = (F[1] - F[0]) / delta
        sr = (F[3] - F[2]) / delta
        cl, cr = F[1] + delta * sl, F[2] - delta * sr  # both lines' values at t = 0
        dS = sr - sl
        nd = np.einsum("ij,ij->i", dS, dS)
        with np.errstate(divide="ignore", invalid="ignore"):
            ts = np.einsum("ij,ij->i", cl - cr, dS) / nd
        good = np.isfinite(ts) & (np.abs(ts) < delta)
        ts = np.where(good, ts, 0.0)
        Xc = P + ts[:, None] * Wn
        Fc = self._answer(run, Xc, "refinement")
        pred = np.where((ts >= 0)[:, None], cr + ts[:, None] * sr, cl + ts[:, None] * sl)
        mag = np.abs(F).max(axis=(0, 2))
        good &= np.abs(Fc - pred).max(axis=1) <= self._tol(mag)
        n_refined = 0
        for i, u in enumerate(units):
            sel = slice(i * n, (i + 1) * n)
            Q = Xc[sel][good[sel]][:, free]
            if Q.shape[0] < free.size + 2:
                continue
            # trimmed least squares from the first estimate: refit through the 60%
            # of points nearest the current plane, then keep those within 4 times
            # the median distance (a point another unit disturbed is far off)
            wf, b0, sv = u["w"][free], u["b"], None
            for it in range(5):
                res = np.abs(Q @ wf + b0)
                cut = np.quantile(res, 0.6) if it < 4 else 4 * np.median(res)
                sub = Q[res <= cut]
                if sub.shape[0] < free.size + 2:
                    break
                mu = sub.mean(axis=0)
                _, sv, Vt = np.linalg.svd(sub - mu, full_matrices=False)
                wf = Vt[-1] if Vt[-1] @ wf >= 0 else -Vt[-1]
                b0 = float(-wf @ mu)
            w = np.zeros(d)
            w[free] = wf
            # accept only a refinement that stays near the first estimate and whose
            # points lie on one plane
            if (sv is None or np.linalg.norm(w - u["w"]) > self._rel_tol()
                    or sv[-1] > 1e-2 * sv[-2]):
                continue
            u["w"] = w
            u["b"] = b0
            u["point"] = u["point"] - (w @ u["point"] + u["b"]) * w
            n_refined += 1
        run.info["units_refined"] = n_refined
        # a unit found twice (its first estimate too rough for the kinks of later
        # lines to be assigned to it) is one hyperplane once refined: keep one
        # (orientations may differ: w and -w are the same hyperplane)
        keep, close = [], 10 * np.sqrt(st["eps"])
        for u in units:
            if not any(min(np.linalg.norm(u["w"] - sg * k["w"]) + abs(u["b"] - sg * k["b"])
                           for sg in (1.0, -1.0)) < close for k in keep):
                keep.append(u)
        if len(keep) < len(units):
            run.info["duplicates_merged"] = len(units) - len(keep)
            st["units"] = keep
            run.info["n_units"] = len(keep)

    def _fit_limit(self, mag):
        """The largest logit error an exact copy may show on answers of size ``mag``.

        float64: ``sqrt(ε)`` relative (far above rounding, far below a missing unit);
        a coarser victim: ten times its measured noise, which refinement reaches.
        """
        st = self._state
        if st["input_dtype"] == np.float32:
            return 10 * self._tol(mag)
        return np.maximum(np.sqrt(st["eps"]) * (1.0 + mag), 100 * self._tol(mag))

    def _unexplained_points(self, run, X, Y):
        """Rows the exact fit (units and a linear term) misses, worst first."""
        Z = run.model.logits(X)
        ok = np.isfinite(Y).all(axis=1)
        r = np.where(ok, np.abs(Z - np.nan_to_num(Y)).max(axis=1), 0.0)
        mag = np.where(ok, np.abs(np.nan_to_num(Y)).max(axis=1), 0.0)
        bad = np.flatnonzero(r > self._fit_limit(mag))
        run.info["unexplained_points"] = int(bad.size)
        return bad[np.argsort(-r[bad])]

    def _last_layer_points(self, run):
        st = self._state
        h, p = len(st["units"]), st["free"].size
        n = h + p + 1 + max(32, (h + p) // 4)
        X = np.empty((n, st["d"]))
        n_near = n // 2 if h else 0
        for r in range(n_near):
            u = st["units"][r % h]
            step = [0.03, 0.3, 1.0][r % 3]
            X[r] = u["point"] + step * st["scale"] * run.rng.normal(size=st["d"])
        X[n_near:] = self._sample(run, n - n_near, inside=1e-3)
        if st["closed"]:  # faces and corners too, where a unit may live alone
            X[n_near::2] = self._face_points(run, X[n_near::2].shape[0])
            X = np.clip(X, st["lo"], st["hi"])
        X = self._snap(X)
        Y = self._answer(run, X, "last_layer", bank=True)
        return X, Y

    def _last_layer(self, run, X, Y):
        """Output weights by least squares, with a linear term (any signs fit)."""
        st = self._state
        W, b = self._units_matrix()
        A, c, L, res, deficient = fit_last_layer(X, Y, W, b, free=st["free"])
        st["fit"] = (W, b, A, c, L)
        run.info["last_layer_residual"] = res
        run.info["rank_deficient"] = deficient
        run.model = self._model(W, b, A, c, skip=L)
        st["skip_model"] = run.model

    def _sign_recovery(self, run, X, Y):
        """Signs from the linear term; refit without it when they are exact."""
        st = self._state
        W, b, A, c, L = st["fit"]
        signs, method = recover_signs(W, A, L, free=st["free"],
                                      max_subsets=self.max_sign_subsets,
                                      tol=max(1e-6, self._rel_tol()))
        run.info["sign_method"] = method
        if signs is None:
            run.info["signs_recovered"] = False
            return
        W2, b2 = W * signs[:, None], b * signs
        A2, c2, _, res, _ = fit_last_layer(X, Y, W2, b2, linear=False)
        res_skip = run.info.get("last_layer_residual", 0.0)
        mag = float(np.nanmax(np.abs(Y))) if Y.size else 0.0
        if res > max(10 * res_skip, float(self._tol(mag))):
            # in a box a unit may be on (or off) at every point asked: the linear term
            # then also holds it, and the signs read off it are not the victim's
            run.info["signs_recovered"] = False
            run.info["sign_method"] = (f"{method}: signs rejected, the refit without a "
                                       f"linear term misses by {res:.3g}")
            return
        run.info["signs_recovered"] = True
        run.info["last_layer_residual"] = res
        run.model = self._model(W2, b2, A2, c2)

    def _verify(self, run):
        """Largest logit error on fresh points: the domain, and 100 times farther."""
        st = self._state
        n = int(self.n_verify)
        if n == 0 or run.model is None:
            return
        n_far = 0 if st["closed"] else n // 2
        Xd = self._sample(run, n - n_far, inside=1e-3)
        if st["closed"]:
            Xd[::2] = self._face_points(run, Xd[::2].shape[0])
        Xf = self._sample(run, n_far, far=100.0)
        X = self._snap(np.concatenate([Xd, Xf]))
        Y = self._answer(run, X, "verify")
        err = np.abs(self._copy_logits(run.model, X) - Y)
        skip = st.get("skip_model")
        if skip is not None and skip is not run.model:
            # signs read off the linear term can be wrong in a box (see
            # _sign_recovery); the copy with the linear term is exact whatever the
            # signs: keep it when it does better on these fresh points
            err_skip = np.abs(self._copy_logits(skip, X) - Y)
            if np.nanmax(err_skip) < 0.5 * np.nanmax(err):
                run.model, err = skip, err_skip
                run.info["signs_recovered"] = False
                run.info["sign_method"] += "; rejected on fresh points, linear term kept"
        ed = err[: n - n_far]
        mag = np.abs(Y[: n - n_far]).max()
        run.info["max_logit_error"] = float(np.nanmax(ed)) if ed.size else float("nan")
        if n_far:
            ef = err[n - n_far:] / np.maximum(1.0, np.abs(Y[n - n_far:]).max(axis=1))[:, None]
            run.info["max_relative_error_far"] = float(np.nanmax(ef))
        ok = run.info["max_logit_error"] <= float(self._fit_limit(mag))
        missing = st["unexplained"]
        if not ok:
            run.status = "approximate"
            run.message = (
                f"the copy's largest logit error on fresh points is "
                f"{run.info['max_logit_error']:.3g} (above what the victim's precision "
                f"allows, {float(self._fit_limit(mag)):.3g}): "
                f"{len(st['units'])} units found, {missing} kinks unexplained. The "
                "victim may not be a one-hidden-layer ReLU network."
            )
        else:
            run.message = (
                f"{len(st['units'])} units found; largest logit error on fresh points "
                f"{run.info['max_logit_error']:.3g} (victim precision {st['eps']:.3g})."
            )

    # ------------------------------------------------------------------ helpers
    def _units_matrix(self):
        st = self._state
        if not st["units"]:
            return np.zeros((0, st["d"])), np.zeros(0)
        W = np.array([u["w"] for u in st["units"]])
        b = np.array([u["b"] for u in st["units"]])
        return W, b

    def _copy_logits(self, model, X):
        Z = model.logits(X)
        if self._state["output"] == "proba" and Z.shape[1] > 1:
            Z = Z - Z.mean(axis=1, keepdims=True)
        return Z

    def _model(self, W, b, A, c, skip=None):
        st = self._state
        k = A.shape[1]
        output, classes = output_head(st["output"], st["classes"], k)
        if W.shape[0] == 0:  # no unit: a single dead unit keeps the shapes valid
            W, b, A = np.zeros((1, st["d"])), np.zeros(1), np.zeros((1, k))
        coefs, inter = [W.T, A], [b, c]
        if skip is not None:
            return LinearSkipNetwork(coefs, inter, skip=skip, output=output, classes=classes)
        return Network(coefs, inter, output=output, classes=classes)

    def _partial(self, run, exc):
        """The best copy when the budget runs out: units so far, a linear term, LS."""
        st = self._state
        run.status = "budget_exhausted"
        n_u = len(st["units"])
        run.message = (
            f"{exc} Found {n_u} units before the budget ran out"
            f" ({st['unexplained']} kinks seen but not yet explained); the copy is a "
            "least-squares fit of those units and a linear term to the answers so far."
        )
        run.info["n_units"] = n_u
        if st["bank_X"]:
            X = np.concatenate(st["bank_X"])
            Y = np.concatenate(st["bank_Y"])
            keep = np.isfinite(Y).all(axis=1)
            if keep.any():
                W, b = self._units_matrix()
                A, c, L, _, _ = fit_last_layer(X[keep], Y[keep], W, b, free=st["free"])
                run.model = self._model(W, b, A, c, skip=L)
