"""The prediction API: a FastAPI app serving one model with keys, budgets and monitors."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .._exceptions import OracleError
from ..oracles import LocalOracle, Oracle, labels_from_scores
from ._keys import KeyStore, RateLimiter
from ._store import QueryStore

__all__ = ["create_app", "describe", "MONITOR_ACTIONS"]

#: What the server does to a client its monitor has flagged.
MONITOR_ACTIONS = ("flag", "throttle", "degrade")


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def _error(status, code, message, headers=None):
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _jsonable(a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return [None if v != v else v for v in a.ravel().tolist()] if a.ndim == 1 else [
            _jsonable(r) for r in a
        ]
    return a.tolist()


def describe(oracle: Oracle, *, name: str = "model") -> dict:
    """The model's public description, as BigML published its fields."""
    dom = oracle.domain
    fields = []
    if dom is not None:
        kinds = dom.kinds()
        for j in range(dom.n_features):
            f = {"name": dom.feature_names[j], "kind": kinds[j]}
            lo, hi = dom.lower[j], dom.upper[j]
            f["min"] = None if not np.isfinite(lo) else float(lo)
            f["max"] = None if not np.isfinite(hi) else float(hi)
            if j in dom.categorical:
                f["categories"] = dom.categorical[j].tolist()
            fields.append(f)
    classes = None if oracle.classes_ is None else np.asarray(oracle.classes_).tolist()
    return {
        "name": name,
        "n_features": oracle.n_features,
        "output": oracle.output,
        "classes": classes,
        "allow_missing": bool(oracle.allow_missing),
        "domain": None if dom is None else dom.to_dict(),
        "fields": fields,
    }


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON for a feature value; send a finite number, "
                     "or null for a feature not supplied")


def _parse_batch(body: bytes, *, n_features, allow_missing, max_rows) -> tuple[np.ndarray, str]:
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}.") from None
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise _ApiError(422, "invalid_request",
                        'the body must be an object {"inputs": [[...], ...], '
                        '"idempotency_key": "..."}.')
    rows = payload["inputs"]
    idem = payload.get("idempotency_key")
    if idem is not None and (not isinstance(idem, str) or not 0 < len(idem) <= 200):
        raise _ApiError(422, "invalid_request", "idempotency_key must be a string of 1-200 chars.")
    if not isinstance(rows, list) or not rows:
        raise _ApiError(422, "invalid_inputs", "inputs must be a non-empty list of rows.")
    if len(rows) > max_rows:
        raise _ApiError(413, "batch_too_large",
                        f"a batch holds at most {max_rows} rows; got {len(rows)}. Split it.")
    for i, r in enumerate(rows):
        if not isinstance(r, list) or (n_features is not None and len(r) != n_features):
            raise _ApiError(422, "wrong_width",
                            f"row {i} must be a list of {n_features} values; got "
                            f"{len(r) if isinstance(r, list) else type(r).__name__}.")
        for v in r:
            if v is None:
                if not allow_missing:
                    raise _ApiError(422, "missing_feature",
                                    f"row {i} has null, but this model needs every feature.")
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _ApiError(422, "invalid_value", f"row {i} holds {v!r}; send numbers.")
    X = np.array([[np.nan if v is None else float(v) for v in r] for r in rows], dtype=float)
    if not np.all(np.isfinite(X[~np.isnan(X)])):
        raise _ApiError(422, "invalid_value", "inputs must be finite numbers.")
    return X, idem


