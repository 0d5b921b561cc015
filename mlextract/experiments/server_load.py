"""Load test of ``mlextract serve``: 16 concurrent clients on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from ..oracles import Domain
from ._registry import Table, experiment

N_CLIENTS = 16


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """Ask Linux to send SIGTERM to the server when this process dies.

    ``finally: proc.kill()`` covers exceptions and Ctrl-C, not a SIGKILL of the
    experiment; without this the server would outlive it and keep its port. Other
    systems have no such call, and there the server is stopped only by ``finally``.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(pr_set_pdeathsig, signal.SIGTERM) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _start_server(tmp: Path, budget: int):
    import json

    import skops.io as sio

    from ..server import KeyStore

    X, y = make_classification(n_samples=500, n_features=20, random_state=0)
    sio.dump(LogisticRegression(max_iter=1000).fit(X, y), tmp / "model.skops")
    (tmp / "domain.json").write_text(json.dumps(Domain.from_data(X).to_dict()))
    ks = KeyStore()
    keys = [ks.add(f"client{i}", budget=budget) for i in range(N_CLIENTS)]
    ks.save(tmp / "keys.toml")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlextract.cli", "serve", str(tmp / "model.skops"),
         "--keys", str(tmp / "keys.toml"), "--db", str(tmp / "log.sqlite"),
         "--domain", str(tmp / "domain.json"), "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ),
        preexec_fn=_die_with_parent,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.1)
    return proc, url, keys, X


def _hammer(url, keys, X, rows_per_request, n_requests):
    """Each client sends ``n_requests`` batches; returns latencies and refusals."""
    lat, refused, answered = [], [0], [0]
    lock = threading.Lock()

    def client(i):
        rng = np.random.default_rng(i)
        with httpx.Client(timeout=30, headers={"X-API-Key": keys[i]}) as c:
            for _ in range(n_requests):
                idx = rng.integers(0, len(X), size=rows_per_request)
                t0 = time.perf_counter()
                r = c.post(url + "/v1/predict", json={"inputs": X[idx].tolist()})
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200:
                        lat.append(dt)
                        answered[0] += rows_per_request
                    elif r.status_code == 402:
                        refused[0] += 1
                    else:
                        raise RuntimeError(f"unexpected HTTP {r.status_code}: {r.text[:200]}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(N_CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return np.array(lat), refused[0], answered[0], wall


@experiment("server_load", title="Prediction API under load (16 concurrent clients)", order=80)
def server_load(ctx):
    if getattr(ctx, "smoke", False):
        n_requests = 3
    else:
        n_requests = 15 if ctx.quick else 200
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for batch in (1, 100):
            # Each key may take 90% of what it will ask: budgets must bite.
            budget = int(0.9 * n_requests * batch)
            folder = Path(d) / f"batch{batch}"
            folder.mkdir()
            proc, url, keys, X = _start_server(folder, budget)
            try:
                lat, refused, answered, wall = _hammer(url, keys, X, batch, n_requests)
                used = [httpx.get(url + "/v1/usage", headers={"X-API-Key": k}, timeout=10)
                        .json()["used"] for k in keys]
            finally:
                proc.kill()
                proc.wait()
            over = sum(u > budget for u in used)
            rows.append([
                batch, N_CLIENTS * n_requests, len(lat) / wall, answered / wall,
                1e3 * np.percentile(lat, 50), 1e3 * np.percentile(lat, 95),
                1e3 * np.percentile(lat, 99), refused, f"{over} of {N_CLIENTS}",
            ])
    return Table(
        title="mlextract serve on loopback: 16 concurrent clients, one key each",
        columns=["rows/request", "requests", "requests/s", "rows/s", "p50 ms", "p95 ms",
                 "p99 ms", "refused (402)", "keys over budget"],
        rows=rows,
        notes=[
            "Server: uvicorn in a subprocess, one worker; logistic regression on 20 "
            "features; every answered batch committed to SQLite before the reply.",
            "Each key's budget is 90% of what its client asks, so refusals are expected; "
            "'keys over budget' must read 0.",
        ],
    )
