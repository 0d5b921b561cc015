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

    def __repr__(self) -> str:
        sizes = "-".join(str(s) for s in self.layer_sizes)
        return f"Network({sizes}, activation={self.activation!r}, output={self.output!r})"
