"""API keys, hashed at rest, with a query budget and a rate limit each."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

__all__ = ["ApiKey", "KeyStore", "hash_key", "RateLimiter"]


def hash_key(key: str) -> str:
    """``sha256:<hex>`` of a key. Keys are 256-bit random tokens, so a fast hash is
    safe here (no dictionary attack applies); only the hash is ever stored."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """One client: its name, the hash of its key, budget and rate limit.

    Attributes
    ----------
    name : str
        The client's id (what logs and monitors are keyed by).
    key_hash : str
    budget : int or None
        Lifetime cap on answered rows.
    rate : float or None
        Requests per second allowed (token bucket with a burst of ``max(1, rate)``).
    """

    name: str
    key_hash: str
    budget: int | None = None
    rate: float | None = None


class KeyStore:
    """The server's keys, read from and written to a TOML file.

    The file looks like::

        [keys.alice]
        hash = "sha256:..."
        budget = 10000
        rate = 50.0

    Parameters
    ----------
    keys : iterable of ApiKey
    """

    def __init__(self, keys=()):
        self._by_hash = {}
        self._by_name = {}
        for k in keys:
            self._add(k)

    def _add(self, key: ApiKey):
        if key.name in self._by_name:
            raise ValueError(f"two keys are named {key.name!r}.")
        if key.budget is not None and key.budget < 0:
            raise ValueError(f"key {key.name!r}: budget must be >= 0; got {key.budget}.")
        if key.rate is not None and key.rate <= 0:
            raise ValueError(f"key {key.name!r}: rate must be > 0; got {key.rate}.")
        self._by_hash[key.key_hash] = key
        self._by_name[key.name] = key

    @classmethod
    def load(cls, path) -> KeyStore:
        path = Path(path)
        with path.open("rb") as f:
            data = tomllib.load(f)
        keys = []
        for name, spec in data.get("keys", {}).items():
            if "hash" not in spec:
                raise ValueError(f"{path}: key {name!r} has no 'hash'.")
            keys.append(
                ApiKey(name, spec["hash"], spec.get("budget"), spec.get("rate"))
            )
        return cls(keys)

    def save(self, path) -> None:
        data = {"keys": {}}
        for k in self._by_name.values():
            spec = {"hash": k.key_hash}
            if k.budget is not None:
                spec["budget"] = int(k.budget)
            if k.rate is not None:
                spec["rate"] = float(k.rate)
            data["keys"][k.name] = spec
        Path(path).write_bytes(tomli_w.dumps(data).encode())

    def add(self, name: str, *, budget=None, rate=None) -> str:
        """Create a key for ``name``; return the key itself (shown once, never stored)."""
        key = "mlx_" + secrets.token_urlsafe(32)
        self._add(ApiKey(name, hash_key(key), budget, rate))
        return key

    def verify(self, key: str | None) -> ApiKey | None:
        """The client owning ``key``, or None (compared in constant time)."""
        if not key:
            return None
        h = hash_key(key)
        for stored, api_key in self._by_hash.items():
            if hmac.compare_digest(stored, h):
                return api_key
        return None

    def __iter__(self):
        return iter(self._by_name.values())

    def __len__(self):
        return len(self._by_name)


class RateLimiter:
    """A token bucket per client: ``rate`` requests per second, burst ``max(1, rate)``."""

    def __init__(self):
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, name: str, rate: float | None) -> float:
        """0.0 if the request may go on, else the seconds to wait before retrying."""
        if rate is None:
            return 0.0
        burst = max(1.0, rate)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(name, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._state[name] = (tokens - 1.0, now)
                return 0.0
            self._state[name] = (tokens, now)
            return (1.0 - tokens) / rate
