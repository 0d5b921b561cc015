"""Side-by-side tables of passive, active and query-synthesis bounds, and their plots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._active import (
    a2_queries,
    agnostic_active_lower_bound,
    cal_queries,
    centroid_cut_queries,
    dhm_queries,
    halfspace_disagreement_coefficient,
    margin_based_queries,
    noisy_query_synthesis_lower_bound,
    noisy_repetition_queries,
    query_synthesis_lower_bound,
)
from ._exact import (
    binary_lr_queries,
    lowd_meek_queries,
    mlp_queries,
    mlp_unknowns,
    ovr_queries,
    path_finding_lower_bound,
    path_finding_queries,
    softmax_queries,
)
from ._passive import (
    agnostic_lower_bound,
    agnostic_upper_bound,
    pac_growth_bound,
    pac_lower_bound,
    pac_upper_bound,
)
from ._record import QUERY_MODELS, Bound, check_delta, check_eps, check_int, check_positive
from ._vc import sauer_shelah_log2, vc_tree_bounds

__all__ = ["FAMILIES", "BoundTable", "compare_bounds", "plot_bounds"]

#: Model families :func:`compare_bounds` knows.
FAMILIES = ("logistic", "softmax", "ovr", "linear", "mlp", "tree")

_MODEL_ORDER = ("confidence", "leaf_identity", "synthesis", "pool", "passive")


@dataclass(frozen=True)
class BoundTable:
    """The bounds for one setting, grouped by query model.

    Attributes
    ----------
    setting : dict
        family, d, classes, eps, delta and the other arguments.
    bounds : list of Bound
    notes : list of str
        Rows left out and why.
    """

    setting: dict
    bounds: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def rows(self) -> list[list]:
        """[query model, bound, kind, queries, O(·)?, formula, reference] per bound."""
        out = []
        for b in self.bounds:
            value = b.value if math.isinf(b.value) else (
                int(b.value) if float(b.value).is_integer() and b.value < 1e15 else b.value)
            out.append([b.query_model, b.name, b.kind, value,
                        f"O(·), c={b.constant:g}" if b.order_only else "exact constants",
                        b.formula, _short(b.reference)])
        return out

    def by_name(self, name) -> Bound:
        for b in self.bounds:
            if b.name == name:
                return b
        raise KeyError(f"no bound named {name!r}; have {[b.name for b in self.bounds]}.")

    def to_text(self) -> str:
        s = self.setting
        head = ", ".join(f"{k}={v}" for k, v in s.items() if v is not None)
        cols = ["query model", "bound", "kind", "queries", "constants", "formula"]
        cells = [cols] + [[str(_fmt(c)) for c in r[:6]] for r in self.rows()]
        widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
        lines = [f"Query-complexity bounds ({head})", ""]
        for k, r in enumerate(cells):
            lines.append("  ".join(c.rjust(w) if i == 3 else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(r, widths))).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append("")
        lines.extend(f"* {n}" for n in self.notes)
        lines.append("* query models: " + "; ".join(
            f"{m} = {QUERY_MODELS[m]}" for m in _MODEL_ORDER
            if any(b.query_model == m for b in self.bounds)))
        return "\n".join(lines) + "\n"


def _short(ref, n=60):
    return ref if len(ref) <= n else ref[: n - 1].rstrip() + "…"


def _fmt(v):
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        return f"{v:.3g}" if v >= 1e6 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}" if v < 10**7 else f"{v:.3g}"
    return v


def compare_bounds(family, d, eps, delta=0.01, *, classes=2, hidden=20, leaves=None,
                   nu=0.0, eta=0.0, tau_ratio=1e-3) -> BoundTable:
    """Passive, pool, query-synthesis and confidence bounds for one setting, side by side.

    Parameters
    ----------
    family : {"logistic", "softmax", "ovr", "linear", "mlp", "tree"}
        "logistic" is binary for ``classes=2`` and softmax otherwise; "linear" a
        binary linear classifier answering a label or a decision value.
    d : int
        Input dimension.
    eps, delta : float in (0, 1)
        Target disagreement (under a rotation-invariant distribution for the
        halfspace packing bound) and failure probability.
    classes : int, default=2
    hidden : int, default=20
        Hidden units (``family="mlp"``).
    leaves : int, default=None
        Leaves (``family="tree"``; default 2·d).
    nu : float, default=0.0
        Best error in the class; > 0 adds the agnostic bounds.
    eta : float, default=0.0
        Probability that a label answer is flipped (a noisy defense); > 0 adds the
        noisy query-synthesis bounds (Fano lower bound, repeat-and-vote upper bound).
    tau_ratio : float, default=1e-3
        τ/L of the Lowd–Meek line search.

    Returns
    -------
    BoundTable

    Notes
    -----
    Bounds of different query models are not comparable as bounds: d + 1 confidence
    queries sit far below the label-query lower bound, because a confidence answer
    carries a real number, not a bit. Label rows for c > 2 classes use the binary
    subclass for the lower bounds (the class contains it) and the growth function
    Φ_{d+1}(n)^{c(c−1)/2} for the passive upper bound.

    Examples
    --------
    >>> t = compare_bounds("logistic", 105, 1e-3, classes=5)
    >>> t.by_name("equation solving, softmax").value
    106.0
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}; got {family!r}.")
    d = check_int(d, "d")
    eps, delta = check_eps(eps), check_delta(delta)
    c = check_int(classes, "classes", low=2)
    nu = check_positive(nu, "nu", allow_zero=True)
    eta = check_positive(eta, "eta", allow_zero=True)
    if eta >= 0.5:
        raise ValueError(f"eta must be below 1/2; got {eta!r}.")
    if family in ("linear",) and c != 2:
        raise ValueError(f"family 'linear' is binary; got classes={c}.")
    if family == "logistic":
        family_ = "binary" if c == 2 else "softmax"
    else:
        family_ = family
    setting = {"family": family, "d": d, "classes": c, "eps": eps, "delta": delta}
    bounds, notes = [], []
    pac_lower_ok = eps <= 1 / 8 and delta <= 1 / 100

    if family_ == "tree":
        m = check_int(leaves if leaves is not None else 2 * d, "leaves", low=2)
        setting["leaves"] = m
        bounds.append(path_finding_lower_bound(leaves=m, d_cont=d, eps=eps))
        bounds.append(path_finding_queries(leaves=m, d_cont=d, eps=eps, method="top_down"))
        bounds.append(path_finding_queries(leaves=m, d_cont=d, eps=eps, method="bottom_up"))
        vc_lo, vc_hi = vc_tree_bounds(m, d)
        if pac_lower_ok:
            bounds.append(pac_lower_bound(vc_lo, eps, delta))
        bounds.append(pac_upper_bound(vc_hi, eps, delta))
        notes.append(f"label rows use the tree class's VC dimension, between {vc_lo} and "
                     f"{vc_hi} (no closed form).")
        return BoundTable(setting, bounds, notes)

    # Answers with confidences: equation solving.
    if family_ in ("binary", "linear"):
        bounds.append(binary_lr_queries(d))
    elif family_ == "softmax":
        bounds += [softmax_queries(d, c), softmax_queries(d, c, target="unknowns")]
    elif family_ == "ovr":
        bounds.append(ovr_queries(d, c))
    elif family_ == "mlp":
        setting["hidden"] = hidden
        bounds.append(mlp_queries(d, hidden, c))
        notes.append(f"MLP: {mlp_unknowns(d, hidden, c)} unknowns h(d+1)+c(h+1) "
                     "(Tramèr et al.); no label-query upper bound is given for networks.")

    # Label answers. Every family here contains the halfspaces in R^d.
    vc = d + 1
    for model in ("synthesis", "pool"):
        bounds.append(query_synthesis_lower_bound(d, eps, query_model=model))
    if eta > 0:
        bounds.append(noisy_query_synthesis_lower_bound(d, eps, eta, delta))
    if c == 2 and family_ != "mlp":
        cuts = centroid_cut_queries(d + 1, eps)
        bounds.append(cuts)
        if eta > 0:
            bounds.append(noisy_repetition_queries(int(cuts.value), eta, delta))
        bounds.append(lowd_meek_queries(d, length=1.0, tau=tau_ratio))
        theta = halfspace_disagreement_coefficient(d + 1)
        bounds.append(cal_queries(vc, eps, delta, theta))
        bounds.append(margin_based_queries(d, eps, delta))
        if nu > 0:
            bounds.append(a2_queries(vc, eps, delta, theta, nu=nu))
            bounds.append(dhm_queries(vc, eps, delta, theta, nu=nu))
        notes.append(f"CAL uses θ = π√(d+1) = {theta:.1f} (Hanneke's bound for halfspaces "
                     "under the uniform distribution on the sphere).")
        notes.append(f"Lowd–Meek with τ = {tau_ratio:g}·L; its precision is in weight space, "
                     "not ε.")
    elif c > 2:
        notes.append("active upper bounds (cuts, Lowd–Meek, CAL, margin) are stated for "
                     "binary classes and are left out for c > 2.")
    if nu > 0:
        bounds.append(agnostic_active_lower_bound(vc, eps, min(nu, 0.499)))
    if family_ != "mlp":
        if c == 2:
            bounds.append(pac_upper_bound(vc, eps, delta))
        else:
            k = c * (c - 1) // 2
            bounds.append(pac_growth_bound(lambda n: k * sauer_shelah_log2(n, vc), eps, delta))
            notes.append(f"passive upper for c = {c}: growth function Φ_(d+1)(n)^{k} "
                         "(argmax of affine scores = signs of c(c−1)/2 halfspaces).")
    if pac_lower_ok:
        bounds.append(pac_lower_bound(vc, eps, delta))
    else:
        notes.append("Ehrenfeucht et al.'s lower bound needs eps ≤ 1/8 and delta ≤ 1/100.")
    if nu > 0 and family_ != "mlp":
        bounds.append(agnostic_upper_bound(vc, eps, delta))
        if eps < 1 / 64 and delta < 1 / 64:
            bounds.append(agnostic_lower_bound(vc, eps, delta))
    order = {m: i for i, m in enumerate(_MODEL_ORDER)}
    bounds.sort(key=lambda b: order[b.query_model])
    return BoundTable(setting, bounds, notes)


