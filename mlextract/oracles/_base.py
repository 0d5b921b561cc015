"""The Oracle: the victim as an attacker sees it, and the meter that counts queries."""

from __future__ import annotations

import threading

import numpy as np

from .._exceptions import BudgetExhausted, OracleError
from ._domain import Domain
from ._log import PAID, REPLAYED, REUSED, Journal, QueryLog, row_hashes

__all__ = ["Oracle", "OUTPUTS"]

OUTPUTS = ("label", "proba", "logit", "value")


class _Meter:
    """Counts, budgets, logs and journals the queries of one victim.

    An oracle and every wrapper built on it share one meter, so a query is counted
    once whichever layer the attacker asks, and the log holds the answer that layer
    returned.
    """

    def __init__(self, *, budget=None, journal=None, signature=""):
        if budget is not None:
            budget = _check_budget(budget, "budget")
        self.budget = budget
        self.n_queries = 0
        self.n_replayed = 0
        self.n_reused = 0
        self.log = QueryLog()
        self.lock = threading.RLock()
        self.journal = None
        self._journal_path = journal
        self._signature = signature

    def __getstate__(self):
        raise TypeError(
            "an oracle cannot be copied or sent to another process: the queries asked "
            "there would not be counted here. Build the oracle inside the worker "
            "function (ctx.map(func, items) with func creating its own LocalOracle)."
        )

    def open_journal(self, signature):
        """Open the journal on first use; ``signature`` is a str or a callable giving it."""
        if self._journal_path is not None and self.journal is None:
            if callable(signature):
                signature = signature()
            self.journal = Journal(self._journal_path, signature=signature)

    def ask(self, oracle, X, *, phase=None, reuse=False, limit=None, stats=None):
        """Answer ``X`` through ``oracle._respond``, counting only paid rows."""
        with self.lock:
            self.open_journal(oracle._signature)
            n = X.shape[0]
            # Hashes serve the cache and the journal; plain queries skip them.
            hashes = row_hashes(X) if (reuse or self.journal is not None) else None
            sources = np.full(n, PAID, dtype=object)
            answers: list = [None] * n
            todo = np.arange(n)
            if reuse:
                found, known = self.log.lookup(hashes)
                for k in np.flatnonzero(found):
                    answers[k] = known[k]
                sources[found] = REUSED
                todo = np.flatnonzero(~found)
            n_replay = 0
            if self.journal is not None:
                n_replay = min(todo.size, self.journal.n_pending)
            n_new = todo.size - n_replay
            if limit is not None and todo.size > limit:
                raise BudgetExhausted(
                    f"this run's budget allows {limit} more queries; the batch needs "
                    f"{todo.size}. The victim was not asked.",
                    requested=int(todo.size),
                    remaining=int(limit),
                )
            if self.budget is not None and self.n_queries + n_new > self.budget:
                left = self.budget - self.n_queries
                raise BudgetExhausted(
                    f"the oracle's budget of {self.budget} queries allows {left} more; "
                    f"the batch needs {n_new}. The victim was not asked.",
                    requested=int(n_new),
                    remaining=int(left),
                )
            if n_replay:
                rep = todo[:n_replay]
                for k, a in zip(rep, self.journal.replay([hashes[k] for k in rep])):
                    answers[k] = a
                sources[rep] = REPLAYED
            if n_new:
                new = todo[n_replay:]
                fresh = oracle._respond_checked(X[new])
                if self.journal is not None:
                    self.journal.record(
                        X[new], fresh, [hashes[k] for k in new], phase
                    )
                if n_new < n:
                    for k, a in zip(new, fresh):
                        answers[k] = a
            out = np.asarray(fresh) if n_new == n else np.asarray(_stack(answers))
            self.n_queries += n_new
            self.n_replayed += n_replay
            self.n_reused += int(np.sum(sources == REUSED))
            if stats is not None:
                stats["paid"] += n_new
                stats["replayed"] += n_replay
                stats["reused"] += int(np.sum(sources == REUSED))
            # The log keeps its own copies: attacks often reuse their query buffers.
            self.log.append(X.copy(), out.copy(), phase=phase, sources=sources, hashes=hashes)
            return out


