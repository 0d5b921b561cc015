"""A fully connected network held as numpy arrays (float64 by default)."""

from __future__ import annotations

import numpy as np

__all__ = ["Network", "ACTIVATIONS", "OUTPUT_ACTIVATIONS"]


def _relu(z):
    return np.maximum(z, 0.0)


def _tanh(z):
    return np.tanh(z)


def _sigmoid(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _identity(z):
    return z


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


#: Hidden-layer activations by name (as in scikit-learn's neural_network._base).
ACTIVATIONS = {"relu": _relu, "tanh": _tanh, "logistic": _sigmoid, "sigmoid": _sigmoid,
               "identity": _identity}
#: Output activations by name: logits to the answer an API returns.
OUTPUT_ACTIVATIONS = {"softmax": _softmax, "sigmoid": _sigmoid, "logistic": _sigmoid,
                      "identity": _identity}


class Network:
    """A multilayer perceptron given by its weights: ``coefs_[i]`` is (fan_in, fan_out).

    Parameters
    ----------
    coefs : list of ndarray
        Weight matrices, layer by layer, each of shape (fan_in, fan_out).
    intercepts : list of ndarray
        Bias vectors, one per layer.
    activation : str, default="relu"
        Hidden activation: a key of :data:`ACTIVATIONS`.
    output : str, default="softmax"
        Output activation: a key of :data:`OUTPUT_ACTIVATIONS`.
    classes : array-like, default=None
        Class labels (default ``0..k-1``; ``[0, 1]`` for one sigmoid output).
    dtype : numpy dtype, default=float64
        The precision the network computes in (float32 victims exist).

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
    n_features_in_ : int
    classes_ : ndarray
    """

    def __init__(self, coefs, intercepts, *, activation="relu", output="softmax",
                 classes=None, dtype=np.float64):
        if len(coefs) == 0 or len(coefs) != len(intercepts):
            raise ValueError(
                f"need as many weight matrices as bias vectors (at least one); got "
                f"{len(coefs)} and {len(intercepts)}."
            )
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}."
            )
        if output not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"output must be one of {sorted(OUTPUT_ACTIVATIONS)}; got {output!r}."
            )
        self.dtype = np.dtype(dtype)
        self.coefs_ = [np.asarray(W, dtype=self.dtype) for W in coefs]
        self.intercepts_ = [np.asarray(b, dtype=self.dtype).ravel() for b in intercepts]
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_)):
            if W.ndim != 2 or W.shape[1] != b.size:
                raise ValueError(f"layer {i}: weights {W.shape} do not match bias {b.shape}.")
            if i and W.shape[0] != self.coefs_[i - 1].shape[1]:
                raise ValueError(
                    f"layer {i} takes {W.shape[0]} inputs but layer {i - 1} gives "
                    f"{self.coefs_[i - 1].shape[1]}."
                )
        self.activation = activation
        self.output = output
        self.n_features_in_ = self.coefs_[0].shape[0]
        k = self.coefs_[-1].shape[1]
        n_classes = 2 if (k == 1 and output in ("sigmoid", "logistic")) else k
        self.classes_ = np.arange(n_classes) if classes is None else np.asarray(classes)

    @property
    def n_outputs_(self) -> int:
        return self.coefs_[-1].shape[1]

    @property
    def layer_sizes(self) -> list[int]:
        return [self.n_features_in_] + [W.shape[1] for W in self.coefs_]

    def hidden(self, X) -> list[np.ndarray]:
        """The activations of every hidden layer for a batch."""
        a = np.asarray(X, dtype=self.dtype)
        act = ACTIVATIONS[self.activation]
        out = []
        for W, b in zip(self.coefs_[:-1], self.intercepts_[:-1]):
            a = act(a @ W + b)
            out.append(a)
        return out

    def logits(self, X) -> np.ndarray:
        """Pre-activation of the output layer, shape (n, n_outputs)."""
        a = np.asarray(X, dtype=self.dtype)
        if a.ndim != 2 or a.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n, {self.n_features_in_}); got {a.shape}."
            )
        act = ACTIVATIONS[self.activation]
        for W, b in zip(self.coefs_[:-1], self.intercepts_[:-1]):
            a = act(a @ W + b)
        return a @ self.coefs_[-1] + self.intercepts_[-1]

    def decision_function(self, X) -> np.ndarray:
        """The logits (what a logit oracle returns)."""
        return self.logits(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n, n_classes)."""
        z = self.logits(X)
        if self.output in ("sigmoid", "logistic") and z.shape[1] == 1:
            p = _sigmoid(z[:, 0])
            return np.column_stack([1.0 - p, p])
        return OUTPUT_ACTIVATIONS[self.output](z)

    def predict(self, X) -> np.ndarray:
        """The most probable class (or the value, for an identity output)."""
        z = self.logits(X)
        if self.output == "identity":
            return z[:, 0] if z.shape[1] == 1 else z
        if z.shape[1] == 1:
            return self.classes_[(z[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(z, axis=1)]

    # -- additions: construction, parameters as one vector, gradients -----------
    @classmethod
    def from_sklearn(cls, mlp, *, dtype=np.float64) -> Network:
        """The network of a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor``.

        The copy computes the same function: ``Network.from_sklearn(mlp).predict_proba``
        equals ``mlp.predict_proba`` to rounding.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.neural_network import MLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> mlp = MLPClassifier((8,), max_iter=50, random_state=0).fit(X, y)
        >>> net = Network.from_sklearn(mlp)
        >>> bool(np.allclose(net.predict_proba(X), mlp.predict_proba(X)))
        True
        """
        if not hasattr(mlp, "coefs_") or not hasattr(mlp, "out_activation_"):
            raise TypeError(
                "from_sklearn needs a fitted sklearn.neural_network MLPClassifier or "
                f"MLPRegressor; got {type(mlp).__name__}."
            )
        out = mlp.out_activation_
        if out == "logistic" and len(getattr(mlp, "classes_", [])) > 2:
            raise ValueError(
                "multilabel MLPClassifier (several independent sigmoid outputs) is not "
                "supported; fit it on single labels."
            )
        return cls(
            [W.copy() for W in mlp.coefs_],
            [b.copy() for b in mlp.intercepts_],
            activation=mlp.activation,
            output=out,
            classes=getattr(mlp, "classes_", None),
            dtype=dtype,
        )

    @classmethod
    def random(cls, layer_sizes, *, activation="relu", output="softmax", classes=None,
               random_state=None, dtype=np.float64) -> Network:
        """A network with Glorot-uniform weights, as scikit-learn initialises its MLPs.

        ``layer_sizes`` lists the input width, the hidden widths and the output width.
        """
        from .._random import check_rng

        rng = check_rng(random_state)
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(
                f"layer_sizes needs an input and an output width, all >= 1; got {sizes}."
            )
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            factor = 2.0 if activation in ("logistic", "sigmoid") else 6.0
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rng.uniform(-bound, bound, fan_out))
        return cls(coefs, intercepts, activation=activation, output=output,
                   classes=classes, dtype=dtype)

    def copy(self) -> Network:
        """An independent copy (weights copied)."""
        return type(self)(
            [W.copy() for W in self.coefs_], [b.copy() for b in self.intercepts_],
            activation=self.activation, output=self.output, classes=self.classes_,
            dtype=self.dtype,
        )

    @property
    def n_parameters(self) -> int:
        """Number of weights and biases (Tramèr et al.'s unknowns)."""
        return int(sum(W.size + b.size for W, b in zip(self.coefs_, self.intercepts_)))

    def get_flat(self) -> np.ndarray:
        """All weights then all biases, layer by layer, as one vector."""
        return np.concatenate([p.ravel() for p in self.coefs_ + self.intercepts_])

    def set_flat(self, theta) -> Network:
        """Overwrite the parameters from a vector laid out as :meth:`get_flat`."""
        theta = np.asarray(theta, dtype=self.dtype).ravel()
        if theta.size != self.n_parameters:
            raise ValueError(
                f"expected {self.n_parameters} parameters; got {theta.size}."
            )
        pos = 0
        for p in self.coefs_ + self.intercepts_:
            p[...] = theta[pos:pos + p.size].reshape(p.shape)
            pos += p.size
        return self

    def gradients(self, X, delta):
        """Gradients of a loss with dL/dlogits = ``delta``: (grad_coefs, grad_intercepts)."""
        from ._layers import backward, forward

        acts = forward(self.coefs_, self.intercepts_, self.activation,
                       np.asarray(X, dtype=self.dtype))
        return backward(self.coefs_, acts, self.activation,
                        np.asarray(delta, dtype=self.dtype))

    def input_gradient(self, X, delta) -> np.ndarray:
        """``delta``-weighted gradient of the logits with respect to the inputs.

        With ``delta`` one-hot on class c, row i is ∂z_c(x_i)/∂x_i (a row of the
        Jacobian Papernot et al. follow).
        """
        from ._layers import backward, forward

        X = np.asarray(X, dtype=self.dtype)
        acts = forward(self.coefs_, self.intercepts_, self.activation, X)
        return backward(self.coefs_, acts, self.activation,
                        np.asarray(delta, dtype=self.dtype), input_grad=True)[2]

    def __repr__(self) -> str:
        sizes = "-".join(str(s) for s in self.layer_sizes)
        return f"Network({sizes}, activation={self.activation!r}, output={self.output!r})"
