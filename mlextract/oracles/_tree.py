"""Incomplete queries on fitted scikit-learn trees, answered as BigML did."""

from __future__ import annotations

import numpy as np

__all__ = ["deepest_nodes", "node_answers"]


def deepest_nodes(tree, X: np.ndarray) -> np.ndarray:
    """The node each row reaches, descending until a leaf or a missing feature.

    A row whose value for the feature tested at a node is NaN stops at that node:
    BigML answered such an incomplete query with the prediction of the deepest node
    it could reach. Complete rows reach the same leaf as ``tree.apply``: inputs are
    compared as float32, as scikit-learn does.

    Parameters
    ----------
    tree : sklearn.tree._tree.Tree
        The fitted ``tree_`` of a DecisionTreeClassifier or DecisionTreeRegressor.
    X : ndarray of shape (n, n_features)

    Returns
    -------
    nodes : ndarray of int of shape (n,)
    """
    X32 = np.asarray(X, dtype=np.float32).astype(np.float64)
    left, right = tree.children_left, tree.children_right
    feature, threshold = tree.feature, tree.threshold
    node = np.zeros(X32.shape[0], dtype=np.intp)
    active = np.arange(X32.shape[0])
    while active.size:
        cur = node[active]
        internal = left[cur] != -1
        active, cur = active[internal], cur[internal]
        if not active.size:
            break
        v = X32[active, feature[cur]]
        known = ~np.isnan(v)
        active, cur, v = active[known], cur[known], v[known]
        node[active] = np.where(v <= threshold[cur], left[cur], right[cur])
    return node


def node_answers(estimator, nodes: np.ndarray, output: str) -> np.ndarray:
    """What a tree's node answers: class distribution, label or value."""
    value = estimator.tree_.value[nodes]  # (n, n_outputs, n_classes)
    if output == "value":
        v = value[:, :, 0]
        return v[:, 0] if v.shape[1] == 1 else v
    dist = value[:, 0, :]
    dist = dist / dist.sum(axis=1, keepdims=True)
    if output == "proba":
        return dist
    if output == "label":
        return estimator.classes_[np.argmax(dist, axis=1)]
    raise ValueError(f"a tree answers 'proba', 'label' or 'value'; got {output!r}.")
