"""seed_sweep: the path-finding table rows over several attack seeds."""

import pytest

from mlextract.experiments.path_finding import seed_sweep


def test_seed_sweep_runs_each_row_on_each_seed_and_the_copies_are_exact():
    out = list(seed_sweep(["c50", "r50"], [0, 1], n_unif=5_000))
    assert [(row, seed) for row, seed, *_ in out] == [
        ("c50", 0), ("c50", 1), ("r50", 0), ("r50", 1)]
    for _, _, n_queries, test, unif in out:
        assert n_queries > 0
        assert (test, unif) == ("100.000", "100.000")


def test_seed_sweep_names_the_rows_it_knows():
    with pytest.raises(ValueError, match="unknown rows.*c50"):
        list(seed_sweep(["c51"], [0]))
