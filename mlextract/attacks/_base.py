"""The Attack protocol: settings in the constructor, work in ``extract``."""

from __future__ import annotations

import inspect
import time
from typing import Any, ClassVar

from .._exceptions import BudgetExhausted, OracleError
from .._random import check_rng
from ..oracles import Oracle, RunOracle
from ._result import ExtractionResult

__all__ = ["Attack", "Run"]


class Run:
    """The state of one extraction run, handed to the attack's phases.

    Attributes
    ----------
    oracle : RunOracle
        The oracle, capped at this run's budget. Every query goes through it.
    rng : numpy.random.Generator
        The run's only source of randomness, seeded from ``random_state``.
    model : estimator or None
        The best copy so far; phases update it as they improve it, so a run cut
        short by the budget or a failing victim still returns it.
    info : dict
        Details the result reports (per-phase query counts, residuals, ...).
    status, message : str
        What the phases concluded; ``"success"`` unless a phase says otherwise.
    """

    def __init__(self, oracle: RunOracle, rng):
        self.oracle = oracle
        self.rng = rng
        self.model = None
        self.info: dict[str, Any] = {}
        self.status = "success"
        self.message = ""

    def remaining(self):
        """Rows this run may still ask (None when unlimited)."""
        return self.oracle.run_remaining


class Attack:
    """Base class of every extraction attack.

    Subclasses take their settings as keyword-only constructor arguments and only
    store them (as scikit-learn estimators do), declare the answers they need in
    ``outputs``, and implement ``_extract(run)``: the paper's phases, querying
    ``run.oracle`` and setting ``run.model``. :meth:`extract` does the shared work
    once: it validates the oracle and budget, seeds, caps the run, times it, and
    turns a budget running out or a failing victim into a result status.

    Subclasses register with :func:`mlextract.attacks.register` under ``name``.
    """

    #: Registry name (snake case), set by subclasses.
    name: ClassVar[str] = ""
    #: The oracle outputs the attack can use.
    outputs: ClassVar[tuple[str, ...]] = ("label", "proba", "logit", "value")

    def __init__(self, *, random_state=None):
        self.random_state = random_state

    # -- scikit-learn style parameters --------------------------------------
    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind == p.KEYWORD_ONLY
        )

    def get_params(self, deep=False) -> dict:
        """The constructor's settings."""
        return {k: getattr(self, k) for k in self._get_param_names()}

    def set_params(self, **params):
        """Change settings; unknown names are an error."""
        valid = self._get_param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"{type(self).__name__} has no setting {k!r}; valid: {valid}.")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- the one public method -----------------------------------------------
    def extract(self, oracle: Oracle, *, budget: int | None = None) -> ExtractionResult:
        """Extract a copy of the victim behind ``oracle``.

        Parameters
        ----------
        oracle : Oracle
            The victim's query interface.
        budget : int, default=None
            Cap on the queries this run may ask (the oracle's own budget is a
            lifetime cap on top of it).

        Returns
        -------
        ExtractionResult
            The copy, the queries counted by the oracle, and the run's status.
        """
        if not isinstance(oracle, Oracle):
            raise TypeError(
                f"{type(self).__name__}.extract needs an mlextract Oracle; got "
                f"{type(oracle).__name__}. Wrap a model with LocalOracle(model)."
            )
        if oracle.output not in self.outputs:
            raise ValueError(
                f"{type(self).__name__} needs an oracle answering one of "
                f"{self.outputs}; this oracle answers {oracle.output!r}."
            )
        self._validate_params()
        self._check_oracle(oracle)
        view = oracle.run(budget=budget)
        run = Run(view, check_rng(self.random_state))
        start = time.perf_counter()
        try:
            self._extract(run)
        except BudgetExhausted as exc:
            run.status = "budget_exhausted"
            run.message = f"{exc} The model is the best copy so far."
        except OracleError as exc:
            run.status = "oracle_error"
            run.message = str(exc)
        elapsed = time.perf_counter() - start
        if run.status == "success" and run.model is None:
            run.status = "no_convergence"
            run.message = run.message or "the attack returned no model."
        return ExtractionResult(
            model=run.model,
            n_queries=view.stats["paid"],
            status=run.status,
            message=run.message or "extraction finished.",
            elapsed=elapsed,
            queries=view.run_log(),
            n_replayed=view.stats["replayed"],
            attack=self.name,
            info=run.info,
        )

    # -- for subclasses --------------------------------------------------------
    def _validate_params(self) -> None:
        """Check the settings; raise ValueError quoting the bad value."""

    def _check_oracle(self, oracle: Oracle) -> None:
        """Check that the oracle suits the attack (domain present, victim kind...)."""

    def _extract(self, run: Run) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