def plot_bounds(family, d, eps, delta=0.01, *, classes=2, eps_range=(1e-4, 0.1),
                d_range=None, n=15, **kwargs):
    """Plot :func:`compare_bounds` against ε (at this d) and against d (at this ε).

    Returns a matplotlib ``Figure`` built without pyplot (safe under the Agg backend
    and in worker processes).

    Examples
    --------
    >>> fig = plot_bounds("linear", 10, 1e-2, n=5)
    >>> len(fig.axes)
    2
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    d = check_int(d, "d")
    eps = check_eps(eps)
    lo, hi = (check_eps(e, "eps_range") for e in eps_range)
    if not lo < hi:
        raise ValueError(f"eps_range must be increasing; got {eps_range!r}.")
    if d_range is None:
        d_range = (1, max(2 * d, 10))
    d_lo, d_hi = (check_int(x, "d_range") for x in d_range)
    if not d_lo < d_hi:
        raise ValueError(f"d_range must be increasing; got {d_range!r}.")
    eps_grid = np.geomspace(lo, hi, n)
    d_grid = np.unique(np.geomspace(d_lo, d_hi, n).round().astype(int))
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    for ax, grid, label, make in (
        (axes[0], eps_grid, "ε", lambda x: compare_bounds(family, d, x, delta, classes=classes,
                                                          **kwargs)),
        (axes[1], d_grid, "d", lambda x: compare_bounds(family, int(x), eps, delta,
                                                        classes=classes, **kwargs)),
    ):
        series: dict[str, list] = {}
        styles: dict[str, str] = {}
        for i, x in enumerate(grid):
            for b in make(x).bounds:
                key = f"{b.name} [{b.query_model}]"
                series.setdefault(key, [np.nan] * len(grid))[i] = b.value
                styles[key] = "--" if b.kind == "lower" else (":" if b.order_only else "-")
        colors = colormaps["tab20"].colors
        for k, (key, ys) in enumerate(series.items()):
            ax.plot(grid, ys, styles[key], color=colors[k % len(colors)], label=key)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("queries")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_title(f"{family}, d={d}: bounds against ε")
    axes[1].set_title(f"{family}, ε={eps:g}: bounds against d")
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5),
                   title="dashed: lower; dotted: O(·)", title_fontsize=7)
    fig.tight_layout()
    return fig
