"""The server's SQLite log: every answered batch, per client, billed exactly once."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

__all__ = ["QueryStore"]


class QueryStore:
    """Every answered batch of every client, in SQLite.

    A batch is written, with the reply that was sent, in one transaction before the
    reply leaves the server. The usage of a client is the sum of its batches' rows,
    so it survives a restart; a retried batch (same client, same idempotency key) is
    found here and answered again without billing.

    Parameters
    ----------
    path : str or Path
        The SQLite file (``":memory:"`` for a throw-away server).
    """

    def __init__(self, path=":memory:"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS batches ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, client TEXT NOT NULL,"
                " idem TEXT NOT NULL, digest TEXT NOT NULL, n_rows INTEGER NOT NULL,"
                " inputs TEXT NOT NULL, reply TEXT NOT NULL, flagged INTEGER NOT NULL,"
                " time REAL NOT NULL, UNIQUE (client, idem))"
            )
        self._usage = {
            c: int(n)
            for c, n in self._con.execute(
                "SELECT client, SUM(n_rows) FROM batches GROUP BY client"
            )
        }

    def usage(self, client: str) -> int:
        """Rows billed to ``client`` so far."""
        return self._usage.get(client, 0)

    def find(self, client: str, idem: str):
        """(digest, reply) of an earlier batch with this idempotency key, or None."""
        with self._lock:
            row = self._con.execute(
                "SELECT digest, reply FROM batches WHERE client=? AND idem=?", (client, idem)
            ).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def record(self, client, idem, digest, inputs, reply, flagged) -> None:
        """Write a batch and its reply, committed before the reply is sent."""
        n = len(inputs)
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.execute(
                    "INSERT INTO batches (client, idem, digest, n_rows, inputs, reply,"
                    " flagged, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (client, idem, digest, n, json.dumps(inputs), json.dumps(reply),
                     int(bool(flagged)), time.time()),
                )
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")
            self._usage[client] = self._usage.get(client, 0) + n

    def batches(self, client: str, *, offset: int = 0, limit: int = 100):
        """A client's own batches, oldest first: (id, idem, n_rows, inputs, reply, time)."""
        with self._lock:
            rows = self._con.execute(
                "SELECT id, idem, n_rows, inputs, reply, time FROM batches WHERE client=?"
                " ORDER BY id LIMIT ? OFFSET ?",
                (client, int(limit), int(offset)),
            ).fetchall()
        return [
            {"id": i, "idempotency_key": k, "n_rows": n, "inputs": json.loads(x),
             "outputs": json.loads(r)["outputs"], "time": t}
            for i, k, n, x, r, t in rows
        ]

    def all_inputs(self, client: str):
        """Every input row a client sent, oldest first (to rebuild its monitor)."""
        with self._lock:
            rows = self._con.execute(
                "SELECT inputs, reply FROM batches WHERE client=? ORDER BY id", (client,)
            ).fetchall()
        for x, r in rows:
            yield json.loads(x), json.loads(r)["outputs"]

    def clients(self):
        with self._lock:
            return [c for (c,) in self._con.execute("SELECT DISTINCT client FROM batches")]

    def close(self):
        with self._lock:
            self._con.close()
