# %% [markdown]
# # 6. The theory of query complexity
#
# How many queries does extraction *need*? The answer depends on what the attacker
# may ask and what it is told — the **query model** — and the theory gives exact
# counts, upper bounds (that many queries suffice) and lower bounds (fewer cannot
# suffice). `mlextract.theory` computes each bound as a `Bound` record (value, kind,
# query model, formula, reference), and holds every attack's measured query count to
# the bounds of its query model. This notebook puts the formulas beside our counts.
#
# | query model | answers | regime |
# |---|---|---|
# | confidence | probabilities on chosen inputs | each answer is an *equation*: exact counts |
# | leaf identity | the leaf reached, incomplete inputs | path finding, counted per leaf |
# | synthesis | labels on chosen inputs | Θ(d log 1/ε) for halfspaces |
# | pool | labels on a pool of natural data | O(θ d log 1/ε) (CAL) |
# | passive | labels on random inputs | Θ(d/ε) |

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from mlextract.attacks import ActiveExtraction, EquationSolving, LowdMeek, QuerySynthesis
from mlextract.oracles import Domain, LocalOracle
from mlextract.theory import (
    ATTACK_BOUNDS,
    QUERY_MODELS,
    binary_lr_queries,
    cal_queries,
    centroid_cut_queries,
    compare_attack,
    compare_bounds,
    halfspace_disagreement_coefficient,
    lowd_meek_queries,
    margin_based_queries,
    mlp_unknowns,
    pac_lower_bound,
    pac_upper_bound,
    query_synthesis_lower_bound,
    softmax_queries,
)

QUICK = os.environ.get("MLEXTRACT_QUICK") == "1"
T0 = time.perf_counter()
for model, what in QUERY_MODELS.items():
    print(f"{model:14s} {what}")

# %% [markdown]
# ## Exact counts: confidences are equations
#
# A binary logistic regression answers $p_1(x) = \sigma(w\cdot x + b)$, so every
# answer gives one linear equation $w\cdot x + b = \operatorname{logit} p_1(x)$ in the
# d + 1 unknowns: **d + 1 queries** in general position determine the model exactly
# (Tramèr et al. 2016). For softmax regression with c classes the paper counted the
# c(d + 1) unknowns, but $\log(p_k/p_0) = (w_k - w_0)\cdot x + (b_k - b_0)$ is
# affine too, so the same d + 1 queries give every difference — all that the
# predictions depend on. A one-hidden-layer MLP has h(d+1) + c(h+1) unknowns
# (2,225 for the paper's Adult network).
#
# We run `EquationSolving` on victims of growing dimension and count its queries: the
# equations of its design, plus any query it spent replacing a *saturated* answer
# (a probability so close to 0 or 1 that its logit is lost to rounding).

# %%
dims = [2, 5, 10, 50, 105]
rows = []
for d in dims:
    X, y = make_classification(n_samples=600, n_features=d, n_informative=2, n_redundant=0,
                               n_classes=2, random_state=d)
    binary = LogisticRegression().fit(X, y)
    r2 = EquationSolving(family="binary").extract(LocalOracle(binary, domain=Domain.from_data(X)))
    X5, y5 = make_classification(n_samples=900, n_features=d, n_informative=2, n_redundant=0,
                                 n_classes=4, n_clusters_per_class=1, random_state=d)
    soft = LogisticRegression(max_iter=2000).fit(X5, y5)
    r5 = EquationSolving(family="softmax").extract(LocalOracle(soft, domain=Domain.from_data(X5)))
    err = float(np.abs(r2.model.coef_ - binary.coef_).max())
    rows.append((d, r2.info["queries"], binary_lr_queries(d).value, r5.info["queries"],
                 softmax_queries(d, 4).value, softmax_queries(d, 4, target="unknowns").value,
                 err))


def fmt(q):
    """Equations asked ("design"), and any extra queries spent on saturated answers."""
    extra = sum(v for k, v in q.items() if k != "design")
    return f"{q['design']}" + (f" + {extra}" if extra else "")


print(f"{'d':>4} | {'binary LR: ours':>15} {'d+1':>5} | {'softmax c=4: ours':>17} "
      f"{'d+1':>5} {'paper c(d+1)':>12} | max |w - w_victim|")
for d, q2, b2, q5, b5, paper, err in rows:
    print(f"{d:4d} | {fmt(q2):>15} {b2:5.0f} | {fmt(q5):>17} {b5:5.0f} {paper:12.0f} | {err:.1e}")
print("MLP unknowns for Adult (d=105, h=20, c=5):", mlp_unknowns(105, 20, 5))

