"""Extraction attacks: the Attack protocol, the registry and the classical attacks."""

from ._active_extraction import ActiveExtraction
from ._base import Attack, Run
from ._registry import available, extract, get, register
from ._result import STATUSES, ExtractionResult
from ._retraining import Retraining

__all__ = [
    "ActiveExtraction",
    "STATUSES",
    "Attack",
    "ExtractionResult",
    "Retraining",
    "Run",
    "available",
    "extract",
    "get",
    "register",
]
