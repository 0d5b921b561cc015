"""Active extraction against passive extraction: learning curves and label savings.

Chandrasekaran et al. (2020) cast model extraction as active learning with the
victim as labeller. Four victims, each trained on one half of its data; the
attacker's pool is the other half plus as many uniform points of the domain; the
copy is the victim's family with default settings. For each query strategy we
record agreement (on the held-out half and on uniform points) against the queries
spent, and the queries needed to reach 95% and 99% on both. The target: the
strategy named in advance for each victim (:data:`NAMED`) needs at most half the
queries of random sampling (ratio random / named ≥ 2) to reach 99%.

Each victim's table also gives the pool's ceiling (:func:`pool_ceiling`): the
agreement of the copy fitted on every candidate, labelled, beside the best agreement
any run reached. A subset can beat the whole pool by a little (the copy's fit is not
monotone in its data), but where both stay several points below 99% the target is out
of reach for this pool and copy family, and the saving on the held-out half is the
measurable part; the first table sums this up per victim.

``active_learning_synthesis`` lifts the pool limit for the three victims it binds (SVM,
tree, MLP): the named pool strategy also scores uniform domain points drawn afresh each
round (:data:`SYNTHESIS`), against random sampling from the pool and from the same
source, with a table of what limits uniform agreement (:func:`uniform_limits`).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from ..attacks import ActiveExtraction
from ..oracles import Domain, LocalOracle
from ._registry import Table, experiment

#: The strategy named for each victim before any measurement (the target's claim).
NAMED = {
    "svm_digits": "uncertainty",
    "lr_adult": "uncertainty",
    "tree_german": "vote_entropy",
    "mlp_digits": "margin",
}

#: Every strategy compared; "random" is the passive baseline.
ALL_STRATEGIES = (
    "random", "uncertainty", "margin", "entropy", "vote_entropy", "consensus_entropy",
    "kl_max_disagreement", "ranked_batch", "density_uncertainty", "expected_error",
)

THRESHOLDS = (0.95, 0.99)

#: Strategies that refit several copies per round (a committee of 5, or expected error
#: reduction's look-ahead fits): in the full grid they refit when the labelled set has
#: grown by 25% instead of 10% (fewer, larger batches; their queries-to-X are read at
#: those refits), and expected error reduction refits for the 5 candidates the copy is
#: least sure of per round. Measured on one seed, this brings the MLP's expected error
#: run from hours (a refit per candidate and label) to about a minute.
SLOW = {
    "vote_entropy": {"batch_size": 0.25},
    "consensus_entropy": {"batch_size": 0.25},
    "kl_max_disagreement": {"batch_size": 0.25},
    "expected_error": {"batch_size": 0.25, "n_scored": 5},
}

#: Where agreement is measured: the held-out half, uniform points, both at once.
CRITERIA = ("test", "unif", "both")


@dataclass
class Victim:
    """One victim: the model, its copy family, the attacker's natural pool, the domain."""

    name: str
    title: str
    victim: object
    copy: object
    pool: np.ndarray
    domain: Domain


def _digits_domain():
    return Domain(np.zeros(64), np.full(64, 16.0), integer=np.arange(64))


def _halves(n, seed):
    perm = np.random.default_rng(seed).permutation(n)
    return perm[: n // 2], perm[n // 2 :]


def make_victim(name: str, ctx=None, *, seed: int = 0) -> Victim:
    """Build one of the four victims of the issue (trained on half of its data)."""
    if name in ("svm_digits", "mlp_digits"):
        X, y = load_digits(return_X_y=True)
        dom = _digits_domain()
        if name == "svm_digits":
            y = (y >= 5).astype(int)
            model, copy, title = SVC(), SVC(), "RBF SVM, digits (digit >= 5)"
        else:
            model = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1000, random_state=seed)
            copy, title = MLPClassifier(hidden_layer_sizes=(32,)), "MLP (32), digits (10 classes)"
    elif name == "lr_adult":
        data = _load(ctx, "adult_income")
        X, y, dom = data.X, data.y, data.domain
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        copy = make_pipeline(StandardScaler(), LogisticRegression())
        title = "Logistic regression, Adult income"
    elif name == "tree_german":
        data = _load(ctx, "german_credit")
        X, y, dom = data.X, data.y, data.domain
        model = DecisionTreeClassifier(max_leaf_nodes=26, random_state=seed)
        copy, title = DecisionTreeClassifier(), "Decision tree (26 leaves), German Credit"
    else:
        raise ValueError(f"unknown victim {name!r}; one of {sorted(NAMED)}.")
    train, held = _halves(X.shape[0], seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[train], y[train])
    return Victim(name, title, model, copy, X[held], dom)


