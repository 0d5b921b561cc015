"""Measured query counts of the registered attacks beside the theory module's bounds."""

from __future__ import annotations

from ..attacks import available
from ..theory import ATTACK_BOUNDS, compare_attack, compare_bounds, plot_bounds
from ._registry import Table, experiment


def _compare(job):
    name, seed = job
    return compare_attack(name, random_state=seed)


def _holds(row):
    return {True: "yes", False: "NO", None: "–"}[row["holds"]]


@experiment("theory_bounds", title="Measured queries beside the query-complexity bounds",
            order=95)
def theory_bounds(ctx):
    rows = []
    names = [n for n in available() if n in ATTACK_BOUNDS]
    seeds = [ctx.random_state] if ctx.quick else [ctx.random_state + k for k in range(5)]
    jobs = [(name, seed) for name in names for seed in seeds]
    comparisons = ctx.map(_compare, jobs, desc="attacks vs bounds")
    for (name, seed), c in zip(jobs, comparisons):
        for r in c.rows:
            b = r["bound"]
            rows.append([
                name, seed, c.query_model, c.n_queries, c.disagreement, c.eps, b.name,
                f"{b.kind} [{b.query_model}]" + (" O(·)" if b.order_only else ""),
                b.value, r["role"] if r["applicable"] else "n/a", _holds(r),
            ])
    missing = sorted(set(available()) - set(ATTACK_BOUNDS))
    measured = Table(
        title="Attacks' measured queries against the bounds of their query model",
        columns=["attack", "seed", "model", "queries", "disagreement", "ε", "bound", "kind",
                 "bound value", "role", "holds"],
        rows=rows,
        paper="Tramèr et al. 2016; Chandrasekaran et al. 2020 (bounds: see mlextract.theory)",
        notes=[
            "queries counted by the oracle; disagreement on 20,000 points of the entry's "
            "distribution (uniform on the box, or on the inscribed ball where the halfspace "
            "packing bound needs a rotation-invariant distribution).",
            "at_least: reaching ε needs at least the bound; suffices: spending the bound "
            "must reach ε; n/a: a bound of another query model, shown for the gap.",
        ] + ([f"registered attacks without an ATTACK_BOUNDS entry: {', '.join(missing)}."]
             if missing else []),
        name="theory_measured",
    )
    table = compare_bounds("logistic", 105, 1e-3, 0.01, classes=5)
    bounds = Table(
        title="Bounds for softmax regression on Adult/race (d=105, c=5, ε=1e-3, δ=0.01)",
        columns=["model", "bound", "kind", "queries", "constants", "formula", "reference"],
        rows=table.rows(),
        paper="Tramèr et al. 2016 spent 265 and 530 queries (0.5× and 1× c(d+1)) for "
              "softmax on Adult/race",
        notes=table.notes + [
            "with the 8 one-hot groups of Adult, equation solving needs d+1−G = 98."],
        name="theory_bounds_adult",
    )
    fig = plot_bounds("logistic", 20, 1e-2, 0.01, d_range=(2, 200))
    ctx.save_figure(fig, "theory_bounds")
    return [measured, bounds]
