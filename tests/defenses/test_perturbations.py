"""Answer perturbations: exact behaviour, consistency, utility cost, composition."""

import numpy as np
import pytest

from mlextract.defenses import (
    MAD,
    GaussianNoise,
    LabelOnly,
    RandomFlips,
    ReverseSigmoid,
    Rounded,
    TopK,
    utility_cost,
)
from mlextract.oracles import LocalOracle


@pytest.fixture
def proba_oracle(owner):
    return LocalOracle(owner.model, domain=owner.domain)


def _rows_one_at_a_time(oracle, X):
    return np.vstack([oracle.query(x[None]) for x in X]) if oracle.output != "label" else \
        np.concatenate([oracle.query(x[None]) for x in X])


@pytest.mark.parametrize("make", [
    lambda o, s: GaussianNoise(o, sigma=0.1, key=3),
    lambda o, s: ReverseSigmoid(o, beta=0.5, gamma=0.5),
    lambda o, s: RandomFlips(o, rate=0.3, key=1),
    lambda o, s: MAD(o, surrogate=s, epsilon=0.5),
    lambda o, s: Rounded(o, decimals=2),
    lambda o, s: TopK(o, k=1),
    lambda o, s: LabelOnly(o),
])
def test_a_batch_gets_the_answers_of_its_rows_one_at_a_time(owner, proba_oracle, make):
    d = make(proba_oracle, owner.model)
    X = owner.X_test[:25]
    batch = d.query(X)
    # The victim's own batched and single-row arithmetic may differ in the last bits.
    single = _rows_one_at_a_time(d, X)
    if d.output == "label":
        np.testing.assert_array_equal(batch, single)
    else:
        np.testing.assert_allclose(batch, single, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(d.query(X), batch)  # asking again changes nothing


def test_granularity_layers_shapes(owner, proba_oracle):
    X = owner.X_test[:10]
    p = proba_oracle.query(X)
    np.testing.assert_array_equal(Rounded(proba_oracle, decimals=1).query(X), np.round(p, 1))
    top = TopK(proba_oracle, k=1).query(X)
    assert top.shape == (10, 3) and np.all((top > 0).sum(axis=1) == 1)
    np.testing.assert_array_equal(top.max(axis=1), p.max(axis=1))
    lab = LabelOnly(proba_oracle).query(X)
    assert lab.shape == (10,)
    np.testing.assert_array_equal(lab, owner.model.predict(X))


def test_gaussian_noise_is_a_distribution_and_zero_noise_is_identity(owner, proba_oracle):
    X = owner.X_test[:500]
    q = GaussianNoise(proba_oracle, sigma=0.2, key=0).query(X)
    assert np.all(q >= 0) and np.allclose(q.sum(axis=1), 1.0)
    assert np.abs(q - owner.model.predict_proba(X)).max() > 0.05
    np.testing.assert_allclose(GaussianNoise(proba_oracle, sigma=0.0).query(X),
                               owner.model.predict_proba(X))
    kept = GaussianNoise(proba_oracle, sigma=0.5, keep_top_label=True).query(X)
    np.testing.assert_array_equal(kept.argmax(1), owner.model.predict(X))
    other_key = GaussianNoise(proba_oracle, sigma=0.2, key=1).query(X)
    assert not np.allclose(other_key, q)


def test_reverse_sigmoid_keeps_the_top_label_and_perturbs(owner, proba_oracle):
    X = owner.X_test[:2000]
    for beta, gamma in [(0.2, 0.2), (0.7, 0.4), (1.0, 0.1), (2.0, 3.0)]:
        q = ReverseSigmoid(proba_oracle, beta=beta, gamma=gamma).query(X)
        np.testing.assert_array_equal(q.argmax(1), owner.model.predict(X))
        assert np.all(q >= 0) and np.allclose(q.sum(1), 1.0)
    assert np.abs(q - owner.model.predict_proba(X)).max() > 0.05


def test_mad_stays_within_its_l1_budget_and_keeps_the_top_label(owner, proba_oracle):
    X = owner.X_test[:1000]
    p = owner.model.predict_proba(X)
    surrogate = owner.tree  # a different model: the defender's stand-in
    for eps in (0.1, 0.5, 1.0):
        q = MAD(proba_oracle, surrogate=surrogate, epsilon=eps).query(X)
        assert np.all(np.abs(q - p).sum(1) <= eps + 1e-12)
        np.testing.assert_array_equal(q.argmax(1), p.argmax(1))
        assert np.allclose(q.sum(1), 1.0) and np.all(q >= -1e-15)
        # It perturbs: the answers move, and the attacker's gradient direction turns.
        assert np.abs(q - p).sum(1).mean() > 0.2 * eps
    free = MAD(proba_oracle, surrogate=surrogate, epsilon=1.0, keep_top_label=False).query(X)
    assert np.all(np.abs(free - p).sum(1) <= 1.0 + 1e-12)
    assert np.mean(free.argmax(1) != p.argmax(1)) > 0


def test_mad_maximises_the_angle_over_the_simplex_vertices(owner, proba_oracle):
    """Checked against a brute-force search over mixtures with every vertex."""
    X = owner.X_test[:30]
    p, F = owner.model.predict_proba(X), owner.tree.predict_proba(X)
    q = MAD(proba_oracle, surrogate=owner.tree, epsilon=0.4, keep_top_label=False).query(X)

    def cos(a, b):
        return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))

    for i in range(len(X)):
        a = p[i] - F[i]
        best = min(
            cos(a, (1 - al) * p[i] + al * np.eye(3)[j] - F[i])
            for j in range(3)
            for al in [min(1.0, 0.4 / np.abs(np.eye(3)[j] - p[i]).sum())]
        )
        assert cos(a, q[i] - F[i]) == pytest.approx(best, abs=1e-9)


