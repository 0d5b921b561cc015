"""Path finding on decision trees (Tramèr et al. 2016, §4.2, Table 5)."""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ..attacks import PathFinding
from ..oracles import Domain, LocalOracle
from ._registry import Table, experiment

SKIPPED = "skipped: data absent (use --data-dir)"

#: (data set, max_leaf_nodes, the paper's tree, its leaves, top-down, bottom-up queries)
PAPER_ROWS = [
    ("german_credit", 26, "German Credit", 26, 1_150, 1_722),
    ("gss", 159, "GSS", 159, 2_752, 7_434),
    ("gss_numeric", 159, "GSS", 159, 2_752, 7_434),
    ("steak", 193, "Steak", 193, 4_013, 3_652),
    ("adult_income", 100, "IRS Tax (318 leaves)", 318, 29_609, 101_057),
    ("adult_income", 318, "IRS Tax", 318, 29_609, 101_057),
]


def _same_answers(victim, copy, X):
    """Fraction of rows where the copy answers like the victim (the whole distribution).

    Equal up to 1e-9: the oracle normalises a leaf's distribution itself, which may
    differ from ``predict_proba`` in the last bit.
    """
    if hasattr(victim, "predict_proba"):
        a, b = victim.predict_proba(X), copy.predict_proba(X)
        return float(np.mean(np.all(np.abs(a - b) <= 1e-9, axis=1)))
    return float(np.mean(np.abs(victim.predict(X) - copy.predict(X)) <= 1e-9))


def open_category_bound(tree, domain) -> int:
    """Queries any attack needs to try each open category at each leaf once.

    For each leaf of the victim, the most categories of one one-hot group still open
    there (not excluded by a cut "column <= 0.5" on its path, nor fixed by a cut going
    right) among the groups its path tests, or 1. A leaf reached with category c of a
    group must be queried with c (another category may hide a cut below), and one
    query supplies one category per group: each leaf needs that many queries that
    reach it, whatever the attack.
    """
    group_of, size = {}, {}
    for g, cols in enumerate(domain.one_hot_groups):
        size[g] = len(cols)
        for c in cols:
            group_of[int(c)] = g
    t = tree.tree_
    total, stack = 0, [(0, {}, frozenset(), frozenset())]
    while stack:
        node, excluded, fixed, tested = stack.pop()
        if t.children_left[node] == -1:
            total += max([1] + [size[g] - len(excluded.get(g, ())) for g in tested
                                if g not in fixed])
            continue
        g = group_of.get(int(t.feature[node]))
        if g is None:
            stack += [(t.children_left[node], excluded, fixed, tested),
                      (t.children_right[node], excluded, fixed, tested)]
            continue
        left = dict(excluded)
        left[g] = excluded.get(g, frozenset()) | {int(t.feature[node])}
        stack += [(t.children_left[node], left, fixed, tested | {g}),
                  (t.children_right[node], excluded, fixed | {g}, tested | {g})]
    return total


#: Each run may spend at most this many times the paper's count for its mode; a run
#: cut short says "budget_exhausted" in the status column.
BUDGET_FACTOR = 5

#: Rows whose cap is raised above BUDGET_FACTOR (stated in the table's notes): Steak's
#: 146 leaves hold 7 distinct answers, and bottom-up (complete queries) needs about 11x
#: the paper's count to tell its alike leaves apart everywhere.
BUDGET_FACTORS = {("steak", "bottom_up"): 20}


#: (label, mode, grid_checks): top-down as is, top-down with grid checks, bottom-up
MODES = [("top_down", "top_down", None), ("top_down+grid", "top_down", 64),
         ("bottom_up", "bottom_up", None)]


def _attack_row(victim, domain, X_test, *, mode, n_unif, seed, grid_checks=None, budget=None):
    oracle = LocalOracle(victim, domain=domain, allow_missing=mode == "top_down")
    t0 = time.process_time()
    res = PathFinding(mode=mode, grid_checks=grid_checks, random_state=seed).extract(
        oracle, budget=budget)
    dt = time.process_time() - t0
    U = domain.sample(n_unif, random_state=seed + 1)
    # three decimals: one point in 100,000 shows (a table's 4 significant digits
    # would print 99.999 as 100)
    return res, dt, f"{100 * _same_answers(victim, res.model, X_test):.3f}", \
        f"{100 * _same_answers(victim, res.model, U):.3f}"