def _stack(rows):
    if not rows:
        return np.empty((0,))
    first = np.asarray(rows[0])
    if first.ndim == 0:
        try:
            return np.array(rows)
        except ValueError:  # mixed label types
            return np.array(rows, dtype=object)
    return np.stack([np.asarray(r) for r in rows])


def _check_budget(budget, name):
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        raise ValueError(f"{name} must be a non-negative integer or None; got {budget!r}.")
    if budget < 0:
        raise ValueError(f"{name} must be >= 0; got {budget}.")
    return int(budget)


class Oracle:
    """Base class of every oracle: the only way an attack sees a victim.

    ``query(X)`` is the public call: it validates the batch against the domain,
    enforces the budget before the victim is asked, answers, counts each paid row
    once, journals and logs. Subclasses implement ``_respond(X)`` (the raw answer of
    the victim to a validated batch) and set ``output``, ``domain``, ``n_features``,
    ``classes_`` and ``allow_missing``.

    Attributes
    ----------
    output : {"label", "proba", "logit", "value"}
        What an answer is: a label per row (n,), a probability vector (n, k), a
        vector of decision values (n, k), or a regression value (n,).
    n_queries : int
        Queries paid for (asked of the victim), over the oracle's lifetime.
    n_replayed : int
        Rows answered from the journal without asking the victim.
    budget : int or None
        Lifetime cap on paid queries.
    log : QueryLog
        Every answered row.
    """

    output: str = "label"
    classes_ = None
    allow_missing: bool = False
    domain: Domain | None = None
    n_features: int | None = None

    # --------------------------------------------------------------- public API
    def query(self, X, *, phase: str | None = None, reuse: bool = False) -> np.ndarray:
        """Answer a batch of queries.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            The inputs. With ``allow_missing``, NaN marks a feature not supplied.
        phase : str, default=None
            A name recorded in the log beside each row (the attack's step).
        reuse : bool, default=False
            Answer rows already in the log from the log, without paying again.

        Returns
        -------
        answers : ndarray
            Shape (n,) for labels and values, (n, k) for probabilities and logits.

        Raises
        ------
        ValueError
            If the batch is empty, has the wrong width, holds inf, NaN (when
            incomplete queries are not allowed) or points outside a closed domain.
        BudgetExhausted
            If the batch would exceed the budget; the victim is not asked.
        OracleError
            If the victim failed to answer; earlier queries stay counted and logged.
        """
        X = self._validate(X)
        runs = self._runs()
        if not runs:
            return self._meter.ask(self, X, phase=phase, reuse=reuse)
        # Asked through one or more runs (nested extractions, wrappers over a run):
        # every run's cap applies and every run counts the rows.
        caps = [r.run_budget - r.n_asked for r in runs if r.run_budget is not None]
        stats = {"paid": 0, "replayed": 0, "reused": 0}
        out = self._meter.ask(
            self, X, phase=phase, reuse=reuse, limit=min(caps) if caps else None, stats=stats
        )
        for r in runs:
            for key, value in stats.items():
                r.stats[key] += value
        return out

    @property
    def n_queries(self) -> int:
        return self._meter.n_queries

    @property
    def n_replayed(self) -> int:
        return self._meter.n_replayed

    @property
    def budget(self):
        return self._meter.budget

    @property
    def remaining(self):
        """Paid queries left under the lifetime budget (None when unlimited)."""
        b = self._meter.budget
        return None if b is None else b - self._meter.n_queries

    @property
    def log(self) -> QueryLog:
        return self._meter.log

    @property
    def n_classes(self) -> int | None:
        return None if self.classes_ is None else len(self.classes_)

    def close(self) -> None:
        """Close the journal, if any."""
        if self._meter.journal is not None:
            self._meter.journal.close()
            self._meter.journal = None

    # --------------------------------------------------------------- internals
    def _respond(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _runs(self) -> list:
        """The extraction runs this oracle's queries count towards (innermost first)."""
        return []

    def _signature(self) -> str:
        return f"{type(self).__name__}(output={self.output})"

    def _respond_checked(self, X):
        try:
            ans = self._respond(X)
        except (BudgetExhausted, OracleError):
            raise
        except Exception as exc:
            raise OracleError(
                f"the victim failed on a batch of {X.shape[0]} queries: "
                f"{type(exc).__name__}: {exc}. Queries answered before this batch "
                "stay counted and logged."
            ) from exc
        ans = np.asarray(ans)
        if ans.ndim == 0 or ans.shape[0] != X.shape[0]:
            raise OracleError(
                f"the victim answered {ans.shape} for a batch of {X.shape[0]} rows; "
                "expected one answer per row."
            )
        return ans

    def _validate(self, X) -> np.ndarray:
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"queries must be numeric; got {exc}.") from exc
        if X.ndim == 1 and self.n_features is not None and X.size == self.n_features:
            raise ValueError(
                f"X must be 2-D (n_queries, n_features); got a 1-D array of "
                f"{X.size}. Pass X.reshape(1, -1) for a single query."
            )
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_queries, n_features); got shape {X.shape}.")
        if X.shape[0] == 0:
            raise ValueError("empty batch: X has 0 rows; ask at least one query.")
        if self.n_features is not None and X.shape[1] != self.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the oracle expects {self.n_features}."
            )
        if np.isinf(X).any():
            raise ValueError("X contains inf; queries must be finite.")
        if np.isnan(X).any() and not self.allow_missing:
            raise ValueError(
                "X contains NaN, but this oracle does not accept incomplete queries "
                "(allow_missing=False). Supply every feature."
            )
        dom = self.domain
        if dom is not None and dom.closed:
            ok = dom.contains(X, allow_nan=self.allow_missing)
            if not ok.all():
                bad = np.flatnonzero(~ok)
                raise ValueError(
                    f"{bad.size} queries lie outside the oracle's domain (first at row "
                    f"{bad[0]}: {X[bad[0]][:8].tolist()}...). Use domain.project(X) or "
                    "domain.sample(n)."
                )
        return X

    def run(self, *, budget=None) -> RunOracle:
        """A view of this oracle for one extraction run, capped at ``budget`` rows."""
        return RunOracle(self, budget=budget)

    def __repr__(self) -> str:
        b = "inf" if self.budget is None else self.budget
        return (
            f"{type(self).__name__}(output={self.output!r}, n_features={self.n_features},"
            f" n_queries={self.n_queries}/{b})"
        )


