"""Extraction attacks: the Attack protocol, the registry and the classical attacks."""

from ._base import Attack, Run
from ._copy_models import SearchedSVC
from ._kernel_synthesis import ActiveSynthesis
from ._label_queries import LinearBoundary
from ._lowd_meek import LowdMeek
from ._query_synthesis import QuerySynthesis
from ._registry import available, extract, get, register
from ._result import STATUSES, ExtractionResult
from ._retraining import Retraining

__all__ = [
    "ActiveSynthesis",
    "STATUSES",
    "Attack",
    "ExtractionResult",
    "LinearBoundary",
    "LowdMeek",
    "QuerySynthesis",
    "Retraining",
    "SearchedSVC",
    "Run",
    "available",
    "extract",
    "get",
    "register",
]
