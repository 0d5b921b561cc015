# %% [markdown]
# # 8. Defenses and detectors
#
# A prediction API can fight extraction in three ways:
#
# 1. **Perturb its answers** — round them (Tramèr et al. 2016), return only the top
#    label, add noise, bend the probabilities with a *reverse sigmoid* (Lee et al. 2019),
#    or poison them so the attacker's gradient points the wrong way (MAD, Orekondy et
#    al. 2020). Every perturbation also costs honest users something.
# 2. **Watch each client's stream of queries** and flag the ones that look like an
#    attack: PRADA (Juuti et al. 2019) tests whether the distances between successive
#    queries are normally distributed; Atli et al. (2020) classify queries as in or out
#    of the owner's distribution; Kesarwani et al. (2018) watch which leaves of a tree a
#    client reaches.
# 3. **Watermark** a few answers (DAWN, Szyller et al. 2021) so that a stolen copy can
#    later be recognised.
#
# In mlextract a perturbation is an oracle wrapper, so every attack runs against every
# defense with no special code.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

import mlextract
from mlextract import metrics
from mlextract.defenses import (
    MAD,
    PRADA,
    GaussianNoise,
    LabelOnly,
    OODDetector,
    RandomFlips,
    ReverseSigmoid,
    Rounded,
    Watermark,
    utility_cost,
    verify_watermark,
)
from mlextract.oracles import Domain, LocalOracle

QUICK = os.environ.get("MLEXTRACT_QUICK") == "1"

X, y = make_classification(n_samples=8000, n_features=10, n_informative=6, n_classes=3,
                           random_state=0)
X_train, y_train, X_test, y_test = X[:3000], y[:3000], X[3000:], y[3000:]
victim = LogisticRegression(max_iter=1000).fit(X_train, y_train)
domain = Domain.from_data(X)

# %% [markdown]
# ## What each perturbation costs honest users
#
# `utility_cost` compares the defended answers with the undefended ones on the owner's
# test data, without counting queries.

# %%
surrogate = LogisticRegression(max_iter=1000).fit(X_test[:1000], y_test[:1000])
defenses = {  # each builds its layer over a given oracle
    "rounded (2 decimals)": lambda o: Rounded(o, decimals=2),
    "Gaussian noise σ=0.05": lambda o: GaussianNoise(o, sigma=0.05),
    "reverse sigmoid": lambda o: ReverseSigmoid(o, beta=0.7, gamma=0.4),
    "MAD ε=0.5": lambda o: MAD(o, surrogate=surrogate, epsilon=0.5),
    "label flips η=0.1": lambda o: RandomFlips(o, rate=0.1),
    "label only": lambda o: LabelOnly(o),
}
for name, defend in defenses.items():
    u = utility_cost(defend(LocalOracle(victim, domain=domain)), X_test, y_test)
    print(f"{name:24s} accuracy loss {u['accuracy_loss']:+.3f}   "
          f"mean L1 distortion {u.get('mean_l1', float('nan')):.3f}")

# %% [markdown]
# ## What each perturbation costs the attacker
#
# Uniform retraining from labels (the passive baseline) against each defense, at one
# budget. Label-only answers cost the attacker nothing here: retraining reads labels
# anyway. Label flips are what hurt it.

# %%
budget = 300 if QUICK else 2000
for name, defend in defenses.items():
    o = defend(LocalOracle(victim, domain=domain))
    res = mlextract.extract(o, method="retraining", n_queries=budget, random_state=0)
    print(f"{name:24s} queries {res.n_queries:5d}   "
          f"1-R_test {metrics.agreement(victim, res.model, X_test):.3f}")

# %% [markdown]
# ## Detecting an attack in the query stream: PRADA
#
# Honest users send natural inputs: the distance from each new query to the closest
# earlier one of the same class is roughly normally distributed. A Lowd–Meek attacker
# bisects towards the decision boundary, and its distances shrink geometrically.

# %%
def benign_stream(seed, n=2000):
    rng = np.random.default_rng(seed)
    return X_test[rng.choice(len(X_test), n, replace=False)]