def _load(ctx, name):
    if ctx is not None and hasattr(ctx, "dataset"):
        return ctx.dataset(name)
    from .. import datasets

    return datasets.load(name)


def fast_predict(model, X):
    """``model.predict(X)``; for RBF ``SVC`` copies computed with numpy (same labels).

    libsvm predicts one row at a time; on the 100,000 uniform points of each
    evaluation the kernel expansion ``Σ_i α_i y_i exp(−γ‖x − s_i‖²) + b`` as one
    matrix product is many times faster. Tested equal to ``predict``.
    """
    if isinstance(model, SVC) and model.kernel == "rbf" and len(model.classes_) == 2:
        sv = model.support_vectors_
        out = np.empty(X.shape[0], dtype=model.classes_.dtype)
        sv_sq = np.einsum("ij,ij->i", sv, sv)
        for lo in range(0, X.shape[0], 20_000):
            Xb = X[lo : lo + 20_000]
            d2 = np.einsum("ij,ij->i", Xb, Xb)[:, None] - 2.0 * Xb @ sv.T + sv_sq[None, :]
            f = np.exp(-model._gamma * np.maximum(d2, 0.0)) @ model.dual_coef_[0]
            out[lo : lo + 20_000] = model.classes_[(f + model.intercept_[0] > 0).astype(int)]
        return out
    return model.predict(X)


