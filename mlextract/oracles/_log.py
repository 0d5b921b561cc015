"""The in-memory record of every answered query, and the SQLite journal."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import numpy as np

from .._exceptions import JournalMismatch

__all__ = ["QueryLog", "Journal", "row_hashes"]

# Where a row's answer came from.
PAID, REPLAYED, REUSED = "paid", "replayed", "reused"


def row_hashes(X: np.ndarray) -> list[bytes]:
    """Exact hash of each row of a float64 matrix.

    ``-0.0`` is hashed as ``0.0`` and every NaN (a feature not supplied) alike, so
    that two inputs the victim cannot tell apart hash the same.
    """
    X = np.ascontiguousarray(X, dtype=np.float64) + 0.0
    X[np.isnan(X)] = np.nan
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in X]


class QueryLog:
    """Every row an oracle answered: input, answer, phase and where it came from.

    Rows are appended batch by batch; the arrays are concatenated on demand. A log
    is also the attack's cache: :meth:`lookup` finds rows already answered.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features)
    answers : ndarray of shape (n_rows, ...)
    phases : ndarray of str
    sources : ndarray of str
        ``"paid"`` (asked of the victim), ``"replayed"`` (read from a journal) or
        ``"reused"`` (answered from this log, not asked again).
    """

    def __init__(self):
        self._X: list[np.ndarray] = []
        self._answers: list[np.ndarray] = []
        self._phases: list[np.ndarray] = []
        self._sources: list[np.ndarray] = []
        self._hashes: list = []
        self._index: dict[bytes, tuple[int, int]] = {}
        self._indexed = 0  # batches already in the index
        self._n = 0

    def append(self, X, answers, *, phase, sources, hashes=None):
        """Record a batch; ``hashes`` (of :func:`row_hashes`) saves hashing it again."""
        X = np.asarray(X)
        self._X.append(X)
        self._answers.append(np.asarray(answers))
        self._phases.append(np.full(len(X), "" if phase is None else str(phase), dtype=object))
        self._sources.append(np.asarray(sources, dtype=object))
        self._hashes.append(None if hashes is None else list(hashes))
        self._n += len(X)

    def _update_index(self):
        # The index is built lazily: only attacks that reuse answers pay for it.
        while self._indexed < len(self._X):
            b = self._indexed
            hashes = self._hashes[b]
            if hashes is None:
                hashes = row_hashes(self._X[b]) if len(self._X[b]) else []
            for i, h in enumerate(hashes):
                self._index.setdefault(h, (b, i))
            self._hashes[b] = None
            self._indexed += 1

    def lookup(self, hashes):
        """Answers already logged for these row hashes: (mask, list of answers)."""
        self._update_index()
        found = np.zeros(len(hashes), dtype=bool)
        out = [None] * len(hashes)
        for k, h in enumerate(hashes):
            hit = self._index.get(h)
            if hit is not None:
                found[k] = True
                out[k] = self._answers[hit[0]][hit[1]]
        return found, out

    def __len__(self) -> int:
        return self._n

    def _cat(self, parts, empty_shape=(0,)):
        if not parts:
            return np.empty(empty_shape)
        return np.concatenate(parts, axis=0)

    @property
    def X(self) -> np.ndarray:
        return self._cat(self._X, (0, 0))

    @property
    def answers(self) -> np.ndarray:
        return self._cat(self._answers)

    @property
    def phases(self) -> np.ndarray:
        return self._cat(self._phases).astype(str)

    @property
    def sources(self) -> np.ndarray:
        return self._cat(self._sources).astype(str)

    @property
    def n_paid(self) -> int:
        return int(np.sum(self.sources == PAID)) if self._n else 0

    def since(self, start: int) -> QueryLog:
        """A new log holding the rows from position ``start`` on (one run's rows)."""
        out = QueryLog()
        if start >= self._n:
            return out
        X, A = self.X[start:], self.answers[start:]
        out.append(X, A, phase=None, sources=self.sources[start:])
        out._phases = [self.phases[start:].astype(object)]
        return out

    def __repr__(self) -> str:
        if not self._n:
            return "QueryLog(0 rows)"
        src = self.sources
        counts = ", ".join(f"{s}={int(np.sum(src == s))}" for s in (PAID, REPLAYED, REUSED))
        return f"QueryLog({self._n} rows: {counts})"


class Journal:
    """An SQLite journal of answered rows, committed batch by batch.

    Each answered batch is written and committed before the attack sees it. A new
    oracle opened on the same file replays the recorded answers in order, as long as
    each asked row hashes exactly like the recorded one, so an interrupted
    extraction re-run with the same seed pays for no query twice.

    Parameters
    ----------
    path : str or Path
        The SQLite file (created if absent).
    signature : str
        What answers the queries (victim and answer settings). A journal written by
        an oracle of a different signature is refused.
    """

    def __init__(self, path, *, signature: str):
        self.path = Path(path)
        self.signature = signature
        self._con = sqlite3.connect(str(self.path), check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS rows (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
            " x BLOB NOT NULL, answer TEXT NOT NULL, dtype TEXT NOT NULL, phase TEXT,"
            " time REAL NOT NULL)"
        )
        row = self._con.execute("SELECT value FROM meta WHERE key='signature'").fetchone()
        if row is None:
            self._con.execute(
                "INSERT INTO meta VALUES ('signature', ?)", (signature,)
            )
        elif row[0] != signature:
            self._con.close()
            raise JournalMismatch(
                f"journal {self.path} was written by another oracle: recorded "
                f"{row[0]!r}, this oracle is {signature!r}. Use a new journal file."
            )
        self._con.commit()
        self._hashes = [
            h for (h,) in self._con.execute("SELECT hash FROM rows ORDER BY seq")
        ]
        self.position = 0

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def n_pending(self) -> int:
        """Recorded rows not yet replayed by this oracle."""
        return len(self._hashes) - self.position

    def replay(self, hashes) -> list[np.ndarray]:
        """Answers of the next ``len(hashes)`` recorded rows, checking each hash."""
        k = len(hashes)
        start = self.position
        for i, h in enumerate(hashes):
            if self._hashes[start + i] != h:
                raise JournalMismatch(
                    f"query {start + i} differs from the one journal {self.path} "
                    "recorded at that position: a different attack, seed, setting or "
                    "victim. Re-run exactly the interrupted extraction, or use a new "
                    "journal file."
                )
        rows = self._con.execute(
            "SELECT answer, dtype FROM rows WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, start + k),
        ).fetchall()
        self.position += k
        return [np.asarray(json.loads(a), dtype=np.dtype(dt)) for a, dt in rows]

    def record(self, X, answers, hashes, phase) -> None:
        """Append answered rows and commit them (they are past the replay cursor)."""
        if self.position != len(self._hashes):
            raise JournalMismatch(
                "cannot record new rows before every journalled row is replayed."
            )
        now = time.time()
        answers = np.asarray(answers)
        dt = answers.dtype.str
        start = len(self._hashes)
        self._con.executemany(
            "INSERT INTO rows (seq, hash, x, answer, dtype, phase, time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    start + i,
                    h,
                    np.ascontiguousarray(x, dtype=np.float64).tobytes(),
                    json.dumps(np.asarray(a).tolist()),
                    dt,
                    phase,
                    now,
                )
                for i, (x, a, h) in enumerate(zip(X, answers, hashes))
            ],
        )
        self._con.commit()
        self._hashes.extend(hashes)
        self.position = len(self._hashes)

    def close(self) -> None:
        self._con.close()
