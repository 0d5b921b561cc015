"""The open-category bound printed beside path finding's counts, against enumeration."""

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from mlextract.experiments.path_finding import open_category_bound
from mlextract.oracles import Domain


def test_open_category_bound_against_every_point_of_the_domain():
    rng = np.random.default_rng(0)
    sizes = (3, 6, 2)
    n = 400
    codes = np.column_stack([rng.integers(0, k, n) for k in sizes])
    X = np.hstack([np.eye(k)[codes[:, j]] for j, k in enumerate(sizes)])
    y = np.where(rng.random(n) < 0.6, (codes[:, 0] + codes[:, 1]) % 3, rng.integers(0, 3, n))
    starts = np.cumsum((0,) + sizes)
    groups = [list(range(a, b)) for a, b in zip(starts[:-1], starts[1:])]
    dom = Domain(np.zeros(starts[-1]), np.ones(starts[-1]), one_hot_groups=groups)
    victim = DecisionTreeClassifier(max_leaf_nodes=25, random_state=0).fit(X, y)
    combos = list(np.ndindex(*sizes))
    every = np.array([np.concatenate([np.eye(k)[c] for k, c in zip(sizes, combo)])
                      for combo in combos])
    leaf = victim.apply(every)
    paths = victim.decision_path(every).toarray().astype(bool)
    t = victim.tree_
    slow = 0
    for lf in np.unique(leaf):
        rows = np.flatnonzero(leaf == lf)
        tested = {g for g, cols in enumerate(groups)
                  if np.isin(t.feature[paths[rows[0]]], cols).any()}
        # categories of a tested group that some point of the leaf supplies
        counts = [len({combos[r][g] for r in rows}) for g in tested]
        slow += max([1] + counts)
    assert open_category_bound(victim, dom) == slow
    assert slow > victim.get_n_leaves()  # the premise: some leaf has open categories
