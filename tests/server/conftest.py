"""A real server on a loopback port for the server tests."""

import os
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from mlextract.oracles import Domain, LocalOracle
from mlextract.server import KeyStore, QueryStore, ServerThread, create_app


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def tree(iris):
    X, y = iris
    return DecisionTreeClassifier(max_leaf_nodes=6, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def logreg(iris):
    X, y = iris
    return LogisticRegression(max_iter=1000).fit(X, y)


@pytest.fixture
def keys():
    ks = KeyStore()
    alice = ks.add("alice", budget=500)
    bob = ks.add("bob", budget=50)
    return ks, alice, bob


@pytest.fixture
def served(tree, iris, keys):
    """The tree served with two keys; yields (url, alice_key, bob_key, store)."""
    X, _ = iris
    ks, alice, bob = keys
    store = QueryStore()
    app = create_app(LocalOracle(tree, domain=Domain.from_data(X)), keys=ks, store=store,
                     max_rows=200)
    with ServerThread(app) as server:
        yield server.url, alice, bob, store


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``mlextract serve`` in a subprocess, so a test can kill it."""

    def __init__(self, args, port):
        self.args = args
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None

    def start(self, deadline=120.0):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlextract.cli", "serve", *self.args,
             "--port", str(self.port), "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read().decode()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()
        raise TimeoutError("the server did not answer /health in time")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


@pytest.fixture
def server_process():
    procs = []

    def make(args):
        p = ServerProcess(args, free_port())
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.kill()


def rows(X):
    return np.asarray(X).tolist()
