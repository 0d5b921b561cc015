"""The prediction API: answers, bad input, budgets, idempotency, key isolation, monitors."""

import threading

import httpx
import numpy as np
import pytest

from mlextract.oracles import Domain, LocalOracle
from mlextract.server import KeyStore, QueryStore, ServerThread, create_app

pytestmark = pytest.mark.timeout(60)


def post(url, key, body, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if isinstance(body, (bytes, str)):
        headers["content-type"] = "application/json"
        return httpx.post(url + "/v1/predict", content=body, headers=headers, timeout=10, **kw)
    return httpx.post(url + "/v1/predict", json=body, headers=headers, timeout=10, **kw)


def usage(url, key):
    return httpx.get(url + "/v1/usage", headers={"X-API-Key": key}, timeout=10).json()


def test_answers_match_the_model_and_incomplete_queries(served, tree, iris):
    url, alice, _, _ = served
    X, _ = iris
    r = post(url, alice, {"inputs": X[:5].tolist(), "idempotency_key": "a1"})
    assert r.status_code == 200
    np.testing.assert_array_equal(np.array(r.json()["outputs"]), tree.predict_proba(X[:5]))
    # A missing feature (null) stops at the root: the root's class distribution.
    r = post(url, alice, {"inputs": [[None, None, None, None]]})
    root = tree.tree_.value[0, 0] / tree.tree_.value[0, 0].sum()
    np.testing.assert_allclose(r.json()["outputs"][0], root)
    assert usage(url, alice)["used"] == 6


def test_description_health_and_openapi(served):
    url, alice, _, _ = served
    assert httpx.get(url + "/health", timeout=5).json() == {"status": "ok"}
    d = httpx.get(url + "/v1/model", headers={"X-API-Key": alice}, timeout=5).json()
    assert d["n_features"] == 4 and d["output"] == "proba" and d["classes"] == [0, 1, 2]
    assert d["allow_missing"] is True and len(d["fields"]) == 4
    assert Domain.from_dict(d["domain"]).n_features == 4
    spec = httpx.get(url + "/openapi.json", timeout=5).json()
    assert "/v1/predict" in spec["paths"]


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"inputs": [[NaN, 1, 1, 1]]}', 400, "malformed_json"),
        (b'{"inputs": [[Infinity, 1, 1, 1]]}', 400, "malformed_json"),
        (b'{"inputs": [[1, 1, 1]]}', 422, "wrong_width"),
        (b'{"inputs": []}', 422, "invalid_inputs"),
        (b'{"inputs": "x"}', 422, "invalid_inputs"),
        (b'{"rows": [[1, 1, 1, 1]]}', 422, "invalid_request"),
        (b'{"inputs": [[1, "a", 1, 1]]}', 422, "invalid_value"),
        (b'{"inputs": [[1, true, 1, 1]]}', 422, "invalid_value"),
        (b'{"inputs": [[1e400, 1, 1, 1]]}', 422, "invalid_value"),
        (b'{"inputs": [[100, 1, 1, 1]]}', 422, "invalid_inputs"),  # outside the domain
        (b'[1, 2]', 422, "invalid_request"),
    ],
)
def test_bad_input_is_a_4xx_and_costs_nothing(served, body, status, code):
    url, alice, _, _ = served
    r = post(url, alice, body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]
    assert usage(url, alice)["used"] == 0


def test_oversized_batches_and_unknown_keys(served):
    url, alice, _, _ = served
    r = post(url, alice, {"inputs": [[5.0, 3.0, 1.5, 0.2]] * 201})
    assert r.status_code == 413 and r.json()["error"]["code"] == "batch_too_large"
    for key in (None, "mlx_wrong"):
        r = post(url, key, {"inputs": [[5.0, 3.0, 1.5, 0.2]]})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unknown_key"
    assert usage(url, alice)["used"] == 0


def test_null_is_refused_when_the_model_needs_every_feature(logreg, iris):
    X, _ = iris
    app = create_app(LocalOracle(logreg, domain=Domain.from_data(X)))
    with ServerThread(app) as server:
        r = post(server.url, None, {"inputs": [[None, 1, 1, 1]]})
        assert r.status_code == 422 and r.json()["error"]["code"] == "missing_feature"
        assert usage(server.url, "")["used"] == 0


def test_budget_is_exact_at_the_boundary(served, iris):
    url, _, bob, _ = served  # bob's budget: 50 rows
    X, _ = iris
    assert post(url, bob, {"inputs": X[:49].tolist()}).status_code == 200
    r = post(url, bob, {"inputs": X[49:51].tolist()})
    assert r.status_code == 402 and r.json()["error"]["code"] == "budget_exhausted"
    assert post(url, bob, {"inputs": X[49:50].tolist()}).status_code == 200
    assert post(url, bob, {"inputs": X[50:51].tolist()}).status_code == 402
    assert usage(url, bob) == {"client": "bob", "used": 50, "budget": 50, "remaining": 0,
                               "flagged": False}


