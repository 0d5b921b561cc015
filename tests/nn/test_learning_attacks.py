"""Learning-based attacks on a digits MLP: each beats uniform retraining with the same
copy model by a stated margin; label-only and one-hot answers stay finite."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from mlextract.attacks import Retraining
from mlextract.metrics import agreement
from mlextract.nn import (
    JacobianAugmentation,
    KnockoffNets,
    NumpyMLPClassifier,
    SemiSupervised,
    TemperatureDistillation,
    on_fraction,
    reservoir_sample,
    soft_targets,
)
from mlextract.oracles import Domain, LabelOnly, LocalOracle, Rounded

BUDGET = 300
#: Fidelity points each attack must gain over uniform retraining at BUDGET queries
#: (measured: uniform 18%; knockoff random 75%, adaptive 73%, Jacobian 74%,
#: semi-supervised 66%, distillation 86%).
MARGIN = 30.0
#: Fidelity (%) on held-out digits each attack must reach at BUDGET queries.
FIDELITY = 60.0


@pytest.fixture(scope="module")
def setting():
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(X.shape[0])
    tr, att, te = order[:900], order[900:1450], order[1450:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        victim = MLPClassifier((32,), max_iter=200, random_state=0).fit(X[tr], y[tr])
    dom = Domain(np.zeros(64), np.full(64, 16.0))
    return victim, X[att], X[te], dom


def _model():
    return NumpyMLPClassifier((32,), max_iter=60, alpha=1e-3, random_state=0)


def _attacks(pool):
    return {
        "knockoff random": KnockoffNets(pool=pool, n_queries=BUDGET, model=_model()),
        "knockoff adaptive": KnockoffNets(pool=pool, n_queries=BUDGET, model=_model(),
                                          strategy="adaptive"),
        "jacobian": JacobianAugmentation(seed=pool[:100], n_queries=BUDGET, step=2.0,
                                         n_rounds=2, model=_model()),
        "semi-supervised": SemiSupervised(pool=pool, n_queries=BUDGET, n_rounds=1,
                                          model=_model()),
        "distillation": TemperatureDistillation(
            pool=pool, n_queries=BUDGET, model=_model(), degrade="downsample",
            degrade_strength=2, image_shape=(8, 8), degraded_epochs=30),
    }


@pytest.mark.timeout(120)
def test_each_attack_beats_uniform_retraining(setting):
    victim, pool, Xte, dom = setting
    base = Retraining(n_queries=BUDGET, model=_model(), random_state=0).extract(
        LocalOracle(victim, output="label", domain=dom))
    base_fid = 100 * agreement(victim, base.model, Xte)
    for name, attack in _attacks(pool).items():
        oracle = LocalOracle(victim, output="proba", domain=dom)
        res = attack.set_params(random_state=0).extract(oracle)
        fid = 100 * agreement(victim, res.model, Xte)
        assert res.n_queries <= BUDGET, name
        assert fid >= FIDELITY, f"{name}: {fid:.1f}"
        assert fid >= base_fid + MARGIN, f"{name}: {fid:.1f} vs uniform {base_fid:.1f}"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("answers", ["label", "one-hot"])
def test_label_only_and_one_hot_answers_stay_finite(setting, answers):
    victim, pool, Xte, dom = setting
    for name, attack in _attacks(pool).items():
        inner = LocalOracle(victim, output="proba", domain=dom)
        oracle = LabelOnly(inner) if answers == "label" else Rounded(inner, decimals=0)
        res = attack.set_params(random_state=1, n_queries=120).extract(oracle)
        assert all(np.all(np.isfinite(W)) for W in res.model.coefs_), name
        assert 100 * agreement(victim, res.model, Xte) > 40, name


def test_rounding_floor_and_soft_targets():
    P = np.array([[0.99, 0.01, 0.0]])
    t = soft_targets(P, 10.0, eps=0.005)
    assert np.all(np.isfinite(t)) and t[0, 2] > 0


def test_on_fraction_changes_that_share_of_rows_only():
    X = np.zeros((4000, 3))
    out = on_fraction(lambda A, rng: A + 1.0, 0.5)(X, np.random.default_rng(0))
    changed = np.all(out == 1.0, axis=1)
    assert np.all(changed | np.all(out == 0.0, axis=1))
    assert abs(changed.mean() - 0.5) < 0.03
    assert np.all(X == 0.0)  # the input is not modified in place


def test_distillation_stages_degraded_augmented_clean(setting):
    """Degraded, then augmented, then a quarter of max_iter on clean views; without
    the augmentation, max_iter clean epochs (at most: a stage may converge early)."""
    victim, pool, Xte, dom = setting
    model = NumpyMLPClassifier((8,), max_iter=8, n_iter_no_change=10**6,
                               random_state=0)
    for augment, total in (("noise", 3 + 8 + 2), (None, 3 + 8)):
        res = TemperatureDistillation(pool=pool, n_queries=50, model=model,
                                      degraded_epochs=3, augment=augment,
                                      random_state=0).extract(LocalOracle(victim))
        assert len(res.model.loss_curve_) == total, augment
        assert res.model.max_iter == 8


def test_reservoir_sample_is_uniform():
    rng = np.random.default_rng(0)
    counts = np.zeros(10)
    for _ in range(4000):
        counts[reservoir_sample(10, 3, rng)] += 1
    np.testing.assert_allclose(counts / 4000, 0.3, atol=0.03)
    np.testing.assert_array_equal(reservoir_sample(4, 10, rng), np.arange(4))


def test_seeded_runs_agree(setting):
    victim, pool, Xte, dom = setting
    a = KnockoffNets(pool=pool, n_queries=60, strategy="adaptive", model=_model(),
                     random_state=3).extract(LocalOracle(victim))
    b = KnockoffNets(pool=pool, n_queries=60, strategy="adaptive", model=_model(),
                     random_state=3).extract(LocalOracle(victim))
    np.testing.assert_array_equal(a.queries.X, b.queries.X)
    np.testing.assert_array_equal(a.model.coefs_[0], b.model.coefs_[0])


def test_bad_input_is_a_clear_error(setting):
    victim, pool, Xte, dom = setting
    oracle = LocalOracle(victim, output="proba", domain=dom)
    with pytest.raises(ValueError, match="pool is required"):
        KnockoffNets().extract(oracle)
    with pytest.raises(ValueError, match="features"):
        KnockoffNets(pool=pool[:, :10]).extract(oracle)
    with pytest.raises(ValueError, match="NaN"):
        TemperatureDistillation(pool=np.full((5, 64), np.nan)).extract(oracle)
    with pytest.raises(ValueError, match="strategy"):
        KnockoffNets(pool=pool, strategy="greedy").extract(oracle)
    with pytest.raises(ValueError, match="image_shape"):
        TemperatureDistillation(pool=pool, degrade="downsample").extract(oracle)
    with pytest.raises(ValueError, match="augment must be"):
        TemperatureDistillation(pool=pool, augment="shift").extract(oracle)
    with pytest.raises(ValueError, match="augment_strength"):
        TemperatureDistillation(pool=pool, augment_strength=np.nan).extract(oracle)
    with pytest.raises(ValueError, match="NumpyMLPClassifier"):
        SemiSupervised(pool=pool, model=MLPClassifier()).extract(oracle)
    with pytest.raises(ValueError, match="seed"):
        JacobianAugmentation().extract(oracle)
    for attack in _attacks(pool).values():
        res = attack.extract(oracle, budget=0)
        assert res.status == "budget_exhausted" and res.n_queries == 0