def test_random_flips_rate_and_consistency(owner, proba_oracle):
    X = owner.domain.sample(20000, random_state=0)
    lab = LabelOnly(proba_oracle)
    flipped = RandomFlips(lab, rate=0.2, key=7).query(X)
    rate = np.mean(flipped != owner.model.predict(X))
    assert abs(rate - 0.2) < 3 * np.sqrt(0.2 * 0.8 / 20000)
    assert set(np.unique(flipped)) <= {0, 1, 2}


@pytest.mark.parametrize("bad", [
    lambda o: GaussianNoise(o, sigma=-1),
    lambda o: ReverseSigmoid(o, beta=0),
    lambda o: RandomFlips(o, rate=1.0),
    lambda o: MAD(o, surrogate=object(), epsilon=0.5),
    lambda o: MAD(o, surrogate=None, epsilon=3.0),
    lambda o: GaussianNoise(LabelOnly(o), sigma=0.1),
])
def test_bad_settings_are_clear_errors(proba_oracle, bad):
    with pytest.raises(ValueError):
        bad(proba_oracle)


def test_utility_cost_known_cases(owner, proba_oracle):
    X, y = owner.X_test[:3000], owner.y_test[:3000]
    u = utility_cost(LabelOnly(proba_oracle), X, y)
    assert u["label_agreement"] == 1.0 and u["accuracy_loss"] == 0.0
    u = RandomFlips(proba_oracle, rate=0.25).utility(X, y)
    assert abs(u["label_agreement"] - 0.75) < 0.03 and u["accuracy_loss"] > 0.1
    u = utility_cost(Rounded(proba_oracle, decimals=1), X)
    assert 0 < u["mean_l1"] <= 0.15 and u["max_l1"] <= 0.15 + 1e-12
    u = ReverseSigmoid(proba_oracle).utility(X, y)
    assert u["label_agreement"] == 1.0 and u["mean_l1"] > 0
    # Utility is measured without counting queries.
    assert proba_oracle.n_queries == 0


def test_defenses_compose(owner, proba_oracle):
    d = LabelOnly(RandomFlips(ReverseSigmoid(Rounded(proba_oracle, decimals=3)), rate=0.1))
    X = owner.X_test[:100]
    out = d.query(X)
    assert out.shape == (100,) and proba_oracle.n_queries == 100
    assert np.mean(out == owner.model.predict(X)) > 0.8
