"""Bottom-up path finding: the box of each leaf, from slices through one of its points.

Tramèr et al.'s bottom-up attack (§4.2): from a point q in a leaf, move one feature
at a time and see which values keep q's answer: every category of a set field is
tried, and each ordered field is searched from q towards both ends of its range down
to two adjacent values. A leaf's region is a product of one set of values per field,
so when its answer names it alone, the values that keep the answer are exactly the
leaf's box, whatever the order of the cuts above it. The probes that answered
otherwise lie in other leaves: they are the next points to start from. When the
boxes found cover the domain (their volumes, counted in attainable values, add up),
every leaf is known.

Leaves that share an answer are the paper's "unique ids" problem: the slices of one
may reach into a look-alike, and the product of slices then holds points of other
leaves. Three checks cut such a box between its start and a point of it that answers
otherwise (:func:`_cut_off`): a new box that overlaps a box found before answering
otherwise asks a point of the overlap, and whichever box (or both) answers otherwise
there is cut (the one found first is not trusted: its slices may reach as far);
a box holding a point asked before (a probe of another box's slices) that answered
otherwise is cut, at no cost; boxes whose answer is pure or seen elsewhere are
checked at random points. Once the boxes cover the domain, each box whose answer
boxes apart from it hold is checked on the grid of the cuts found (``grid_checks``
points at most, see :func:`grid_sample`) and cut off the grid points that answer
otherwise, which start the search again; then the boxes are assembled into a tree
(checking the boxes rather than the pieces the assembly cuts them into asks about
half as many grid points).

Known limit: on continuous trees whose many pure leaves share a few classes (a
300-leaf, 3-class tree on 10 continuous features), the slices of each pure leaf
reach through many look-alikes, the cuts leave ever more starts, and the search
does not finish in minutes (nor did the cell search it replaced); use top-down
there, or expect a long run.
"""

from __future__ import annotations

import math

import numpy as np

from .._exceptions import BudgetExhausted

__all__ = ["extract_leaf_boxes", "grid_sample"]


def _volume(box, fields) -> int:
    v = 1
    for b, f in zip(box, fields):
        v *= (b[1] - b[0] + 1) if f.ordered else len(b)
    return v


def _covered(index, rows, region, fields) -> int:
    """How many points of ``region`` the boxes ``rows`` of ``index`` cover (disjoint boxes)."""
    total = 0
    for k in rows:
        b = index.items[int(k)][0]
        v = 1
        for j, f in enumerate(fields):
            if f.ordered:
                v *= max(0, min(b[j][1], region[j][1]) - max(b[j][0], region[j][0]) + 1)
            else:
                v *= len(b[j] & region[j])
        total += v
    return total


class _BoxIndex:
    """The boxes found so far, with vectorised membership and overlap tests."""

    def __init__(self, fields):
        self.fields = fields
        self.items = []  # (box, node)
        self.volume = 0  # the boxes' total volume (they are disjoint)
        self._cols = [np.zeros((64, 2), dtype=np.int64) if f.ordered
                      else np.zeros((64, f.n_values), dtype=bool) for f in fields]

    def add(self, box, node):
        n = len(self.items)
        if n == self._cols[0].shape[0]:  # grow by doubling
            self._cols = [np.concatenate([c, np.zeros_like(c)]) for c in self._cols]
        self.items.append((box, node))
        self._put(n, box)

    def _put(self, n, box):
        for j, f in enumerate(self.fields):
            if f.ordered:
                self._cols[j][n] = box[j]
            else:
                self._cols[j][n] = False
                self._cols[j][n, list(box[j])] = True
        self.volume += _volume(box, self.fields)

    def replace(self, n, box):
        """Shrink box n to ``box`` (its node's box too)."""
        old, node = self.items[n]
        self.volume -= _volume(old, self.fields)
        node.box = {j: b for j, b in enumerate(box)}
        self.items[n] = (list(box), node)
        self._put(n, box)

    def _hits(self, test, rows=None):
        n = len(self.items)
        rows = np.arange(n) if rows is None else np.asarray(rows, dtype=int)
        hit = np.ones(rows.size, dtype=bool)
        for j, f in enumerate(self.fields):
            hit &= test(j, f, self._cols[j][rows])
        return rows[hit]

    def holding(self, v) -> np.ndarray:
        """Indices of the boxes that hold the point of field values ``v``."""
        return self._hits(lambda j, f, c: (c[:, 0] <= v[j]) & (v[j] <= c[:, 1]) if f.ordered
                          else c[:, v[j]])

    def meeting(self, box, rows=None) -> np.ndarray:
        """Indices of the boxes that overlap ``box`` (among ``rows``)."""
        return self._hits(lambda j, f, c: (c[:, 0] <= box[j][1]) & (box[j][0] <= c[:, 1])
                          if f.ordered else c[:, sorted(box[j])].any(axis=1), rows)


