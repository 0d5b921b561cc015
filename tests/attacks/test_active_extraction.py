"""ActiveExtraction end to end through extract: strategies, copies, sources, bad input."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from mlextract.attacks import ActiveExtraction, available
from mlextract.attacks._active_extraction import STRATEGY_NAMES, boundary_points
from mlextract.metrics import agreement
from mlextract.oracles import Domain, LocalOracle


@pytest.fixture(scope="module")
def linear():
    """A 5-D linear victim; the attacker's pool and a test set from the same law."""
    X, y = make_classification(
        n_samples=3000, n_features=5, n_informative=5, n_redundant=0, random_state=0
    )
    victim = LogisticRegression().fit(X[:1000], y[:1000])
    return victim, X[1000:2000], X[2000:], Domain.from_data(X)


def _oracle(victim, dom, output="label"):
    return LocalOracle(victim, output=output, domain=dom)


def test_registered():
    assert "active_extraction" in available()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_each_strategy_through_extract(linear, strategy):
    victim, pool, test, dom = linear
    budget = 25 if strategy == "expected_error" else 40  # EER: 40 refits per round
    settings = dict(strategy=strategy, pool=pool, n_queries=budget, random_state=0,
                    batch_size=15, n_committee=3)
    res = ActiveExtraction(**settings).extract(_oracle(victim, dom), budget=budget)
    assert res.status == "success", res.message
    assert res.n_queries == budget == len(res.queries)
    assert set(res.queries.phases) == {"seed", strategy}
    assert agreement(victim, res.model, test) > 0.9
    # Every query is a pool row (no synthesis): the attacker only used its data.
    assert all(np.any(np.all(pool == x, axis=1)) for x in res.queries.X)


def test_active_beats_random_by_the_stated_margin(linear):
    """Stated margin: at 60 queries uncertainty sampling's disagreement with the
    victim (mean over 3 seeds) is at most half that of random sampling."""
    victim, pool, test, dom = linear
    dis = {}
    for strategy in ("random", "uncertainty"):
        dis[strategy] = np.mean([
            1 - agreement(victim, ActiveExtraction(
                strategy=strategy, pool=pool, n_queries=60, random_state=seed
            ).extract(_oracle(victim, dom)).model, test)
            for seed in range(3)
        ])
    assert dis["uncertainty"] <= 0.5 * dis["random"], dis


