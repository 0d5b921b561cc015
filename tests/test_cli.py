"""The `mlextract` command: datasets, attacks, attack on a skops file, reproduce."""

import subprocess
import sys
from fractions import Fraction

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from mlextract import datasets
from mlextract.attacks import available
from mlextract.cli import load_model, main, save_model


@pytest.fixture(scope="module")
def iris_victim():
    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=1000).fit(X, y), X


@pytest.fixture
def victim_file(iris_victim, tmp_path):
    path = tmp_path / "victim.skops"
    save_model(iris_victim[0], path)
    return path


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("datasets", "attacks", "attack", "reproduce"):
        assert cmd in out
    assert main([]) == 2  # no command: the help, and a usage error


def test_datasets_lists_every_set_with_its_shape(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(datasets.available())
    for name, line in zip(datasets.available(), out):
        assert line.split()[0] == name and datasets.describe(name) in line


def test_attacks_lists_the_registry(capsys):
    assert main(["attacks"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines()]
    assert listed == available()


def test_attack_on_a_skops_file_saves_the_copy(victim_file, iris_victim, tmp_path, capsys):
    copy_path = tmp_path / "copy.skops"
    code = main([
        "attack", str(victim_file), "--method", "retraining", "--output", "label",
        "--dataset", "iris", "--budget", "400", "--set", "n_queries=300",
        "--out", str(copy_path),
    ])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "n_queries: 300" in out and "status: 'success'" in out
    assert f"copy saved to {copy_path}" in out
    copy = load_model(copy_path)
    victim, X = iris_victim
    assert copy.predict(X).shape == (150,)
    assert np.mean(copy.predict(X) == victim.predict(X)) > 0.8


def test_attack_with_granularity_and_a_domain_file(victim_file, tmp_path, capsys):
    import json

    dom = tmp_path / "domain.json"
    dom.write_text(json.dumps(datasets.load("iris").domain.to_dict()))
    code = main([
        "attack", str(victim_file), "--method", "retraining", "--output", "proba",
        "--decimals", "2", "--top-k", "1", "--domain", str(dom), "--set", "n_queries=50",
        "--journal", str(tmp_path / "j.sqlite"),
    ])
    assert code == 0, capsys.readouterr()
    assert (tmp_path / "j.sqlite").exists()


def test_a_run_that_falls_short_exits_1(victim_file, capsys):
    code = main(["attack", str(victim_file), "--method", "retraining", "--dataset", "iris",
                 "--budget", "0"])
    assert code == 1
    assert "budget_exhausted" in capsys.readouterr().out


def test_pickles_are_refused_without_trust(iris_victim, tmp_path, capsys):
    path = tmp_path / "victim.pkl"
    joblib.dump(iris_victim[0], path)
    args = ["attack", str(path), "--method", "retraining", "--dataset", "iris",
            "--set", "n_queries=50"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "is a pickle" in err and "--trust-pickle" in err
    assert main(args + ["--trust-pickle"]) == 0


def test_untrusted_skops_types_are_refused(tmp_path, capsys):
    path = tmp_path / "odd.skops"
    sio.dump({"f": Fraction(1, 3)}, path)  # a type outside skops' safe list
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["fractions.Fraction"]
    assert main(["attack", str(path), "--method", "retraining"]) == 2
    assert "outside skops' safe list" in capsys.readouterr().err
    assert isinstance(load_model(path, trust_types=untrusted), dict)


@pytest.mark.parametrize(
    "args, message",
    [
        (["attack", "missing.skops", "--method", "retraining"], "no model file"),
        (["attack", "{victim}", "--method", "nope", "--dataset", "iris"], "unknown attack"),
        (["attack", "{victim}", "--method", "retraining", "--dataset", "mnist"],
         "unknown data set"),
        (["attack", "{victim}", "--method", "retraining", "--set", "n_queries"],
         "--set takes KEY=VALUE"),
        (["reproduce", "--only", "no_such_table", "--out", "{tmp}"], "unknown experiments"),
    ],
)
def test_errors_are_one_clear_line(victim_file, tmp_path, capsys, args, message):
    args = [a.format(victim=victim_file, tmp=tmp_path) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith(f"mlextract {args[0]}: error:")


@pytest.mark.timeout(120)
def test_reproduce_one_experiment(tmp_path, capsys):
    code = main(["reproduce", "--quick", "--only", "retraining_baseline", "--out",
                 str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Uniform retraining" in out and "0 failed" in out
    assert (tmp_path / "README.md").is_file()
    tables = list(tmp_path.glob("*.md"))
    assert len(tables) == 2  # the index and the table
    assert "1-R_unif" in (tmp_path / "retraining_baseline.md").read_text()


def test_the_module_runs_as_a_command():
    proc = subprocess.run([sys.executable, "-m", "mlextract.cli", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "mlextract" in proc.stdout
