"""The reproduction registry and runner: tables, skips for absent data, failures."""

import io

import pytest

from mlextract.experiments import SKIPPED, DataAbsent, Table, _registry, reproduce


@pytest.fixture
def registry(monkeypatch):
    """Only the experiments a test registers."""
    reg = {}
    monkeypatch.setattr(_registry, "_EXPERIMENTS", reg)
    monkeypatch.setattr(_registry, "_discover", lambda: None)
    return reg


def _run(tmp_path, **kw):
    out = io.StringIO()
    failed = reproduce(out_dir=tmp_path, progress=False, stream=out, **kw)
    return failed, out.getvalue()


def test_tables_are_printed_and_written(registry, tmp_path):
    @_registry.experiment("t_ok", title="A table", order=1)
    def ok(ctx):
        return Table(title="Numbers", columns=["x", "y"], rows=[[1, 0.5], [12345, None]],
                     paper="Someone 2016", notes=["a note"])

    failed, out = _run(tmp_path)
    assert failed == 0
    assert "Numbers" in out and "12,345" in out and "a note" in out
    md = (tmp_path / "t_ok.md").read_text()
    assert "| x | y |" in md and "| 1 | 0.5 |" in md and "| 12,345 | – |" in md
    assert "Published numbers: Someone 2016." in md
    assert "[Numbers](t_ok.md)" in (tmp_path / "README.md").read_text()


def test_absent_data_is_a_skip_but_a_failure_under_ci(registry, tmp_path, monkeypatch):
    @_registry.experiment("t_data", title="Needs steak")
    def needs(ctx):
        return Table(title="x", columns=["a"], rows=[[ctx.dataset("steak").X.shape[0]]])

    monkeypatch.delenv("MLEXTRACT_DATA_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    failed, out = _run(tmp_path, data_dir=tmp_path)
    assert failed == 0 and SKIPPED in out
    assert SKIPPED in (tmp_path / "README.md").read_text()
    monkeypatch.setenv("CI", "true")
    failed, out = _run(tmp_path, data_dir=tmp_path)
    assert failed == 1 and "FAILED (CI=true and data absent)" in out


def test_a_failing_experiment_is_counted_and_the_others_run(registry, tmp_path):
    @_registry.experiment("t_bad", title="Broken", order=1)
    def bad(ctx):
        raise RuntimeError("boom")

    @_registry.experiment("t_good", title="Fine", order=2)
    def good(ctx):
        return [Table(title="one", columns=["a"], rows=[[1]]),
                Table(title="two", columns=["a"], rows=[[2]])]

    failed, out = _run(tmp_path)
    assert failed == 1 and "FAILED: t_bad" in out and "RuntimeError: boom" in out
    assert (tmp_path / "t_good_1.md").is_file() and (tmp_path / "t_good_2.md").is_file()


def test_only_and_unknown_names(registry, tmp_path):
    calls = []

    for name in ("t_a", "t_b"):
        @_registry.experiment(name, title=name)
        def f(ctx, name=name):
            calls.append(name)
            return Table(title=name, columns=["a"], rows=[[1]])

    _run(tmp_path, only=["t_b"])
    assert calls == ["t_b"]
    with pytest.raises(ValueError, match=r"unknown experiments \['t_c'\]"):
        _run(tmp_path, only=["t_c"])


def test_an_experiment_must_return_tables(registry, tmp_path):
    @_registry.experiment("t_none", title="Nothing")
    def nothing(ctx):
        return None

    failed, out = _run(tmp_path)
    assert failed == 1 and "must return a Table" in out


def test_a_name_is_registered_once(registry):
    @_registry.experiment("t_once", title="once")
    def first(ctx):
        return None

    with pytest.raises(ValueError, match="already registered"):
        @_registry.experiment("t_once", title="twice")
        def second(ctx):
            return None


def test_context_data_path(tmp_path):
    (tmp_path / "here.csv").write_text("a\n")
    ctx = _registry.Context(data_dir=tmp_path)
    assert ctx.data_path("here.csv") == tmp_path / "here.csv"
    with pytest.raises(DataAbsent, match="gone.csv"):
        ctx.data_path("gone.csv")
    assert ctx.map(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]
