"""FunctionallyEquivalent: exact recovery of one-hidden-layer ReLU networks."""

import numpy as np
import pytest

from mlextract.nn import FunctionallyEquivalent, Network
from mlextract.oracles import LocalOracle


def _victim(d, h, k, seed, *, W1=None, b1=None):
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(d, h)) / np.sqrt(d) if W1 is None else W1
    b1 = rng.normal(size=h) * 0.1 if b1 is None else b1
    W2 = rng.normal(size=(h, k)) / np.sqrt(h)
    return Network([W1, W2], [b1, rng.normal(size=k) * 0.1], output="identity")


def _normalised_units(W1, b1, W2):
    """Hidden units up to positive scaling: (w/|w|, b/|w|, a|w|), live units only."""
    n = np.linalg.norm(W1, axis=0)
    live = n > 0
    return (W1[:, live] / n[live]).T, b1[live] / n[live], W2[live] * n[live, None]


def _assert_same_units(victim, copy, tol=1e-8):
    Wv, bv, av = _normalised_units(victim.coefs_[0], victim.intercepts_[0], victim.coefs_[1])
    Wc, bc, ac = _normalised_units(copy.coefs_[0], copy.intercepts_[0], copy.coefs_[1])
    assert Wc.shape == Wv.shape
    for w, b, a in zip(Wv, bv, av):
        j = np.argmax(Wc @ w)  # the same unit, same orientation
        assert np.abs(Wc[j] - w).max() < tol
        assert abs(bc[j] - b) < tol
        assert np.abs(ac[j] - a).max() < tol


@pytest.mark.timeout(60)
@pytest.mark.parametrize("d,h,k", [(10, 4, 1), (8, 6, 3)])
def test_exact_recovery_weight_by_weight(d, h, k):
    victim = _victim(d, h, k, seed=1)
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", n_features=d))
    assert res.status == "success" and res.info["n_units"] == h
    _assert_same_units(victim, res.model)
    X = np.random.default_rng(5).normal(size=(2000, d))
    assert np.abs(res.model.logits(X) - victim.logits(X)).max() < 1e-8
    assert np.abs(res.model.logits(100 * X) - victim.logits(100 * X)).max() < 1e-6


@pytest.mark.timeout(60)
def test_constant_feature_and_dead_unit():
    rng = np.random.default_rng(3)
    W1 = rng.normal(size=(6, 5)) / np.sqrt(6)
    W1[0] = 0.0  # a constant input feature: zero weight into every unit
    W1[:, 4] = 0.0  # a dead unit: no input weight, negative bias
    b1 = np.array([0.1, -0.2, 0.05, 0.3, -1.0])
    victim = _victim(6, 5, 1, seed=3, W1=W1, b1=b1)
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", n_features=6))
    assert res.status == "success" and res.info["n_units"] == 4
    assert np.abs(res.model.coefs_[0][0]).max() < 1e-10
    X = np.random.default_rng(5).normal(size=(2000, 6))
    assert np.abs(res.model.logits(X) - victim.logits(X)).max() < 1e-8


@pytest.mark.timeout(60)
def test_two_units_crossing_close_together():
    rng = np.random.default_rng(4)
    W1 = rng.normal(size=(8, 5)) / np.sqrt(8)
    W1[:, 1] = W1[:, 0] + 1e-3 * rng.normal(size=8)
    b1 = rng.normal(size=5) * 0.1
    b1[1] = b1[0] + 1e-4
    victim = _victim(8, 5, 1, seed=4, W1=W1, b1=b1)
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", n_features=8))
    assert res.info["n_units"] == 5
    X = np.random.default_rng(5).normal(size=(2000, 8))
    assert np.abs(res.model.logits(X) - victim.logits(X)).max() < 1e-7


@pytest.mark.timeout(30)
def test_small_budget_gives_partial_result_with_status():
    victim = _victim(10, 8, 1, seed=2)
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", n_features=10), budget=700)
    assert res.status == "budget_exhausted"
    assert res.n_queries <= 700
    assert "units" in res.message


@pytest.mark.timeout(30)
def test_zero_budget_and_bad_settings():
    oracle = LocalOracle(_victim(4, 3, 1, seed=0), output="logit", n_features=4)
    res = FunctionallyEquivalent(random_state=0).extract(oracle, budget=0)
    assert res.status == "budget_exhausted" and res.n_queries == 0
    with pytest.raises(ValueError, match="n_lines"):
        FunctionallyEquivalent(n_lines=0).extract(oracle)
    with pytest.raises(ValueError, match="refine"):
        FunctionallyEquivalent(refine="yes").extract(oracle)
    with pytest.raises(ValueError, match="answering"):
        FunctionallyEquivalent().extract(LocalOracle(_victim(4, 3, 1, 0), output="value",
                                                     n_features=4, classes=None)
                                         .__class__(lambda X: X[:, 0] > 0, n_features=4))


