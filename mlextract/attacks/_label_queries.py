"""Label queries for binary victims: ±1 codes, batched bisection, a linear copy.

The building blocks the label-only attacks share (Lowd and Meek 2005; Tramèr et
al. 2016, §6; Chandrasekaran et al. 2020): ask a batch and read only the labels,
code them as ±1, bisect many segments to the decision boundary at once, and hold
the extracted halfspace as a scikit-learn classifier.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils.validation import check_is_fitted

from ..oracles import labels_from_scores

__all__ = [
    "BinaryLabels",
    "LinearBoundary",
    "bisect",
    "bisect_segments",
    "check_binary_oracle",
    "n_bisection_steps",
]


def check_binary_oracle(oracle, attack: str, *, need_domain: bool = True) -> None:
    """Raise ValueError unless ``oracle`` is a binary classifier with a domain."""
    if oracle.output == "value":
        raise ValueError(
            f"{attack} extracts classifiers from their labels; this oracle answers "
            "regression values (output='value'). Use an equation-solving or "
            "retraining attack for regressors."
        )
    k = oracle.n_classes
    if k is not None and k != 2:
        raise ValueError(
            f"{attack} extracts binary classifiers; the victim has {k} classes "
            f"{list(oracle.classes_)}. Use Retraining for multiclass victims."
        )
    if need_domain and oracle.domain is None:
        raise ValueError(
            f"{attack} searches the oracle's domain, and this oracle has none; build "
            "it with domain=Domain(...) or Domain.from_data(X)."
        )


class BinaryLabels:
    """Ask the oracle and code its answers as +1 (``classes[1]``) or −1.

    Probability and decision-value answers are reduced to their label
    (:func:`mlextract.oracles.labels_from_scores`): the attacks use labels only.
    When the oracle does not publish its classes (a plain function victim), the
    two classes are learned from the answers, sorted as scikit-learn sorts them.
    """

    def __init__(self, oracle):
        self.oracle = oracle
        cls = oracle.classes_
        self.classes = None if cls is None else np.asarray(cls)
        self._seen: list = []
        self._X: list = []
        self._y: list = []

    def raw(self, X, *, phase=None, reuse=False) -> np.ndarray:
        """The labels of ``X`` as the victim names them."""
        ans = self.oracle.query(X, phase=phase, reuse=reuse)
        if self.oracle.output != "label":
            ans = labels_from_scores(ans, self.oracle.classes_, self.oracle.output)
        ans = np.asarray(ans).reshape(-1)
        if self.classes is None:
            for v in np.unique(ans):
                if not any(v == s for s in self._seen):
                    self._seen.append(v)
            if len(self._seen) > 2:
                raise ValueError(
                    f"the victim answered more than two labels {self._seen[:5]}; this "
                    "attack extracts binary classifiers."
                )
        self._X.append(np.asarray(X, dtype=np.float64))
        self._y.append(ans)
        return ans

    def history(self):
        """Every point asked through this object, and its label: (X, labels)."""
        if not self._X:
            return np.empty((0, 0)), np.empty(0)
        return np.vstack(self._X), np.concatenate(self._y)

    @property
    def known(self) -> bool:
        """True once both classes are known."""
        return self.classes is not None or len(self._seen) == 2

    def classes_(self) -> np.ndarray:
        if self.classes is None:
            if len(self._seen) < 2:
                raise RuntimeError("both classes are not known yet.")
            self.classes = np.asarray(sorted(self._seen))
        return self.classes

    def code(self, labels) -> np.ndarray:
        """+1 for ``classes[1]``, −1 for ``classes[0]``."""
        return np.where(np.asarray(labels) == self.classes_()[1], 1, -1)

    def __call__(self, X, *, phase=None, reuse=False) -> np.ndarray:
        """The ±1 codes of ``X``'s labels."""
        return self.code(self.raw(X, phase=phase, reuse=reuse))


def n_bisection_steps(tol: float) -> int:
    """Steps that shrink a segment of length L to ``tol``·L: ⌈log2(1/tol)⌉."""
    return int(np.ceil(np.log2(1.0 / tol) - 1e-12))