def _values(ex, x):
    """Field values (ordered index or category) of a complete point."""
    return [ex._index_of(f, x) if f.ordered else f.category(x) for f in ex.fields]


def _guided_middle(ex, j, a, b):
    """A value strictly between a and b (b > a + 1) to probe next: the median of the
    values next to cuts already found on field j inside (a, b) when there are any,
    else the middle. Trees reuse their thresholds across branches, so a boundary is
    often a known cut, pinned in log2(number of cuts) probes instead of a full
    bisection of the range; an unknown one is bisected as before."""
    cuts = ex.cuts[j]
    sorted_cuts = ex.sorted_cuts.get(j)
    if sorted_cuts is None or sorted_cuts[0] != len(cuts):
        sorted_cuts = ex.sorted_cuts[j] = (len(cuts), np.array(sorted(cuts), dtype=np.int64))
    c = sorted_cuts[1]
    inner = c[np.searchsorted(c, a - 1, side="right"):np.searchsorted(c, b, side="left")]
    cand = np.unique(np.concatenate([inner, inner + 1]))
    cand = cand[(cand > a) & (cand < b)]
    if cand.size:
        return int(cand[cand.size // 2])
    return ex.fields[j].middle(a, b)


def _slices(ex, q, key, seeds):
    """The box of values that keep q's answer, one field at a time (batched).

    Set fields: every category; ordered fields: both ends, then bisection from q
    towards each end that answers otherwise. Probes answering otherwise are
    appended to ``seeds``.
    """
    from ._path_finding import _key
    fields = ex.fields
    v0 = _values(ex, q)
    box = [None] * len(fields)
    rows, tags = [], []
    for j, f in enumerate(fields):
        if f.ordered:
            lo, hi = f.full()
            for end in (lo, hi):
                if end != v0[j]:
                    x = q.copy()
                    f.put(x, end)
                    rows.append(x)
                    tags.append((j, end))
            box[j] = [lo, hi]
        else:
            for c in range(f.n_values):
                if c != v0[j]:
                    x = q.copy()
                    f.put(x, c)
                    rows.append(x)
                    tags.append((j, c))
            box[j] = {v0[j]}
    out = ex.ask(np.array(rows), "slice") if rows else []
    # bisection state per (field, side): (inside index, outside index)
    search = {}
    for x, (j, c), a in zip(rows, tags, out):
        k = _key(a)
        f = fields[j]
        if k != key:
            seeds.append(x)
        if f.ordered:
            if k != key:
                search[(j, c > v0[j])] = (v0[j], c)
        elif k == key:
            box[j].add(c)
    while search:
        mids, X = [], []
        for (j, side), (a, b) in search.items():
            f = fields[j]
            if abs(b - a) <= 1:
                continue
            m = _guided_middle(ex, j, min(a, b), max(a, b))
            x = q.copy()
            f.put(x, m)
            mids.append((j, side, m))
            X.append(x)
        for (j, side), (a, b) in list(search.items()):
            if abs(b - a) <= 1:
                del search[(j, side)]
                if side:
                    box[j][1] = a
                    ex.cuts[j].add(a)
                else:
                    box[j][0] = a
                    ex.cuts[j].add(a - 1)
        if not X:
            break
        for (j, side, m), x, ans in zip(mids, X, ex.ask(np.array(X), "slice")):
            a, b = search[(j, side)]
            if _key(ans) == key:
                search[(j, side)] = (m, b)
            else:
                seeds.append(x)
                search[(j, side)] = (a, m)
    for j, f in enumerate(fields):
        if not f.ordered:
            rest = frozenset(range(f.n_values)) - box[j]
            if rest:
                part = [frozenset(box[j]), rest]
                if f.one_hot:  # one column per test: the categories of the smaller
                    # side are each tested alone on the leaf's path (grid values apart)
                    small, big = sorted(part, key=len)
                    part = [big] + [frozenset({c}) for c in sorted(small)]
                ex.partitions[j].append(part)
    return [tuple(b) if f.ordered else frozenset(b) for b, f in zip(box, fields)]


def _clip(box, v, other, fields):
    """Shrink ``box`` (holding the point of values v) off the box ``other`` on the
    field that keeps the most of it."""
    box = list(box)
    best = None
    for j, f in enumerate(fields):
        if f.ordered:
            lo, hi = box[j]
            if v[j] < other[j][0]:
                new = (lo, min(hi, other[j][0] - 1))
            elif v[j] > other[j][1]:
                new = (max(lo, other[j][1] + 1), hi)
            else:
                continue
            kept = new[1] - new[0] + 1
            size = hi - lo + 1
        else:
            if v[j] in other[j]:
                continue
            new = frozenset(box[j] - other[j])
            kept, size = len(new), len(box[j])
        if best is None or kept / size > best[0]:
            best = (kept / size, j, new)
    if best is None:  # cannot happen for a point outside every box
        raise RuntimeError("a seed lies inside a box it was found outside of")
    box[best[1]] = best[2]
    return box


def _resolve(ex, q, key, box, index, seeds):
    """Make the new box of q (answer ``key``) disjoint from the boxes found before.

    A box found before that answers otherwise and overlaps the new one shows that
    one of them (or both) reaches past its leaf: slices from a leaf whose answer a
    neighbour shares reach into the neighbour. Ask a point of the overlap (the one
    nearest q, then the one nearest the other box's point): each box that answers
    otherwise there is cut between its point and it (:func:`_cut_off`), the other
    box too when found before (the piece cut off is searched again from the
    seeds). Boxes that answer alike are clipped as before (no query).
    """
    from ._path_finding import _key
    fields = ex.fields
    v = _values(ex, q)
    box = list(box)
    while True:
        hit = index.meeting(box)
        if not hit.size:
            return box
        other = [int(k) for k in hit if index.items[int(k)][1].key != key]
        if not other:
            box = _clip(box, v, index.items[int(hit[0])][0], fields)
            continue
        k = other[0]
        obox, onode = index.items[k]
        inter = [(max(a[0], b[0]), min(a[1], b[1])) if f.ordered else a & b
                 for a, b, f in zip(box, obox, fields)]
        for p in (q, onode.q):
            vp = _values(ex, p)
            z = _point(ex, q, [min(max(x, r[0]), r[1]) if f.ordered
                               else (x if x in r else min(r))
                               for x, r, f in zip(vp, inter, fields)])
            vz = _values(ex, z)
            obox = index.items[k][0]
            if not (_holds(box, vz, fields) and _holds(obox, vz, fields)):
                continue
            kz = _key(ex.ask1(z, "check"))
            if kz != key:
                box = _cut_off(ex, q, key, box, z, seeds)
            if kz != onode.key:
                index.replace(k, _cut_off(ex, onode.q, onode.key, obox, z, seeds))
            if kz not in (key, onode.key):
                seeds.append(z)
            ex.n_overlaps += 1


def _cut_box(ex, index, k, z, seeds):
    """Cut box k of the index off z, a point of it that answers otherwise."""
    box, node = index.items[k]
    index.replace(k, _cut_off(ex, node.q, node.key, box, z, seeds))
    ex.n_contradictions += 1


def _contradicted(ex, index, passed, seeds) -> bool:
    """Cut each box that holds a point of ``passed`` answering otherwise (free: the
    points were asked already); the points become starts again. Any cut?"""
    if not passed:
        return False
    fields = ex.fields
    V = np.array([v for v, _, _ in passed], dtype=np.int64)
    codes: dict[bytes, int] = {}
    K = np.array([codes.setdefault(k, len(codes)) for _, k, _ in passed])
    cut = False
    for n, (box, node) in enumerate(index.items):
        inside = K != codes.get(node.key, -1)
        for j, f in enumerate(fields):
            if f.ordered:
                inside &= (V[:, j] >= box[j][0]) & (V[:, j] <= box[j][1])
            else:
                inside &= np.isin(V[:, j], list(box[j]))
        hit = np.flatnonzero(inside)
        if hit.size:
            z = passed[int(hit[0])][2]
            _cut_box(ex, index, n, z, seeds)
            seeds.append(z)
            cut = True
    return cut


def _grid_boxes(ex, index, seeds) -> bool:
    """Check each box whose answer boxes apart from it hold on the grid of the cuts
    found (the whole grid when it has at most ``grid_cap`` points, else
    :func:`grid_sample`); cut each box off the grid points that answer otherwise,
    which become starts. Any cut?"""
    from ._path_finding import _key, _split_answers
    nodes = [node for _, node in index.items]
    alike = {g[2] for g in _split_answers(nodes, ex.fields)}
    todo = []
    for k, node in enumerate(nodes):
        if node.key in alike:
            rows = _grid_rows(ex, node)
            if rows is not None and len(rows):
                todo.append((k, rows))
    if not todo:
        return False
    answers = ex.ask(np.vstack([rows for _, rows in todo]), "grid")
    at, cut = 0, False
    for k, rows in todo:
        node = index.items[k][1]
        bad = [x for x, a in zip(rows, answers[at:at + len(rows)]) if _key(a) != node.key]
        at += len(rows)
        if bad:
            ex.n_grid_splits += 1
            seeds.extend(bad)
            for z in bad:
                index.replace(k, _cut_off(ex, node.q, node.key, index.items[k][0], z, seeds))
            cut = True
    return cut


def _grid_rows(ex, node):
    """The grid rows of a box (None if checked on this grid already)."""
    room = ex._room(node)
    if not room:
        return None
    prev = node.grid
    vals = ex._new_grid(node, room)
    if vals is None:
        return None
    if math.prod(len(v) for v in vals) > ex.grid_cap:
        return grid_sample(ex, node.q, room, vals, prev)
    return ex._full_grid(node.q, room, vals)


def _uncovered_point(ex, index, region):
    """Field values of a point of ``region`` that no box holds, or None.

    The boxes are disjoint, so a region is covered iff the volumes of its overlaps
    with the boxes add up to its own; halve the region (its widest field) and keep
    a half with a deficit.
    """
    fields = ex.fields
    rows = index.meeting(region)
    while True:
        vol = _volume(region, fields)
        if not rows.size:
            return [r[0] if f.ordered else min(r) for r, f in zip(region, fields)]
        if _covered(index, rows, region, fields) >= vol:
            return None
        if vol == 1:  # cannot happen for disjoint boxes
            return None
        j = max(range(len(fields)), key=lambda j: (region[j][1] - region[j][0] + 1)
                if fields[j].ordered else len(region[j]))
        r = region[j]
        if fields[j].ordered:
            mid = (r[0] + r[1]) // 2
            halves = [(r[0], mid), (mid + 1, r[1])]
        else:
            cs = sorted(r)
            halves = [frozenset(cs[:len(cs) // 2]), frozenset(cs[len(cs) // 2:])]
        for h in halves:
            sub = list(region)
            sub[j] = h
            sub_rows = index.meeting(sub, rows)
            if _covered(index, sub_rows, sub, fields) < _volume(sub, fields):
                region, rows = sub, sub_rows
                break
        else:
            return None


def _shrink(ex, q, key, box, seeds):
    """Check a box whose answer other leaves may hold at ``n_checks`` random points;
    cut off each point that answers otherwise and check again.

    The slices of a leaf whose answer a neighbour shares reach into the neighbour,
    and the product of the slices may then hold points of other answers. For such
    a point z: walk from q to z one field at a time (bisecting the walk) to the
    field f whose move changes the answer, then cut the box on f between q and z
    (bisection to adjacent values on an ordered field; z's category off a set
    field). q stays in the box; z becomes a start for another leaf.
    """
    from ._path_finding import _key
    fields = ex.fields
    rng = ex.run.rng
    box = list(box)
    while True:
        X = np.repeat(q[None, :], ex.n_checks, axis=0)
        for j, f in enumerate(fields):
            for r in range(len(X)):
                f.put(X[r], f.sample(rng, *box[j]) if f.ordered
                      else int(rng.choice(sorted(box[j]))))
        bad = [x for x, ans in zip(X, ex.ask(X, "check")) if _key(ans) != key]
        if not bad:
            return box
        seeds.extend(bad)
        for z in bad:
            box = _cut_off(ex, q, key, box, z, seeds)


def _holds(box, v, fields) -> bool:
    return all((b[0] <= x <= b[1]) if f.ordered else x in b
               for b, x, f in zip(box, v, fields))


def _cut_off(ex, q, key, box, z, seeds):
    """Cut ``box`` (holding q, which answers ``key``) between q and z, a point of the
    box that answers otherwise: walk from q to z one field at a time (bisecting the
    walk) to the field f whose move changes the answer, then cut the box on f
    (bisection to adjacent values on an ordered field; z's category off a set
    field). Returns the box without z (unchanged if it does not hold z)."""
    from ._path_finding import _key
    fields = ex.fields
    vz = _values(ex, z)
    if not _holds(box, vz, fields):
        return box  # cut off already by an earlier point's cut
    box = list(box)
    moved = [j for j, f in enumerate(fields)
             if not np.array_equal(q[f.columns], z[f.columns])]

    def walk(k):
        x = q.copy()
        for j in moved[:k]:
            x[fields[j].columns] = z[fields[j].columns]
        return x

    lo, hi = 0, len(moved)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _key(ex.ask1(walk(mid), "check")) == key:
            lo = mid
        else:
            hi = mid
    base, j = walk(lo), moved[hi - 1]
    f = fields[j]
    if f.ordered:
        a, b = ex._index_of(f, base), vz[j]  # a answers key, b does not
        while abs(b - a) > 1:
            m = f.middle(min(a, b), max(a, b))
            x = base.copy()
            f.put(x, m)
            if _key(ex.ask1(x, "check")) == key:
                a = m
            else:
                seeds.append(x)
                b = m
        if b > a:
            box[j] = (box[j][0], a)
            ex.cuts[j].add(a)
        else:
            box[j] = (a, box[j][1])
            ex.cuts[j].add(b)
    else:
        box[j] = frozenset(box[j] - {vz[j]})
    return box


def _point(ex, q, values):
    x = q.copy()
    for f, v in zip(ex.fields, values):
        f.put(x, v)
    return x


def extract_leaf_boxes(ex):
    """Find every leaf's box; return the tree of boxes (a ``_Node``) and whether the
    boxes cover the domain. A budget running out returns what was found (pending
    regions become cells answering like the nearest start)."""
    from ._path_finding import _key, _Node
    fields = ex.fields
    ex.sorted_cuts = {}
    ex.n_overlaps = 0  # overlaps of boxes that answer otherwise, resolved by a query
    ex.n_contradictions = 0  # boxes cut off a point asked before that answered otherwise
    full = [f.full() for f in fields]
    total = _volume(full, fields)
    index = _BoxIndex(fields)
    q0 = np.full(ex.d, np.nan)
    for f in fields:
        f.put(q0, f.default())
    seeds = [q0]
    covered, complete, pos = 0, False, 0
    keys_seen: dict[bytes, int] = {}
    passed = []  # (values, answer key, point) of the points that a box held
    grid_round = 0
    try:
        while True:
            while covered < total:
                q = None
                while pos < len(seeds):
                    x = seeds[pos]
                    pos += 1
                    vx = _values(ex, x)
                    held = index.holding(vx)
                    if not held.size:
                        q = x
                        break
                    kx = ex.cache.get((x + 0.0).tobytes())
                    if kx is None:
                        continue
                    kx = _key(kx)
                    passed.append((vx, kx, x))
                    k = int(held[0])
                    if kx != index.items[k][1].key:  # the box reaches past its leaf
                        _cut_box(ex, index, k, x, seeds)
                        covered = index.volume
                        q = x
                        break
                if q is None:
                    v = _uncovered_point(ex, index, full)
                    if v is None:
                        break
                    q = _point(ex, q0, v)
                a = ex.ask1(q, "slice")
                key = _key(a)
                box = _slices(ex, q, key, seeds)
                box = _resolve(ex, q, key, box, index, seeds)
                suspicious = (ex.oracle.output == "label" or ex._pure(key)
                              or key in keys_seen)
                keys_seen[key] = keys_seen.get(key, 0) + 1
                if suspicious and ex.n_checks:
                    box = _shrink(ex, q, key, box, seeds)
                node = _Node("leaf", q, {j: b for j, b in enumerate(box)}, a, key)
                index.add(list(box), node)
                covered = index.volume
            # points asked on the way that a box found after them holds but that
            # answered otherwise: cut those boxes and search on
            if _contradicted(ex, index, passed, seeds):
                covered = index.volume
                continue
            # the boxes cover the domain: check those whose answer other boxes apart
            # from them hold on the grid of the cuts found (once the boxes, not each
            # piece the assembly cuts them into)
            if grid_round >= ex.grid_rounds or not _grid_boxes(ex, index, seeds):
                break
            grid_round += 1
            covered = index.volume
        ex.grid_rounds = 0  # done on the boxes
        complete = True
    except BudgetExhausted:
        complete = False
        if not index.items:
            if not ex.cache:  # not even the first answer
                raise
            a = ex.ask1(q0, "slice")  # asked already: from the cache
            return _Node("verify", q0, dict(enumerate(full)), a, _key(a)), False
    ex.run.info.update(n_overlaps=ex.n_overlaps, n_contradictions=ex.n_contradictions)
    root, whole = _assemble(ex, index, full)
    complete = complete and whole
    ex.root = root  # a budget running out below keeps this tree
    if complete:  # pieces cut off a box whose new point answered otherwise
        ex._run_cells([n for n in leaves_of(root) if n.kind == "verify"])
    return root, complete


def grid_sample(ex, q, room, vals, prev):
    """Rows of a leaf's grid check too large to ask whole (bottom-up): ``grid_cap``
    random grid points in which each field's values come in random order, each
    value once before any twice (every value of a field with at most ``grid_cap``
    values is asked, and pairs of values of different fields vary from row to row).
    A later check of the same leaf (cuts found since) adds one row per new value,
    the other fields at random grid values.

    A diagonal (the r-th row takes value r + k of field k) asks each value too, but
    always pairs the same values of two fields of equal length: an island of another
    answer behind cuts on two fields is then never reached.
    """
    rng = ex.run.rng
    fields = ex.fields
    if prev is None or len(prev) != len(vals):
        n = ex.grid_cap
        cols = []
        for v in vals:
            reps = -(-n // len(v))
            cols.append(np.concatenate([rng.permutation(len(v)) for _ in range(reps)])[:n])
        rows = np.repeat(q[None, :], n, axis=0)
        for fi, v, c in zip(room, vals, cols):
            for r in range(n):
                fields[fi].put(rows[r], v[c[r]])
        return rows
    out = []
    for k, (v, old) in enumerate(zip(vals, prev)):
        for value in sorted(set(v) - set(old)):
            x = q.copy()
            for fi, w in zip(room, vals):
                fields[fi].put(x, w[int(rng.integers(len(w)))])
            fields[room[k]].put(x, value)
            out.append(x)
    return np.array(out) if out else np.empty((0, q.size))


def leaves_of(node):
    """The leaves below ``node`` (cells of any kind but "split"), left to right."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.kind == "split":
            stack += [n.right, n.left]
        else:
            out.append(n)
    return out


def _assemble(ex, index, full):
    """A tree whose leaves are the boxes (cut where a cut must cross one)."""
    from ._path_finding import _key, _Node
    fields = ex.fields
    items = [(list(b), n) for b, n in index.items]
    fallback = items[0][1]
    short = [False]  # did the budget run out while cutting boxes?

    def split_item(item, j, left_part, right_part):
        out = []
        b, n = item
        for part in (left_part, right_part):
            nb = list(b)
            if fields[j].ordered:
                nb[j] = (max(b[j][0], part[0]), min(b[j][1], part[1]))
                if nb[j][0] > nb[j][1]:
                    out.append(None)
                    continue
            else:
                nb[j] = frozenset(b[j] & part)
                if not nb[j]:
                    out.append(None)
                    continue
            if nb == b:
                out.append(item)
                continue
            q = n.q.copy()
            v = _values(ex, q)
            box = {k: x for k, x in enumerate(nb)}
            if nb[j][0] <= v[j] <= nb[j][1] if fields[j].ordered else v[j] in nb[j]:
                m = _Node(n.kind, q, box, n.answer, n.key)
            else:  # the piece needs a point of its own: ask it
                fields[j].put(q, nb[j][0] if fields[j].ordered else min(nb[j]))
                ex.n_pieces += 1
                try:
                    a = ex.ask1(q, "check")
                except BudgetExhausted:  # keep the box's answer; the run is partial
                    short[0] = True
                    a = n.answer
                m = _Node(n.kind if _key(a) == n.key else "verify", q, box, a, _key(a))
            m.exact = n.exact
            out.append((nb, m))
        return out

    def build(region, its):
        if not its:  # a region no box reached (the budget ran out)
            q = _point(ex, fallback.q, [r[0] if f.ordered else min(r)
                                        for r, f in zip(region, fields)])
            return _Node("verify", q, {k: x for k, x in enumerate(region)},
                         fallback.answer, fallback.key)
        if len(its) == 1 and its[0][0] == region:
            return its[0][1]
        best = None
        n = len(its)
        for j, f in enumerate(fields):
            r = region[j]
            if f.ordered:
                if r[0] == r[1]:
                    continue
                lo = np.array([it[0][j][0] for it in its])
                hi = np.array([it[0][j][1] for it in its])
                cand = np.unique(np.concatenate([lo - 1, hi]))
                cand = cand[(cand >= r[0]) & (cand < r[1])]
                if not cand.size:
                    continue
                strad = ((lo[:, None] <= cand) & (cand < hi[:, None])).sum(axis=0)
                nl = (lo[:, None] <= cand).sum(axis=0)
                nr = (hi[:, None] > cand).sum(axis=0)
                score = strad * (n + 1) + np.abs(nl - nr)
                k = int(np.argmin(score))
                cut = ((r[0], int(cand[k])), (int(cand[k]) + 1, r[1]))
                s = int(score[k])
            else:
                if len(r) < 2:
                    continue
                options = {frozenset(it[0][j]) for it in its} - {frozenset(r)}
                if fields[j].one_hot:  # one column per test: single categories
                    options = {frozenset({c}) for o in options for c in o} | {
                        o for o in options if len(o) == 1}
                s, cut = None, None
                for S in options:
                    rest = frozenset(r) - S
                    st = sum(1 for it in its if it[0][j] & S and it[0][j] & rest)
                    nl = sum(1 for it in its if it[0][j] & S)
                    sc = st * (n + 1) + abs(2 * nl - n - st)
                    if s is None or sc < s:
                        s, cut = sc, (S, rest)
                if cut is None:
                    continue
            if best is None or s < best[0]:
                best = (s, j, cut)
        if best is None:
            raise RuntimeError("overlapping boxes: no cut separates them")
        _, j, (lp, rp) = best
        left, right = [], []
        for it in its:
            a, b = split_item(it, j, lp, rp)
            if a is not None:
                left.append(a)
            if b is not None:
                right.append(b)
        rl, rr = list(region), list(region)
        rl[j], rr[j] = lp, rp
        ln, rn = build(rl, left), build(rr, right)
        f = fields[j]
        if f.ordered:
            ex.cuts[j].add(lp[1])
            segs = [(lp[0], lp[1], None, None), (rp[0], rp[1], None, None)]
        else:
            ex.partitions[j].append([frozenset(lp), frozenset(rp)])
            segs = [(frozenset(lp), None, None), (frozenset(rp), None, None)]
        return ex._cluster(j, segs, [ln, rn])

    root = build([tuple(b) if f.ordered else frozenset(b) for b, f in zip(full, fields)],
                 items)
    return root, not short[0]
