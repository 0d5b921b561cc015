"""The attacks' measured query counts against the bounds of their query model.

Adding an attack means adding one entry to :data:`ATTACK_BOUNDS`: its query model, a
small seeded victim (``setup``), and the bounds to hold it to (``checks``). The test
``tests/theory/test_attack_bounds.py`` runs every registered attack that has an entry,
and ``mlextract reproduce`` prints the comparison. For example::

    def _my_checks(setup, measured):
        d, got = setup.params["d"], measured.eps_upper
        return [Check(query_synthesis_lower_bound(d, got), "at_least", eps=got),
                Check(centroid_cut_queries(d + 1, got), "reference", eps=got)]

    ATTACK_BOUNDS["my_attack"] = AttackBounds("synthesis", _halfspace_setup, _my_checks)

A lower bound is held against the attack only when its query model is the attack's
or a stronger one (synthesis ⊃ pool ⊃ passive): a label-query lower bound says
nothing about an attack that reads confidences or leaf identities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._random import check_rng
from ._active import centroid_cut_queries, query_synthesis_lower_bound
from ._exact import (
    binary_lr_queries,
    mlp_queries,
    mlp_unknowns,
    path_finding_lower_bound,
    path_finding_queries,
    relu_network_queries,
)
from ._passive import pac_lower_bound, pac_upper_bound
from ._record import QUERY_MODELS, Bound

__all__ = ["ATTACK_BOUNDS", "AttackBounds", "AttackComparison", "Check", "Measured", "Setup",
           "compare_attack"]

#: Roles of a bound in a comparison:
#: "at_least": the attack reached ε, so it must have spent ≥ the bound;
#: "at_most": the attack's own count formula, n ≤ the bound;
#: "suffices": the attack spent ≥ the bound, so it must have reached ε;
#: "reference": printed beside the measurement, not asserted (order-only bounds, or
#: bounds of another query model, shown to make the gap visible).
ROLES = ("at_least", "at_most", "suffices", "reference")

# A lower bound proved for a stronger query model holds for a weaker one: pool and
# passive attackers can do no more than one who synthesises queries anywhere.
_WEAKER = {"synthesis": {"synthesis", "pool", "passive"}, "pool": {"pool", "passive"},
           "passive": {"passive"}, "confidence": {"confidence"},
           "leaf_identity": {"leaf_identity"}}


@dataclass(frozen=True)
class Setup:
    """A small seeded victim for one attack.

    Attributes
    ----------
    oracle : Oracle
    settings : dict
        The attack's constructor settings (without ``random_state``).
    victim : estimator
        The model behind the oracle, to measure the copy's disagreement.
    eval_points : ndarray
        Points drawn from the distribution D under which ε is measured.
    params : dict
        What the bounds need: d, eps, delta, leaves, ...
    budget : int or None
    """

    oracle: Any
    settings: dict
    victim: Any
    eval_points: np.ndarray
    params: dict
    budget: int | None = None


@dataclass(frozen=True)
class Check:
    """A bound and how the measurement is held to it.

    ``eps`` is the accuracy at which the bound was evaluated (default: the entry's
    ε); an ``at_least`` check applies when the attack reached it.
    """

    bound: Bound
    role: str
    eps: float | None = None

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}; got {self.role!r}.")


@dataclass(frozen=True)
class Measured:
    """What one run achieved, handed to an entry's ``checks``.

    Attributes
    ----------
    result : ExtractionResult
    disagreement : float
        Fraction of the evaluation points where copy and victim disagree.
    eps_upper : float
        A conservative upper estimate of the true disagreement (Monte Carlo
        estimate plus three standard errors plus 3/n): bounds evaluated at the
        achieved accuracy use it, so sampling noise cannot inflate a lower bound.
    """

    result: Any
    disagreement: float
    eps_upper: float


@dataclass(frozen=True)
class AttackBounds:
    """One entry of :data:`ATTACK_BOUNDS`.

    Attributes
    ----------
    query_model : str
        The attack's query model (a key of :data:`QUERY_MODELS`).
    setup : callable
        ``random_state -> Setup``.
    checks : callable
        ``(setup, measured) -> list of Check`` (see :class:`Measured`).
    description : str
    """

    query_model: str
    setup: Callable[[Any], Setup]
    checks: Callable[[Setup, Any], list]
    description: str = ""

    def __post_init__(self):
        if self.query_model not in QUERY_MODELS:
            raise ValueError(f"unknown query model {self.query_model!r}.")


@dataclass(frozen=True)
class AttackComparison:
    """An attack's measured queries beside the bounds of its query model.

    Attributes
    ----------
    attack, query_model, status : str
    n_queries : int
        Counted by the oracle.
    disagreement : float
        Measured on the setup's evaluation points (distribution D).
    eps : float
        The entry's target accuracy.
    eps_upper : float
        Conservative upper estimate of the achieved disagreement.
    rows : list of dict
        One per check: bound, role, eps (where it was evaluated), applicable, holds
        (True/False/None), why.
    """

    attack: str
    query_model: str
    status: str
    n_queries: int
    disagreement: float
    eps: float
    eps_upper: float = 1.0
    rows: list = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.disagreement <= self.eps

    @property
    def ok(self) -> bool:
        """True when every applicable, asserted check holds."""
        return all(r["holds"] is not False for r in self.rows)

    def failures(self) -> list[str]:
        return [f"{r['bound'].name}: {r['why']}" for r in self.rows if r["holds"] is False]


def _applicable(bound: Bound, model: str) -> bool:
    if bound.is_lower and not bound.is_upper:
        return model in _WEAKER.get(bound.query_model, set())
    return bound.query_model == model


def compare_attack(name, *, random_state=0, attack=None) -> AttackComparison:
    """Run the attack registered as ``name`` on its entry's victim and compare.

    Parameters
    ----------
    name : str
        A key of :data:`ATTACK_BOUNDS`.
    random_state : int
        Seeds the victim and the attack.
    attack : Attack, default=None
        Run this configured attack instead of the registered class with the entry's
        settings (to hold your own configuration, or a reference implementation, to
        the same bounds).

    Returns
    -------
    AttackComparison

    Examples
    --------
    >>> c = compare_attack("retraining")
    >>> c.ok, c.query_model
    (True, 'passive')
    """
    from .. import attacks

    if name not in ATTACK_BOUNDS:
        raise ValueError(
            f"no bounds entry for attack {name!r}; entries: {sorted(ATTACK_BOUNDS)}. Add one "
            "to mlextract.theory._attack_bounds.ATTACK_BOUNDS."
        )
    entry = ATTACK_BOUNDS[name]
    setup = entry.setup(random_state)
    if attack is None:
        attack = attacks.get(name)(**setup.settings, random_state=random_state)
    elif not isinstance(attack, attacks.Attack):
        raise TypeError(f"attack must be an mlextract Attack; got {type(attack).__name__}.")
    result = attack.extract(setup.oracle, budget=setup.budget)
    if result.model is None:
        disagreement = 1.0
    else:
        disagreement = float(np.mean(
            np.asarray(setup.victim.predict(setup.eval_points))
            != np.asarray(result.model.predict(setup.eval_points))))
    n_eval = len(setup.eval_points)
    eps_upper = min(0.499, disagreement + 3 * np.sqrt(disagreement * (1 - disagreement) / n_eval)
                    + 3 / n_eval)
    measured = Measured(result=result, disagreement=disagreement, eps_upper=float(eps_upper))
    n = int(result.n_queries)
    rows = []
    for check in entry.checks(setup, measured):
        b, role = check.bound, check.role
        at = setup.params["eps"] if check.eps is None else check.eps
        applicable = _applicable(b, entry.query_model)
        holds, why = None, "shown for reference"
        if not applicable:
            why = f"not applicable: a {b.query_model} bound, the attack is {entry.query_model}"
        elif role == "at_least":
            if disagreement <= at:
                holds = n >= b.value
                why = f"reached ε={at:.3g} with {n} queries; bound {b.value:g}"
            else:
                why = f"ε={at:.3g} not reached (disagreement {disagreement:.3g}): vacuous"
        elif role == "at_most":
            holds = n <= b.value
            why = f"{n} queries against at most {b.value:g}"
        elif role == "suffices":
            if n >= b.value:
                holds = disagreement <= at
                why = f"{n} ≥ {b.value:g} queries gave disagreement {disagreement:.3g} (ε={at:g})"
            else:
                why = f"{n} < {b.value:g} queries: the bound promises nothing"
        rows.append({"bound": b, "role": role, "eps": at, "applicable": applicable,
                     "holds": holds, "why": why})
    return AttackComparison(attack=name, query_model=entry.query_model, status=result.status,
                            n_queries=n, disagreement=disagreement, eps=setup.params["eps"],
                            eps_upper=float(eps_upper), rows=rows)


# ------------------------------------------------------------------ victims
def _box(d):
    from ..oracles import Domain

    return Domain(-np.ones(d), np.ones(d))


def _ball_points(d, n, rng):
    """Uniform points of the unit ball: rotation-invariant, inside the box [-1, 1]^d."""
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X * rng.uniform(0, 1, (n, 1)) ** (1 / d)


def _linear_victim(d, rng, *, intercept=True, scale=2.0):
    """LogisticRegression with the given coefficients, set directly (no fitting noise)."""
    from sklearn.linear_model import LogisticRegression

    w = rng.standard_normal(d)
    w *= scale / np.linalg.norm(w)
    b = 0.3 * rng.standard_normal() if intercept else 0.0
    X = rng.uniform(-1, 1, (64, d))
    y = (X @ w + b > 0).astype(int)
    y[:2] = [0, 1]
    victim = LogisticRegression().fit(X, y)
    victim.coef_ = w[None, :].copy()
    victim.intercept_ = np.array([b])
    return victim


# retraining: passive, label answers on uniform points of the box -------------
def _retraining_setup(random_state):
    from sklearn.linear_model import LogisticRegression

    from ..oracles import LocalOracle

    rng = check_rng(random_state)
    d, eps, delta = 3, 0.05, 0.01
    victim = _linear_victim(d, rng)
    domain = _box(d)
    m = int(pac_upper_bound(d + 1, eps, delta).value)
    return Setup(
        oracle=LocalOracle(victim, output="label", domain=domain),
        settings={"n_queries": m, "model": LogisticRegression(C=1e4, max_iter=2000)},
        victim=victim, eval_points=domain.sample(20_000, random_state=rng),
        params={"d": d, "eps": eps, "delta": delta}, budget=m,
    )


def _retraining_checks(setup, measured):
    d, eps, delta = setup.params["d"], setup.params["eps"], setup.params["delta"]
    return [
        Check(pac_upper_bound(d + 1, eps, delta), "suffices"),
        Check(pac_lower_bound(d + 1, eps, delta), "at_least"),
        Check(query_synthesis_lower_bound(d, eps), "reference"),
        Check(binary_lr_queries(d), "reference"),
    ]


# equation solving: confidence answers ------------------------------------------
def _equation_solving_setup(random_state):
    from ..oracles import LocalOracle

    rng = check_rng(random_state)
    d = 4
    victim = _linear_victim(d, rng)
    domain = _box(d)
    return Setup(
        oracle=LocalOracle(victim, output="proba", domain=domain), settings={},
        victim=victim, eval_points=domain.sample(20_000, random_state=rng),
        params={"d": d, "eps": 1e-3}, budget=100 * (d + 1),
    )


def _equation_solving_checks(setup, measured):
    d, eps = setup.params["d"], setup.params["eps"]
    return [
        Check(binary_lr_queries(d), "at_least"),
        Check(query_synthesis_lower_bound(d, eps), "reference"),
    ]


# label-only attacks on a halfspace through the centre of the box --------------
def _halfspace_setup(random_state):
    from ..oracles import LocalOracle

    rng = check_rng(random_state)
    d = 3
    victim = _linear_victim(d, rng, intercept=False)
    domain = _box(d)
    return Setup(
        oracle=LocalOracle(victim, output="label", domain=domain), settings={},
        victim=victim, eval_points=_ball_points(d, 20_000, rng),
        params={"d": d, "eps": 0.02}, budget=5_000,
    )


def _label_halfspace_checks(setup, measured):
    """The packing lower bound at the entry's ε and at the accuracy reached."""
    d, eps, got = setup.params["d"], setup.params["eps"], measured.eps_upper
    return [
        Check(query_synthesis_lower_bound(d, eps), "at_least"),
        Check(query_synthesis_lower_bound(d, got), "at_least", eps=got),
        Check(centroid_cut_queries(d + 1, got), "reference", eps=got),
    ]


