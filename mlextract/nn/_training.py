"""Minibatch training of a :class:`Network` on hard labels or probability targets."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._random import check_rng
from ._layers import backward, distillation_loss, forward
from ._optimizers import make_optimizer

__all__ = ["train", "TrainingHistory", "one_hot", "check_targets"]


@dataclass
class TrainingHistory:
    """What a call to :func:`train` did.

    Attributes
    ----------
    loss_curve : list of float
        Mean training loss of each epoch (penalty included).
    validation_loss_curve : list of float
        Validation loss after each epoch (early stopping only).
    n_epochs : int
    best_epoch : int
        The epoch whose parameters were kept (early stopping restores them).
    converged : bool
        True when training stopped because the loss stopped improving.
    """

    loss_curve: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    n_epochs: int = 0
    best_epoch: int = 0
    converged: bool = False


def one_hot(indices, n_classes):
    """One-hot rows for integer class indices."""
    T = np.zeros((len(indices), n_classes))
    T[np.arange(len(indices)), indices] = 1.0
    return T


def check_targets(T, n, n_classes):
    """Validate a target-probability matrix (n, n_classes)."""
    T = np.asarray(T, dtype=np.float64)
    if T.ndim != 2 or T.shape != (n, n_classes):
        raise ValueError(f"targets must have shape ({n}, {n_classes}); got {T.shape}.")
    if not np.all(np.isfinite(T)):
        raise ValueError("targets contain NaN or inf; give probabilities in [0, 1].")
    if np.any(T < 0) or np.any(np.abs(T.sum(axis=1) - 1.0) > 1e-3):
        raise ValueError(
            "target rows must be probability vectors (non-negative, summing to 1); "
            f"row sums range over [{T.sum(axis=1).min():.4g}, {T.sum(axis=1).max():.4g}]."
        )
    return T / T.sum(axis=1, keepdims=True)


def _penalised_grads(net, acts, delta, alpha, n_batch):
    gW, gb = backward(net.coefs_, acts, net.activation, delta)
    if alpha:
        for g, W in zip(gW, net.coefs_):
            g += (alpha / n_batch) * W
    return gW + gb


def _penalty(net, alpha, n):
    if not alpha:
        return 0.0
    return 0.5 * alpha * sum(float(np.vdot(W, W)) for W in net.coefs_) / n


def evaluate_loss(net, X, T, temperature=1.0, sample_weight=None):
    """Mean distillation loss of ``net`` on (X, T) (no penalty)."""
    acts = forward(net.coefs_, net.intercepts_, net.activation, X)
    return distillation_loss(acts[-1], T, temperature, sample_weight)[0]


def train(
    net,
    X,
    T,
    *,
    temperature=1.0,
    solver="adam",
    learning_rate=1e-3,
    momentum=0.9,
    nesterov=True,
    batch_size=200,
    max_epochs=200,
    alpha=1e-4,
    early_stopping=False,
    validation_fraction=0.1,
    n_iter_no_change=10,
    tol=1e-4,
    sample_weight=None,
    transform=None,
    optimizer=None,
    random_state=None,
):
    """Fit ``net`` in place to target probabilities by minibatch gradient descent.

    The loss is τ²·KL(t ‖ softmax(z/τ)) averaged over the batch (cross-entropy for
    one-hot targets and τ = 1) plus scikit-learn's L2 penalty
    ``alpha/(2·n_batch)·Σ‖W‖²`` (weight decay on the weights, not the biases).

    Parameters
    ----------
    net : Network
        Updated in place (its ``coefs_`` and ``intercepts_``).
    X : ndarray of shape (n, d)
    T : ndarray of shape (n, k)
        Target probabilities: one-hot rows for hard labels.
    temperature : float, default=1.0
        τ; the copy's logits are divided by τ, the targets are used as given
        (soften them with :func:`soft_targets`).
    solver : {"adam", "sgd"}, default="adam"
    learning_rate, momentum, nesterov
        Optimizer settings (momentum and nesterov for SGD only).
    batch_size : int, default=200
        Rows per minibatch (capped at n).
    max_epochs : int, default=200
    alpha : float, default=1e-4
        L2 penalty (weight decay), as scikit-learn's ``alpha``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows; stop when the validation loss
        has not improved by ``tol`` for ``n_iter_no_change`` epochs and restore the
        best parameters. Without it, the training loss decides when to stop.
    sample_weight : ndarray of shape (n,), default=None
    transform : callable, default=None
        ``transform(X_batch, rng) -> X_batch'``: the view of the inputs the network
        is trained on (degraded views, augmentation); targets are unchanged.
    optimizer : SGD or Adam, default=None
        Continue with this optimizer's state (warm start); built from ``solver``
        otherwise.
    random_state : int, Generator or None

    Returns
    -------
    TrainingHistory
    """
    rng = check_rng(random_state)
    X = np.asarray(X, dtype=net.dtype)
    n = X.shape[0]
    k = max(2, net.n_outputs_)
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (n, k):
        raise ValueError(f"targets must have shape ({n}, {k}); got {T.shape}.")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    history = TrainingHistory()
    if n == 0:
        raise ValueError("cannot train on 0 rows.")
    Xv = Tv = wv = None
    if early_stopping:
        n_val = max(1, int(round(validation_fraction * n)))
        if n - n_val < 1:
            raise ValueError(f"early stopping needs more than {n} rows to hold some out.")
        perm = rng.permutation(n)
        val, tr = perm[:n_val], perm[n_val:]
        Xv, Tv = X[val], T[val]
        wv = None if w is None else w[val]
        X, T = X[tr], T[tr]
        w = None if w is None else w[tr]
        n = X.shape[0]
    params = net.coefs_ + net.intercepts_
    opt = optimizer or make_optimizer(
        solver, params, learning_rate=learning_rate, momentum=momentum, nesterov=nesterov
    )
    opt.params = params
    bs = int(min(max(1, batch_size), n))
    best = np.inf
    best_params = None
    no_improve = 0
    for epoch in range(int(max_epochs)):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            Xb = X[idx]
            if transform is not None:
                Xb = np.asarray(transform(Xb, rng), dtype=net.dtype)
            acts = forward(net.coefs_, net.intercepts_, net.activation, Xb)
            wb = None if w is None else w[idx]
            loss, delta = distillation_loss(acts[-1], T[idx], temperature, wb)
            grads = _penalised_grads(net, acts, delta, alpha, idx.size)
            opt.step(grads)
            total += (loss + _penalty(net, alpha, idx.size)) * idx.size
        epoch_loss = total / n
        if not np.isfinite(epoch_loss):
            raise FloatingPointError(
                f"the training loss became {epoch_loss} at epoch {epoch + 1}; lower the "
                f"learning rate (now {opt.learning_rate})."
            )
        history.loss_curve.append(epoch_loss)
        history.n_epochs = epoch + 1
        if early_stopping:
            score = evaluate_loss(net, Xv, Tv, temperature, wv)
            history.validation_loss_curve.append(score)
        else:
            score = epoch_loss
        if score < best - tol:
            no_improve = 0
        else:
            no_improve += 1
        if score < best:
            best = score
            history.best_epoch = epoch + 1
            if early_stopping:
                best_params = [p.copy() for p in params]
        if no_improve > n_iter_no_change:
            history.converged = True
            break
    if early_stopping and best_params is not None:
        for p, b in zip(params, best_params):
            p[...] = b
    return history
