"""Path finding: exact copies of decision trees from leaf identities (Tramèr et al. 2016, §4.2).

A tree API answers each query with the identity of the leaf it lands in (its class
distribution, or its value); BigML also answered *incomplete* queries, stopping the
descent at the first node whose feature is missing and answering that node's
distribution. Path finding turns those answers into the tree:

- ``_identify_feature``: which feature does the node a query stopped at test? Supply
  half of the missing features at once; the answer moves iff the tested feature is
  among them (group testing, weighted by how often each feature was used so far).
- ``_line_search``: where are the cuts on that feature? Probe the ends of its range and
  bisect between different answers down to two adjacent float32 values (exact, since
  the victim compares ``float32(x) <= t``); categories are tried one by one.
- ``_verify_cell``: a node's region is a box, so two opposite corners of the box we
  believe in (plus one point per category) that answer like the node prove the box;
  a corner that answers differently reveals a split hidden behind an earlier one (a
  feature tested twice on a path), found by walking from the node's point to the
  corner one feature at a time.

With incomplete queries (top-down) the copy has the victim's structure. With complete
queries only (bottom-up, :mod:`._leaf_boxes`) each leaf's box is read from slices
through one of its points, the probes that answer otherwise start the next leaves,
and the boxes are assembled into a tree once their volumes cover the domain.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import nnls

from .._exceptions import BudgetExhausted
from ._base import Attack, Run
from ._extracted_tree import (
    TREE_LEAF,
    ExtractedTreeClassifier,
    ExtractedTreeRegressor,
    TreeArrays,
)
from ._leaf_boxes import extract_leaf_boxes
from ._leaf_boxes import leaves_of as _leaves
from ._registry import register
from ._tree_fields import fields_from_domain

__all__ = ["PathFinding"]


class _Node:
    """A node of the copy under construction.

    ``kind`` is "verify" (a cell whose box is not yet proved), "expand" (a proved
    cell whose stop node's feature is still unknown), "leaf" or "split".
    """

    __slots__ = ("kind", "q", "box", "answer", "key", "column", "threshold", "codes",
                 "left", "right", "describe", "exact", "grid", "grid_round", "witness",
                 "susp")

    def __init__(self, kind, q=None, box=None, answer=None, key=None, exact=()):
        self.kind, self.q, self.box, self.answer, self.key = kind, q, box, answer, key
        self.exact = frozenset(exact)
        self.grid = None
        self.grid_round = 0
        self.witness = ()
        self.susp = None  # may other cells answer alike? (decided at the box check)
        self.column = self.threshold = self.codes = self.left = self.right = None
        self.describe = None

    @classmethod
    def split(cls, column, threshold, left, right, *, codes=None, describe=None):
        n = cls("split")
        n.column, n.threshold, n.codes, n.left, n.right = column, threshold, codes, left, right
        n.describe = describe
        return n

    def become(self, other: _Node) -> None:
        for s in self.__slots__:
            setattr(self, s, getattr(other, s))


def _key(answer) -> bytes:
    if isinstance(answer, float | np.floating):
        return np.float64(round(float(answer), 12) + 0.0).tobytes()
    return _array_key(answer)


def _array_key(answer) -> bytes:
    """Identity of an answer. Distributions equal to 12 decimals are one identity:
    the API normalises each node's counts itself, so a node and children that hold
    the same distribution may differ in the last bit."""
    a = np.asarray(answer)
    if a.dtype.kind in "fiu":
        raw = a.dtype.str.encode() + a.tobytes()
        key = _KEYS.get(raw)
        if key is None:  # rounding is the slow part: once per distinct answer
            if len(_KEYS) > 200_000:
                _KEYS.clear()
            key = _KEYS[raw] = (np.round(np.ascontiguousarray(a, dtype=np.float64), 12)
                                + 0.0).tobytes()
        return key
    return repr(a.tolist()).encode()


_KEYS: dict[bytes, bytes] = {}


def _in_hull(p, points, tol=1e-6) -> bool:
    """Is ``p`` a convex combination of ``points``? (non-negative least squares)."""
    P = np.asarray(points, dtype=float).reshape(len(points), -1)
    p = np.atleast_1d(np.asarray(p, dtype=float))
    if P.shape[0] == 0:
        return False
    if P.shape[1] == 1:
        return P.min() - tol <= p[0] <= P.max() + tol
    A = np.vstack([P.T, np.ones(P.shape[0])])
    w, res = nnls(A, np.append(p, 1.0))
    return res <= tol


class _Extraction:
    """The state of one path-finding run: fields, answer cache, counts, work list."""

    def __init__(self, attack: PathFinding, run: Run, top_down: bool):
        self.run = run
        self.oracle = run.oracle
        self.top_down = top_down
        self.fields = fields_from_domain(self.oracle.domain)
        self.d = self.oracle.n_features or self.oracle.domain.n_features
        self.usage = np.ones(len(self.fields))
        self.n_refine = attack.n_refine
        self.n_checks = attack.n_checks if attack.n_checks is not None else (
            4 if top_down else 8)
        self.numeric = self.oracle.output in ("proba", "value")
        self.cache: dict[bytes, object] = {}
        self.owner: dict[bytes, _Node] = {}  # box-check rows -> their cell
        self.paid_by: dict[int, list] = {}
        self.seen: dict[bytes, int] = {}
        self.counts = {"identify": 0, "line_search": 0, "verify": 0, "refine": 0, "grid": 0}
        if not top_down:
            self.counts.update(slice=0, check=0)
        self.n_hidden = 0
        self.n_hull_failures = 0
        self.unresolved: list[str] = []
        self.mixtures: dict[bytes, tuple] = {}
        self.root = None
        self.cuts = {fi: set() for fi, f in enumerate(self.fields) if f.ordered}
        self.partitions = {fi: [] for fi, f in enumerate(self.fields) if not f.ordered}
        self.cut_boxes = {fi: [] for fi in self.cuts}  # each cut and the box it was found in
        # top-down by default: pure leaves that answer like cells apart from them are
        # checked once on the cuts found near them (see _grid_values)
        self.near_grid = top_down and attack.grid_checks is None
        self.grid_cap = attack.grid_checks if attack.grid_checks is not None else (
            1 if top_down else 64)
        self.grid_rounds = 6 if self.grid_cap else 0
        self.n_grid_splits = 0
        self.n_witnesses = 0
        self.n_pieces = 0

    # ----------------------------------------------------------------- queries
    def ask(self, X, phase):
        """Answers for the rows of X, paying only for rows never asked before."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        keys = [row.tobytes() for row in X + 0.0]
        todo = {}
        for k, row in zip(keys, X):
            if k not in self.cache and k not in todo:
                todo[k] = row
        if todo:
            before = self.oracle.n_queries
            ans = self.oracle.query(np.array(list(todo.values())), phase=phase, reuse=True)
            self.counts[phase] += self.oracle.n_queries - before
            for k, a in zip(todo, ans):
                self.cache[k] = a
                node = self.owner.get(k)
                if node is not None and phase == "verify":
                    self.paid_by.setdefault(id(node), [node, 0])[1] += 1
        return [self.cache[k] for k in keys]

    def _own(self, node, X):
        """Box-check rows of ``node``: their paid queries are counted for it."""
        for row in X + 0.0:
            self.owner.setdefault(row.tobytes(), node)

    def box_checks(self):
        """Paid box-check queries of the cells that ended as leaves and as splits, and
        the other verify queries (searches of hidden cuts)."""
        out = {"leaf_boxes": 0, "internal_boxes": 0}
        for node, n in self.paid_by.values():
            out["leaf_boxes" if node.kind != "split" else "internal_boxes"] += n
        out["hidden_cut_searches"] = self.counts["verify"] - sum(out.values())
        return out

    def ask1(self, x, phase):
        return self.ask(x[None, :], phase)[0]

    # ------------------------------------------------------------ the phases
    def _identify_feature(self, q, missing, key):
        """The field tested by the node ``q`` stops at, or None if it is a leaf."""
        def supplied(fields, values=None):
            x = q.copy()
            for fi in fields:
                f = self.fields[fi]
                f.put(x, f.default() if values is None else values[fi])
            return _key((yield x[None, :], "identify")[0]) != key

        if not (yield from supplied(missing)):
            # One completion that answers like the node does not make it a leaf: it may
            # reach a descendant that holds the same distribution (a node of 4 samples
            # split 2/2 above a leaf of 2 that splits alike). An impure answer may be
            # such a node: a second completion, every field elsewhere, settles it (a
            # pure node is a leaf or answers alike everywhere below; a regression
            # node's mean is a descendant's only by coincidence).
            if self._pure(key) or self.oracle.output == "value":
                return None
            rng = self.run.rng
            other = {fi: (self.fields[fi].sample(rng, *self.fields[fi].full())
                          if self.fields[fi].ordered else self.fields[fi].n_values - 1)
                     for fi in missing}
            if not (yield from supplied(missing, other)):
                return None
        cand = sorted(missing, key=lambda fi: -self.usage[fi])
        while len(cand) > 1:
            half, other, wh, wo = [], [], 0.0, 0.0
            for fi in cand:  # greedy halving of the usage weight
                if wh <= wo:
                    half.append(fi)
                    wh += self.usage[fi]
                else:
                    other.append(fi)
                    wo += self.usage[fi]
            cand = half if (yield from supplied(half)) else other
        return cand[0]

    def _line_search(self, q, fi, rng, phase, *, known=None, extra=()):
        """Segments of an ordered field's range [lo, hi] at the point q.

        Probes the ends (and ``extra`` indices), then bisects between probes that
        answer differently until they are adjacent values. Returns the segments
        (lo, hi, rep, answer) in order, and every probe's answer.
        """
        f = self.fields[fi]
        lo, hi = rng
        pts = dict(known or {})
        pk = {i: _key(a) for i, a in pts.items()}

        def probe(idxs, ph):
            idxs = [i for i in dict.fromkeys(idxs) if i not in pts]
            if not idxs:
                return
            X = np.repeat(q[None, :], len(idxs), axis=0)
            for r, i in enumerate(idxs):
                f.put(X[r], i)
            for i, a in zip(idxs, (yield X, ph)):
                pts[i] = a
                pk[i] = _key(a)

        def bisect(ph):
            while True:
                s = sorted(pts)
                mids = [f.middle(a, b) for a, b in zip(s, s[1:])
                        if b > a + 1 and pk[a] != pk[b]]
                if not mids:
                    return
                yield from probe(mids, ph)

        yield from probe([lo, hi] + list(extra), phase)
        yield from bisect(phase)
        s = [i for i in sorted(pts) if lo <= i <= hi]
        segs = []
        for i in s:
            if segs and _key(segs[-1][3]) == pk[i]:
                segs[-1][1] = i
            else:
                if segs:
                    segs[-1][1] = i - 1
                segs.append([i, i, i, pts[i]])
        segs[0][0], segs[-1][1] = lo, hi
        for sg in segs:  # representative: the probed value nearest the middle
            k = _key(sg[3])
            inside = [i for i in s if sg[0] <= i <= sg[1] and pk[i] == k]
            mid = (sg[0] + sg[1]) / 2
            sg[2] = min(inside, key=lambda i: abs(i - mid))
        return [tuple(sg) for sg in segs], pts

    def _set_search(self, q, fi, cats, phase, *, known=None):
        """Categories of a set field grouped by answer: list of (cats, rep, answer)."""
        f = self.fields[fi]
        cats = sorted(cats)
        pts = dict(known or {})
        todo = [c for c in cats if c not in pts]
        if todo:
            X = np.repeat(q[None, :], len(todo), axis=0)
            for r, c in enumerate(todo):
                f.put(X[r], c)
            for c, a in zip(todo, (yield X, phase)):
                pts[c] = a
        groups: dict[bytes, list] = {}
        for c in cats:
            k = _key(pts[c])
            # A pure answer may be held by several leaves: categories that answer it
            # are kept apart (one cell each) rather than assumed to reach one node.
            # (top-down; bottom-up's grid checks probe every category in every leaf)
            groups.setdefault((k, c) if self.top_down and self._pure(k) else k, []).append(c)
        return [(frozenset(g), g[0], pts[g[0]]) for g in groups.values()]

    def _children(self, q, box, fi, segments, kind_after):
        """Child cells, one per segment of field fi, and the split nodes above them."""
        f = self.fields[fi]
        if f.ordered:
            self.cuts[fi].update(seg[1] for seg in segments[:-1])
            self.cut_boxes[fi].extend((seg[1], box) for seg in segments[:-1])
        else:
            self.partitions[fi].append([frozenset(seg[0]) for seg in segments])
        cells = []
        for seg in segments:
            x = q.copy()
            b = dict(box)
            if f.ordered:
                lo, hi, rep, ans = seg
                b[fi] = (lo, hi)
            else:
                cats, rep, ans = seg
                b[fi] = cats
            f.put(x, rep)
            cells.append(_Node(kind_after, x, b, ans, _key(ans), exact=(fi,)))
        return cells, self._cluster(fi, segments, cells)

    def _cluster(self, fi, segments, cells):
        """Split nodes realising the segments of field fi (one of the equivalent nestings)."""
        f = self.fields[fi]
        if len(cells) == 1:
            return cells[0]
        if f.ordered:
            def build(lo, hi):
                if hi - lo == 1:
                    return cells[lo]
                mid = (lo + hi) // 2
                cut = segments[mid - 1][1]
                return _Node.split(f.column, f.threshold(cut), build(lo, mid), build(mid, hi),
                                   describe=f.describe(cut))
            return build(0, len(cells))
        groups = [(sorted(seg[0]), cell) for seg, cell in zip(segments, cells)]
        if not f.one_hot:
            order = sorted((c, k) for k, (cs, _) in enumerate(groups) for c in cs)
            runs = [k for n, (_, k) in enumerate(order) if n == 0 or order[n - 1][1] != k]
            if len(runs) == len(groups):  # every group is an interval of codes: thresholds
                segs = []
                for k in runs:
                    cs = groups[k][0]
                    segs.append((cs[0], cs[-1], None, None))
                cells_in_order = [groups[k][1] for k in runs]

                def build(lo, hi):
                    if hi - lo == 1:
                        return cells_in_order[lo]
                    mid = (lo + hi) // 2
                    a, b = f.values[segs[mid - 1][1]], f.values[segs[mid][0]]
                    return _Node.split(f.columns[0], (a + b) / 2, build(lo, mid), build(mid, hi),
                                       describe={"feature": f.name, "column": int(f.columns[0]),
                                                 "kind": "categorical", "threshold": (a + b) / 2,
                                                 "precision": "exact on the category codes"})
                return build(0, len(cells_in_order))
        rest = max(range(len(groups)), key=lambda k: (len(groups[k][0]), -groups[k][0][0]))
        cur = groups[rest][1]
        others = sorted((c, cell) for k, (cs, cell) in enumerate(groups) if k != rest
                        for c in cs)
        if f.one_hot:
            for c, cell in reversed(others):
                col = int(f.columns[c])
                cur = _Node.split(col, 0.5, cur, cell, describe={
                    "feature": f.names[c] if f.names else str(col), "column": col,
                    "kind": "one_hot", "threshold": 0.5, "precision": "exact (0/1 column)"})
            return cur
        for k in sorted((k for k in range(len(groups)) if k != rest), reverse=True):
            cs, cell = groups[k]
            codes = f.values[cs]
            cur = _Node.split(int(f.columns[0]), -2.0, cell, cur, codes=codes, describe={
                "feature": f.name, "column": int(f.columns[0]), "kind": "categorical set",
                "codes": codes.tolist(), "precision": "exact on the category codes"})
        return cur

    def _verify_cell(self, node):
        """Prove the node's box with corner queries, or split it on a hidden cut."""
        q, box, key = node.q, node.box, node.key
        room = [fi for fi, f in enumerate(self.fields) if f.supplied(q) and (
            (f.ordered and box[fi][0] < box[fi][1]) or (not f.ordered and len(box[fi]) > 1))]
        # The field searched to make this cell needs no corners: every value of its
        # segment was probed (set) or bounded by probes (ordered) with q's other values,
        # and the cell's region is a product, so corners of the other fields suffice.
        corners = [fi for fi in room if fi not in node.exact]
        if not room:
            node.kind = "expand" if self.top_down else "leaf"
            return []
        sets = {fi: sorted(box[fi]) for fi in room if not self.fields[fi].ordered}
        # The largest category set alone (the others at q): a category that fails
        # then differs from q in that field only, and the search that splits the cell
        # finds every category answered already. The other fields vary together.
        # Worth it when that set dwarfs the others (the extra rows are few), top-down
        # (measured: bottom-up cells split on many fields, and the star rows cost more).
        big = max((fi for fi in corners if fi in sets), key=lambda fi: len(sets[fi]),
                  default=None)
        if not self.top_down or big is not None and len(sets[big]) < 4 * max(
                [2] + [len(sets[fi]) for fi in corners if fi in sets and fi != big]):
            big = None
        suspicious = node.susp = self._suspicious(node)
        # A pure cell (near-cut mode): its answer names no node, and a region behind
        # two hidden cuts answers otherwise only where both fields move (see
        # _verify_pure); its checks are deterministic, no random rows.
        pure = self.top_down and self.near_grid and suspicious and self._pure(key)
        if pure and any(self.fields[fi].ordered for fi in room):
            return (yield from self._verify_pure(node, room, corners, sets, big))
        if self.top_down and suspicious and self.oracle.output != "value" and any(
                self.fields[fi].ordered for fi in corners):
            # A pure class, a label or a distribution seen in another cell may be held
            # by several leaves: a row that moves several fields at once may cross a
            # hidden cut and land in a look-alike leaf; add rows that move one ordered
            # field each. (A regression value is seen again only at the same node.)
            return (yield from self._verify_alone(node, room, corners, sets))
        rest = [fi for fi in corners if fi != big]
        n_star = len(sets[big]) - 1 if big is not None else 0
        n_pts = max([2] + [len(sets[fi]) for fi in rest if fi in sets]) if rest else 0
        n_rand = self.n_checks if suspicious and not pure else 0
        if n_star + n_pts + n_rand == 0:
            node.kind = "expand" if self.top_down else "leaf"
            return []
        X = np.repeat(q[None, :], n_star + n_pts + n_rand, axis=0)
        rng = self.run.rng
        if big is not None:
            f, c0 = self.fields[big], self.fields[big].category(q)
            for r, c in enumerate(c for c in sets[big] if c != c0):
                f.put(X[r], c)
        for fi in room:
            f = self.fields[fi]
            if fi in rest:
                if f.ordered:
                    for r in range(n_pts):
                        f.put(X[n_star + r], box[fi][r % 2])
                else:
                    s = sets[fi]
                    for r in range(n_pts):
                        f.put(X[n_star + r], s[(r + 1) % len(s)])
            for r in range(n_star + n_pts, n_star + n_pts + n_rand):
                if f.ordered:
                    f.put(X[r], f.sample(rng, box[fi][0], box[fi][1]))
                else:
                    f.put(X[r], int(rng.choice(sets[fi])))
        if pure:  # each category alone (the others at q), pairs of the two largest sets
            X = np.vstack([X] + [self._moved(q, fi, c) for fi in rest if fi in sets
                                 for c in sets[fi] if c != self.fields[fi].category(q)]
                          + self._pair_moves(q, [fi for fi in corners if fi in sets], sets))
        return (yield from self._ask_checks(node, room, X))

    def _ask_checks(self, node, room, X):
        """Ask the box-check rows X of a cell (and its witnesses): the box is proved
        when every row answers like the cell, else it is split at those that do not."""
        X = self._with_witnesses(node, X)
        self._own(node, X)
        answers = yield X, "verify"
        bad = [r for r, a in enumerate(answers) if _key(a) != node.key]
        if not bad:
            node.kind = "expand" if self.top_down else "leaf"
            return []
        return (yield from self._split_keeping(node, room, X[bad]))

    def _verify_alone(self, node, room, corners, sets):
        """Box checks of a cell whose answer other cells may hold (top-down).

        Each ordered field alone at both ends of its range in the box (a hidden cut's
        far side is then the cell's neighbour along that field, which answers
        otherwise unless it splits alike too), the corners (every field moved
        together: the r-th category of each set field, alternate ends of each
        ordered field; islands behind two hidden cuts), then ``n_checks`` random
        points of the box. With the default near-cut checks (which probe the pure
        alike leaves again later), the corners and the random points are one set of
        rows: one per category of the largest set field, each set field's categories
        paired at random, the ordered fields at random values of the box. (Pure cells
        are checked by :meth:`_verify_pure` in that mode; this serves cells whose
        impure answer was seen before.)
        """
        q, box = node.q, node.box
        rows = []
        for fi in corners:
            f = self.fields[fi]
            if f.ordered:
                for v in dict.fromkeys(box[fi]):
                    if v != self._index_of(f, q):
                        x = q.copy()
                        f.put(x, v)
                        rows.append(x)
        rng = self.run.rng
        if self.near_grid:
            # Near-cut checks follow for pure alike leaves (see _grid_values): the set
            # fields' categories, each once, paired at random, with the ordered fields
            # at random values of the box (the corners and random points in one).
            sizes = [len(sets[fi]) for fi in corners if fi in sets]
            perm = {fi: rng.permutation(sets[fi]) for fi in room if fi in sets}
            rows += [self._random_row(q, room, box, lambda fi, r=r: perm[fi][r % len(perm[fi])])
                     for r in range(max(sizes, default=0))]
        else:
            # and the corners: every field moves together (the r-th category of each
            # set field, both ends of each ordered field): islands behind two hidden cuts
            n_pts = max([2] + [len(sets[fi]) for fi in corners if fi in sets])
            for r in range(n_pts):
                x = q.copy()
                for fi in corners:
                    f = self.fields[fi]
                    f.put(x, box[fi][r % 2] if f.ordered
                          else sets[fi][(r + 1) % len(sets[fi])])
                rows.append(x)
            rows += [self._random_row(q, room, box, lambda fi: rng.choice(sets[fi]))
                     for _ in range(self.n_checks)]
        if not rows:
            node.kind = "expand"
            return []
        return (yield from self._ask_checks(node, room, np.array(rows)))

    def _random_row(self, q, room, box, category):
        """q with each ordered field of ``room`` at a random value of the box and each
        set field at ``category(fi)`` (fields in order, so the draws are seeded alike)."""
        x = q.copy()
        rng = self.run.rng
        for fi in room:
            f = self.fields[fi]
            if f.ordered:
                f.put(x, f.sample(rng, box[fi][0], box[fi][1]))
            else:
                f.put(x, int(category(fi)))
        return x

    def _pair_moves(self, q, fields, sets):
        """Rows of a pure set-only cell that move its two largest set fields together
        (the others at q), to categories both unlike q's: every such pair, when their
        count is at most twice the rows that move those fields alone.

        A pure answer is held by many leaves: a region of another answer behind hidden
        cuts on two set fields (work = 2 and education = 5 where q has neither) answers
        otherwise only where both move, and the diagonal rows pair each category with
        one category of the other field only. Covering every pair costs
        :math:`(n_1 - 1)(n_2 - 1)` rows against :math:`(n_1 - 1) + (n_2 - 1)` for the
        single moves; the cap keeps a cell's checks linear in its categories. It is a
        cost trade-off measured on Steak trees (a region behind two categories of
        larger fields is still missed): every pair of every two fields fixed the same
        victims as the two largest, at +34% queries against +16% with the cap (see the
        table notes of the path_finding experiment).
        """
        top = sorted(fields, key=lambda fi: -len(sets[fi]))[:2]
        if len(top) < 2:
            return []
        (a, b), (na, nb) = top, (len(sets[top[0]]) - 1, len(sets[top[1]]) - 1)
        if na * nb > 2 * (na + nb):
            return []
        fa, fb = self.fields[a], self.fields[b]
        ca, cb = fa.category(q), fb.category(q)
        rows = []
        for u in sets[a]:
            for v in sets[b]:
                if u != ca and v != cb:
                    x = q.copy()
                    fa.put(x, u)
                    fb.put(x, v)
                    rows.append(x[None, :])
        return rows

    def _moved(self, q, fi, v):
        """q with field fi set to v, as a one-row array."""
        x = q.copy()
        self.fields[fi].put(x, v)
        return x[None, :]

    def _verify_pure(self, node, room, corners, sets, big):
        """Box checks of a pure cell with ordered fields (top-down, near-cut mode).

        A pure answer is held by many leaves, so a check row proves nothing where it
        lands in a look-alike leaf. A region of another answer behind two hidden cuts
        (a set field's category and the far side of an ordered field's cut, say work
        = 2 and age > 39.5 in a cell age 39..41 whose point has work = 0, age = 39)
        answers otherwise only where both fields move: each field moved alone lands
        in a look-alike leaf. Rows, all deterministic but for the pairing order:

        - each ordered field alone at both ends of its range in the box;
        - the largest category set alone when it dwarfs the others (as other cells);
        - two diagonals of the other set fields' categories (each category of the
          fields to check at least once per diagonal; the second shifts the j-th
          largest field by j places, so a category meets other categories of the
          largest field there unless j is a multiple of its field's size), the
          ordered fields all at the low end of the box in the first diagonal and all
          at the high end in the second: every category is tried at both ends of
          every ordered field.

        The near-cut checks (:meth:`_grid_check`) probe the inside of the ordered
        ranges later.
        """
        q, box = node.q, node.box
        ords = [fi for fi in room if self.fields[fi].ordered]
        rows = [self._moved(q, fi, v) for fi in ords for v in dict.fromkeys(box[fi])
                if v != self._index_of(self.fields[fi], q)]
        if big is not None:
            c0 = self.fields[big].category(q)
            rows += [self._moved(q, big, c) for c in sets[big] if c != c0]
        pair = sorted((fi for fi in room if fi in sets and fi != big),
                      key=lambda fi: -len(sets[fi]))
        # one row per category of the corner fields (the searched field's categories
        # were each probed at q already; they ride along)
        n = max([len(sets[fi]) for fi in pair if fi in corners], default=1 if pair else 0)
        rng = self.run.rng
        perm = {fi: rng.permutation(sets[fi]) for fi in pair}
        for h in range(2 if n else 0):
            for r in range(n):
                x = q.copy()
                for j, fi in enumerate(pair):
                    p = perm[fi]
                    self.fields[fi].put(x, int(p[(r + h * j) % len(p)]))
                for fi in ords:
                    self.fields[fi].put(x, box[fi][h])
                rows.append(x[None, :])
        if not rows:
            node.kind = "expand"
            return []
        return (yield from self._ask_checks(node, room, np.vstack(rows)))

    def _split_keeping(self, node, room, Z):
        """Split at the first point of Z that answers otherwise; the other such points
        are kept as witnesses by the new cells whose boxes hold them (checked again
        there from the log, at no cost: a region found once is not lost)."""
        new = yield from self._split_at(node, room, Z[0])
        for z in Z[1:]:
            for cell in new:
                if self._holds(cell, z):
                    cell.witness = cell.witness + (z,)
                    self.n_witnesses += 1
                    break
        return new

    def _holds(self, node, x):
        """Is x inside the node's box on every field it supplies?"""
        for fi, f in enumerate(self.fields):
            if not f.supplied(x):
                continue
            b = node.box[fi]
            if f.ordered:
                if not b[0] <= self._index_of(f, x) <= b[1]:
                    return False
            elif f.category(x) not in b:
                return False
        return True

    def _with_witnesses(self, node, X):
        W = [z for z in node.witness if self._holds(node, z)]
        node.witness = ()
        return np.vstack([X] + [w[None, :] for w in W]) if W else X

    def _split_at(self, node, room, z):
        """``z`` (in the node's box) answers otherwise: find the hidden cut and split.

        Walk from q to z one field at a time and bisect the walk for the field whose
        change moves the answer; search that field at the last point that still
        answers like the node.
        """
        q, box, key = node.q, node.box, node.key
        moved = [fi for fi in room if not np.array_equal(
            q[self.fields[fi].columns], z[self.fields[fi].columns])]

        def walk(k):
            x = q.copy()
            for fi in moved[:k]:
                x[self.fields[fi].columns] = z[self.fields[fi].columns]
            return x

        lo, hi = 0, len(moved)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _key((yield walk(mid)[None, :], "verify")[0]) == key:
                lo = mid
            else:
                hi = mid
        base, fi = walk(lo), moved[hi - 1]
        f = self.fields[fi]
        self.n_hidden += 1
        if f.ordered:
            pair = yield np.array([base, walk(hi)]), "verify"
            known = {self._index_of(f, base): pair[0], self._index_of(f, walk(hi)): pair[1]}
            segs, _ = yield from self._line_search(base, fi, box[fi], "verify", known=known)
        else:
            segs = yield from self._set_search(base, fi, box[fi], "verify")
        cells, top = self._children(base, box, fi, segs, "verify")
        same = [c for c in cells if c.key == key]
        if self.near_grid and f.ordered and len(same) == 1 and node.susp is not None:
            # the segment that holds base is the node itself, cut to size: not a second
            # cell with its answer (top-down, after a line search; see the table notes)
            same[0].susp = node.susp
        node.become(top)
        return cells

    def _room(self, node):
        q, box = node.q, node.box
        return [fi for fi, f in enumerate(self.fields) if f.supplied(q) and (
            (f.ordered and box[fi][0] < box[fi][1]) or (not f.ordered and len(box[fi]) > 1))]

    def _grid_values(self, node, fi):
        """Values of field fi in the node's box on both sides of every cut found so far.

        Ordered: the box's ends and the two values next to each known cut inside it;
        set: one category per class of the categories no search has told apart.
        """
        f, b = self.fields[fi], node.box[fi]
        if f.ordered:
            lo, hi = b
            vals = {lo, hi}
            # near: cuts found in boxes apart from this one on one other field at most
            # (a node's region spans the cells its hidden cuts and its siblings made)
            cuts = self.cuts[fi] if not self.near_grid else {
                c for c, box in self.cut_boxes[fi]
                if lo <= c < hi and self._apart(node.box, box, fi) <= 1}
            for c in cuts:
                if lo <= c < hi:  # near cuts: the value after each (one per interval)
                    vals.update((c + 1,) if self.near_grid else (c, c + 1))
            return sorted(vals)
        sig: dict[int, list] = {c: [] for c in b}
        for part in self.partitions[fi]:
            for k, group in enumerate(part):
                for c in group & b:
                    sig[c].append(k)
        reps = {}
        for c in sorted(b):
            reps.setdefault(tuple(sig[c]), c)
        return sorted(reps.values())

    def _apart(self, a, b, skip):
        """On how many fields but ``skip`` are boxes a and b disjoint?"""
        n = 0
        for k, f in enumerate(self.fields):
            if k == skip:
                continue
            if f.ordered:
                n += a[k][1] < b[k][0] or b[k][1] < a[k][0]
            else:
                n += not a[k] & b[k]
        return n

    def _new_grid(self, node, room):
        """The values of the fields ``room`` on both sides of the cuts found in the
        node's box (:meth:`_grid_values`), recorded as its grid; None when the node
        was checked on this grid already."""
        vals = [self._grid_values(node, fi) for fi in room]
        sig = tuple(tuple(v) for v in vals)
        if node.grid == sig:
            return None
        node.grid = sig
        return vals

    def _full_grid(self, q, room, vals):
        """Every point of the grid ``vals`` of the fields ``room``, the others at q."""
        idx = np.indices([len(v) for v in vals]).reshape(len(vals), -1)
        rows = np.repeat(q[None, :], idx.shape[1], axis=0)
        for k, fi in enumerate(room):
            f = self.fields[fi]
            for r in range(idx.shape[1]):
                f.put(rows[r], vals[k][idx[k, r]])
        return rows

    def _grid_check(self, node):
        """Check a finished leaf on the grid of every cut found elsewhere.

        The victim's cuts bound all its regions: if each cut inside the leaf's box is
        known, one point per cell of the grid they span proves the box answers alike
        whatever the answers' uniqueness. The full grid when small, else every value
        of each field once and random grid points.
        """
        room = self._room(node)
        if self.near_grid:  # categories were tried at every cell (one query each)
            room = [fi for fi in room if self.fields[fi].ordered]
        if not room:
            return []
        vals = self._new_grid(node, room)
        if vals is None:  # checked on this grid already
            return []
        q = node.q
        if math.prod(len(v) for v in vals) <= self.grid_cap:
            rows = self._full_grid(q, room, vals)
        else:
            n = max(len(v) for v in vals)
            # random grid points on the first check only; later rounds add the new
            # values (the rows already asked are answered from the log)
            n_rand = max(self.grid_cap - n, 0) if node.grid_round == 0 else 0
            node.grid_round += 1
            rows = np.repeat(q[None, :], n + n_rand, axis=0)
            rng = self.run.rng
            for k, fi in enumerate(room):
                f, v = self.fields[fi], vals[k]
                for r in range(n):
                    f.put(rows[r], v[(r + k) % len(v)])
                for r in range(n, n + n_rand):
                    f.put(rows[r], v[int(rng.integers(len(v)))])
        answers = yield rows, "grid"
        bad = [r for r, a in enumerate(answers) if _key(a) != node.key]
        if not bad:
            return []
        self.n_grid_splits += 1
        new = yield from self._split_keeping(node, room, rows[bad])
        return new

    def _pure(self, key):
        """Is the answer of this key pure (one class, probability 1)? Regression
        values and labels: never (a descendant may hold the same value)."""
        if self.oracle.output != "proba":
            return False
        a = np.frombuffer(key, dtype=np.float64)
        return bool(a.size and a.max() >= 1.0)

    def _suspicious(self, node):
        """Could another region answer like this cell? (a pure or an already seen answer)

        An internal node's mixed distribution is in practice unique; pure leaves and
        answers seen in other cells are not, and corners alone do not prove their box.
        """
        if node.susp is not None:  # a piece of a checked cell (see _split_at)
            return node.susp
        if not self.numeric:
            return True
        a = np.atleast_1d(np.asarray(node.answer, dtype=float))
        if self.oracle.output == "proba" and a.max() >= 1.0:
            return True
        self.seen[node.key] = self.seen.get(node.key, 0) + 1
        return self.seen[node.key] > 1

    @staticmethod
    def _index_of(f, x):
        return f.index(x[f.column])

    def _expand(self, node):
        """Find the stop node's feature and the cuts on it (top-down).

        The node's answer is the mixture of the answers of the cells below it, with
        positive weights; when the cells found (after proving their boxes) cannot make
        it up, a region was missed between probes that answered alike: probe the
        widest such gap and search again (at most ``n_refine`` times).
        """
        q = node.q
        missing = [fi for fi, f in enumerate(self.fields) if not f.supplied(q)]
        # a pure node holds one class below it too: a leaf for the copy, no query
        fi = (yield from self._identify_feature(q, missing, node.key)) if missing and not (
            self._pure(node.key)) else None
        if fi is None:
            node.kind = "leaf"
            return []
        self.usage[fi] += 1
        f = self.fields[fi]
        extra, known = [], {}
        for attempt in range(self.n_refine + 1):
            if f.ordered:
                segs, known = yield from self._line_search(
                    q, fi, f.full(), "line_search" if not attempt else "refine",
                    known=known, extra=extra)
            else:
                segs = yield from self._set_search(q, fi, f.full(), "line_search")
            cells, top = self._children(q, node.box, fi, segs, "verify")
            done = yield from self._verify_all(cells)
            if not self.numeric or _in_hull(node.answer, [c.answer for c in done]):
                break
            s = sorted(known)
            gaps = [(f.raw(b) - f.raw(a), a, b) for a, b in zip(s, s[1:])
                    if b > a + 1 and _key(known[a]) == _key(known[b])] if f.ordered else []
            if attempt == self.n_refine or not gaps:
                break
            self.n_hull_failures += 1
            _, a, b = max(gaps)
            extra = [f.middle(a, b)]
        # A cell's box may be part of its stop node's region only (a cut hidden above
        # a re-tested feature): the mixture is checked over every cell of the node.
        entry = self.mixtures.setdefault(node.key, (node.answer, f.name, {}))
        entry[2].update((c.key, c.answer) for c in done)
        node.become(top)
        # one segment: the node is its only cell (searched on from here, in place)
        return [node if c is top else c for c in done]

    def _unresolved(self):
        """Stop nodes whose answer is not a mixture of the cells found below them."""
        if not self.numeric:
            return []
        return [name for answer, name, below in self.mixtures.values()
                if not _in_hull(answer, list(below.values()))]

    def _verify_all(self, cells):
        """Prove the boxes of ``cells`` side by side; return the proved cells."""
        done, waiting = [], []

        def start(cell):
            advance(self._verify_cell(cell), cell, None)

        def advance(task, cell, answers):
            try:
                waiting.append((task, cell, task.send(answers)))
            except StopIteration as stop:
                if stop.value:
                    for n in stop.value:
                        start(n)
                else:
                    done.append(cell)

        for c in cells:
            start(c)
        while waiting:
            batch = list(waiting)
            waiting.clear()
            out = yield np.concatenate([req[0] for _, _, req in batch]), "verify"
            at = 0
            for task, cell, req in batch:
                n = req[0].shape[0]
                advance(task, cell, out[at:at + n])
                at += n
        return done

    def _task(self, node):
        """Work on one cell until it is a leaf or a split; return the new cells."""
        if node.kind == "verify":
            new = yield from self._verify_cell(node)
        else:
            new = yield from self._expand(node)
        if node.kind in ("verify", "expand") and not any(n is node for n in new):
            new = [node] + list(new)  # (a one-segment node goes on as its only cell)
        return new

    def run_all(self):
        """Run every cell's task side by side: one oracle batch per round of requests.

        Each task is a generator that yields the rows it needs and receives their
        answers, so the bisections of all open cells share the victim's round trips.
        """
        if self.top_down:
            box = {fi: f.full() for fi, f in enumerate(self.fields)}
            q = np.full(self.d, np.nan)
            ans = self.ask1(q, "identify")
            self.root = _Node("verify", q, box, ans, _key(ans))
            self._run_cells([self.root])
        else:
            self.root, complete = extract_leaf_boxes(self)
            if not complete:
                raise BudgetExhausted("the budget ran out while searching the leaves' boxes")
        for _ in range(self.grid_rounds):
            before = self.n_grid_splits
            leaves = [n for n in _leaves(self.root) if n.kind == "leaf"]
            alike = {g[2] for g in _split_answers(leaves, self.fields)}
            self._run_cells(tasks=[self._grid_task(leaf) for leaf in leaves
                                   if leaf.key in alike and (
                                       not self.near_grid or self._pure(leaf.key))])
            if self.n_grid_splits == before:
                break

    def _run_cells(self, nodes=(), tasks=()):
        """Search the given cells, and run the given tasks, to the end.

        A cell's task may open new cells (its children); those are searched too, so
        when this returns every box below ``nodes`` is proved or split.
        """
        waiting = []  # (task, request)

        def start(node):
            if node.kind in ("verify", "expand"):
                advance(self._task(node), None)

        def advance(task, answers):
            try:
                waiting.append((task, task.send(answers)))
            except StopIteration as stop:
                for n in stop.value:
                    start(n)

        for n in nodes:
            start(n)
        for task in tasks:
            advance(task, None)
        self._drive(waiting, advance)

    def _grid_task(self, node):
        new = yield from self._grid_check(node)
        return new

    def _drive(self, waiting, advance):
        while waiting:
            batch, waiting[:] = list(waiting), []
            by_phase: dict[str, list] = {}
            for k, (_, (_rows, phase)) in enumerate(batch):
                by_phase.setdefault(phase, []).append(k)
            answers = [None] * len(batch)
            for phase, ks in by_phase.items():
                rows = np.concatenate([batch[k][1][0] for k in ks])
                out = self.ask(rows, phase)
                at = 0
                for k in ks:
                    n = batch[k][1][0].shape[0]
                    answers[k] = out[at:at + n]
                    at += n
            for (task, _), a in zip(batch, answers):
                advance(task, a)


def _flatten(root, leaf_value):
    """Preorder node arrays of a _Node tree (pending cells become leaves)."""
    left, right, feat, thr, val, sets, preds = [], [], [], [], [], {}, []
    stack = [(root, None, False)]
    while stack:
        node, parent, is_right = stack.pop()
        i = len(left)
        if parent is not None:
            (right if is_right else left)[parent] = i
        if node.kind == "split":
            left.append(-1)
            right.append(-1)
            feat.append(node.column)
            thr.append(node.threshold)
            val.append(None)
            if node.codes is not None:
                sets[i] = np.asarray(node.codes, dtype=float)
            preds.append(dict(node.describe or {}, node=i))
            stack.append((node.right, i, True))
            stack.append((node.left, i, False))
        else:
            left.append(TREE_LEAF)
            right.append(TREE_LEAF)
            feat.append(-2)
            thr.append(-2.0)
            val.append(leaf_value(node.answer))
    k = len(next(v for v in val if v is not None))
    value = np.array([np.full(k, np.nan) if v is None else v for v in val], dtype=float)
    return TreeArrays(left, right, feat, thr, value, sets), preds



def _split_answers(leaves, fields):
    """Answers held by leaves that cannot all be one node of the victim.

    A node's region is a box, so when the hull of the cells answering ``a`` meets a
    cell that answers otherwise, at least two nodes answer ``a``: their boxes were
    proved against an answer that does not name one node. Returns (answer, n_cells)
    (answer, n_cells, key) per such answer, most cells first.
    """
    by_key: dict[bytes, list] = {}
    for n in leaves:
        by_key.setdefault(n.key, []).append(n)
    if len(by_key) == len(leaves):
        return []
    keys = [n.key for n in leaves]
    cols = []  # per field: (lo, hi) arrays or a membership matrix
    for fi, f in enumerate(fields):
        if f.ordered:
            b = np.array([n.box[fi] for n in leaves], dtype=np.int64).reshape(-1, 2)
            cols.append((True, b[:, 0], b[:, 1]))
        else:
            m = np.zeros((len(leaves), f.n_values), dtype=bool)
            for r, n in enumerate(leaves):
                m[r, list(n.box[fi])] = True
            cols.append((False, m, None))
    out = []
    for key, group in by_key.items():
        if len(group) < 2:
            continue
        rows = np.array([k == key for k in keys])
        hit = ~rows
        for ordered, a, b in cols:
            if ordered:
                lo, hi = a[rows].min(), b[rows].max()
                hit &= (a <= hi) & (b >= lo)
            else:
                hit &= (a & a[rows].any(axis=0)).any(axis=1)
        if hit.any():
            out.append((group[0].answer, len(group), key))
    return sorted(out, key=lambda g: -g[1])


def _merge_twin_leaves(node):
    """Collapse splits whose two sides are leaves with the same answer."""
    if node.kind != "split":
        return
    _merge_twin_leaves(node.left)
    _merge_twin_leaves(node.right)
    a, b = node.left, node.right
    if a.kind != "split" and b.kind != "split" and a.key == b.key and a is not b:
        node.become(a)
    elif a is b and a.kind != "split":
        node.become(a)


@register
class PathFinding(Attack):
    """Extract a decision tree exactly from the leaf identities its API returns.

    Parameters
    ----------
    mode : {"auto", "top_down", "bottom_up"}, default="auto"
        ``"top_down"`` needs an oracle that accepts incomplete queries (NaN = feature
        not supplied, as BigML did) and rebuilds the victim's structure node by node;
        ``"bottom_up"`` uses complete queries only and rebuilds the partition of the
        domain into leaves. ``"auto"``: top-down when the oracle allows missing
        features.
    n_refine : int, default=64
        At most this many extra probes per line search when the node's answer is not
        a mixture of the answers found below it (a cut hidden between two leaves that
        answer alike); only for probability and value answers. Each probe bisects the
        widest gap between probes that answer alike, so a region of width w of the
        range needs about 1/w probes; they are spent only where the mixture fails.
    n_checks : int, default=None
        Random points of a cell's box queried besides its corners when its answer is
        pure or already seen elsewhere, a guard against distinct leaves that answer
        alike (bottom-up: a leaf's box, checked again after each point that fails is
        cut off). Default: 4 top-down, 8 bottom-up. Top-down with the default
        near-cut checks, pure cells send no random points: their checks are
        deterministic (each ordered field alone at both ends of the box; each
        category of the set fields at both ends of every ordered field, or, with set
        fields only, alone and on a diagonal), and the near-cut checks follow; a
        cell with ordered fields whose impure answer was seen before pairs each
        category with random values of the box.
    grid_checks : int, default=None
        After the search, each leaf is checked on the grid of the cuts found anywhere
        (both sides of each cut inside its box, one category per class of categories
        never told apart): the whole grid when it has at most this many points, else
        this many points of it. A leaf that fails is split where it fails, and the
        checks repeat until no leaf fails. Only leaves whose answer is also held by
        cells apart from them are checked (elsewhere the answer names one node and the
        corner checks prove the box). Default: 64 bottom-up (complete queries reach
        leaves only, which often share an answer; there each leaf's box is checked
        before the boxes are assembled into a tree, at random grid points, and one
        that fails is cut and the search goes on); top-down, each pure leaf that
        answers like cells apart from it is checked once on the cuts of its ordered
        fields found *near* it (in boxes apart from its own on one other field at
        most: the cells a victim node's region was cut into): the box's ends and the
        value after each near cut (one per interval between cuts), every value once
        (a diagonal of the grid). A pure cell's corners and random points may all
        land in look-alike leaves and miss a sliver between two cuts of one field;
        the near cuts are where those slivers end. 0 turns the checks off.
    random_state : int, Generator or None
        Seeds the random checks.

    Attributes of the result
    ------------------------
    ``result.model`` is an :class:`ExtractedTreeClassifier` (``output`` "proba" or
    "label") or :class:`ExtractedTreeRegressor` ("value") with ``export_text``;
    ``result.info`` holds ``predicates`` (each learned cut and its precision),
    ``n_leaves``, ``depth``, per-phase query counts, ``n_hidden_splits`` and
    ``shared_answers`` (leaves that answer alike and could not be told apart).

    Notes
    -----
    Queries: top-down costs per internal node about ``1 + log2(d_missing)`` to find
    the feature (group testing), ``log2(n_values)`` per cut on an ordered feature (at
    most 32 for float32, exact), one per category on a categorical feature, and about
    two per child to prove its box. The paper's bound for bottom-up with m leaves is
    O(m·(d_cat·k + d_cont·m·log(b/ε))). Ours, bottom-up, is per leaf the sum over
    set fields of (k − 1) and over ordered fields of two ends plus a bisection to
    adjacent values for each end the leaf does not reach (fewer when the boundary
    is a cut already found: the probes go next to known cuts first), plus the checks
    of leaves whose answer is not unique. A leaf whose answer is unique needs no
    other query: the values that keep its answer are exactly its box.

    Exactness rests on distinct nodes answering differently: a cell's box is proved
    by corner queries that answer like it (one query per category of a set field;
    the field searched to make the cell needs none), which shows they reach the
    same node only if no other node answers alike. Two leaves with the same
    distribution are merged when adjacent (harmless: they answer alike); a region
    between two alike leaves is found only if a probe lands in it — the mixture
    check (``n_refine``) catches a node whose distribution is not a mixture of the
    leaves found below it, and the grid checks (``grid_checks``) probe both sides of
    every cut found anywhere. Whenever cells apart from each other answer alike
    (the hull of the cells of one answer meets a cell of another), the status is
    "approximate" and ``info["alike_leaves"]`` lists those answers: every probe
    agreed, but the copy is not proved equal. Label answers identify leaves only by
    class, so the copy is then approximate too.

    Pure answers (probability 1 for one class) are the usual look-alikes, and
    top-down treats them apart: a pure node is a leaf for the copy (everything below
    it answers alike), categories that answer a pure class are not grouped into one
    cell (each may reach another leaf of that class, behind which cuts differ), a
    cell with a pure or already seen answer is checked with each ordered field
    moved alone to both ends of its box besides the corners, a pure cell's
    categories are each tried at both ends of its ordered fields (or alone, the
    other fields at the cell's point, when it has set fields only): a region of
    another class behind two hidden cuts is found where moving either field alone
    lands in a look-alike leaf, and an impure node
    whose completion answers like it is tried with a second completion before it
    is taken for a leaf (a descendant may hold its distribution).

    The structure is identifiable only up to equivalent rewrites: consecutive cuts on
    one feature can nest in any order, and a cut hidden behind a re-tested feature
    commutes with the cuts below it; the copy picks one of the equivalent forms.

    References
    ----------
    .. [1] F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. "Stealing
       Machine Learning Models via Prediction APIs". USENIX Security 2016, §4.2.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> X, y = load_iris(return_X_y=True)
    >>> victim = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    >>> oracle = LocalOracle(victim, domain=Domain.from_data(X))
    >>> result = PathFinding().extract(oracle)
    >>> result.status, int(result.model.get_n_leaves()), int(victim.get_n_leaves())
    ('approximate', 5, 5)

    Two leaves of this victim hold the same distribution (1 vs 2 samples), so the
    copy agrees on every probe but is not proved equal:

    >>> [(np.round(a, 3).tolist(), n) for a, n in result.info["alike_leaves"]]
    [([0.0, 0.333, 0.667], 2)]
    """

    name = "path_finding"
    outputs = ("proba", "label", "value")

    def __init__(self, *, mode="auto", n_refine=64, n_checks=None, grid_checks=None,
                 random_state=None):
        self.mode = mode
        self.n_refine = n_refine
        self.n_checks = n_checks
        self.grid_checks = grid_checks
        self.random_state = random_state

    def _validate_params(self):
        if self.mode not in ("auto", "top_down", "bottom_up"):
            raise ValueError(
                f"mode must be 'auto', 'top_down' or 'bottom_up'; got {self.mode!r}."
            )
        for name in ("n_refine", "n_checks", "grid_checks"):
            v = getattr(self, name)
            if v is None and name in ("n_checks", "grid_checks"):
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer; got {v!r}.")

    def _check_oracle(self, oracle):
        dom = oracle.domain
        if dom is None:
            raise ValueError(
                "PathFinding searches each feature's range, and this oracle publishes no "
                "domain; build it with domain=Domain(...) or Domain.from_data(X)."
            )
        if self.mode == "top_down" and not oracle.allow_missing:
            raise ValueError(
                "mode='top_down' needs incomplete queries, and this oracle does not accept "
                "them (allow_missing=False); use mode='bottom_up' or 'auto'."
            )
        if np.isnan(dom.lower).any() or np.isnan(dom.upper).any():
            raise ValueError("the domain's bounds contain NaN.")

    def _extract(self, run: Run) -> None:
        oracle = run.oracle
        top_down = self.mode == "top_down" or (self.mode == "auto" and oracle.allow_missing)
        ex = _Extraction(self, run, top_down)
        try:
            ex.run_all()
        except BudgetExhausted:
            if ex.root is not None:
                self._finish(run, ex, complete=False)
            raise
        self._finish(run, ex, complete=True)

    def _finish(self, run, ex, *, complete):
        oracle = run.oracle
        split_answers = _split_answers(_leaves(ex.root), ex.fields)
        _merge_twin_leaves(ex.root)
        if oracle.output == "label":
            classes = oracle.classes_
            if classes is None:
                classes = np.unique([n for n in ex.cache.values()])
            classes = np.asarray(classes)

            def leaf_value(a):
                return (classes == a).astype(float)
        elif oracle.output == "proba":
            k = len(np.atleast_1d(ex.root.answer if ex.root.answer is not None else [0]))
            classes = oracle.classes_ if oracle.classes_ is not None else np.arange(k)

            def leaf_value(a):
                return np.asarray(a, dtype=float)
        else:
            classes = None

            def leaf_value(a):
                return np.atleast_1d(np.asarray(a, dtype=float))

        ex.unresolved += ex._unresolved() if complete else []
        tree, preds = _flatten(ex.root, leaf_value)
        if classes is None:
            model = ExtractedTreeRegressor()._set_tree(tree, n_features=ex.d)
        else:
            model = ExtractedTreeClassifier()._set_tree(tree, classes=classes, n_features=ex.d)
        run.model = model
        leaves = tree.children_left == TREE_LEAF
        keys, first = {}, {}
        for v in tree.value[leaves]:
            keys[_key(v)] = keys.get(_key(v), 0) + 1
            first.setdefault(_key(v), v)
        shared = sorted((n for n in keys.values() if n > 1), reverse=True)
        run.info.update({
            "mode": "top_down" if ex.top_down else "bottom_up",
            "n_leaves": tree.n_leaves,
            "depth": tree.max_depth,
            "n_distinct_answers": len(keys),
            "shared_answers": shared,
            "alike_leaves": [(np.atleast_1d(a).tolist(), n) for a, n, _ in split_answers],
            "predicates": preds,
            "queries_by_phase": dict(ex.counts),
            "verify_queries": ex.box_checks(),
            "n_hidden_splits": ex.n_hidden,
            "n_mixture_refinements": ex.n_hull_failures,
            "n_grid_splits": ex.n_grid_splits,
            "n_witnesses": ex.n_witnesses,
            "n_pieces": ex.n_pieces,
            "complete": complete,
            "unresolved": list(ex.unresolved),
        })
        if not complete:
            return
        if oracle.output == "label":
            run.status = "approximate"
            run.message = (
                "label answers identify leaves only by their class: nodes whose children "
                "share its label look like leaves, so the copy may be coarser than the "
                "victim. Ask for probabilities to copy the tree exactly."
            )
        elif ex.unresolved:
            run.status = "approximate"
            run.message = (
                f"{len(ex.unresolved)} nodes answer a mixture that the leaves found below "
                "them cannot make up: a region narrower than the probes lies between two "
                "leaves that answer alike (features: "
                f"{', '.join(sorted(set(ex.unresolved)))}). The copy is exact elsewhere; "
                "raise n_refine to probe more."
            )
        elif split_answers:
            groups = [(a, n) for a, n, _ in split_answers]
            # Corner checks prove a box only if its answer names one node: a point that
            # lands in a look-alike leaf passes them, so a region between two alike
            # leaves that no probe hit would go unseen. Not provable: say so.
            run.status = "approximate"
            examples = "; ".join(
                f"{n} leaves answer {np.round(np.atleast_1d(a), 4).tolist()}"
                for a, n in groups[:3])
            run.message = (
                f"extracted {tree.n_leaves} leaves; {sum(n for _, n in groups)} cells share "
                f"their answer with cells apart from them ({len(groups)} answers: {examples}"
                f"{'; ...' if len(groups) > 3 else ''}) and could not be told apart by "
                "their answers. Every probe agreed with the copy, but a region lying "
                "between two alike leaves that no probe hit cannot be ruled out; raise "
                "n_checks to probe more. Alike neighbours were merged."
            )
        elif shared:
            run.message = (
                f"extracted {tree.n_leaves} leaves exactly; {sum(shared)} of them share an "
                f"answer ({len(shared)} groups), but the cells of each answer form one box: "
                "pieces of one node of the victim, cut apart by the copy's nesting."
            )
        else:
            run.message = f"extracted {tree.n_leaves} leaves exactly; every leaf answers uniquely."
