"""SearchedSVC: the copy's kernel width, C and feature scaling chosen by cross-validation."""

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from mlextract.attacks import ActiveSynthesis, SearchedSVC
from mlextract.oracles import Domain, LocalOracle


def _raw_victim_data(n, seed):
    """Two informative features and four near-constant ones (like border pixels)."""
    X, _ = make_moons(n, noise=0.2, random_state=seed)
    rng = np.random.default_rng(seed)
    Z = np.hstack([3 * X, 0.01 * rng.normal(size=(n, 4))])
    return Z, SVC().fit(Z, make_moons(n, noise=0.2, random_state=seed)[1])


def _slow_scores(X, y, gammas, Cs):
    """Every (standardize, gamma, C) scored with the same folds, one by one."""
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = {}
    for std in (True, False):
        unit = X.shape[1] if std else X.shape[1] * X.var()
        for g in gammas:
            for c in Cs:
                pipe = make_pipeline(StandardScaler(with_mean=std, with_std=std),
                                     SVC(gamma=g / unit, C=c))
                scores[std, g, c] = cross_val_score(pipe, X, y, cv=cv).mean()
    return scores


@pytest.mark.timeout(60)
def test_auto_scaling_matches_slow_search_and_keeps_raw_geometry():
    X, victim = _raw_victim_data(300, 0)
    y = victim.predict(X)
    gammas, Cs = (0.3, 1, 3), (10, 1000)
    copy = SearchedSVC(gammas=gammas, Cs=Cs, standardize="auto").fit(X, y)
    scores = _slow_scores(X, y, gammas, Cs)
    p = copy.best_params_
    key = next(k for k in scores
               if k[0] == p["standardize"] and k[2] == p["C"] and np.isclose(k[1], p["gamma"]))
    chosen = scores[key]
    assert chosen == pytest.approx(max(scores.values()), abs=1e-12)
    # standardising inflates the four noise features: the raw geometry wins here
    assert p["standardize"] is False
    X_test, _ = _raw_victim_data(2000, 1)
    fixed_std = SearchedSVC(gammas=gammas, Cs=Cs, standardize=True).fit(X, y)
    agree_auto = np.mean(copy.predict(X_test) == victim.predict(X_test))
    agree_std = np.mean(fixed_std.predict(X_test) == victim.predict(X_test))
    assert agree_auto > 0.97 and agree_auto > agree_std
    # fixed() keeps the chosen scaling and width without searching again
    refit = copy.fixed().fit(X, y)
    assert refit.best_params_ == p
    assert np.array_equal(refit.predict(X_test), copy.predict(X_test))


def test_bad_scaling_is_a_clear_error():
    X, victim = _raw_victim_data(60, 0)
    with pytest.raises(ValueError, match="standardize must be"):
        SearchedSVC(standardize="yes").fit(X, victim.predict(X))
    oracle = LocalOracle(victim, output="label", domain=Domain.from_data(X))
    with pytest.raises(ValueError, match="standardize must be"):
        ActiveSynthesis(standardize="yes").extract(oracle)


@pytest.mark.timeout(60)
def test_active_synthesis_searches_again_as_answers_double():
    X, victim = _raw_victim_data(200, 0)
    oracle = LocalOracle(victim, output="label", domain=Domain.from_data(X))
    res = ActiveSynthesis(n_queries=200, n_initial=20, batch_size=20,
                          random_state=0).extract(oracle)
    at = res.info["searched_at"]
    assert at[0] == 20 and at[-1] == 200 == res.n_queries
    # each doubling point is the first round at or past twice the last search
    assert at[:-1] == [20, 40, 80, 160]
    assert res.info["best_params"]["standardize"] in (True, False)


def test_reference_fixes_geometry():
    X, victim = _raw_victim_data(200, 0)
    R, _ = _raw_victim_data(300, 2)
    y = victim.predict(X)
    raw = SearchedSVC(gammas=(1,), Cs=(100,), standardize=False, reference=R).fit(X, y)
    assert raw.estimator_[-1].gamma == pytest.approx(1 / (R.shape[1] * R.var()))
    std = SearchedSVC(gammas=(1,), Cs=(100,), standardize=True, reference=R).fit(X, y)
    scaled = std.estimator_[0].transform(X)
    assert np.allclose(scaled, (X - R.mean(axis=0)) / R.std(axis=0))
    # the search keeps the reference; fixed() refits the same copy without searching
    both = SearchedSVC(gammas=(0.3, 1, 3), Cs=(10, 1000), standardize="auto",
                       reference=R).fit(X, y)
    again = both.fixed().fit(X, y)
    assert again.reference is R and again.best_params_ == both.best_params_
    assert np.array_equal(again.predict(R), both.predict(R))
    with pytest.raises(ValueError, match="reference must be"):
        SearchedSVC(reference=np.ones((4, 3))).fit(X, y)
