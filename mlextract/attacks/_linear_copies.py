"""The copies equation solving returns: linear models with the victim's link function.

Binary and softmax copies are plain scikit-learn ``LogisticRegression`` objects whose
parameters are set, not fitted. One-vs-rest and Platt-ensemble victims have no
scikit-learn counterpart with ``coef_``, so they get the two small classes below.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["OneVsRestLogistic", "SigmoidEnsemble", "logistic_copy"]


def logistic_copy(coef, intercept, classes) -> LogisticRegression:
    """A ``LogisticRegression`` holding the given parameters, ready to predict.

    ``coef`` is (1, d) for two classes (the log-odds of the second class) and
    (c, d) for c > 2 classes (softmax scores).
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    model = LogisticRegression()
    model.coef_ = coef
    model.intercept_ = np.asarray(intercept, dtype=np.float64).reshape(coef.shape[0])
    model.classes_ = np.asarray(classes)
    model.n_features_in_ = coef.shape[1]
    model.n_iter_ = np.zeros(1, dtype=np.int32)
    return model


class _LinearScores(ClassifierMixin, BaseEstimator):
    """Shared ``predict`` of the copies below, which are built, not trained."""

    def fit(self, X, y=None):
        """Not available: these copies are built from extracted parameters."""
        raise NotImplementedError(
            f"{type(self).__name__} is built from extracted parameters with "
            "from_parameters(...); it has no training procedure."
        )

    def _check(self, X):
        check_is_fitted(self, "coef_")
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} expects "
                f"{self.n_features_in_}."
            )
        return X

    def predict(self, X):
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class OneVsRestLogistic(_LinearScores):
    """One sigmoid per class, normalised to sum to one (``OneVsRestClassifier``).

    ``p_k(x) = σ(w_k·x + b_k) / Σ_j σ(w_j·x + b_j)``: what
    ``OneVsRestClassifier(LogisticRegression())`` and a multiclass
    ``CalibratedClassifierCV(..., method="sigmoid", ensemble=False)`` answer.

    Build one with :meth:`from_parameters`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
    intercept_ : ndarray of shape (n_classes,)
    classes_, n_features_in_

    Examples
    --------
    >>> m = OneVsRestLogistic.from_parameters([[1.0], [-1.0], [0.0]], [0, 0, 0],
    ...                                       classes=[0, 1, 2])
    >>> m.predict([[2.0], [-2.0]]).tolist()
    [0, 1]
    """

    @classmethod
    def from_parameters(cls, coef, intercept, classes):
        """A fitted copy holding these parameters."""
        self = cls()
        self.coef_ = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        self.intercept_ = np.asarray(intercept, dtype=np.float64).reshape(-1)
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = self.coef_.shape[1]
        return self

    def decision_function(self, X):
        """The per-class scores ``w_k·x + b_k``."""
        X = self._check(X)
        return X @ self.coef_.T + self.intercept_

    def predict_proba(self, X):
        """Normalised sigmoids of the class scores."""
        s = expit(self.decision_function(X))
        total = s.sum(axis=1, keepdims=True)
        zero = total[:, 0] == 0
        s[zero] = 1.0
        total[zero] = s.shape[1]
        return s / total


class SigmoidEnsemble(_LinearScores):
    """The average of several sigmoids of affine scores (binary).

    ``p_1(x) = (1/K) Σ_i σ(w_i·x + b_i)``: what
    ``CalibratedClassifierCV(LinearSVC(), method="sigmoid", ensemble=True)``
    answers for two classes (one Platt-scaled SVM per fold).

    Build one with :meth:`from_parameters`.

    Attributes
    ----------
    coefs_, intercepts_
        The members' parameters.
    coef_, intercept_
        Their mean (a single affine score; exact only when the members agree).
    classes_, n_features_in_

    Examples
    --------
    >>> m = SigmoidEnsemble.from_parameters([[1.0], [2.0]], [0.0, 0.0], classes=[0, 1])
    >>> m.predict_proba([[0.0]]).tolist()
    [[0.5, 0.5]]
    """

    @classmethod
    def from_parameters(cls, coefs, intercepts, classes):
        """A fitted copy holding these members' parameters."""
        self = cls()
        self.coefs_ = np.atleast_2d(np.asarray(coefs, dtype=np.float64))
        self.intercepts_ = np.asarray(intercepts, dtype=np.float64).reshape(-1)
        self.coef_ = self.coefs_.mean(axis=0, keepdims=True)
        self.intercept_ = np.array([self.intercepts_.mean()])
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = self.coefs_.shape[1]
        return self

    def decision_function(self, X):
        """Log-odds of the averaged probability."""
        p = self.predict_proba(X)[:, 1]
        with np.errstate(divide="ignore"):
            return np.log(p) - np.log1p(-p)

    def predict_proba(self, X):
        """``[1 − p_1, p_1]`` with ``p_1`` the members' mean sigmoid."""
        X = self._check(X)
        p1 = expit(X @ self.coefs_.T + self.intercepts_).mean(axis=1)
        return np.column_stack([1.0 - p1, p1])