class RunOracle(Oracle):
    """One extraction run's view of an oracle: its own cap and counters.

    Queries go to the underlying oracle (which counts, budgets and logs them); this
    view caps the rows the run may ask (paid and replayed), and counts them. Runs
    nest: a run built on another run (an attack calling another attack's
    ``extract`` on ``run.oracle``), or on a wrapper of one, obeys every enclosing
    run's cap, and its rows count in every enclosing run.
    """

    def __init__(self, oracle: Oracle, *, budget=None):
        if not isinstance(oracle, Oracle):
            raise TypeError(
                f"expected an mlextract Oracle; got {type(oracle).__name__}. Wrap a "
                "model with LocalOracle(model) or a URL with HTTPOracle(url, key)."
            )
        self.inner = oracle
        self._meter = oracle._meter
        self.run_budget = None if budget is None else _check_budget(budget, "budget")
        self.stats = {"paid": 0, "replayed": 0, "reused": 0}
        self.start = len(oracle.log)

    def __getattr__(self, name):
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    output = property(lambda self: self.inner.output)
    classes_ = property(lambda self: self.inner.classes_)
    allow_missing = property(lambda self: self.inner.allow_missing)
    domain = property(lambda self: self.inner.domain)
    n_features = property(lambda self: self.inner.n_features)

    @property
    def n_asked(self) -> int:
        """Rows this run asked (paid and replayed; rows reused from the log are free)."""
        return self.stats["paid"] + self.stats["replayed"]

    @property
    def run_remaining(self):
        """Rows this run may still ask, under both its cap and the oracle's budget."""
        caps = [r.run_budget - r.n_asked for r in self._runs() if r.run_budget is not None]
        if self.inner.remaining is not None:
            caps.append(self.inner.remaining + self._meter_pending())
        return None if not caps else max(0, min(caps))

    def _meter_pending(self):
        j = self._meter.journal
        return 0 if j is None else j.n_pending

    def _runs(self):
        return [self, *self.inner._runs()]

    def _validate(self, X):
        return self.inner._validate(X)

    def _respond(self, X):
        return self.inner._respond(X)

    def _signature(self):
        return self.inner._signature()

    def run_log(self) -> QueryLog:
        """The rows logged since this run started."""
        return self.inner.log.since(self.start)
