"""Copy models for label-only extraction: kernel SVMs whose width is found by search."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

__all__ = ["SearchedSVC", "copy_boundary_points"]


class SearchedSVC(ClassifierMixin, BaseEstimator):
    """An SVM copy whose kernel width and C are chosen by cross-validation.

    The attacker does not know the victim's kernel width; Tramèr et al. (§6.2)
    chose it by search on the extracted data. Features are standardised first,
    then ``SVC(kernel)`` is fitted for every ``gamma`` in ``gammas / n_features``
    and ``C`` in ``Cs``; the best by ``cv``-fold accuracy on the extracted labels
    is refitted on all of them.

    Parameters
    ----------
    kernel : {"rbf", "poly"}, default="rbf"
    gammas : sequence of float, default=(0.1, 0.3, 1, 3, 10)
        Kernel widths, in units of 1/n_features (scikit-learn's "scale" after
        standardisation is 1).
    Cs : sequence of float, default=(1, 10, 100, 1000)
    degree : int, default=3
        Degree of a polynomial kernel.
    cv : int, default=3
    standardize : {True, False, "auto"}, default=True
        Standardise the features first (gamma in units of 1/n_features); if
        False, gamma is in units of scikit-learn's ``"scale"``, 1/(n_features·Var X);
        "auto" searches both scalings in the same cross-validation.
    reference : array-like of shape (m, n_features), default=None
        Natural inputs that fix the geometry: the standardisation's mean and
        spread, and Var X in the width unit, are read from them instead of from
        the fitted points. An attacker holding unlabelled data of the victim's
        task passes it here: the queried points (boundary and uniform points)
        are distributed nothing like the data a victim's ``gamma="scale"`` was
        computed on, and with the data as reference gamma = 1 is that width.

    Attributes
    ----------
    estimator_ : Pipeline
        The refitted standardiser and SVC.
    best_params_ : dict
        ``{"gamma": ..., "C": ..., "standardize": bool}``, gamma in the units above.
    classes_ : ndarray
    """

    def __init__(self, *, kernel="rbf", gammas=(0.1, 0.3, 1, 3, 10), Cs=(1, 10, 100, 1000),
                 degree=3, cv=3, standardize=True, reference=None):
        self.kernel = kernel
        self.reference = reference
        self.standardize = standardize
        self.gammas = gammas
        self.Cs = Cs
        self.degree = degree
        self.cv = cv

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if self.standardize not in (True, False, "auto"):
            raise ValueError(
                f"standardize must be True, False or 'auto'; got {self.standardize!r}."
            )
        scalings = (True, False) if self.standardize == "auto" else (bool(self.standardize),)
        R = X if self.reference is None else np.asarray(self.reference, dtype=np.float64)
        if R.ndim != 2 or R.shape[1] != X.shape[1] or not np.all(np.isfinite(R)):
            raise ValueError(
                f"reference must be a finite (m, {X.shape[1]}) array; got shape {R.shape}."
            )
        _, counts = np.unique(y, return_counts=True)
        folds = int(min(self.cv, counts.min()))
        n_grid = len(scalings) * len(self.gammas) * len(self.Cs)
        if folds >= 2 and n_grid > 1:
            pipe = Pipeline([("scaler", self._scaler(True)),
                             ("svc", SVC(kernel=self.kernel, degree=self.degree))])
            grid = [{"scaler": [self._scaler(std)],
                     "svc__gamma": [g / _gamma_unit(R, std) for g in self.gammas],
                     "svc__C": list(self.Cs)} for std in scalings]
            search = GridSearchCV(
                pipe, grid, cv=StratifiedKFold(folds, shuffle=True, random_state=0),
            ).fit(X, y)
            self.estimator_ = search.best_estimator_
            p = search.best_params_
            std = bool(p["scaler"].with_std)
            self.best_params_ = {"gamma": p["svc__gamma"] * _gamma_unit(R, std),
                                 "C": p["svc__C"], "standardize": std}
        else:
            std = scalings[0]
            g, c = ((self.gammas[0], self.Cs[0]) if len(self.gammas) == len(self.Cs) == 1
                    else (1.0, 100.0))
            self.estimator_ = Pipeline([
                ("scaler", self._scaler(std)),
                ("svc", SVC(kernel=self.kernel, degree=self.degree,
                            gamma=g / _gamma_unit(R, std), C=c)),
            ]).fit(X, y)
            self.best_params_ = {"gamma": g, "C": c, "standardize": std}
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def fixed(self):
        """An unfitted copy that reuses the chosen width and C (no search)."""
        check_is_fitted(self, "estimator_")
        return SearchedSVC(kernel=self.kernel, gammas=(self.best_params_["gamma"],),
                           Cs=(self.best_params_["C"],), degree=self.degree, cv=self.cv,
                           standardize=self.best_params_["standardize"],
                           reference=self.reference)

    def _scaler(self, standardize):
        if self.reference is None:  # fitted on the points (each fold's) as usual
            return StandardScaler(with_mean=standardize, with_std=standardize)
        return _ReferenceScaler(self.reference, with_std=standardize)

    def decision_function(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)


class _ReferenceScaler(TransformerMixin, BaseEstimator):
    """Standardise (or not) with the mean and spread of fixed reference data.

    ``fit`` ignores its input: the geometry comes from ``reference`` alone.
    """

    def __init__(self, reference, *, with_std=True):
        self.reference = reference
        self.with_std = with_std

    def fit(self, X, y=None):
        R = np.asarray(self.reference, dtype=np.float64)
        if self.with_std:
            self.mean_ = R.mean(axis=0)
            scale = R.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self.mean_ = np.zeros(R.shape[1])
            self.scale_ = np.ones(R.shape[1])
        return self

    def transform(self, X):
        check_is_fitted(self, "scale_")
        return (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_


def _gamma_unit(X, standardize):
    """1/gamma's unit: n_features after standardising, else n_features·Var(X) ("scale")."""
    if standardize:
        return X.shape[1]
    return X.shape[1] * max(float(X.var()), 1e-12)


def copy_boundary_points(model, A, B, *, n_steps=30):
    """Points where ``model``'s prediction changes on the segments ``A[i] → B[i]``.

    Bisection on the copy itself (free: no victim queries). ``model.predict(A)``
    must differ from ``model.predict(B)`` row by row.
    """
    A = np.array(A, dtype=np.float64, copy=True)
    B = np.array(B, dtype=np.float64, copy=True)
    ya = model.predict(A)
    for _ in range(n_steps):
        M = 0.5 * (A + B)
        same = model.predict(M) == ya
        A[same] = M[same]
        B[~same] = M[~same]
    return 0.5 * (A + B)
