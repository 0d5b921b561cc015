"""Exceptions raised by mlextract."""

__all__ = ["BudgetExhausted", "OracleError", "JournalMismatch", "DataAbsent"]


class BudgetExhausted(RuntimeError):
    """A batch would exceed the query budget; the victim was not asked.

    Attributes
    ----------
    requested : int
        Rows in the refused batch.
    remaining : int
        Queries still allowed when the batch was refused.
    """

    def __init__(self, message: str, *, requested: int = 0, remaining: int = 0):
        super().__init__(message)
        self.requested = requested
        self.remaining = remaining


class OracleError(RuntimeError):
    """The victim (a model, a function or a remote API) failed to answer a batch.

    Queries answered before the failure stay counted and logged; the failing batch
    is not counted.
    """


class JournalMismatch(ValueError):
    """A re-run asked a different query than the one its journal recorded.

    The journal replays answers in order, matching rows by an exact hash of the
    input: a different attack, seed, victim or setting makes the sequences diverge.
    """


class DataAbsent(FileNotFoundError):
    """A data file is not on this machine (a data set mlextract may not ship).

    Steak and GSS are read from a folder the user names (``data_dir``,
    ``--data-dir`` or ``$MLEXTRACT_DATA_DIR``); a reproduction that needs an absent
    file prints "skipped: data absent (use --data-dir)".
    """
