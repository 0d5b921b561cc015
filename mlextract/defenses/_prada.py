"""PRADA: flag a client whose queries' distances are not normally distributed."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import shapiro

from ._detector import Detector

__all__ = ["PRADA", "prada_statistic"]


def prada_statistic(distances) -> float:
    """Shapiro–Wilk W of distances after removing points more than 3σ from the mean."""
    d = np.asarray(distances, dtype=np.float64)
    mu, sd = d.mean(), d.std()
    if sd > 0:
        d = d[np.abs(d - mu) <= 3 * sd]
    if d.size < 3 or np.ptp(d) == 0:
        return 0.0  # degenerate: all distances equal is as far from normal as it gets
    with warnings.catch_warnings():
        # For N > 5000 scipy warns that the p-value may be inaccurate; PRADA uses W.
        warnings.filterwarnings("ignore", message=".*p-value may not be accurate.*")
        return float(shapiro(d).statistic)


class PRADA(Detector):
    """PRADA (Juuti et al. 2019): distances between successive queries.

    For each predicted class c the detector keeps a growing set G_c of past
    queries. A new query x of class c gets d = min over G_c of ||x − g||₂, which is
    appended to the client's distance list D; if d exceeds the class threshold
    T_c, x joins G_c and T_c = max(T_c, mean(D_Gc) − std(D_Gc)) over the distances of
    the points added to G_c. Every ``every`` queries, once D holds more than
    ``min_distances`` values, the Shapiro–Wilk statistic W of D (outliers beyond 3σ
    removed) is computed; W < δ flags the client.

    Parameters
    ----------
    delta : float, default=0.9
        The threshold δ on W (0.9 in the reference server).
    every : int, default=10
        Queries between tests.
    min_distances : int, default=100
        Test only once D holds more than this many distances.
    groups, scaler
        See :class:`Detector`.

    Notes
    -----
    Natural queries give roughly normal distances; synthetic queries (line search,
    Jacobian augmentation) are close to earlier ones by construction, which skews D.

    References
    ----------
    .. [1] M. Juuti, S. Szyller, S. Marchal, N. Asokan. "PRADA: Protecting Against
       DNN Model Stealing Attacks". IEEE EuroS&P 2019.

    Examples
    --------
    >>> import numpy as np
    >>> det = PRADA(delta=0.9)
    >>> rng = np.random.default_rng(0)
    >>> det.observe(rng.normal(size=(300, 5)), np.zeros(300))
    False
    """

    def __init__(self, *, delta=0.9, every=10, min_distances=100, groups=None, scaler=None):
        super().__init__(groups=groups, scaler=scaler)
        if not 0 < delta < 1:
            raise ValueError(f"delta must be in (0, 1); got {delta!r}.")
        if every < 1 or min_distances < 3:
            raise ValueError("every must be >= 1 and min_distances >= 3.")
        self.delta = delta
        self.every = every
        self.min_distances = min_distances

    def _new_state(self):
        return {"G": {}, "DG": {}, "T": {}, "D": [], "W": []}

    def _update(self, st, X, answers):
        if answers is None:
            raise ValueError("PRADA needs the answers (the predicted class of each query).")
        labels = answers if answers.ndim == 1 else np.argmax(answers, axis=1)
        Z = self._standardise(X)
        Z = np.nan_to_num(Z, nan=0.0)
        for z, c in zip(Z, labels.tolist()):
            G = st["G"].get(c)
            if G is None:
                st["G"][c] = z[None, :].copy()
                st["DG"][c] = []
                st["T"][c] = 0.0
            else:
                d = float(np.sqrt(((G - z) ** 2).sum(axis=1)).min())
                st["D"].append(d)
                if d > st["T"][c]:
                    st["G"][c] = np.vstack([G, z])
                    st["DG"][c].append(d)
                    dg = np.asarray(st["DG"][c])
                    st["T"][c] = max(st["T"][c], float(dg.mean() - dg.std()))
            st["n_queries"] += 1
            if st["n_queries"] % self.every == 0 and len(st["D"]) > self.min_distances:
                w = prada_statistic(st["D"])
                st["W"].append(w)
                if w < self.delta:
                    self._mark(st, st["n_queries"])
