"""Label-only extraction: Lowd–Meek, the retraining strategies, query synthesis, RBF SVMs."""

from __future__ import annotations

import math
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification, make_moons
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from ..attacks import ActiveSynthesis, LowdMeek, QuerySynthesis, Retraining
from ..metrics import agreement, uniform_agreement
from ..oracles import Domain, LocalOracle
from ._registry import DataAbsent, Table, experiment

PAPER_2016 = "Tramèr et al. 2016, §6 (Lowd–Meek ~2,050 queries on average; adaptive " \
    "retraining >99% at 827 queries for linear models; RBF SVM >99% at ~2,050)"


def _linear_data(d, seed):
    X, y = make_classification(n_samples=1500, n_features=d, n_informative=max(2, d // 2),
                               random_state=seed)
    return train_test_split(X, y, random_state=seed)


def _agreements(victim, model, X_test, domain, n_unif):
    return (100 * agreement(victim, model, X_test),
            100 * uniform_agreement(victim, model, domain, n=n_unif))


# ----------------------------------------------------------------- Lowd–Meek
@experiment("lowd_meek", title="Lowd–Meek from labels (Tramèr et al. 2016, §6.1)", order=40)
def lowd_meek(ctx):
    dims = [5, 10] if ctx.quick else [5, 10, 20, 50]
    seeds = [0, 1] if ctx.quick else list(range(5))
    families = {
        "LogisticRegression": lambda: LogisticRegression(max_iter=2000),
        "LinearSVC": lambda: LinearSVC(),
        "SVC(linear)": lambda: SVC(kernel="linear"),
        "Perceptron": lambda: Perceptron(random_state=0),
    }
    if ctx.quick:
        families = {k: families[k] for k in ("LogisticRegression", "LinearSVC")}
    n_unif = 20_000 if ctx.quick else 100_000
    rows = []
    for fam, make in families.items():
        for d in dims:
            q, bound, test, unif, dt = [], [], [], [], []
            for s in seeds:
                Xtr, Xte, ytr, _ = _linear_data(d, ctx.random_state + s)
                victim = make().fit(Xtr, ytr)
                dom = Domain.from_data(np.vstack([Xtr, Xte]))
                oracle = LocalOracle(victim, output="label", domain=dom)
                t0 = time.perf_counter()
                res = LowdMeek(random_state=ctx.random_state + s).extract(oracle)
                dt.append(time.perf_counter() - t0)
                q.append(res.n_queries)
                bound.append(res.info["query_bound"])
                a, b = _agreements(victim, res.model, Xte, dom, n_unif)
                test.append(a)
                unif.append(b)
            rows.append([fam, d, float(np.mean(q)), float(np.mean(bound)), float(np.mean(test)),
                         float(np.mean(unif)), float(np.min(unif)), float(np.mean(dt))])
    return Table(
        title="Lowd–Meek: queries and agreement (mean over seeds)",
        columns=["victim", "d", "queries", "bound w+d⌈log2(L/τ)⌉", "1-R_test %",
                 "1-R_unif %", "min 1-R_unif %", "time s"],
        rows=rows,
        paper=PAPER_2016,
        notes=[
            f"{len(seeds)} seeds per row; τ = 1e-3·L, so each search costs ⌈log2(1000)⌉ = 10 "
            "queries; w = queries spent on the two sign witnesses.",
            "Target: ≥ 99.9% uniform agreement within the bound. The count always equals the "
            "bound (w + d searches of 10 queries on average). Each arc starts with a lever "
            "B ≈ ½·RMS(weights read)/(w·n)·a so its 5 coarse steps read the weight to a "
            "relative precision; the other 5 steps per arc go greedily to the brackets that "
            "misplace the fitted boundary most inside the box (LowdMeek Notes). Before this "
            "(10 steps per arc on the full chord): 99.83–99.89% at d = 20, 99.59–99.71% at "
            "d = 50.",
            "Victims trained on make_classification data; domain = the data's bounding box.",
        ],
    )


# ------------------------------------------------------------ query synthesis
def _qs_lower_bound(d, eps):
    """Packing lower bound ⌈1 + (d−1)·log2(1/sin 2πε)⌉ (Kulkarni, Mitter, Tsitsiklis 1993)."""
    try:
        from ..theory import query_synthesis_lower_bound

        return float(query_synthesis_lower_bound(d, eps).value)
    except ImportError:  # the theory module is not merged: the same formula, locally
        return float(math.ceil(1 + (d - 1) * math.log2(1 / math.sin(2 * math.pi * eps))))


def _qs_run(d, eps, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    oracle = LocalOracle(lambda X: (X @ w > 0).astype(int), classes=[0, 1],
                         domain=Domain(-np.ones(d), np.ones(d)))
    t0 = time.perf_counter()
    res = QuerySynthesis(epsilon=eps, fit_intercept=False, random_state=seed).extract(oracle)
    dt = time.perf_counter() - t0
    C = np.array(res.info["centres"])[:, :d]
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    angle = np.arccos(np.clip(C @ w, -1, 1)) / np.pi
    # centres[k] is the copy after k + 2 answers (the first answer alone fixes no class)
    hit = np.flatnonzero(angle <= eps)
    reach = int(hit[0] + 2) if hit.size else np.nan
    return reach, res.info["n_synthesis"], res.n_queries, float(angle[-1]), dt, res.status


@experiment("query_synthesis", title="Query synthesis for halfspaces "
            "(Chandrasekaran et al. 2020)", order=41)
def query_synthesis(ctx):
    eps = 0.01
    dims = [3, 5, 10] if ctx.quick else [5, 10, 20, 50]
    n_seeds = 3 if ctx.quick else 10
    rows = []
    for d in dims:
        runs = ctx.map(lambda s, d=d: _qs_run(d, eps, ctx.random_state + s), range(n_seeds),
                       desc=f"query synthesis d={d}")
        reach, certified, total, final, dt, status = zip(*runs)
        scale = d * math.log2(1 / eps)
        rows.append([d, eps, float(np.nanmean(reach)), float(np.nanmean(reach)) / scale,
                     float(np.mean(certified)), float(np.mean(total)), 1.2 * scale, 1.5 * scale,
                     _qs_lower_bound(d, eps), float(np.max(final)),
                     f"{sum(s == 'success' for s in status)}/{len(status)}", float(np.mean(dt))])
    return Table(
        title="Query synthesis (analytic centre, Clarabel): queries to reach ε = angle/π",
        columns=["d", "ε", "queries to reach ε", "÷ d·log2(1/ε)", "queries to certify",
                 "total (+10 verify)", "aim 1.2·d·log2(1/ε)", "target 1.5·d·log2(1/ε)",
                 "packing lower bound", "max final angle/π", "success", "time s"],
        rows=rows,
        paper="Chandrasekaran et al. 2020: Θ(d·log 1/ε) for query synthesis; centre-of-gravity "
              "cuts need ≤ 1.51·d·log2(1/ε)",
        notes=[
            f"Homogeneous halfspaces sign(w·x), w uniform on the sphere, domain [-1, 1]^d; "
            f"{n_seeds} seeds per row (mean).",
            "'queries to reach ε': first query after which the copy (the analytic centre) is "
            "within ε·π of the victim's normal (measured with the victim's w, which the attack "
            "does not see). 'queries to certify': when the attack's own linear-programming "
            "certificate proves every consistent halfspace is within ε·π, so it stops; then "
            "10 uniform verification queries test the noise-free assumption.",
            "Lower bound: ⌈1 + (d−1)·log2(1/sin 2πε)⌉ (packing, Kulkarni–Mitter–Tsitsiklis).",
            "cvxpy problem built once with Parameters; Clarabel tolerances 1e-9 (gap, "
            "feasibility).",
        ],
    )


# ------------------------------------------------------- retraining strategies
@experiment("retraining_strategies", title="Retraining from labels: uniform, line search, "
            "adaptive (Tramèr et al. 2016, §6.2)", order=42)
def retraining_strategies(ctx):
    dims = [10] if ctx.quick else [5, 10, 20]
    seeds = [0] if ctx.quick else [0, 1, 2]
    budgets = [100, 200, 413] if ctx.quick else [50, 100, 200, 300, 413, 827]
    n_unif = 20_000 if ctx.quick else 100_000
    rows = []
    for d in dims:
        for strategy in ("uniform", "line_search", "adaptive"):
            for b in budgets:
                test, unif, dt = [], [], []
                for s in seeds:
                    Xtr, Xte, ytr, _ = _linear_data(d, ctx.random_state + s)
                    victim = LogisticRegression(max_iter=2000).fit(Xtr, ytr)
                    dom = Domain.from_data(np.vstack([Xtr, Xte]))
                    oracle = LocalOracle(victim, output="label", domain=dom)
                    t0 = time.perf_counter()
                    res = Retraining(n_queries=b, strategy=strategy,
                                     model=LogisticRegression(C=1e4, max_iter=5000),
                                     random_state=ctx.random_state + s).extract(oracle)
                    dt.append(time.perf_counter() - t0)
                    a, u = _agreements(victim, res.model, Xte, dom, n_unif)
                    test.append(a)
                    unif.append(u)
                rows.append([d, strategy, b, float(np.mean(test)), float(np.mean(unif)),
                             float(np.mean(dt))])
    return Table(
        title="Retraining a logistic regression from labels (mean over seeds)",
        columns=["d", "strategy", "queries", "1-R_test %", "1-R_unif %", "time s"],
        rows=rows,
        paper=PAPER_2016,
        notes=[
            "Target: adaptive ≥ 99% agreement with ≤ 413 queries (half the paper's 827).",
            "Copy: LogisticRegression(C=1e4). Adaptive: 10 rounds, 90% of each round at the "
            "current copy's boundary. Line search: a quarter uniform, then 7-step searches.",
        ],
    )


# ----------------------------------------------------------------- RBF SVMs
def _rbf_sets(ctx):
    X, y = make_moons(1000, noise=0.2, random_state=ctx.random_state)
    yield "moons (noise 0.2)", X, y
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer (std.)", StandardScaler().fit_transform(X), y
    if not ctx.quick:
        X, y = load_digits(return_X_y=True)
        yield "digits ≥ 5", X, (y >= 5).astype(int)
        try:
            X, y = _adult(ctx)
        except DataAbsent:
            yield "adult income", None, None
        else:
            yield "adult income", X, y


def _adult(ctx):
    """Adult income: numeric features standardised, categorical ones one-hot."""
    import csv

    path = ctx.data_path("adult.data")
    with open(path, newline="") as fh:
        rows = [[c.strip() for c in r] for r in csv.reader(fh) if len(r) == 15]
    rows = [r for r in rows if "?" not in r]
    rng = np.random.default_rng(0)
    rows = [rows[i] for i in rng.permutation(len(rows))[:5000]]
    numeric = [0, 2, 4, 10, 11, 12]
    categorical = [1, 3, 5, 6, 7, 8, 9, 13]
    cols = [StandardScaler().fit_transform(
        np.array([[float(r[j])] for r in rows]))[:, 0] for j in numeric]
    for j in categorical:
        values = sorted({r[j] for r in rows})
        for v in values:
            cols.append(np.array([r[j] == v for r in rows], dtype=float))
    y = np.array([r[14] == ">50K" for r in rows], dtype=int)
    return np.column_stack(cols), y


def _rbf_run(X, y, seed, n_queries, n_unif):
    """One victim, one seed: victim on half the data, the attacker's pool and test a quarter."""
    Xv, Xr, yv, _ = train_test_split(X, y, test_size=0.5, random_state=seed)
    pool, Xte = train_test_split(Xr, test_size=0.5, random_state=seed)
    victim = SVC(kernel="rbf").fit(Xv, yv)
    dom = Domain.from_data(X)
    oracle = LocalOracle(victim, output="label", domain=dom)
    t0 = time.perf_counter()
    res = ActiveSynthesis(n_queries=n_queries, pool=pool, random_state=seed).extract(oracle)
    dt = time.perf_counter() - t0
    a, u = _agreements(victim, res.model, Xte, dom, n_unif)
    return res.n_queries, a, u, res.status, dt, len(pool), Xv, pool, Xte, victim, dom


def _rbf_passive(X, Xv, pool, Xte, victim, dom, seed, n_unif):
    """Agreement of RBF copies given far more passive labels than the budget (no attack).

    Test: an SVC with the victim's own width (gamma = 'scale' of the pool) fitted on
    every natural input there is outside the test set — the pool and the victim's
    training inputs, labelled by the victim — best of C in {1, 100, 1e4} on the test
    set (so optimistic). Uniform: the same SVC (C=100) fitted on 20,000 labelled
    uniform points and the pool.
    """
    gamma = 1.0 / (X.shape[1] * pool.var())
    Q = np.vstack([pool, Xv])
    test = max(100 * agreement(victim, SVC(gamma=gamma, C=C).fit(Q, victim.predict(Q)), Xte)
               for C in (1, 100, 1e4))
    U = np.vstack([dom.sample(20_000, random_state=seed + 1), pool])
    far = SVC(gamma=gamma, C=100).fit(U, victim.predict(U))
    return test, 100 * uniform_agreement(victim, far, dom, n=n_unif)


@experiment("rbf_svm_extraction", title="RBF-kernel SVMs from labels: active query synthesis "
            "(Chandrasekaran et al. 2020)", order=43)
def rbf_svm_extraction(ctx):
    n_queries = 300 if ctx.quick else 1000
    seeds = [0] if ctx.quick else [0, 1, 2]
    n_unif = 20_000 if ctx.quick else 100_000
    rows = []
    for name, X, y in _rbf_sets(ctx):
        if X is None:
            rows.append([name, "skipped: data absent (use --data-dir)"] + [None] * 11)
            continue
        runs = [_rbf_run(X, y, ctx.random_state + s, n_queries, n_unif) for s in seeds]
        q, a, u, status, dt, n_pool = list(zip(*runs))[:6]
        met = sum(ai >= 99 and ui >= 98 for ai, ui in zip(a, u))
        passive = (None, None) if ctx.quick else _rbf_passive(
            X, *runs[0][6:], ctx.random_state, n_unif)
        rows.append([name, X.shape[1], n_pool[0], float(np.mean(q)), float(np.mean(a)),
                     float(np.min(a)), float(np.mean(u)), float(np.min(u)),
                     f"{met}/{len(seeds)}", "/".join(sorted(set(status))), float(np.mean(dt)),
                     *passive])
    return Table(
        title="SVC(kernel='rbf') extracted by active query synthesis from a pool "
              f"(mean over {len(seeds)} seed{'s' if len(seeds) > 1 else ''})",
        columns=["victim data", "d", "pool", "queries", "1-R_test %", "min 1-R_test %",
                 "1-R_unif %", "min 1-R_unif %", "target met", "status", "time s",
                 "passive test % (all natural labels)", "passive unif % (20k uniform labels)"],
        rows=rows,
        paper=PAPER_2016,
        notes=[
            "Target: ≥ 99% test and ≥ 98% uniform agreement with ≤ 1,000 queries on three of "
            "the four (the paper: ~2,050 queries). 'target met' counts seeds meeting both.",
            "Per seed the data is split: the victim SVC() (gamma='scale', C=1) is trained on "
            "half; of the other half, one part is the attacker's unlabelled pool "
            "(Chandrasekaran et al.'s pool setting: natural data, no labels) and the other the "
            "held-out test set. Pool points are paid for only when asked. Uniform agreement "
            f"on {n_unif:,} uniform points of the data's bounding box.",
            "Same settings for every victim: ActiveSynthesis(n_queries, pool) with its "
            "defaults (10% initial: pool and uniform; rounds of 5%: 20% uniform points "
            "nearest the copy's boundary, and of the rest a quarter the unasked pool points "
            "nearest it (pool_share=0.25), three quarters bisected on the copy between pool "
            "points it labels differently). Copy: SVC with width, "
            "C ∈ {100, 1e3, 1e4} and scaling chosen by CV, width unit from the pool.",
            "Status 'success' = the copy's predictions on 4,000 check points (uniform and "
            "pool, never asked) changed by ≤ 0.2% in the last two rounds; 'approximate' = "
            "the budget ran out while it was still changing (stability, not agreement).",
            "Passive references (full mode, first seed; not attacks, far over budget): an SVC "
            "with the victim's own width fitted on every natural input outside the test set "
            "(pool + the victim's training inputs, 3/4 of the data, labelled; best C on the "
            "test set), and on 20,000 labelled uniform points + the pool.",
            "Synthesis over selection (adopted 2026-11-22, the same for all four): pool_share, "
            "the share of the non-uniform queries spent on unasked pool points nearest the "
            "copy's boundary instead of on synthesised points, was a fixed 0.5: digits "
            "98.59/92.4 and Adult 97.55/98.44 test/uniform (moons 100/99.77, breast cancer "
            "99.53/99.95; 3 seeds); 0 gave 99.11/93.64 and 98.08/98.54 (50,000 uniform "
            "points; moons 100/99.94, breast cancer 99.53/99.97); 0.25 is this table. On the "
            "tests' 10-d pool victim (5 seeds) 0 / 0.25 / 0.5 gave 92.8 / 94.5 / 93.8% test.",
            "Why digits and Adult fall short (diagnosed with the victim's decision values f, "
            "which the attack never sees; seed 0 and pool_share=0.5 unless stated). Digits: "
            "f is flat on the box "
            "[0, 16]^64 — 3.4–3.6% of uniform points lie at |f| < 0.02, 8.6–8.9% at "
            "< 0.05, 49–50% at < 0.3 (the victim's margin is 1; 3 seeds) — so 98% uniform "
            "agreement needs the "
            "copy's f right to a few hundredths over the whole box; the copy's uniform errors "
            "spread over |f| up to 0.3 (its shape, not its boundary's placement). The class "
            "is not the limit: least squares on exact f values (10,000 uniform + pool points) "
            "at the pool's width with pool + 1,000 uniform centres gives 99.2% uniform (pool "
            "centres alone 98.3–98.5%). Labels are: uncertainty sampling with every query on "
            "uniform points (width 0.3–1, C 10–1e4) gives 94.3–94.8% at 1,000 queries and "
            "95.5–96.0% at 1,750; 200 boundary pairs bisected on the victim (2,200 queries) "
            "94.5%; the attack itself 95.3% at 2,000 queries and 95.7% at 3,000; explore=0.6 "
            "97.6/94.6.",
            "Adult: the boundary runs through the data (1.8–3.5% of test points at |f| < 0.1); "
            "the copy's 42 test errors (12 allowed) include 23 at |f| > 0.1, a shape "
            "error inside the data. Labels at natural points do not pin f down: all 1,250 pool "
            "labels give ≤ 96.2% test (width 0.5–2× the pool's 'scale', C 1–1e4), the 1,000 "
            "pool points nearest the victim's boundary (picked with f, a placement no attack "
            "has; best width and C on the test set) 96.2–97.3% (3 seeds), and with "
            "300 pairs bisected on the victim (~3,650 queries) 98.5%, while least squares on "
            "the exact f values of the same pool points (pool centres) gives 99.1%: the class "
            "could, one bit per query does not. Placement trades test for uniform (3 seeds): "
            "explore=0 gives 97.8–98.5 test (uniform 10–77%), 0.05: 98.3–98.4 / 93.0–97.7, "
            "0.35: 97.3–98.1 / 97.0–99.8; with pool_share 0 and explore 0 (every query "
            "synthesised in the data) 98.2–98.5 test; jitter 0 or 0.03 (pool_share 0.25) "
            "mean 98.0 / 97.9 test; the attack at 2,000 queries 97.8–98.4 test, at "
            "3,000 (seed 0) 98.3. Uniform on Adult depends on the victim's intercept: at seed "
            "0 93% of the box is positive and 30% of it at |f| < 0.02; at seeds 1–2 the box is "
            "≥ 99% negative, hence 96.4% against 99.4–99.5%.",
            "Tried and not adopted (1,000 queries, test/uniform %, seed 0 unless stated; "
            "'the attack' = pool_share 0.5): a linear model "
            "in kernel features with the pool and the queried points as centres (the "
            "victim's function class, width 1 in the pool's 'scale' unit, LinearSVC) refitted "
            "on the attack's own queries: digits 98.4/95.8 (the attack's copy: 98.0/92.8); "
            "the same copy driving the queries (smallest |f| on unasked pool points and on "
            "5,000 fresh uniform candidates, half each): digits 97.3/96.3, Adult (a fifth "
            "uniform) 96.2/97.9 (the attack, 3 seeds: 97.6/98.4). Even with the pool + 5,000 "
            "uniform labels that copy reaches at most 98.9/97.5 (digits) and 96.9/98.0 (Adult), "
            "widths 0.5–2, C 10–1,000; e^{γ|x|²}-rescaled kernel features did no better, and "
            "quadratic features of the top 5–20 PCA components (on the box, f·e^{γ|x|²} is "
            "a series in x·x_i) far worse (≤ 89% uniform on digits). SVCs with the width "
            "fixed at 0.5 or 1× the pool's 'scale' and C ∈ {10, 100, 1e4} refitted on the "
            "attack's queries (3 seeds): Adult 97.4–98.2 test, digits 97.1–99.1 / 90.8–93.8 "
            "(the attack: 96.6–98.1; 98.0–99.1 / 92.0–92.6); 15 bagged copies: Adult "
            "97.3–98.0 test; a copy on pool centres fitted by a QP (cvxpy, Clarabel: RKHS "
            "norm, margin constraints on the 1,000 answers, |f|² penalised at 100 boundary "
            "points from 8-step bisection on the victim, 800 further queries): Adult "
            "97.4–97.8 / 96.1–97.7 at widths 0.5–1 (seed 0; the penalty moved test by "
            "≤ 0.3); least squares on exact f with linear or quadratic features instead of "
            "kernels: ≤ 97.4% test on Adult, ≤ 98.0% uniform on digits (531 "
            "features).",
            "Tried and not adopted (2026-11-22): record-valid synthesis on Adult. This "
            "table's Domain has no one-hot groups, so bisecting between pool records gives "
            "fractional one-hot values, points unlike the records of the test set. With the "
            "Domain built with Adult's 8 one-hot groups (an API publishing its schema; the "
            "oracle then accepts valid records only, and uniform points are valid records with "
            "uniform numeric fields) a prototype synthesised valid records only: between pool "
            "points a, b the copy labels differently, 32 category sets (each group whole from "
            "a or b at random, plus all-a and all-b) × the numeric fields interpolated on a "
            "9-point grid; one sign change of the copy, chosen at random, bisected (20 steps) "
            "on the numeric fields (moons, breast cancer, digits have no groups: unchanged). "
            "Adult test % per seed 0/1/2 — 1,000 queries: 98.32/97.76/98.48 (mean 98.19; "
            "uniform on valid records 95.5/94.5/92.7) against this table's 97.76/98.16/98.00 "
            "and, on the grouped Domain with bisection points snapped to each group's largest "
            "entry (the attack as it is), 96.72/97.92/97.92; 1,500: mean 98.40; 2,000: "
            "98.88/99.20/99.04 and seeds 3–4 99.28/98.56 (mean of 5: 98.99) against the "
            "attack's 98.32/98.48/98.24, 98.64/98.64 (98.46) on the group-free Domain and "
            "97.76/98.48/98.00 on the grouped one. Valid records are the better queries once "
            "the copy is close (+0.5 points at 2,000) but not at 1,000 (+0.2, inside the "
            "seeds' spread), and uniform agreement on valid records stays at 92–97% even at "
            "2,000 (on the group-free box, where fractional one-hots put most points far "
            "from every record: 96–99.8%). Variants at 1,000 (mean test, 3 seeds, grouped): "
            "the crossing nearest a (fewest groups switched) 97.87, the mid-segment crossing "
            "98.11, local pairs (anchors among the pool points nearest the copy's boundary, "
            "partner one of the anchor's 10 nearest pool points labelled otherwise) 97.92 "
            "(97.79 on the group-free Domain with plain bisection), half local half random "
            "97.92, batches of 25 97.95, jitter 0 98.03, explore=0 98.21 (uniform 68–84%), "
            "explore=0 and pool_share=0 98.32 (uniform 39–71%); query by committee (4× the "
            "candidates, kept where 4 bootstrap copies at the chosen width and C, f scaled by "
            "its spread on the answers, disagree most) 97.92/98.24/98.80 (mean 98.32), and on "
            "the group-free Domain with plain bisection 98.24/98.16/97.76 (mean 98.05; "
            "uniform 96.9/99.8/98.7).",
            "Why 1,000 labels stop near 98% on Adult (seed 0, the 1,000 record-valid answers "
            "above): refitted in hindsight, the best SVC over width 0.1–2× the pool's 'scale' "
            "and C 1–1e4 is the CV pick (98.32%); kernel ridge regression on the ±1 labels "
            "≤ 97.76, kernel logistic regression on query + pool centres ≤ 97.92, the mean of "
            "SVCs over widths 0.1–1 98.32, self-training (pool points the copy labels with "
            "|f| > 0.5 or 1 added, weight 0.1 or 1) ≤ 98.32. 15 of the 21 test errors lie at "
            "|f| < 0.1 (8 of 25 test points at |f| < 0.05, 7 of 19 at 0.05–0.1), and the "
            "test errors are nearer a query than test points are (median distance 1.68 "
            "against 2.07): the queries are where they should be; their labels leave the "
            "zero level of f undetermined to about 0.1 inside the data.",
        ],
    )
