# %% [markdown]
# # 7. Neural networks: learning-based and functionally equivalent extraction
#
# Jagielski et al. (USENIX Security 2020) separate two goals of an attacker who
# steals a network:
#
# - **accuracy** — the copy does well on the task: $\Pr_x[\hat f(x) = y(x)]$;
# - **fidelity** — the copy agrees with the victim, mistakes included:
#   $\Pr_x[\hat f(x) = f(x)]$, and at the limit *functional equivalence*,
#   $\hat f(x) = f(x)$ for every input.
#
# **Learning-based** attacks train a copy on the victim's answers to well-chosen
# queries (Knockoff nets, Jacobian augmentation, distillation). They reach high
# accuracy and fidelity on the data they were shown, never exact equality.
# **Direct** attacks read the parameters off the answers: Tramèr et al. solve the
# MLP's equations; Jagielski et al. (and Carlini et al., CRYPTO 2020) locate every
# ReLU's switching point and recover the weights to float precision.

# %%
import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from mlextract import datasets
from mlextract.attacks import Retraining
from mlextract.metrics import accuracy, agreement, uniform_agreement
from mlextract.nn import (
    FunctionallyEquivalent,
    JacobianAugmentation,
    KnockoffNets,
    MLPEquationSolving,
    Network,
    NumpyMLPClassifier,
    SemiSupervised,
    TemperatureDistillation,
    soft_targets,
)
from mlextract.oracles import Domain, LocalOracle

QUICK = os.environ.get("MLEXTRACT_QUICK") == "1"
warnings.simplefilter("ignore", ConvergenceWarning)
T0 = time.perf_counter()

# %% [markdown]
# ## The victim and the attacker's data
#
# The victim: a scikit-learn MLP (64 ReLU units) trained on half of the digits; it
# answers class probabilities. The attacker holds a disjoint 30% of the digits,
# shifted by one pixel and blurred with noise — natural data of a *neighbouring*
# distribution, as Knockoff nets assume. We keep 20% as test data for fidelity
# (agreement with the victim) and accuracy (against the true digit).

# %%
X, y = load_digits(return_X_y=True)
order = np.random.default_rng(0).permutation(len(X))
n_v, n_a = int(0.5 * len(X)), int(0.3 * len(X))
tr, att, te = order[:n_v], order[n_v:n_v + n_a], order[n_v + n_a:]
victim = MLPClassifier((64,), max_iter=300, random_state=0).fit(X[tr], y[tr])
domain = Domain(np.zeros(64), np.full(64, 16.0))

imgs = X[att].reshape(-1, 8, 8)
views = [imgs] + [np.roll(imgs, s, axis=a) for a in (1, 2) for s in (-1, 1)]
base = np.concatenate(views).reshape(-1, 64)
noisy = np.clip(base + np.random.default_rng(1).normal(0, 1.5, base.shape), 0, 16)
pool = np.vstack([base, noisy])
print(f"victim accuracy {victim.score(X[te], y[te]):.3f}; attacker's pool {len(pool)} images")

fig, axes = plt.subplots(1, 6, figsize=(8, 1.6))
for ax, img in zip(axes, [base[0], base[len(att)], base[3 * len(att)], noisy[0],
                          noisy[len(att)], X[te][0]]):
    ax.imshow(img.reshape(8, 8), cmap="gray_r")
    ax.axis("off")
axes[-1].set_title("a test digit", fontsize=8)
axes[0].set_title("attacker's pool", fontsize=8)
plt.show()