# %% [markdown]
# ## Label answers, chosen inputs: Lowd–Meek and version-space cuts
#
# With labels only, a query tells one bit. The **packing lower bound** (Kulkarni,
# Mitter, Tsitsiklis 1993): to single out a halfspace in $\mathbb{R}^d$ to angle
# πε among $M(2\varepsilon)$ well-separated ones, an attacker needs at least
#
# $$ \log_2 M(2\varepsilon) \approx 1 + (d-1)\log_2\frac{1}{\sin 2\pi\varepsilon}
#    = \Omega\!\left(d \log \frac1\varepsilon\right) $$
#
# bits. Cutting the version space through its centre of gravity removes ≥ 1/e of it
# whatever the answer (Grünbaum), so $d\log_2(1/\varepsilon)/\log_2\frac{e}{e-1}$
# queries suffice: Θ(d log 1/ε) (Chandrasekaran et al. 2020). Lowd–Meek instead
# binary-searches the boundary along each axis: $2 + d\lceil\log_2(L/\tau)\rceil$.

# %%
def halfspace(d, seed):
    """A label oracle for a halfspace through the centre of [-1, 1]^d."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d)
    w *= 2 / np.linalg.norm(w)
    Xf = rng.uniform(-1, 1, (64, d))
    victim = LogisticRegression().fit(Xf, (Xf @ w > 0).astype(int))
    victim.coef_, victim.intercept_ = w[None, :], np.zeros(1)
    return victim, Domain(-np.ones(d), np.ones(d))


def ball(d, n, seed):
    """Uniform points of the unit ball (a rotation-invariant distribution)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    return Z * rng.uniform(0, 1, (n, 1)) ** (1 / d)


def disagreement(victim, model, E):
    return float(np.mean(victim.predict(E) != model.predict(E)))


print(f"{'d':>3} {'attack':16s} {'target':>7} {'queries':>8} {'disagreement':>13} "
      f"{'lower bound':>12} {'upper / formula':>16}")
for d in ([2, 5, 10] if QUICK else [2, 5, 10, 20]):
    victim, dom = halfspace(d, d)
    E = ball(d, 20_000, 1)
    for tol in (1e-2, 1e-3):
        r = LowdMeek(tol=tol, random_state=0).extract(LocalOracle(victim, output="label",
                                                                  domain=dom))
        eps = disagreement(victim, r.model, E)
        print(f"{d:3d} {'Lowd-Meek':16s} {tol:7g} {r.n_queries:8d} {eps:13.4f} "
              f"{query_synthesis_lower_bound(d, max(eps, 1e-4)).value:12.0f} "
              f"{lowd_meek_queries(d, length=2.0, tau=tol).value:16.0f}")
    for target in (0.05, 0.01):
        r = QuerySynthesis(epsilon=target, random_state=0).extract(
            LocalOracle(victim, output="label", domain=dom))
        eps = disagreement(victim, r.model, E)
        print(f"{d:3d} {'version-space cut':16s} {target:7g} {r.n_queries:8d} {eps:13.4f} "
              f"{query_synthesis_lower_bound(d, target).value:12.0f} "
              f"{centroid_cut_queries(d + 1, target).value:16.0f}")

# %% [markdown]
# Both attacks spend a small multiple of d log(1/ε), as the theory says, and never
# fewer queries than the packing bound at the accuracy they reached.
#
# ## Passive against active: the exponential gap
#
# A passive learner sees labels of random draws from the distribution D. Blumer et
# al. (1989): any consistent learner of a class of VC dimension d reaches error ε with
# probability 1 − δ after
#
# $$ m \ge \max\left(\frac{4}{\varepsilon}\log_2\frac{2}{\delta},\;
#    \frac{8d}{\varepsilon}\log_2\frac{13}{\varepsilon}\right) $$
#
# examples, and Ehrenfeucht et al. (1989) show that
# $\Omega\big((d + \ln\frac1\delta)/\varepsilon\big)$ are needed for the worst target.
# A pool-based active learner (CAL) asks only where consistent copies disagree:
#
# $$ O\!\left(\theta \left(d\log\theta + \log\frac{\log(1/\varepsilon)}{\delta}\right)
#    \log\frac1\varepsilon\right) $$
#
# labels,
# with disagreement coefficient θ ≤ π√d for halfspaces under the uniform distribution.
#
# We measure both on a halfspace in $\mathbb{R}^3$ with D uniform on the unit ball:
# `ActiveExtraction(strategy="random")` on a pool drawn from D *is* passive learning;
# `strategy="uncertainty"` on the same pool is pool-based active learning. One run
# gives a whole learning curve through the `callback`; from it we read the queries
# needed to first reach each ε (quick mode refits the copy only every 50% more
# labels, so its counts are read on a coarser grid).

