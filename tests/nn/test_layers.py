"""Backpropagation checked against finite differences."""

import numpy as np
import pytest

from mlextract.nn import Network, distillation_loss, soft_targets
from mlextract.nn._layers import forward


def _loss(net, X, T, tau):
    return distillation_loss(forward(net.coefs_, net.intercepts_, net.activation, X)[-1],
                             T, tau)[0]


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("tau", [1.0, 5.0])
def test_parameter_gradients_match_finite_differences(activation, n_out, tau):
    rng = np.random.default_rng(0)
    net = Network.random([4, 5, 3, n_out], activation=activation,
                         output="sigmoid" if n_out == 1 else "softmax", random_state=1)
    X = rng.normal(size=(7, 4))
    T = rng.dirichlet(np.ones(max(2, n_out)), size=7)
    Z = forward(net.coefs_, net.intercepts_, activation, X)[-1]
    _, delta = distillation_loss(Z, T, tau)
    gW, gb = net.gradients(X, delta)
    analytic = np.concatenate([g.ravel() for g in gW + gb])
    theta = net.get_flat()
    numeric = np.empty_like(theta)
    h = 1e-6
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (_loss(net.set_flat(up), X, T, tau)
                      - _loss(net.set_flat(down), X, T, tau)) / (2 * h)
    net.set_flat(theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-7)


def test_input_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    net = Network.random([3, 6, 4], activation="tanh", random_state=2)
    X = rng.normal(size=(5, 3))
    delta = np.zeros((5, 4))
    delta[:, 2] = 1.0
    g = net.input_gradient(X, delta)
    h = 1e-6
    for j in range(3):
        E = np.zeros_like(X)
        E[:, j] = h
        num = (net.logits(X + E)[:, 2] - net.logits(X - E)[:, 2]) / (2 * h)
        np.testing.assert_allclose(g[:, j], num, rtol=1e-5, atol=1e-8)


def test_loss_is_cross_entropy_for_hard_labels():
    Z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    T = np.eye(3)[[1, 2]]
    loss, _ = distillation_loss(Z, T, 1.0)
    ref = -np.mean([Z[0, 1] - np.log(np.exp(Z[0]).sum()), Z[1, 2] - np.log(np.exp(Z[1]).sum())])
    assert loss == pytest.approx(ref, rel=1e-12)


def test_soft_targets_are_softmax_of_logits_over_temperature():
    z = np.array([[2.0, -1.0, 0.5]])
    p = np.exp(z) / np.exp(z).sum()
    t = soft_targets(p, 4.0)
    ref = np.exp(z / 4.0) / np.exp(z / 4.0).sum()
    np.testing.assert_allclose(t, ref, rtol=1e-12)


def test_extreme_logits_stay_finite():
    Z = np.array([[1e4, -1e4], [-800.0, 800.0]])
    loss, g = distillation_loss(Z, np.array([[0.0, 1.0], [1.0, 0.0]]), 1.0)
    assert np.isfinite(loss) and np.all(np.isfinite(g))
