"""ExtractionResult: the frozen record of one extraction run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..oracles import QueryLog

__all__ = ["ExtractionResult", "STATUSES"]

#: The statuses a run can end with.
STATUSES = {
    "success": "the attack finished and the copy is what the attack promises",
    "approximate": "the attack finished, but the copy is approximate (see message)",
    "budget_exhausted": "the query budget ran out; model is the best copy so far",
    "oracle_error": "the victim failed to answer; model is the best copy so far",
    "no_convergence": "the attack stopped at its loop or precision guard",
}


@dataclass(frozen=True, repr=False)
class ExtractionResult:
    """What an extraction run produced.

    Attributes
    ----------
    model : estimator or None
        The extracted copy: a fitted, scikit-learn compatible estimator, or None
        when the run ended before any copy could be fitted.
    n_queries : int
        Queries this run paid for, as counted by the oracle.
    status : str
        One of :data:`STATUSES`; a budget running out is a status, not a crash.
    success : bool
        True when ``status`` is ``"success"``.
    message : str
        What happened, in words.
    elapsed : float
        Wall-clock seconds of the run.
    queries : QueryLog
        Every row this run asked, with its answer, phase and source.
    n_replayed : int
        Rows answered from the journal (asked in an earlier, interrupted run).
    attack : str
        Registry name of the attack.
    info : dict
        Attack-specific details (phases' query counts, residuals, precision...).
    """

    model: Any
    n_queries: int
    status: str
    message: str
    elapsed: float
    queries: QueryLog = field(default_factory=QueryLog)
    n_replayed: int = 0
    attack: str = ""
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {list(STATUSES)}.")

    @property
    def success(self) -> bool:
        return self.status == "success"

    def __repr__(self) -> str:
        model = "None" if self.model is None else type(self.model).__name__
        lines = [
            f"  success: {self.success}",
            f"   status: {self.status!r}",
            f"  message: {self.message!r}",
            f"n_queries: {self.n_queries}" + (
                f" (+{self.n_replayed} replayed)" if self.n_replayed else ""
            ),
            f"    model: {model}",
            f"  elapsed: {self.elapsed:.3f} s",
            f"   attack: {self.attack!r}",
        ]
        if self.info:
            keys = ", ".join(sorted(self.info))
            lines.append(f"     info: {{{keys}}}")
        return "ExtractionResult(\n" + "\n".join(lines) + "\n)"
