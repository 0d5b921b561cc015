# %% [markdown]
# # 4. Label-only extraction and query synthesis
#
# Many APIs return only the predicted **label**. For a linear classifier
# `f(x) = sign(w·x + b)` the labels still give the model away, up to a positive scale
# (`(w, b)` and `(2w, 2b)` label every point alike). This notebook runs three attacks:
#
# 1. **Lowd–Meek** (KDD 2005; Tramèr et al. 2016, §6.1): find a point of each class,
#    binary-search the segment between them for a point `x₀` on the boundary, then one
#    line search per remaining dimension reads that dimension's weight. With τ the
#    precision of a search over a length L, the cost is
#    $$w + d\,\lceil\log_2(L/\tau)\rceil$$
#    queries (w for the two "sign witnesses").
# 2. **Query synthesis through the version space** (Chandrasekaran et al. 2020): the
#    halfspaces consistent with every answer so far form a convex cone; a query whose
#    hyperplane passes through the cone's centre cuts it about in half whatever the
#    answer. Halfspaces in d dimensions need Θ(d log 1/ε) queries this way, against
#    Θ(d/ε) for passive learning.
# 3. **Retraining** (Tramèr et al. 2016, §6.2): query points, fit an ordinary model to
#    the labels — from uniform points, from line searches, or *adaptively* at the
#    current copy's boundary.

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from mlextract import metrics
from mlextract.attacks import LowdMeek, QuerySynthesis, Retraining
from mlextract.oracles import Domain, LocalOracle
from mlextract.theory import query_synthesis_lower_bound

QUICK = os.environ.get("MLEXTRACT_QUICK") == "1"
# The matrices here are small: one BLAS thread is fastest, and threads competing for a
# busy machine's cores can make a cell ten times slower.
blas_threads = threadpool_limits(1)
warnings.simplefilter("ignore", ConvergenceWarning)

# %% [markdown]
# ## Lowd–Meek in two dimensions
#
# A logistic-regression victim on 2-D data answers labels only. We draw every query the
# attack pays for, by phase: the two sign witnesses, the bisection between them that
# lands on the boundary, and the line search that reads the second weight.

# %%
X, y = make_classification(n_samples=600, n_features=2, n_redundant=0, n_informative=2,
                           n_clusters_per_class=1, random_state=3)
victim = LogisticRegression().fit(X, y)
dom = Domain.from_data(X)
res = LowdMeek(random_state=0).extract(LocalOracle(victim, output="label", domain=dom))
print(res.status, "| queries", res.n_queries, "| bound", res.info["query_bound"])
print("parameter error up to scale:",
      f"{metrics.parameter_error(victim, res.model, up_to='scale'):.1e}")

gx, gy = np.meshgrid(np.linspace(dom.lower[0], dom.upper[0], 300),
                     np.linspace(dom.lower[1], dom.upper[1], 300))
G = np.c_[gx.ravel(), gy.ravel()]
fig, ax = plt.subplots(figsize=(6, 5))
ax.contourf(gx, gy, victim.predict(G).reshape(gx.shape), alpha=0.2, cmap="coolwarm")
ax.contour(gx, gy, res.model.predict(G).reshape(gx.shape), levels=[0.5], colors="k",
           linestyles="--")
Q, phases = res.queries.X, res.queries.phases
for phase, marker in (("witness", "s"), ("boundary", "o"), ("line_search", "^")):
    m = phases == phase
    ax.scatter(*Q[m].T, marker=marker, s=40, edgecolor="k", label=f"{phase} ({m.sum()})")
