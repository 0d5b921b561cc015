"""Extraction attacks: the Attack protocol, the registry and the classical attacks."""

from ._active_extraction import ActiveExtraction
from ._base import Attack, Run
from ._copy_models import SearchedSVC
from ._equation_solving import EquationSolving
from ._extracted_tree import ExtractedTreeClassifier, ExtractedTreeRegressor
from ._kernel_synthesis import ActiveSynthesis
from ._label_queries import LinearBoundary
from ._linear_copies import OneVsRestLogistic, SigmoidEnsemble
from ._lowd_meek import LowdMeek
from ._path_finding import PathFinding
from ._query_synthesis import QuerySynthesis
from ._registry import available, extract, get, register
from ._result import STATUSES, ExtractionResult
from ._retraining import Retraining

__all__ = [
    "ActiveSynthesis",
    "ActiveExtraction",
    "STATUSES",
    "Attack",
    "EquationSolving",
    "ExtractionResult",
    "OneVsRestLogistic",
    "ExtractedTreeClassifier",
    "ExtractedTreeRegressor",
    "PathFinding",
    "LinearBoundary",
    "LowdMeek",
    "QuerySynthesis",
    "Retraining",
    "SearchedSVC",
    "Run",
    "SigmoidEnsemble",
    "available",
    "extract",
    "get",
    "register",
]
