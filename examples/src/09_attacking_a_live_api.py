# %% [markdown]
# # 9. Attacking a live prediction API
#
# Everything so far ran against a model in the same process. Real extraction targets
# a service: `mlextract serve` puts a model behind an HTTP API with API keys, per-key
# budgets and rate limits, optional defenses and monitors, and a SQLite log that bills
# every answered row exactly once. `HTTPOracle` is the attacker's side: the same Oracle
# interface over HTTP, with retries and a journal, so every attack runs unchanged.
#
# Here we start the server in this notebook (on a port the OS chooses), attack it, and
# stop it in a `finally` block. From a terminal the same is:
#
# ```
# mlextract keys alice --keys keys.toml --budget 5000
# mlextract serve victim.skops --keys keys.toml --decimals 4 --port 8000
# ```

# %%
import os

import httpx
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlextract
from mlextract import metrics
from mlextract.oracles import Domain, HTTPOracle, LocalOracle
from mlextract.server import KeyStore, QueryStore, ServerThread, create_app

QUICK = os.environ.get("MLEXTRACT_QUICK") == "1"
X, y = make_classification(n_samples=2000, n_features=8, n_informative=5, random_state=0)
victim = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y)
domain = Domain.from_data(X)

# %% [markdown]
# The owner creates a key for a client (only its hash is kept) and serves labels only.

# %%
keys = KeyStore()
alice = keys.add("alice", budget=1500)
app = create_app(LocalOracle(victim, output="label", domain=domain), keys=keys,
                 store=QueryStore(), name="credit-scoring")
server = ServerThread(app).start()
print("serving on", server.url)

# %%
try:
    description = httpx.get(server.url + "/v1/model", headers={"X-API-Key": alice},
                            timeout=10).json()
    print({k: description[k] for k in ("name", "n_features", "output", "classes")})
    oracle = HTTPOracle(server.url, alice)
    print("the API says this key may ask", oracle.budget, "more rows")
    n = 400 if QUICK else 1200
    result = mlextract.extract(oracle, method="retraining", n_queries=n, random_state=0,
                               model=make_pipeline(StandardScaler(),
                                                   LogisticRegression(max_iter=5000)))
    print(result)
    usage = oracle.usage()
    print("server-side usage:", usage)
    # Asking beyond the key's budget is refused before the model answers:
    over = mlextract.extract(oracle, method="retraining", n_queries=5000, random_state=1)
    print("second run:", over.status, "-", over.message[:90])
    log = httpx.get(server.url + "/v1/log?limit=5", headers={"X-API-Key": alice},
                    timeout=10).json()
    print("first logged batch has", log["batches"][0]["n_rows"], "rows")
finally:
    server.stop()

# %%
agree_test = metrics.agreement(victim, result.model, X)
agree_unif = metrics.uniform_agreement(victim, result.model, domain, n=20_000)
print(f"1-R_test {agree_test:.4f}   1-R_unif {agree_unif:.4f}   "
      f"queries billed {usage['used']}")

# %% [markdown]
# The same extraction against a `LocalOracle` asks exactly the same queries, so it
# yields the same copy: the API adds latency, not a different attack.

# %%
local = mlextract.extract(LocalOracle(victim, output="label", domain=domain),
                          method="retraining", n_queries=n, random_state=0,
                          model=make_pipeline(StandardScaler(),
                                              LogisticRegression(max_iter=5000)))
same = np.array_equal(local.queries.X, result.queries.X)
print("same queries as locally:", same)

# %% [markdown]
# ## Exercises
#
# 1. Serve with a PRADA monitor (`create_app(..., monitor=lambda: PRADA(),
#    monitor_action="throttle")`). Which attacks get throttled?
# 2. Stop the server in the middle of an extraction that uses
#    `HTTPOracle(..., journal="run.sqlite")`, restart it with the same `QueryStore`
#    file, and re-run: check with `/v1/usage` that no row was billed twice.
# 3. Add `--defense rounded:decimals=2` (here: wrap the oracle in `Rounded`) and repeat
#    notebook 2's equation-solving attack through the API.

# %%
assert same and usage["used"] == n and agree_test > 0.95
