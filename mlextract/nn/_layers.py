"""Dense layers: forward pass, backward pass, losses on logits.

The activations themselves live in :mod:`._network` (``ACTIVATIONS``); here are
their derivatives, written as functions of the activation's *output* (as
scikit-learn's ``neural_network._base`` does), and the two passes of
backpropagation over a list of dense layers ``a_{l+1} = act(a_l W_l + b_l)``.
"""

from __future__ import annotations

import numpy as np

from ._network import ACTIVATIONS

__all__ = [
    "DERIVATIVES",
    "forward",
    "backward",
    "log_softmax",
    "softmax",
    "soft_targets",
    "distillation_loss",
]


def _relu_derivative(a, delta):
    delta[a <= 0] = 0.0


def _tanh_derivative(a, delta):
    delta *= 1.0 - a * a


def _sigmoid_derivative(a, delta):
    delta *= a * (1.0 - a)


def _identity_derivative(a, delta):
    pass


#: In-place derivative of each hidden activation: ``delta *= act'(z)`` given ``a = act(z)``.
DERIVATIVES = {
    "relu": _relu_derivative,
    "tanh": _tanh_derivative,
    "logistic": _sigmoid_derivative,
    "sigmoid": _sigmoid_derivative,
    "identity": _identity_derivative,
}


def forward(coefs, intercepts, activation, X):
    """Every layer's output for a batch: ``[X, a_1, ..., a_{L-1}, logits]``.

    The last entry is the output layer's pre-activation (the logits).
    """
    act = ACTIVATIONS[activation]
    acts = [X]
    a = X
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        z = a @ W
        z += b
        a = z if i == last else act(z)
        acts.append(a)
    return acts


def backward(coefs, activations, activation, delta, *, input_grad=False):
    """Gradients of a loss given its gradient ``delta`` = dL/dlogits.

    Parameters
    ----------
    coefs : list of ndarray
    activations : list of ndarray
        The output of :func:`forward` for the same batch.
    activation : str
        The hidden activation.
    delta : ndarray of shape (n, n_outputs)
        dL/dlogits (already divided by the batch size when L is a mean).
    input_grad : bool, default=False
        Also return dL/dX.

    Returns
    -------
    grad_coefs, grad_intercepts : lists of ndarray
    grad_X : ndarray, only when ``input_grad``
    """
    deriv = DERIVATIVES[activation]
    L = len(coefs)
    gW = [None] * L
    gb = [None] * L
    for i in range(L - 1, -1, -1):
        gW[i] = activations[i].T @ delta
        gb[i] = delta.sum(axis=0)
        if i > 0 or input_grad:
            delta = delta @ coefs[i].T
            if i > 0:
                deriv(activations[i], delta)
    if input_grad:
        return gW, gb, delta
    return gW, gb


def log_softmax(Z):
    """Row-wise log softmax, stable for large logits."""
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


def softmax(Z):
    """Row-wise softmax, stable for large logits."""
    return np.exp(log_softmax(Z))


def full_logits(Z):
    """Logits of every class: a single sigmoid output z stands for the pair (0, z)."""
    if Z.shape[1] == 1:
        return np.hstack([np.zeros_like(Z), Z])
    return Z


def reduce_logit_grad(G, n_outputs):
    """Map a gradient on :func:`full_logits` back to the network's outputs."""
    if n_outputs == 1:
        return G[:, 1:2]
    return G


def soft_targets(P, temperature=1.0, *, eps=1e-8):
    """softmax(log p / τ): the victim's answers softened at temperature τ (E3, §3).

    ``p`` is clipped to ``[eps, 1]`` before the log; a rounded answer of 0 becomes
    ``eps``, so ``eps`` should be about half the rounding unit (see
    :func:`answer_resolution`).
    """
    P = np.asarray(P, dtype=np.float64)
    L = np.log(np.clip(P, eps, 1.0))
    return softmax(L / float(temperature))


def answer_resolution(P):
    """Half the rounding unit of probability answers, or None if they look unrounded.

    Answers rounded to ``r`` decimals are multiples of ``10^-r``; this returns
    ``0.5·10^-r`` for the smallest such ``r`` ≤ 8 that fits every entry.
    """
    P = np.asarray(P, dtype=np.float64)
    for r in range(0, 9):
        scaled = P * 10.0**r
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return 0.5 * 10.0**-r
    return None


def distillation_loss(Z, T, temperature=1.0, sample_weight=None):
    """Mean τ²·KL(t ‖ softmax(z/τ)) over rows, and its gradient in Z.

    With τ = 1 and one-hot ``T`` this is the cross-entropy of hard labels; with
    soft ``T`` it is the cross-entropy minus the (constant) entropy of ``T``.

    Parameters
    ----------
    Z : ndarray of shape (n, n_outputs)
        The network's logits (one column for a sigmoid output).
    T : ndarray of shape (n, k)
        Target probabilities (rows sum to 1), k = 2 for a sigmoid output.
    temperature : float
    sample_weight : ndarray of shape (n,), default=None

    Returns
    -------
    loss : float
    grad : ndarray like Z
        τ·(softmax(z/τ) − t)·w/Σw, the gradient of the weighted mean.
    """
    tau = float(temperature)
    F = full_logits(Z) / tau
    logQ = log_softmax(F)
    with np.errstate(divide="ignore", invalid="ignore"):
        logT = np.where(T > 0, np.log(np.where(T > 0, T, 1.0)), 0.0)
    kl = np.sum(T * (logT - logQ), axis=1)
    if sample_weight is None:
        w = np.full(Z.shape[0], 1.0 / Z.shape[0])
    else:
        w = sample_weight / sample_weight.sum()
    loss = tau * tau * float(w @ kl)
    G = tau * (np.exp(logQ) - T) * w[:, None]
    return loss, reduce_logit_grad(G, Z.shape[1])