ax.set_title(f"Lowd–Meek: {res.n_queries} label queries (dashed: the copy)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The bisection points crowd onto the boundary: each halves the segment, and
# ⌈log₂(1/τ)⌉ = 10 of them reach τ = 10⁻³ of its length. The line search for the
# second weight follows an arc around `x₀` whose label flips where the arc crosses the
# boundary; its angle gives `w₂/w₁`.
#
# ## Lowd–Meek in more dimensions, beside the paper
#
# Tramèr et al. report ~2,050 queries on average (max 5,650) for Lowd–Meek on their
# data sets. The count here is exactly the bound: two witnesses plus 10 per dimension.


# %%
def linear_task(d, seed=0):
    X, y = make_classification(n_samples=1500, n_features=d, n_informative=max(2, d // 2),
                               random_state=seed)
    Xtr, Xte, ytr, _ = train_test_split(X, y, random_state=seed)
    victim = LogisticRegression(max_iter=2000).fit(Xtr, ytr)
    return victim, Xte, Domain.from_data(X)


n_unif = 20_000 if QUICK else 100_000
lm_rows = []
for d in ([5, 10, 20] if QUICK else [5, 10, 20, 50]):
    v, Xte, dm = linear_task(d)
    r = LowdMeek(random_state=0).extract(LocalOracle(v, output="label", domain=dm))
    lm_rows.append((d, r.n_queries, r.info["query_bound"], metrics.agreement(v, r.model, Xte),
                    metrics.uniform_agreement(v, r.model, dm, n=n_unif, random_state=0)))
print(f"{'d':>3s} {'queries':>8s} {'bound':>6s} {'1-R_test':>9s} {'1-R_unif':>9s}")
for d, q, bound, at, au in lm_rows:
    print(f"{d:3d} {q:8d} {bound:6d} {at:9.4f} {au:9.4f}")

# %% [markdown]
# Each weight ratio is read to about 10⁻³ of the reference, so the copy is not exact:
# uniform agreement stays above 99.9% for small d and slips as the d errors add up.
# Halve τ and each search costs one query more.
#
# ## Query synthesis: watching the version space shrink
#
# Take a homogeneous victim in the plane, `sign(w·x)` with `w` a unit vector at angle
# φ. The version space is the set of angles θ whose normal `(cos θ, sin θ)` labels every
# answered query correctly: an **arc** of the circle. Each answer `y` to a query `z`
# keeps the half circle `y·(z·w) ≥ 0`. The attack asks the point whose hyperplane goes
# through the centre of the current arc, so each answer halves it.

# %%
phi = 2.2
w_true = np.array([np.cos(phi), np.sin(phi)])
square = Domain(-np.ones(2), np.ones(2))
oracle = LocalOracle(lambda X: (X @ w_true > 0).astype(int), classes=[0, 1], domain=square)
eps2 = 1e-3
qs2 = QuerySynthesis(epsilon=eps2, fit_intercept=False, random_state=0).extract(oracle)
Z = qs2.queries.X[qs2.queries.phases == "synthesis"]
labels = 2 * np.asarray(qs2.queries.answers)[qs2.queries.phases == "synthesis"] - 1
print(qs2.status, "|", len(Z), "synthesised queries,", qs2.n_queries, "in all (with checks)")

theta = np.linspace(-np.pi, np.pi, 2_000_001)
normals = np.c_[np.cos(theta), np.sin(theta)]
consistent = np.ones_like(theta, dtype=bool)
arcs = []  # the consistent arc (its ends, in angle) after each answer
for z, lab in zip(Z, labels):
    consistent &= lab * (normals @ z) >= 0
    width = 2 * np.pi * consistent.mean()  # an intersection of half circles is an arc
    mid = np.angle(normals[consistent].sum(axis=0) @ [1, 1j])
    arcs.append((mid - width / 2, mid + width / 2))
widths = np.array([hi - lo for lo, hi in arcs])
centres = np.array(qs2.info["centres"])[:, :2]
centre_angle = np.arctan2(centres[:, 1], centres[:, 0])
print("arc width / π after each answer:", np.round(widths / np.pi, 4))

fig, ax = plt.subplots(1, 3, figsize=(15, 4.5))
# input space: the queries and the victim's boundary (the line orthogonal to w)
t = np.linspace(-1.5, 1.5, 2)
ax[0].plot(-w_true[1] * t, w_true[0] * t, "r-", label="victim's boundary")
ax[0].scatter(*Z.T, c=np.arange(len(Z)), cmap="viridis", edgecolor="k", zorder=3)
for k, z in enumerate(Z):
    ax[0].annotate(str(k + 1), z, xytext=(4, 4), textcoords="offset points", fontsize=8)
ax[0].set_xlim(-1.1, 1.1)
ax[0].set_ylim(-1.1, 1.1)
ax[0].set_aspect("equal")
ax[0].set_title("synthesised queries, numbered")
ax[0].legend(fontsize=8)
# the version space: the interval of consistent angles after each answer
for k, (lo, hi) in enumerate(arcs):
    ax[1].plot([lo, hi], [k + 1, k + 1], lw=6, color=plt.cm.viridis(k / len(arcs)),
               solid_capstyle="butt")
ax[1].axvline(phi, color="r", label="victim's angle φ")
ax[1].invert_yaxis()
ax[1].set_xlabel("angle θ of the normal (cos θ, sin θ)")
ax[1].set_ylabel("answers")
ax[1].set_title("version space: consistent normals")
ax[1].legend(fontsize=8)
# its width, and the copy's error, on a log scale
k = np.arange(1, len(widths) + 1)
ax[2].semilogy(k, widths / np.pi, "o-", label="version space: arc width / π")
angle_err = np.abs(np.angle(np.exp(1j * (centre_angle - phi)))) / np.pi
ax[2].semilogy(np.arange(len(Z) - len(angle_err) + 1, len(Z) + 1), angle_err, "s-",
               label="copy's angle error / π")
ax[2].semilogy(k, 2.0 ** (1 - k), "k:", label="halving: 2^(1-k)")
ax[2].axhline(eps2, color="gray", ls="--", label=f"ε = {eps2}")
ax[2].set_xlabel("answers")
ax[2].legend(fontsize=8)
ax[2].set_title("each centre cut halves the version space")
plt.show()

# %% [markdown]
# The first answer keeps a half circle; every later query cuts the arc through its
# centre, so the width halves with each answer and the copy (the centre) lands within
# ε·π of the victim's normal after about log₂(1/ε) ≈ 10 answers. In d dimensions the
# version space is a cone, its centre (the analytic centre, a convex program solved by
# cvxpy/Clarabel) takes the place of the arc's midpoint, and the cost becomes
# Θ(d log 1/ε). Against the packing lower bound ⌈1 + (d−1)·log₂(1/sin 2πε)⌉
# (Kulkarni, Mitter, Tsitsiklis 1993):

# %%
eps = 0.01
qs_rows = []
for d in ([2, 3, 5, 8] if QUICK else [2, 3, 5, 10, 20]):
    rng = np.random.default_rng(d)
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    o = LocalOracle(lambda X, w=w: (X @ w > 0).astype(int), classes=[0, 1],
                    domain=Domain(-np.ones(d), np.ones(d)))
    r = QuerySynthesis(epsilon=eps, fit_intercept=False, random_state=0).extract(o)
    c = np.array(r.info["centres"])[-1, :d]
    angle = np.arccos(np.clip(c @ w / np.linalg.norm(c), -1, 1)) / np.pi
    lower = query_synthesis_lower_bound(d, eps).value
    qs_rows.append((d, r.info["n_synthesis"], r.n_queries, d * np.log2(1 / eps), lower, angle,
                    r.status))
print(f"{'d':>3s} {'synthesis':>9s} {'total':>6s} {'d·log2(1/ε)':>12s} {'lower':>6s} "
      f"{'angle/π':>8s}")
for d, n, tot, scale, lower, angle, status in qs_rows:
    print(f"{d:3d} {n:9d} {tot:6d} {scale:12.1f} {lower:6.0f} {angle:8.4f}  {status}")

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ds = [r[0] for r in qs_rows]
ax.plot(ds, [r[1] for r in qs_rows], "o-", label="query synthesis (to certify ε)")
ax.plot(ds, [r[3] for r in qs_rows], "k--", label="d·log2(1/ε)")
ax.plot(ds, [r[4] for r in qs_rows], "k:", label="packing lower bound")
ax.set_xlabel("d")
ax.set_ylabel("label queries")
ax.set_title(f"halfspaces, ε = {eps}")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The attack stops when its own certificate (linear programs over the cone) proves
# every consistent halfspace is within ε·π of the copy, then asks 10 uniform points to
# check that the answers really came from a halfspace. Its synthesis queries track
# d·log₂(1/ε), a constant factor above the lower bound.
#
# ## Retraining strategies from labels
#
# Tramèr et al. found adaptive retraining reaches >99% agreement for linear models at
# 827 queries on average. Here the three strategies against a 10-feature logistic
# regression, beside Lowd–Meek and query synthesis (affine, ε = 0.01) on the same
# victim: agreement against the number of queries.

# %%
v10, Xte10, dom10 = linear_task(10)
budgets = [50, 100, 200, 413] if QUICK else [50, 100, 200, 300, 413, 827]
curves = {}
for strategy in ("uniform", "line_search", "adaptive"):
    for b in budgets:
        r = Retraining(n_queries=b, strategy=strategy,
                       model=LogisticRegression(C=1e4, max_iter=5000),
                       random_state=0).extract(LocalOracle(v10, output="label", domain=dom10))
        curves.setdefault(strategy, []).append(
            (r.n_queries, metrics.agreement(v10, r.model, Xte10),
             metrics.uniform_agreement(v10, r.model, dom10, n=n_unif, random_state=0)))
others = {}
for name, attack in (("Lowd–Meek", LowdMeek(random_state=0)),
                     ("query synthesis", QuerySynthesis(epsilon=0.01, random_state=0))):
    r = attack.extract(LocalOracle(v10, output="label", domain=dom10))
    others[name] = (r.n_queries, metrics.agreement(v10, r.model, Xte10),
                    metrics.uniform_agreement(v10, r.model, dom10, n=n_unif, random_state=0))
for strategy, pts in curves.items():
    print(f"{strategy:12s} " + "  ".join(f"{q}: {u:.4f}" for q, _, u in pts), "(1-R_unif)")
for name, (q, at, au) in others.items():
    print(f"{name:16s} {q} queries: 1-R_test {at:.4f}, 1-R_unif {au:.4f}")

fig, ax = plt.subplots(1, 2, figsize=(11, 4))
for i, what in enumerate(("1-R_test", "1-R_unif")):
    for strategy, pts in curves.items():
        ax[i].plot([p[0] for p in pts], [p[1 + i] for p in pts], "o-", label=strategy)
    for (name, pt), m in zip(others.items(), ("*", "P")):
        ax[i].plot(pt[0], pt[1 + i], m, ms=13, label=name)
    ax[i].axhline(0.99, color="gray", ls=":")
    ax[i].axvline(827, color="gray", ls="--", label="paper: adaptive >99% at 827")
    ax[i].set_xlabel("label queries")
    ax[i].set_ylabel(what)
    ax[i].set_ylim(0.9, 1.002)
ax[0].legend(fontsize=8)
fig.suptitle("label-only extraction of a 10-feature logistic regression")
plt.show()

# %% [markdown]
# Uniform queries waste most labels far from the boundary; line searches and the
# adaptive strategy spend them where the copy can still be wrong, and reach 99% with
# a fraction of the paper's 827 queries. Lowd–Meek and query synthesis need no model
# fitting at all and land near 100 queries for d = 10.
#
# ## Exercises
#
# 1. Lowd–Meek with `tol=1e-5`: how many queries, and how much closer is the copy?
#    Check the formula w + d⌈log₂(1/τ)⌉ against `res.info["query_bound"]`.
# 2. Wrap the oracle in `mlextract.defenses.RandomFlips(oracle, rate=0.05)` (5% of the
#    labels flipped) and rerun query synthesis. What does the version space become,
#    and what does the attack report?
# 3. Draw the 2-D version space for the **Chebyshev** centre
#    (`QuerySynthesis(centre="chebyshev", ...)`). Does it shrink as fast?
# 4. Replace the victim by an RBF `SVC`: which of the three attacks still apply, and
#    how does `Retraining(model="rbf", strategy="adaptive")` fare?
#
# ## References
#
# - D. Lowd, C. Meek. *Adversarial Learning.* KDD 2005.
# - F. Tramèr, F. Zhang, A. Juels, M. K. Reiter, T. Ristenpart. *Stealing Machine
#   Learning Models via Prediction APIs.* USENIX Security 2016, §6.
# - V. Chandrasekaran, K. Chaudhuri, I. Giacomelli, S. Jha, S. Yan. *Exploring
#   Connections Between Active Learning and Model Extraction.* USENIX Security 2020.
# - S. R. Kulkarni, S. K. Mitter, J. N. Tsitsiklis. *Active learning using arbitrary
#   binary valued queries.* Machine Learning 10, 1993.
# - `mlextract reproduce lowd_meek query_synthesis retraining_strategies` for the
#   full tables.

# %%
# Headline: Lowd–Meek spends exactly its bound and agrees on ≥ 99.9% of the domain at
# d ≤ 10; query synthesis certifies ε; adaptive retraining passes 99% within half the
# paper's 827 queries.
for d, q, bound, _, au in lm_rows:
    assert q == bound, (d, q, bound)
    assert d > 10 or au >= 0.999, (d, au)
assert qs2.status == "success" and angle_err[-1] <= eps2
assert all(status == "success" and angle <= eps for *_, angle, status in qs_rows)
q_ad, _, u_ad = curves["adaptive"][budgets.index(413)]
assert q_ad <= 413 and u_ad >= 0.99, curves["adaptive"]
