"""ExtractionResult: a frozen record with an honest status."""

import dataclasses

import numpy as np
import pytest

from mlextract.attacks import STATUSES, ExtractionResult
from mlextract.oracles import QueryLog, row_hashes


def _result(**kw):
    base = dict(model=None, n_queries=3, status="success", message="done.", elapsed=0.25)
    base.update(kw)
    return ExtractionResult(**base)


def test_fields_and_defaults():
    r = _result()
    assert r.success and r.status == "success" and r.n_queries == 3
    assert isinstance(r.queries, QueryLog) and len(r.queries) == 0
    assert r.n_replayed == 0 and r.attack == "" and r.info == {}
    assert _result().info is not r.info  # no shared mutable default


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_every_status_is_accepted_and_only_success_succeeds(status):
    assert _result(status=status).success is (status == "success")


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="unknown status 'done'; expected one of"):
        _result(status="done")


def test_frozen():
    r = _result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.n_queries = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.status = "success"


def test_repr_shows_the_important_fields_first():
    log = QueryLog()
    X = np.zeros((2, 1))
    log.append(X, np.zeros(2), phase="p", sources=["paid", "paid"], hashes=row_hashes(X))
    r = _result(model=object(), status="budget_exhausted", message="ran out.", queries=log,
                n_replayed=4, attack="retraining", info={"b": 1, "a": 2})
    text = repr(r)
    lines = text.splitlines()
    assert lines[0] == "ExtractionResult("
    assert lines[1].strip() == "success: False"
    assert lines[2].strip() == "status: 'budget_exhausted'"
    assert "n_queries: 3 (+4 replayed)" in text
    assert "model: object" in text and "elapsed: 0.250 s" in text
    assert "info: {a, b}" in text and "attack: 'retraining'" in text
