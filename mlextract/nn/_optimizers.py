"""Stochastic gradient descent with momentum, and Adam, updating arrays in place."""

from __future__ import annotations

import numpy as np

__all__ = ["SGD", "Adam", "make_optimizer"]


class SGD:
    """Gradient descent with (Nesterov) momentum.

    ``v ← μ·v − η·g``; ``θ ← θ + v`` (or ``θ ← θ + μ·v − η·g`` with Nesterov's
    look-ahead, the form scikit-learn uses).

    Parameters
    ----------
    params : list of ndarray
        Updated in place.
    learning_rate : float, default=0.01
    momentum : float, default=0.9
    nesterov : bool, default=True
    """

    def __init__(self, params, *, learning_rate=0.01, momentum=0.9, nesterov=True):
        self.params = params
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocities = [np.zeros_like(p) for p in params]

    def step(self, grads):
        lr, mu = self.learning_rate, self.momentum
        for p, v, g in zip(self.params, self.velocities, grads):
            v *= mu
            v -= lr * g
            if self.nesterov:
                p += mu * v - lr * g
            else:
                p += v


class Adam:
    """Adam (Kingma and Ba 2015) with bias correction.

    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``,
    ``θ ← θ − η·√(1−β2^t)/(1−β1^t) · m/(√v + ε)``.
    """

    def __init__(self, params, *, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.params = params
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        lr = self.learning_rate * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        for p, m, v, g in zip(self.params, self.ms, self.vs, grads):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            p -= lr * m / (np.sqrt(v) + self.epsilon)


def make_optimizer(solver, params, *, learning_rate, momentum=0.9, nesterov=True):
    """An optimizer by name: ``"adam"`` or ``"sgd"``."""
    if solver == "adam":
        return Adam(params, learning_rate=learning_rate)
    if solver == "sgd":
        return SGD(params, learning_rate=learning_rate, momentum=momentum, nesterov=nesterov)
    raise ValueError(f"solver must be 'adam' or 'sgd'; got {solver!r}.")
