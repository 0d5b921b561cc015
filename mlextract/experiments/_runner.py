"""Run the registered reproductions, print and write their tables."""

from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from pathlib import Path

from ._registry import Context, DataAbsent, Table, experiments

__all__ = ["reproduce"]

SKIPPED = "skipped: data absent (use --data-dir)"


def _as_tables(out) -> list[Table]:
    if isinstance(out, Table):
        return [out]
    if isinstance(out, (list, tuple)) and all(isinstance(t, Table) for t in out):
        return list(out)
    raise TypeError(f"an experiment must return a Table or a list of Tables; got {out!r}.")


#: Environment switch: ``MLEXTRACT_SMOKE=1`` runs every experiment at its smoke size.
SMOKE_ENV = "MLEXTRACT_SMOKE"


def smoke_requested() -> bool:
    """True when ``$MLEXTRACT_SMOKE`` asks for the smoke size ("1", "true", "yes")."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() in ("1", "true", "yes")


def machine_line() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def reproduce(
    *,
    quick: bool = True,
    only=None,
    data_dir=None,
    out_dir="reproduce-output",
    n_jobs: int = 1,
    backend=None,
    random_state: int = 0,
    progress: bool = True,
    stream=None,
    smoke: bool | None = None,
) -> int:
    """Run every registered reproduction; return the number that failed.

    A reproduction whose data is absent prints "skipped: data absent (use
    --data-dir)"; under ``CI=true`` an absent data folder is a failure instead.

    ``smoke`` (default: the environment variable ``MLEXTRACT_SMOKE`` set to ``1``)
    sets ``ctx.smoke``, which experiments read to shrink below their quick size;
    the smoke test runs ``mlextract reproduce --quick`` so, within 60 s.
    """
    stream = stream or sys.stdout
    if smoke is None:
        smoke = smoke_requested()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(
        quick=quick,
        data_dir=Path(data_dir) if data_dir else None,
        out_dir=out_dir,
        random_state=random_state,
        n_jobs=n_jobs,
        backend=backend,
        progress=progress,
        smoke=bool(smoke),
    )
    exps = experiments()
    if only:
        names = {e.name for e in exps}
        unknown = sorted(set(only) - names)
        if unknown:
            raise ValueError(f"unknown experiments {unknown}; available: {sorted(names)}.")
        exps = [e for e in exps if e.name in set(only)]
    ci = os.environ.get("CI", "").lower() == "true"
    failures = 0
    index = [
        "# mlextract reproduce",
        "",
        f"Mode: {'quick' if quick else 'full'}{' (smoke)' if smoke else ''}. "
        f"Machine: {machine_line()}.",
        "",
    ]
    t_all = time.perf_counter()
    for exp in exps:
        t0 = time.perf_counter()
        print(f"\n## {exp.title}", file=stream, flush=True)
        try:
            tables = _as_tables(exp.func(ctx))
        except DataAbsent as exc:
            if ci:
                failures += 1
                print(f"FAILED (CI=true and data absent): {exc}", file=stream)
            else:
                print(f"{SKIPPED} — {exc}", file=stream)
            index.append(f"- {exp.title}: {SKIPPED}")
            continue
        except Exception:
            failures += 1
            print(f"FAILED: {exp.name}\n{traceback.format_exc()}", file=stream)
            index.append(f"- {exp.title}: FAILED")
            continue
        dt = time.perf_counter() - t0
        for k, tab in enumerate(tables):
            print(tab.to_text(), file=stream, flush=True)
            stem = tab.name or (exp.name if len(tables) == 1 else f"{exp.name}_{k + 1}")
            (out_dir / f"{stem}.md").write_text(tab.to_markdown())
            index.append(f"- [{tab.title}]({stem}.md)")
        print(f"({exp.name}: {dt:.1f} s)", file=stream)
    total = time.perf_counter() - t_all
    index += ["", f"Total time: {total:.1f} s."]
    (out_dir / "README.md").write_text("\n".join(index) + "\n")
    print(f"\nTables written to {out_dir}/ in {total:.1f} s; {failures} failed.", file=stream)
    return failures
