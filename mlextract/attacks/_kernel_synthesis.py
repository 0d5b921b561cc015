"""Active query synthesis for kernel SVMs (Chandrasekaran et al. 2020, §5)."""

from __future__ import annotations

import numpy as np
from sklearn.dummy import DummyClassifier

from ._base import Attack, Run
from ._copy_models import SearchedSVC, copy_boundary_points
from ._label_queries import BinaryLabels, check_binary_oracle
from ._registry import register
from ._retraining import _different_pairs, vertex_sample

__all__ = ["ActiveSynthesis"]


@register
class ActiveSynthesis(Attack):
    """Extract a kernel SVM by synthesising queries on the current copy's boundary.

    Round 0 asks ``n_initial`` uniform points of the domain. Each later round
    fits the copy (an SVM whose kernel width, C and feature scaling are chosen by
    cross-validation on the answers so far, searched again each time the answers
    have doubled and reused in between), takes random pairs of *answered* points
    that the victim labelled differently, bisects each segment on the copy (no
    queries) to the copy's boundary, and asks the victim there; the answers land where
    the copy is least sure, so each round corrects its boundary. A share
    ``explore`` of each round stays uniform, to find regions the copy has not
    seen.

    Parameters
    ----------
    n_queries : int, default=1000
    n_initial : int, default=None
        Uniform queries of round 0 (default: 10% of ``n_queries``, at least 20),
        asked beside any ``seed_points``.
    batch_size : int, default=None
        Queries per round (default: 5% of ``n_queries``).
    kernel : {"rbf", "poly"}, default="rbf"
        The copy's kernel.
    seed_points : array-like of shape (m, d), default=None
        Unlabelled inputs the attacker already holds (e.g. a few public samples
        of the victim's task). They are asked first, and counted; synthesis then
        starts from the victim's boundary near them rather than only from the
        uniform points of the domain, where a high-dimensional RBF victim answers
        one class almost everywhere.
    standardize : {"auto", True, False}, default="auto"
        The copy's geometry (see :class:`SearchedSVC`): standardise the features
        before the kernel (True), keep them as asked, with the width in units of
        scikit-learn's ``"scale"`` (False), or let the cross-validation that
        picks the width and C pick this too ("auto"). A victim fitted on raw
        features (pixels, one-hot columns) is copied far better in its own
        geometry: standardising blows up near-constant features.
    explore : float, default=0.1
    jitter : float, default=0.01
        Gaussian noise added to each synthesised point, as a fraction of each
        feature's range.
    random_state : int, Generator or None

    Notes
    -----
    ``info["rounds"]`` records, per round, the share of the synthesised queries
    the copy mislabelled before seeing them (a confidence: it falls as the copy
    converges, and stays near the noise rate when answers are noisy), and the
    chosen kernel width; ``info["searched_at"]`` the numbers of answers at which
    the width, C and scaling were searched; ``info["estimated_agreement"]`` is
    one minus that share over the last two rounds — a pessimistic estimate,
    since those points lie on the copy's boundary. The attack always stops within ``n_queries``.

    References
    ----------
    .. [1] V. Chandrasekaran, K. Chaudhuri, I. Giacomelli, S. Jha, S. Yan.
       "Exploring Connections Between Active Learning and Model Extraction".
       USENIX Security 2020.
    .. [2] F. Tramèr et al. "Stealing Machine Learning Models via Prediction
       APIs". USENIX Security 2016, §6.2 (RBF SVMs: ~2,050 queries).

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.svm import SVC
    >>> from mlextract.oracles import Domain, LocalOracle
    >>> X, y = make_moons(300, noise=0.2, random_state=0)
    >>> oracle = LocalOracle(SVC().fit(X, y), output="label", domain=Domain.from_data(X))
    >>> res = ActiveSynthesis(n_queries=200, batch_size=50, random_state=0).extract(oracle)
    >>> res.n_queries, res.status
    (200, 'success')
    """

    name = "active_synthesis"
    outputs = ("label", "proba", "logit")

    def __init__(self, *, n_queries=1000, n_initial=None, batch_size=None, kernel="rbf",
                 seed_points=None, standardize="auto", explore=0.1, jitter=0.01,
                 random_state=None):
        self.n_queries = n_queries
        self.n_initial = n_initial
        self.batch_size = batch_size
        self.kernel = kernel
        self.seed_points = seed_points
        self.standardize = standardize
        self.explore = explore
        self.jitter = jitter
        self.random_state = random_state

    def _validate_params(self):
        for name in ("n_queries", "n_initial", "batch_size"):
            v = getattr(self, name)
            if v is None and name != "n_queries":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}.")
        if self.kernel not in ("rbf", "poly"):
            raise ValueError(f"kernel must be 'rbf' or 'poly'; got {self.kernel!r}.")
        if self.standardize not in ("auto", True, False):
            raise ValueError(
                f"standardize must be 'auto', True or False; got {self.standardize!r}."
            )
        if not 0 <= self.explore <= 1:
            raise ValueError(f"explore must be in [0, 1]; got {self.explore!r}.")
        if not self.jitter >= 0:
            raise ValueError(f"jitter must be >= 0; got {self.jitter!r}.")

    def _check_oracle(self, oracle):
        check_binary_oracle(oracle, "ActiveSynthesis")
        if self.seed_points is not None:
            S = np.asarray(self.seed_points, dtype=np.float64)
            if S.ndim != 2 or S.shape[0] == 0 or S.shape[1] != oracle.domain.n_features:
                raise ValueError(
                    f"seed_points must be a non-empty (m, {oracle.domain.n_features}) array; "
                    f"got shape {S.shape}."
                )
            if not np.all(np.isfinite(S)):
                raise ValueError("seed_points contains NaN or inf.")

    def _extract(self, run: Run) -> None:
        oracle, dom = run.oracle, run.oracle.domain
        ask = BinaryLabels(oracle)
        n = int(self.n_queries)
        left = run.remaining()
        budget_short = left is not None and left < n
        if budget_short:
            n = max(left, 1)  # a zero budget still asks once, and is told so
        n0 = min(n, self.n_initial or max(20, n // 10))
        batch = self.batch_size or max(10, n // 20)
        if self.seed_points is not None:
            S = dom.project(np.asarray(self.seed_points, dtype=np.float64))[:n]
            n0 = min(n, len(S) + n0)
            X = np.vstack([S, dom.sample(n0 - len(S), random_state=run.rng)])
        else:
            X = dom.sample(n0, random_state=run.rng)
        y = ask.raw(X, phase="initial")
        model = SearchedSVC(kernel=self.kernel, Cs=(10, 100, 1000, 10_000),
                            standardize=self.standardize)
        rounds = []
        searched, n_searched, searched_at = None, 0, []
        spread = self.jitter * (dom.upper - dom.lower)
        while True:
            if np.unique(y).size < 2:
                run.model = DummyClassifier(strategy="most_frequent").fit(X, y)
            else:
                # search again whenever the answers have doubled, and at the end
                again = searched is None or len(X) >= n or len(X) >= 2 * n_searched
                fitting = model if again else searched.fixed()
                run.model = fitting.fit(X, y)
                if fitting is model:
                    searched, n_searched = run.model, len(X)
                    searched_at.append(n_searched)
            if len(X) >= n:
                break
            m = min(batch, n - len(X))
            if np.unique(y).size < 2:
                Xn = vertex_sample(dom, m, run.rng)
            else:
                m_e = int(round(self.explore * m))
                A, B = _different_pairs(X, y, m - m_e, run.rng)
                P = copy_boundary_points(run.model, A, B)
                P = P + run.rng.normal(size=P.shape) * spread
                Xn = np.vstack([dom.project(P), dom.sample(m_e, random_state=run.rng)])
            yn = ask.raw(Xn, phase="synthesis")
            err = float(np.mean(run.model.predict(Xn) != yn))
            rounds.append({"n_queries": int(len(Xn)), "copy_error": err,
                           "gamma": getattr(searched, "best_params_", {}).get("gamma")})
            X, y = np.vstack([X, Xn]), np.concatenate([y, yn])
        last = [r["copy_error"] for r in rounds[-2:]]
        run.info.update(rounds=rounds, n_initial=n0, searched_at=searched_at,
                        estimated_agreement=1.0 - float(np.mean(last)) if last else None,
                        best_params=getattr(searched, "best_params_", None))
        if np.unique(y).size < 2:
            run.status = "approximate"
            run.message = "every answer was the same class; the copy is a constant."
        elif budget_short:
            run.status = "budget_exhausted"
            run.message = f"the budget allowed {n} of the {self.n_queries} queries."
