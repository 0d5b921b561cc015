"""The victims, data and attack settings of the attack × defense matrix.

An *owner* is a trained victim with its data: what it was trained on, the test data
of its honest users, fresh data from the same distribution, natural
out-of-distribution data, and the input domain. A *setup* says how one registered
attack is run against an owner: the oracle output it asks for, its constructor
settings and its budget. ``SETUPS`` maps attack names to setup builders; an attack
that lands later without an entry gets an explicit "no matrix setup" row.

Sizes: ``"smoke"`` (only has to run), ``"quick"`` (seconds per cell) and ``"full"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits, load_sample_images, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from ..oracles import Domain

__all__ = ["Owner", "Setup", "SETUPS", "owner", "setup", "image_patches"]

SIZES = ("smoke", "quick", "full")


@dataclass
class Owner:
    """A victim and its data (all arrays are rows of features)."""

    name: str
    victim: Any
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_fresh: np.ndarray  # more data from the owner's distribution (benign streams, pools)
    X_ood: np.ndarray  # natural out-of-distribution data (the OOD detector's negatives)
    domain: Domain
    tabular: bool
    labels: Any = None  # function(model, X) -> labels, when model.predict is not labels

    def predict(self, model, X):
        return self.labels(model, X) if self.labels is not None else model.predict(X)

    def scaler(self):
        """Standardisation for the detectors (tabular owners only)."""
        return StandardScaler().fit(self.X_train) if self.tabular else None


@dataclass
class Setup:
    """How one attack runs in the matrix."""

    owner: Owner
    output: str  # the oracle output the attacker asks for: "label", "proba" or "logit"
    settings: dict = field(default_factory=dict)
    budget: int | None = None
    note: str = ""
    oracle_domain: bool = True  # False: the oracle publishes no domain (the attack picks lines)


def _quiet_fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def image_patches(which: int, n: int, random_state=0) -> np.ndarray:
    """``n`` 8×8 grey patches of a photograph (sklearn's sample images), digits' scale.

    Natural images that are not digits: a Knockoff attacker's out-of-distribution
    pool (``which=0``, the temple) or the OOD detector's negatives (``which=1``,
    the flower). Each patch is a 32×32 crop averaged down to 8×8, inverted (digits
    are light ink on dark) and scaled to 0–16.
    """
    img = load_sample_images().images[which].mean(axis=2)
    rng = np.random.default_rng(random_state)
    h, w = img.shape
    out = np.empty((n, 64))
    for i in range(n):
        r, c = rng.integers(0, h - 32), rng.integers(0, w - 32)
        p = img[r:r + 32, c:c + 32].reshape(8, 4, 8, 4).mean(axis=(1, 3)).ravel()
        p = 255.0 - p
        lo, hi = p.min(), p.max()
        out[i] = 16.0 * (p - lo) / (hi - lo if hi > lo else 1.0)
    return out


# ------------------------------------------------------------------ owners
@cache
def owner(name: str, random_state: int = 0) -> Owner:
    """Build (once per process) the owner ``name``."""
    rs = random_state
    if name in ("tabular_binary", "tabular_3class", "tree"):
        k = 2 if name == "tabular_binary" else 3
        X, y = make_classification(n_samples=8000, n_features=8, n_informative=5,
                                   n_redundant=1, n_classes=k, random_state=rs)
        dom = Domain.from_data(X)
        if name == "tree":
            victim = DecisionTreeClassifier(max_leaf_nodes=16, random_state=rs)
        else:
            victim = LogisticRegression(max_iter=2000)
        victim.fit(X[:2000], y[:2000])
        return Owner(name, victim, X[:2000], y[:2000], X[2000:4000], y[2000:4000], X[4000:],
                     dom.sample(4000, random_state=rs + 1), dom, tabular=True)
    if name == "moons":
        X, y = make_moons(6000, noise=0.2, random_state=rs)
        victim = CalibratedClassifierCV(SVC(), ensemble=False).fit(X[:400], y[:400])
        dom = Domain.from_data(X)
        return Owner(name, victim, X[:400], y[:400], X[400:2400], y[400:2400], X[2400:],
                     dom.sample(3000, random_state=rs + 1), dom, tabular=True)
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        idx = np.random.default_rng(rs).permutation(len(X))
        X, y = X[idx], y[idx]
        victim = _quiet_fit(MLPClassifier((32,), max_iter=200, random_state=rs),
                            X[:900], y[:900])
        return Owner(name, victim, X[:900], y[:900], X[900:1350], y[900:1350], X[1350:],
                     image_patches(1, 1500, random_state=rs + 1),
                     Domain(np.zeros(64), np.full(64, 16.0)), tabular=False)
    if name in ("tanh_network", "relu_network"):
        from ..nn import Network

        dom = Domain([-1.0] * 6, [1.0] * 6)
        if name == "tanh_network":
            victim = Network.random([6, 4, 3], activation="tanh", random_state=rs)
        else:
            rng = np.random.default_rng(rs)
            victim = Network([rng.normal(size=(6, 4)) / np.sqrt(6), rng.normal(size=(4, 1)) / 2],
                             [rng.normal(size=4) * 0.1, np.zeros(1)], output="logistic")
        X = dom.sample(6000, random_state=rs + 2)
        y = victim.predict(X)
        wide = Domain([-3.0] * 6, [3.0] * 6).sample(3000, random_state=rs + 3)
        ood = wide[np.abs(wide).max(axis=1) > 1.0]  # outside the owner's cube
        return Owner(name, victim, X[:2000], y[:2000], X[2000:4000], y[2000:4000], X[4000:],
                     ood, dom, tabular=True)
    raise KeyError(f"no owner {name!r}.")


# ------------------------------------------------------------------ setups
def _pick(size, smoke, quick, full):
    return {"smoke": smoke, "quick": quick, "full": full}[size]


def _digits_copy(size):
    from ..nn import NumpyMLPClassifier

    return NumpyMLPClassifier((32,), max_iter=_pick(size, 50, 300, 500))


def _active_extraction(size, rs):
    o = owner("tabular_binary", rs)
    n = _pick(size, 40, 80, 200)
    return Setup(o, "label", {"strategy": "uncertainty", "pool": o.X_fresh[:1000],
                              "n_uniform": 100, "n_queries": n}, n + 20)


def _active_synthesis(size, rs):
    n = _pick(size, 20, 60, 300)
    settings = {"n_queries": n, "batch_size": _pick(size, 10, 30, 40)}
    return Setup(owner("moons", rs), "label", settings, n)


def _equation_solving(size, rs):
    return Setup(owner("tabular_3class", rs), "proba", {"family": "auto", "verify": 2}, 60)


def _functionally_equivalent(size, rs):
    return Setup(owner("relu_network", rs), "logit", {}, 5000, oracle_domain=False,
                 note="the oracle publishes no domain: with [-1, 1]^6 published the "
                      "attack found 2 of the 4 units")


def _knockoff_nets(size, rs, pool="ood"):
    o = owner("digits", rs)
    n = _pick(size, 60, 200, 400)
    X_pool = image_patches(0, 1000, random_state=rs) if pool == "ood" else o.X_fresh
    note = ("pool: natural out-of-distribution images (photo patches)" if pool == "ood"
            else "pool: in-domain held-out digits")
    return Setup(o, "proba", {"pool": X_pool, "strategy": "adaptive", "n_queries": n,
                              "model": _digits_copy(size)}, n, note)


def _jacobian_augmentation(size, rs):
    o = owner("digits", rs)
    n = _pick(size, 60, 150, 400)
    return Setup(o, "label", {"seed": o.X_fresh[:30], "n_queries": n,
                              "n_rounds": _pick(size, 1, 2, 3), "step": 2.0,
                              "model": _digits_copy(size)}, n)


def _lowd_meek(size, rs, tol=1e-7):
    return Setup(owner("tabular_binary", rs), "label", {"tol": tol}, 600)


def _mlp_equation_solving(size, rs):
    return Setup(owner("tanh_network", rs), "proba",
                 {"hidden_layer_sizes": (4,), "n_restarts": _pick(size, 1, 2, 4),
                  "max_iter": _pick(size, 300, 5000, 5000)}, 60)


def _path_finding(size, rs):
    return Setup(owner("tree", rs), "proba", {"mode": "top_down"}, _pick(size, 600, 3000, 20000))


def _query_synthesis(size, rs):
    return Setup(owner("tabular_binary", rs), "label", {"epsilon": _pick(size, 0.3, 0.1, 0.05)},
                 _pick(size, 40, 200, 400))


def _retraining(size, rs):
    n = _pick(size, 100, 200, 400)
    return Setup(owner("tabular_binary", rs), "label", {"n_queries": n}, n + 50)


def _semi_supervised(size, rs):
    o = owner("digits", rs)
    n = _pick(size, 60, 150, 300)
    return Setup(o, "proba", {"pool": o.X_fresh, "n_queries": n, "n_rounds": 1,
                              "model": _digits_copy(size)}, n)


def _temperature_distillation(size, rs):
    o = owner("digits", rs)
    n = _pick(size, 60, 150, 300)
    return Setup(o, "proba", {"pool": o.X_fresh, "task_data": o.X_fresh[:20], "n_queries": n,
                              "degrade": "noise", "degraded_epochs": 10,
                              "model": _digits_copy(size)}, n)


#: attack name -> builder(size, random_state) -> Setup
SETUPS = {
    "active_extraction": _active_extraction,
    "active_synthesis": _active_synthesis,
    "equation_solving": _equation_solving,
    "functionally_equivalent": _functionally_equivalent,
    "jacobian_augmentation": _jacobian_augmentation,
    "knockoff_nets": _knockoff_nets,
    "lowd_meek": _lowd_meek,
    "mlp_equation_solving": _mlp_equation_solving,
    "path_finding": _path_finding,
    "query_synthesis": _query_synthesis,
    "retraining": _retraining,
    "semi_supervised": _semi_supervised,
    "temperature_distillation": _temperature_distillation,
}

#: Extra streams for the detector matrix: the Knockoff variant with in-domain data, and a
#: cheaper Lowd–Meek run (fewer queries than PRADA's first test).
VARIANTS = {
    "lowd_meek (tol 1e-3)": ("lowd_meek", lambda size, rs: _lowd_meek(size, rs, tol=1e-3)),
    "knockoff_nets (in-domain pool)": ("knockoff_nets",
                                       lambda size, rs: _knockoff_nets(size, rs, pool="in")),
}


def setup(attack: str, size: str = "quick", random_state: int = 0) -> Setup | None:
    """The matrix setup of an attack (or a variant), None if it has none."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}; got {size!r}.")
    if attack in VARIANTS:
        return VARIANTS[attack][1](size, random_state)
    build = SETUPS.get(attack)
    return None if build is None else build(size, random_state)
