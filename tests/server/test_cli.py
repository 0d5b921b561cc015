"""`mlextract keys` and the serve command's argument handling."""

import pytest

from mlextract.cli import main
from mlextract.server import KeyStore
from mlextract.server._cli import _parse_spec, build_oracle, resolve_defense


def test_keys_command_prints_the_key_once_and_stores_its_hash(tmp_path, capsys):
    path = tmp_path / "keys.toml"
    assert main(["keys", "alice", "--keys", str(path), "--budget", "100", "--rate", "5"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("mlx_") and key not in path.read_text()
    assert KeyStore.load(path).verify(key).budget == 100
    assert main(["keys", "bob", "--keys", str(path)]) == 0
    assert len(KeyStore.load(path)) == 2


def test_duplicate_key_names_are_refused(tmp_path, capsys):
    path = tmp_path / "keys.toml"
    main(["keys", "alice", "--keys", str(path)])
    assert main(["keys", "alice", "--keys", str(path)]) == 2
    assert "two keys are named 'alice'" in capsys.readouterr().err


def test_defense_specs():
    assert _parse_spec("rounded:decimals=2") == ("rounded", {"decimals": 2})
    assert _parse_spec("label_only") == ("label_only", {})
    with pytest.raises(ValueError, match="unknown defense"):
        resolve_defense("nonsense")
    with pytest.raises(ValueError, match="k=v"):
        _parse_spec("rounded:2")


def test_build_oracle_applies_defenses_in_order():
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    o = build_oracle(model, defenses=["rounded:decimals=1"])
    assert o.query([[0.0]]).tolist() == [[0.8, 0.2]]
    o = build_oracle(model, defenses=["label_only"])
    assert o.output == "label" and o.query([[3.0]]).tolist() == [1]


def test_serve_refuses_a_pickle(tmp_path, capsys):
    p = tmp_path / "m.pkl"
    p.write_bytes(b"not really")
    assert main(["serve", str(p)]) == 2
    assert "pickle" in capsys.readouterr().err