# %% [markdown]
# ## Learning-based attacks
#
# Every copy is the same `NumpyMLPClassifier((64,))`; only the queries and the
# training differ.
#
# - **Uniform retraining** (Tramèr): uniform points of the pixel box, labels only.
# - **Knockoff nets** (Orekondy et al. 2019): query pool images and train on the
#   answered probabilities; *adaptive* draws from k-means clusters of the pool with a
#   gradient bandit, $H_a \leftarrow H_a + \alpha(r - \bar r)(\mathbb 1[a = a_t] - \pi_a)$,
#   rewarded for certain, diverse and surprising answers.
# - **Jacobian augmentation** (Papernot et al. 2017): start from a few seed images and
#   grow the set with $x' = x + \lambda\,\operatorname{sign}\nabla_x \hat f_{\hat y}(x)$,
#   steps along the copy's gradient towards its boundaries.
# - **Semi-supervised**: pay for some labels, pseudo-label the rest of the pool where
#   the copy is confident.
# - **E3 distillation** (Zhu et al. 2024): since
#   $\operatorname{softmax}(z/\tau) = \operatorname{softmax}(\log p/\tau)$, the
#   probabilities alone give the victim's *softened* distribution; the copy minimises
#   $\tau^2\,\mathrm{KL}(p^{\tau}\,\|\,q^{\tau})$, first on degraded (down-sampled)
#   views of each query, then on the clean ones.

# %% [markdown]
# The victim's answer below looks one-hot; softened at τ = 5 it shows which other
# digits the victim finds plausible — information a label never carries:

# %%
p = victim.predict_proba(X[te][:1])
print("answer      ", np.round(p, 3))
print("softened τ=5", np.round(soft_targets(p, 5.0), 3))

# %%
copy = NumpyMLPClassifier((64,), max_iter=100 if QUICK else 200, alpha=1e-3, random_state=0)
attacks = {
    "uniform retraining": lambda b: Retraining(n_queries=b, model=copy),
    "Knockoff (random)": lambda b: KnockoffNets(pool=pool, n_queries=b, model=copy),
    "Knockoff (adaptive)": lambda b: KnockoffNets(pool=pool, n_queries=b, model=copy,
                                                  strategy="adaptive", batch_size=5),
    "Jacobian augmentation": lambda b: JacobianAugmentation(
        seed=X[att][:min(100, b)], n_queries=b, step=2.0, model=copy),
    "semi-supervised": lambda b: SemiSupervised(pool=pool, n_queries=b, model=copy,
                                                n_rounds=1 if QUICK else 2),
    "E3 distillation": lambda b: TemperatureDistillation(
        pool=pool, n_queries=b, model=copy, degrade="downsample", degrade_strength=2,
        image_shape=(8, 8), degraded_epochs=50 if QUICK else 100),
}
budgets = [100, 300, 1000] if QUICK else [100, 250, 500, 1000, 2500, 5000]
curves = {}
for name, make in attacks.items():
    for b in budgets:
        res = make(b).set_params(random_state=0).extract(
            LocalOracle(victim, output="proba", domain=domain))
        curves.setdefault(name, []).append(
            (res.n_queries, agreement(victim, res.model, X[te]),
             accuracy(res.model, X[te], y[te])))
print(f"{'attack':22s}" + "".join(f"{b:>14d}" for b in budgets) + "   (fidelity / accuracy %)")
for name, pts in curves.items():
    print(f"{name:22s}" + "".join(f"{100 * f:7.1f}/{100 * a:5.1f} " for _, f, a in pts))
