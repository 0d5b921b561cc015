"""The query log and the SQLite journal: an interrupted extraction never pays twice."""

import sqlite3
from contextlib import closing

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from mlextract import JournalMismatch
from mlextract.attacks import Attack
from mlextract.oracles import Domain, Journal, LocalOracle, QueryLog, row_hashes


class Victim:
    """A victim function that counts rows and can fail (or be cut) after N rows."""

    def __init__(self, model, fail_after=None):
        self.model = model
        self.fail_after = fail_after
        self.rows = 0
        self.asked = []

    def __call__(self, X):
        if self.fail_after is not None and self.rows + len(X) > self.fail_after:
            raise TimeoutError("the API timed out")
        self.rows += len(X)
        self.asked.append(np.array(X))
        return self.model.predict_proba(X)


class Batches(Attack):
    """A test attack: ``n_batches`` seeded uniform batches, then a fit on the labels.

    Not registered: the contract test only sees the package's attacks.
    """

    name = "test_batches"
    outputs = ("proba",)

    def __init__(self, *, n_batches=5, batch=10, stop_after=None, random_state=None):
        self.n_batches = n_batches
        self.batch = batch
        self.stop_after = stop_after
        self.random_state = random_state

    def _extract(self, run):
        X_all, y_all = [], []
        for b in range(self.n_batches):
            if self.stop_after is not None and b == self.stop_after:
                raise KeyboardInterrupt("the user pressed Ctrl-C")
            X = run.oracle.domain.sample(self.batch, random_state=run.rng)
            p = run.oracle.query(X, phase=f"batch{b}")
            X_all.append(X)
            y_all.append(p.argmax(axis=1))
            if np.unique(np.concatenate(y_all)).size > 1:
                run.model = LogisticRegression().fit(np.vstack(X_all), np.concatenate(y_all))


@pytest.fixture(scope="module")
def setting():
    X, y = make_classification(n_samples=200, n_features=3, n_redundant=0, random_state=0)
    return LogisticRegression().fit(X, y), Domain.from_data(X)


def _oracle(setting, victim, journal, **kw):
    model, dom = setting
    return LocalOracle(victim, output="proba", domain=dom, classes=[0, 1], journal=journal,
                       **kw)


# ------------------------------------------------------------------ hashes and log
def test_row_hashes_are_exact():
    X = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, np.nextafter(1.0, 2.0)], [np.nan, 1.0],
                  [-np.nan, 1.0]])
    h = row_hashes(X)
    assert h[0] == h[1]  # -0.0 and 0.0 look the same to a victim
    assert h[0] != h[2]  # one ulp apart is another query
    assert h[3] == h[4]  # every NaN means "not supplied"
    assert len(set(h)) == 3


def test_query_log_since_and_lookup():
    log = QueryLog()
    X = np.arange(12.0).reshape(6, 2)
    log.append(X[:4], np.arange(4), phase="a", sources=["paid"] * 4, hashes=row_hashes(X[:4]))
    log.append(X[4:], np.arange(4, 6), phase="b", sources=["replayed"] * 2,
               hashes=row_hashes(X[4:]))
    tail = log.since(3)
    assert len(tail) == 3
    np.testing.assert_array_equal(tail.X, X[3:])
    assert tail.phases.tolist() == ["a", "b", "b"]
    assert tail.sources.tolist() == ["paid", "replayed", "replayed"]
    found, ans = log.lookup(row_hashes(np.array([[2.0, 3.0], [99.0, 0.0]])))
    assert found.tolist() == [True, False] and ans[0] == 1
    assert len(log.since(6)) == 0 and "paid=4, replayed=2" in repr(log)
    assert repr(QueryLog()) == "QueryLog(0 rows)"


# ------------------------------------------------------------------ resume
def test_fresh_run_writes_every_answer_before_the_attack_sees_it(setting, tmp_path):
    path = tmp_path / "run.sqlite"
    seen = []

    class Peek(Batches):
        def _extract(self, run):
            for _ in range(3):
                run.oracle.query(run.oracle.domain.sample(4, random_state=run.rng))
                with closing(sqlite3.connect(path)) as con:  # another reader sees it
                    seen.append(con.execute("SELECT COUNT(*) FROM rows").fetchone()[0])

    oracle = _oracle(setting, Victim(setting[0]), path)
    Peek(random_state=0).extract(oracle)
    assert seen == [4, 8, 12]
    oracle.close()


