# %% [markdown]
# # 5. Active learning as extraction
#
# Chandrasekaran et al. (USENIX Security 2020) noticed that model extraction *is*
# active learning, with the victim as the labeller who is paid per label:
#
# | the attacker may query | active-learning setting | example attack |
# |---|---|---|
# | any input it likes | query synthesis | Lowd–Meek, version-space cuts |
# | only natural data it holds | pool-based active learning | uncertainty sampling |
# | random inputs, chosen in advance | passive learning | Tramèr's retraining |
#
# So every advance in active learning is an attack. The gap is large in theory. To
# reach disagreement ε with a class of VC dimension d, a passive learner needs
#
# $$ m_{\text{passive}}(\varepsilon) = \Theta\!\left(\frac{d}{\varepsilon}\right) $$
#
# labels, while an active learner that asks only where the current copies disagree
# (CAL, Hanneke's analysis) needs
#
# $$ m_{\text{active}}(\varepsilon) = O\!\left(\theta\, d \log\frac{1}{\varepsilon}\right), $$
#
# with θ the *disagreement coefficient* of the class and distribution (θ ≤ π√d for
# halfspaces under the uniform distribution on the sphere). Exponentially fewer
# labels in 1/ε: the attacker stops paying for points it could already predict.
#
# In mlextract, `ActiveExtraction` runs modAL's pool-based loop against an oracle:
# a seed set of random labels, then rounds in which a **query strategy** scores the
# unlabelled candidates with the current copy and the victim labels the best ones.
# This notebook measures what the strategy saves against random sampling.

# %%
import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import SVC

from mlextract.attacks import ActiveExtraction
from mlextract.oracles import Domain, LocalOracle

QUICK = os.environ.get("MLEXTRACT_QUICK") == "1"
warnings.simplefilter("ignore", ConvergenceWarning)
T0 = time.perf_counter()

# %% [markdown]
# ## A picture first: which points does each strategy ask?
#
# The victim is an RBF support-vector machine on the two-moons data; it answers
# labels only. The attacker's candidates are 3,000 uniform points of the published
# domain. *Random* sampling labels candidates at random; *uncertainty* sampling labels
# the candidates on which the current copy is least confident,
# $x^* = \arg\max_x\, 1 - \max_c \hat p(c \mid x)$ (for an `SVC` copy, a sigmoid of
# its decision value stands in for $\hat p$).

# %%
X2, y2 = make_moons(n_samples=600, noise=0.2, random_state=0)
moons = SVC(gamma=2.0).fit(X2, y2)
dom2 = Domain.from_data(X2, margin=0.1)
U2 = dom2.sample(20_000, random_state=1)
yU2 = moons.predict(U2)

toy = {}
for strategy in ("random", "uncertainty"):
    oracle = LocalOracle(moons, output="label", domain=dom2)
    attack = ActiveExtraction(strategy=strategy, model=SVC(gamma=2.0), n_uniform=3000,
                              n_queries=60, n_initial=10, batch_size=5, random_state=0)
    res = attack.extract(oracle)
    toy[strategy] = res
    print(f"{strategy:12s} queries {res.n_queries}   uniform agreement "
          f"{np.mean(res.model.predict(U2) == yU2):.3f}")

# %%
gx, gy = np.meshgrid(np.linspace(dom2.lower[0], dom2.upper[0], 200),
                     np.linspace(dom2.lower[1], dom2.upper[1], 200))
G = np.c_[gx.ravel(), gy.ravel()]
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (strategy, res) in zip(axes, toy.items()):
    ax.contourf(gx, gy, moons.predict(G).reshape(gx.shape), alpha=0.25, cmap="coolwarm")
    ax.contour(gx, gy, res.model.predict(G).reshape(gx.shape), levels=[0.5], colors="k")
    ax.scatter(*res.queries.X.T, c=res.queries.answers, cmap="coolwarm", s=14,
               edgecolors="k", linewidths=0.3)
    ax.set_title(f"{strategy}: the {res.n_queries} labelled queries; black = copy")
