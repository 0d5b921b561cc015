"""mlextract: steal a working copy of a model through its prediction API.

The public face: oracles (the victim's query interface), attacks, results and
metrics. See the README for the two commands and a short example.
"""

from . import attacks, datasets, metrics, oracles
from ._exceptions import BudgetExhausted, JournalMismatch, OracleError
from .attacks import Attack, ExtractionResult, available, extract
from .oracles import Domain, LabelOnly, LocalOracle, Oracle, Rounded, TopK

__version__ = "0.1.0"

__all__ = [
    "Attack",
    "BudgetExhausted",
    "Domain",
    "ExtractionResult",
    "JournalMismatch",
    "LabelOnly",
    "LocalOracle",
    "Oracle",
    "OracleError",
    "Rounded",
    "TopK",
    "__version__",
    "attacks",
    "available",
    "datasets",
    "extract",
    "metrics",
    "oracles",
]