def _lowd_meek_checks(setup, measured):
    from ._exact import lowd_meek_queries

    d = setup.params["d"]
    return _label_halfspace_checks(setup, measured) + [
        Check(lowd_meek_queries(d, length=2.0, tau=2e-3), "reference"),
        Check(binary_lr_queries(d), "reference"),
    ]


def _query_synthesis_checks(setup, measured):
    return _label_halfspace_checks(setup, measured)


# path finding: leaf identities with incomplete queries ------------------------
def _path_finding_setup(random_state):
    from sklearn.tree import DecisionTreeClassifier

    from ..oracles import Domain, LocalOracle

    rng = check_rng(random_state)
    d = 3
    X = rng.uniform(0, 1, (400, d))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + 0.3 * rng.standard_normal(400) > 0.2).astype(int)
    victim = DecisionTreeClassifier(max_leaf_nodes=8, random_state=0).fit(X, y)
    domain = Domain(np.zeros(d), np.ones(d))
    return Setup(
        oracle=LocalOracle(victim, output="proba", domain=domain), settings={},
        victim=victim, eval_points=domain.sample(20_000, random_state=rng),
        params={"d": d, "eps": 1e-3, "leaves": int(victim.get_n_leaves())}, budget=20_000,
    )


def _path_finding_checks(setup, measured):
    t = setup.victim.tree_
    leaves = t.children_left == -1
    values = t.value[leaves].reshape(leaves.sum(), -1)
    values = values / values.sum(axis=1, keepdims=True)
    n_ids = len(np.unique(np.round(values, 12), axis=0))
    m, d, eps = setup.params["leaves"], setup.params["d"], setup.params["eps"]
    return [
        Check(path_finding_lower_bound(leaves=m, d_cont=d, eps=eps, n_ids=n_ids), "at_least"),
        Check(path_finding_queries(leaves=m, d_cont=d, eps=eps, method="top_down"),
              "reference"),
        Check(path_finding_queries(leaves=m, d_cont=d, eps=eps, method="bottom_up"),
              "reference"),
        # thresholds exact in float32: a search down to the float32 spacing near 1
        Check(dataclasses.replace(
            path_finding_queries(leaves=m, d_cont=d, eps=2.0**-24, method="top_down"),
            name="path finding, top-down to float32 (ε = 2^-24)"), "reference"),
    ]


