"""The copy that path finding builds: a fitted decision tree of our own.

A real scikit-learn ``Tree`` cannot be built without scikit-learn's private modules,
so the extracted tree keeps its nodes in plain arrays laid out as ``tree_`` is
(``children_left``, ``children_right``, ``feature``, ``threshold``, ``value``) and
compares inputs as scikit-learn does: ``float32(x) <= threshold``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["ExtractedTreeClassifier", "ExtractedTreeRegressor", "TreeArrays"]

TREE_LEAF = -1


class TreeArrays:
    """Node arrays of an extracted tree, in scikit-learn's ``tree_`` layout.

    Attributes
    ----------
    children_left, children_right : ndarray of int
        Child ids, ``-1`` at leaves.
    feature : ndarray of int
        Input column tested at each internal node, ``-2`` at leaves.
    threshold : ndarray of float64
        ``float32(x[feature]) <= threshold`` goes left (``-2`` at leaves and set nodes).
    value : ndarray of shape (node_count, n_values)
        The answer of each leaf (class distribution, or the value); NaN at internal
        nodes, whose answers the attack need not know.
    category_sets : dict of int to ndarray
        For a node testing a categorical code column by membership: the codes going
        left (``x in S``). Such nodes appear only where the victim's partition of the
        codes is not an interval (a one-hot encoding inside a Pipeline).
    """

    def __init__(self, children_left, children_right, feature, threshold, value,
                 category_sets=None):
        self.children_left = np.asarray(children_left, dtype=np.intp)
        self.children_right = np.asarray(children_right, dtype=np.intp)
        self.feature = np.asarray(feature, dtype=np.intp)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.value = np.asarray(value, dtype=np.float64)
        self.category_sets = dict(category_sets or {})

    @property
    def node_count(self) -> int:
        return int(self.children_left.size)

    @property
    def n_leaves(self) -> int:
        return int(np.sum(self.children_left == TREE_LEAF))

    @property
    def max_depth(self) -> int:
        depth = np.zeros(self.node_count, dtype=int)
        for i in range(self.node_count):  # preorder: parents come first
            for c in (self.children_left[i], self.children_right[i]):
                if c != TREE_LEAF:
                    depth[c] = depth[i] + 1
        return int(depth.max()) if self.node_count else 0

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf reached by each row, comparing ``float32(x)`` with the thresholds."""
        X32 = np.asarray(X, dtype=np.float32).astype(np.float64)
        node = np.zeros(X32.shape[0], dtype=np.intp)
        active = np.arange(X32.shape[0])
        left, right, feat, thr = (self.children_left, self.children_right, self.feature,
                                  self.threshold)
        while active.size:
            cur = node[active]
            internal = left[cur] != TREE_LEAF
            active, cur = active[internal], cur[internal]
            if not active.size:
                break
            v = X32[active, feat[cur]]
            go_left = v <= thr[cur]
            for n, codes in self.category_sets.items():
                at = cur == n
                if at.any():
                    go_left[at] = np.isin(np.asarray(X, dtype=np.float64)[active[at], feat[n]],
                                          codes)
            node[active] = np.where(go_left, left[cur], right[cur])
        return node