@pytest.mark.parametrize("k", [2, 3])
def test_answers_to_logits_underflow_is_nan_without_warnings(k):
    """A probability that underflowed to 0 gives NaN logits for its row, silently."""
    import warnings

    from mlextract.nn import answers_to_logits

    P = np.full((2, k), 1.0 / k)
    P[1] = 0.0
    P[1, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        Z = answers_to_logits(P, "proba")
    assert np.all(np.isfinite(Z[0])) and np.allclose(Z[0], 0.0)
    assert np.all(np.isnan(Z[1]))


def _centred(Z):
    return Z - Z.mean(axis=1, keepdims=True) if Z.shape[1] > 1 else Z


@pytest.mark.timeout(60)
@pytest.mark.parametrize("d,h,k", [(10, 4, 1), (8, 6, 3)])
def test_probability_oracle_matches_logit_oracle(d, h, k):
    # one output: sigmoid, answers (1-p, p); several: softmax. Logits are known up to a
    # constant per row, so the copies are compared after centring
    net = _victim(d, h, k, seed=1)
    victim = Network(net.coefs_, net.intercepts_, output="logistic" if k == 1 else "softmax")
    X = np.random.default_rng(5).normal(size=(2000, d))
    errs = {}
    for output in ("logit", "proba"):
        oracle = LocalOracle(victim, output=output, n_features=d, budget=50_000)
        res = FunctionallyEquivalent(random_state=0).extract(oracle)
        assert res.status == "success" and res.info["n_units"] == h
        assert res.n_queries <= 50_000
        errs[output] = np.abs(_centred(res.model.logits(X)) - _centred(victim.logits(X))).max()
    assert errs["logit"] < 1e-8
    assert errs["proba"] < 1e-8


@pytest.mark.timeout(30)
def test_probability_answers_to_logits():
    from mlextract.nn._functionally_equivalent import answers_to_logits

    z = np.array([[-3.0, 0.5, 2.0], [1.0, 1.0, 1.0]])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(answers_to_logits(p, "proba"), _centred(z), atol=1e-14)
    s = 1 / (1 + np.exp(-z[:, :1]))
    np.testing.assert_allclose(answers_to_logits(np.hstack([1 - s, s]), "proba"), z[:, :1],
                               atol=1e-14)
    # an underflowed probability has no logit: NaN, never -inf arithmetic
    assert np.isnan(answers_to_logits(np.array([[1.0, 0.0]]), "proba")).all()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("d,h,k", [(10, 4, 1), (8, 6, 3)])
def test_float32_victim_precision_scaled(d, h, k):
    rng = np.random.default_rng(2)
    victim = Network([rng.normal(size=(d, h)) / np.sqrt(d), rng.normal(size=(h, k)) / np.sqrt(h)],
                     [rng.normal(size=h) * 0.1, rng.normal(size=k) * 0.1], output="identity",
                     dtype=np.float32)
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", n_features=d, budget=20_000))
    assert res.status == "success" and res.info["n_units"] == h
    assert res.info["victim_precision"] == "float32 or coarser"
    eps32 = float(np.finfo(np.float32).eps)
    assert eps32 <= res.info["precision"] < 1e3 * eps32  # measured, not assumed
    assert res.info["units_refined"] == h  # precision refinement ran on every unit
    X = np.random.default_rng(5).normal(size=(2000, d)).astype(np.float32).astype(float)
    err = np.abs(res.model.logits(X) - victim.logits(X)).max()
    # float32 logits carry ~1e-7 relative noise; the copy is within ~1e3 of that
    assert err < 1e-4
    assert res.info["max_logit_error"] < 1e-4


@pytest.mark.timeout(60)
@pytest.mark.parametrize("hidden", [8, 16])
def test_digits_mlpclassifier_victim(hidden):
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)  # 64 pixels, several constant or nearly so
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=200,
                            random_state=0).fit(X, y >= 5)
    victim = Network.from_sklearn(mlp)
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", n_features=64))
    assert res.status == "success" and res.info["n_units"] == hidden
    for Z in (X, np.random.default_rng(0).normal(size=(5000, 64))):
        assert np.abs(res.model.logits(Z) - victim.logits(Z)).max() < 1e-6
    assert (res.model.predict(X) == mlp.predict(X)).all()


@pytest.mark.timeout(60)
def test_closed_box_domain_with_constant_feature():
    # the oracle refuses points outside its box: every query (gradient steps, test
    # points on hyperplanes, refinement) must stay inside it
    from mlextract.oracles import Domain

    victim = _victim(10, 8, 1, seed=1)
    lo, hi = -2 * np.ones(10), 2 * np.ones(10)
    lo[0] = hi[0] = 0.5  # a constant feature
    domain = Domain(lo, hi)
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", domain=domain))
    assert res.status == "success" and res.info["n_units"] == 8
    X = domain.sample(5000, random_state=1)
    assert np.abs(res.model.logits(X) - victim.logits(X)).max() < 1e-8


@pytest.mark.timeout(60)
def test_deeper_victim_is_reported_not_extracted():
    # deeper networks (Carlini et al.) are not implemented: on a 3-layer victim the
    # attack must end with a status that says so, never hang or claim success
    rng = np.random.default_rng(0)
    sizes = [6, 8, 8, 1]
    victim = Network([rng.normal(size=(a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])],
                     [rng.normal(size=b) * 0.1 for b in sizes[1:]], output="identity")
    res = FunctionallyEquivalent(random_state=0).extract(
        LocalOracle(victim, output="logit", n_features=6, budget=200_000))
    assert res.status == "approximate"
    assert "not be a one-hidden-layer" in res.message
    assert res.n_queries <= 200_000