plt.show()

# %% [markdown]
# Uncertainty sampling spends its labels along the victim's boundary, where the
# copy is still wrong; random sampling spends most of them deep inside the classes.
#
# ## Learning curves on digits
#
# A realistic victim: an RBF SVM that tells digits 0–4 from 5–9, trained on 40% of
# scikit-learn's digits. The attacker holds another 40% (unlabelled: its pool of
# natural data) and we keep 20% as test data. The copy is the victim's family,
# `SVC()` with default settings. After every refit we measure agreement on the test
# digits (1−R_test) and on uniform points of the pixel box [0, 16]^64 (1−R_unif).

# %%
X, y = load_digits(return_X_y=True)
y = (y >= 5).astype(int)
perm = np.random.default_rng(0).permutation(len(X))
n_v, n_p = int(0.4 * len(X)), int(0.4 * len(X))
train, pool, test = perm[:n_v], perm[n_v:n_v + n_p], perm[n_v + n_p:]
victim = SVC().fit(X[train], y[train])
domain = Domain(np.zeros(64), np.full(64, 16.0), integer=np.arange(64))
U = domain.sample(2000 if QUICK else 10_000, random_state=1)
y_test, y_unif = victim.predict(X[test]), victim.predict(U)
print(f"victim accuracy {np.mean(y_test == y[test]):.3f}; pool {len(pool)} digits; "
      f"uniform points answered class 1: {y_unif.mean():.1%}")

# %%
budget = 400 if QUICK else len(pool)
seeds = [0, 1, 2] if QUICK else [0, 1, 2, 3, 4]
strategies = ["random", "uncertainty"] if QUICK else ["random", "uncertainty", "margin",
                                                      "vote_entropy"]


def learning_curve(strategy, seed):
    """Agreement (test, uniform) after every refit of one active extraction."""
    curve = []

    def on_refit(n, model):
        curve.append((n, np.mean(model.predict(X[test]) == y_test),
                      np.mean(model.predict(U) == y_unif)))

    oracle = LocalOracle(victim, output="label", domain=domain)
    attack = ActiveExtraction(strategy=strategy, model=SVC(), pool=X[pool],
                              n_queries=budget, n_initial=10, batch_size=0.1,
                              callback=on_refit, random_state=seed)
    res = attack.extract(oracle)
    assert res.n_queries <= budget  # counted by the oracle
    return np.array(curve)


curves = {(s, seed): learning_curve(s, seed) for s in strategies for seed in seeds}
print(f"{len(curves)} runs in {time.perf_counter() - T0:.1f} s")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
grid = np.unique(np.geomspace(10, budget, 60).astype(int))
mean_curve = {}
for s in strategies:
    for k, ax in enumerate(axes):
        ys = [np.interp(grid, curves[(s, seed)][:, 0], curves[(s, seed)][:, 1 + k])
              for seed in seeds]
        mean_curve[(s, k)] = np.mean(ys, axis=0)
        ax.plot(grid, 100 * mean_curve[(s, k)], label=s, lw=2 if s != "random" else 2.5)
for ax, what in zip(axes, ("test digits (1-R_test)", "uniform points (1-R_unif)")):
    ax.set_xscale("log")
    ax.set_xlabel("label queries")
    ax.set_ylabel(f"agreement on {what}, %")
    ax.axhline(97, color="k", lw=0.5, ls="--")
axes[0].set_ylim(50, 100.5)
axes[0].legend()
fig.suptitle(f"RBF SVM on digits: mean over {len(seeds)} seeds")
plt.show()

# %% [markdown]
# Two lessons in one plot. On test digits, uncertainty sampling climbs faster and
# reaches 97% with far fewer labels. On uniform points of the pixel box the picture
# is chaos: the victim answers the same class on nearly every uniform "image" (they
# look like no digit), neither model was ever trained near them, and the copy's
# answers there swing from one refit to the next. A pool-based attacker copies the
# victim *where its pool lives*; agreement elsewhere (fidelity on the whole domain)
# needs candidates there too — exercise 2.
#
# ## The label saving
#
# The saving is the ratio of labels random sampling needs to reach a target agreement
# to the labels the strategy needs, per seed. When random never reaches the target
# within the budget, the ratio is a lower bound (marked ">").

