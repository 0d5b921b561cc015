"""A scikit-learn compatible MLP classifier on the numpy network."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_array, check_is_fitted

from .._random import check_rng
from ._network import ACTIVATIONS, Network
from ._optimizers import make_optimizer
from ._training import check_targets, one_hot, train

__all__ = ["NumpyMLPClassifier"]


class NumpyMLPClassifier(ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier in numpy, trained on labels or probabilities.

    The same network, loss and training loop as scikit-learn's ``MLPClassifier``
    (softmax output, or one sigmoid unit for two classes; Glorot initialisation;
    L2 penalty ``alpha``; Adam or SGD with Nesterov momentum; minibatches), plus
    training on probability targets and at a temperature, which distillation-based
    extraction needs.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
    solver : {"adam", "sgd"}, default="adam"
    alpha : float, default=1e-4
        L2 penalty (weight decay), as in scikit-learn.
    batch_size : int or "auto", default="auto"
        ``min(200, n_samples)`` for "auto".
    learning_rate_init : float, default=1e-3
    max_iter : int, default=200
        Epochs.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    temperature : float, default=1.0
        τ: the loss is τ²·KL(t ‖ softmax(z/τ)); the targets given to ``fit`` are used
        as they are (soften them first, e.g. with :func:`mlextract.nn.soft_targets`).
    warm_start : bool, default=False
        Continue from the previous fit's weights and optimizer state.
    random_state : int, Generator or None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_, intercepts_ : list of ndarray
        Per layer, as ``MLPClassifier``: ``coefs_[i]`` is (fan_in, fan_out).
    network_ : Network
        The fitted network (shares its arrays with ``coefs_`` and ``intercepts_``).
    loss_curve_ : list of float
    n_iter_ : int
    n_features_in_ : int

    Notes
    -----
    For targets t and logits z the per-row loss is
    ``τ² Σ_k t_k (log t_k − log softmax(z/τ)_k)``, whose gradient in z is
    ``τ (softmax(z/τ) − t)``; for one-hot t and τ = 1 it is scikit-learn's log loss.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NumpyMLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> [W.shape for W in clf.coefs_]
    [(4, 16), (16, 3)]
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        temperature=1.0,
        warm_start=False,
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.temperature = temperature
        self.warm_start = warm_start
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, (int, np.integer)):
            hidden = (hidden,)
        hidden = tuple(hidden)
        if any(not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}."
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; got {self.activation!r}."
            )
        if self.solver not in ("adam", "sgd"):
            raise ValueError(f"solver must be 'adam' or 'sgd'; got {self.solver!r}.")
        for name in ("alpha", "learning_rate_init", "temperature", "tol"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0 or (name in ("learning_rate_init",
                                                        "temperature") and v == 0):
                raise ValueError(f"{name} must be a finite positive number; got {v!r}.")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer; got {self.max_iter!r}.")
        if not (self.batch_size == "auto" or (
                isinstance(self.batch_size, (int, np.integer)) and self.batch_size >= 1)):
            raise ValueError(f"batch_size must be 'auto' or >= 1; got {self.batch_size!r}.")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must lie in (0, 1); got {self.validation_fraction!r}."
            )
        return hidden

    def _targets(self, y, classes):
        """(target matrix, classes) from labels (n,) or probabilities (n, k)."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            k = y.shape[1]
            cls = np.arange(k) if classes is None else np.asarray(classes)
            if cls.size != k:
                raise ValueError(f"{k} probability columns but {cls.size} classes given.")
            return check_targets(y, y.shape[0], k), cls
        y = y.ravel()
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf.")
        cls = np.unique(y) if classes is None else np.asarray(classes)
        if cls.size < 2:
            raise ValueError(
                f"need at least 2 classes to fit a classifier; y holds {cls.size}: {cls}."
            )
        idx = np.searchsorted(cls, y)
        idx = np.clip(idx, 0, cls.size - 1)
        if np.any(cls[idx] != y):
            raise ValueError("y holds labels that are not in classes.")
        return one_hot(idx, cls.size), cls

    # -------------------------------------------------------------------- fit
    def fit(self, X, y, *, sample_weight=None, classes=None, transform=None):
        """Train on labels (n,) or target probabilities (n, k).

        Parameters
        ----------
        X : array-like of shape (n, d)
        y : array-like of shape (n,) or (n, k)
            Labels, or a probability vector per row (soft targets, e.g. a victim's
            answers); the classes of soft targets are ``classes`` or ``0..k-1``.
        sample_weight : array-like of shape (n,), default=None
        classes : array-like, default=None
            Every class the model should know, even those absent from ``y``.
        transform : callable, default=None
            ``transform(X_batch, rng)``: train on this view of each batch (degraded
            views, augmentation), with the targets of the clean rows.

        Returns
        -------
        self
        """
        hidden = self._check_params()
        X = check_array(X, dtype=np.float64)
        T, cls = self._targets(y, classes)
        if T.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {T.shape[0]}.")
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64).ravel()
            if w.shape[0] != X.shape[0] or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("sample_weight must be finite, >= 0, one per row of X.")
        rng = check_rng(self.random_state)
        k = cls.size
        n_out = 1 if k == 2 else k
        reuse = (
            self.warm_start and hasattr(self, "network_")
            and self.network_.coefs_[0].shape[0] == X.shape[1]
            and self.network_.n_outputs_ == n_out
        )
        if not reuse:
            self.network_ = Network.random(
                [X.shape[1], *hidden, n_out], activation=self.activation,
                output="sigmoid" if n_out == 1 else "softmax", classes=cls,
                random_state=rng,
            )
            params = self.network_.coefs_ + self.network_.intercepts_
            self._optimizer = make_optimizer(
                self.solver, params, learning_rate=self.learning_rate_init,
                momentum=self.momentum, nesterov=self.nesterovs_momentum,
            )
            self.loss_curve_ = []
        self.network_.classes_ = cls
        bs = min(200, X.shape[0]) if self.batch_size == "auto" else int(self.batch_size)
        hist = train(
            self.network_, X, T, temperature=self.temperature, batch_size=bs,
            max_epochs=self.max_iter, alpha=self.alpha,
            early_stopping=self.early_stopping and X.shape[0] >= 4,
            validation_fraction=self.validation_fraction,
            n_iter_no_change=self.n_iter_no_change, tol=self.tol, sample_weight=w,
            transform=transform, optimizer=self._optimizer, random_state=rng,
        )
        self.loss_curve_ = list(self.loss_curve_) + hist.loss_curve
        self.validation_loss_curve_ = hist.validation_loss_curve
        self.n_iter_ = hist.n_epochs
        self.converged_ = hist.converged
        self.classes_ = cls
        self.coefs_ = self.network_.coefs_
        self.intercepts_ = self.network_.intercepts_
        self.n_features_in_ = X.shape[1]
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = n_out
        return self

    @classmethod
    def from_network(cls, network, **params):
        """A fitted classifier around an existing :class:`Network` (its arrays shared).

        ``params`` are constructor settings (used if the classifier is refitted).
        """
        if not isinstance(network, Network):
            raise TypeError(f"expected a Network; got {type(network).__name__}.")
        if network.output not in ("softmax", "sigmoid", "logistic"):
            raise ValueError(f"a classifier needs a softmax or sigmoid output; got "
                             f"{network.output!r}.")
        hidden = tuple(W.shape[1] for W in network.coefs_[:-1])
        clf = cls(hidden_layer_sizes=hidden, activation=network.activation, **params)
        clf.network_ = network
        clf.classes_ = np.asarray(network.classes_)
        clf.coefs_ = network.coefs_
        clf.intercepts_ = network.intercepts_
        clf.n_features_in_ = network.n_features_in_
        clf.n_layers_ = len(network.coefs_) + 1
        clf.n_outputs_ = network.n_outputs_
        clf.loss_curve_ = []
        clf.n_iter_ = 0
        return clf

    # ---------------------------------------------------------------- predict
    def _check_X(self, X):
        check_is_fitted(self, "network_")
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} was fitted "
                f"with {self.n_features_in_}."
            )
        return X

    def decision_function(self, X):
        """Logits: (n,) for two classes (the sigmoid unit), (n, k) otherwise."""
        z = self.network_.logits(self._check_X(X))
        return z[:, 0] if z.shape[1] == 1 else z

    def predict_proba(self, X):
        """Class probabilities (n, n_classes)."""
        return self.network_.predict_proba(self._check_X(X))

    def predict_log_proba(self, X):
        return np.log(np.clip(self.predict_proba(X), 1e-300, 1.0))

    def predict(self, X):
        """The most probable class."""
        return self.network_.predict(self._check_X(X))