# pool-based active learning: label answers on a pool drawn from D ---------------
def _pool_setup(random_state):
    from sklearn.linear_model import LogisticRegression

    from ..oracles import LocalOracle

    rng = check_rng(random_state)
    d = 3
    victim = _linear_victim(d, rng, intercept=False)
    pool = _ball_points(d, 3_000, rng)
    return Setup(
        oracle=LocalOracle(victim, output="label", domain=_box(d)),
        settings={"pool": pool, "n_queries": 200,
                  "model": LogisticRegression(C=1e4, max_iter=2000)},
        victim=victim, eval_points=_ball_points(d, 20_000, rng),
        params={"d": d, "eps": 0.05, "delta": 0.05}, budget=200,
    )


def _pool_checks(setup, measured):
    from ._active import cal_queries, halfspace_disagreement_coefficient, margin_based_queries

    d, eps, delta = setup.params["d"], setup.params["eps"], setup.params["delta"]
    got = measured.eps_upper
    return [
        Check(query_synthesis_lower_bound(d, eps, query_model="pool"), "at_least"),
        Check(query_synthesis_lower_bound(d, got, query_model="pool"), "at_least", eps=got),
        Check(cal_queries(d, got, delta, halfspace_disagreement_coefficient(d)), "reference",
              eps=got),
        Check(margin_based_queries(d, got, delta), "reference", eps=got),
        Check(pac_upper_bound(d + 1, got, delta), "reference", eps=got),
    ]