def learning_curve(
    v: Victim, strategy: str, seed: int, *, budget: int, uniform, batch_size=0.1,
    n_candidates=5000, confirm=None, stop_at=None, **settings,
):
    """Run one active extraction; agreement after every refit.

    ``uniform`` is a pair (points, victim labels) for the curve; ``confirm`` a
    larger pair checked whenever the curve first crosses a threshold (the 99%
    target is measured on 100,000 uniform points in full mode).

    Returns
    -------
    dict with ``curve`` (list of (queries, test, uniform)), ``reached``
    ({threshold: queries or None}), ``n_queries`` and ``seconds``.
    """
    U, yU = uniform
    y_test = v.victim.predict(v.pool)
    curve = []
    reached = {(c, t): None for c in CRITERIA for t in THRESHOLDS}

    def on_refit(n, model):
        test = float(np.mean(fast_predict(model, v.pool) == y_test))
        unif = float(np.mean(fast_predict(model, U) == yU))
        curve.append((n, test, unif))
        confirmed = {}
        for t in THRESHOLDS:
            if reached[("test", t)] is None and test >= t:
                reached[("test", t)] = n
            if unif >= t and (reached[("unif", t)] is None or reached[("both", t)] is None):
                ok = True
                if confirm is not None:
                    if "agr" not in confirmed:
                        Uc, yc = confirm
                        confirmed["agr"] = float(np.mean(fast_predict(model, Uc) == yc))
                    ok = confirmed["agr"] >= t
                if ok and reached[("unif", t)] is None:
                    reached[("unif", t)] = n
                if ok and test >= t and reached[("both", t)] is None:
                    reached[("both", t)] = n
        return stop_at is not None and reached[("both", stop_at)] is not None

    oracle = LocalOracle(v.victim, output="label", domain=v.domain)
    attack = ActiveExtraction(
        strategy=strategy, model=clone(v.copy), pool=v.pool, n_uniform=v.pool.shape[0],
        n_queries=budget, n_initial=10, batch_size=batch_size, n_candidates=n_candidates,
        callback=on_refit, random_state=seed, **settings,
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = attack.extract(oracle)
    return {
        "curve": curve, "reached": reached, "n_queries": res.n_queries,
        "seconds": time.perf_counter() - t0, "status": res.status,
    }


def _uniform_pair(v: Victim, n, seed):
    U = v.domain.sample(n, random_state=seed)
    return U, v.victim.predict(U)


def pool_ceiling(v: Victim, seed, evaluation):
    """Agreement (held-out, uniform) of the copy fitted on every candidate, labelled.

    The candidates are what each run draws from: the held-out half plus as many
    uniform points of the domain (drawn with ``seed``). Labelling all of them is
    what the pool allows at most; a well-chosen subset can do slightly better
    (a regularised copy trades the two distributions off), so read it with the
    best agreement along the curves.
    ``evaluation`` is the pair (uniform points, victim labels) to measure on.
    """
    U, yU = evaluation
    X = np.vstack([v.pool, v.domain.sample(v.pool.shape[0], random_state=seed)])
    copy = clone(v.copy)
    seeded = {k: seed for k, val in copy.get_params().items()
              if (k == "random_state" or k.endswith("__random_state")) and val is None}
    copy.set_params(**seeded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        copy.fit(X, v.victim.predict(X))
    test = float(np.mean(fast_predict(copy, v.pool) == v.victim.predict(v.pool)))
    return test, float(np.mean(fast_predict(copy, U) == yU))


def _fmt_n(n, budget):
    return f">{budget}" if n is None else str(n)


def ratio_cells(n_random, n_strategy, budget):
    """Label saving random/strategy per seed, as text: '2.5', '>1.8', '<0.9' or '–'."""
    out = []
    for r, s in zip(n_random, n_strategy):
        if r is not None and s is not None:
            out.append((r / s, ""))
        elif r is None and s is not None:
            out.append((budget / s, ">"))
        elif r is not None:
            out.append((r / budget, "<"))
        else:
            out.append((np.nan, "?"))
    return out


def summarise_ratios(cells):
    """Median and range of per-seed ratios, with '>' when a bound is involved."""
    vals = np.array([v for v, _ in cells], dtype=float)
    marks = {m for _, m in cells}
    if np.all(np.isnan(vals)):
        return "– (neither reached)", "–"
    finite = vals[~np.isnan(vals)]
    med = float(np.median(finite))
    mark = ">" if ">" in marks else ("<" if marks == {"<"} else "")
    return f"{mark}{med:.2f}", f"{finite.min():.2f}–{finite.max():.2f}"


def run_victim(ctx, name, strategies, seeds, *, budget, n_unif_curve, n_unif_confirm,
               batch_size=0.1, slow=True):
    v = make_victim(name, ctx, seed=0)
    unif = _uniform_pair(v, n_unif_curve, 1)
    confirm = _uniform_pair(v, n_unif_confirm, 2) if n_unif_confirm else None
    items = [(s, seed) for s in strategies for seed in seeds]

    def one(item):
        s, seed = item
        settings = {"batch_size": batch_size, **SLOW.get(s, {})} if slow else {
            "batch_size": batch_size}
        return learning_curve(v, s, seed, budget=budget, uniform=unif, confirm=confirm,
                              **settings)

    results = dict(zip(items, ctx.map(one, items, desc=name)))
    results["ceiling"] = [pool_ceiling(v, s, confirm or unif) for s in seeds]
    return v, results


def _reached(results, strat, seeds, crit, t):
    return [results[(strat, s)]["reached"][(crit, t)] for s in seeds]


def _table(v, results, strategies, seeds, budget, n_unif_confirm):
    rows = []
    rand_both = _reached(results, "random", seeds, "both", 0.99)
    rand_test = _reached(results, "random", seeds, "test", 0.99)
    for strat in strategies:
        both = _reached(results, strat, seeds, "both", 0.99)
        test = _reached(results, strat, seeds, "test", 0.99)
        final = [results[(strat, s)]["curve"][-1] for s in seeds]
        if strat == "random":
            sav_both = sav_test = ("1", "–")
        else:
            sav_both = summarise_ratios(ratio_cells(rand_both, both, budget))
            sav_test = summarise_ratios(ratio_cells(rand_test, test, budget))
        label = strat + (" (named)" if NAMED[v.name] == strat else "")
        rows.append([
            label,
            _median_n(_reached(results, strat, seeds, "both", 0.95), budget),
            _median_n(both, budget),
            f"{sav_both[0]} ({sav_both[1]})",
            _median_n(test, budget),
            f"{sav_test[0]} ({sav_test[1]})",
            _median_n(_reached(results, strat, seeds, "unif", 0.99), budget),
            100 * float(np.mean([f[1] for f in final])),
            100 * float(np.mean([f[2] for f in final])),
            float(np.mean([results[(strat, s)]["seconds"] for s in seeds])),
        ])
    named = NAMED[v.name]
    verdict = _verdict(ratio_cells(rand_both, _reached(results, named, seeds, "both", 0.99),
                                   budget))
    cap_t, cap_u = ceiling_percent(results)
    n_pool = 2 * v.pool.shape[0]
    rows.append([f"ceiling: all {n_pool} candidates labelled", "–", "–", "–", "–", "–", "–",
                 cap_t, cap_u, "–"])
    return Table(
        title=f"Active vs passive extraction: {v.title}",
        columns=["strategy", "to 95% both", "to 99% both", "saving 99% both (range)",
                 "to 99% test", "saving 99% test (range)", "to 99% unif",
                 "final 1-R_test %", "final 1-R_unif %", "time s"],
        rows=rows,
        paper="Chandrasekaran et al. 2020 (extraction = active learning; no per-victim table)",
        notes=[
            f"Named strategy: {named}; target: saving >= 2 at 99% on both the held-out half "
            f"and uniform points. {verdict}",
            ceiling_note(cap_t, cap_u, n_pool, best_along_curves(results, strategies, seeds)),
            f"Budget {budget} queries, pool {v.pool.shape[0]} held-out + {v.pool.shape[0]} "
            f"uniform points; {len(seeds)} seeds; queries counted by the oracle.",
            "'to X%' = queries at the first refit with agreement >= X% (median over seeds; "
            f"'>{budget}': not reached within the budget); 'both' = on the held-out half and "
            "on uniform points (" + (f"confirmed on {n_unif_confirm:,} uniform points"
                                     if n_unif_confirm else "the curve's uniform points")
            + "; the ceiling is measured on the same points).",
            "Committee strategies and expected error refit when the labelled set has grown by "
            "25% (the others by 10%), so their queries-to-X are read on a coarser grid; "
            "expected error refits for the 5 least sure candidates of each round (labels of "
            "probability > 1%) and completes the batch in uncertainty order.",
            "Saving = random's queries / the strategy's, per seed; median (min–max). '>' is a "
            "lower bound (random never reached 99%), '<' an upper bound (the strategy "
            "never did), '–' neither reached.",
        ],
        name=f"active_learning_{v.name}",
    )


def ceiling_percent(results):
    """Mean ceiling (held-out %, uniform %) over the seeds of ``run_victim``."""
    cap = np.array(results["ceiling"], dtype=float)
    return 100 * float(cap[:, 0].mean()), 100 * float(cap[:, 1].mean())


def best_along_curves(results, strategies, seeds):
    """Highest agreement (held-out %, uniform %) at any refit of any run."""
    pts = np.array([c for st in strategies for sd in seeds for c in results[(st, sd)]["curve"]])
    return 100 * float(pts[:, 1].max()), 100 * float(pts[:, 2].max())


def ceiling_note(cap_t, cap_u, n_pool, best=None):
    """The ceiling beside the 99% target, in words; ``best`` = :func:`best_along_curves`."""
    head = (f"Ceiling (the copy fitted on all {n_pool} candidates, labelled; mean over seeds): "
            f"{cap_t:.2f}% on the held-out half, {cap_u:.2f}% on uniform points, against the "
            "target's 99% on both")
    short = [f"{what} by {99 - c:.2f} points" for what, c in
             (("held-out", cap_t), ("uniform", cap_u)) if c < 99]
    text = head + (": reached." if not short else ": short of it (" + ", ".join(short) + ").")
    if best is not None:
        text += (f" Best at any refit of any run: {best[0]:.2f}% held-out, {best[1]:.2f}% "
                 "uniform (the curve's points)")
        if (best[1] < 99 or best[0] < 99) and short:
            text += (" — neither the whole pool nor any run reached 99% on both, so the "
                     "target is out of reach for this pool and copy family; the saving on "
                     "the held-out half alone is the measurable part.")
        elif best[1] < 99 or best[0] < 99:
            text += " — no run reached 99% on both within its budget."
        else:
            text += (" (a subset of the pool can beat the whole of it: the copy's fit is not "
                     "monotone in its data).")
    return text


def _summary(entries, seeds, budgets):
    """One row per victim: the named strategy's savings beside the ceiling and target."""
    rows = []
    for v, results in entries:
        named = NAMED[v.name]
        cap_t, cap_u = ceiling_percent(results)
        cells = {}
        for crit in ("both", "test"):
            rand = _reached(results, "random", seeds, crit, 0.99)
            mine = _reached(results, named, seeds, crit, 0.99)
            med, rng_ = summarise_ratios(ratio_cells(rand, mine, budgets[v.name]))
            cells[crit] = f"{med} ({rng_})"
        strats = sorted({k[0] for k in results if isinstance(k, tuple)})
        best_t, best_u = best_along_curves(results, strats, seeds)
        verdict = _verdict(ratio_cells(_reached(results, "random", seeds, "both", 0.99),
                                       _reached(results, named, seeds, "both", 0.99),
                                       budgets[v.name]))
        if min(cap_t, cap_u) < 99 and min(best_t, best_u) < 99:
            verdict = "Not met, out of reach: neither the whole pool nor any run reached 99%."
        rows.append([v.title, named, "99 / 99", f"{cap_t:.2f} / {cap_u:.2f}",
                     f"{best_t:.2f} / {best_u:.2f}", cells["both"], cells["test"], verdict])
    return Table(
        title="Active vs passive extraction: summary per victim",
        columns=["victim", "named strategy", "target % (test / unif)",
                 "ceiling % (test / unif)", "best at any refit % (test / unif)",
                 "saving 99% both (range)",
                 "saving 99% test (range)", "verdict (saving >= 2, both)"],
        rows=rows,
        paper="Chandrasekaran et al. 2020",
        notes=[
            "Ceiling: agreement of the copy fitted on the whole pool (held-out half plus as "
            "many uniform points), every candidate labelled by the victim (mean over seeds). "
            "'Best at any refit': the highest agreement any strategy reached on any seed, the "
            "empirical limit of this pool and copy family. Where it is below 99% the target "
            "cannot be met and the saving on the held-out half is the measurable part.",
            f"Savings: random's queries to 99% / the named strategy's, median (min–max) over "
            f"{len(seeds)} seeds; '>' a lower bound (random never reached 99%).",
        ],
        name="active_learning_summary",
    )


def _median_n(ns, budget):
    vals = [budget + 1 if n is None else n for n in ns]
    med = float(np.median(vals))
    return f">{budget}" if med > budget else f"{med:.0f}"


def _verdict(cells):
    vals = [v for v, m in cells if m in ("", ">")]
    if len(vals) < len(cells):
        return "Not met: the named strategy did not reach 99% on every seed."
    ok = sum(v >= 2 for v in vals)
    return f"Met on {ok} of {len(cells)} seeds." if ok else "Not met on any seed."


def _plot(ctx, v, results, strategies, seeds):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    low = [100.0, 100.0]
    for strat in strategies:
        for k, ax in enumerate(axes):
            grid = np.unique(np.concatenate(
                [[c[0] for c in results[(strat, s)]["curve"]] for s in seeds]))
            ys = []
            for s in seeds:
                c = np.array(results[(strat, s)]["curve"])
                ys.append(np.interp(grid, c[:, 0], c[:, 1 + k]))
            mean = 100 * np.mean(ys, axis=0)
            low[k] = min(low[k], float(mean[-1]))
            ax.plot(grid, mean, label=strat,
                    lw=2.2 if strat in (NAMED[v.name], "random") else 1.0)
    for k, (ax, what) in enumerate(zip(axes, ("held-out half", "uniform points"))):
        ax.set_xscale("log")
        ax.set_xlabel("queries")
        ax.set_ylabel(f"agreement on {what} (%)")
        ax.axhline(99, color="k", lw=0.5, ls="--")
        ax.set_ylim(max(0.0, min(80.0, low[k] - 10)), 100.5)
    axes[1].legend(fontsize=7, loc="lower right")
    fig.suptitle(v.title)
    return ctx.save_figure(fig, f"active_learning_{v.name}")


def _sizes(ctx):
    """(victims, strategies, seeds, budgets, uniform curve/confirm sizes) for the mode."""
    if getattr(ctx, "smoke", False):
        return (["svm_digits"], ["random"], [0], {"svm_digits": 100}, 500, 0, 0.5)
    if ctx.quick:
        return (["svm_digits", "tree_german"], ["random"], [0, 1],
                {"svm_digits": 400, "tree_german": 500}, 2000, 0, 0.2)
    return (list(NAMED), list(ALL_STRATEGIES), [0, 1, 2, 3, 4],
            {"svm_digits": 1798, "mlp_digits": 1798, "tree_german": 1000, "lr_adult": 8000},
            10_000, 100_000, 0.1)


@experiment("active_learning", title="Active extraction: label savings against passive "
            "(Chandrasekaran et al. 2020)", order=60)
def active_learning(ctx):
    victims, strategies, seeds, budgets, n_curve, n_confirm, batch = _sizes(ctx)
    tables, entries = [], []
    for name in victims:
        strats = list(dict.fromkeys(["random", NAMED[name], *strategies]))
        v, results = run_victim(ctx, name, strats, seeds, budget=budgets[name],
                                n_unif_curve=n_curve, n_unif_confirm=n_confirm,
                                batch_size=batch)
        tab = _table(v, results, strats, seeds, budgets[name], n_confirm)
        if not getattr(ctx, "smoke", False):
            path = _plot(ctx, v, results, strats, seeds)
            tab.notes.append(f"Learning curves: {path.name}.")
        if ctx.quick:
            tab.notes.append("Quick mode: fewer victims, strategies, seeds and uniform points; "
                             "the target is measured by the full run.")
        tables.append(tab)
        entries.append((v, results))
    return [_summary(entries, seeds, budgets), *tables]


# --------------------------------------------------------------- pool + synthesis
#: The pool+synthesis rule, stated before the measured run and the same for every
#: victim: the victim's named pool strategy (:data:`NAMED`) scores the unlabelled pool
#: rows together with ``n_fresh`` uniform points of the domain drawn afresh every round
#: (query synthesis: the attacker may ask any point of the domain); batches of 10%.
#: Chosen on seeds 10–12 (never on the measured seeds 0–4): bisection towards the
#: copy's boundary (``synthesis=0.5``) slowed the tree and did not lift the SVM.
SYNTHESIS = {"n_fresh": 2000}

#: Victims the pool-only strategies cannot bring to 99% (the pool ceiling is below).
SYNTHESIS_VICTIMS = ("svm_digits", "tree_german", "mlp_digits")


def _synthesis_sizes(ctx):
    if getattr(ctx, "smoke", False):
        return ["tree_german"], [0], {"tree_german": 300}, 1000, 0
    if ctx.quick:
        return ["tree_german"], [0], {"tree_german": 1500}, 2000, 0
    return (list(SYNTHESIS_VICTIMS), [0, 1, 2, 3, 4],
            {"svm_digits": 3200, "tree_german": 3000, "mlp_digits": 3200}, 10_000, 100_000)


def synthesis_runs(ctx, name, seeds, *, budget, n_unif_curve, n_unif_confirm):
    """The named strategy with fresh uniform candidates, random from the same source,
    and random from the pool alone (the pool-only baseline), for each seed."""
    v = make_victim(name, ctx, seed=0)
    unif = _uniform_pair(v, n_unif_curve, 1)
    confirm = _uniform_pair(v, n_unif_confirm, 2) if n_unif_confirm else None
    pool_size = 2 * v.pool.shape[0]
    runs = {
        "named+fresh": (NAMED[name], SYNTHESIS, budget),
        "random+fresh": ("random", SYNTHESIS, budget),
        "random (pool)": ("random", {}, pool_size),
    }
    items = [(k, seed) for k in runs for seed in seeds]

    def one(item):
        key, seed = item
        strategy, settings, n = runs[key]
        return learning_curve(v, strategy, seed, budget=n, uniform=unif, confirm=confirm,
                              stop_at=0.99, **settings)

    results = dict(zip(items, ctx.map(one, items, desc=f"{name} synthesis")))
    results["ceiling"] = [pool_ceiling(v, s, confirm or unif) for s in seeds]
    return v, results, pool_size


def _synthesis_table(v, results, seeds, budget, pool_size, n_confirm):
    named = NAMED[v.name]
    mine = _reached(results, "named+fresh", seeds, "both", 0.99)
    rows = []
    for key in ("named+fresh", "random+fresh", "random (pool)"):
        n_max = pool_size if key == "random (pool)" else budget
        both = _reached(results, key, seeds, "both", 0.99)
        best = np.array([[c[1], c[2]] for s in seeds for c in results[(key, s)]["curve"]])
        if key == "named+fresh":
            vs_pool = summarise_ratios(ratio_cells(
                _reached(results, "random (pool)", seeds, "both", 0.99), mine, pool_size))
            vs_fresh = summarise_ratios(ratio_cells(
                _reached(results, "random+fresh", seeds, "both", 0.99), mine, budget))
            cells = [f"{vs_pool[0]} ({vs_pool[1]})", f"{vs_fresh[0]} ({vs_fresh[1]})"]
        else:
            cells = ["–", "–"]
        label = {"named+fresh": f"{named} + {SYNTHESIS['n_fresh']} fresh uniform / round",
                 "random+fresh": "random, pool + fresh uniform",
                 "random (pool)": "random, pool only"}[key]
        rows.append([
            label, n_max,
            _median_n(_reached(results, key, seeds, "test", 0.99), n_max),
            _median_n(_reached(results, key, seeds, "unif", 0.99), n_max),
            _median_n(both, n_max), sum(n is not None for n in both), *cells,
            100 * float(best[:, 0].max()), 100 * float(best[:, 1].max()),
            float(np.mean([results[(key, s)]["seconds"] for s in seeds])),
        ])
    cap_t, cap_u = ceiling_percent(results)
    rows.append([f"ceiling: all {pool_size} pool candidates labelled", "–", "–", "–", "–",
                 "–", "–", "–", cap_t, cap_u, "–"])
    return Table(
        title=f"Pool + synthesis vs passive extraction: {v.title}",
        columns=["strategy", "budget", "to 99% test", "to 99% unif", "to 99% both",
                 "seeds reaching 99% both", "saving vs random (pool)",
                 "saving vs random (pool + fresh)", "best 1-R_test %", "best 1-R_unif %",
                 "time s"],
        rows=rows,
        paper="Chandrasekaran et al. 2020 (query synthesis on top of a pool strategy)",
        notes=[
            f"Rule named before the run (the same for every victim): the victim's pool "
            f"strategy ({named}) scores the free pool rows plus {SYNTHESIS['n_fresh']:,} "
            "uniform domain points drawn afresh each round; batches of 10%. Chosen on "
            "seeds 10-12; measured on seeds " + ", ".join(map(str, seeds)) + ".",
            "Each run stops at the first refit with 99% on both. 'to 99%': median over "
            "seeds of the queries at that refit ('>N' not reached within N). Uniform "
            "agreement " + (f"confirmed on {n_confirm:,} points" if n_confirm else
                            "on the curve's points") + ".",
            f"Savings per seed, median (min–max): random's queries / the named rule's. "
            f"Random from the pool alone can ask at most the {pool_size} pool rows; where "
            "it never reaches 99% its need is unbounded and the printed '>' uses the pool "
            "size (a conservative bound). Random from pool + fresh uniform points is the "
            "passive baseline with the same source.",
        ],
        name=f"active_learning_synthesis_{v.name}",
    )


@experiment("active_learning_synthesis", title="Active extraction with query synthesis: "
            "pool strategy plus fresh uniform candidates (Chandrasekaran et al. 2020)",
            order=61)
def active_learning_synthesis(ctx):
    victims, seeds, budgets, n_curve, n_confirm = _synthesis_sizes(ctx)
    tables = []
    for name in victims:
        v, results, pool_size = synthesis_runs(ctx, name, seeds, budget=budgets[name],
                                               n_unif_curve=n_curve,
                                               n_unif_confirm=n_confirm)
        tab = _synthesis_table(v, results, seeds, budgets[name], pool_size, n_confirm)
        if ctx.quick:
            tab.notes.append("Quick mode: the tree only, one seed, 2,000 uniform points; the "
                             "full run measures all three victims on 5 seeds.")
        tables.append(tab)
    if not ctx.quick:
        tables.append(_limits_table([make_victim(n, ctx, seed=0) for n in victims]))
    return tables


def uniform_limits(v: Victim, *, n_uniform=20_000, n_labelled=20_000, n_active=12_000,
                   seed=0):
    """What limits a copy on uniform points of the domain: one row of measurements.

    The victim's class shares on uniform points, how far uniform points lie from the
    attacker's data (median distance to the nearest pool row, beside the pool's own
    nearest-neighbour spacing), the share of uniform points near the victim's
    boundary (top-two probability gap < 0.5, or ``|f| < 0.1`` for an SVM), the
    agreement of a default copy fitted on the pool plus ``n_labelled`` passive uniform
    labels (far more than any budget here), and the best uniform agreement the
    pool + synthesis rule (:data:`SYNTHESIS` with the victim's named strategy) reaches
    at any refit within ``n_active`` queries, with the queries it had then.
    """
    from sklearn.metrics import pairwise_distances

    U = v.domain.sample(n_uniform, random_state=seed + 100)
    yU = v.victim.predict(U)
    classes, counts = np.unique(yU, return_counts=True)
    order = np.argsort(-counts)
    shares = ", ".join(f"{classes[i]}: {100 * counts[i] / yU.size:.1f}%" for i in order[:4])
    d_u = pairwise_distances(U[:1000], v.pool).min(axis=1)
    d_p = np.sort(pairwise_distances(v.pool), axis=1)[:, 1]
    if hasattr(v.victim, "predict_proba") and not isinstance(v.victim, SVC):
        top = np.sort(v.victim.predict_proba(U), axis=1)
        near = float(np.mean(top[:, -1] - top[:, -2] < 0.5))
    else:
        near = float(np.mean(np.abs(v.victim.decision_function(U)) < 0.1))
    X = np.vstack([v.pool, v.domain.sample(n_labelled, random_state=seed + 200)])
    copy = clone(v.copy)
    if "random_state" in copy.get_params():
        copy.set_params(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        copy.fit(X, v.victim.predict(X))
    fit = float(np.mean(copy.predict(X) == v.victim.predict(X)))
    agree = float(np.mean(fast_predict(copy, U) == yU))
    test = float(np.mean(fast_predict(copy, v.pool) == v.victim.predict(v.pool)))
    curve = learning_curve(v, NAMED.get(v.name, "uncertainty"), seed, budget=n_active,
                           uniform=(U, yU), **SYNTHESIS)["curve"]
    n_best, _, best = max(curve, key=lambda c: (c[2], -c[0]))
    return [v.title, shares, float(np.median(d_u)), float(np.median(d_p)), 100 * near,
            100 * fit, 100 * test, 100 * agree, f"{100 * best:.2f} ({n_best:,})"]


def _limits_table(victims):
    return Table(
        title="What limits uniform agreement (victims the pool strategies cannot finish)",
        columns=["victim", "victim's classes on uniform points", "uniform -> pool NN dist",
                 "pool NN spacing", "uniform near boundary %",
                 "copy fit on its labels %", "copy 1-R_test %",
                 "copy 1-R_unif % (pool + 20,000 uniform labels)",
                 "named rule + fresh uniform: best 1-R_unif % (queries), budget 12,000"],
        rows=[uniform_limits(v) for v in victims],
        paper="–",
        notes=[
            "'near boundary': top-two probability gap < 0.5 (MLP, tree) or |f| < 0.1 "
            "(SVM, decision function). The copy is the victim's family with default "
            "settings fitted on the held-out half plus 20,000 passively labelled uniform "
            "points (seed 0); its agreement is what label quantity alone buys.",
            "Last column: the pool + synthesis rule of the tables above (the named "
            "strategy scoring the free pool rows and 2,000 fresh uniform points each "
            "round, batches of 10%) run on to 12,000 queries, seed 0: the best uniform "
            "agreement at any refit, on the same 20,000 uniform points, and the queries "
            "at that refit. Where it stays below 99%, neither actively chosen labels (up to "
            "about 4× the budgets above) nor 20,000 passive ones bring this copy family "
            "to the issue's 99% on uniform points.",
        ],
        name="active_learning_uniform_limits",
    )
