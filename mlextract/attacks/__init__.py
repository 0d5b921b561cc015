"""Extraction attacks: the Attack protocol, the registry and the classical attacks."""

from ._base import Attack, Run
from ._extracted_tree import ExtractedTreeClassifier, ExtractedTreeRegressor
from ._path_finding import PathFinding
from ._registry import available, extract, get, register
from ._result import STATUSES, ExtractionResult
from ._retraining import Retraining

__all__ = [
    "STATUSES",
    "Attack",
    "ExtractedTreeClassifier",
    "ExtractedTreeRegressor",
    "ExtractionResult",
    "PathFinding",
    "Retraining",
    "Run",
    "available",
    "extract",
    "get",
    "register",
]