def test_resume_after_the_victim_fails_asks_nothing_twice(setting, tmp_path):
    path = tmp_path / "run.sqlite"
    # First run: the victim dies after 25 rows, during the 3rd batch of 10.
    v1 = Victim(setting[0], fail_after=25)
    first = Batches(random_state=3).extract(_oracle(setting, v1, path))
    assert first.status == "oracle_error"
    assert "TimeoutError" in first.message
    assert first.n_queries == 20 and v1.rows == 20
    assert len(first.queries) == 20  # the paid queries are kept in the result
    assert first.model is not None  # the best copy so far

    # Re-run with the same seed and journal: the 20 paid rows are replayed.
    v2 = Victim(setting[0])
    o2 = _oracle(setting, v2, path)
    second = Batches(random_state=3).extract(o2)
    assert second.status == "success"
    assert v2.rows == 30 and o2.n_queries == 30 and o2.n_replayed == 20
    assert second.n_queries == 30 and second.n_replayed == 20
    asked_twice = {r.tobytes() for r in np.vstack(v1.asked)} & {
        r.tobytes() for r in np.vstack(v2.asked)
    }
    assert not asked_twice
    assert second.queries.sources.tolist() == ["replayed"] * 20 + ["paid"] * 30

    # The resumed run equals an uninterrupted one: same queries, answers and copy.
    v3 = Victim(setting[0])
    whole = Batches(random_state=3).extract(_oracle(setting, v3, None))
    np.testing.assert_array_equal(second.queries.X, whole.queries.X)
    np.testing.assert_array_equal(second.queries.answers, whole.queries.answers)
    np.testing.assert_array_equal(second.model.coef_, whole.model.coef_)

    # A third run replays everything and asks the victim nothing.
    v4 = Victim(setting[0])
    third = Batches(random_state=3).extract(_oracle(setting, v4, path))
    assert v4.rows == 0 and third.n_queries == 0 and third.n_replayed == 50
    o2.close()


def test_resume_after_the_attack_is_interrupted(setting, tmp_path):
    """An exception out of the attack (Ctrl-C) leaves the journal usable."""
    path = tmp_path / "run.sqlite"
    v1 = Victim(setting[0])
    o1 = _oracle(setting, v1, path)
    with pytest.raises(KeyboardInterrupt):
        Batches(stop_after=2, random_state=5).extract(o1)
    assert v1.rows == 20 and o1.n_queries == 20
    o1.close()
    v2 = Victim(setting[0])
    res = Batches(random_state=5).extract(_oracle(setting, v2, path))
    assert v2.rows == 30 and res.n_replayed == 20 and res.n_queries == 30


def test_a_budget_counts_replayed_rows_so_reruns_ask_the_same(setting, tmp_path):
    path = tmp_path / "run.sqlite"
    r1 = Batches(random_state=1).extract(_oracle(setting, Victim(setting[0]), path), budget=25)
    assert r1.status == "budget_exhausted" and r1.n_queries == 20
    v2 = Victim(setting[0])
    r2 = Batches(random_state=1).extract(_oracle(setting, v2, path), budget=25)
    assert r2.status == "budget_exhausted" and r2.n_queries == 0 and v2.rows == 0
    assert r2.n_replayed == 20


@pytest.mark.parametrize("change", ["seed", "domain"])
def test_a_different_rerun_is_a_journal_mismatch(setting, tmp_path, change):
    path = tmp_path / "run.sqlite"
    Batches(random_state=0).extract(_oracle(setting, Victim(setting[0]), path))
    v = Victim(setting[0])
    if change == "seed":
        oracle = _oracle(setting, v, path)
        attack = Batches(random_state=1)
    else:  # the same seed, but the attacker samples a wider box
        wider = Domain(setting[1].lower - 1, setting[1].upper + 1)
        oracle = LocalOracle(v, output="proba", domain=wider, classes=[0, 1], journal=path)
        attack = Batches(random_state=0)
    with pytest.raises(JournalMismatch, match="differs from the one journal"):
        attack.extract(oracle)
    assert v.rows == 0


def test_the_same_queries_in_other_batches_replay(setting, tmp_path):
    """Replay matches rows, not batches: the same rows cut differently replay."""
    path = tmp_path / "run.sqlite"
    Batches(random_state=0).extract(_oracle(setting, Victim(setting[0]), path))
    v = Victim(setting[0])
    res = Batches(n_batches=10, batch=5, random_state=0).extract(_oracle(setting, v, path))
    assert v.rows == 0 and res.n_replayed == 50


def test_a_journal_of_another_oracle_is_refused(setting, tmp_path):
    path = tmp_path / "run.sqlite"
    Batches(random_state=0).extract(_oracle(setting, Victim(setting[0]), path))
    other = _oracle(setting, Victim(setting[0]), path, decimals=2)
    with pytest.raises(JournalMismatch, match="written by another oracle"):
        other.query(np.zeros((1, 3)))
    assert other.n_queries == 0


def test_journal_round_trips_answers_exactly(tmp_path):
    path = tmp_path / "j.sqlite"
    j = Journal(path, signature="sig")
    X = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    answers = np.array([[1 / 3, 2 / 3], [np.nextafter(0.5, 1.0), 0.5], [1e-300, 1.0]])
    j.record(X, answers, row_hashes(X), "p")
    j.close()
    j2 = Journal(path, signature="sig")
    assert len(j2) == 3 and j2.n_pending == 3
    out = np.stack(j2.replay(row_hashes(X[:2])))
    assert out.tobytes() == answers[:2].tobytes()
    assert j2.n_pending == 1
    with pytest.raises(JournalMismatch, match="before every journalled row is replayed"):
        j2.record(X[:1], answers[:1], row_hashes(X[:1]), None)
    j2.close()


def test_label_answers_replay_with_their_type(tmp_path):
    path = tmp_path / "labels.sqlite"
    X = np.array([[0.0], [1.0], [2.0]])

    def f(X):
        return np.where(X[:, 0] > 0.5, "spam", "ham")

    first = LocalOracle(f, n_features=1, journal=path).query(X)
    again = LocalOracle(f, n_features=1, journal=path)
    out = again.query(X)
    assert out.tolist() == first.tolist() == ["ham", "spam", "spam"]
    assert again.n_queries == 0 and again.n_replayed == 3