def test_budget_holds_under_concurrent_clients(served, iris):
    """16 threads hammer one key: it never gets more rows than its budget."""
    url, alice, _, store = served  # alice: 500 rows
    X, _ = iris
    answered = []
    lock = threading.Lock()

    def client(seed):
        rng = np.random.default_rng(seed)
        with httpx.Client(timeout=10, headers={"X-API-Key": alice}) as c:
            for _ in range(12):
                n = int(rng.integers(1, 9))
                idx = rng.integers(0, len(X), size=n)
                r = c.post(url + "/v1/predict", json={"inputs": X[idx].tolist()})
                assert r.status_code in (200, 402), r.text
                if r.status_code == 200:
                    with lock:
                        answered.append(n)

    threads = [threading.Thread(target=client, args=(s,)) for s in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(answered) <= 500
    assert usage(url, alice)["used"] == sum(answered) == store.usage("alice")
    # With ~16*12*4.5 ≈ 860 rows asked, the budget was reached.
    assert sum(answered) > 500 - 8


def test_retry_with_the_same_idempotency_key_is_not_billed(served, iris):
    url, alice, _, _ = served
    X, _ = iris
    first = post(url, alice, {"inputs": X[:10].tolist(), "idempotency_key": "k1"}).json()
    again = post(url, alice, {"inputs": X[:10].tolist(), "idempotency_key": "k1"}).json()
    assert again["outputs"] == first["outputs"] and again["replayed"] is True
    assert usage(url, alice)["used"] == 10
    r = post(url, alice, {"inputs": X[10:20].tolist(), "idempotency_key": "k1"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_conflict"
    assert usage(url, alice)["used"] == 10


def test_a_key_reads_only_its_own_log_and_budget(served, iris):
    url, alice, bob, _ = served
    X, _ = iris
    post(url, alice, {"inputs": X[:3].tolist()})
    post(url, bob, {"inputs": X[3:5].tolist()})
    log_b = httpx.get(url + "/v1/log", headers={"X-API-Key": bob}, timeout=5).json()
    assert log_b["client"] == "bob"
    assert [b["n_rows"] for b in log_b["batches"]] == [2]
    np.testing.assert_array_equal(log_b["batches"][0]["inputs"], X[3:5])
    assert usage(url, bob)["used"] == 2 and usage(url, alice)["used"] == 3
    # There is no way to name another client: the key decides who you are.
    r = httpx.get(url + "/v1/log?client=alice", headers={"X-API-Key": bob}, timeout=5).json()
    assert r["client"] == "bob"


def test_key_file_stores_only_hashes(tmp_path):
    ks = KeyStore()
    key = ks.add("carol", budget=10, rate=5.0)
    path = tmp_path / "keys.toml"
    ks.save(path)
    text = path.read_text()
    assert key not in text and "sha256:" in text
    loaded = KeyStore.load(path)
    assert loaded.verify(key).name == "carol" and loaded.verify(key).budget == 10
    assert loaded.verify("mlx_other") is None and loaded.verify("") is None


def test_rate_limit_answers_429_with_retry_after(tree, iris):
    X, _ = iris
    ks = KeyStore()
    key = ks.add("slow", rate=1.0)
    app = create_app(LocalOracle(tree, domain=Domain.from_data(X)), keys=ks)
    with ServerThread(app) as server:
        assert post(server.url, key, {"inputs": X[:1].tolist()}).status_code == 200
        r = post(server.url, key, {"inputs": X[:1].tolist()})
        assert r.status_code == 429 and float(r.headers["retry-after"]) > 0
        assert usage(server.url, key)["used"] == 1


class RowCounter:
    """A test monitor: flags a client once it has sent more than ``limit`` rows."""

    def __init__(self, limit=5):
        self.limit = limit
        self.n = 0

    def observe(self, X, answers):
        self.n += len(X)
        return self.n > self.limit


@pytest.mark.parametrize("action", ["flag", "throttle", "degrade"])
def test_monitor_actions_and_restart(tmp_path, tree, iris, action):
    X, _ = iris
    db = tmp_path / "log.sqlite"

    def app():
        return create_app(LocalOracle(tree, domain=Domain.from_data(X)), store=QueryStore(db),
                          monitor=lambda: RowCounter(5), monitor_action=action)

    with ServerThread(app()) as server:
        r = post(server.url, None, {"inputs": X[:6].tolist()}).json()
        assert r["flagged"] is True and r["output"] == "proba"
        r = post(server.url, None, {"inputs": X[6:8].tolist()})
    expect = {"flag": (200, "proba"), "throttle": (429, None), "degrade": (200, "label")}
    status, out = expect[action]
    assert r.status_code == status
    if out:
        assert r.json()["output"] == out
    # After a restart, the monitor is rebuilt from the log: still flagged.
    with ServerThread(app()) as server:
        assert usage(server.url, "")["flagged"] is True
        r = post(server.url, None, {"inputs": X[8:9].tolist()})
        assert r.status_code == status
