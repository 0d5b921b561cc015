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

This module holds the driver (peeling a layer, the last layer's signs and the
output fit, the self-check); the phases are mixins in their own modules:
``_deep_walk`` (boundary walking and fragment merging), ``_deep_fill`` (weights
never seen), ``_deep_signs`` (inner layers' signs), ``_deep_refine`` (precision
refinement); plain functions in ``_deep_signatures`` (signatures, clustering,
joint solve) and ``_hyperplane_fit``.

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884), §4.3-4.4 and §5.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._critical_points import search_lines
from ._deep_fill import UnseenWeights
from ._deep_refine import BoundaryRefinement
from ._deep_signatures import (
    activation_jacobian,
    cluster_signatures,
    forward_known,
    joint_solve,
    signature,
)
from ._deep_signs import InnerLayerSigns
from ._deep_walk import BoundaryWalking
from ._hyperplane_fit import exact_hyperplane_fit
from ._sign_recovery import fit_last_layer, output_head, recover_signs
from ._weight_recovery import gradient_jumps, unit_from_jump

__all__ = ["forward_known", "activation_jacobian", "signature", "joint_solve",
           "cluster_signatures", "exact_hyperplane_fit", "DeepExtraction"]


class DeepExtraction(InnerLayerSigns, UnseenWeights, BoundaryWalking, BoundaryRefinement):
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
        inner, start, restarts = {}, 1, 0
        while True:
            done = self.inner_layers(start, inner, max_lines)
            if done is not None:
                if not restarts:
                    return done
                break
            done, misses = self.last_layer(max_lines, n_check, max_rounds, lines_per_round,
                                           cost_factor)
            short = [l for l in range(1, L) if len(inner[l]) < self.sizes[l - 1]]
            if done is not None or not len(misses) or not short or restarts >= 1:
                break
            # the copy misses answers and an inner layer has fewer units than stated:
            # a unit of it on in a small region only was never crossed by the lines.
            # The points missed lie where it is on; lines through them cross its
            # boundary. Search that layer on through them (its units kept) and peel
            # the layers above it again
            restarts += 1
            start = short[0]
            before = (run.model, misses, self.last_units, self.n_pairs, list(self.layers),
                      list(self.info["units_per_layer"]))
            self.info["inner_restarts"] = restarts
            self.layers = self.layers[: start - 1]
            self.info["units_per_layer"] = self.info["units_per_layer"][: start - 1]
            for p in self.points:
                if not (isinstance(p["owner"], tuple) and isinstance(p["owner"][0], int)
                        and p["owner"][0] <= start):
                    p["owner"] = None
            self.st["hints"] = list(misses[: 4 * lines_per_round])
            inner["resume"] = (start, self.lines + 4 * lines_per_round)
        if done is not None and restarts:
            # the search resumed failed outright: the copy before it is kept
            self.info["inner_restart_failed"] = done[1]
            (run.model, misses, self.last_units, self.n_pairs, self.layers,
             self.info["units_per_layer"]) = before
            done = None
        if done is not None:
            return done
        return self.report(misses)

    def inner_layers(self, start, inner, max_lines):
        """Peel layers ``start .. L-1`` (``inner``: their units, kept to resume a
        search); ``None`` when done, else the failure (False, message)."""
        run = self.run
        L = len(self.sizes)
        resume = inner.pop("resume", None)
        for l in range(start, L):
            if resume is not None and resume[0] == l:
                units = self.peel(l, resume[1], units=inner[l])
            else:
                units = self.peel(l, max_lines)
            inner[l] = units
            self.info["units_per_layer"].append(len(units))
            if not units:
                return False, f"no unit of layer {l} was found"
            if l == 1:
                self.refine_first(units)
            else:
                self.refine_boundary(l, units)
            W = np.array([u["u"] for u in units])
            b = np.array([u["b"] for u in units])
            # a search resumed: the signs read before are kept (a unit on in a small
            # region only is frozen more easily where the others are off)
            signs = self.signs_by_freezing(W, b, [u["members"] + u["extra"] for u in units],
                                           [u.get("sign", 0.0) for u in units])
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
            for u, sg in zip(units, signs):
                u["sign"] = sg
            self.layers.append((W * signs[:, None], b * signs))
            self.info["layers_done"] = l
            run.model = self.partial_model()
        return None

    def last_layer(self, max_lines, n_check, max_rounds, lines_per_round, cost_factor):
        """Peel the last hidden layer and fit the output, searching on while the
        self-check misses answers; returns (failure or None, the rows missed)."""
        run = self.run
        L = len(self.sizes)
        units = self.peel(L, max_lines)
        self.info["units_per_layer"].append(len(units))
        n_fresh, aimed, extra_checks = n_check, 0, 0
        for rnd in range(max_rounds + 1):
            if not units:
                return (False, f"no unit of layer {L} was found"), []
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
        self.last_units, self.n_pairs = units, n_pairs
        return None, misses

    def report(self, misses):
        """The outcome: (success, message)."""
        L = len(self.sizes)
        units, n_pairs = self.last_units, self.n_pairs
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