class _ExtractedTree(BaseEstimator):
    """Shared part of the extracted classifier and regressor."""

    def __init__(self):
        pass

    def fit(self, X, y=None):
        """Not available: the tree is built by path finding from a victim's answers."""
        raise TypeError(
            f"{type(self).__name__} is built by PathFinding().extract(oracle), not by fit; "
            "to train a tree on data use sklearn.tree.DecisionTreeClassifier/Regressor."
        )

    def _check_X(self, X):
        check_is_fitted(self, "tree_")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n, {self.n_features_in_}); got {X.shape}."
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or inf; the copy answers complete inputs only.")
        return X

    def apply(self, X) -> np.ndarray:
        """Index of the leaf each row lands in (preorder node ids)."""
        return self.tree_.apply(self._check_X(X))

    def get_depth(self) -> int:
        """Depth of the tree (a single leaf has depth 0)."""
        check_is_fitted(self, "tree_")
        return self.tree_.max_depth

    def get_n_leaves(self) -> int:
        """Number of leaves."""
        check_is_fitted(self, "tree_")
        return self.tree_.n_leaves

    def export_text(self, *, feature_names=None, class_names=None, max_depth=10,
                    spacing=3, decimals=2) -> str:
        """The tree's rules in the exact format of ``sklearn.tree.export_text``.

        Parameters mirror scikit-learn's function (``show_weights`` is absent: the
        attack sees class distributions, not sample counts). Nodes testing a code
        column by membership print as ``x in {a, b}`` / ``x not in {a, b}``.
        """
        check_is_fitted(self, "tree_")
        t = self.tree_
        if feature_names is None:
            names = [f"feature_{j}" for j in range(self.n_features_in_)]
        else:
            names = list(feature_names)
            if len(names) != self.n_features_in_:
                raise ValueError(
                    f"feature_names must contain {self.n_features_in_} elements, got "
                    f"{len(names)}"
                )
        labels = None
        if self._is_classifier:
            labels = list(self.classes_ if class_names is None else class_names)
        out = []

        def leaf(node, indent):
            v = t.value[node]
            if self._is_classifier:
                out.append(f"{indent} class: {labels[int(np.argmax(v))]}\n")
            else:
                vals = ", ".join(f"{x:.{decimals}f}" for x in np.atleast_1d(v))
                out.append(f"{indent} value: [{vals}]\n")

        def subtree_depth(node):
            if t.children_left[node] == TREE_LEAF:
                return 1
            return 1 + max(subtree_depth(t.children_left[node]),
                           subtree_depth(t.children_right[node]))

        def rec(node, depth):
            indent = ("|" + " " * spacing) * depth
            indent = indent[:-spacing] + "-" * spacing
            if depth > max_depth + 1:
                d = subtree_depth(node)
                if d == 1:
                    leaf(node, indent)
                else:
                    out.append(f"{indent} truncated branch of depth {d}\n")
                return
            if t.children_left[node] == TREE_LEAF:
                leaf(node, indent)
                return
            name = names[t.feature[node]]
            if node in t.category_sets:
                codes = ", ".join(f"{c:g}" for c in t.category_sets[node])
                left_txt, right_txt = f"{name} in {{{codes}}}", f"{name} not in {{{codes}}}"
            else:
                thr = f"{t.threshold[node]:.{decimals}f}"
                left_txt, right_txt = f"{name} <= {thr}", f"{name} >  {thr}"
            out.append(f"{indent} {left_txt}\n")
            rec(t.children_left[node], depth + 1)
            out.append(f"{indent} {right_txt}\n")
            rec(t.children_right[node], depth + 1)

        rec(0, 1)
        return "".join(out)


class ExtractedTreeClassifier(ClassifierMixin, _ExtractedTree):
    """A decision-tree classifier rebuilt by path finding.

    Built by :class:`~mlextract.attacks.PathFinding`, not by ``fit``: its leaves hold
    the class distributions the victim answered, its thresholds the float32 cut
    points the attack narrowed down.

    Attributes
    ----------
    tree_ : TreeArrays
    classes_ : ndarray
    n_features_in_ : int

    Examples
    --------
    >>> from mlextract.attacks._extracted_tree import TreeArrays
    >>> copy = ExtractedTreeClassifier()._set_tree(
    ...     TreeArrays([1, -1, -1], [2, -1, -1], [0, -2, -2], [0.5, -2, -2],
    ...                [[np.nan, np.nan], [1, 0], [0, 1]]), classes=[0, 1], n_features=1)
    >>> copy.predict([[0.2], [0.9]]).tolist()
    [0, 1]
    """

    _is_classifier = True

    def _set_tree(self, tree, *, classes, n_features):
        self.tree_ = tree
        self.classes_ = np.asarray(classes)
        self.n_classes_ = self.classes_.size
        self.n_features_in_ = int(n_features)
        self.n_outputs_ = 1
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class distribution of the leaf each row reaches (the victim's answer)."""
        return self.tree_.value[self.apply(X)].copy()

    def predict(self, X) -> np.ndarray:
        """Most probable class (the first one on ties, as scikit-learn)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class ExtractedTreeRegressor(RegressorMixin, _ExtractedTree):
    """A decision-tree regressor rebuilt by path finding (leaf values as answered).

    Attributes
    ----------
    tree_ : TreeArrays
    n_features_in_ : int
    """

    _is_classifier = False

    def _set_tree(self, tree, *, n_features):
        self.tree_ = tree
        self.n_features_in_ = int(n_features)
        self.n_outputs_ = 1
        return self

    def predict(self, X) -> np.ndarray:
        """Value of the leaf each row reaches."""
        return self.tree_.value[self.apply(X), 0].copy()
