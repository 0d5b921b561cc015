"""Response granularity as composable oracle wrappers: rounding, top-k, label only.

The transforms are written once, as plain functions; ``LocalOracle``'s ``decimals``
and ``top_k`` arguments, the wrappers here and the defenses built on them all use
these functions.
"""

from __future__ import annotations

import numpy as np

from ._base import Oracle

__all__ = [
    "AnswerWrapper",
    "Rounded",
    "TopK",
    "LabelOnly",
    "round_answers",
    "top_k_answers",
    "labels_from_scores",
]


def round_answers(answers: np.ndarray, decimals: int) -> np.ndarray:
    """Round probabilities, decision values or regression values to ``decimals``."""
    return np.round(np.asarray(answers, dtype=np.float64), decimals)


def top_k_answers(proba: np.ndarray, k: int, *, fill: float = 0.0) -> np.ndarray:
    """Keep the ``k`` largest entries of each row, set the others to ``fill``.

    Ties are broken towards the lower class index, as ``argsort`` with a stable
    sort does; the kept values are not renormalised (an API returns the top-k
    classes with their own scores). Probabilities are filled with 0; decision
    values need ``fill=-inf`` (a 0 could outrank the kept negative scores), which
    is what the ``TopK`` wrapper and ``LocalOracle(top_k=...)`` use for logits.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2:
        raise ValueError(f"top-k needs (n, k) answers; got shape {proba.shape}.")
    if k >= proba.shape[1]:
        return proba
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    out = np.full_like(proba, fill)
    rows = np.arange(proba.shape[0])[:, None]
    out[rows, order] = proba[rows, order]
    return out


def labels_from_scores(scores: np.ndarray, classes, output: str) -> np.ndarray:
    """The label a probability or decision-value answer stands for."""
    scores = np.asarray(scores, dtype=np.float64)
    classes = np.asarray(classes) if classes is not None else None
    if output == "logit" and (scores.ndim == 1 or scores.shape[1] == 1):
        idx = (scores.reshape(-1) > 0).astype(int)
    else:
        idx = np.argmax(scores, axis=1)
    return idx if classes is None else classes[idx]


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    return int(value)


class AnswerWrapper(Oracle):
    """Base of oracles that transform another oracle's answers.

    The wrapper shares the inner oracle's meter: a query is counted, budgeted and
    journalled once, and the log records the transformed answer that the attacker
    saw. Subclasses implement ``_transform(answers, X)`` and may change ``output``.
    Defenses are wrappers of this kind.
    """

    def __init__(self, oracle: Oracle):
        if not isinstance(oracle, Oracle):
            raise TypeError(
                f"{type(self).__name__} wraps an mlextract Oracle; got "
                f"{type(oracle).__name__}."
            )
        self.oracle = oracle
        self._meter = oracle._meter

    output = property(lambda self: self.oracle.output)
    classes_ = property(lambda self: self.oracle.classes_)
    allow_missing = property(lambda self: self.oracle.allow_missing)
    domain = property(lambda self: self.oracle.domain)
    n_features = property(lambda self: self.oracle.n_features)

    def _respond(self, X):
        return self._transform(self.oracle._respond(X), X)

    def _runs(self):
        return self.oracle._runs()

    def _transform(self, answers, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def _params(self) -> str:
        return ""

    def _signature(self) -> str:
        return f"{self.oracle._signature()}|{type(self).__name__}({self._params()})"


class Rounded(AnswerWrapper):
    """Round every answer to ``decimals`` decimal places (Tramèr et al. §7).

    Parameters
    ----------
    oracle : Oracle
    decimals : int
        Decimal places kept (0 or more).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlextract.oracles import LocalOracle
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = [0, 0, 1, 1]
    >>> oracle = Rounded(LocalOracle(LogisticRegression().fit(X, y)), decimals=2)
    >>> oracle.query([[1.5]]).round(2).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, oracle: Oracle, *, decimals: int):
        super().__init__(oracle)
        if oracle.output == "label":
            raise ValueError("rounding needs numeric answers; the oracle answers labels.")
        self.decimals = _check_int(decimals, "decimals", 0)

    def _transform(self, answers, X):
        return round_answers(answers, self.decimals)

    def _params(self):
        return f"decimals={self.decimals}"


class TopK(AnswerWrapper):
    """Return only the ``k`` most probable classes' scores.

    The other entries read 0 for probabilities and ``-inf`` for decision values,
    so the answer's argmax is still the predicted class.
    """

    def __init__(self, oracle: Oracle, *, k: int):
        super().__init__(oracle)
        if oracle.output not in ("proba", "logit"):
            raise ValueError(
                f"top-k needs probability or logit answers; the oracle answers "
                f"{oracle.output!r}."
            )
        self.k = _check_int(k, "k", 1)

    def _transform(self, answers, X):
        fill = -np.inf if self.oracle.output == "logit" else 0.0
        return top_k_answers(answers, self.k, fill=fill)

    def _params(self):
        return f"k={self.k}"


class LabelOnly(AnswerWrapper):
    """Answer only the predicted label (the most probable class)."""

    def __init__(self, oracle: Oracle):
        super().__init__(oracle)
        if oracle.output == "value":
            raise ValueError("a regressor's values have no label; LabelOnly needs a classifier.")

    output = property(lambda self: "label")

    def _transform(self, answers, X):
        if self.oracle.output == "label":
            return answers
        return labels_from_scores(answers, self.oracle.classes_, self.oracle.output)