# %%
d, delta = 3, 0.01
victim, dom = halfspace(d, 0)
n_ball = 5000 if QUICK else 20_000
E = ball(d, n_ball, 1)
seeds = [0, 1] if QUICK else [0, 1, 2, 3, 4]
eps_grid = np.array([0.1, 0.05, 0.02, 0.01, 0.005, 0.002])


def queries_to_eps(strategy, seed, budget):
    curve = []
    attack = ActiveExtraction(
        strategy=strategy, model=LogisticRegression(C=1e4, max_iter=2000),
        pool=ball(d, n_ball, 100 + seed), n_queries=budget, n_initial=10,
        batch_size=0.5 if QUICK else 0.1,  # a refit per 50% (10%) more labels
        callback=lambda n, m: curve.append((n, disagreement(victim, m, E))),
        random_state=seed)
    attack.extract(LocalOracle(victim, output="label", domain=dom))
    c = np.array(curve)
    return [int(c[np.argmax(c[:, 1] <= e), 0]) if (c[:, 1] <= e).any() else np.nan
            for e in eps_grid]


measured = {
    "passive (random sampling)": np.nanmedian(
        [queries_to_eps("random", s, 2000 if QUICK else 10_000) for s in seeds], axis=0),
    "pool (uncertainty sampling)": np.nanmedian(
        [queries_to_eps("uncertainty", s, 400) for s in seeds], axis=0),
}
synth = []
for target in [0.1, 0.05, 0.02, 0.01, 0.005]:
    r = QuerySynthesis(epsilon=target, random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom))
    synth.append((max(disagreement(victim, r.model, E), 1e-4), r.n_queries))
print(f"{'ε':>6} | {'passive':>8} {'Blumer up':>9} {'EHKV low':>8} | {'pool':>5} {'CAL O(.)':>8} "
      f"{'margin O(.)':>11} | {'packing low':>11}")
theta = halfspace_disagreement_coefficient(d)
for k, e in enumerate(eps_grid):
    print(f"{e:6g} | {measured['passive (random sampling)'][k]:8.0f} "
          f"{pac_upper_bound(d + 1, e, delta).value:9.0f} "
          f"{pac_lower_bound(d + 1, e, delta).value:8.0f} | "
          f"{measured['pool (uncertainty sampling)'][k]:5.0f} "
          f"{cal_queries(d + 1, e, delta, theta).value:8.0f} "
          f"{margin_based_queries(d, e, delta).value:11.0f} | "
          f"{query_synthesis_lower_bound(d, e).value:11.0f}")
print(f"({time.perf_counter() - T0:.0f} s so far)")

# %%
grid = np.geomspace(1e-3, 0.2, 40)
fig, ax = plt.subplots(figsize=(8, 5))
bounds = {
    "Blumer et al. upper [passive]": (lambda e: pac_upper_bound(d + 1, e, delta), "C0", "-"),
    "Ehrenfeucht et al. lower [passive]": (lambda e: pac_lower_bound(d + 1, e, delta),
                                           "C0", "--"),
    "CAL upper, O(·) [pool]": (lambda e: cal_queries(d + 1, e, delta, theta), "C1", ":"),
    "centre-of-gravity cuts upper [synthesis]": (lambda e: centroid_cut_queries(d + 1, e),
                                                 "C2", "-"),
    "packing lower [synthesis ⊃ pool ⊃ passive]": (lambda e: query_synthesis_lower_bound(d, e),
                                                   "k", "--"),
}
for label, (f, color, style) in bounds.items():
    xs = grid[grid <= 0.125] if "Ehrenfeucht" in label else grid  # stated for ε ≤ 1/8
    ax.plot(xs, [f(e).value for e in xs], style, color=color, label=label)
for (label, ns), color in zip(measured.items(), ("C0", "C1")):
    ax.plot(eps_grid, ns, "o", color=color, ms=8, label=f"measured: {label}")
ax.plot(*zip(*synth), "s", color="C2", ms=8, label="measured: version-space cuts")
ax.set_xscale("log")
ax.set_yscale("log")
ax.invert_xaxis()
ax.set_xlabel("disagreement ε (uniform on the unit ball)")
ax.set_ylabel("label queries")
ax.set_title("A halfspace in R^3: bounds (lines) and our attacks (markers)")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# Passive sampling grows like 1/ε and sits far below Blumer's worst-case constant;
# uncertainty sampling and version-space cuts grow like log(1/ε), above the packing
# bound and near the centre-of-gravity line. The gap between the blue markers and the
# others is the label saving of notebook 5, now with its reason.
#
# Most blue markers even sit *below* Ehrenfeucht et al.'s lower bound. No
# contradiction: that bound is for the worst target and distribution, at confidence
# 1 − δ = 99%, while this is one easy target and the median of a few runs. A lower
# bound constrains the worst case, not every case — which is why the checks below
# hold an attack to a lower bound only where the bound's assumptions are met.
#
# ## Every attack against the bounds of its query model
#
# `compare_attack(name)` runs a registered attack on a small seeded victim of its
# entry in `ATTACK_BOUNDS`, counts its queries through the oracle, measures its
# disagreement, and checks each bound in its role: *at_least* (a lower bound: having
# reached ε, the attack must have spent that much), *suffices* (an upper bound:
# having spent that much, it must have reached ε), or *reference* (shown, not
# asserted — order-only bounds, or another query model's). A label-query lower bound
# says nothing about an attack that reads confidences, so it is marked n/a there.