def _spent(tree, res):
    by_phase, boxes = res.info["queries_by_phase"], res.info["verify_queries"]
    return (f"{tree}: identify {by_phase['identify']:,}, search "
            f"{by_phase['line_search'] + by_phase['refine']:,}, box checks at leaves "
            f"{boxes['leaf_boxes']:,} / internal {boxes['internal_boxes']:,}, hidden "
            f"{boxes['hidden_cut_searches']:,}, near cuts {by_phase['grid']:,}")


def _load(name, ctx):
    try:
        from .. import datasets
    except ImportError as exc:  # the data-set loaders live in another module
        raise FileNotFoundError(f"mlextract.datasets is not available: {exc}") from exc
    return datasets.load(name, data_dir=ctx.data_dir)


@experiment("path_finding", title="Path finding on decision trees (Tramèr et al. 2016)",
            order=20)
def path_finding(ctx):
    rows_real = PAPER_ROWS[:1] if ctx.quick else PAPER_ROWS
    modes = MODES
    n_unif = 10_000 if ctx.quick else 100_000
    table_rows, spent = [], []
    for name, L, paper_name, _leaves, paper_td, paper_bu in rows_real:
        try:
            data = _load(name, ctx)
        except FileNotFoundError:
            table_rows.append([f"{name} L={L}", SKIPPED] + [None] * 11)
            continue
        Xtr, Xte, ytr, yte = train_test_split(data.X, data.y, test_size=0.25,
                                              random_state=ctx.random_state)
        victim = DecisionTreeClassifier(max_leaf_nodes=L, random_state=0).fit(Xtr, ytr)
        bound = open_category_bound(victim, data.domain)
        for label, mode, grid in modes:
            paper = paper_td if mode == "top_down" else paper_bu
            res, dt, agree_test, agree_unif = _attack_row(
                victim, data.domain, Xte, mode=mode, n_unif=n_unif, seed=ctx.random_state,
                grid_checks=grid,
                budget=BUDGET_FACTORS.get((name, mode), BUDGET_FACTOR) * paper)
            if label == "top_down":
                spent.append(_spent(f"{name} L={L}", res))
            table_rows.append([
                f"{name} L={L}", label, victim.get_n_leaves(), victim.get_depth(),
                res.info["n_distinct_answers"], res.n_queries,
                f"{paper:,} ({paper_name})", round(res.n_queries / paper, 3),
                bound if mode == "top_down" else None,
                agree_test, agree_unif, dt, res.status,
            ])
    real = Table(
        title="Path finding against DecisionTreeClassifier(max_leaf_nodes=L) on the paper's data",
        columns=["tree", "mode", "leaves", "depth", "distinct answers", "queries",
                 "paper queries", "ours/paper", "open-category bound",
                 "same answer test %", "same answer unif %", "cpu s", "status"],
        rows=table_rows,
        paper="Tramèr et al. 2016, Table 5 (BigML trees; top-down and bottom-up queries)",
        notes=[
            "Queries are counted by the oracle; repeated queries are answered from its log.",
            "open-category bound: queries any attack needs to try each open category at "
            "each leaf once, computed from the victim's tree (per leaf, the most "
            "categories of one one-hot group its path tests that are still open there; "
            "one query supplies one category per group). Exactness under incomplete "
            "queries cannot cost less; whatever the attack spends above it goes to "
            "finding the internal nodes.",
            f"Each run is capped at {BUDGET_FACTOR}× the paper's count for its mode "
            + "".join(f"({n} {m}: {k}×, raised: see below)" for (n, m), k in
                      BUDGET_FACTORS.items())
            + "; a capped run reports status 'budget_exhausted' and the partial copy's "
            "agreement.",
            "Agreement is on the whole answer (class distribution), on the held-out 25% and "
            f"on {n_unif:,} uniform points of the published domain.",
            "The paper's trees were BigML's; ours are scikit-learn trees of the same data "
            "and size. Adult's rows are compared with the paper's IRS Tax tree (318 leaves), "
            "its largest.",
            "Bottom-up uses complete queries only and is compared with the paper's "
            "bottom-up count: from a point of each leaf, every category of each set field "
            "is tried and each ordered field bisected towards both ends (the leaf's box "
            "when its answer is unique); the probes that answer otherwise start the next "
            "leaves, until the boxes' volumes cover the domain. A box that reaches past "
            "its leaf (through look-alikes) is cut where the answer changes when it "
            "overlaps a box that answers otherwise (one query in the overlap decides which "
            "box is wrong there, or both), when it holds a point asked before that "
            "answered otherwise (free), and when one of 8 random points fails (boxes "
            "whose answer is pure or seen before); then each box whose answer boxes apart "
            "from it hold is checked on the grid of all cuts found (grid_checks=64: the "
            "whole grid when smaller, else 64 random grid points, each field's values in "
            "random order), a failing point cuts the box and starts the search again, and "
            "the boxes are assembled into a tree. top_down+grid does the grid checks "
            "top-down.",
            "Bottom-up exactness, measured by comparing the copy's and the victim's leaf "
            "boxes (every pair that meets and answers differently): Adult L=318 was "
            "99.997% uniform, 2 regions wrong (a box found first was trusted where a later "
            "box overlapped it; the grid check's diagonal always paired the same values of "
            "two fields); now none on any row, for attack seeds 0-3. Queries before -> "
            "after: German 2,628 -> 3,456, GSS 11,512 -> 10,226, gss_numeric 8,201 -> "
            "8,018, Steak 50,740 -> 40,765, Adult L=100 13,210 -> 13,578, Adult L=318 "
            "140,958 -> 80,535 (grid checks on the boxes before assembly instead of on "
            "each piece of the tree: about half the grid points). Held-out check (240 "
            "seeded 3-class trees of 40-120 leaves on 4 integer features and a one-hot "
            "group, the whole finite domain compared): 46 copies not exact before, 2 now "
            "(islands of another class behind cuts on 3 fields that no probe reached: "
            "bottom-up with look-alike leaves is not provable).",
            "Steak bottom-up: 146 leaves share 7 distinct answers, so slices reach into "
            "look-alike leaves and the grid checks (about half the queries) guard the "
            "copy; it needs about 11× the paper's count, so its cap is raised to "
            "20×. The paper's Steak tree had 28 distinct leaf ids for 193 leaves.",
            "status 'approximate': leaves apart from each other answer alike, so the "
            "copy cannot be proved equal (every probe agreed); 'success': proved.",
            "GSS top-down costs more than the paper's count (the bound alone is within "
            "3% of it): a cut on its 72-category group (age, one-hot, 84 of the 158 "
            "internal nodes) may hide below any later node, and an incomplete query cannot "
            "leave age out below a node that tests it (a group is supplied whole or not at "
            "all), so every cell under an age cut tries each category of its box (one "
            "query each): at the internal cells as well as at the leaves, since a leaf "
            "answering a pure class does not show that a category stayed on its path "
            "(another leaf of that class answers alike). Categories that answer a pure "
            "class each get their own cell (they may reach different leaves of that "
            "class, behind which other groups split): the copy has more leaves than the "
            "victim, and each tries the other groups' categories. Measured alternatives: "
            "trying categories at the leaves only and tracing a category that parts up "
            "the path (binary search) to the cell where it leaves costs 5,408 on GSS but "
            "loses exactness on Steak (91.6% test) where alike leaves hide the parting; "
            "made exact there (the parent's check and random points at look-alike "
            "leaves) it costs 6,050 on GSS. Checking one category per class seen so far "
            "was measured at 4,812 queries and 92.4% uniform agreement.",
            "gss_numeric: the same rows with age and children as whole numbers (the "
            "paper encoded GSS one-hot, but a tree learner reading the raw file cuts "
            "them by thresholds), for comparison; it is not the issue's row. Most of its "
            "top-down queries check boxes for cuts not found yet and search the ones "
            "found (breakdown below): age is cut again below many nodes.",
            "Top-down checks of cells with ordered fields whose answer others may hold "
            "(pure or seen before; for pure cells as changed since, next note), "
            "default mode: each ordered field alone at both ends "
            "of the box, then one row per category of the largest set field (every set "
            "field's categories paired at random, the ordered fields at random values of "
            "the box: the corners and the random points in one row); no separate random "
            "rows, since the near-cut checks follow. Near-cut checks probe the value "
            "after each near cut (one value per interval between cuts) and the box's "
            "ends. A cell split by a line search (a cut hidden behind a re-tested "
            "ordered field) keeps its uniqueness in the piece that holds its point (not "
            "counted as a second cell with that answer). Measured (seed 0, top-down): "
            "gss_numeric 3,226 -> 2,532, German 501 -> 437, Adult L=100 3,327 -> 2,840, "
            "Adult L=318 25,560 -> 20,405, synthetic classifiers 50/300/500 leaves "
            "2,112/33,587/60,292 -> 1,909/25,381/48,018, regressors 2,525/21,987/27,240 "
            "-> 2,445/21,311/26,152; GSS and Steak (set fields only) unchanged; every "
            "row 100/100; top_down+grid rows unchanged (the changes apply to the default "
            "near-cut mode only). Over seeds 0-5 of the attack: Steak inexact on 1 of 6 "
            "seeds before and after (seed 4: a 3-field conjunction of categories "
            "inside a pure cell), Adult L=318 1 of 6 before, 0 after; the other rows 0 "
            "(fixed since: next note).",
            "Pure cells' checks made deterministic (top-down, default mode). Cause of "
            "the misses: a pure answer names no node, and a region of another class "
            "behind two hidden cuts inside a pure cell answers otherwise only where both "
            "fields move; each field moved alone lands in a look-alike leaf. Steak seed "
            "4: cell Location = Middle Atlantic, income not $150,000+, education not "
            "'less than high school', its point income $25-49,999 / high school; the "
            "victim has classes 4 and 1 where education = Bachelor and income is not "
            "$0-24,999 (hidden cuts income, then education). The diagonal paired "
            "Bachelor with $0-24,999 (sorted order) and the 4 random rows missed it; "
            "Bachelor alone (the other fields at the cell's point) finds it. GSS-like "
            "120 leaves, seed 7 (tests): cell age 39-41 x work {0,1,2,4}, point age 39 "
            "/ work 0; class 1 at work = 2 and age >= 40 (hidden 'work2' then 'age > "
            "39.5'); work = 2 was paired with a random age (39) and the age ends were "
            "tried with work 0. Now a pure cell with ordered fields tries every "
            "category of its set fields at both ends of every ordered field (two "
            "diagonals: ordered fields all at the low end, then all at the high end, "
            "the second diagonal shifting each set field but the largest), besides each "
            "ordered field alone at both ends, and no random values; a pure cell with "
            "set fields only tries each category alone besides the diagonal, and no "
            "random rows. Cells whose impure answer was seen before are checked as "
            "before. Measured over attack seeds 0-5 (100,000 uniform points, script: "
            "seed_sweep in this module), every top-down row 100.000/100.000: Steak "
            "2,590-2,600 (before 2,338-2,368, seed 4 98.795% test / 99.919% uniform; "
            "+9.5% at seed 0), German 455-456 (436-437, +4.1%), GSS 5,950-5,963 "
            "(5,910-5,928, +0.5%), gss_numeric 2,486-2,511 (2,510-2,532, -1.1%), Adult "
            "L=100 2,920-2,921 (2,840, +2.8%), Adult L=318 20,958-21,171 (seeds 0-1 "
            "before: 20,405 / 20,419; +3.3% at seed 0); seeds 0-1 (0-5 for the 300/500 "
            "classifiers): synthetic classifiers and regressors of 50/300/500 leaves "
            "unchanged (continuous fields only: the same rows). top_down+grid "
            "(another code path, unchanged) 100/100 on seeds 0-5 of the fast rows. "
            "Still not covered: a region that needs two categories of two set fields "
            "together (both unlike the cell's point) or three fields; small-count "
            "distributions (1/2, 1/3) held by several nodes (categories grouped at a "
            "search). On 360 GSS-like victims (tests' generator, 80-160 leaves, 3 attack "
            "seeds) inexact runs 30 -> 13; on Steak trees of other splits (L=100/193, "
            "6 splits x 3 seeds) 12 of 36 before and after (pairs of categories; now "
            "the same victims on every seed), at +9% queries; German trees of those "
            "sizes 9 -> 3 of 36 (+16% queries). Covering every pair of categories of "
            "two fields (each cell's 2-moves) made those 3 of 36 but cost Steak +27%, "
            "Adult L=100 +57%.",
            "Pairs of categories in pure cells (top-down): a pure cell with set fields "
            "only also moves its two largest set fields together over every pair of "
            "their categories unlike the cell's point (the others at the point), when "
            "those pairs are at most twice the rows that move the two fields alone "
            "((n1-1)(n2-1) <= 2((n1-1)+(n2-1)): Steak's 5x5 and 5x4 fields, not its "
            "9x5). Steak trees of other splits (max_leaf_nodes 50/75/100/125/150/193, "
            "splits 0-5, attack seeds 0-2, every one of the 230,400 points of the "
            "domain compared): inexact 27 -> 6 of 108 (the 6: split 5's tree, 96 points "
            "where a 1/2 distribution hides behind three fields), queries +15.5%; L=100/"
            "193 only (20,000 uniform points): 12 -> 3 of 36, +16.2%. German trees of "
            "100/193 leaves: 3 of 36 before and after (+0.04%; their missed regions lie "
            "in pure cells with ordered fields). Paper rows, seeds 0-2, all 100.000/"
            "100.000: Steak 3,017-3,022 (2,594-2,600, +16.3% at seed 0), GSS "
            "5,977-5,990 (5,953, +0.5%), German, gss_numeric, Adult L=100/318 and the "
            "synthetic 300/500-leaf rows unchanged (455-456, 2,486-2,503, 2,920-2,921, "
            "20,958-21,080; 25,381/48,018/21,311/26,152). Measured alternatives (seed 0 "
            "and the L=100/193 Steak family): every pair of every two set fields: 3 of "
            "36, Steak 3,468 (+34%); the two largest without the cap: 3 of 36, Steak "
            "3,197, GSS 6,612 (+11%); the same pairs also in pure cells with ordered "
            "fields (_verify_pure): German family still 3 of 36 (99.5% -> 99.99% "
            "uniform) at +27% queries, German 471, Adult L=100 3,361 (+15%), Adult "
            "L=318 27,050 (+28%); a cap of 8 pairs: 12 of 36 (none fixed).",
            "Tried and reverted (seed 0 unless said): the pieces of a cell split by a "
            "category search keeping its uniqueness too: Steak 98.8% test (its 7 "
            "distinct answers: a piece answering like its cell may be another leaf; over "
            "seeds 0-5 the same 1-in-6 failure rate, but seed 0 fails), kept to line "
            "searches; grouping categories that answer a pure class into one cell whose "
            "checks move that field as well: GSS 4,739 (99.975% test), Steak 1,946 "
            "(99.83% uniform), Adult L=318 17,174: a category paired with one value of "
            "another group misses a conjunction (GSS age=61 with children=5); corner "
            "rows of set-only pure cells paired at random: Steak inexact on 5 of 6 "
            "seeds (4 of 6 with the random rows merged in; GSS 5,748); n_checks 2 or 3 "
            "everywhere: Steak 98.8%; dropping the near-cut checks: gss_numeric 99.975% "
            "(a 2-value age sliver under children >= 2); counting rows asked before as "
            "covering near-cut values: gss_numeric 99.975% (the sliver needs age and "
            "children together); probing the nearest known cut first in a hidden-cut "
            "search: +40 on gss_numeric; proving an impure cell's box by the checks of "
            "a child with a unique answer (expand first, check after): GSS 5,855, "
            "gss_numeric 3,303, Adult L=318 26,187 (most such cells are leaves, and a "
            "cut hidden above the node is then searched in each child); skipping the "
            "children's checks when the node's answer is an exact two-point mixture of "
            "its two segments' (the node's own children, 3+ classes): Steak 96.4% test "
            "(small-count distributions are mixtures of each other by coincidence); "
            "with impure segments only: gss_numeric 2,469, GSS 5,902, Steak 2,317 at "
            "seed 0 but Steak inexact on 2 of 6 seeds (1 before).",
            "Where top-down queries go (identify: the feature of each node, group "
            "testing; search: cuts and categories at each node, incl. refinement; box "
            "checks at the cells that ended as leaves / as internal nodes; hidden: "
            "searches of cuts found by a check; near cuts: the pure alike leaves' checks "
            "on the cuts found in neighbouring boxes): " + "; ".join(spent) + ".",
        ],
        name="path_finding_paper",
    )
    return [real, _synthetic_table(ctx, n_unif)]


