"""An oracle around a model that lives in this process."""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline
from sklearn.tree import BaseDecisionTree

from ._base import OUTPUTS, Oracle, _Meter
from ._domain import Domain
from ._granularity import round_answers, top_k_answers
from ._tree import deepest_nodes, node_answers

__all__ = ["LocalOracle"]


def _final_estimator(victim):
    return victim.steps[-1][1] if isinstance(victim, Pipeline) else victim


def _kind(victim) -> str:
    """'classifier', 'regressor' or 'unknown', also for estimators outside sklearn."""
    try:
        if is_regressor(victim):
            return "regressor"
        if is_classifier(victim):
            return "classifier"
    except AttributeError:  # no scikit-learn tags: an mlextract network or a wrapper
        pass
    if getattr(victim, "output", None) == "identity":
        return "regressor"
    if hasattr(victim, "classes_"):
        return "classifier"
    return "unknown"


def _default_output(victim) -> str:
    if callable(victim) and not hasattr(victim, "predict"):
        return "label"
    if _kind(victim) == "regressor":
        return "value"
    if hasattr(victim, "predict_proba"):
        return "proba"
    return "label"


class LocalOracle(Oracle):
    """The victim is a model in this process: an estimator, a network or a function.

    Parameters
    ----------
    victim : estimator or callable
        A fitted scikit-learn classifier or regressor (Pipelines included), an
        ``mlextract.nn`` network, or a function mapping a batch (n, d) to answers.
    output : {"label", "proba", "logit", "value"}, default=None
        What an answer is. Default: ``"proba"`` for classifiers with
        ``predict_proba``, ``"value"`` for regressors, ``"label"`` otherwise (and for
        plain functions, whose answers are passed through as they are).
        ``"logit"`` uses ``decision_function``: (n, 1) for binary scikit-learn
        classifiers, (n, k) otherwise.
    decimals : int, default=None
        Round answers to this many decimals (a :class:`Rounded` layer).
    top_k : int, default=None
        Keep the ``top_k`` largest scores of each answer (a :class:`TopK` layer).
    budget : int, default=None
        Lifetime cap on paid queries; a batch that would exceed it raises
        ``BudgetExhausted`` before the victim sees it.
    domain : Domain, default=None
        The public description of the input space. Needed by attacks that sample it.
    allow_missing : bool, default=None
        Accept incomplete queries (NaN = feature not supplied). Default: True for
        decision-tree victims, which answer with the deepest node reached.
    n_features : int, default=None
        Input width; read from the victim's ``n_features_in_`` when it has one.
    classes : array-like, default=None
        Class labels for a function victim (read from ``classes_`` otherwise).
    journal : str or Path, default=None
        An SQLite file recording every answered batch, replayed by a re-run.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> oracle = LocalOracle(DecisionTreeClassifier(random_state=0).fit(X, y),
    ...                      domain=Domain.from_data(X))
    >>> oracle.query(X[:2]).shape, oracle.n_queries
    ((2, 3), 2)
    >>> oracle.query([[5.0, float("nan"), float("nan"), float("nan")]]).round(2)
    array([[0.33, 0.33, 0.33]])
    """

    def __init__(
        self,
        victim,
        *,
        output=None,
        decimals=None,
        top_k=None,
        budget=None,
        domain: Domain | None = None,
        allow_missing=None,
        n_features=None,
        classes=None,
        journal=None,
    ):
        if victim is None or not (hasattr(victim, "predict") or callable(victim)):
            raise TypeError(
                "victim must be a fitted estimator (with predict) or a callable; got "
                f"{type(victim).__name__}."
            )
        self.victim = victim
        self.output = output if output is not None else _default_output(victim)
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}; got {self.output!r}.")
        final = _final_estimator(victim)
        self._is_tree = isinstance(final, BaseDecisionTree) and not isinstance(
            victim, Pipeline
        )
        self._check_output_supported(final)
        if decimals is not None and self.output == "label":
            raise ValueError("decimals needs numeric answers; output='label' has none.")
        if top_k is not None and self.output not in ("proba", "logit"):
            raise ValueError(f"top_k needs probabilities or logits; output is {self.output!r}.")
        self.decimals = None if decimals is None else _int_at_least(decimals, "decimals", 0)
        self.top_k = None if top_k is None else _int_at_least(top_k, "top_k", 1)
        if n_features is None:
            n_features = getattr(victim, "n_features_in_", None)
        if n_features is None and domain is not None:
            n_features = domain.n_features
        self.n_features = None if n_features is None else int(n_features)
        if domain is not None:
            if not isinstance(domain, Domain):
                raise TypeError(f"domain must be a Domain; got {type(domain).__name__}.")
            if self.n_features is not None and domain.n_features != self.n_features:
                raise ValueError(
                    f"the domain has {domain.n_features} features, the victim "
                    f"{self.n_features}."
                )
        self.domain = domain
        if allow_missing is None:
            allow_missing = self._is_tree
        if allow_missing and not (self._is_tree or not hasattr(victim, "predict")):
            raise ValueError(
                "incomplete queries (allow_missing=True) are answered for "
                "DecisionTreeClassifier/Regressor victims and for callables that "
                f"handle NaN; {type(victim).__name__} cannot."
            )
        self.allow_missing = bool(allow_missing)
        if classes is not None:
            self.classes_ = np.asarray(classes)
        elif hasattr(victim, "classes_"):
            self.classes_ = np.asarray(victim.classes_)
        else:
            self.classes_ = None
        self._meter = _Meter(budget=budget, journal=journal)

    def _check_output_supported(self, final):
        v = self.victim
        if not hasattr(v, "predict"):
            return
        need = {"proba": "predict_proba", "logit": "decision_function"}.get(self.output)
        kind = _kind(v)
        if self.output == "value" and kind == "classifier":
            raise ValueError("output='value' is for regressors; the victim is a classifier.")
        # A network with an identity output has raw outputs, which are its logits.
        raw_outputs = self.output == "logit" and hasattr(v, "decision_function")
        if self.output in ("proba", "logit") and kind == "regressor" and not raw_outputs:
            raise ValueError(
                f"output={self.output!r} is for classifiers; the victim is a regressor "
                "(use output='value')."
            )
        if self._is_tree and self.output == "label" and kind == "regressor":
            raise ValueError("a regression tree has no labels; use output='value'.")
        if self._is_tree and self.output in ("proba", "label", "value"):
            return
        if need is not None and not hasattr(v, need):
            raise ValueError(
                f"output={self.output!r} needs the victim's {need}, which "
                f"{type(v).__name__} does not have."
            )

    def _raw(self, X):
        v = self.victim
        if not hasattr(v, "predict"):
            return np.asarray(v(X))
        if self._is_tree:
            return node_answers(v, deepest_nodes(v.tree_, X), self.output)
        if self.output == "label":
            return np.asarray(v.predict(X))
        if self.output == "value":
            return np.asarray(v.predict(X), dtype=np.float64)
        if self.output == "proba":
            return np.asarray(v.predict_proba(X), dtype=np.float64)
        dec = np.asarray(v.decision_function(X), dtype=np.float64)
        return dec.reshape(-1, 1) if dec.ndim == 1 else dec

    def _respond(self, X):
        ans = self._raw(X)
        if self.top_k is not None:
            fill = -np.inf if self.output == "logit" else 0.0
            ans = top_k_answers(ans, self.top_k, fill=fill)
        if self.decimals is not None:
            ans = round_answers(ans, self.decimals)
        return ans

    def _signature(self) -> str:
        return (
            f"LocalOracle({_fingerprint(self.victim)}, output={self.output}, "
            f"decimals={self.decimals}, top_k={self.top_k}, n_features={self.n_features})"
        )


def _fingerprint(victim) -> str:
    """The victim's type, and for a model a hash of its fitted state.

    A journal records it, so that a re-run against a retrained model of the same
    type is refused instead of replaying the old model's answers. Plain functions
    are named only: their state (counters, clients) is not the model.
    """
    name = type(victim).__name__
    if not hasattr(victim, "predict"):
        return getattr(victim, "__qualname__", name)
    import joblib

    try:
        return f"{name}#{joblib.hash(victim)}"
    except Exception:  # unpicklable parts: fall back to the type, as for functions
        return name


def _int_at_least(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    return int(value)