# %%
comparisons = [compare_attack(name, random_state=0) for name in ATTACK_BOUNDS]
for c in comparisons:
    print(f"{c.attack} [{c.query_model}]: {c.n_queries} queries, disagreement "
          f"{c.disagreement:.4f}, all asserted bounds hold: {c.ok}")
    for r in c.rows:
        b = r["bound"]
        held = {True: "holds", False: "FAILS", None: "–"}[r["holds"]]
        role = r["role"] if r["applicable"] else "n/a"
        print(f"    {b.name:45s} {b.kind:5s} [{b.query_model:13s}] {b.value:10.0f} "
              f"{role:9s} {held}")

# %% [markdown]
# ## The paper's setting: softmax regression on Adult
#
# Tramèr et al. extracted a softmax regression on Adult (target race: d = 105,
# c = 5) with 265 and 530 probability queries (0.5× and 1× the c(d+1) unknowns).
# The bounds for that setting, every query model side by side:

# %%
print(compare_bounds("logistic", 105, 1e-3, 0.01, classes=5).to_text())
print("with Adult's 8 one-hot groups:", softmax_queries(105, 5, one_hot_groups=8).value)

# %% [markdown]
# 106 confidence queries suffice where label-only attackers need thousands and a
# passive one tens of millions (by the worst-case bound): the granularity of the
# answer is worth orders of magnitude. On Adult itself the 8 one-hot groups remove
# 8 directions from the valid inputs, so d + 1 − G = 98 queries suffice — against
# the paper's 265–530.
#
# ## Exercises
#
# 1. Evaluate `compare_bounds("linear", 20, 1e-2, eta=0.1)`: how much does a defense
#    that flips 10% of the labels raise the synthesis bounds?
# 2. Estimate the disagreement coefficient of halfspaces in R^3 with
#    `mlextract.theory.halfspace_disagreement_sample(3)` and compare it with π√d.
# 3. Repeat the passive/active measurement with D uniform on the box `dom.sample(...)`
#    instead of the ball. Which bound stops applying, and why?
# 4. Measure the passive curve with 20 seeds and plot the worst run instead of the
#    median. How close does it come to the Ehrenfeucht et al. line?
#
# **References.** F. Tramèr et al. *Stealing Machine Learning Models via Prediction
# APIs.* USENIX Security 2016. V. Chandrasekaran et al. *Exploring Connections Between
# Active Learning and Model Extraction.* USENIX Security 2020. A. Blumer, A.
# Ehrenfeucht, D. Haussler, M. Warmuth. *Learnability and the VC dimension.* J. ACM
# 1989. A. Ehrenfeucht, D. Haussler, M. Kearns, L. Valiant. *A general lower bound on
# the number of examples needed for learning.* Inf. Comput. 1989. S. Kulkarni, S.
# Mitter, J. Tsitsiklis. *Active learning using arbitrary binary valued queries.*
# Machine Learning 1993. S. Hanneke. *Theory of Disagreement-Based Active Learning.*
# 2014. D. Lowd, C. Meek. *Adversarial learning.* KDD 2005.

# %%
# Headlines: equation solving spends exactly d + 1 queries; every attack meets the
# bounds of its query model; at the finest ε both reached, passive needs more labels
# than active.
assert all(q2["design"] == b2 and q5["design"] == b5 for _, q2, b2, q5, b5, _, _ in rows), rows
assert all(c.ok for c in comparisons), [c.failures() for c in comparisons]
both = ~np.isnan(measured["passive (random sampling)"]) & ~np.isnan(
    measured["pool (uncertainty sampling)"])
k = np.flatnonzero(both)[-1]
gap = measured["passive (random sampling)"][k] / measured["pool (uncertainty sampling)"][k]
print(f"passive / active labels at ε = {eps_grid[k]}: {gap:.1f}; "
      f"run time {time.perf_counter() - T0:.0f} s")
assert gap > 1
