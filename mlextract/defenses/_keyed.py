"""Randomness keyed by the input: the same query always gets the same answer.

A defense that perturbs answers at random must not let an attacker average the
perturbation away by asking again, and a batch must get the answers its rows would
get one at a time. Both hold when each row's randomness is a keyed hash of the row.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.special import ndtri

__all__ = ["keyed_uniforms", "keyed_normals", "key_bytes"]


def key_bytes(key) -> bytes:
    """The secret of a defense as bytes (an int seed or a string or bytes)."""
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode()
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key).to_bytes(16, "little", signed=True)
    raise ValueError(f"key must be bytes, str or int; got {key!r}.")


def keyed_uniforms(X: np.ndarray, key: bytes, n: int, *, salt: bytes = b"") -> np.ndarray:
    """(n_rows, n) numbers in (0, 1), a deterministic keyed hash of each row.

    Uses BLAKE2b in keyed mode over the row's float64 bytes (with ``-0.0`` and NaN
    normalised, as the query log hashes them) and a block counter.
    """
    X = np.ascontiguousarray(X, dtype=np.float64) + 0.0
    X[np.isnan(X)] = np.nan
    blocks = -(-n // 8)
    out = np.empty((X.shape[0], blocks * 8), dtype=np.uint64)
    k = key[:64]
    for i, row in enumerate(X):
        data = row.tobytes() + salt
        buf = b"".join(
            hashlib.blake2b(data + b.to_bytes(4, "little"), key=k, digest_size=64).digest()
            for b in range(blocks)
        )
        out[i] = np.frombuffer(buf, dtype=np.uint64)
    # 53 random bits → (0, 1), never exactly 0 or 1.
    return ((out[:, :n] >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


def keyed_normals(X: np.ndarray, key: bytes, n: int, *, salt: bytes = b"") -> np.ndarray:
    """(n_rows, n) standard normal numbers, a keyed hash of each row."""
    return ndtri(keyed_uniforms(X, key, n, salt=salt))
