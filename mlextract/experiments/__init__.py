"""Reproductions of the papers' tables, run by ``mlextract reproduce``."""

from ._registry import Context, DataAbsent, Experiment, Table, experiment, experiments
from ._runner import SKIPPED, reproduce

__all__ = [
    "Context",
    "DataAbsent",
    "Experiment",
    "Table",
    "experiment",
    "experiments",
    "reproduce",
    "SKIPPED",
]
