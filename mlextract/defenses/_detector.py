"""The detector protocol: watch each client's query stream, say when it looks like extraction."""

from __future__ import annotations

import numpy as np

__all__ = ["Detector"]


class Detector:
    """Base of the query-stream detectors.

    A detector keeps one state per *group* of clients: by default each client is
    its own group; ``groups`` maps client ids to a shared group, so colluding
    clients are watched as one stream.

    Subclasses implement ``_new_state()`` and ``_update(state, X, answers)``, which
    sets ``state["flagged"]``.

    Parameters
    ----------
    groups : mapping of client id to group id, default=None
        Clients whose streams are pooled.
    scaler : fitted transformer or (mean, scale) pair, default=None
        Standardises features before the detector looks at them (tabular data).
    """

    def __init__(self, *, groups=None, scaler=None):
        self.groups = groups
        self.scaler = scaler

    # -- state ---------------------------------------------------------------
    def _group(self, client):
        g = self.groups or {}
        return g.get(client, client)

    def _states(self):
        if not hasattr(self, "states_"):
            self.states_ = {}
        return self.states_

    def _state(self, client):
        states = self._states()
        g = self._group(client)
        if g not in states:
            st = self._new_state()
            st.setdefault("flagged", False)
            st.setdefault("n_queries", 0)
            st.setdefault("flagged_at", None)
            states[g] = st
        return states[g]

    def _standardise(self, X):
        if self.scaler is None:
            return X
        if hasattr(self.scaler, "transform"):
            Z = self.scaler.transform(np.nan_to_num(X, nan=0.0))
            return np.where(np.isnan(X), 0.0, Z)
        mean, scale = self.scaler
        scale = np.where(np.asarray(scale) > 0, scale, 1.0)
        return np.nan_to_num((X - mean) / scale, nan=0.0)

    # -- public --------------------------------------------------------------
    def observe(self, X, answers=None, *, client="default") -> bool:
        """Add a batch of a client's queries (and the answers given); return flagged.

        Parameters
        ----------
        X : array-like of shape (n, d)
            The queries, in the order they arrived. NaN (incomplete queries) is
            allowed.
        answers : array-like of shape (n,) or (n, k), default=None
            What the API answered (labels or probabilities), for detectors that
            need the predicted class.
        client : hashable, default="default"

        Returns
        -------
        bool
            Whether the client's group is flagged after this batch.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"X must be a non-empty 2-D batch; got shape {X.shape}.")
        if np.isinf(X).any():
            raise ValueError("X contains inf.")
        if answers is not None:
            answers = np.asarray(answers)
            if answers.shape[0] != X.shape[0]:
                raise ValueError(
                    f"{X.shape[0]} queries but {answers.shape[0]} answers; give one per query."
                )
        st = self._state(client)
        self._update(st, X, answers)
        return bool(st["flagged"])

    def flagged(self, client="default") -> bool:
        """Whether the client's group has been flagged."""
        return bool(self._state(client)["flagged"])

    def queries_until_flag(self, client="default"):
        """How many of the group's queries had been seen when it was flagged (or None)."""
        return self._state(client)["flagged_at"]

    def run(self, X, answers=None, *, batch_size=1, client="default"):
        """Feed a whole stream in batches; return the queries until the flag (or None)."""
        X = np.asarray(X, dtype=np.float64)
        for s in range(0, X.shape[0], batch_size):
            a = None if answers is None else np.asarray(answers)[s:s + batch_size]
            if self.observe(X[s:s + batch_size], a, client=client):
                break
        return self.queries_until_flag(client)

    def _mark(self, st, position):
        if not st["flagged"]:
            st["flagged"] = True
            st["flagged_at"] = int(position)

    def _new_state(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, state, X, answers) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
