"""The side-by-side table, its plot, and the `mlextract bounds` command."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from mlextract import theory as T  # noqa: E402
from mlextract.cli import main  # noqa: E402


def test_table_for_adult_softmax():
    t = T.compare_bounds("logistic", 105, 1e-3, 0.01, classes=5)
    assert t.by_name("equation solving, softmax").value == 106
    assert t.by_name("softmax unknowns c(d+1)").value == 530
    assert t.by_name("PAC lower (Ehrenfeucht et al.)").value == 4601  # 999·ln 100
    models = {b.query_model for b in t.bounds}
    assert models == {"confidence", "synthesis", "pool", "passive"}
    text = t.to_text()
    assert "halfspace packing lower (KMT)" in text and "762" in text
    with pytest.raises(KeyError):
        t.by_name("nothing")


@pytest.mark.parametrize("family", T.FAMILIES)
def test_every_family_has_bounds_of_several_models(family):
    t = T.compare_bounds(family, 6, 1e-2, 0.01, nu=0.05)
    assert len({b.query_model for b in t.bounds}) >= 2
    assert all(len(r) == 7 for r in t.rows())


def test_plot_is_agg_safe():
    fig = T.plot_bounds("linear", 10, 1e-2, n=6)
    assert len(fig.axes) == 2
    assert all(ax.get_lines() for ax in fig.axes)
    with pytest.raises(ValueError):
        T.plot_bounds("linear", 10, 1e-2, eps_range=(0.1, 0.01))


def test_cli_prints_the_table(capsys, tmp_path):
    code = main(["bounds", "--family", "logistic", "--d", "105", "--classes", "5",
                 "--eps", "1e-3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "equation solving, softmax" in out and "106" in out and "530" in out
    png = tmp_path / "b.png"
    assert main(["bounds", "--d", "4", "--plot", str(png)]) == 0
    assert png.stat().st_size > 0


def test_cli_bad_input_is_a_clear_error(capsys):
    assert main(["bounds", "--d", "0"]) == 2
    assert "d must be an integer" in capsys.readouterr().err
    assert main(["bounds", "--d", "3", "--eps", "1.5"]) == 2
    assert "eps must lie" in capsys.readouterr().err