# %%
def queries_to_reach(curve, target):
    hit = np.flatnonzero(curve[:, 1] >= target)
    return int(curve[hit[0], 0]) if hit.size else None


targets = (0.95, 0.97) if QUICK else (0.95, 0.97, 0.98)
savings = {}
print(f"{'strategy':14s}" + "".join(f"  to {t:.0%} test (per seed)" for t in targets))
for s in strategies:
    cells = []
    for t in targets:
        ns = [queries_to_reach(curves[(s, seed)], t) for seed in seeds]
        cells.append(" ".join("–" if n is None else str(n) for n in ns))
        if s != "random":
            for seed, n in zip(seeds, ns):
                r = queries_to_reach(curves[("random", seed)], t)
                if n is not None:
                    savings.setdefault((s, t), []).append(
                        ((budget if r is None else r) / n, r is None))
    print(f"{s:14s}" + "".join(f"  {c:>26s}" for c in cells))
print()
for (s, t), vals in savings.items():
    med = np.median([v for v, _ in vals])
    mark = ">" if any(lb for _, lb in vals) else ""
    print(f"saving of {s:12s} at {t:.0%} test agreement: median {mark}{med:.2f} "
          f"(per seed: {', '.join(f'{v:.2f}' for v, _ in vals)})")

# %% [markdown]
# With two classes, margin and least confidence rank the candidates identically (both
# are monotone in |p − ½|), so their curves coincide in full mode. With this pool,
# no strategy reaches 99% on test digits: even all 718 pool labels leave the copy
# near 98% — a pool-based attacker is capped by its pool.
#
# **Beside the papers.** Chandrasekaran et al. prove the exponential gap for
# halfspaces and report no per-data-set table for pool-based sampling; Tramèr et al.
# needed ~2,050 label queries (adaptive retraining) for >99% agreement with RBF SVMs.
# Here a few hundred labels of natural data reach 97% test agreement, and
# uncertainty sampling needs a fraction of what random sampling needs. `mlextract
# reproduce active_learning` runs the full comparison (four victims, ten strategies,
# five seeds).
#
# ## Exercises
#
# 1. Add `"density_uncertainty"` and `"expected_error"` to `strategies`. Which saves
#    most, and what does each cost in run time?
# 2. Add uniform candidates to the pool with `n_uniform=2000`, then try uniform
#    candidates alone (`pool=None`). What happens to each agreement, and why?
# 3. Defend the victim with `mlextract.defenses.RandomFlips(oracle, rate=0.1)`. Does
#    uncertainty sampling still beat random? (Noisy labels near the boundary are the
#    ones it asks for.)
# 4. The theory says active learning wins by a factor ~ 1/(ε log 1/ε). Measure the
#    saving at 95%, 97% and 98% in full mode: does it grow as the target tightens?
#
# **References.** V. Chandrasekaran, K. Chaudhuri, I. Giacomelli, S. Jha, S. Yan.
# *Exploring Connections Between Active Learning and Model Extraction.* USENIX
# Security 2020. B. Settles. *Active Learning Literature Survey*, 2009.
# S. Hanneke. *A Bound on the Label Complexity of Agnostic Active Learning.* ICML 2007.
# F. Tramèr et al. *Stealing Machine Learning Models via Prediction APIs.* USENIX
# Security 2016. modAL: T. Danka, P. Horvath, 2018.

# %%
# Headline: uncertainty sampling needs fewer labels than random sampling to reach
# 97% agreement on test digits (median saving over seeds, computed above).
headline = float(np.median([v for v, _ in savings[("uncertainty", 0.97)]]))
print(f"median label saving at 97%: {headline:.2f}; run time {time.perf_counter() - T0:.0f} s")
assert headline > 1, savings