def _synthetic_table(ctx, n_unif):
    sizes = [(10, 300)] if ctx.quick else [(10, 50), (10, 300), (20, 500)]
    rows = []
    for d, L in sizes:
        for kind in ("classifier", "regressor"):
            if kind == "classifier":
                X, y = make_classification(n_samples=6000, n_features=d, n_informative=d // 2,
                                           n_classes=3, random_state=ctx.random_state)
                victim = DecisionTreeClassifier(max_leaf_nodes=L, max_depth=30,
                                                random_state=0)
            else:
                X, y = make_regression(n_samples=6000, n_features=d, n_informative=d // 2,
                                       noise=5.0, random_state=ctx.random_state)
                victim = DecisionTreeRegressor(max_leaf_nodes=L, max_depth=30, random_state=0)
            Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.25,
                                                random_state=ctx.random_state)
            victim.fit(Xtr, ytr)
            domain = Domain.from_data(X)
            for grid in (None,) if ctx.quick else (None, 64):
                res, dt, agree_test, agree_unif = _attack_row(
                    victim, domain, Xte, mode="top_down", n_unif=n_unif,
                    seed=ctx.random_state, grid_checks=grid)
                rows.append([
                    f"{kind} d={d}", "top_down" if grid is None else "top_down+grid",
                    victim.get_n_leaves(), victim.get_depth(), res.n_queries,
                    round(res.n_queries / victim.get_n_leaves(), 1), agree_test, agree_unif,
                    dt, res.model.get_n_leaves(), res.status,
                ])
    return Table(
        title="Path finding (top-down) on synthetic trees: exactness and speed",
        columns=["victim", "mode", "leaves", "depth", "queries", "queries/leaf",
                 "same answer test %", "same answer unif %", "cpu s", "copy leaves", "status"],
        rows=rows,
        paper="issue targets: 100% agreement up to 500 leaves / depth 30; 300 leaves in < 5 s",
        notes=["Continuous features: every threshold narrowed to two adjacent float32 values.",
               "cpu s: CPU seconds of the extraction (the in-process victim's answers "
               "included); wall time is longer on a shared machine.",
               "top_down (default): pure leaves whose answer other leaves share are checked "
               "once on the cuts of their ordered fields found in neighbouring boxes (apart "
               "from theirs on one other field at most), each cut's two sides once; "
               "top_down+grid: grid_checks=64 (both sides of every cut found anywhere, up to "
               "64 points of the grid per leaf).",
               "Without the neighbouring-cut checks (grid_checks=0) the 500-leaf classifier "
               "was 99.97% uniform: slivers of another class between two cuts of one field, "
               "inside pure cells whose corners and random points all land in look-alike "
               "leaves."],
        name="path_finding_synthetic",
    )


