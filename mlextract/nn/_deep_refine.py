"""Refinement of the units found to rounding precision (Carlini et al. 2020, §4.4).

Each unit is refitted through many points located afresh on its boundary: points of
the boundary predicted by the current estimate are reached by Newton steps on the
known layers (no query, ``_onto_boundary``), spread so that every coordinate is
active at several (``_pick_spread``), and moved along the local normal to where two
linear pieces of the victim's answer meet (``_locate``: four queries and a fifth to
verify), clear of other kinks (``_room``). In the space of the layer below these
points lie exactly on the unit's hyperplane; ``refine_first`` (layer 1: the plane is
global) and ``refine_boundary`` (deeper layers) refit it. Mixin of
``DeepExtraction``: uses its state, random stream and ``answer``.

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884).
"""

from __future__ import annotations

import numpy as np

from ._deep_signatures import forward_known
from ._hyperplane_fit import exact_hyperplane_fit, hyperplane_fit

__all__ = ["BoundaryRefinement"]


class BoundaryRefinement:
    """Precision refinement for ``DeepExtraction``."""

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
