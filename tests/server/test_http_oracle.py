"""HTTPOracle against the real server: same answers as LocalOracle, retries, resume."""

import json

import httpx
import numpy as np
import pytest
import skops.io as sio

import mlextract
from mlextract import BudgetExhausted, OracleError
from mlextract.oracles import Domain, HTTPOracle, LocalOracle
from mlextract.server import KeyStore, ServerThread, create_app

pytestmark = pytest.mark.timeout(300)


def _extract_both(method, model, X, settings, budget=None, **oracle_kw):
    domain = Domain.from_data(X)
    local = LocalOracle(model, domain=domain, **oracle_kw)
    res_local = mlextract.extract(local, method=method, budget=budget, **settings)
    with ServerThread(create_app(LocalOracle(model, domain=domain, **oracle_kw))) as s:
        remote = HTTPOracle(s.url, batch_size=64)
        res_remote = mlextract.extract(remote, method=method, budget=budget, **settings)
        remote.close()
    return res_local, res_remote


def test_attack_through_http_equals_local(served_model_data):
    model, X = served_model_data
    a, b = _extract_both("retraining", model, X, {"n_queries": 300, "random_state": 0},
                         output="label")
    assert a.n_queries == b.n_queries == 300
    np.testing.assert_array_equal(a.queries.X, b.queries.X)
    np.testing.assert_array_equal(a.queries.answers, b.queries.answers)
    np.testing.assert_allclose(a.model.coef_, b.model.coef_)


@pytest.mark.parametrize("method", ["path_finding", "equation_solving"])
def test_registered_attacks_through_http_equal_local(method, iris_tree_and_lr):
    if method not in mlextract.available():
        pytest.skip(f"{method} has not landed yet")
    model, X = iris_tree_and_lr[method]
    a, b = _extract_both(method, model, X, {"random_state": 0})
    assert a.status == b.status and a.n_queries == b.n_queries
    np.testing.assert_array_equal(a.queries.X, b.queries.X)
    Xt = Domain.from_data(X).sample(2000, random_state=1)
    np.testing.assert_array_equal(a.model.predict(Xt), b.model.predict(Xt))


@pytest.fixture(scope="module")
def served_model_data():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    return LogisticRegression().fit(X, y), X


@pytest.fixture(scope="module")
def iris_tree_and_lr():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    yb = (y == 2).astype(int)
    return {
        "path_finding": (DecisionTreeClassifier(max_leaf_nodes=8, random_state=0).fit(X, y), X),
        "equation_solving": (LogisticRegression().fit(X, yb), X),
    }


def _mock_oracle(handler, **kw):
    desc = {"output": "proba", "n_features": 2, "classes": [0, 1], "allow_missing": False,
            "domain": None}

    def route(request):
        if request.url.path == "/v1/model":
            return httpx.Response(200, json=desc)
        if request.url.path == "/v1/usage":
            return httpx.Response(200, json={"remaining": None})
        return handler(request)

    return HTTPOracle("http://api.test", transport=httpx.MockTransport(route), backoff=0.0,
                      max_backoff=0.0, **kw)


def test_retries_transient_failures_then_answers():
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        if calls["n"] <= 2:
            return httpx.Response(503, json={"error": {"code": "x", "message": "busy"}})
        rows = json.loads(request.content)["inputs"]
        return httpx.Response(200, json={"outputs": [[0.25, 0.75]] * len(rows)})

    o = _mock_oracle(handler, retries=3)
    np.testing.assert_array_equal(o.query([[0.0, 1.0], [2.0, 3.0]]), [[0.25, 0.75]] * 2)
    assert o.n_retries == 2 and o.n_queries == 2


def test_gives_up_with_oracle_error_and_keeps_paid_queries():
    state = {"down": False}

    def handler(request):
        if state["down"]:
            raise httpx.ConnectTimeout("timed out", request=request)
        rows = json.loads(request.content)["inputs"]
        return httpx.Response(200, json={"outputs": [[0.5, 0.5]] * len(rows)})

    o = _mock_oracle(handler, retries=2)
    o.query([[0.0, 0.0]] * 3)
    state["down"] = True
    with pytest.raises(OracleError, match="after 3 attempts"):
        o.query([[1.0, 1.0]])
    assert o.n_queries == 3 and len(o.log) == 3


