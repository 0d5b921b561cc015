"""Extraction attacks: the Attack protocol, the registry and the classical attacks."""

from ._base import Attack, Run
from ._registry import available, extract, get, register
from ._result import STATUSES, ExtractionResult
from ._retraining import Retraining
from ._lowd_meek import LowdMeek
from ._label_queries import LinearBoundary

__all__ = [
    "STATUSES",
    "Attack",
    "ExtractionResult",
    "LinearBoundary",
    "LowdMeek",
    "Retraining",
    "Run",
    "available",
    "extract",
    "get",
    "register",
]
