"""The examples in the theory module's docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["_record", "_exact", "_passive", "_active", "_vc", "_disagreement", "_compare"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"mlextract.theory.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