# active synthesis for kernel SVMs, held to the halfspace bounds on a linear victim
def _active_synthesis_setup(random_state):
    setup = _halfspace_setup(random_state)
    return dataclasses.replace(setup, settings={"n_queries": 150}, budget=150,
                               params={**setup.params, "eps": 0.05})


# MLP equation solving: probability answers of a small tanh network ------------
def _mlp_setup(random_state):
    from ..nn import Network
    from ..oracles import LocalOracle

    rng = check_rng(random_state)
    d, h, c = 3, 3, 3
    victim = Network.random([d, h, c], activation="tanh", random_state=rng)
    domain = _box(d)
    return Setup(
        oracle=LocalOracle(victim, output="proba", domain=domain),
        settings={"hidden_layer_sizes": (h,), "n_restarts": 2},
        victim=victim, eval_points=domain.sample(20_000, random_state=rng),
        params={"d": d, "eps": 1e-3, "hidden": h, "classes": c},
        budget=4 * mlp_unknowns(d, h, c),
    )


def _mlp_checks(setup, measured):
    d, h, c = setup.params["d"], setup.params["hidden"], setup.params["classes"]
    return [Check(mlp_queries(d, h, c), "at_least"),
            Check(binary_lr_queries(d), "reference")]


# functionally equivalent extraction: logit answers of a two-layer ReLU network
def _relu_setup(random_state):
    from ..nn import Network
    from ..oracles import LocalOracle

    rng = check_rng(random_state)
    d, h = 4, 3
    victim = Network([rng.standard_normal((d, h)) / np.sqrt(d), rng.standard_normal((h, 1))],
                     [0.1 * rng.standard_normal(h), np.array([0.3])], output="sigmoid")
    return Setup(
        oracle=LocalOracle(victim, output="logit", n_features=d), settings={},
        victim=victim, eval_points=rng.standard_normal((20_000, d)),
        params={"d": d, "eps": 1e-3, "hidden": h}, budget=20_000,
    )


