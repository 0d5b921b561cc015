"""The out-of-distribution query detector of Atli et al. (2020)."""

from __future__ import annotations

from collections import deque

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._detector import Detector

__all__ = ["OODDetector"]


class OODDetector(Detector):
    """Flag a client whose recent queries look unlike the owner's data.

    A binary classifier is trained to tell the owner's (in-distribution) data from
    natural out-of-distribution data; a client is flagged when the mean
    out-of-distribution probability over its last ``window`` queries exceeds
    ``threshold``. Knockoff-style attackers, who query natural data of another
    distribution, are caught; an attacker with in-domain data is not.

    Parameters
    ----------
    in_distribution : array-like of shape (n, d)
        The owner's data.
    out_distribution : array-like of shape (m, d)
        Natural data from elsewhere (what a Knockoff attacker would use).
    window : int, default=50
        Queries aggregated per decision.
    threshold : float, default=0.5
        Mean OOD probability above which the window is flagged.
    classifier : estimator, default=None
        The in/out classifier (default: standardised logistic regression).
    groups : mapping, default=None
        See :class:`Detector`.

    Attributes
    ----------
    classifier_ : fitted estimator

    References
    ----------
    .. [1] B. G. Atli, S. Szyller, M. Juuti, S. Marchal, N. Asokan. "Extraction of
       Complex DNN Models: Real Threat or Boogeyman?". AAAI-20 EDSMLS, 2020.
    """

    def __init__(self, *, in_distribution, out_distribution, window=50, threshold=0.5,
                 classifier=None, groups=None):
        super().__init__(groups=groups)
        self.in_distribution = in_distribution
        self.out_distribution = out_distribution
        self.window = window
        self.threshold = threshold
        self.classifier = classifier

    def _fitted(self):
        if not hasattr(self, "classifier_"):
            Xi = np.asarray(self.in_distribution, dtype=np.float64)
            Xo = np.asarray(self.out_distribution, dtype=np.float64)
            if Xi.ndim != 2 or Xo.ndim != 2 or Xi.shape[1] != Xo.shape[1] or not (
                    len(Xi) and len(Xo)):
                raise ValueError(
                    "in_distribution and out_distribution must be non-empty 2-D arrays of "
                    f"the same width; got {Xi.shape} and {Xo.shape}."
                )
            if not (1 <= self.window) or not 0 < self.threshold < 1:
                raise ValueError("window must be >= 1 and threshold in (0, 1).")
            clf = self.classifier or make_pipeline(StandardScaler(),
                                                   LogisticRegression(max_iter=2000))
            X = np.vstack([Xi, Xo])
            y = np.r_[np.zeros(len(Xi)), np.ones(len(Xo))]
            self.classifier_ = clone(clf).fit(X, y)
        return self.classifier_

    def _new_state(self):
        return {"scores": deque(maxlen=self.window)}

    def ood_probability(self, X) -> np.ndarray:
        """P(out of distribution) of each query."""
        X = np.nan_to_num(np.asarray(X, dtype=np.float64), nan=0.0)
        return self._fitted().predict_proba(X)[:, 1]

    def _update(self, st, X, answers):
        p = self.ood_probability(X)
        for s in p:
            st["scores"].append(float(s))
            st["n_queries"] += 1
            if len(st["scores"]) == self.window and np.mean(st["scores"]) > self.threshold:
                self._mark(st, st["n_queries"])
