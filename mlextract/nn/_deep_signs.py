"""Signs of the units of an inner layer (Carlini et al. 2020, §4.3 and §5).

A unit's ``(u, b)`` is found up to sign. ``signs_by_freezing``: at a critical point
of unit ``i`` where the layer contracts, a direction ``e`` with ``W_l[j] J e = 0`` for
the layer's other units and ``W_l[i] J e = 1`` changes the layer's output only
through unit ``i``; on the side where it is off the victim's answer does not move
(``_freeze_trial``; ``_boundary_point`` finds such a point without a query).
``signs_by_consistency``: where the layer does not contract, the deeper layers' kinks
decide (each kink's normal must lie in the span of the layer's units on there); a
sign is kept only where every assignment breaking no kink agrees (exhaustive search
with pruning, ``_signs_exhaustive``). Mixin of ``DeepExtraction``: uses its state,
random stream and queries.

References
----------
.. [1] N. Carlini, M. Jagielski, I. Mironov. "Cryptanalytic Extraction of Neural
   Network Models". CRYPTO 2020 (arXiv:2003.04884).
"""

from __future__ import annotations

import itertools

import numpy as np

from ._deep_signatures import activation_jacobian

__all__ = ["InnerLayerSigns"]


class InnerLayerSigns:
    """Inner layers' sign recovery for ``DeepExtraction``."""

    # --------------------------------------------------------------- signs
    def signs_by_freezing(self, W, b, members, signs=None):
        """Signs of an inner layer: move so that only one unit of the layer changes.

        At a critical point of unit ``i`` a direction ``e`` with ``W_l[j] J e = 0``
        for the other units and ``W_l[i] J e = 1`` changes the layer's output only
        through unit ``i``: on the side where it is inactive the victim's answer does
        not move at all. Needs ``h_l ≤ rank J`` (a contracting region), or fewer:
        units whose sign is known (``signs``, 0 where not) and that are off at the
        point need not be frozen.
        """
        known = list(self.layers)
        h = W.shape[0]
        signs = np.zeros(h) if signs is None else np.array(signs, dtype=float)
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