print(f"({time.perf_counter() - T0:.0f} s so far)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for name, pts in curves.items():
    q, f, a = np.array(pts).T
    axes[0].plot(q, 100 * f, "o-", label=name)
    axes[1].plot(q, 100 * a, "o-", label=name)
axes[1].axhline(100 * victim.score(X[te], y[te]), color="k", ls="--", lw=0.8,
                label="the victim's accuracy")
for ax, what in zip(axes, ("fidelity (agreement with the victim), %",
                           "accuracy on the true digits, %")):
    ax.set_xscale("log")
    ax.set_xlabel("queries")
    ax.set_ylabel(what)
axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
fig.tight_layout()
plt.show()

# %% [markdown]
# Natural queries beat uniform ones by a wide margin: uniform "images" look like no
# digit, and the victim's answers there teach the copy little about digits. Using
# the answers of natural queries (Knockoff) beats synthetic steps (Jacobian
# augmentation, whose augmented points drift off the digits), and at small budgets
# the softened targets and degraded views of E3 — or pseudo-labels of the unpaid pool
# — add many points; by a thousand queries the methods meet around 95%.
#
# **Beside the paper.** E3 reports +4 points of accuracy over Knockoff nets at 50,000
# queries on CIFAR-10; on 8×8 digits with a small MLP we measure, per budget:

# %%
e3, ko = np.array(curves["E3 distillation"]), np.array(curves["Knockoff (random)"])
for (b, fe, ae), (_, fk, ak) in zip(e3, ko):
    print(f"{int(b):5d} queries: E3 − Knockoff = {100 * (fe - fk):+5.1f} points of fidelity, "
          f"{100 * (ae - ak):+5.1f} of accuracy")

# %% [markdown]
# ## Tramèr's equation solving for an MLP
#
# With probability answers, each query of a c-class network gives c − 1 equations
# $\log\frac{p_j(x)}{p_{\text{ref}}(x)} = z_j(x) - z_{\text{ref}}(x)$ in its
# $h(d+1) + c(h+1)$ unknowns. `MLPEquationSolving` fits all of them to the answers
# by L-BFGS (with the output layer solved exactly at each step) from random restarts.
# Tramèr et al.'s victim: a tanh MLP on Adult with target *race* (d = 105 after
# one-hot encoding, c = 5, h = 20: 2,225 unknowns). mlextract ships Adult, so this
# runs offline. Quick mode uses h = 5 (560 unknowns) and one budget; full mode the
# paper's network at 1,112 and 2,225 queries, beside the paper's agreements.

# %%
adult = datasets.load("adult_race")
Xa = adult.X.astype(float)
groups = [list(g) for g in adult.domain.one_hot_groups]
cont = np.ones(Xa.shape[1], bool)
for g in groups:
    cont[g] = False
lo, hi = Xa[:, cont].min(0), Xa[:, cont].max(0)
Xa[:, cont] = (Xa[:, cont] - lo) / np.where(hi > lo, hi - lo, 1)  # min-max to [0, 1]
ya = adult.y
n_train = int(0.67 * len(Xa))
h = 5 if QUICK else 20
mlp = MLPClassifier((h,), activation="tanh", max_iter=20 if QUICK else 100,
                    random_state=0).fit(Xa[:n_train], ya[:n_train])
adult_domain = Domain.from_data(Xa, one_hot_groups=groups)
unknowns = h * (Xa.shape[1] + 1) + len(mlp.classes_) * (h + 1)
paper = {1112: (98.17, 94.32), 2225: (98.68, 97.23), 4450: (99.89, 99.82)}
mlp_budgets = [unknowns] if QUICK else [1112, 2225]
n_unif = 5000 if QUICK else 100_000
print(f"d = {Xa.shape[1]}, c = {len(mlp.classes_)}, h = {h}: {unknowns} unknowns")
print(f"{'queries':>8} {'1-R_test':>9} {'1-R_unif':>9} {'status':>12} {'time s':>7} "
      f"{'paper (h=20)':>16}")
for b in mlp_budgets:
    t = time.perf_counter()
    res = MLPEquationSolving(hidden_layer_sizes=(h,), activation="tanh", n_queries=b,
                             n_restarts=4, random_state=0).extract(
        LocalOracle(mlp, output="proba", domain=adult_domain))
    pt, pu = paper.get(b, (None, None))
    ref = f"{pt:.2f}% / {pu:.2f}%" if pt else "–"
    print(f"{res.n_queries:8d} {100 * agreement(mlp, res.model, Xa[n_train:]):8.2f}% "
          f"{100 * uniform_agreement(mlp, res.model, adult_domain, n=n_unif):8.2f}% "
          f"{res.status:>12} {time.perf_counter() - t:7.1f} {ref:>16}")

# %% [markdown]
# ## Functionally equivalent extraction of a ReLU network
#
# A one-hidden-layer ReLU network $F(x) = A\,\mathrm{relu}(Wx + b) + c$ is piecewise
# linear. On a line $x(t) = x_0 + t v$ it has one kink per hidden unit, where
# $w_i\cdot x(t) + b_i = 0$. Across unit i's hyperplane the gradient jumps by
#
# $$ \nabla F(x^* + \delta v) - \nabla F(x^* - \delta v) = \sigma\, a_i\, w_i^\top,
#    \qquad \sigma = \operatorname{sign}(w_i\cdot v), $$
#
# so finite differences on both sides of each kink (exact inside a linear region, up
# to rounding) give the unit's row $w_i$ up to scale, and the kink gives $b_i$. The
# last layer then follows by least squares, and the signs from a linear system.
# What cannot be recovered is what does not change the function: the order of the
# units, and a positive scale per unit, since
# $a\,\mathrm{relu}(w\cdot x + b) = \frac{a}{s}\,\mathrm{relu}(s\,w\cdot x + s\,b)$ for
# $s > 0$. So we compare rows normalised to unit length, after matching units.

# %%
d_in, n_hidden = 20, 8
rng = np.random.default_rng(0)
relu_victim = Network(
    [rng.normal(size=(d_in, n_hidden)) / np.sqrt(d_in), rng.normal(size=(n_hidden, 1))],
    [0.1 * rng.normal(size=n_hidden), 0.1 * rng.normal(size=1)], output="identity")
fe = FunctionallyEquivalent(random_state=0).extract(
    LocalOracle(relu_victim, output="logit", n_features=d_in))
print(f"status {fe.status}; {fe.n_queries} queries (2^{np.log2(fe.n_queries):.1f}); "
      f"units found {fe.info['n_units']}; by phase {fe.info['queries_by_phase']}")


def unit_rows(net):
    """First-layer rows [w_i, b_i], each scaled to unit length (one row per unit)."""
    R = np.vstack([net.coefs_[0], net.intercepts_[0]]).T
    return R / np.linalg.norm(R, axis=1, keepdims=True)


true_rows, got_rows = unit_rows(relu_victim), unit_rows(fe.model)
match = np.argmax(true_rows @ got_rows.T, axis=1)  # each true unit's copy (cosine)
got_rows = got_rows[match]
weight_error = float(np.abs(true_rows - got_rows).max())
E = rng.normal(size=(10_000, d_in))
logit_error = float(np.abs(fe.model.logits(E) - relu_victim.logits(E)).max())
print(f"max error of the normalised weights: {weight_error:.1e}; "
      f"max logit error on 10,000 N(0, I) inputs: {logit_error:.1e}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
vmax = np.abs(true_rows).max()
for ax, M, title in ((axes[0], true_rows, "victim: rows [w_i, b_i] / ‖·‖"),
                     (axes[1], got_rows, "recovered (units matched)")):
    im = ax.imshow(M, cmap="RdBu", vmin=-vmax, vmax=vmax, aspect="auto")
    ax.set_title(title)
    ax.set_ylabel("hidden unit")
    ax.set_xlabel("input weight (last column: bias)")
im = axes[2].imshow(np.log10(np.abs(true_rows - got_rows) + 1e-18), aspect="auto")
axes[2].set_title("log10 |difference|")
fig.colorbar(im, ax=axes[2])
plt.show()

# %% [markdown]
# ### The digits victim, exactly
#
# The same attack on a trained scikit-learn MLP (16 ReLU units, 10 classes) that
# answers *probabilities*: log-ratios of the answers are logit differences, which is
# all the attack needs. Its inputs are not clipped to the pixel box here (the
# attack's lines run through all of $\mathbb{R}^{64}$; see exercise 3).

# %%
small = MLPClassifier((16,), max_iter=300, random_state=0).fit(X[tr], y[tr])
fe_digits = FunctionallyEquivalent(random_state=0).extract(
    LocalOracle(small, output="proba", n_features=64))
fid_fe = agreement(small, fe_digits.model, X[te])
print(f"{fe_digits.status}: {fe_digits.n_queries} queries, {fe_digits.info['n_units']} "
      f"units, max logit error {fe_digits.info['max_logit_error']:.1e}, "
      f"fidelity on test digits {fid_fe:.4f}")

# %% [markdown]
# **Beside the paper.** Carlini et al. extract a 784-128-1 network with $2^{21.5}$
# queries to a worst-case output error of $2^{-25}$. Full mode runs the same shape
# with random weights (it takes a while); quick mode a 100-32-1 one.

# %%
d_big, h_big = (100, 32) if QUICK else (784, 128)
rng = np.random.default_rng(1)
big = Network([rng.normal(size=(d_big, h_big)) / np.sqrt(d_big),
               rng.normal(size=(h_big, 1)) / np.sqrt(h_big)],
              [0.1 * rng.normal(size=h_big), 0.1 * rng.normal(size=1)], output="identity")
t = time.perf_counter()
fe_big = FunctionallyEquivalent(random_state=0).extract(
    LocalOracle(big, output="logit", n_features=d_big))
Eb = rng.normal(size=(10_000, d_big))
err_big = float(np.abs(fe_big.model.logits(Eb) - big.logits(Eb)).max())
print(f"{d_big}-{h_big}-1: {fe_big.status}, 2^{np.log2(fe_big.n_queries):.1f} queries, "
      f"max output error 2^{np.log2(err_big):.1f} on 10,000 N(0, I) inputs, "
      f"{time.perf_counter() - t:.1f} s   (paper, 784-128-1: 2^21.5 queries, error 2^-25)")

# %% [markdown]
# Learning-based copies of the digits victim reach ~95% fidelity with a thousand
# queries and creep up from there; the direct attack reaches exact agreement with a
# few thousand, because it asks questions whose answers *are* the parameters. Its
# price: it needs the architecture (one ReLU hidden layer here; for deeper networks pass
# `hidden_layer_sizes=` and the attack peels them layer by layer, after Carlini et al.)
# and precise answers.
#
# ## Exercises
#
# 1. Answer labels only (`mlextract.oracles.LabelOnly`) or round the probabilities to
#    2 decimals (`Rounded`). Which learning-based attack loses most? Why does
#    rounding hurt E3's temperature in particular?
# 2. Give `MLPEquationSolving` fewer queries than unknowns/(c − 1). What status does
#    it report, and how far does the copy drift on uniform points?
# 3. Build the digits oracle with `domain=Domain(np.zeros(64), np.full(64, 16.0))`:
#    lines must now stay inside the pixel box. How many units does
#    `FunctionallyEquivalent(n_lines=40, max_lines=40)` find, and why fewer?
# 4. Extract a victim with two hidden layers (`Network` with three weight matrices).
#    What does the attack's verification report?
#
# **References.** M. Jagielski, N. Carlini, D. Berthelot, A. Kurakin, N. Papernot.
# *High Accuracy and High Fidelity Extraction of Neural Networks.* USENIX Security
# 2020. N. Carlini, M. Jagielski, I. Mironov. *Cryptanalytic Extraction of Neural
# Network Models.* CRYPTO 2020. F. Tramèr et al. *Stealing Machine Learning Models via
# Prediction APIs.* USENIX Security 2016. T. Orekondy, B. Schiele, M. Fritz. *Knockoff
# Nets.* CVPR 2019. N. Papernot et al. *Practical Black-Box Attacks against Machine
# Learning.* AsiaCCS 2017. Zhu et al. *Efficient and Effective Model Extraction* (E3),
# arXiv 2409.14122. B. G. Atli et al. *Extraction of Complex DNN Models: Real Threat or
# Boogeyman?* 2020.

# %%
# Headlines: the ReLU network's first layer recovered to float precision (up to the
# network's symmetries), and the digits copy agrees with the victim everywhere tested.
print(f"weight error {weight_error:.1e}, digits fidelity {fid_fe:.4f}, "
      f"run time {time.perf_counter() - T0:.0f} s")
assert weight_error < 1e-6 and fe.info["n_units"] == n_hidden
assert fid_fe == 1.0