def bisection_stream(n, seed=0):
    rng = np.random.default_rng(seed)
    pts = []
    while len(pts) < n:
        a, b = domain.sample(2, random_state=rng)
        la, lb = victim.predict(np.vstack([a, b]))
        if la == lb:
            continue
        lo, hi = a, b
        for _ in range(12):
            m = (lo + hi) / 2
            pts.append(m)
            lo, hi = (m, hi) if victim.predict(m[None])[0] == la else (lo, m)
    return np.array(pts[:n])


scaler = StandardScaler().fit(X_train)
benign, attack = PRADA(scaler=scaler), PRADA(scaler=scaler)
S, A = benign_stream(0), bisection_stream(600)
print("benign stream flagged at:", benign.run(S, victim.predict(S), batch_size=20))
print("bisection stream flagged at query:", attack.run(A, victim.predict(A)))
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].hist(benign.states_["default"]["D"], bins=40)
ax[0].set_title("benign: min distances")
ax[1].hist(attack.states_["default"]["D"], bins=40)
ax[1].set_title("bisection attack: min distances")
plt.show()

# %% [markdown]
# ## The out-of-distribution detector
#
# A Knockoff-style attacker queries natural data of *another* distribution. Atli et
# al. train a classifier to tell the owner's data from such data, and flag a client
# whose recent queries look out of distribution; an attacker with in-domain data is
# not caught.

# %%
ood_data = domain.sample(3000, random_state=1)
make_ood = lambda: OODDetector(in_distribution=X_train, out_distribution=ood_data)  # noqa: E731
knockoff_queries = domain.sample(500, random_state=2)
print("knockoff-style (uniform) queries flagged at:", make_ood().run(knockoff_queries))
print("in-domain attacker flagged at:", make_ood().run(benign_stream(3, 500)))

# %% [markdown]
# ## Watermarks
#
# A keyed hash of each input marks 0.5% of the queries, which get a wrong label. A copy
# that memorises its training answers reproduces the marks; an independent model does
# not.

# %%
wm = Watermark(LabelOnly(LocalOracle(victim, domain=domain)), key="owner secret", rate=0.005)
Xq = domain.sample(20000 if QUICK else 60000, random_state=3)
stolen = KNeighborsClassifier(n_neighbors=1).fit(Xq, wm.query(Xq))
marks = wm.watermarks_
independent = LogisticRegression(max_iter=1000).fit(X_test[:2000], y_test[:2000])
ref = dict(X_reference=X_test[:2000], y_reference=victim.predict(X_test[:2000]))
v_stolen = verify_watermark(stolen, *marks, **ref)
v_indep = verify_watermark(independent, *marks, **ref)
print("stolen copy:      ", v_stolen)
print("independent model:", v_indep)

# %% [markdown]
# ## Exercises
#
# 1. Raise the label-flip rate until the retrained copy falls below 90% agreement.
#    What does it cost honest users at that rate?
# 2. Split the bisection stream between two clients. Is PRADA still triggered? Then
#    pool them with `PRADA(groups={"a": "g", "b": "g"})`.
# 3. Does the watermark survive when the stolen copy is a logistic regression instead
#    of a 1-nearest-neighbour model? Why?
#
# **References.** Juuti et al., *PRADA*, EuroS&P 2019. Atli et al., *Extraction of
# Complex DNN Models: Real Threat or Boogeyman?*, 2020. Lee et al., *Defending Against NN
# Model Stealing Attacks Using Deceptive Perturbations*, 2019. Orekondy et al.,
# *Prediction Poisoning*, ICLR 2020. Szyller et al., *DAWN*, ACM MM 2021. Kesarwani et al.,
# *Model Extraction Warning in MLaaS Paradigm*, ACSAC 2018.

# %%
# Headlines: PRADA flags the bisection attack and not the benign stream; the
# watermark convicts the stolen copy and clears the independent model.
assert benign.queries_until_flag() is None and attack.queries_until_flag() is not None
assert v_stolen["stolen"] and not v_indep["stolen"]
