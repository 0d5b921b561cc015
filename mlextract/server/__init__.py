"""The prediction API: serve a model behind keys, budgets, defenses and monitors."""

from ._app import MONITOR_ACTIONS, create_app, describe
from ._keys import ApiKey, KeyStore, RateLimiter, hash_key
from ._run import ServerThread, serve
from ._store import QueryStore

__all__ = [
    "MONITOR_ACTIONS",
    "ApiKey",
    "KeyStore",
    "QueryStore",
    "RateLimiter",
    "ServerThread",
    "create_app",
    "describe",
    "hash_key",
    "serve",
]
