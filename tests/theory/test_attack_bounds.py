"""The point of the theory module: attacks spend query counts within their bounds.

Parametrized over the attacks registered in this build that have an entry in
``ATTACK_BOUNDS``; the list grows as attacks land. A registered attack without an
entry is reported as skipped, so the gap stays visible.
"""

import dataclasses

import numpy as np
import pytest

from mlextract import attacks
from mlextract.theory import ATTACK_BOUNDS, QUERY_MODELS, Bound, compare_attack
from mlextract.theory import _attack_bounds as AB

REGISTERED = attacks.available()
WITH_BOUNDS = sorted(set(REGISTERED) & set(ATTACK_BOUNDS))
WITHOUT_BOUNDS = sorted(set(REGISTERED) - set(ATTACK_BOUNDS))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", WITH_BOUNDS)
def test_measured_queries_lie_within_the_bounds(name):
    c = compare_attack(name, random_state=0)
    assert c.query_model == ATTACK_BOUNDS[name].query_model
    assert c.reached, f"{name} did not reach ε={c.eps} (disagreement {c.disagreement})"
    assert c.ok, c.failures()
    asserted = [r for r in c.rows if r["holds"] is not None]
    assert asserted, f"{name}: no applicable bound was checked"
    # a lower bound of another query model is never held against the attack
    for r in c.rows:
        if r["bound"].query_model in ("confidence", "leaf_identity") and \
                r["bound"].query_model != c.query_model:
            assert not r["applicable"]


@pytest.mark.parametrize("name", WITHOUT_BOUNDS or ["(none)"])
def test_registered_attacks_without_an_entry(name):
    if name == "(none)":
        return
    pytest.skip(f"attack {name!r} has no ATTACK_BOUNDS entry yet; add one in "
                "mlextract/theory/_attack_bounds.py")


def test_retraining_is_checked_against_the_passive_bounds():
    assert "retraining" in WITH_BOUNDS
    c = compare_attack("retraining", random_state=1)
    roles = {r["bound"].name: (r["role"], r["holds"]) for r in c.rows}
    assert roles["PAC upper (Blumer et al.)"] == ("suffices", True)
    assert roles["PAC lower (Ehrenfeucht et al.)"] == ("at_least", True)
    assert c.n_queries == ATTACK_BOUNDS["retraining"].setup(1).settings["n_queries"]


def test_entries_are_well_formed():
    for name, entry in ATTACK_BOUNDS.items():
        assert entry.query_model in QUERY_MODELS, name
        setup = entry.setup(0)
        assert {"d", "eps"} <= set(setup.params), name
        assert setup.eval_points.shape[1] == setup.params["d"], name


def test_a_violation_is_reported(monkeypatch):
    # The harness must catch an attack that spends fewer queries than a lower bound.
    entry = ATTACK_BOUNDS["retraining"]
    impossible = Bound(1e9, kind="lower", query_model="passive", name="impossible")
    fake = dataclasses.replace(entry, checks=lambda s, r: [AB.Check(impossible, "at_least")])
    monkeypatch.setitem(AB.ATTACK_BOUNDS, "retraining", fake)
    c = compare_attack("retraining")
    assert not c.ok and "impossible" in c.failures()[0]


def test_unknown_attack_is_a_clear_error():
    with pytest.raises(ValueError, match="ATTACK_BOUNDS"):
        compare_attack("no_such_attack")


class _ReferenceEquationSolving(attacks.Attack):
    """Slow, obviously correct equation solving for binary LR: d + 1 random points."""

    name = "reference_equation_solving"
    outputs = ("proba",)

    def _extract(self, run):
        from sklearn.linear_model import LogisticRegression

        dom = run.oracle.domain
        X = dom.sample(dom.n_features + 1, random_state=run.rng)
        p = run.oracle.query(X)[:, 1]
        A = np.c_[X, np.ones(len(X))]
        theta = np.linalg.solve(A, np.log(p / (1 - p)))
        copy = LogisticRegression().fit(X, np.arange(len(X)) % 2)  # then overwritten
        copy.coef_, copy.intercept_ = theta[None, :-1], theta[-1:]
        run.model = copy


class _Cheat(attacks.Attack):
    """Asks one query and returns the victim: a miscount the harness must catch."""

    name = "cheat"

    def __init__(self, *, victim=None, random_state=None):
        self.victim = victim
        self.random_state = random_state

    def _extract(self, run):
        run.oracle.query(run.oracle.domain.sample(1, random_state=run.rng))
        run.model = self.victim


def test_equation_solving_entry_with_a_reference_attack():
    c = compare_attack("equation_solving", attack=_ReferenceEquationSolving(random_state=0))
    assert c.n_queries == 5 and c.reached and c.ok
    rows = {r["bound"].name: r for r in c.rows}
    assert rows["equation solving, binary LR"]["holds"] is True
    # the label-query packing bound is far above d + 1 but says nothing here
    assert not rows["halfspace packing lower (KMT)"]["applicable"]
    assert rows["halfspace packing lower (KMT)"]["bound"].value > c.n_queries


@pytest.mark.parametrize("name", ["equation_solving", "lowd_meek", "query_synthesis",
                                  "path_finding"])
def test_every_entry_catches_an_attack_that_does_not_pay_for_its_copy(name):
    victim = ATTACK_BOUNDS[name].setup(0).victim
    c = compare_attack(name, attack=_Cheat(victim=victim, random_state=0))
    assert c.n_queries == 1 and c.reached
    assert not c.ok, c.rows


def test_label_entries_with_retraining_as_the_attack():
    from sklearn.linear_model import LogisticRegression

    from mlextract.attacks import Retraining

    att = Retraining(n_queries=3000, model=LogisticRegression(C=1e4, max_iter=2000),
                     random_state=0)
    c = compare_attack("query_synthesis", attack=att)
    assert c.reached and c.ok  # 3000 label queries are above the packing bound
