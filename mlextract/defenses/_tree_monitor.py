"""The decision-tree extraction monitor of Kesarwani et al. (2018)."""

from __future__ import annotations

import numpy as np

from ..oracles import deepest_nodes
from ._detector import Detector

__all__ = ["TreeMonitor"]


class TreeMonitor(Detector):
    """Watch which leaves of a tree a client's queries reach.

    An honest client's queries fall in the leaves in proportion to the owner's
    data; an extraction attack visits every leaf, the rare ones as often as the
    common ones, and sends incomplete queries to read internal nodes. The monitor
    keeps, per client, the leaves reached and the nodes at which incomplete queries
    stopped, and reports the coverage (fraction of leaves reached) and the
    information gained, ``KL(client's leaf distribution ‖ owner's)``. It flags when,
    after ``min_queries``, the KL divergence exceeds ``kl_threshold`` with the
    coverage above ``coverage_threshold``, or more than ``max_incomplete`` of the
    queries were incomplete.

    Parameters
    ----------
    tree : fitted DecisionTreeClassifier or DecisionTreeRegressor
        The served tree.
    owner_data : array-like of shape (n, d)
        The owner's data: its leaf distribution is the benign reference.
    kl_threshold : float, default=0.5
        Nats.
    coverage_threshold : float, default=0.5
    max_incomplete : float, default=0.05
    min_queries : int, default=50
    groups : mapping, default=None

    References
    ----------
    .. [1] M. Kesarwani, B. Mukhoty, V. Arya, S. Mehta. "Model Extraction Warning in
       MLaaS Paradigm". ACSAC 2018.
    """

    def __init__(self, *, tree, owner_data, kl_threshold=0.5, coverage_threshold=0.5,
                 max_incomplete=0.05, min_queries=50, groups=None):
        super().__init__(groups=groups)
        self.tree = tree
        self.owner_data = owner_data
        self.kl_threshold = kl_threshold
        self.coverage_threshold = coverage_threshold
        self.max_incomplete = max_incomplete
        self.min_queries = min_queries

    def _reference(self):
        if not hasattr(self, "leaves_"):
            t = self.tree.tree_
            self.leaves_ = np.flatnonzero(t.children_left == -1)
            self._leaf_index = np.full(t.node_count, -1)
            self._leaf_index[self.leaves_] = np.arange(self.leaves_.size)
            nodes = deepest_nodes(t, np.asarray(self.owner_data, dtype=np.float64))
            counts = np.bincount(self._leaf_index[nodes], minlength=self.leaves_.size)
            self.owner_distribution_ = (counts + 0.5) / (counts.sum() + 0.5 * counts.size)
        return self.owner_distribution_

    def _new_state(self):
        self._reference()
        return {"leaf_counts": np.zeros(self.leaves_.size), "incomplete": 0,
                "kl": 0.0, "coverage": 0.0}

    def _update(self, st, X, answers):
        ref = self._reference()
        nodes = deepest_nodes(self.tree.tree_, X)
        leaf = self._leaf_index[nodes]
        complete = leaf >= 0
        # Honest clients send full rows: any missing feature counts as incomplete.
        st["incomplete"] += int(np.isnan(X).any(axis=1).sum())
        st["leaf_counts"] += np.bincount(leaf[complete], minlength=self.leaves_.size)
        st["n_queries"] += X.shape[0]
        counts = st["leaf_counts"]
        q = (counts + 0.5) / (counts.sum() + 0.5 * counts.size)
        st["kl"] = float(np.sum(q * np.log(q / ref)))
        st["coverage"] = float(np.mean(counts > 0))
        if st["n_queries"] >= self.min_queries:
            frac_incomplete = st["incomplete"] / st["n_queries"]
            if frac_incomplete > self.max_incomplete or (
                st["kl"] > self.kl_threshold and st["coverage"] >= self.coverage_threshold
            ):
                self._mark(st, st["n_queries"])

    def report(self, client="default") -> dict:
        """Coverage, information gained (KL, nats) and incomplete queries of a client."""
        st = self._state(client)
        return {"coverage": st["coverage"], "kl": st["kl"], "incomplete": st["incomplete"],
                "n_queries": st["n_queries"], "flagged": st["flagged"]}
