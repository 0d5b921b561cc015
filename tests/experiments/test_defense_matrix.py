"""The attack × defense matrix and the detector matrix (mlextract/experiments/defense_matrix.py)."""

import numpy as np
import pytest

from mlextract.defenses import PRADA, RandomFlips
from mlextract.experiments import experiments
from mlextract.experiments._matrix_setups import SETUPS, owner, setup
from mlextract.experiments._registry import Context
from mlextract.experiments.defense_matrix import (
    NO_SETUP,
    DefenseSpec,
    _benign_job,
    _stream_job,
    available_attacks,
    defended_oracle,
    defense_grid,
    defense_matrix,
    detector_matrix,
    rounding_checks,
    run_cell,
    utility_row,
)
from mlextract.oracles import LocalOracle

STATUSES = {"success", "approximate", "budget_exhausted", "oracle_error", "no_convergence"}


def _ctx(tmp_path, smoke=True):
    return Context(quick=True, smoke=smoke, out_dir=tmp_path, progress=False)


def _table(tables, name):
    return next(t for t in tables if t.name == name)


def test_registered():
    names = {e.name for e in experiments()}
    assert {"defense_matrix", "detector_matrix"} <= names


def test_every_registered_attack_has_a_setup():
    assert set(available_attacks()) <= set(SETUPS)


@pytest.mark.timeout(120)
def test_every_attack_composes_with_every_defense():
    """Each cell is a copy with numbers or an explicit text, never an exception."""
    from mlextract import attacks

    for name in available_attacks():
        cls = attacks.get(name)
        st = setup(name, "smoke")
        for spec in defense_grid("smoke"):  # every defense, one strength each
            c = run_cell(name, spec, "smoke", n_uniform=200)
            if c["status"] in STATUSES:
                assert c["queries"] == c["result"].n_queries <= st.budget
                if c["result"].model is not None:
                    assert 0 <= c["agree_test"] <= 100 and 0 <= c["agree_unif"] <= 100
                    assert c["text"] == f"{c['agree_test']:.1f}"
                else:
                    assert c["text"].endswith("no model")
            elif c["status"] == "refused":
                # refused exactly when the defended answers are not among the attack's outputs
                oracle = defended_oracle(spec, st.owner, st.output)
                assert oracle.output not in cls.outputs
                assert c["text"].startswith("refused: needs ") and c["queries"] is None
            else:
                assert c["status"] == "n/a", (name, spec, c)
                assert c["text"].startswith("n/a: ")
                with pytest.raises(ValueError):
                    defended_oracle(spec, st.owner, st.output)


def test_refusals_and_inapplicable_defenses_say_so():
    c = run_cell("equation_solving", DefenseSpec("label_only"), "smoke")
    assert c["status"] == "refused" and c["text"] == "refused: needs proba"
    c = run_cell("functionally_equivalent", DefenseSpec("gaussian_noise", 0.1), "smoke")
    assert c["status"] == "n/a" and "needs probabilities" in c["text"]


def test_label_attackers_see_the_perturbation_on_labels():
    own = owner("tabular_binary")
    spec = DefenseSpec("random_flips", 0.2)
    oracle = defended_oracle(spec, own, "label")
    assert oracle.output == "label"
    X = own.X_test[:300]
    flipped = RandomFlips(LocalOracle(own.victim, output="proba"), rate=0.2).query(X)
    expected = own.victim.classes_[np.argmax(flipped, axis=1)]
    assert np.array_equal(oracle.query(X), expected)
    assert not np.array_equal(expected, own.victim.predict(X))  # some labels did flip


def test_attack_without_setup_gets_an_explicit_row(tmp_path, monkeypatch):
    monkeypatch.delitem(SETUPS, "retraining")
    c = run_cell("retraining", DefenseSpec("none"), "smoke")
    assert c["status"] == "no setup" and c["text"] == NO_SETUP
    tables = defense_matrix(_ctx(tmp_path))
    summary = _table(tables, "defense_matrix_summary")
    row = next(r for r in summary.rows if r[0] == "retraining")
    assert all(v.startswith("no matrix setup: add one to SETUPS") for v in row[1:])


def test_utility_rows():
    own = owner("tabular_3class")
    u = utility_row("tabular_3class", DefenseSpec("none"))
    assert u["accuracy_loss"] == 0 and u["mean_l1"] == 0
    u = utility_row("tabular_3class", DefenseSpec("label_only"))
    assert u["accuracy_loss"] == 0 and "mean_l1" not in u
    u = utility_row("tabular_3class", DefenseSpec("random_flips", 0.2))
    acc = np.mean(own.victim.predict(own.X_test) == own.y_test)
    assert u["accuracy_undefended"] == pytest.approx(acc)
    assert u["accuracy_loss"] > 0