#: The rows of both tables by short name: (data set or "synthetic", L, kind, d)
SEED_ROWS = {
    "german": ("german_credit", 26, None, None), "gss": ("gss", 159, None, None),
    "gss_numeric": ("gss_numeric", 159, None, None), "steak": ("steak", 193, None, None),
    "adult100": ("adult_income", 100, None, None), "adult318": ("adult_income", 318, None, None),
    "c50": ("synthetic", 50, "classifier", 10), "c300": ("synthetic", 300, "classifier", 10),
    "c500": ("synthetic", 500, "classifier", 20), "r50": ("synthetic", 50, "regressor", 10),
    "r300": ("synthetic", 300, "regressor", 10), "r500": ("synthetic", 500, "regressor", 20),
}


def seed_sweep(rows, seeds, *, data_dir=None, n_unif=100_000, grid_checks=None):
    """Top-down rows of both tables over several attack seeds (random_state).

    The victims are the tables' (data split and tree seed 0); only the attack's seed
    and the uniform points' seed (attack seed + 1, as in the tables) change. Yields
    (row, seed, queries, same answer test %, same answer unif %).
    """
    unknown = [row for row in rows if row not in SEED_ROWS]
    if unknown:
        raise ValueError(f"unknown rows {unknown}; choose among {sorted(SEED_ROWS)}.")
    for row in rows:
        name, L, kind, d = SEED_ROWS[row]
        if name == "synthetic":
            make = make_classification if kind == "classifier" else make_regression
            extra = {"n_classes": 3} if kind == "classifier" else {"noise": 5.0}
            X, y = make(n_samples=6000, n_features=d, n_informative=d // 2, random_state=0,
                        **extra)
            tree = DecisionTreeClassifier if kind == "classifier" else DecisionTreeRegressor
            victim = tree(max_leaf_nodes=L, max_depth=30, random_state=0)
            Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.25, random_state=0)
            domain = Domain.from_data(X)
        else:
            from .. import datasets
            data = datasets.load(name, data_dir=data_dir)
            Xtr, Xte, ytr, _ = train_test_split(data.X, data.y, test_size=0.25, random_state=0)
            victim = DecisionTreeClassifier(max_leaf_nodes=L, random_state=0)
            domain = data.domain
        victim.fit(Xtr, ytr)
        for seed in seeds:
            res, _, test, unif = _attack_row(victim, domain, Xte, mode="top_down",
                                             n_unif=n_unif, seed=seed,
                                             grid_checks=grid_checks)
            yield row, seed, res.n_queries, test, unif


if __name__ == "__main__":  # python -m mlextract.experiments.path_finding ROW,... 0,1,...
    import sys

    for out in seed_sweep(sys.argv[1].split(","), [int(s) for s in sys.argv[2].split(",")],
                          data_dir=sys.argv[3] if len(sys.argv) > 3 else None):
        print(*out, flush=True)
