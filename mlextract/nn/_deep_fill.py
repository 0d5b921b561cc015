"""Filling the weights a unit's critical points never showed (Carlini et al. 2020, §4.3).

A unit of layer ``l`` sees its weight on unit ``i`` of layer ``l - 1`` only at
critical points where unit ``i`` is on. For a coordinate never active there
(``uncovered``), ``fill_uncovered`` searches lines along the predicted normal where
unit ``i`` is on: at a kink of this unit ``u·a(x*) + b + Δ a_i(x*) = 0`` gives the
missing ``Δ``, kept when repeated at several kinks (one vote per kink) and when the
unit then explains the normal at some of them. Where the votes do not settle every
weight, ``complete_by_normals`` solves for all missing weights at once from kinks
whose normal and hyperplane the unit explains (``_consistent_kink``; valid where the
layer below does not contract); ``_least_ratio`` finds the least
``ρ(x) = -(known part)/a_i(x)`` (the unit is on exactly where ``u_i > ρ``) and lines
that cross the boundary if ``u_i`` exceeds it; with no such kink and ``ρ > 0`` (last
hidden layer only) the weight ``ρ`` keeps the unit off there, as the victim's is.
``fill_all`` drives them per unit. Mixin of ``DeepExtraction``: uses its state, random
stream and queries.

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884).
"""

from __future__ import annotations

import numpy as np

from ._critical_points import search_lines
from ._deep_signatures import activation_jacobian, forward_known, joint_solve

__all__ = ["UnseenWeights"]


class UnseenWeights:
    """Filling unseen weights for ``DeepExtraction``."""

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
            test(self._new_kinks(lines, known, lambda a: (a[~cov] > 0).any()))
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
                test(self._new_kinks(lines, known, lambda a, i=i: a[i] > 0))
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

    def _new_kinks(self, lines, known, keep):
        """Kinks found on ``lines`` (searched for this unit) where the known layers'
        activations ``a`` satisfy ``keep(a)``, with their normals, leaving out those the
        known layers explain."""
        searches, _ = search_lines(lambda X: self.answer(X, "tracing"), lines, n_grid=32,
                                   tol=self.fe._tol, min_gap=self.st["min_gap"])
        pts = []
        for s in searches:
            s.kinks.sort(key=lambda kk: kk[0])
            for j, (t, _) in enumerate(s.kinks):
                x = s.x0 + t * s.v
                if not keep(forward_known(x[None], known)[0]):
                    continue
                self.traces += 1
                pts.append({"x": x, "line": -1 - self.traces, "search": s, "j": j,
                            "normal": None, "tried": False, "owner": None})
        self.compute_normals(pts)
        return [q for q in pts if q["normal"] is not None and not self.explained(q, known)]

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