@pytest.mark.timeout(120)
def test_defense_matrix_smoke_tables(tmp_path):
    tables = defense_matrix(_ctx(tmp_path))
    labels = [s.label for s in defense_grid("smoke")]
    summary = _table(tables, "defense_matrix_summary")
    assert summary.columns == ["attack"] + labels
    run = [r[0] for r in summary.rows]
    assert set(run) == {"equation_solving", "lowd_meek"}
    cells = _table(tables, "defense_matrix_cells")
    assert len(cells.rows) == len(run) * len(labels)
    utility = _table(tables, "defense_matrix_utility")
    assert utility.columns == ["owner"] + labels
    assert {r[0] for r in utility.rows} == {"tabular_3class", "tabular_binary"}
    checks = _table(tables, "defense_matrix_checks_rounding")
    assert [r[0] for r in checks.rows] == [
        "equation solving vs rounded 5d", "equation solving vs rounded 4d",
        "equation solving vs rounded 2d"]


@pytest.mark.timeout(120)
def test_detector_matrix_smoke_tables(tmp_path):
    tables = detector_matrix(_ctx(tmp_path))
    attacks_t = _table(tables, "detector_matrix_attacks")
    assert attacks_t.columns == ["stream", "owner", "queries", "PRADA δ=0.9", "OOD",
                                 "TreeMonitor"]
    streams = [r[0] for r in attacks_t.rows]
    assert {"lowd_meek", "path_finding", "lowd_meek (tol 1e-3)"} <= set(streams)
    for r in attacks_t.rows:
        for v in r[3:]:
            assert v == "n/a" or v.startswith(("flagged at", "not flagged after"))
    benign = _table(tables, "detector_matrix_benign")
    assert {(r[0], r[1]) for r in benign.rows} == {
        (o, k) for o in ("tabular_binary", "tree") for k in ("in order", "shuffled", "drawn")}
    assert all(r[3] == 2 for r in benign.rows)  # seeds under smoke


# ------------------------------------------------------------------ paper checks (quick size)
@pytest.mark.timeout(60)
def test_rounding_does_not_stop_equation_solving():
    """Tramèr et al.: rounding to 4–5 decimals leaves equation solving at ≥ 99%."""
    by = {}
    for d in (5, 4, 2):
        spec = DefenseSpec("rounded", d)
        by[("equation_solving", spec.label)] = run_cell("equation_solving", spec, "quick")
    table = rounding_checks(by, ["equation_solving"])
    for row, d in zip(table.rows[:2], (5, 4)):
        c = by[("equation_solving", f"rounded {d}d")]
        assert c["agree_test"] >= 99.0 and c["agree_unif"] >= 99.0
        assert row[2:5] == [c["queries"], c["agree_test"], c["agree_unif"]]
        assert row[5] == "yes"


@pytest.mark.timeout(60)
def test_prada_flags_the_line_search_stream():
    r = _stream_job(("lowd_meek", "quick", 0))
    at = r["flags"]["PRADA δ=0.9"]
    assert at is not None and at <= r["n"]
    # the same stream fed one query at a time flags within the same batch of 10
    res = run_cell("lowd_meek", DefenseSpec("none"), "quick", n_uniform=100)["result"]
    own = owner("tabular_binary")
    X = res.queries.X
    det = PRADA(delta=0.9, scaler=own.scaler())
    one = det.run(X, own.victim.predict(X), batch_size=1)
    assert one is not None and at - 10 < one <= at


@pytest.mark.timeout(60)
def test_ood_detector_flags_ood_knockoff_not_in_domain_knockoff():
    ood = _stream_job(("knockoff_nets", "quick", 0))
    ind = _stream_job(("knockoff_nets (in-domain pool)", "quick", 0))
    assert ood["flags"]["OOD"] is not None
    assert ind["flags"]["OOD"] is None
    assert ood["flags"]["PRADA δ=0.9"] is None and ind["flags"]["PRADA δ=0.9"] is None


@pytest.mark.timeout(60)
def test_no_false_positive_on_quick_benign_streams():
    b = _benign_job(("tabular_binary", 1000, list(range(5)), 0))
    assert len(b["results"]) == 15
    for (kind, seed), (n, flags) in b["results"].items():
        assert n == 1000
        assert flags == {"PRADA δ=0.9": None, "OOD": None}, (kind, seed)
