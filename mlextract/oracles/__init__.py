"""Oracles: the victim's query interface, the only way attacks see a victim."""

from .._exceptions import BudgetExhausted, JournalMismatch, OracleError
from ._base import OUTPUTS, Oracle, RunOracle
from ._domain import Domain
from ._granularity import (
    AnswerWrapper,
    LabelOnly,
    Rounded,
    TopK,
    labels_from_scores,
    round_answers,
    top_k_answers,
)
from ._http import HTTPOracle
from ._local import LocalOracle
from ._log import Journal, QueryLog, row_hashes
from ._tree import deepest_nodes, node_answers

__all__ = [
    "OUTPUTS",
    "AnswerWrapper",
    "BudgetExhausted",
    "Domain",
    "HTTPOracle",
    "Journal",
    "JournalMismatch",
    "LabelOnly",
    "LocalOracle",
    "Oracle",
    "OracleError",
    "QueryLog",
    "Rounded",
    "RunOracle",
    "TopK",
    "deepest_nodes",
    "labels_from_scores",
    "node_answers",
    "round_answers",
    "row_hashes",
    "top_k_answers",
]
