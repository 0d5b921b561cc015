"""Layer-by-layer extraction of deeper ReLU networks (Carlini, Jagielski, Mironov 2020).

With the first ``l - 1`` layers known, the victim's hidden activations
``a_{l-1}(x)`` and their Jacobian ``J_{l-1}(x) = ∂a_{l-1}/∂x`` can be computed without
a query. At a critical point ``x*`` of a unit of layer ``l`` (its pre-activation
``u·a_{l-1}(x) + b`` is zero there) the gradient of the output jumps by a rank-one
matrix whose input-space factor is the local normal

    n(x*) ∝ J_{l-1}(x*)ᵀ u,

so ``u`` restricted to the units of layer ``l - 1`` active at ``x*`` solves a small
linear system (unique while those units' rows of ``J`` are independent: a
*contracting* region). A unit of layer ``l`` has the same ``(u, b)`` at all its
critical points, far apart; a unit of a deeper layer has a different local ``(u, b)``
in every region of layer ``l``. Layer ``l``'s units are therefore the clusters of
critical points whose partial signatures agree (on their common support), seen on
several lines. Each cluster is solved jointly (all its normals and the hyperplane
equations ``u·a_{l-1}(x*) + b = 0``) and its sign recovered; then the next layer is
peeled. The last hidden layer's signs come from one least-squares fit.

Precision (§4.4): each unit is refitted through many points located on its
boundary to rounding precision. The boundary predicted by the current estimate is
reached anywhere in the domain by Newton steps on the known layers (no query);
along its local normal two linear pieces of the victim's answer meet at the true
crossing. In ``a_{l-1}`` space these points lie exactly on the unit's hyperplane;
they are chosen so that every coordinate is active at several (a coordinate's
weight is seen only there) and the row is their smallest singular vector, each
equation weighted by its precision. The output layer is a final least-squares fit
on points where every last hidden unit is on.

Layer-1 is the special case ``a_0(x) = x``, ``J_0 = I``.

Signs: an inner layer's by *freezing* (a direction ``e`` with ``W_l[j] J e = 0`` for
the other units that may be on and ``W_l[i] J e = 1``: on the side where unit ``i``
is off the answer does not move), which needs the layer to contract at some
critical point of the unit; the last hidden layer's from the linear term of one
least-squares fit (``relu(-z) = relu(z) - z``), as for two layers.

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884), §4.3-4.4 and §5.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._critical_points import search_lines
from ._sign_recovery import fit_last_layer, output_head, recover_signs
from ._weight_recovery import gradient_jumps, unit_from_jump

__all__ = ["forward_known", "activation_jacobian", "signature", "joint_solve",
           "cluster_signatures", "exact_hyperplane_fit", "DeepExtraction"]


def forward_known(X, layers):
    """Activations of the last known layer for each row of ``X``.

    ``layers`` is a list of ``(W, b)`` with ``W`` of shape (fan_out, fan_in).
    """
    A = np.asarray(X, dtype=np.float64)
    for W, b in layers:
        A = np.maximum(A @ W.T + b, 0.0)
    return A


def activation_jacobian(x, layers):
    """``a_l(x)``, ``J_l(x) = ∂a_l/∂x`` and the pre-activations of every known layer."""
    a = np.asarray(x, dtype=np.float64)
    J = np.eye(a.size)
    Z = []
    for W, b in layers:
        z = W @ a + b
        Z.append(z)
        on = z > 0
        J = (W @ J) * on[:, None]
        a = np.where(on, z, 0.0)
    return a, J, Z


def signature(normal, a, J, *, rank_tol=1e-9, res_tol=1e-6):
    """A critical point's partial signature in the space of the last known layer.

    Solves ``J[S]ᵀ u = n`` on the active units ``S`` (rows of ``J`` not zero).

    Returns
    -------
    S : ndarray of int or None
        The support (None when the rows of ``J[S]`` are dependent, an *expansive*
        region, or the normal is not in their span).
    u : ndarray of shape (len(S),)
    b : float
        ``-u·a[S]`` (the hyperplane passes through the point).
    """
    S = np.flatnonzero(np.abs(J).max(axis=1) > 0)
    if S.size == 0:
        return None, None, None
    JS = J[S]
    sv = np.linalg.svd(JS, compute_uv=False)
    if sv.size < S.size or sv[-1] < rank_tol * sv[0]:
        return None, None, None
    u, *_ = np.linalg.lstsq(JS.T, normal, rcond=None)
    if np.linalg.norm(JS.T @ u - normal) > res_tol * np.linalg.norm(normal):
        return None, None, None
    b = float(-u @ a[S])
    nrm = np.linalg.norm(u)
    return S, u / nrm, b / nrm


def _match(p, q, min_common, tol):
    """True when two partial signatures are proportional on their common support."""
    Sp, up, bp = p
    Sq, uq, bq = q
    common, ip, iq = np.intersect1d(Sp, Sq, return_indices=True)
    if common.size < min_common:
        return False
    x = np.append(up[ip], bp)
    y = np.append(uq[iq], bq)
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    if nx == 0 or ny == 0:
        return False
    return 1.0 - abs(x @ y) / (nx * ny) <= tol


def cluster_signatures(sigs, *, min_common=2, tol=1e-8):
    """Union-find clusters of matching signatures; ``sigs`` is a list of (S, u, b)."""
    n = len(sigs)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if find(i) != find(j) and _match(sigs[i], sigs[j], min_common, tol):
                parent[find(j)] = find(i)
    groups = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def joint_solve(members, n_prev):
    """One unit's ``(u, b)`` from all its critical points at once.

    Each member ``(x*, n, a, J)`` asks ``Jᵀu ∥ n`` (its normal) and
    ``u·a + b = 0`` (its hyperplane passes through ``x*``); the homogeneous system's
    smallest right singular vector is the unit, up to sign. Only coordinates active
    at some member enter (a coordinate never active is unconstrained: ``e_i`` would
    solve any such system).

    Returns
    -------
    u : ndarray of shape (n_prev,)
        Zero on the coordinates never active at a member.
    b : float
    residual : float
        Smallest singular value relative to the largest (consistency).
    gap : float
        Second smallest relative to the largest (identifiability).
    covered : ndarray of bool, shape (n_prev,)
        The coordinates active at some member.
    """
    covered = np.zeros(n_prev, dtype=bool)
    for *_, J in members:
        covered |= np.abs(J).max(axis=1) > 0
    C = np.flatnonzero(covered)
    rows = []
    for _, normal, a, J in members:
        P = np.eye(normal.size) - np.outer(normal, normal)
        R = P @ J[C].T
        rows.append(np.hstack([R, np.zeros((R.shape[0], 1))]))
        r = np.append(a[C], 1.0)
        rows.append(r[None] / (np.linalg.norm(r) + 1e-300))
    M = np.vstack(rows)
    _, sv, Vt = np.linalg.svd(M, full_matrices=False)
    if C.size == 0 or Vt.shape[0] < C.size + 1:
        return None, None, np.inf, 0.0, covered
    v = Vt[-1]
    u = np.zeros(n_prev)
    u[C] = v[:C.size]
    b = v[C.size]
    nrm = np.linalg.norm(u)
    if nrm == 0:
        return None, None, np.inf, 0.0, covered
    return u / nrm, b / nrm, float(sv[-1] / sv[0]), float(sv[-2] / sv[0]), covered


def hyperplane_fit(points_a, prior=None):
    """``(u, b)`` with ``u·a + b = 0`` through many points (smallest singular vector).

    Trimmed: starting from ``prior`` (or a plain fit), refit through the 60% of
    points nearest the current plane, then through those within 4 times the
    median distance (a point on another unit's boundary is far off).
    Returns ``u, b, residual, gap`` (relative singular values) and the rows kept.
    """
    A = np.hstack([points_a, np.ones((points_a.shape[0], 1))])
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    keep = np.ones(A.shape[0], dtype=bool)
    v = None if prior is None else np.append(prior[0], prior[1])
    sv = None
    for it in range(6):
        if v is not None:
            r = np.abs(A @ v)
            q = max(0.6, min(1.0, (A.shape[1] + 8) / A.shape[0]))
            cut = np.quantile(r, q) if it < 3 else max(4 * np.median(r),
                                                      np.quantile(r, q))
            keep = r <= max(cut, 1e-300)
        if keep.sum() < A.shape[1]:
            break
        _, sv, Vt = np.linalg.svd(A[keep], full_matrices=False)
        v = Vt[-1]
    if sv is None or sv.size < A.shape[1]:
        return None, None, np.inf, 0.0, keep
    n = np.linalg.norm(v[:-1])
    return v[:-1] / n, v[-1] / n, float(sv[-1] / sv[0]), float(sv[-2] / sv[0]), keep


def exact_hyperplane_fit(points_a, sigma=None, prior=None, max_rounds=4, factor=100.0):
    """``(u, b)`` with ``u·a + b = 0`` through points located to rounding precision.

    A smallest-singular-vector fit of the rows ``[a, 1]``, each divided by its
    expected residual ``sigma`` (for a unit-norm ``u``; rows normalised when not
    given); a point much farther off than the typical one (``factor`` times the
    median: a crossing of another unit that passed the checks) is dropped and the
    fit repeated; with a ``prior`` ``(u, b)`` the first round's distances are
    measured from it (an estimate already much closer than an outlier).
    Returns ``u, b, residual, gap`` (relative singular values of the normalised
    rows) and the rows kept, or Nones when the kept rows do not determine the
    plane.
    """
    A0 = np.hstack([points_a, np.ones((points_a.shape[0], 1))])
    A0 = A0 / np.linalg.norm(A0, axis=1, keepdims=True)
    if sigma is None:
        A = A0
    else:
        w = 1.0 / np.maximum(np.asarray(sigma, float), 1e-300)
        A = np.hstack([points_a, np.ones((points_a.shape[0], 1))]) * w[:, None]
        A = A / np.median(np.linalg.norm(A, axis=1))
    keep = np.ones(A.shape[0], dtype=bool)
    v = None
    if prior is not None:
        v = np.append(prior[0], prior[1])
        v = v / np.linalg.norm(v)
    for it in range(max_rounds + 1):
        if it > 0 or v is None:
            if keep.sum() < A.shape[1]:
                return None, None, np.inf, 0.0, keep
            _, sv, Vt = np.linalg.svd(A[keep], full_matrices=False)
            v = Vt[-1]
        r = np.abs(A @ v)
        far = r > factor * max(np.median(r[keep]), 1e-17)
        if it > 0 and not (far & keep).any():
            break
        keep &= ~far
    n = np.linalg.norm(v[:-1])
    if sv.size < A.shape[1] or n == 0:
        return None, None, np.inf, 0.0, keep
    sv0 = np.linalg.svd(A0[keep], compute_uv=False)
    res = float(np.abs(A0[keep] @ v).max() / sv0[0])
    return v[:-1] / n, v[-1] / n, res, float(sv0[-2] / sv0[0]), keep


class DeepExtraction:
    """The peeling attack's state and phases; driven by ``FunctionallyEquivalent``.

    ``fe`` is the attack object (its ``_answer``, ``_new_line``, ``_tol`` and
    ``_state`` are reused); ``sizes`` the hidden layer sizes the attacker knows.
    """

    def __init__(self, fe, run, sizes):
        self.fe = fe
        self.run = run
        self.sizes = list(sizes)
        self.st = fe._state
        self.d = self.st["d"]
        self.points = []   # critical points: dicts x, normal, line, owner
        self.lines = 0
        self.layers = []   # finished layers: (W, b) with signs, rows normalised
        self.current = []  # units of the layer being peeled: dicts u, b, members
        self.info = run.info
        self.traces = 0
        self.refine_factor = 4
        self.rho = 2.0
        self.rho_deep = 0.5
        self.min_gap = 1e-4
        self.walk_margin = 0.2
        self.allow_confirm = False
        self.max_traces = 64 * sum(self.sizes)
        self.info.update({"layers_done": 0, "units_per_layer": [],
                          "critical_points": 0, "jumps": 0})

    # ---------------------------------------------------------------- queries
    def answer(self, X, phase):
        return self.fe._answer(self.run, X, phase)

    def add_lines(self, n):
        """Search ``n`` new random lines; record their critical points."""
        fe, st = self.fe, self.st
        lines = [fe._new_line(self.run) for _ in range(n)]
        lines = [ln for ln in lines if ln[3] > ln[2]]
        searches, complete = search_lines(
            lambda X: self.answer(X, "critical_point_search"), lines,
            n_grid=fe.n_grid, tol=fe._tol, min_gap=st["min_gap"])
        if not complete:
            self.info["search_incomplete"] = True
        for s in searches:
            s.kinks.sort(key=lambda k: k[0])
            ts = np.array([k[0] for k in s.kinks])
            for j, t in enumerate(ts):
                self.points.append({"x": s.x0 + t * s.v, "line": self.lines, "search": s,
                                    "j": j, "normal": None, "tried": False,
                                    "owner": None})
            self.lines += 1
            if hasattr(self, "bank"):
                keep = np.isfinite(s.F).all(axis=1)
                self.bank.append((s.x0 + s.t[keep, None] * s.v, s.F[keep]))
        self.info["n_lines"] = self.lines
        self.info["critical_points"] = len(self.points)

    def compute_normals(self, pts):
        """The input-space normal at each critical point (gradient jumps, batched per line)."""
        st = self.st
        free = st["free"]
        by_line = {}
        for p in pts:
            if not p["tried"]:
                by_line.setdefault(id(p["search"]), []).append(p)
        for group in by_line.values():
            s = group[0]["search"]
            ts_all = np.array([k[0] for k in s.kinks])
            bounds = np.concatenate([ts_all, np.ravel(s.clusters) if s.clusters else [],
                                     [s.t[0], s.t[-1]]])
            sc = st["scale"][free]
            sqp = max(1.0, np.sqrt(free.size) / 4)
            eps_scale = 0.5 * sqp * np.abs(s.v[free]).mean() / sc.mean() * sc
            idx = [p["j"] for p in group]
            D, ok = gradient_jumps(lambda X: self.answer(X, "weight_recovery"), s.x0, s.v,
                                   ts_all[idx], bounds, free, eps_scale, self.fe._tol,
                                   snap=self.fe._snap)
            self.info["jumps"] += len(group)
            for i, p in enumerate(group):
                p["tried"] = True
                if not ok[i]:
                    continue
                w, _, alpha, rank1, line = unit_from_jump(D[i], s.kinks[p["j"]][1], p["x"],
                                                          s.v, free, self.d)
                if rank1 > self.fe._rel_tol() or line > self.fe._rel_tol():
                    continue  # two units at once, or a noisy jump
                p["normal"] = w

    # ------------------------------------------------------------- the layers
    def explained(self, p, units_by_layer, tol=1e-7):
        """True when a known unit's pre-activation is (nearly) zero at the point
        (``tol`` relative to the terms' sizes)."""
        a = p["x"]
        for layer in units_by_layer:
            W, b = layer
            if W.shape[0] == 0:
                a = np.maximum(a @ W.T + b, 0.0) if W.size else a
                continue
            z = W @ a + b
            scale = np.abs(W) @ np.abs(a) + np.abs(b) + 1e-300
            if np.any(np.abs(z) <= tol * scale):
                return True
            a = np.maximum(z, 0.0)
        return False

    def peel(self, l, max_lines, patience=4, units=None):
        """Find the units of layer ``l`` (1-based); returns them as (W, b), signs unknown.

        ``units``: those found before (a search resumed after a failed self-check).
        """
        h = self.sizes[l - 1]
        n_prev = self.d if l == 1 else self.layers[-1][0].shape[0]
        units = [] if units is None else units
        empty = 0
        first = True
        while True:
            known = list(self.layers)
            cand = []
            for p in self.points:
                if p["owner"] is not None:
                    continue
                if self.explained(p, known):
                    p["owner"] = "known"
                    continue
                cand.append(p)
            # the units of this layer found so far explain some of them
            if units:
                Wc = np.array([u["u"] for u in units])
                bc = np.array([u["b"] for u in units])
                rest = []
                for p in cand:
                    a = forward_known(p["x"][None], known)[0]
                    z = Wc @ a + bc
                    sc = np.abs(Wc) @ np.abs(a) + np.abs(bc) + 1e-300
                    k = int(np.argmin(np.abs(z) / sc))
                    if abs(z[k]) <= 1e-7 * sc[k]:
                        p["owner"] = (l, k)
                        units[k]["extra"].append(p)
                    else:
                        rest.append(p)
                cand = rest
            self.compute_normals(cand)
            sigs, where = [], []
            for rnd_walk in range(2):
                for p in cand:
                    if p["normal"] is None:
                        continue
                    a, J, _ = activation_jacobian(p["x"], known)
                    S, u, b = signature(p["normal"], a, J)
                    if S is None:
                        continue
                    p["aJ"] = (a, J)
                    sigs.append((S, u, b))
                    where.append(p)
                n_sig = sum(1 for q in where if q["owner"] is None)
                if (rnd_walk or l == 1 or n_prev <= self.d or len(units) >= h
                        or n_sig >= 2 * (h - len(units))):
                    break
                # an expansive layer below where few kinks fall in regions that
                # contract: follow the boundaries of the others into such regions
                cand = self.walk_all(cand, known, h)
            new = 0
            groups = cluster_signatures(sigs, min_common=min(2, n_prev))
            groups = self.merge_fragments(groups, where, n_prev)
            # the clusters seen on the most lines first: a unit of this layer is
            # crossed by almost every line, a deeper unit's local plane rarely twice
            groups.sort(key=lambda g: -len({where[i]["line"] for i in g}))
            last_round = len(units) < h and (
                self.lines >= max_lines or (not first and not new and empty + 1 >= patience))
            for g in groups:
                lines = {where[i]["line"] for i in g}
                # the last hidden layer has no deeper unit to confuse with: there, a
                # unit seen on one line is kept when tracing confirms it (last round)
                few = last_round
                if len(lines) < (1 if few else 3) or len(units) >= h:
                    continue
                mem = [(where[i]["x"], where[i]["normal"], *where[i]["aJ"]) for i in g]
                u, b, res, gap, cov = joint_solve(mem, n_prev)
                cov_seen = cov.copy()
                uncovered = np.zeros(0, dtype=int)
                if (l > 1 and u is not None and res <= 1e-7 and gap >= 1e-7
                        and not cov.all() and self.traces < self.max_traces):
                    # follow the unit's boundary into regions where the coordinates
                    # it never saw are active (Carlini et al.: the critical points
                    # of one unit are connected)
                    extra = self.trace(u, b, cov, [where[i] for i in g], known)
                    if extra:
                        where.extend(extra)
                        g = g + list(range(len(where) - len(extra), len(where)))
                        mem = [(where[i]["x"], where[i]["normal"], *where[i]["aJ"])
                               for i in g]
                        u, b, res, gap, cov = joint_solve(mem, n_prev)
                        cov_seen = cov.copy()
                    if len(lines) < 3 and len(extra) < 2:
                        continue
                elif len(lines) < 3 and l == len(self.sizes):
                    continue
                if 1 < l < len(self.sizes) and u is not None and len(units) >= 2:
                    # a deeper unit's local hyperplane is consistent only inside one
                    # region of this layer: a unit of this layer has critical points
                    # in several (regions told by the units found so far; their
                    # orientation does not matter)
                    Wo = np.array([k["u"] for k in units])
                    bo = np.array([k["b"] for k in units])
                    A = forward_known(np.array([where[i]["x"] for i in g]), known)
                    if len({tuple(r) for r in (A @ Wo.T + bo > 0)}) < 2:
                        self.info[f"layer{l}_one_region"] = self.info.get(
                            f"layer{l}_one_region", 0) + 1
                        continue
                if (self.allow_confirm and 1 < l < len(self.sizes) and u is not None
                        and units):
                    # a deeper unit's local hyperplane seen in one region of this
                    # layer passes the tests above: a unit of this layer also kinks
                    # in the layer's other regions
                    others = (np.array([k["u"] for k in units]),
                              np.array([k["b"] for k in units]))
                    if not self.confirm(u, b, [where[i] for i in g], known, others):
                        self.info[f"layer{l}_unconfirmed"] = self.info.get(
                            f"layer{l}_unconfirmed", 0) + 1
                        continue
                if ((last_round or (l == len(self.sizes) and len(lines) >= 3))
                        and u is not None and res <= 1e-7 and gap >= 1e-7
                        and cov.sum() >= (min(2, n_prev) if l == len(self.sizes)
                                          else max(1, n_prev // 2))):
                    # the lines are used up (or, in the last hidden layer where no
                    # deeper unit can pose as one, a consistent cluster seen on
                    # several lines): keep the unit; its weights on the coordinates
                    # never active at its critical points are filled in refinement
                    self.info.setdefault(f"layer{l}_uncovered_weights", []).append(
                        int((~cov).sum()))
                    uncovered = np.flatnonzero(~cov)
                    cov = np.ones_like(cov)
                if u is None or res > 1e-7 or gap < 1e-7 or not cov.all():
                    # inconsistent, or a coordinate never seen active
                    key = f"layer{l}_rejected_clusters"
                    self.info[key] = self.info.get(key, []) + [
                        (len(g), len(lines), float(res), float(gap))]
                    continue
                dup = self.duplicate_of(u, b, cov_seen, units)
                if dup is not None:  # a fragment of a unit already found
                    self.merge_into(units[dup], [where[i] for i in g], (l, dup), n_prev)
                    continue
                unit = {"u": u, "b": b, "members": [where[i] for i in g], "extra": [],
                        "uncovered": uncovered, "seen": cov_seen}
                if uncovered.size and not last_round:
                    # fill the missing weights now: a cluster whose boundary is not
                    # found where they matter is no unit of this layer
                    if not self.fill_all(len(units), units + [unit], known):
                        self.info[f"layer{l}_unfilled"] = self.info.get(
                            f"layer{l}_unfilled", 0) + 1
                        continue
                    dup = self.duplicate_of(unit["u"], unit["b"], cov_seen, units)
                    if dup is not None:  # now complete: a fragment of a known unit
                        self.merge_into(units[dup], [where[i] for i in g], (l, dup), n_prev)
                        continue
                for i in g:
                    where[i]["owner"] = (l, len(units))
                units.append(unit)
                new += 1
            self.info[f"layer{l}_units_found"] = len(units)
            if len(units) >= h:
                break
            if not first:
                empty = 0 if new else empty + 1
            first = False
            if empty >= patience or self.lines >= max_lines:
                break
            if l == len(self.sizes) and units:
                self.residual_hints(units, known)
            self.add_lines(max(1, self.fe.n_lines))
        return units

    def walk_all(self, cand, known, h, per_round=None):
        """``walk_down`` from kinks where the layer below is expansive (each once);
        returns the critical points reached where it contracts."""
        per_round = 2 * h if per_round is None else per_round
        out = []
        n = 0
        for p in cand:
            if n >= per_round:
                break
            if p["normal"] is None or p.get("walked"):
                continue
            a, J, _ = activation_jacobian(p["x"], known)
            if signature(p["normal"], a, J)[0] is not None:
                continue
            p["walked"] = True
            n += 1
            q = self.walk_down(p, known)
            if q is not None:
                self.points.append(q)
                out.append(q)
        self.info["walks"] = self.info.get("walks", 0) + n
        self.info["walks_arrived"] = self.info.get("walks_arrived", 0) + len(out)
        return out

    def walk_down(self, p, known, max_steps=None, pencil_tol=1e-6):
        """From a kink in a region where the layer below does not contract, follow
        the unit's boundary to one where it does; the critical point there, or None.

        Within a region the kinked unit's boundary is the hyperplane through the
        kink normal to ``n``. Moving inside it until one active unit ``j`` of the
        layer below turns off (the first boundary crossed along the move: no other
        unit changes), the boundary bends: its new normal lies in the span of ``n``
        and ``∇z_j`` (one weight less enters), and it passes through the crossing.
        A short line along ``n`` just past the crossing finds the new kink; a kink
        whose normal is outside that pencil is another unit's. Repeated until the
        active units' rows are independent (``signature`` succeeds). No query but
        the short lines and the normals at their kinks.
        """
        st = self.st
        below, (Wl, bl) = known[:-1], known[-1]
        scale = float(np.median(st["scale"]))
        y, nrm = np.array(p["x"], float), p["normal"] / np.linalg.norm(p["normal"])
        max_steps = Wl.shape[0] if max_steps is None else max_steps
        for _ in range(max_steps):
            a0 = forward_known(y[None], below)[0]
            _, Jb, _ = activation_jacobian(y, below)
            z = Wl @ a0 + bl
            G = Wl @ Jb  # the layer's pre-activation gradients in this region
            best = None
            for j in np.flatnonzero(z > 0):
                r = G[j] - (G[j] @ nrm) * nrm
                nr = np.linalg.norm(r)
                if nr <= 1e-12 * (np.linalg.norm(G[j]) + 1e-300):
                    continue
                e = -r / nr
                tj = z[j] / nr
                dz = G @ e
                with np.errstate(divide="ignore", invalid="ignore"):
                    tk = np.where(dz * np.sign(z + (z == 0)) < 0, -z / dz, np.inf)
                tk[j] = np.inf
                t2 = float(tk.min())
                if t2 <= tj * (1 + 1e-6):
                    continue  # another unit changes first
                if best is None or tj < best[0]:
                    best = (tj, j, e, t2)
            if best is None:
                return None
            tj, j, e, t2 = best
            yc = y + tj * e
            delta = min(0.5 * (t2 - tj), 0.05 * scale)
            y1 = yc + delta * e
            span = max(8 * delta, 0.02 * scale)
            searches, _ = search_lines(lambda X: self.answer(X, "walking"),
                                       [(y1, nrm, -span, span)], n_grid=24,
                                       tol=self.fe._tol, min_gap=st["min_gap"])
            srch = searches[0]
            srch.kinks.sort(key=lambda k: k[0])
            self.traces += 1
            pts = [{"x": y1 + t * nrm, "line": p["line"], "search": srch, "j": i,
                    "normal": None, "tried": False, "owner": None}
                   for i, (t, _) in enumerate(srch.kinks)]
            pts.sort(key=lambda q: float(np.linalg.norm(q["x"] - y1)))
            pts = pts[:3]
            self.compute_normals(pts)
            P = np.stack([nrm, G[j] / np.linalg.norm(G[j])], axis=1)
            nxt = None
            for q in pts:
                if q["normal"] is None:
                    continue
                m = q["normal"] / np.linalg.norm(q["normal"])
                c, *_ = np.linalg.lstsq(P, m, rcond=None)
                if np.linalg.norm(P @ c - m) > pencil_tol:
                    continue  # another unit's kink
                if abs(m @ (q["x"] - yc)) > pencil_tol * max(scale, 1.0):
                    continue  # not through the crossing
                zq = Wl @ forward_known(q["x"][None], below)[0] + bl
                if zq[j] >= 0:
                    continue
                nxt = q
                break
            if nxt is None:
                return None
            y, nrm = nxt["x"], nxt["normal"] / np.linalg.norm(nxt["normal"])
            a, J, _ = activation_jacobian(y, known)
            if signature(nxt["normal"], a, J)[0] is not None:
                nxt["walked"] = True
                return nxt
        return None

    @staticmethod
    def duplicate_of(u, b, cov, units, tol=1e-6, min_common=None):
        """The index of a known unit that agrees with ``(u, b)`` on the coordinates
        both have seen active at their critical points (``cov`` and the unit's
        ``seen``), or None.

        Weights filled in later (never seen at a critical point) are not compared: a
        wrong fill must not make two fragments of one unit look like two units.
        """
        for k, unit in enumerate(units):
            common = cov & unit.get("seen", np.ones_like(cov))
            C = np.flatnonzero(common)
            if C.size < min(max(3, cov.size // 2) if min_common is None else min_common,
                            cov.size):
                continue
            x = np.append(u[C], b)
            y = np.append(unit["u"][C], unit["b"])
            nx, ny = np.linalg.norm(x), np.linalg.norm(y)
            if nx > 0 and ny > 0 and 1 - abs(x @ y) / (nx * ny) <= tol:
                return k
        return None

    def merge_into(self, unit, pts, owner, n_prev):
        """Add a fragment's critical points to a unit found before; when they show
        coordinates the unit never saw active, solve the unit again from all of them
        (exact there, instead of a filled-in value)."""
        for p in pts:
            p["owner"] = owner
        seen = unit.get("seen", np.ones(n_prev, dtype=bool))
        mem = [q for q in unit["members"] + pts if "aJ" in q]
        cov_new = np.zeros(n_prev, dtype=bool)
        for q in pts:
            if "aJ" in q:
                cov_new |= np.abs(q["aJ"][1]).max(axis=1) > 0
        if not (cov_new & ~seen).any():
            unit["extra"].extend(pts)
            return
        u, b, res, gap, cov = joint_solve(
            [(q["x"], q["normal"], *q["aJ"]) for q in mem], n_prev)
        if u is None or res > 1e-7 or gap < 1e-7:
            unit["extra"].extend(pts)
            return
        # the coordinates still never seen keep their filled values, on the new scale
        C = np.flatnonzero(cov)
        lam = float(u[C] @ unit["u"][C]) / float(u[C] @ u[C])
        new = unit["u"].copy()
        new[C] = lam * u[C]
        nrm = np.linalg.norm(new)
        unit["u"], unit["b"] = new / nrm, lam * b / nrm
        unit["members"] = mem
        unit["seen"] = cov
        unit["refined"] = False
        self.info["merged_fragments"] = self.info.get("merged_fragments", 0) + 1

    def merge_fragments(self, groups, where, n_prev, max_tests=20000):
        """Join clusters that are consistent but underdetermined when their union is.

        A unit's critical points can fall into several clusters (their partial
        signatures share too few active coordinates to be compared); each is then
        consistent but leaves coordinates undetermined. Two such fragments of the
        same unit have a consistent union; fragments of two units do not.
        """
        def solve(g):
            mem = [(where[i]["x"], where[i]["normal"], *where[i]["aJ"]) for i in g]
            return joint_solve(mem, n_prev)

        def null_dim(g):
            """Unknowns left free: uncovered coordinates and the system's null space."""
            mem = [(where[i]["x"], where[i]["normal"], *where[i]["aJ"]) for i in g]
            covered = np.zeros(n_prev, dtype=bool)
            rows = []
            for *_, J in mem:
                covered |= np.abs(J).max(axis=1) > 0
            C = np.flatnonzero(covered)
            for _, n, a, J in mem:
                R = (np.eye(n.size) - np.outer(n, n)) @ J[C].T
                rows.append(np.hstack([R, np.zeros((R.shape[0], 1))]))
                r = np.append(a[C], 1.0)
                rows.append(r[None] / np.linalg.norm(r))
            sv = np.linalg.svd(np.vstack(rows), compute_uv=False)
            return n_prev + 1 - int(np.sum(sv > 1e-7 * sv[0]))

        frags, done = [], []
        for g in groups:
            _, _, res, gap, cov = solve(g)
            complete = cov.all() and gap >= 1e-7
            (frags if res <= 1e-7 and not complete else done).append(g)
        dims = [null_dim(g) for g in frags]
        tests = 0
        merged = True
        while merged and tests < max_tests:
            merged = False
            for a in range(len(frags)):
                for b in range(a + 1, len(frags)):
                    # subspaces of dimensions p and q of R^(n+1) meet in general
                    # only when p + q > n + 1: a consistent union of fragments
                    # that need not meet is evidence of one unit
                    if dims[a] + dims[b] > n_prev + 1:
                        continue
                    tests += 1
                    _, _, res, gap, _ = solve(frags[a] + frags[b])
                    if res <= 1e-7:
                        frags[a] = frags[a] + frags[b]
                        dims[a] = null_dim(frags[a])
                        del frags[b], dims[b]
                        merged = True
                        break
                if merged or tests >= max_tests:
                    break
        return done + frags

    def confirm(self, u, b, members, known, others=None, n_points=8, need=5):
        """Kinks where the unit's boundary is predicted, far from its critical points.

        A deeper unit's local hyperplane is a boundary only inside one region of
        this layer: test points are taken where the layer's other units found so
        far (``others``, orientation irrelevant) are in another pattern than at
        every member.
        """
        st, rng = self.st, self.run.rng
        pts, hs, ns = [], [], []
        pats = set()
        if others is not None and len(others[0]):
            Wo, bo = others
            A = forward_known(np.array([p["x"] for p in members]), known)
            pats = {tuple(r) for r in (A @ Wo.T + bo > 0)}
        for _ in range(8 * n_points):
            if len(pts) >= n_points:
                break
            x = members[rng.integers(len(members))]["x"]
            y = x + st["scale"] * rng.normal(size=self.d)
            for _ in range(30):  # Newton onto the predicted boundary (no query)
                a, J, _ = activation_jacobian(y, known)
                n = J.T @ u
                nn2 = float(n @ n)
                if nn2 == 0:
                    break
                z = float(u @ a + b)
                if abs(z) <= 1e-13 * (np.abs(u) @ np.abs(a) + abs(b) + 1):
                    if pats and tuple(a @ others[0].T + others[1] > 0) in pats:
                        break  # the same region of this layer as a member: no test
                    pts.append(y)
                    ns.append(n / np.sqrt(nn2))
                    hs.append(1e-4 * float(np.median(st["scale"])))
                    break
                y = y - z / nn2 * n
        if not pts:
            return False
        P, N, H = np.array(pts), np.array(ns), np.array(hs)[:, None]
        F = self.answer(np.concatenate([P - H * N, P, P + H * N]), "confirm")
        F = F.reshape(3, len(P), -1)
        sd = np.abs(F[0] - 2 * F[1] + F[2]).max(axis=1)
        mag = np.abs(F).max(axis=(0, 2))
        return int(np.sum(sd > 100 * self.fe._tol(mag))) >= min(need, len(P))

    # ------------------------------------------------------------ tracing
    def walk_to(self, x, i, u, b, known):
        """A point of the unit's predicted boundary where unit ``i`` below is active.

        Moves within the unit's local hyperplane in the direction that raises the
        pre-activation of unit ``i`` of the layer below, just past its boundary, then
        back onto the unit's predicted boundary (Newton on the known layers: no
        query). Returns the point and the unit's normal there, or None.
        """
        y = np.array(x, dtype=float)
        Wl, bl = known[-1]
        for _ in range(8):
            a, J, _ = activation_jacobian(y, known)
            _, J2, _ = activation_jacobian(y, known[:-1])
            g = Wl[i] @ J2
            zi = float(Wl[i] @ forward_known(y[None], known[:-1])[0] + bl[i])
            if zi > 0 and abs(u @ a + b) <= 1e-12 * (np.abs(u) @ np.abs(a) + abs(b) + 1):
                n = J.T @ u
                nn = np.linalg.norm(n)
                return (y, n / nn) if nn > 0 else None
            n = J.T @ u
            if zi <= 0:
                r = g - (g @ n) / max(n @ n, 1e-300) * n
                gr = g @ r
                if not gr > 0:
                    return None
                y = y + (-zi / gr + self.walk_margin / np.sqrt(gr)) * r
            else:
                nn2 = n @ n
                if not nn2 > 0:
                    return None
                y = y - (u @ a + b) / nn2 * n
        return None

    def trace(self, u, b, cov, members, known, max_tries=2):
        """New critical points of a unit whose coordinates ``~cov`` were never active."""
        st = self.st
        out = []
        mem = sorted(members, key=lambda p: float(np.linalg.norm(p["x"] - st["center"])))
        for i in np.flatnonzero(~cov):
            found = False
            for p in mem[:max_tries]:
                if self.traces >= self.max_traces:
                    return out
                w = self.walk_to(p["x"], i, u, b, known)
                if w is None:
                    continue
                y, n = w
                self.traces += 1
                span = 0.2 * float(np.median(st["scale"]))
                searches, _ = search_lines(lambda X: self.answer(X, "tracing"),
                                           [(y, n, -span, span)], n_grid=24,
                                           tol=self.fe._tol, min_gap=st["min_gap"])
                s = searches[0]
                s.kinks.sort(key=lambda k: abs(k[0]))
                s.kinks = s.kinks[:3]
                s.kinks.sort(key=lambda k: k[0])
                pts = []
                for j, (t, _) in enumerate(s.kinks):
                    q = {"x": y + t * n, "line": -1 - self.traces, "search": s, "j": j,
                         "normal": None, "tried": False, "owner": None}
                    pts.append(q)
                self.compute_normals(pts)
                for q in pts:
                    if q["normal"] is None or self.explained(q, known):
                        continue
                    a, J, _ = activation_jacobian(q["x"], known)
                    S, uq, bq = signature(q["normal"], a, J)
                    if S is None or a[i] <= 0:
                        continue
                    C = np.flatnonzero(cov)
                    if _match((C, u[C] / np.linalg.norm(u[C]), b / np.linalg.norm(u[C])),
                              (S, uq, bq), 2, 1e-6):
                        q["aJ"] = (a, J)
                        self.points.append(q)
                        out.append(q)
                        found = True
                        break
                if found:
                    break
        self.info["traces"] = self.traces
        return out

    # ---------------------------------------------------------- refinement
    def refine_first(self, units, n_extra=8):
        """Refit each first-layer unit through points located afresh on its hyperplane.

        The hyperplane is global: random points of the predicted one near the centre
        are moved to the true one along its normal (``_locate``: four queries at
        ``±δ, ±2δ``, the two linear pieces' meeting point, a fifth verifies it),
        ``δ`` bounded by the room before another unit of the layer kinks. Each gives
        ``w·x + b = 0`` to rounding precision; the fit is kept when well conditioned.
        """
        st, rng = self.st, self.run.rng
        rho = self.rho * float(np.median(st["scale"]))
        n_pts = self.refine_factor * (self.d + 1) + n_extra
        stats = self.info.setdefault("layer1_refine_stats", [])
        n_ref = 0
        for k, unit in enumerate(units):
            w, b0 = unit["u"], unit["b"]
            c = st["center"] - (w @ st["center"] + b0) * w
            R = 0.5 * st["scale"] * rng.normal(size=(n_pts, self.d))
            R -= np.outer(R @ w, w)
            Y, N = c + R, np.tile(w, (n_pts, 1))
            others = [j for j in range(len(units)) if j != k]
            oth = None
            if others:
                oth = (np.array([units[j]["u"] for j in others]),
                       np.array([units[j]["b"] for j in others]))
            delta = 0.2 * np.minimum(self._room(Y, N, [], oth), rho)
            ok = delta > 0
            Xc, good, _ = self._locate(Y[ok], N[ok], delta[ok], near=1.0)
            Q = Xc[good]
            stats.append((n_pts, int(good.sum())))
            # coordinates never active at these points do not enter their equations:
            # fit the others and keep these weights from the first estimate
            C = np.flatnonzero(np.abs(Q).max(axis=0) > 0) if len(Q) else np.zeros(0, int)
            if Q.shape[0] < C.size + 1 or C.size == 0:
                continue
            uC, b, res, gap, _ = hyperplane_fit(Q[:, C], (w[C], b0))
            if uC is None:
                continue
            lam = float(uC @ w[C]) / float(uC @ uC)  # the first estimate's scale
            u = w.copy()
            u[C] = lam * uC
            b = lam * b
            nu = np.linalg.norm(u)
            u, b = u / nu, b / nu
            stats[-1] = stats[-1] + (res, gap, float(np.linalg.norm(u - w)))
            if gap < self.min_gap or res > 1e-9 or np.linalg.norm(u - w) > 1e-4:
                continue
            unit["u"], unit["b"] = u, b
            n_ref += 1
        self.info["layer1_units_refined"] = n_ref

    # ------------------------------------------------ refinement, deeper layers
    @staticmethod
    def _unit_and_gradient(Y, known, u, b):
        """Pre-activation ``u·a(y) + b`` of a unit over the known layers, its input
        gradient and the activations ``a(y)``, for each row of ``Y``."""
        A, ons = Y, []
        for W, bk in known:
            Z = A @ W.T + bk
            ons.append(Z > 0)
            A = np.where(ons[-1], Z, 0.0)
        z = A @ u + b
        G = np.broadcast_to(u, A.shape)
        for (W, _), on in zip(reversed(known), reversed(ons)):
            G = (G * on) @ W
        return z, G, A

    def _onto_boundary(self, Y, known, u, b, n_iter=40):
        """Newton steps onto the predicted boundary ``u·a(y) + b = 0`` (no query).

        Returns the converged rows, the unit normals there and the activations.
        """
        Y = np.array(Y, dtype=float)
        alive = np.ones(len(Y), dtype=bool)
        done = np.zeros(len(Y), dtype=bool)
        for _ in range(n_iter):
            idx = np.flatnonzero(alive & ~done)
            if idx.size == 0:
                break
            z, G, A = self._unit_and_gradient(Y[idx], known, u, b)
            g2 = np.einsum("ij,ij->i", G, G)
            tol = 1e-13 * (np.abs(A) @ np.abs(u) + abs(b) + 1.0)
            conv = np.abs(z) <= tol
            done[idx[conv]] = True
            alive[idx[~conv & (g2 == 0)]] = False
            step = ~conv & (g2 > 0)
            Y[idx[step]] -= (z[step] / g2[step])[:, None] * G[step]
        idx = np.flatnonzero(done)
        _, G, A = self._unit_and_gradient(Y[idx], known, u, b)
        g = np.linalg.norm(G, axis=1)
        ok = g > 0
        return Y[idx[ok]], G[ok] / g[ok, None], A[ok]

    @staticmethod
    def _room(Y, N, known, others):
        """Distance from each ``y`` along ``±n`` to the first kink of a known unit or
        of ``others`` (the other units of the layer being refined), which the
        located crossing must stay clear of."""
        A, dA = Y, N
        room = np.full(len(Y), np.inf)
        layers = list(known) + ([others] if others is not None else [])
        for k, (W, bk) in enumerate(layers):
            Z = A @ W.T + bk
            dZ = dA @ W.T
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(dZ != 0, np.abs(Z) / np.abs(dZ), np.inf)
            room = np.minimum(room, r.min(axis=1))
            if k < len(known):
                on = Z > 0
                A, dA = np.where(on, Z, 0.0), dZ * on
        return room

    def _boundary_candidates(self, k, units, known, n_cand, starts=None):
        """Points of unit ``k``'s predicted boundary, spread over the domain, with their
        normals, the activations below and the room along the normal."""
        st, rng = self.st, self.run.rng
        u, b = units[k]["u"], units[k]["b"]
        if starts is None:
            s = rng.choice([0.5, 1.0, 1.5], size=(n_cand, 1))
            starts = st["center"] + s * st["scale"] * rng.normal(size=(n_cand, self.d))
        Y, N, A = self._onto_boundary(starts, known, u, b)
        others = [j for j in range(len(units)) if j != k]
        oth = None
        if others:
            oth = (np.array([units[j]["u"] for j in others]),
                   np.array([units[j]["b"] for j in others]))
        room = self._room(Y, N, known, oth)
        far = np.linalg.norm((Y - st["center"]) / st["scale"], axis=1)
        keep = np.isfinite(room) & (room > 0) & (far <= 4 * np.sqrt(self.d))
        return Y[keep], N[keep], A[keep], room[keep]

    def _pick_spread(self, A, room, m, min_cover=3):
        """``m`` candidates: every coordinate active at ``min_cover`` of them where the
        pool allows (the coordinates' weights are seen only there), then the most
        room (the crossing is located to ``rounding / room``)."""
        order = np.argsort(-room)
        chosen = []
        taken = np.zeros(len(room), dtype=bool)
        act = A > 0
        for i in range(A.shape[1]):
            have = int(act[chosen, i].sum()) if chosen else 0
            for j in order:
                if have >= min_cover:
                    break
                if not taken[j] and act[j, i]:
                    chosen.append(j)
                    taken[j] = True
                    have += 1
        for j in order:
            if len(chosen) >= m:
                break
            if not taken[j]:
                chosen.append(j)
                taken[j] = True
        return np.array(chosen, dtype=int)

    def _locate(self, Y, N, delta, near=0.01):
        """The victim's crossing near each ``y`` along ``n``: two linear pieces from
        ``±δ, ±2δ``, their meeting point (within ``near · δ`` of ``y``), verified by
        a fifth query."""
        T = np.array([-2.0, -1.0, 1.0, 2.0])
        X = np.concatenate([Y + t * delta[:, None] * N for t in T])
        F = self.answer(X, "refinement").reshape(4, len(Y), -1)
        dl = delta[:, None]
        sl = (F[1] - F[0]) / dl
        sr = (F[3] - F[2]) / dl
        cl, cr = F[1] + dl * sl, F[2] - dl * sr
        dS = sr - sl
        nd = np.einsum("ij,ij->i", dS, dS)
        with np.errstate(divide="ignore", invalid="ignore"):
            ts = np.einsum("ij,ij->i", cl - cr, dS) / nd
        # the prediction is close: a crossing far from it is another unit's (a
        # deeper unit kinking nearby while this one does not move the answer)
        good = np.isfinite(ts) & (np.abs(ts) <= near * delta)
        ts = np.where(good, ts, 0.0)
        Xc = Y + ts[:, None] * N
        Fc = self.answer(Xc, "refinement")
        pred = np.where((ts >= 0)[:, None], cr + ts[:, None] * sr, cl + ts[:, None] * sl)
        mag = np.abs(F).max(axis=(0, 2))
        # the jump must stand well above rounding, and the crossing fit both pieces
        jump = np.sqrt(nd) * delta
        tol = self.fe._tol(mag)
        good &= np.abs(Fc - pred).max(axis=1) <= tol
        good &= jump > 1e3 * tol
        # rounding of the answers moves the meeting point by about tol / |jump of slope|
        with np.errstate(divide="ignore"):
            sigma = tol / np.sqrt(nd)
        return Xc, good, sigma

    def fill_all(self, k, units, known, last_resort=False):
        """``fill_uncovered`` for each coordinate unit ``k`` never saw; True when all
        were filled."""
        todo = [int(i) for i in units[k].get("uncovered", ())]
        if not todo:
            return True
        U = np.array(todo)
        u0, b0 = units[k]["u"].copy(), units[k]["b"]
        ok = True
        for i in list(todo):
            todo.remove(i)
            ok &= self.fill_uncovered(k, i, units, known, others=todo)
        units[k]["uncovered"] = np.zeros(0, dtype=int)
        if ok:
            return True
        # the votes did not settle every weight (several coordinates never seen
        # together, or the boundary displaced out of reach): kinks whose normals
        # the unit explains tell them exactly, in any region
        units[k]["u"], units[k]["b"] = u0, b0
        return self.complete_by_normals(k, units, known, U, last_resort=last_resort)

    @staticmethod
    def _consistent_kink(u, b, cov, normal, a, J, max_rel=1e-6):
        """The weights on the coordinates ``~cov`` active at a kink, when the unit
        ``(u, b)`` (known on ``cov``) explains it, else None.

        At a kink of the unit, ``J[A]ᵀu[A] + J[C]ᵀu[C] = λ n`` (its local normal) and
        ``a[A]·u[A] + a[C]·u[C] + b = 0`` on the unknown active coordinates ``A``:
        ``d + 1`` equations in ``|A| + 1`` unknowns. Only the unknown columns must be
        independent (not all the active rows: this holds in an expansive region), and
        at least two equations must be left over to test the kink; a kink of another
        unit leaves a residual.
        """
        d = normal.size
        act = np.abs(J).max(axis=1) > 0
        A = np.flatnonzero(act & ~cov)
        C = np.flatnonzero(cov)
        if A.size == 0 or d - A.size < 2:
            return None
        scale = np.linalg.norm(np.append(a, 1.0))
        M = np.zeros((d + 1, A.size + 1))
        M[:d, :A.size] = J[A].T
        M[:d, A.size] = -normal / np.linalg.norm(normal)
        M[d, :A.size] = a[A] / scale
        r = -np.append(J[C].T @ u[C], (a[C] @ u[C] + b) / scale)
        sv = np.linalg.svd(M, compute_uv=False)
        if sv[-1] <= 1e-8 * sv[0]:
            return None
        x, *_ = np.linalg.lstsq(M, r, rcond=None)
        ref = np.linalg.norm(r) + np.linalg.norm(M[:, :A.size] @ x[:A.size])
        if not np.linalg.norm(M @ x - r) <= max_rel * ref:
            return None
        return A, x[:A.size]

    def complete_by_normals(self, k, units, known, U, n_rounds=3, n_lines=8,
                            last_resort=False):
        """Unit ``k``'s weights on coordinates ``U`` never active at its critical
        points, from kinks it explains (``_consistent_kink``).

        Kinks already found and not assigned are tested first (their normals are
        paid for); then lines along the predicted boundary's normal, from points of
        it where coordinates still unknown are active, each round with the weights
        learnt so far. The unit is then solved again from all its points
        (``joint_solve``). Returns False (the unit unchanged) when a coordinate stays
        unknown.
        """
        st, rng = self.st, self.run.rng
        unit = units[k]
        n_prev = unit["u"].size
        cov = np.ones(n_prev, dtype=bool)
        cov[U] = False
        u = unit["u"].copy()
        u[~cov] = 0.0
        b = unit["b"]
        got = []

        def test(pts):
            nonlocal cov
            for q in pts:
                if cov.all():
                    return
                if q.get("normal") is None or q["owner"] is not None:
                    continue
                a, J, _ = activation_jacobian(q["x"], known)  # (any "aJ" may be stale)
                out = self._consistent_kink(u, b, cov, q["normal"], a, J)
                if out is None:
                    continue
                q["aJ"] = (a, J)
                A, vals = out
                u[A] = vals
                cov[A] = True
                got.append(q)

        test([p for p in self.points if p["tried"]])
        # just past where an unseen coordinate turns on, along the unit's predicted
        # boundary (``walk_to``): its weight moves the boundary there only a little
        mem = sorted(unit["members"],
                     key=lambda p: float(np.linalg.norm(p["x"] - st["center"])))[:3]
        margin = self.walk_margin
        for i in np.flatnonzero(~cov):
            for p in mem:
                if cov[i]:
                    break
                for self.walk_margin in (0.02, 0.1):
                    w = self.walk_to(p["x"], i, u, b, known)
                    if w is None or cov[i]:
                        continue
                    y, n = w
                    span = 0.1 * float(np.median(st["scale"]))
                    searches, _ = search_lines(lambda X: self.answer(X, "tracing"),
                                               [(y, n, -span, span)], n_grid=24,
                                               tol=self.fe._tol, min_gap=st["min_gap"])
                    srch = searches[0]
                    self.traces += 1
                    pts = [{"x": y + t * n, "line": -1 - self.traces, "search": srch,
                            "j": j, "normal": None, "tried": False, "owner": None}
                           for j, (t, _) in enumerate(srch.kinks)]
                    pts = sorted(pts, key=lambda q: float(np.linalg.norm(q["x"] - y)))[:3]
                    self.compute_normals(pts)
                    test([q for q in pts if not self.explained(q, known)])
        self.walk_margin = margin
        for _ in range(n_rounds):
            if cov.all():
                break
            starts = None
            if self.bank:
                Xb = np.concatenate([bk[0] for bk in self.bank])
                Ab = forward_known(Xb, known)
                sel = np.flatnonzero((Ab[:, ~cov] > 0).any(axis=1))
                if sel.size:
                    starts = Xb[rng.choice(sel, min(sel.size, 64), replace=False)]
            tmp = dict(unit, u=u, b=b)
            Y, N, A, room = self._boundary_candidates(k, units[:k] + [tmp] + units[k + 1:],
                                                      known, 64, starts=starts)
            on = (A[:, ~cov] > 0).any(axis=1)
            if not on.any():
                continue
            # few unknown coordinates on (more equations left to test a kink)
            n_on = (A[on][:, ~cov] > 0).sum(axis=1)
            idx = np.flatnonzero(on)[np.lexsort((-room[on], n_on))][:n_lines]
            span = float(np.median(st["scale"]))
            lines = [(Y[j], N[j], -span, span) for j in idx]
            searches, _ = search_lines(lambda X: self.answer(X, "tracing"), lines,
                                       n_grid=32, tol=self.fe._tol, min_gap=st["min_gap"])
            pts = []
            for s in searches:
                s.kinks.sort(key=lambda kk: kk[0])
                for j, (t, _) in enumerate(s.kinks):
                    x = s.x0 + t * s.v
                    a = forward_known(x[None], known)[0]
                    if not (a[~cov] > 0).any():
                        continue
                    self.traces += 1
                    pts.append({"x": x, "line": -1 - self.traces, "search": s, "j": j,
                                "normal": None, "tried": False, "owner": None})
            self.compute_normals(pts)
            pts = [q for q in pts if q["normal"] is not None
                   and not self.explained(q, known)]
            test(pts)
        bound = {}
        if (not cov.all() and last_resort and len(known) == len(self.sizes) - 1
                and len(units) <= self.sizes[-1]):
            # the last hidden layer: a coordinate may be active only where the unit is
            # off (then its boundary never meets the coordinate's region, and every
            # weight up to the least ratio there gives the same function)
            for i in np.flatnonzero(~cov):
                rho, lines = self._least_ratio(u, b, cov, i, known)
                if rho is None:
                    continue
                searches, _ = search_lines(lambda X: self.answer(X, "tracing"), lines,
                                           n_grid=32, tol=self.fe._tol,
                                           min_gap=st["min_gap"])
                pts = []
                for s in searches:
                    s.kinks.sort(key=lambda kk: kk[0])
                    for j, (t, _) in enumerate(s.kinks):
                        x = s.x0 + t * s.v
                        if forward_known(x[None], known)[0][i] <= 0:
                            continue
                        self.traces += 1
                        pts.append({"x": x, "line": -1 - self.traces, "search": s, "j": j,
                                    "normal": None, "tried": False, "owner": None})
                self.compute_normals(pts)
                test([q for q in pts if q["normal"] is not None
                      and not self.explained(q, known)])
                # ``ρ > 0``: the known part alone is negative wherever ``a_i`` is on;
                # ``ρ ≤ 0`` and no kink: no weight explains it (not a unit)
                self.info.setdefault("least_ratio", []).append(
                    (k, int(i), rho, bool(cov[i])))
                if not cov[i] and rho > 0:
                    bound[int(i)] = rho
        self.info.setdefault("normal_fill", []).append((k, int(U.size),
                                                        int((~cov).sum()), len(got)))
        if bound:
            self.info.setdefault("off_where_on", []).append(
                (k, {i: float(r) for i, r in bound.items()}))
        if not all(cov[i] or i in bound for i in range(n_prev)):
            return False
        mem = [q for q in unit["members"] + got if "aJ" in q]
        u2, b2, res, gap, cov2 = joint_solve([(q["x"], q["normal"], *q["aJ"]) for q in mem],
                                             n_prev)
        if u2 is None or res > 1e-7 or gap < 1e-7 or not (cov2 | ~cov).all():
            return False
        if bound:
            # back to the scale of ``u``, where the ratios were measured
            C = np.flatnonzero(cov2)
            lam = float(u[C] @ u2[C]) / float(u2[C] @ u2[C])
            u2, b2 = lam * u2, lam * b2
            for i, r in bound.items():
                u2[i] = r
            nrm = np.linalg.norm(u2)
            u2, b2 = u2 / nrm, b2 / nrm
        for q in got:
            q["owner"] = ("filled", k)
        unit["u"], unit["b"] = u2, b2
        unit["members"] = mem
        unit["seen"] = cov2
        return True

    def _least_ratio(self, u, b, cov, i, known, n_starts=128, n_iter=60, n_lines=4,
                     levels=(0.3, 0.03)):
        """The least ``ρ(x) = -(u·a(x) + b) / a_i(x)`` over points where coordinate
        ``i`` is active at least at a level ``α`` (``u`` known on ``cov``, zero
        elsewhere), and lines through the best points along which ``a_i`` stays put
        and the known part of the unit moves.

        Where ``a_i > 0`` the unit is on exactly where its weight ``u_i > ρ(x)``: such
        a line crosses the unit's boundary where ``ρ = u_i``, a kink that tells
        ``u_i`` (the caller's ``_consistent_kink``). No kink along lines through the
        points of least ``ρ`` means ``u_i ≤ ρ`` there. Local descent (no query) from
        random points and points of the bank, for each level ``α`` (a fraction of the
        median ``a_i`` where it is active). Returns ``(ρ, lines)``, ``ρ`` the least
        found at the smallest level, or ``(None, None)`` when ``i`` is never active.
        """
        st, rng = self.st, self.run.rng
        uc = np.where(cov, u, 0.0)
        e = np.zeros(u.size)
        e[i] = 1.0
        starts = [st["center"] + st["scale"] * rng.normal(size=(4 * n_starts, self.d))]
        if self.bank:
            starts.append(np.concatenate([bk[0] for bk in self.bank]))
        Y0 = np.vstack(starts)
        ai = forward_known(Y0, known)[:, i]
        Y0 = Y0[ai > 0]
        if not len(Y0):
            return None, None
        med = float(np.median(ai[ai > 0]))
        # the victim is compared far out too (100 times the domain's scale)
        radius = 400 * np.sqrt(self.d)

        def ratio(Y, alpha):
            z, Gz, _ = self._unit_and_gradient(Y, known, uc, b)
            a, Ga, _ = self._unit_and_gradient(Y, known, e, 0.0)
            inside = np.linalg.norm((Y - st["center"]) / st["scale"], axis=1) <= radius
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                r = np.where((a >= alpha) & inside, -z / a, np.inf)
                G = -(Gz * a[:, None] - z[:, None] * Ga) / (a * a)[:, None]
            return r, G, Gz, Ga

        span = float(np.median(st["scale"]))
        lines, rho = [], None
        for lev in levels:
            alpha = lev * med
            r, G, _, _ = ratio(Y0, alpha)
            top = np.argsort(r)[:n_starts]
            top = top[np.isfinite(r[top])]
            if not top.size:
                continue
            Y, r, G = Y0[top].copy(), r[top], G[top]
            step = 0.1 * span * np.ones(len(Y))
            for _ in range(n_iter):
                gn = np.linalg.norm(G, axis=1)
                ok = gn > 0
                Y2 = Y.copy()
                Y2[ok] -= (step[ok] / gn[ok])[:, None] * G[ok]
                r2, G2, _, _ = ratio(Y2, alpha)
                better = ok & (r2 < r)
                Y[better], r[better], G[better] = Y2[better], r2[better], G2[better]
                step = np.where(better, 1.5 * step, 0.5 * step)
            order = np.argsort(r)[:n_lines]
            rho = float(r[order[0]])
            z, _, _ = self._unit_and_gradient(Y[order], known, uc, b)
            a = forward_known(Y[order], known)[:, i]
            _, _, Gz, Ga = ratio(Y[order], alpha)
            for y, zy, ay, gz, ga in zip(Y[order], z, a, Gz, Ga):
                # ``a_i`` held, the known part falling: the unit's boundary is where it
                # reaches ``-u_i a_i``, within ``|z| + a_i`` for a unit-norm row
                v = gz - (gz @ ga) / max(ga @ ga, 1e-300) * ga
                nv = np.linalg.norm(v)
                if nv > 0:
                    far = float(np.linalg.norm((y - st["center"]) / st["scale"]))
                    reach = min(1.5 * (abs(zy) + ay) / nv, 8 * span * max(1.0, far))
                    lines.append((y, -v / nv, -0.1 * reach, reach))
        return rho, lines

    def fill_uncovered(self, k, i, units, known, others=(), n_points=8, n_rounds=2,
                       min_votes=3, agree=1e-6):
        """The weight of unit ``k`` on coordinate ``i`` never active at its critical
        points (set to 0 so far).

        Where coordinate ``i`` is on, the unit's true boundary is displaced from the
        predicted one: a line along the predicted normal, searched for kinks within
        the room of the known layers, crosses it. At a kink ``x*`` of this unit,
        ``u·a(x*) + b + Δ a_i(x*) = 0`` gives the missing ``Δ``; kinks of other
        units give scattered values, so a value repeated at several points is kept.
        The lines reach past the region (the equation holds in any region); kinks
        where ``others`` (coordinates not filled yet) are on are not used. Returns
        False when no value is repeated ``min_votes`` times.
        """
        st, rng = self.st, self.run.rng
        unit = units[k]
        oth = list(others)
        vals, xs, srcs = [], [], []
        best, votes = None, 1
        for _ in range(n_rounds):
            starts = None
            if self.bank:
                Xb = np.concatenate([bk[0] for bk in self.bank])
                Ab = forward_known(Xb, known)
                sel = np.flatnonzero((Ab[:, i] > 0) & ~(Ab[:, oth] > 0).any(axis=1))
                if sel.size:
                    starts = Xb[rng.choice(sel, min(sel.size, 64), replace=False)]
            Y, N, A, room = self._boundary_candidates(k, units, known, 64, starts=starts)
            on = (A[:, i] > 0) & ~(A[:, oth] > 0).any(axis=1)
            if not on.any():
                continue
            idx = np.flatnonzero(on)[np.argsort(-(room[on] * A[on, i]))][:n_points]
            span = float(np.median(st["scale"]))
            lines = [(Y[j], N[j], -span, span) for j in idx]
            searches, _ = search_lines(lambda X: self.answer(X, "tracing"), lines,
                                       n_grid=32, tol=self.fe._tol, min_gap=st["min_gap"])
            for s in searches:
                for j, (t, _) in enumerate(s.kinks):
                    x = s.x0 + t * s.v
                    a = forward_known(x[None], known)[0]
                    # one vote per kink: lines from one start cross the same kinks
                    if any(np.abs(x - y).max() <= 1e-9 * (1 + np.abs(x).max()) for y in xs):
                        continue
                    if a[i] > 0 and not (a[oth] > 0).any():
                        xs.append(x)
                        srcs.append((s, j))
                        vals.append(-(unit["u"] @ a + unit["b"]) / a[i])
            v_arr = np.array(vals)
            for v in v_arr:
                n_agree = int(np.sum(np.abs(v_arr - v) <= agree * max(1.0, abs(v))))
                if n_agree > votes:
                    best, votes = v, n_agree
            if votes >= min_votes:
                break
        self.info.setdefault("uncovered_fill", []).append((k, i, len(vals), votes))
        if best is None or votes < min_votes:
            return False
        v_arr = np.array(vals)
        agreeing = np.flatnonzero(np.abs(v_arr - best) <= agree * max(1.0, abs(best)))
        u = unit["u"].copy()
        u[i] += float(np.median(v_arr[agreeing]))
        # the votes may be another unit's kinks that happen to agree: the unit must
        # also explain the normal at some of them (it is not seen elsewhere)
        pts = [{"x": xs[m], "line": -1, "search": srcs[m][0], "j": srcs[m][1],
                "normal": None, "tried": False, "owner": None} for m in agreeing[:2]]
        self.compute_normals(pts)
        checked = 0
        for q in pts:
            if q["normal"] is None:
                continue
            _, J, _ = activation_jacobian(q["x"], known)
            m = J.T @ u
            n = q["normal"] / np.linalg.norm(q["normal"])
            nm = np.linalg.norm(m)
            if nm == 0 or min(np.linalg.norm(n - m / nm), np.linalg.norm(n + m / nm)) > 1e-6:
                self.info["fill_refuted"] = self.info.get("fill_refuted", 0) + 1
                return False
            checked += 1
        if not checked:
            return False
        nu = np.linalg.norm(u)
        unit["u"], unit["b"] = u / nu, unit["b"] / nu
        return True

    def refine_boundary(self, l, units, n_passes=2, per_unknown=2, n_extra=16):
        """Carlini et al. §4.4 for a layer ``l > 1``: each unit's row from many points
        located exactly on its boundary, spread over the domain.

        The unit's boundary is predicted from the current estimate (Newton on the
        known layers, no query); along the local normal the victim's crossing is
        found from two linear pieces (``_locate``), where no known unit kinks within
        ``±2δ``. In the previous layer's activation space every such point satisfies
        ``u·a + b = 0`` exactly: the row is the smallest singular vector of the
        points ``[a, 1]``. Points are chosen so that every coordinate of ``a`` is
        active at several of them (its weight is seen only there), which keeps the
        system well conditioned instead of falling back on the rough estimate.
        """
        known = list(self.layers)
        n_prev = known[-1][0].shape[0]
        # a unit kept with weights never seen (the lines ran out) whose boundary is
        # not found where they matter is dropped rather than kept wrong
        filled = [self.fill_all(k, units, known, last_resort=l == len(self.sizes))
                  for k in range(len(units))]
        for k in range(len(units)):  # a filled fragment of another unit: one unit
            if filled[k] and self.duplicate_of(units[k]["u"], units[k]["b"],
                                               units[k].get("seen", np.ones(n_prev, bool)),
                                               units[:k]) is not None:
                filled[k] = False
        if not all(filled):
            self.info[f"layer{l}_dropped_units"] = int(len(filled) - sum(filled))
            units[:] = [u for u, ok in zip(units, filled) if ok]
        m = per_unknown * (n_prev + 1) + n_extra
        # a crossing far from the prediction is a deeper unit's, except in the last
        # hidden layer (none deeper; a rough estimate, e.g. a weight just filled in,
        # is still refined there)
        near = 0.5 if l == len(self.sizes) else 0.01
        rho = self.rho_deep * float(np.median(self.st["scale"]))
        stats = self.info.setdefault(f"layer{l}_refine_stats", [])
        n_ref = 0
        done = [bool(u.get("refined")) for u in units]
        for _ in range(n_passes):
            for k, unit in enumerate(units):
                if done[k]:  # refined in an earlier round of the search
                    continue
                Y, N, A, room = self._boundary_candidates(k, units, known, 6 * m)
                cover = (A > 0).sum(axis=0)
                lacking = np.flatnonzero(cover < 3)
                if lacking.size and self.bank:
                    # start where the lacking coordinates are active (answers
                    # already paid for: the bank of queried points)
                    Xb = np.concatenate([bk[0] for bk in self.bank])
                    Ab = forward_known(Xb, known)
                    sel = np.flatnonzero((Ab[:, lacking] > 0).any(axis=1))
                    if sel.size:
                        sel = self.run.rng.choice(sel, min(sel.size, 4 * m), replace=False)
                        Y2, N2, A2, r2 = self._boundary_candidates(k, units, known, 0,
                                                                   starts=Xb[sel])
                        Y, N, A = np.vstack([Y, Y2]), np.vstack([N, N2]), np.vstack([A, A2])
                        room = np.concatenate([room, r2])
                if len(Y) < n_prev + 1:
                    stats.append((k, len(Y), "too few boundary points"))
                    continue
                # where the unit does not move the answer (the units above it off)
                # nothing is located: more batches from the pool until enough
                Qs, Ss, avail = [], [], np.ones(len(Y), dtype=bool)
                n_good = 0
                for _ in range(3):
                    if n_good >= m or not avail.any():
                        break
                    ia = np.flatnonzero(avail)
                    pick = ia[self._pick_spread(A[ia], room[ia], m - n_good)]
                    avail[pick] = False
                    delta = 0.35 * np.minimum(room[pick], rho)
                    Xc, good, sig = self._locate(Y[pick], N[pick], delta, near=near)
                    # each equation weighted by its precision: the unit's pre-activation
                    # moves by |∇z|·σ over the location error σ
                    _, G, _ = self._unit_and_gradient(Xc[good], known, unit["u"], unit["b"])
                    Qs.append(forward_known(Xc[good], known))
                    Ss.append(np.linalg.norm(G, axis=1) * sig[good])
                    n_good += int(good.sum())
                Q, Sg = np.vstack(Qs), np.concatenate(Ss)
                C = np.flatnonzero((Q > 0).sum(axis=0) >= 1)
                if Q.shape[0] < C.size + 1 or C.size == 0:
                    stats.append((k, n_good, "too few located points"))
                    continue
                uC, b, res, gap, kept = exact_hyperplane_fit(
                    Q[:, C], Sg, prior=(unit["u"][C], unit["b"]))
                if uC is None:
                    stats.append((k, n_good, "rank deficient"))
                    continue
                lam = float(uC @ unit["u"][C]) / float(uC @ uC)
                u = unit["u"].copy()
                u[C] = lam * uC
                b = lam * b
                nu = np.linalg.norm(u)
                u, b = u / nu, b / nu
                change = float(np.linalg.norm(u - unit["u"]))
                stats.append((k, int((~avail).sum()), n_good, int(kept.sum()), n_prev - C.size,
                              res, gap, change))
                if res > 1e-10 or gap < 1e-8 or change > 1e-3:
                    continue
                unit["u"], unit["b"] = u, b
                n_ref += 1
        for unit in units:
            unit["refined"] = True
        self.info[f"layer{l}_units_refined"] = self.info.get(
            f"layer{l}_units_refined", 0) + n_ref

    # --------------------------------------------------------------- signs
    def signs_by_freezing(self, W, b, members):
        """Signs of an inner layer: move so that only one unit of the layer changes.

        At a critical point of unit ``i`` a direction ``e`` with ``W_l[j] J e = 0``
        for the other units and ``W_l[i] J e = 1`` changes the layer's output only
        through unit ``i``: on the side where it is inactive the victim's answer does
        not move at all. Needs ``h_l ≤ rank J`` (a contracting region).
        """
        known = list(self.layers)
        h = W.shape[0]
        signs = np.zeros(h)
        tried = [0] * h
        for _ in range(4):  # passes: units whose sign is known and that are off at a
            trials = []     # point need no freezing there, so later passes ask less
            for i in range(h):
                if signs[i] != 0:
                    continue
                while tried[i] < min(len(members[i]), 32) + 200:
                    k = tried[i]
                    tried[i] += 1
                    if k < min(len(members[i]), 32):
                        x = members[i][k]["x"]
                    else:
                        # any point of the unit's boundary will do, and the boundary
                        # is known: look (without a query) for one where the layer
                        # contracts enough
                        x = self._boundary_point(i, W, b, members[i], known)
                        if x is None:
                            continue
                    trial = self._freeze_trial(i, x, W, b, signs, known)
                    if trial is not None:
                        trials.append(trial)
                        break
            if not trials:
                break
            X = np.concatenate([[x, x + t * e, x - t * e] for _, x, e, t in trials])
            F = self.answer(X, "sign_recovery").reshape(len(trials), 3, -1)
            for (i, _, _, _), f in zip(trials, F):
                dp = np.abs(f[1] - f[0]).max()
                dm = np.abs(f[2] - f[0]).max()
                tol = float(self.fe._tol(np.abs(f).max()))
                if dm <= tol < 0.01 * dp:
                    signs[i] = 1.0
                elif dp <= tol < 0.01 * dm:
                    signs[i] = -1.0
            if np.all(signs != 0):
                break
        return signs

    def signs_by_consistency(self, W, b, signs, max_points=400, n_starts=40,
                             max_nodes=100000):
        """Signs of an inner (expansive) layer from the kinks of the layers above it.

        At a critical point of any deeper unit the input-space normal lies in the span
        of the rows ``W_l[j] J_{l-1}`` of the units ``j`` of layer ``l`` that are *on*
        there (``s_j z_j > 0``). With the true signs every such point is consistent; a
        wrong sign removes a unit that is on from the span at about half of them, and
        wherever the remaining rows do not span the input space the normal leaves it.

        Local search: single flips (pairs at a local minimum) that reduce the
        number of inconsistent points, from all-positive and then random starts
        (up to ``n_starts``), until an assignment leaves none; a sign whose flip
        also leaves none is not determined by the points and is left unknown (0),
        as are all when no start reaches zero. Then an exhaustive search with
        pruning (adding units to a span keeps a point consistent, so a partial
        assignment, the units not yet decided counted as on, that breaks a point has
        no consistent completion), up to ``max_nodes`` nodes.
        """
        known = list(self.layers)
        signs = np.asarray(signs, float).copy()
        free = np.flatnonzero(signs == 0)
        if free.size == 0:
            return signs
        cand = [p for p in self.points
                if p["owner"] != "known" and not self.explained(p, known + [(W, b)])]
        self.compute_normals(cand)
        cand = [p for p in cand if p["normal"] is not None][:max_points]
        self.info["consistency_points"] = len(cand)
        if not cand:
            return signs
        Ms, Zs, Ns = [], [], []
        for p in cand:
            a, J, _ = activation_jacobian(p["x"], known)
            M = W @ J
            Ms.append(M / (np.linalg.norm(M, axis=1, keepdims=True) + 1e-300))
            Zs.append(W @ a + b)
            Ns.append(p["normal"] / np.linalg.norm(p["normal"]))
        M, Z, N = np.array(Ms), np.array(Zs), np.array(Ns)
        tol = max(1e-6, 100 * self.fe._rel_tol())

        live = np.linalg.norm(M, axis=2) > 0
        rank = np.linalg.matrix_rank(M)

        def consistent(on):
            """Per point: the normal lies in the span of the rows marked on (as many
            rows as the point's rank span everything: generic rows)."""
            out = np.ones(len(on), dtype=bool)
            thin = np.flatnonzero((on & live).sum(axis=1) < rank)
            if thin.size:
                _, sv, Vt = np.linalg.svd(M[thin] * on[thin, :, None], full_matrices=False)
                keep = sv > 1e-9 * np.maximum(sv[:, :1], 1e-300)
                proj = np.einsum("pkd,pd->pk", Vt, N[thin]) * keep
                res = np.linalg.norm(N[thin] - np.einsum("pkd,pk->pd", Vt, proj), axis=1)
                out[thin] = res <= tol
            return out

        def misses(s):
            return int((~consistent(s[None] * Z > 0)).sum())

        rng = self.run.rng
        best_score = None
        for start in range(n_starts):
            s = signs.copy()
            s[free] = 1.0 if start == 0 else rng.choice([-1.0, 1.0], size=free.size)
            score = misses(s)
            improved = True
            while improved and score > 0:
                improved = False
                # single flips, then (at a local minimum) pairs of flips
                moves = itertools.chain(([j] for j in free),
                                        itertools.combinations(free, 2))
                for move in moves:
                    if improved and len(move) == 2:
                        break
                    s[list(move)] *= -1
                    sc = misses(s)
                    if sc < score:
                        score, improved = sc, True
                    else:
                        s[list(move)] *= -1
            if best_score is None or score < best_score:
                best_score = score
            if score == 0:
                break
        self.info["consistency_starts"] = start + 1
        self.info["consistency_misses"] = best_score
        # a zero found by the local search need not be the only one (a wrong
        # assignment that turns more units on breaks fewer points): the signs are
        # those every consistent assignment shares, from the exhaustive search
        found = self._signs_exhaustive(Z, signs, free, consistent, max_nodes)
        # none consistent, or the search cut short: undetermined (more lines)
        return signs if found is None else found

    def _signs_exhaustive(self, Z, signs, free, consistent, max_nodes):
        """The signs shared by every assignment breaking no point (0 where they
        differ; depth-first with pruning; all left 0 when more than 16 break none),
        or None (none breaks no point, or the search was cut short)."""
        found = []
        order = list(free[np.argsort(-np.abs((Z[:, free] > 0).mean(axis=0) - 0.5))])
        stack, nodes = [(signs.copy(), 0)], 0
        while stack and nodes < max_nodes:
            s, depth = stack.pop()
            nodes += 1
            if not consistent((s[None] * Z > 0) | (s[None] == 0)).all():
                continue
            if depth == len(order):
                found.append(s)
                if len(found) > 16:
                    # many assignments break no point: the points decide no sign
                    # (a subset of them could agree by chance); more lines first
                    self.info["consistency_nodes"] = nodes
                    return signs.copy()
                continue
            for v in (-1.0, 1.0):
                t = s.copy()
                t[order[depth]] = v
                stack.append((t, depth + 1))
        self.info["consistency_nodes"] = nodes
        if not found or stack:
            return None  # none, or the search was cut short
        # the signs on which the consistent assignments disagree are not determined
        S = np.array(found)
        return np.where(np.all(S == S[0], axis=0), S[0], 0.0)

    def _boundary_point(self, i, W, b, members, known):
        """A random point where unit ``i``'s pre-activation is zero (Newton, no query)."""
        st, rng = self.st, self.run.rng
        x = members[rng.integers(len(members))]["x"]
        y = x + rng.choice([0.3, 1.0, 3.0]) * st["scale"] * rng.normal(size=self.d)
        for _ in range(30):
            a, J, _ = activation_jacobian(y, known)
            n = J.T @ W[i]
            nn2 = float(n @ n)
            if nn2 == 0:
                return None
            z = float(W[i] @ a + b[i])
            if abs(z) <= 1e-13 * (np.abs(W[i]) @ np.abs(a) + abs(b[i]) + 1):
                return y
            y = y - z / nn2 * n
        return None

    def _freeze_trial(self, i, x, W, b, signs, known):
        """A direction changing only unit ``i`` of the layer (and its step), or None."""
        h = W.shape[0]
        a, J, _ = activation_jacobian(x, known)
        zl = W @ a + b
        M = W @ J
        # units of unknown sign, or known and on here, must not move
        rows = [j for j in range(h) if j == i or signs[j] == 0 or signs[j] * zl[j] > 0]
        target = (np.array(rows) == i).astype(float)
        e, *_ = np.linalg.lstsq(M[rows], target, rcond=None)
        scale = 1.0 + np.abs(M[rows]).max() * np.abs(e).max()
        if np.abs(M[rows] @ e - target).max() > 1e-8 * scale:
            return None
        lim = np.inf
        aa = np.asarray(x, float)
        Jp = np.eye(self.d)
        for Wk, bk in known:
            G = Wk @ Jp
            z = Wk @ aa + bk
            with np.errstate(divide="ignore"):
                lim = min(lim, float(np.min(np.abs(z) / np.abs(G @ e))))
            Jp = G * (z > 0)[:, None]
            aa = np.maximum(z, 0.0)
        rate = np.abs(M @ e)
        rate[i] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(rate > 0, np.abs(zl) / rate, np.inf)
        lim = min(lim, float(np.min(room)))
        t = 0.25 * min(lim, 1.0)
        # the move must change the answer well above rounding: a tiny step (an
        # ill-conditioned direction, or a point next to another boundary) cannot
        if not (np.isfinite(t) and t * np.linalg.norm(e) > 1e-6 * np.median(self.st["scale"])):
            return None
        return i, np.asarray(x, float), e, t

    def residual_hints(self, units, known, n_rows=4000, n_hints=2):
        """Send the next lines through the answers the units found so far miss most.

        The units of the last hidden layer and a linear term in the layer below fit
        every answer exactly whatever their signs; where the fit misses, a unit not
        yet found changes state nearby, and a line through such a point crosses it.
        """
        X = np.concatenate([b_[0] for b_ in self.bank])
        Y = np.concatenate([b_[1] for b_ in self.bank])
        if len(X) > n_rows:
            idx = self.run.rng.choice(len(X), n_rows, replace=False)
            X, Y = X[idx], Y[idx]
        W = np.array([u["u"] for u in units])
        b = np.array([u["b"] for u in units])
        A_prev = forward_known(X, known)
        A, c, L, _, _ = fit_last_layer(A_prev, Y, W, b)
        F = np.maximum(A_prev @ W.T + b, 0) @ A + A_prev @ L + c
        r = np.abs(F - Y).max(axis=1)
        lim = 1e-8 * (1 + np.abs(Y).max(axis=1))
        worst = np.argsort(-r)[:n_hints]
        queue = getattr(self, "check_hints", [])
        n = max(1, self.fe.n_lines)
        self.check_hints = queue[n:]
        self.st["hints"] = queue[:n] + [X[i] for i in worst if r[i] > lim[i]]

    def with_linear_pairs(self, W, b, X, Y):
        """Rows for ``±v/|v|`` per output of the least-squares linear term ``v``."""
        A_prev = forward_known(X, self.layers)
        _, _, L, _, _ = fit_last_layer(A_prev, Y, W, b)
        rows = []
        for o in range(L.shape[1]):
            v = L[:, o]
            nv = np.linalg.norm(v)
            if nv > 0:
                rows += [v / nv, -v / nv]
        if not rows:
            return W, b
        return np.vstack([W, rows]), np.append(b, np.zeros(len(rows)))

    def last_hidden_signs(self, W, b, X, Y):
        """Signs of the last hidden layer from the linear term of one least-squares fit."""
        known = list(self.layers)
        A_prev = forward_known(X, known)
        A, c, L, res, deficient = fit_last_layer(A_prev, Y, W, b)
        signs, method = recover_signs(W, A, L, tol=max(1e-6, self.fe._rel_tol()))
        return signs, method

    # ------------------------------------------------------------- driver
    def model(self, layers, A, c):
        from ._network import Network

        k = A.shape[1]
        output, classes = output_head(self.st["output"], self.st["classes"], k)
        coefs = [W.T for W, _ in layers] + [A]
        inter = [bb for _, bb in layers] + [c]
        if not layers:  # nothing known: a constant (one dead unit keeps shapes valid)
            coefs = [np.zeros((self.d, 1)), A[:1] * 0]
            inter = [np.zeros(1), c]
        return Network(coefs, inter, output=output, classes=classes)

    def output_points(self, n, units=()):
        """Points for the output fit: half near the last layer's units' boundaries
        (each unit must switch on the sample, or its sign is not determined), half
        from the domain."""
        run, st = self.run, self.st
        X = st["center"] + st["scale"] * run.rng.normal(size=(n, self.d))
        near = [u["members"][(r // max(1, len(units))) % len(u["members"])]["x"]
                for r, u in zip(range(n // 2), itertools.cycle(units))] if units else \
            [p["x"] for p in self.points[: n // 2]]
        for r, x in enumerate(near):
            X[r] = x + [0.03, 0.3, 1.0][r % 3] * st["scale"] * run.rng.normal(size=self.d)
        Y = self.answer(X, "last_layer")
        self.bank.append((X, Y))
        self.out_XY = (X, Y)
        return X, Y

    def covering_points(self, per_unit=8, step=0.05):
        """Points for the final output fit where each unit of the last hidden layer is
        on (found without a query): the unit's output weight is seen only there, and
        a unit on at few points of the domain is otherwise left to a handful of rows.

        For each unit, points of its boundary (Newton from random points of the
        domain) moved a little along its gradient, so it is on, plus random points.
        """
        st, rng = self.st, self.run.rng
        known = self.layers[:-1]
        W, b = self.layers[-1]
        h = W.shape[0]
        n_start = max(per_unit, 8)
        rows = [st["center"] + st["scale"] * rng.normal(size=(2 * (h + 1), self.d))]
        for k in range(h):
            starts = st["center"] + st["scale"] * rng.normal(size=(n_start, self.d))
            Yk, Nk, _ = self._onto_boundary(starts, known, W[k], b[k])
            if len(Yk) == 0:
                continue
            # the layer below is unchanged within the room: the unit is on there
            room = self._room(Yk, Nk, known, None)
            t = np.minimum(step * float(np.median(st["scale"])), 0.5 * room)
            Zk = Yk + t[:, None] * Nk
            on = forward_known(Zk, self.layers)[:, k] > 0
            rows.append(Zk[on][:per_unit])
        X = np.vstack(rows)
        return X, self.answer(X, "last_layer")

    def fit_output(self, X, Y):
        Aa = forward_known(X, self.layers)
        ok = np.isfinite(Y).all(axis=1)
        M = np.hstack([Aa[ok], np.ones((ok.sum(), 1))])
        coef, *_ = np.linalg.lstsq(M, Y[ok], rcond=None)
        res = float(np.abs(M @ coef - Y[ok]).max()) if ok.any() else np.inf
        return coef[:-1], coef[-1], res

    def partial_model(self):
        """Known layers and a least-squares output layer on every answer so far."""
        if not self.bank:
            return None
        X = np.concatenate([b[0] for b in self.bank])
        Y = np.concatenate([b[1] for b in self.bank])
        A, c, _ = self.fit_output(X, Y)
        return self.model(self.layers, A, c)

    def self_check(self, n_fresh):
        """Rows of the bank the copy misses, worst first (none: the check passes).

        ``n_fresh`` new points of the domain (an eighth 100 times farther out) are
        asked first (their cost is counted
        in ``info["self_check_queries"]``); the bank also holds every point of the
        lines searched, so a unit crossed by a line but not found shows there.
        """
        st = self.st
        if n_fresh:
            Z = st["scale"] * self.run.rng.normal(size=(n_fresh, self.d))
            Z[: n_fresh // 8] *= 100.0  # an eighth far out (a unit off only there)
            X = st["center"] + Z
            self.bank.append((X, self.answer(X, "self_check")))
            self.info["self_check_queries"] = self.info.get("self_check_queries", 0) + n_fresh
        X = np.concatenate([bk[0] for bk in self.bank])
        Y = np.concatenate([bk[1] for bk in self.bank])
        ok = np.isfinite(Y).all(axis=1)
        X, Y = X[ok], Y[ok]
        r = np.abs(self.fe._copy_logits(self.run.model, X) - Y).max(axis=1)
        bad = np.flatnonzero(r > self.fe._fit_limit(np.abs(Y).max(axis=1)))
        self.info["self_check_misses"] = int(bad.size)
        self.info["self_check_error"] = float(r.max()) if r.size else 0.0
        # every kink found on a line is some unit's: one no unit of the copy explains
        # belongs to a unit not found (a unit on in a small region shows here first)
        # (loosely: far out a kink is located to a few digits only)
        lost = [p["x"] for p in self.points if not self.explained(p, self.layers, 1e-5)]
        self.info["unexplained_kinks"] = len(lost)
        # nearest the domain first: where the missing unit turns on closest to it
        bad = bad[np.argsort(np.linalg.norm((X[bad] - st["center"]) / st["scale"], axis=1))]
        return np.vstack([X[bad], np.reshape(lost, (-1, self.d))])

    def aimed_lines(self, R, n):
        """``n`` lines (point, direction) along which ``r·a(x)`` falls fastest at a
        random point, for the rows ``r`` of ``R`` (in the activation space of the
        layers known; no query)."""
        st, rng = self.st, self.run.rng
        out = []
        for j in range(n):
            r = R[j % len(R)]
            for _ in range(8):
                x0 = st["center"] + st["scale"] * rng.normal(size=self.d)
                _, J, _ = activation_jacobian(x0, self.layers)
                g = J.T @ r
                ng = np.linalg.norm(g)
                if ng > 0:
                    v = -g / ng * np.sqrt(self.d) * float(np.median(st["scale"]))
                    out.append((x0, v))
                    break
        self.info["aimed_lines"] = self.info.get("aimed_lines", 0) + len(out)
        return out

    def last_hidden(self, units):
        """The last hidden layer's rows with signs, and how the signs were read."""
        W = np.array([u["u"] for u in units])
        b = np.array([u["b"] for u in units])
        X, Y = self.output_points(W.shape[0] + W.shape[1] + 1
                                  + max(32, (W.shape[0] + W.shape[1]) // 4), units)
        signs, method = self.last_hidden_signs(W, b, X, Y)
        if signs is None:
            # more points (every unit seen on both sides more often), once
            X2, Y2 = self.output_points(4 * (W.shape[0] + W.shape[1] + 1), units)
            X, Y = np.vstack([X, X2]), np.vstack([Y, Y2])
            self.out_XY = (X, Y)
            signs, method = self.last_hidden_signs(W, b, X, Y)
        if signs is None:
            # relu(-z) = relu(z) - z: whatever the signs, the units and a linear
            # term in the layer below fit exactly; the linear term (also holding a
            # unit that is on wherever it was looked at) is kept as pairs of units
            # relu(v·a) - relu(-v·a) = v·a
            W, b = self.with_linear_pairs(W, b, X, Y)
            signs = np.ones(W.shape[0])
            method = (f"{method}; signs left as found, the linear term kept as "
                      f"{W.shape[0] - len(units)} paired units")
        return W * signs[:, None], b * signs, method

    def extract(self, max_lines, n_check=4096, max_rounds=8, lines_per_round=8,
                cost_factor=2.0):
        """Peel every layer; the last one is searched until the copy explains a
        self-check of ``n_check`` fresh points and every point of the lines searched
        (more lines, aimed at the points it misses, up to ``max_rounds`` rounds of
        ``lines_per_round`` lines beyond ``max_lines``, while the queries paid stay
        within ``cost_factor`` times those paid at the first check)."""
        run = self.run
        L = len(self.sizes)
        self.bank = []
        self.add_lines(max(4, self.fe.n_lines))
        for s in {id(p["search"]): p["search"] for p in self.points}.values():
            keep = np.isfinite(s.F).all(axis=1)
            self.bank.append((s.x0 + s.t[keep, None] * s.v, s.F[keep]))
        run.model = self.partial_model()
        for l in range(1, L):
            units = self.peel(l, max_lines)
            self.info["units_per_layer"].append(len(units))
            if not units:
                return False, f"no unit of layer {l} was found"
            if l == 1:
                self.refine_first(units)
            else:
                self.refine_boundary(l, units)
            W = np.array([u["u"] for u in units])
            b = np.array([u["b"] for u in units])
            signs = self.signs_by_freezing(W, b, [u["members"] + u["extra"] for u in units])
            method = "freezing"
            for _ in range(4):
                if not np.any(signs == 0):
                    break
                # an expansive layer: the kinks of the layers above it tell the signs
                # (more lines while some are not determined by the kinks seen)
                if method != "freezing":
                    self.add_lines(max(4, self.fe.n_lines))
                signs = self.signs_by_consistency(W, b, signs)
                method = "freezing and consistency of the next layers' kinks"
            if np.any(signs == 0):
                bad = np.flatnonzero(signs == 0).tolist()
                self.info["sign_method"] = method
                return False, (f"layer {l}: the signs of units {bad} could not be read (no "
                               "critical point where the layer contracts: an expansive "
                               "layer)")
            self.info[f"layer{l}_sign_method"] = method
            self.layers.append((W * signs[:, None], b * signs))
            self.info["layers_done"] = l
            run.model = self.partial_model()
        units = self.peel(L, max_lines)
        self.info["units_per_layer"].append(len(units))
        n_fresh, aimed, extra_checks = n_check, 0, 0
        for rnd in range(max_rounds + 1):
            if not units:
                return False, f"no unit of layer {L} was found"
            if L > 1:
                self.refine_boundary(L, units)
            else:
                self.refine_first(units)
            W, b, method = self.last_hidden(units)
            self.info["units_per_layer"][-1] = W.shape[0]
            self.info[f"layer{L}_sign_method"] = method
            self.layers.append((W, b))
            self.info["layers_done"] = L
            X, Y = self.out_XY
            X2, Y2 = self.covering_points()
            X, Y = np.vstack([X, X2]), np.vstack([Y, Y2])
            A, c, res = self.fit_output(X, Y)
            self.info["last_layer_residual"] = res
            run.model = self.model(self.layers, A, c)
            misses = self.self_check(n_fresh)
            n_fresh = 0
            while not len(misses) and len(units) < self.sizes[-1] and extra_checks < 3:
                # fewer units than the stated width and nothing missed: a unit on
                # in a small region only (or dead); more fresh points, once each
                extra_checks += 1
                misses = self.self_check(n_check)
            self.info["search_rounds"] = rnd + 1
            n_pairs = W.shape[0] - len(units)
            paid = sum(self.st["phase_queries"].values())
            if rnd == 0:
                paid_first = paid
            if (rnd == max_rounds or paid > cost_factor * paid_first
                    or not len(misses) and (not n_pairs or aimed >= 2)):
                break
            self.layers.pop()
            if len(misses):
                # a unit of the last layer is missing (or wrong): search on, through
                # the points the copy misses (the units found so far are kept)
                self.check_hints = list(misses[:2])
            else:
                # a linear term is left: a unit on almost everywhere poses as one;
                # lines along which the term falls most cross where it turns off
                aimed += 1
                self.check_hints = self.aimed_lines(W[len(units):], lines_per_round)
            units = self.peel(L, self.lines + max(lines_per_round, len(self.check_hints)),
                              units=units)
        if len(misses):
            return False, (f"{L} hidden layers with {self.info['units_per_layer']} units, but "
                           f"the copy misses {len(misses)} of the answers paid for (largest "
                           f"error {self.info['self_check_error']:.3g}) after "
                           f"{self.info['search_rounds']} rounds of search: a unit is "
                           "missing or wrong")
        msg = f"{L} hidden layers with {self.info['units_per_layer']} units"
        if len(units) < self.sizes[-1]:
            msg += (f" ({len(units)} of the stated {self.sizes[-1]} units of the last found"
                    + (f", {n_pairs} paired units hold its linear term (a unit on "
                       "wherever looked)" if n_pairs else "")
                    + f"; no miss in {self.info['self_check_queries']} fresh points and "
                    f"{self.lines} lines: a unit left out is dead, on only in a small "
                    "region, or in the linear term)")
        return True, msg
