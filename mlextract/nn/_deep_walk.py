"""Walking along a unit's boundary, and merging its fragments (Carlini et al. 2020, §4.3).

The critical points of one unit of layer ``l`` are connected: within a region of
the layers below its boundary is a hyperplane, and it bends by one row of the layer
below at each crossing. ``walk_down`` follows it from a kink where the layer below
expands into a region where it contracts (so its signature can be solved);
``walk_to``/``trace`` follow it to where a coordinate it never saw active is on,
and search a short line there for the new critical point. Clusters of signatures
that are fragments of one unit (seen on different coordinates) are found
(``duplicate_of``, ``merge_fragments``) and merged (``merge_into``); ``confirm``
tests that a cluster kinks in several regions of its layer (a deeper unit's local
plane does not). Mixin of ``DeepExtraction``: uses its state (``st``, ``points``,
``traces``, ``info``) and its queries (``answer``, ``compute_normals``).

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884).
"""

from __future__ import annotations

import numpy as np

from ._critical_points import search_lines
from ._deep_signatures import _match, activation_jacobian, forward_known, joint_solve, signature

__all__ = ["BoundaryWalking"]


class BoundaryWalking:
    """Boundary walking and fragment merging for ``DeepExtraction``."""

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
