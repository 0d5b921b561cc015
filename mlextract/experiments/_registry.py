"""The registry of reproductions that ``mlextract reproduce`` runs.

A later issue adds its tables by writing a module in ``mlextract/experiments/``
(any name not starting with an underscore) with functions decorated by
:func:`experiment`; the module is found and imported automatically, so no issue
edits another's table code::

    @experiment("equation_solving", title="Equation solving (Tramèr et al. 2016, Table 4)")
    def equation_solving(ctx):
        rows = [...]                     # ctx.quick selects the small size
        return Table(title=..., columns=[...], rows=rows, paper="Tramèr et al. 2016")

Data that mlextract does not ship (Steak, GSS) comes from ``ctx.dataset(name)``,
which raises :class:`DataAbsent` when the file is not in ``--data-dir``: let it
propagate to skip the whole table, or catch it to skip one row::

    try:
        data = ctx.dataset("steak")
    except DataAbsent:
        rows.append(["Steak", SKIPPED, None])   # "skipped: data absent (use --data-dir)"

``ctx.quick`` selects the quick size (each experiment at most ~20 s on one core);
``ctx.smoke`` (``MLEXTRACT_SMOKE=1``, set by the smoke test) asks for less still.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import DataAbsent

__all__ = ["Table", "Experiment", "Context", "DataAbsent", "experiment", "experiments"]




@dataclass
class Table:
    """One reproduced table: our numbers beside the paper's.

    Attributes
    ----------
    title : str
    columns : list of str
    rows : list of lists
        Cells are numbers or strings; a row whose data is absent holds the text
        "skipped: data absent (use --data-dir)".
    paper : str
        The source of the published numbers.
    notes : list of str
        What the reader must know: where we differ from the paper and why.
    name : str
        File stem of the Markdown output (default: derived from the title).
    """

    title: str
    columns: list[str]
    rows: list[list[Any]]
    paper: str = ""
    notes: list[str] = field(default_factory=list)
    name: str = ""

    def _cells(self):
        def fmt(v):
            if isinstance(v, float):
                if v != v:  # NaN
                    return "–"
                if abs(v) >= 1e5 or (0 < abs(v) < 1e-3):
                    return f"{v:.3g}"
                return f"{v:.4g}" if abs(v) < 100 else f"{v:,.0f}"
            if isinstance(v, int) and not isinstance(v, bool):
                return f"{v:,}"
            return "–" if v is None else str(v)

        return [[fmt(v) for v in row] for row in self.rows]

    def to_markdown(self) -> str:
        cells = self._cells()
        out = [f"### {self.title}", ""]
        out.append("| " + " | ".join(self.columns) + " |")
        out.append("|" + "|".join("---" for _ in self.columns) + "|")
        out.extend("| " + " | ".join(r) + " |" for r in cells)
        if self.paper:
            out += ["", f"Published numbers: {self.paper}."]
        for n in self.notes:
            out.append(f"- {n}")
        return "\n".join(out) + "\n"

    def to_text(self) -> str:
        cells = [list(self.columns)] + self._cells()
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        lines = [self.title, "=" * len(self.title)]
        for k, r in enumerate(cells):
            lines.append("  ".join(c.rjust(w) if k else c.ljust(w) for c, w in zip(r, widths)))
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.paper:
            lines.append(f"(published numbers: {self.paper})")
        lines.extend(f"* {n}" for n in self.notes)
        return "\n".join(lines) + "\n"


@dataclass
class Context:
    """What an experiment is given: size, data location, output folder, parallelism.

    Attributes
    ----------
    quick : bool
        Run the small size (the README's main job: a few minutes in all).
    smoke : bool
        Shrink further: the smoke test (``MLEXTRACT_SMOKE=1``) runs every quick
        experiment and must finish within 60 s in all, so an experiment whose quick
        size takes more than a few seconds should cut its grid when ``ctx.smoke``
        is set (fewer budgets, repetitions or uniform points). Its numbers are only
        checked for running, never reported as results.
    data_dir : Path or None
        Where Steak, GSS and other data that mlextract does not ship live.
    out_dir : Path
        Where tables and plots are written.
    random_state : int
    n_jobs : int
        Workers for :meth:`map`.
    backend : str or None
        joblib backend for :meth:`map` (``"loky"``, or ``"ray"``/``"dask"`` with the
        ``cluster`` extra installed and a cluster running).
    """

    quick: bool = True
    data_dir: Path | None = None
    out_dir: Path = Path("reproduce-output")
    random_state: int = 0
    n_jobs: int = 1
    backend: str | None = None
    progress: bool = True
    smoke: bool = False

    def map(self, func: Callable, items, *, desc: str = "") -> list:
        """``[func(item) for item in items]``, in parallel through joblib."""
        items = list(items)
        if self.n_jobs == 1 or len(items) <= 1:
            from tqdm.auto import tqdm

            it = tqdm(items, desc=desc, disable=not self.progress, leave=False)
            return [func(x) for x in it]
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend=self.backend or "loky", n_jobs=self.n_jobs):
            return Parallel()(delayed(func)(x) for x in items)

    def save_figure(self, fig, name: str) -> Path:
        """Write a matplotlib figure as PNG into the output folder."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        return path

    def data_path(self, filename: str) -> Path:
        """A file from the data folder, or :class:`DataAbsent`."""
        if self.data_dir is not None and (Path(self.data_dir) / filename).exists():
            return Path(self.data_dir) / filename
        raise DataAbsent(f"{filename} not found in data dir {self.data_dir}")

    def dataset(self, name: str, **kwargs):
        """``mlextract.datasets.load(name)`` reading from this run's data folder.

        Raises :class:`DataAbsent` (so the table prints "skipped: data absent")
        when a set that mlextract does not ship is not in the folder.
        """
        from .. import datasets

        kwargs.setdefault("data_dir", self.data_dir)
        return datasets.load(name, **kwargs)


@dataclass
class Experiment:
    name: str
    title: str
    func: Callable[[Context], Any]
    order: int = 100


_EXPERIMENTS: dict[str, Experiment] = {}


def experiment(name: str, *, title: str, order: int = 100):
    """Decorator registering a reproduction ``func(ctx) -> Table | list[Table]``."""

    def deco(func):
        if name in _EXPERIMENTS and _EXPERIMENTS[name].func.__qualname__ != func.__qualname__:
            raise ValueError(f"experiment {name!r} is already registered.")
        _EXPERIMENTS[name] = Experiment(name=name, title=title, func=func, order=order)
        return func

    return deco


def _discover():
    pkg = importlib.import_module("mlextract.experiments")
    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"mlextract.experiments.{mod.name}")


def experiments() -> list[Experiment]:
    """Every registered reproduction, in report order."""
    _discover()
    return sorted(_EXPERIMENTS.values(), key=lambda e: (e.order, e.name))


def default_data_dir() -> Path | None:
    """``$MLEXTRACT_DATA_DIR``, else ``../shared/data`` beside the working folder."""
    env = os.environ.get("MLEXTRACT_DATA_DIR")
    if env:
        return Path(env)
    for cand in (Path.cwd() / ".." / "shared" / "data", Path.cwd() / "shared" / "data"):
        if cand.is_dir():
            return cand.resolve()
    return None
