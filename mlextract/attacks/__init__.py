"""Extraction attacks: the Attack protocol, the registry and the classical attacks."""

from ._base import Attack, Run
from ._equation_solving import EquationSolving
from ._linear_copies import OneVsRestLogistic, SigmoidEnsemble
from ._registry import available, extract, get, register
from ._result import STATUSES, ExtractionResult
from ._retraining import Retraining

__all__ = [
    "STATUSES",
    "Attack",
    "EquationSolving",
    "ExtractionResult",
    "OneVsRestLogistic",
    "Retraining",
    "Run",
    "SigmoidEnsemble",
    "available",
    "extract",
    "get",
    "register",
]
