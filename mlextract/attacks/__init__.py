"""Extraction attacks: the Attack protocol, the registry and the classical attacks."""

from ._base import Attack, Run
from ._equation_solving import EquationSolving
from ._extracted_tree import ExtractedTreeClassifier, ExtractedTreeRegressor
from ._linear_copies import OneVsRestLogistic, SigmoidEnsemble
from ._path_finding import PathFinding
from ._registry import available, extract, get, register
from ._result import STATUSES, ExtractionResult
from ._retraining import Retraining

__all__ = [
    "STATUSES",
    "Attack",
    "EquationSolving",
    "ExtractionResult",
    "OneVsRestLogistic",
    "ExtractedTreeClassifier",
    "ExtractedTreeRegressor",
    "PathFinding",
    "Retraining",
    "Run",
    "SigmoidEnsemble",
    "available",
    "extract",
    "get",
    "register",
]