def create_app(
    oracle: Oracle,
    *,
    keys: KeyStore | None = None,
    store: QueryStore | None = None,
    monitor: Callable[[], object] | None = None,
    monitor_action: str = "flag",
    max_rows: int = 10_000,
    name: str = "model",
) -> FastAPI:
    """The prediction API for the model behind ``oracle``.

    Parameters
    ----------
    oracle : Oracle
        A :class:`~mlextract.oracles.LocalOracle` (possibly wrapped in defenses); the
        server answers with its answers. Its own budget is not used: budgets are per
        key here.
    keys : KeyStore, default=None
        Who may ask. None serves everyone as the client ``"public"`` without budget.
    store : QueryStore, default=None
        The SQLite log (in memory by default: nothing survives a restart).
    monitor : callable, default=None
        Makes a fresh detector for a client: an object with
        ``observe(X, answers) -> bool`` (flagged). Rebuilt from the log at start-up.
    monitor_action : {"flag", "throttle", "degrade"}
        What a flag does: report it in replies, refuse further queries (429), or
        answer labels only.
    max_rows : int
        Largest batch accepted.

    Notes
    -----
    Endpoints: ``GET /health``; ``GET /v1/model`` (public description);
    ``POST /v1/predict`` with ``{"inputs": [[...]], "idempotency_key": "..."}``
    (``null`` = feature not supplied); ``GET /v1/usage``; ``GET /v1/log``. Keys go in
    ``Authorization: Bearer KEY`` or ``X-API-Key``. Every error is JSON
    ``{"error": {"code", "message"}}`` with a 4xx status and bills nothing.
    """
    if not isinstance(oracle, Oracle):
        raise TypeError(f"create_app serves an mlextract Oracle; got {type(oracle).__name__}.")
    if monitor_action not in MONITOR_ACTIONS:
        raise ValueError(
            f"monitor_action must be one of {MONITOR_ACTIONS}; got {monitor_action!r}."
        )
    store = store or QueryStore()
    limiter = RateLimiter()
    locks: dict[str, threading.Lock] = {}
    locks_guard = threading.Lock()
    monitors: dict[str, object] = {}
    flagged: dict[str, bool] = {}
    description = describe(oracle, name=name)

    def monitor_for(client):
        if monitor is None:
            return None
        if client not in monitors:
            m = monitor()
            f = False
            for X, Y in store.all_inputs(client):
                Xa = np.array([[np.nan if v is None else v for v in r] for r in X], float)
                f = bool(m.observe(Xa, np.asarray(Y, dtype=object)))
            monitors[client] = m
            flagged[client] = f
        return monitors[client]

    for c in store.clients():
        monitor_for(c)

    app = FastAPI(
        title="mlextract prediction API",
        description="A model served behind keys, budgets, defenses and monitors.",
        version="1",
    )

    @app.exception_handler(_ApiError)
    async def _api_error(request, exc: _ApiError):
        return _error(exc.status, exc.code, exc.message, exc.headers)

    def authenticate(request: Request):
        if keys is None:
            return "public", None, None
        raw = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if raw is None and auth.lower().startswith("bearer "):
            raw = auth[7:].strip()
        k = keys.verify(raw)
        if k is None:
            raise _ApiError(401, "unknown_key", "missing or unknown API key; send "
                            "'Authorization: Bearer KEY' or 'X-API-Key: KEY'.")
        return k.name, k.budget, k.rate

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/v1/model")
    def model_description(request: Request):
        authenticate(request)
        return description

    @app.get("/v1/usage")
    def usage(request: Request):
        client, budget, rate = authenticate(request)
        used = store.usage(client)
        return {"client": client, "used": used, "budget": budget,
                "remaining": None if budget is None else budget - used,
                "flagged": bool(flagged.get(client, False))}

    @app.get("/v1/log")
    def log(request: Request, offset: int = 0, limit: int = 100):
        client, _, _ = authenticate(request)
        if offset < 0 or not 1 <= limit <= 1000:
            raise _ApiError(422, "invalid_request", "offset >= 0 and 1 <= limit <= 1000.")
        return {"client": client, "batches": store.batches(client, offset=offset, limit=limit)}

    @app.post("/v1/predict")
    async def predict(request: Request):
        client, budget, rate = authenticate(request)
        wait = limiter.allow(client, rate)
        if wait > 0:
            raise _ApiError(429, "rate_limited", f"more than {rate} requests per second.",
                            {"Retry-After": f"{wait:.3f}"})
        body = await request.body()
        X, idem = _parse_batch(body, n_features=oracle.n_features,
                               allow_missing=oracle.allow_missing, max_rows=max_rows)
        try:
            X = oracle._validate(X)
        except ValueError as exc:
            raise _ApiError(422, "invalid_inputs", str(exc)) from None
        digest = hashlib.blake2b(X.tobytes() + str(X.shape).encode(), digest_size=16).hexdigest()
        idem = idem or uuid.uuid4().hex
        # Answering runs in a worker thread: the model may be slow.
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_answer, client, budget, X, idem, digest)

    def _lock(client):
        with locks_guard:
            return locks.setdefault(client, threading.Lock())

    def _answer(client, budget, X, idem, digest):
        with _lock(client):
            prior = store.find(client, idem)
            if prior is not None:
                if prior[0] != digest:
                    raise _ApiError(409, "idempotency_conflict",
                                    "this idempotency_key was used for a different batch.")
                reply = dict(prior[1], replayed=True)
                return reply
            m = monitor_for(client)
            if m is not None and flagged.get(client) and monitor_action == "throttle":
                raise _ApiError(429, "throttled", "this key's query stream was flagged as "
                                "extraction; further queries are refused.")
            used = store.usage(client)
            if budget is not None and used + X.shape[0] > budget:
                raise _ApiError(402, "budget_exhausted",
                                f"the key's budget of {budget} rows allows {budget - used} "
                                f"more; the batch has {X.shape[0]}. Nothing was billed.")
            try:
                answers = oracle._respond_checked(X)
            except OracleError as exc:
                raise _ApiError(503, "model_error", str(exc)) from None
            output = oracle.output
            if m is not None and flagged.get(client) and monitor_action == "degrade":
                if output in ("proba", "logit"):
                    answers = labels_from_scores(answers, oracle.classes_, output)
                    output = "label"
            if m is not None:
                flagged[client] = bool(m.observe(X, answers)) or flagged.get(client, False)
            reply = {
                "outputs": _jsonable(answers),
                "output": output,
                "n_rows": int(X.shape[0]),
                "idempotency_key": idem,
                "used": used + int(X.shape[0]),
                "budget": budget,
                "flagged": bool(flagged.get(client, False)),
                "replayed": False,
            }
            inputs = [[None if v != v else v for v in r] for r in X.tolist()]
            store.record(client, idem, digest, inputs, reply, reply["flagged"])
            return reply

    return app


def default_oracle(model, **kwargs) -> LocalOracle:
    """The oracle a served model answers through (no budget: keys hold budgets)."""
    return LocalOracle(model, **kwargs)