def bisect(ask, points, t_neg, t_pos, n_steps: int, *, phase=None):
    """Bisect many one-parameter searches to the boundary at once: a batch per step.

    Parameters
    ----------
    ask : callable
        ``ask(X, phase=...) -> ±1 codes`` (a :class:`BinaryLabels`).
    points : callable
        ``points(t) -> (m, d)``: the point of each search at its parameter
        ``t[i]`` (a segment ``a + t (b − a)``, an arc, ...).
    t_neg, t_pos : ndarray of shape (m,)
        Parameters believed to be labelled −1 and +1.
    n_steps : int
        Steps; each halves every bracket, which ends at ``2**-n_steps`` of its
        initial width.

    Returns
    -------
    t_neg, t_pos : ndarray of shape (m,)
        The final brackets.
    stuck : ndarray of bool, shape (m,)
        True where one end never moved: the search found no crossing inside its
        range (or the answers were inconsistent), so its bracket is unverified.
    """
    t_neg = np.array(t_neg, dtype=np.float64, copy=True)
    t_pos = np.array(t_pos, dtype=np.float64, copy=True)
    moved_neg = np.zeros(t_neg.shape, dtype=bool)
    moved_pos = np.zeros(t_neg.shape, dtype=bool)
    for _ in range(n_steps):
        mid = 0.5 * (t_neg + t_pos)
        up = ask(points(mid), phase=phase) > 0
        t_pos[up] = mid[up]
        t_neg[~up] = mid[~up]
        moved_pos |= up
        moved_neg |= ~up
    return t_neg, t_pos, ~(moved_neg & moved_pos)


def bisect_segments(ask, neg, pos, n_steps: int, *, phase=None):
    """Bisect the segments ``neg[i] → pos[i]``; return the boundary midpoints.

    Returns
    -------
    boundary : ndarray of shape (m, d)
        Midpoint of each final bracket: within ``2**-(n_steps+1)`` of the
        segment's length of a crossing.
    stuck : ndarray of bool, shape (m,)
        See :func:`bisect`.
    """
    neg = np.asarray(neg, dtype=np.float64)
    pos = np.asarray(pos, dtype=np.float64)
    m = neg.shape[0]

    def points(t):
        return neg + t[:, None] * (pos - neg)

    t0, t1, stuck = bisect(ask, points, np.zeros(m), np.ones(m), n_steps, phase=phase)
    return points(0.5 * (t0 + t1)), stuck


class LinearBoundary(ClassifierMixin, BaseEstimator):
    """A binary classifier ``sign(w·φ(x) + b)`` given by its extracted parameters.

    The copy that Lowd–Meek and query synthesis return: they recover the
    parameters up to a positive scale, not by fitting. ``φ`` is the identity, or
    the monomials of degree 1 to ``degree`` (scikit-learn's ``PolynomialFeatures``
    without the constant) for polynomial-kernel victims.

    Parameters
    ----------
    degree : int, default=None
        Degree of the explicit polynomial feature map; None for linear.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_map_features)
        The normal ``w`` (unit length).
    intercept_ : ndarray of shape (1,)
    classes_ : ndarray of shape (2,)
        ``classes_[1]`` is predicted where ``w·φ(x) + b > 0``.
    """

    def __init__(self, *, degree=None):
        self.degree = degree

    @classmethod
    def from_parameters(cls, coef, intercept, classes, *, degree=None, n_features=None):
        """A fitted copy from ``w``, ``b`` and the two classes."""
        self = cls(degree=degree)
        w = np.asarray(coef, dtype=np.float64).reshape(-1)
        b = float(intercept)
        norm = np.linalg.norm(np.append(w, b))
        if norm == 0 or not np.isfinite(norm):
            raise ValueError("the extracted parameters are zero or not finite.")
        self.coef_ = (w / norm).reshape(1, -1)
        self.intercept_ = np.array([b / norm])
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = int(n_features if n_features is not None else w.size)
        self._map = None
        if degree is not None:
            self._map = PolynomialFeatures(degree=degree, include_bias=False)
            self._map.fit(np.zeros((1, self.n_features_in_)))
        return self

    def _phi(self, X):
        X = np.asarray(X, dtype=np.float64)
        return X if self.degree is None else self._map.transform(X)

    def fit(self, X, y):
        """Fit by a nearly hard-margin logistic regression in the feature map."""
        X = np.asarray(X, dtype=np.float64)
        self.n_features_in_ = X.shape[1]
        self._map = None
        if self.degree is not None:
            self._map = PolynomialFeatures(degree=self.degree, include_bias=False).fit(X)
        lr = LogisticRegression(C=1e4, max_iter=5000).fit(self._phi(X), y)
        w, b = lr.coef_.ravel(), lr.intercept_[0]
        norm = np.linalg.norm(np.append(w, b))
        self.coef_ = (w / norm).reshape(1, -1)
        self.intercept_ = np.array([b / norm])
        self.classes_ = lr.classes_
        return self

    def decision_function(self, X):
        check_is_fitted(self, "coef_")
        return self._phi(X) @ self.coef_[0] + self.intercept_[0]

    def predict(self, X):
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
