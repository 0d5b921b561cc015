"""Answer perturbations: oracle wrappers that a prediction API can apply.

Each is an :class:`~mlextract.oracles.AnswerWrapper`, so it composes with any oracle
and any other wrapper (``GaussianNoise(Rounded(LocalOracle(m), decimals=3), ...)``)
and every attack runs against it with no special code. Each reports its cost to
honest users with :meth:`Defense.utility`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from ..oracles import AnswerWrapper, Oracle, labels_from_scores
from ._keyed import key_bytes, keyed_normals, keyed_uniforms

__all__ = [
    "Defense",
    "GaussianNoise",
    "ReverseSigmoid",
    "RandomFlips",
    "MAD",
    "utility_cost",
]


def utility_cost(defended: AnswerWrapper, X, y=None) -> dict:
    """What a defense costs honest users, measured on their data (not counted).

    Parameters
    ----------
    defended : AnswerWrapper
        A defense layer; its answers are compared with the answers of the oracle it
        wraps, on the same inputs.
    X : array-like of shape (n, d)
        Honest users' inputs (the owner's test data).
    y : array-like of shape (n,), default=None
        True labels, to report accuracy with and without the defense.

    Returns
    -------
    dict
        ``label_agreement`` (fraction of unchanged top labels), ``accuracy`` and
        ``accuracy_undefended`` (when ``y`` is given), ``accuracy_loss``, and for
        probability answers ``mean_l1`` and ``max_l1`` distortion.
    """
    X = defended._validate(X)
    inner = defended.oracle
    clean = np.asarray(inner._respond(X))
    noisy = np.asarray(defended._respond(X))
    out_in, out_def = inner.output, defended.output
    lab_clean = clean if out_in == "label" else labels_from_scores(clean, inner.classes_, out_in)
    lab_def = noisy if out_def == "label" else labels_from_scores(
        noisy, defended.classes_, out_def)
    res = {"label_agreement": float(np.mean(lab_clean == lab_def))}
    if y is not None:
        y = np.asarray(y)
        res["accuracy_undefended"] = float(np.mean(lab_clean == y))
        res["accuracy"] = float(np.mean(lab_def == y))
        res["accuracy_loss"] = res["accuracy_undefended"] - res["accuracy"]
    if out_in == "proba" and out_def == "proba":
        l1 = np.abs(clean - noisy).sum(axis=1)
        res["mean_l1"] = float(l1.mean())
        res["max_l1"] = float(l1.max())
    return res


class Defense(AnswerWrapper):
    """Base of the answer perturbations: an oracle wrapper with a utility report."""

    def utility(self, X, y=None) -> dict:
        """Cost to honest users on ``X`` (see :func:`utility_cost`)."""
        return utility_cost(self, X, y)


def _check_proba_oracle(oracle, name):
    if not isinstance(oracle, Oracle):
        raise TypeError(f"{name} wraps an mlextract Oracle; got {type(oracle).__name__}.")
    if oracle.output != "proba":
        raise ValueError(f"{name} perturbs probabilities; the oracle answers {oracle.output!r}.")


def _top_preserved(p_new, p_old):
    """Swap entries so that each row of ``p_new`` keeps the top class of ``p_old``."""
    top_old = np.argmax(p_old, axis=1)
    top_new = np.argmax(p_new, axis=1)
    bad = np.flatnonzero(top_old != top_new)
    if bad.size:
        p_new = p_new.copy()
        a, b = top_old[bad], top_new[bad]
        va, vb = p_new[bad, a].copy(), p_new[bad, b].copy()
        p_new[bad, a], p_new[bad, b] = vb, va
    return p_new


class GaussianNoise(Defense):
    """Add N(0, σ²) noise to each probability, clip at 0, renormalise.

    The noise of a row is a keyed hash of the row: asking again returns the same
    answer (no averaging), and a batch gets the answers of its rows one at a time.

    Parameters
    ----------
    oracle : Oracle
        An oracle answering probabilities.
    sigma : float
        Standard deviation of the noise.
    key : int, str or bytes, default=0
        The defense's secret.
    keep_top_label : bool, default=False
        Swap entries back where the noise changed the top class.
    """

    def __init__(self, oracle, *, sigma: float, key=0, keep_top_label=False):
        _check_proba_oracle(oracle, "GaussianNoise")
        super().__init__(oracle)
        if not np.isfinite(sigma) or sigma < 0:
            raise ValueError(f"sigma must be a finite number >= 0; got {sigma!r}.")
        self.sigma = float(sigma)
        self.key = key_bytes(key)
        self.keep_top_label = bool(keep_top_label)

    def _transform(self, p, X):
        p = np.asarray(p, dtype=np.float64)
        noisy = np.clip(p + self.sigma * keyed_normals(X, self.key, p.shape[1]), 0.0, None)
        s = noisy.sum(axis=1, keepdims=True)
        noisy = np.where(s > 0, noisy / np.where(s > 0, s, 1.0), p)
        return _top_preserved(noisy, p) if self.keep_top_label else noisy

    def _params(self):
        return f"sigma={self.sigma}"


class ReverseSigmoid(Defense):
    """The reverse sigmoid perturbation of Lee et al. (2019).

    ``r = β·(s(γ·s⁻¹(p)) − 1/2)`` and ``p̃ = α·(p − r)``, with ``s`` the sigmoid and
    α renormalising to the simplex. For small β it keeps the top label; where it
    would not, entries are swapped so the top label is always kept.

    Parameters
    ----------
    oracle : Oracle
    beta : float, default=0.7
        Strength (β > 0).
    gamma : float, default=0.4
        Sharpness (γ > 0); γ < 1 flattens the log-odds the attacker would read.

    References
    ----------
    .. [1] T. Lee, B. Edwards, I. Molloy, D. Su. "Defending Against NN Model
       Stealing Attacks Using Deceptive Perturbations". IEEE S&P Workshops 2019.
    """

    def __init__(self, oracle, *, beta=0.7, gamma=0.4):
        _check_proba_oracle(oracle, "ReverseSigmoid")
        super().__init__(oracle)
        if not (beta > 0 and gamma > 0):
            raise ValueError(f"beta and gamma must be > 0; got {beta!r}, {gamma!r}.")
        self.beta, self.gamma = float(beta), float(gamma)

    def _transform(self, p, X):
        p = np.asarray(p, dtype=np.float64)
        q = np.clip(p, 1e-12, 1 - 1e-12)
        r = self.beta * (expit(self.gamma * logit(q)) - 0.5)
        out = np.clip(p - r, 0.0, None)
        s = out.sum(axis=1, keepdims=True)
        out = np.where(s > 0, out / np.where(s > 0, s, 1.0), p)
        return _top_preserved(out, p)

    def _params(self):
        return f"beta={self.beta}, gamma={self.gamma}"


class RandomFlips(Defense):
    """Answer a random other label with probability η (Chandrasekaran et al. 2020).

    The data-independent randomisation: each answer is replaced, with probability
    ``rate``, by a label drawn uniformly among the others. Which rows flip, and to
    what, is a keyed hash of the row (the same query gets the same answer). On a
    probability oracle the flipped row's top entry is swapped with the new label's.

    Parameters
    ----------
    oracle : Oracle
        A classifier's oracle.
    rate : float
        η in [0, 1).
    key : int, str or bytes, default=0

    References
    ----------
    .. [1] V. Chandrasekaran, K. Chaudhuri, I. Giacomelli, S. Jha, S. Yan.
       "Exploring Connections Between Active Learning and Model Extraction".
       USENIX Security 2020.
    """

    def __init__(self, oracle, *, rate: float, key=0):
        super().__init__(oracle)
        if oracle.output not in ("label", "proba"):
            raise ValueError(f"RandomFlips needs labels or probabilities; got {oracle.output!r}.")
        if oracle.classes_ is None or len(oracle.classes_) < 2:
            raise ValueError("RandomFlips needs the oracle's classes (at least two).")
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1); got {rate!r}.")
        self.rate = float(rate)
        self.key = key_bytes(key)

    def _transform(self, ans, X):
        classes = np.asarray(self.oracle.classes_)
        k = classes.size
        u = keyed_uniforms(X, self.key, 2, salt=b"flip")
        flip = u[:, 0] < self.rate
        shift = 1 + np.floor(u[:, 1] * (k - 1)).astype(int)  # 1..k-1
        if self.oracle.output == "label":
            idx = np.searchsorted(classes, ans) if classes.dtype.kind != "O" else np.array(
                [list(classes).index(a) for a in ans])
            new = (idx + shift) % k
            out = np.asarray(ans).copy()
            out[flip] = classes[new[flip]]
            return out
        p = np.asarray(ans, dtype=np.float64).copy()
        top = np.argmax(p, axis=1)
        new = (top + shift) % k
        rows = np.flatnonzero(flip)
        a, b = top[rows], new[rows]
        va, vb = p[rows, a].copy(), p[rows, b].copy()
        p[rows, a], p[rows, b] = vb, va
        return p

    def _params(self):
        return f"rate={self.rate}"


class MAD(Defense):
    """Prediction poisoning by maximising angular deviation (Orekondy et al. 2020).

    For each query the defender perturbs the probability vector ``y`` into ``ỹ``
    within an L1 budget ε, choosing the direction that turns the attacker's
    training gradient furthest. With a softmax surrogate ``F`` (the defender's
    stand-in for the attacker's model), the gradient of the cross-entropy in the
    weights is ``G^T y = (y − F(x)) ⊗ [x, 1]``, so the angle between ``G^T y`` and
    ``G^T ỹ`` is the angle between ``y − F(x)`` and ``ỹ − F(x)``. As in MAD, the
    best target is a vertex ``e_j`` of the simplex; ``ỹ = (1−α)y + α e_j`` with the
    largest α the budget (and, with ``keep_top_label``, the top label) allows.

    Parameters
    ----------
    oracle : Oracle
        An oracle answering probabilities.
    surrogate : fitted classifier
        The defender's surrogate with ``predict_proba`` over the same classes.
    epsilon : float
        L1 budget of the perturbation, in (0, 2].
    keep_top_label : bool, default=True
        MAD-argmax: never change the top label.

    References
    ----------
    .. [1] T. Orekondy, B. Schiele, M. Fritz. "Prediction Poisoning: Towards
       Defenses Against DNN Model Stealing Attacks". ICLR 2020.
    """

    def __init__(self, oracle, *, surrogate, epsilon: float, keep_top_label=True):
        _check_proba_oracle(oracle, "MAD")
        super().__init__(oracle)
        if not hasattr(surrogate, "predict_proba"):
            raise ValueError("surrogate must be a fitted classifier with predict_proba.")
        if not 0 < epsilon <= 2:
            raise ValueError(f"epsilon must be in (0, 2]; got {epsilon!r}.")
        self.surrogate = surrogate
        self.epsilon = float(epsilon)
        self.keep_top_label = bool(keep_top_label)

    def _transform(self, y, X):
        y = np.asarray(y, dtype=np.float64)
        n, k = y.shape
        F = np.asarray(self.surrogate.predict_proba(X), dtype=np.float64)
        if F.shape != y.shape:
            raise ValueError(f"the surrogate answers {F.shape}, the oracle {y.shape}.")
        a = y - F
        top = np.argmax(y, axis=1)
        best = y.copy()
        best_cos = np.full(n, np.inf)
        rows = np.arange(n)
        for j in range(k):
            e = np.zeros(k)
            e[j] = 1.0
            dist = np.abs(e - y).sum(axis=1)
            alpha = np.minimum(1.0, self.epsilon / np.where(dist > 0, dist, 1.0))
            if self.keep_top_label:
                gap = y[rows, top] - y[:, j]
                limit = np.where(j == top, 1.0, gap / (1.0 + gap) * (1 - 1e-9))
                alpha = np.minimum(alpha, limit)
            cand = (1 - alpha[:, None]) * y + alpha[:, None] * e
            b = cand - F
            na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
            cos = np.where(
                na > 0, (a * b).sum(axis=1) / (na * nb + 1e-300), -nb  # a = 0: go furthest
            )
            better = cos < best_cos
            best[better], best_cos[better] = cand[better], cos[better]
        return best

    def _params(self):
        return f"epsilon={self.epsilon}, keep_top_label={self.keep_top_label}"