@pytest.mark.parametrize(
    "model,strategy",
    [
        (SVC(), "uncertainty"),
        (SVC(), "margin"),
        (SVC(), "consensus_entropy"),
        (SVC(), "kl_max_disagreement"),
        (DecisionTreeClassifier(), "vote_entropy"),
        (MLPClassifier(hidden_layer_sizes=(8,), max_iter=300), "entropy"),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_any_sklearn_copy(linear, model, strategy):
    victim, pool, test, dom = linear
    res = ActiveExtraction(
        strategy=strategy, model=model, pool=pool, n_queries=40, batch_size=15, n_committee=3,
        random_state=0,
    ).extract(_oracle(victim, dom))
    assert res.status == "success"
    assert type(res.model) is type(model)
    # 40 labels of a 5-D linear boundary: far better than a constant (~50%) for every
    # family; the quality of the strategies is tested on the linear copy above.
    assert agreement(victim, res.model, test) > 0.75


def test_copy_is_seeded_and_reruns_agree(linear):
    victim, pool, test, dom = linear
    runs = [
        ActiveExtraction(strategy="vote_entropy", model=DecisionTreeClassifier(), pool=pool,
                         n_queries=50, random_state=3).extract(_oracle(victim, dom))
        for _ in range(2)
    ]
    assert np.array_equal(runs[0].queries.X, runs[1].queries.X)
    assert np.array_equal(runs[0].model.predict(test), runs[1].model.predict(test))
    assert runs[0].model.random_state is not None


def test_uniform_source_without_pool(linear):
    victim, _, test, dom = linear
    res = ActiveExtraction(strategy="uncertainty", n_uniform=2000, n_queries=80,
                           random_state=0).extract(_oracle(victim, dom))
    assert res.status == "success" and res.n_queries == 80
    assert dom.contains(res.queries.X).all()
    assert agreement(victim, res.model, test) > 0.9


def test_synthesis_queries_near_the_copy_boundary(linear):
    victim, pool, test, dom = linear
    res = ActiveExtraction(strategy="uncertainty", pool=pool, n_queries=80, synthesis=0.5,
                           batch_size=10, random_state=0).extract(_oracle(victim, dom))
    assert res.status == "success" and res.info["n_synthesised"] > 0
    X = res.queries.X
    synthetic = ~np.array([np.any(np.all(pool == x, axis=1)) for x in X])
    assert synthetic.sum() == res.info["n_synthesised"]
    assert dom.contains(X).all()
    # Synthesised points sit closer to the victim's boundary than the pool does.
    margin = np.abs(victim.decision_function(X[synthetic]))
    assert np.median(margin) < 0.5 * np.median(np.abs(victim.decision_function(pool)))


def test_fresh_uniform_points_go_past_the_pool(linear):
    """n_fresh: candidates drawn afresh from the domain each round, so the run
    continues after the 30-row pool is labelled; every query is a domain point."""
    victim, pool, test, dom = linear
    res = ActiveExtraction(strategy="margin", pool=pool[:30], n_fresh=500, n_queries=90,
                           batch_size=20, random_state=0).extract(_oracle(victim, dom),
                                                                  budget=90)
    assert res.status == "success" and res.n_queries == 90
    assert dom.contains(res.queries.X).all()
    fresh = ~np.array([np.any(np.all(pool[:30] == x, axis=1)) for x in res.queries.X])
    assert fresh.sum() >= 60  # at most the 30 pool rows came from the pool
    assert agreement(victim, res.model, test) > 0.9


@pytest.mark.timeout(60)
def test_fresh_committee_beats_fresh_random_on_a_box():
    """Stated margin: a tree victim whose positive class is a box of the unit cube,
    the pool the lower 0.8-corner of the cube. With 150 queries and 2,000
    fresh uniform candidates a round, vote entropy's disagreement on uniform points
    (mean over 3 seeds) is at most half of random sampling's from the same source."""
    rng = np.random.default_rng(0)
    dom = Domain(np.zeros(3), np.ones(3))
    X = rng.uniform(size=(4000, 3))
    y = ((X[:, 0] > 0.55) & (X[:, 0] < 0.8) & (X[:, 1] > 0.3) & (X[:, 1] < 0.9)).astype(int)
    victim = DecisionTreeClassifier(random_state=0).fit(X, y)
    pool = 0.8 * X[:200]  # natural data: the lower corner, part of the box
    U = dom.sample(20_000, random_state=1)
    dis = {}
    for strategy in ("random", "vote_entropy"):
        dis[strategy] = np.mean([
            1 - agreement(victim, ActiveExtraction(
                strategy=strategy, model=DecisionTreeClassifier(), pool=pool, n_fresh=2000,
                n_queries=150, n_initial=20, batch_size=0.2, random_state=seed,
            ).extract(_oracle(victim, dom)).model, U)
            for seed in range(3)
        ])
    assert dis["vote_entropy"] <= 0.5 * dis["random"], dis


def test_boundary_points_lie_on_the_copy_boundary():
    copy = LogisticRegression().fit(np.array([[-1.0], [1.0]]), [0, 1])
    out = boundary_points(copy, np.array([[-0.8], [-0.5]]), np.array([[0.9], [-0.9]]),
                          n_steps=30)
    np.testing.assert_allclose(copy.decision_function(out), 0.0, atol=1e-6)
    same = boundary_points(copy, np.array([[-0.8]]), np.array([[-0.9]]))
    np.testing.assert_array_equal(same, [[-0.8]])  # no opposite point: unchanged


def test_proba_and_logit_oracles(linear):
    victim, pool, test, dom = linear
    for output in ("proba", "logit"):
        res = ActiveExtraction(pool=pool, n_queries=40, random_state=0).extract(
            _oracle(victim, dom, output)
        )
        assert res.status == "success" and agreement(victim, res.model, test) > 0.9


def test_callback_sees_every_refit_and_can_stop(linear):
    victim, pool, _, dom = linear
    seen = []

    def cb(n, model):
        seen.append(n)
        return n >= 30

    res = ActiveExtraction(pool=pool, n_queries=100, callback=cb, random_state=0).extract(
        _oracle(victim, dom)
    )
    assert seen == [10, 20, 30] and res.n_queries == 30
    assert "stopped by the callback" in res.message


def test_batch_fraction_grows_rounds(linear):
    victim, pool, _, dom = linear
    seen = []
    ActiveExtraction(pool=pool, n_queries=100, batch_size=0.5, random_state=0,
                     callback=lambda n, m: seen.append(n)).extract(_oracle(victim, dom))
    assert seen == [10, 15, 23, 35, 53, 80, 100]


def test_pool_exhausted_is_reported(linear):
    victim, pool, _, dom = linear
    res = ActiveExtraction(pool=pool[:50], n_queries=200, random_state=0).extract(
        _oracle(victim, dom)
    )
    assert res.status == "success" and res.n_queries == 50
    assert "every one of the 50 candidates" in res.message


def test_one_class_pool_gives_a_constant(linear):
    victim, pool, _, dom = linear
    ones = pool[victim.predict(pool) == 1][:30]
    res = ActiveExtraction(pool=ones, n_queries=30, random_state=0).extract(_oracle(victim, dom))
    assert res.status == "approximate" and isinstance(res.model, DummyClassifier)
    assert "one class" in res.message


def test_budget_shorter_than_n_queries(linear):
    victim, pool, _, dom = linear
    res = ActiveExtraction(pool=pool, n_queries=100, random_state=0).extract(
        _oracle(victim, dom), budget=45
    )
    assert res.status == "budget_exhausted" and res.n_queries == 45
    assert res.model is not None


# --------------------------------------------------------------------- bad input
def test_zero_budget_is_a_status(linear):
    victim, pool, _, dom = linear
    res = ActiveExtraction(pool=pool, random_state=0).extract(_oracle(victim, dom), budget=0)
    assert res.status == "budget_exhausted" and res.n_queries == 0


@pytest.mark.parametrize(
    "settings,budget,match",
    [
        ({"pool": np.empty((0, 5))}, None, "non-empty 2-D"),
        ({"pool": np.zeros(5)}, None, "non-empty 2-D"),
        ({"pool": np.ones((10, 4))}, None, "pool has 4 features, but the oracle expects 5"),
        ({"pool": np.full((10, 5), np.nan)}, None, "NaN"),
        ({"pool": np.full((10, 5), 1e6)}, None, "outside the oracle's domain"),
        ({}, None, "no candidates"),
        ({"pool": "pool", "n_initial": 10}, None, "numeric"),
        ({"n_uniform": 100, "n_initial": 10}, 5, "fewer than the seed set n_initial=10"),
        ({"n_uniform": 100, "strategy": "psychic"}, None, "strategy must be one of"),
        ({"n_uniform": 100, "batch_size": 0}, None, "batch_size"),
        ({"n_uniform": 100, "batch_size": 1.5}, None, "batch_size"),
        ({"n_uniform": 100, "synthesis": 2}, None, "synthesis"),
        ({"n_uniform": 100, "n_committee": 1}, None, "n_committee"),
        ({"n_uniform": 100, "n_fresh": -5}, None, "n_fresh must be an integer >= 0"),
        ({"n_uniform": 100, "model": LinearRegression()}, None, "classifier"),
    ],
)
def test_bad_input_is_a_clear_error(linear, settings, budget, match):
    victim, _, _, dom = linear
    with pytest.raises(ValueError, match=match):
        ActiveExtraction(random_state=0, **settings).extract(_oracle(victim, dom), budget=budget)


def test_uniform_needs_a_domain(linear):
    victim, _, _, _ = linear
    with pytest.raises(ValueError, match="has none"):
        ActiveExtraction(n_uniform=100).extract(LocalOracle(victim, output="label"))
    with pytest.raises(ValueError, match="has none"):
        ActiveExtraction(pool=np.zeros((20, 5)), n_fresh=100).extract(
            LocalOracle(victim, output="label"))


def test_regression_oracle_refused():
    X = np.random.default_rng(0).normal(size=(50, 2))
    reg = LinearRegression().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="needs an oracle answering"):
        ActiveExtraction(pool=X).extract(LocalOracle(reg, domain=Domain.from_data(X)))
