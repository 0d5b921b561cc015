"""An oracle that asks a prediction API over HTTP (``mlextract serve`` or alike)."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
import uuid

import httpx
import numpy as np

from .._exceptions import BudgetExhausted, OracleError
from ._base import Oracle, _Meter
from ._domain import Domain

__all__ = ["HTTPOracle"]

_RETRY_STATUS = {429, 500, 502, 503, 504}


def _session_from_journal(path) -> str:
    """A session id kept in the journal file, so a resumed run reuses it."""
    con = sqlite3.connect(str(path))
    try:
        con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = con.execute("SELECT value FROM meta WHERE key='http_session'").fetchone()
        if row is None:
            sid = uuid.uuid4().hex
            con.execute("INSERT INTO meta VALUES ('http_session', ?)", (sid,))
            con.commit()
            return sid
        return row[0]
    finally:
        con.close()


class HTTPOracle(Oracle):
    """The victim is a prediction API reached over HTTP.

    It speaks the JSON of ``mlextract serve`` (``GET /v1/model``, ``POST
    /v1/predict``), and is an Oracle like any other: it counts, budgets, logs and
    journals queries, so every attack runs against it unchanged.

    Parameters
    ----------
    url : str
        The API's base address, e.g. ``"http://127.0.0.1:8000"``.
    api_key : str, default=None
        Sent as ``Authorization: Bearer KEY``.
    timeout : float, default=10.0
        Seconds per request.
    retries : int, default=5
        Further attempts after a timeout, a connection failure, a 5xx or a 429, with
        exponential backoff and jitter (``Retry-After`` is honoured).
    backoff : float, default=0.1
        First wait, in seconds; doubled at each attempt up to ``max_backoff``.
    max_backoff : float, default=5.0
    batch_size : int, default=1000
        Rows per request; a larger batch is sent in several requests.
    budget : int, default=None
        Client-side lifetime cap on paid rows.
    journal : str or Path, default=None
        SQLite journal: a re-run replays its answers, and its session id makes
        every request's idempotency key the same as in the interrupted run, so the
        server answers requests it already billed from its log, free.
    domain : Domain, default=None
        Overrides the domain the API publishes.
    transport : httpx transport, default=None
        For tests (e.g. ``httpx.ASGITransport(app)`` or a mock transport).

    Notes
    -----
    A request's idempotency key is a hash of the session id and the rows it
    carries: a retry of a request the server already answered is not billed twice,
    and a repeated identical batch in the same session is answered from the
    server's log.

    Examples
    --------
    >>> oracle = HTTPOracle("http://127.0.0.1:8000", api_key="...")  # doctest: +SKIP
    >>> oracle.query(X[:10])                                           # doctest: +SKIP
    """

    def __init__(self, url, api_key=None, *, timeout=10.0, retries=5, backoff=0.1,
                 max_backoff=5.0, batch_size=1000, budget=None, journal=None, domain=None,
                 transport=None):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://; got {url!r}.")
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0; got {retries!r}.")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        if timeout <= 0 or backoff < 0 or max_backoff < backoff:
            raise ValueError("need timeout > 0 and 0 <= backoff <= max_backoff.")
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.batch_size = batch_size
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=self.timeout,
                                    transport=transport)
        self.session = _session_from_journal(journal) if journal else uuid.uuid4().hex
        self.description = self._request("GET", "/v1/model")
        d = self.description
        self.output = d["output"]
        self.n_features = d["n_features"]
        self.allow_missing = bool(d.get("allow_missing", False))
        self.classes_ = None if d.get("classes") is None else np.asarray(d["classes"])
        if domain is not None:
            self.domain = domain
        elif d.get("domain"):
            self.domain = Domain.from_dict(d["domain"])
        else:
            self.domain = None
        remaining = self._request("GET", "/v1/usage").get("remaining")
        if remaining is not None:
            # The API's own budget for this key: attacks plan with it.
            budget = remaining if budget is None else min(int(budget), remaining)
        self._meter = _Meter(budget=budget, journal=journal)
        self.n_requests = 0
        self.n_retries = 0

    # ------------------------------------------------------------------ HTTP
    def _request(self, method, path, payload=None):
        last = None
        wait = self.backoff
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(wait, self.max_backoff) * (0.5 + random.random() / 2))
                wait *= 2
                self.n_retries += 1
            try:
                r = self._client.request(method, path, json=payload)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if r.status_code < 400:
                return r.json()
            try:
                err = r.json().get("error", {})
            except (ValueError, AttributeError):
                err = {}
            msg = err.get("message", r.text[:200])
            code = err.get("code", "")
            if r.status_code == 402:
                raise BudgetExhausted(f"the API refused the batch: {msg}", requested=0)
            if r.status_code in _RETRY_STATUS and code != "throttled":
                last = f"HTTP {r.status_code} {code}: {msg}"
                ra = r.headers.get("retry-after")
                if ra:
                    try:
                        wait = max(wait, float(ra))
                    except ValueError:
                        pass
                continue
            raise OracleError(f"the API answered HTTP {r.status_code} ({code}): {msg}")
        raise OracleError(
            f"the API at {self.url} did not answer {method} {path} after "
            f"{self.retries + 1} attempts; last: {last}."
        )

    def _respond(self, X):
        parts = []
        for start in range(0, X.shape[0], self.batch_size):
            chunk = X[start:start + self.batch_size]
            rows = [[None if v != v else v for v in r] for r in chunk.tolist()]
            body = json.dumps(rows).encode()
            idem = hashlib.blake2b(self.session.encode() + body, digest_size=16).hexdigest()
            reply = self._request("POST", "/v1/predict",
                                  {"inputs": rows, "idempotency_key": idem})
            self.n_requests += 1
            out = reply["outputs"]
            if self.output in ("proba", "logit", "value"):
                out = np.asarray(out, dtype=np.float64)
            else:
                out = np.asarray(out)
            parts.append(out)
        return np.concatenate(parts, axis=0)

    def usage(self) -> dict:
        """The API's own account of this key: used, budget, remaining, flagged."""
        return self._request("GET", "/v1/usage")

    def _signature(self) -> str:
        d = self.description
        return (
            f"HTTPOracle(model={d.get('name')}, output={self.output}, "
            f"n_features={self.n_features}, classes={d.get('classes')})"
        )

    def close(self) -> None:
        super().close()
        self._client.close()