def _relu_checks(setup, measured):
    d, h = setup.params["d"], setup.params["hidden"]
    return [Check(relu_network_queries(d, h), "at_least"),
            Check(mlp_queries(d, h, 2), "reference")]


#: Attack name → how to hold it to the bounds of its query model. Entries for
#: attacks not yet registered are skipped; they use each attack's default settings.
ATTACK_BOUNDS: dict[str, AttackBounds] = {
    "retraining": AttackBounds(
        "passive", _retraining_setup, _retraining_checks,
        "uniform retraining of an affine halfspace in R^3 with the Blumer et al. count"),
    "equation_solving": AttackBounds(
        "confidence", _equation_solving_setup, _equation_solving_checks,
        "binary logistic regression in R^4, probability answers"),
    "lowd_meek": AttackBounds(
        "synthesis", _halfspace_setup, _lowd_meek_checks,
        "a halfspace through the box centre in R^3, label answers"),
    "query_synthesis": AttackBounds(
        "synthesis", _halfspace_setup, _query_synthesis_checks,
        "a halfspace through the box centre in R^3, label answers"),
    "active_extraction": AttackBounds(
        "pool", _pool_setup, _pool_checks,
        "uncertainty sampling from a pool of 3,000 points of the unit ball, halfspace in R^3"),
    "active_synthesis": AttackBounds(
        "synthesis", _active_synthesis_setup, _label_halfspace_checks,
        "boundary synthesis with a kernel copy, on a halfspace through the centre of R^3"),
    "path_finding": AttackBounds(
        "leaf_identity", _path_finding_setup, _path_finding_checks,
        "an 8-leaf tree on [0, 1]^3, leaf identities with incomplete queries"),
    "mlp_equation_solving": AttackBounds(
        "confidence", _mlp_setup, _mlp_checks,
        "a 3-3-3 tanh network on [-1, 1]^3, probability answers"),
    "functionally_equivalent": AttackBounds(
        "confidence", _relu_setup, _relu_checks,
        "a 4-3-1 ReLU network, logit answers, disagreement on N(0, I)"),
}