def test_server_errors_and_budget_are_reported():
    def handler(request):
        if b"1.0" in request.content:
            return httpx.Response(402, json={"error": {"code": "budget_exhausted",
                                                       "message": "no more"}})
        return httpx.Response(401, json={"error": {"code": "unknown_key", "message": "who?"}})

    o = _mock_oracle(handler, retries=0)
    with pytest.raises(BudgetExhausted, match="no more"):
        o.query([[1.0, 1.0]])
    with pytest.raises(OracleError, match="unknown_key"):
        o.query([[2.0, 2.0]])
    assert o.n_queries == 0


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="http"):
        HTTPOracle("ftp://x")
    with pytest.raises(ValueError, match="batch_size"):
        HTTPOracle("http://x", batch_size=0)
    with pytest.raises(ValueError, match="retries"):
        HTTPOracle("http://x", retries=-1)


def test_server_budget_is_the_oracle_budget(served_model_data):
    model, X = served_model_data
    ks = KeyStore()
    key = ks.add("eve", budget=120)
    app = create_app(LocalOracle(model, output="label", domain=Domain.from_data(X)), keys=ks)
    with ServerThread(app) as s:
        o = HTTPOracle(s.url, key)
        assert o.budget == 120
        res = mlextract.extract(o, method="retraining", n_queries=500, random_state=0)
        assert res.status == "budget_exhausted" and res.n_queries == 120
        assert o.usage()["used"] == 120


def test_answer_logged_but_not_received_is_not_billed_twice(served_model_data, tmp_path):
    """The server logged a batch, the client never got the reply: the retry is free."""
    model, X = served_model_data
    app = create_app(LocalOracle(model, domain=Domain.from_data(X)))
    with ServerThread(app) as s:
        o = HTTPOracle(s.url, journal=tmp_path / "j.sqlite")
        o._respond(X[:7])  # reaches the server; the client's journal never sees it
        assert o.usage()["used"] == 7
        out = o.query(X[:7])
        assert o.usage()["used"] == 7 and o.n_queries == 7
        np.testing.assert_allclose(out, model.predict_proba(X[:7]))


def test_kill_the_server_mid_extraction_and_resume(served_model_data, tmp_path,
                                                  server_process):
    model, X = served_model_data
    model_path = tmp_path / "victim.skops"
    sio.dump(model, model_path)
    domain_path = tmp_path / "domain.json"
    domain_path.write_text(json.dumps(Domain.from_data(X).to_dict()))
    ks = KeyStore()
    key = ks.add("mallory", budget=10_000)
    ks.save(tmp_path / "keys.toml")
    args = [str(model_path), "--keys", str(tmp_path / "keys.toml"), "--db",
            str(tmp_path / "serve.sqlite"), "--domain", str(domain_path)]
    server = server_process(args).start()
    journal = tmp_path / "attack.sqlite"
    batches = [Domain.from_data(X).sample(20, random_state=k) for k in range(10)]

    def attack(oracle):
        out = []
        for B in batches:
            out.append(oracle.query(B, phase="stage"))
        return np.vstack(out)

    o1 = HTTPOracle(server.url, key, journal=journal, retries=1, backoff=0.01, batch_size=20)
    for B in batches[:6]:
        o1.query(B)
    server.kill()
    with pytest.raises(OracleError):
        o1.query(batches[6])
    paid_first = o1.n_queries
    o1.close()
    assert paid_first == 120

    server.start()  # the same port and the same log file
    o2 = HTTPOracle(server.url, key, journal=journal, retries=1, batch_size=20)
    answers = attack(o2)
    assert o2.n_replayed == 120 and o2.n_queries == 80
    np.testing.assert_allclose(answers, model.predict_proba(np.vstack(batches)))
    used = o2.usage()["used"]
    assert used == 200  # every row billed exactly once
    log = httpx.get(server.url + "/v1/log?limit=1000", headers={"X-API-Key": key},
                    timeout=10).json()["batches"]
    assert sum(b["n_rows"] for b in log) == 200
    np.testing.assert_allclose(np.vstack([b["inputs"] for b in log]), np.vstack(batches))
    o2.close()
