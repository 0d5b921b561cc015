"""NumpyMLPClassifier: learns known functions, matches scikit-learn, clear errors."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_moons
from sklearn.neural_network import MLPClassifier

from mlextract.nn import Network, NumpyMLPClassifier, train
from mlextract.nn._training import one_hot


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_learns_two_moons(solver):
    X, y = make_moons(400, noise=0.05, random_state=0)
    lr = 1e-2 if solver == "adam" else 0.1
    clf = NumpyMLPClassifier((16,), activation="tanh", solver=solver, max_iter=300,
                             learning_rate_init=lr, random_state=0).fit(X, y)
    assert clf.score(X, y) >= 0.98
    assert clf.predict_proba(X).shape == (400, 2)
    assert clf.decision_function(X).shape == (400,)


def test_learns_xor_multiclass_labels():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (600, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, "same", "diff")
    y[np.abs(X[:, 0]) < 0.2] = "mid"
    clf = NumpyMLPClassifier((32,), max_iter=400, learning_rate_init=1e-2,
                             random_state=0).fit(X, y)
    assert set(clf.classes_) == {"same", "diff", "mid"}
    assert clf.score(X, y) >= 0.95


def test_soft_targets_reproduce_a_teacher():
    teacher = Network.random([3, 8, 4], activation="tanh", random_state=0)
    teacher.coefs_[0] *= 3
    X = np.random.default_rng(1).uniform(-1, 1, (800, 3))
    P = teacher.predict_proba(X)
    clf = NumpyMLPClassifier((16,), activation="tanh", max_iter=400,
                             learning_rate_init=1e-2, alpha=0, random_state=0).fit(X, P)
    assert np.abs(clf.predict_proba(X) - P).max() < 0.1
    assert np.mean(clf.predict(X) == teacher.predict(X)) > 0.95


def test_same_loss_as_sklearn_at_initialisation():
    """Same data, architecture and initial weights: the first-epoch loss agrees with a
    slow per-row cross-entropy written here."""
    X, y = make_moons(50, random_state=1)
    net = Network.random([2, 5, 1], activation="relu", output="sigmoid", random_state=0)
    p = net.predict_proba(X)[:, 1]
    slow = -np.mean([np.log(p[i]) if y[i] else np.log(1 - p[i]) for i in range(50)])
    from mlextract.nn._training import evaluate_loss

    assert evaluate_loss(net, X, one_hot(y, 2)) == pytest.approx(slow, rel=1e-10)


def test_from_sklearn_matches_predictions():
    X, y = make_moons(200, random_state=0)
    for yy in (y, (X[:, 0] > 0).astype(int) + y):
        mlp = MLPClassifier((7,), activation="tanh", max_iter=30, random_state=0).fit(X, yy)
        net = Network.from_sklearn(mlp)
        np.testing.assert_allclose(net.predict_proba(X), mlp.predict_proba(X), atol=1e-12)
        np.testing.assert_array_equal(net.predict(X), mlp.predict(X))


def test_sgd_step_matches_hand_update():
    net = Network.random([2, 3, 2], random_state=0)
    before = net.get_flat()
    X = np.array([[0.5, -1.0]])
    T = np.array([[0.0, 1.0]])
    from mlextract.nn._layers import distillation_loss, forward

    _, delta = distillation_loss(forward(net.coefs_, net.intercepts_, "relu", X)[-1], T)
    gW, gb = net.gradients(X, delta)
    g = np.concatenate([a.ravel() for a in gW + gb])
    train(net, X, T, solver="sgd", learning_rate=0.1, momentum=0.0, max_epochs=1, alpha=0.0,
          random_state=0)
    np.testing.assert_allclose(net.get_flat(), before - 0.1 * g, rtol=1e-12)


def test_early_stopping_restores_best_and_clone_works():
    X, y = make_moons(300, noise=0.3, random_state=0)
    clf = NumpyMLPClassifier((32,), early_stopping=True, max_iter=200, random_state=0)
    clf.fit(X, y)
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.n_iter_ < 200
    c2 = clone(clf)
    assert c2.get_params() == clf.get_params()


def test_seeded_fits_agree():
    X, y = make_moons(100, random_state=0)
    a = NumpyMLPClassifier((8,), max_iter=20, random_state=3).fit(X, y)
    b = NumpyMLPClassifier((8,), max_iter=20, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


@pytest.mark.parametrize("bad, msg", [
    ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
    ({"activation": "swish"}, "activation"),
    ({"solver": "lbfgs"}, "solver"),
    ({"learning_rate_init": 0.0}, "learning_rate_init"),
    ({"max_iter": 0}, "max_iter"),
])
def test_bad_settings_are_clear_errors(bad, msg):
    X, y = make_moons(20, random_state=0)
    with pytest.raises(ValueError, match=msg):
        NumpyMLPClassifier(**bad).fit(X, y)


def test_bad_data_are_clear_errors():
    X, y = make_moons(20, random_state=0)
    clf = NumpyMLPClassifier((4,), max_iter=5)
    with pytest.raises(ValueError, match="NaN|infinity"):
        clf.fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="2 classes"):
        clf.fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="rows"):
        clf.fit(X, y[:10])
    with pytest.raises(ValueError, match="probability"):
        clf.fit(X, np.full((20, 2), 0.7))
    clf.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="Network|layer"):
        Network([np.zeros((2, 3))], [np.zeros(2)])
