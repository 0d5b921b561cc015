"""The point of the theory module: attacks spend query counts within their bounds.

Parametrized over the attacks registered in this build that have an entry in
``ATTACK_BOUNDS``; the list grows as attacks land. A registered attack without an
entry is reported as skipped, so the gap stays visible.
"""

import dataclasses

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
