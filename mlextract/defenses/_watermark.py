"""DAWN: watermark a prediction API's answers, then prove a copy was stolen."""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

from ._keyed import key_bytes, keyed_uniforms
from ._perturbations import Defense

__all__ = ["Watermark", "verify_watermark"]


class Watermark(Defense):
    """Answer a keyed few queries with a chosen wrong label (DAWN, Szyller et al.).

    A keyed hash of each input decides whether the query is a watermark (with
    probability ``rate``) and which wrong label it gets; the same input always gets
    the same answer. The watermarked (input, label) pairs are recorded; a model
    trained on the answers reproduces them far more often than an independent model
    would, which :func:`verify_watermark` tests.

    Parameters
    ----------
    oracle : Oracle
        A classifier's oracle (labels or probabilities).
    key : int, str or bytes
        The owner's secret.
    rate : float, default=0.005
        Fraction of queries watermarked (DAWN: below 0.5%).

    Attributes
    ----------
    watermarks_ : tuple of (ndarray, ndarray)
        The watermarked inputs and the labels they were given.

    References
    ----------
    .. [1] S. Szyller, B. G. Atli, S. Marchal, N. Asokan. "DAWN: Dynamic Adversarial
       Watermarking of Neural Networks". ACM Multimedia 2021.
    """

    def __init__(self, oracle, *, key, rate=0.005):
        super().__init__(oracle)
        if oracle.output not in ("label", "proba"):
            raise ValueError(f"Watermark needs labels or probabilities; got {oracle.output!r}.")
        if oracle.classes_ is None or len(oracle.classes_) < 2:
            raise ValueError("Watermark needs the oracle's classes (at least two).")
        if not 0 < rate < 1:
            raise ValueError(f"rate must be in (0, 1); got {rate!r}.")
        self.key = key_bytes(key)
        self.rate = float(rate)
        self._marks_X: dict[bytes, np.ndarray] = {}
        self._marks_y: dict[bytes, object] = {}

    def _transform(self, ans, X):
        classes = np.asarray(self.oracle.classes_)
        k = classes.size
        u = keyed_uniforms(X, self.key, 2, salt=b"dawn")
        mark = u[:, 0] < self.rate
        if not mark.any():
            return ans
        out = np.array(ans, copy=True)
        if self.oracle.output == "label":
            idx = np.array([int(np.flatnonzero(classes == a)[0]) for a in ans])
        else:
            idx = np.argmax(out, axis=1)
        wrong = (idx + 1 + np.floor(u[:, 1] * (k - 1)).astype(int)) % k
        for i in np.flatnonzero(mark):
            if self.oracle.output == "label":
                out[i] = classes[wrong[i]]
            else:
                a, b = idx[i], wrong[i]
                out[i, a], out[i, b] = out[i, b], out[i, a]
            h = X[i].tobytes()
            self._marks_X[h] = X[i].copy()
            self._marks_y[h] = classes[wrong[i]]
        return out

    @property
    def watermarks_(self):
        if not self._marks_X:
            return np.empty((0, self.n_features or 0)), np.empty(0)
        return np.vstack(list(self._marks_X.values())), np.array(list(self._marks_y.values()))

    def _params(self):
        return f"rate={self.rate}"


def verify_watermark(suspect, X_marks, y_marks, *, X_reference, y_reference, alpha=1e-3):
    """Test whether ``suspect`` learned the watermark (a one-sided binomial test).

    Under the null hypothesis (a model not trained on the watermarked answers), the
    suspect predicts a watermark's wrong label no more often than it disagrees with
    the victim on ordinary inputs. That rate is estimated on reference data and
    replaced by its 99.9% upper confidence bound, so that the test is conservative.

    Parameters
    ----------
    suspect : classifier
    X_marks, y_marks : arrays
        The watermarks (``Watermark.watermarks_``).
    X_reference, y_reference : arrays
        Ordinary inputs and the victim's labels for them.
    alpha : float, default=1e-3
        Significance level.

    Returns
    -------
    dict
        ``matches``, ``n``, ``null_rate``, ``p_value`` and ``stolen`` (p < alpha).
    """
    X_marks = np.asarray(X_marks, dtype=np.float64)
    if X_marks.ndim != 2 or len(X_marks) == 0:
        raise ValueError("no watermarks to verify: X_marks is empty.")
    Xr = np.asarray(X_reference, dtype=np.float64)
    if Xr.ndim != 2 or len(Xr) == 0:
        raise ValueError("X_reference must be a non-empty 2-D array.")
    pred = np.asarray(suspect.predict(X_marks))
    matches = int(np.sum(pred == np.asarray(y_marks)))
    ref = np.asarray(suspect.predict(Xr))
    dis = int(np.sum(ref != np.asarray(y_reference)))
    null_rate = binomtest(dis, len(Xr)).proportion_ci(confidence_level=0.999).high
    null_rate = float(min(max(null_rate, 1e-6), 1 - 1e-9))
    p = binomtest(matches, len(X_marks), null_rate, alternative="greater").pvalue
    return {"matches": matches, "n": int(len(X_marks)), "null_rate": null_rate,
            "p_value": float(p), "stolen": bool(p < alpha)}

