"""The ``mlextract`` command.

Sub-commands: ``datasets`` (list the data sets), ``attack`` (extract a model saved
with skops), ``reproduce`` (the papers' tables). Later modules add theirs (``bounds``,
``serve``) through :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path

__all__ = ["main", "COMMANDS", "load_model", "save_model"]


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _threads_to_cores():
    # BLAS threads beyond the cores only slow small linear algebra down.
    n = str(usable_cores())
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, n)


# ------------------------------------------------------------------ model files
def load_domain(path=None, *, dataset=None, data_dir=None):
    """The published domain: a JSON file (``Domain.to_dict`` form), else a named data
    set's domain, else None."""
    from .oracles import Domain

    if path:
        return Domain.from_dict(json.loads(Path(path).read_text()))
    if dataset:
        from . import datasets

        return datasets.load(dataset, data_dir=data_dir).domain
    return None


def load_model(path, *, trust_types=(), trust_pickle=False):
    """Load a model saved with skops; refuse pickles unless ``trust_pickle``.

    skops files are checked for types outside skops' safe list; such a file is
    refused with the list of types, unless each is named in ``trust_types``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}.")
    if path.suffix in (".pkl", ".pickle", ".joblib"):
        if not trust_pickle:
            raise ValueError(
                f"{path} is a pickle, which can run arbitrary code when loaded. Save the "
                "model with skops (skops.io.dump) or pass --trust-pickle if you trust "
                "the file's author."
            )
        import joblib

        return joblib.load(path)
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    missing = sorted(set(untrusted) - set(trust_types))
    if missing:
        raise ValueError(
            f"{path} holds types outside skops' safe list: {missing}. Inspect them and "
            "pass --trust-type NAME for each one you trust."
        )
    return sio.load(path, trusted=list(untrusted))


def save_model(model, path) -> Path:
    """Save a model with skops (the safe format)."""
    import skops.io as sio

    path = Path(path)
    sio.dump(model, path)
    return path


# ------------------------------------------------------------------ commands
def _parse_settings(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set takes KEY=VALUE; got {item!r}.")
        key, val = item.split("=", 1)
        try:
            out[key] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
            out[key] = val
    return out


def cmd_datasets(args) -> int:
    from . import datasets

    for name in datasets.available():
        print(f"{name:16s} {datasets.describe(name)}")
    return 0


def cmd_attack(args) -> int:
    from . import attacks
    from .oracles import LocalOracle

    victim = load_model(args.model, trust_types=args.trust_type, trust_pickle=args.trust_pickle)
    domain = load_domain(args.domain, dataset=args.dataset, data_dir=args.data_dir)
    oracle = LocalOracle(
        victim,
        output=args.output,
        decimals=args.decimals,
        top_k=args.top_k,
        domain=domain,
        journal=args.journal,
    )
    settings = _parse_settings(args.set)
    if args.seed is not None:
        settings.setdefault("random_state", args.seed)
    result = attacks.extract(oracle, method=args.method, budget=args.budget, **settings)
    print(result)
    if result.model is not None and args.out:
        save_model(result.model, args.out)
        print(f"copy saved to {args.out}")
    return 0 if result.status in ("success", "approximate") else 1


def cmd_reproduce(args) -> int:
    from .experiments import reproduce
    from .experiments._registry import default_data_dir

    failed = reproduce(
        quick=args.quick,
        only=args.only,
        data_dir=args.data_dir or default_data_dir(),
        out_dir=args.out,
        n_jobs=args.jobs,
        backend=args.backend,
        random_state=args.seed,
        progress=not args.no_progress,
    )
    return 1 if failed else 0


def _add_attack(sub):
    p = sub.add_parser("attack", help="extract a model saved with skops")
    p.add_argument("model", help="the victim, saved with skops (.skops)")
    p.add_argument("--method", required=True, help="attack name (see `mlextract attacks`)")
    p.add_argument("--output", choices=["label", "proba", "logit", "value"], default=None)
    p.add_argument("--decimals", type=int, default=None, help="round answers")
    p.add_argument("--top-k", type=int, default=None, help="answer only the top k scores")
    p.add_argument("--budget", type=int, default=None, help="queries this run may ask")
    p.add_argument("--domain", help="a JSON file with the input domain (Domain.to_dict)")
    p.add_argument("--dataset", help="take the domain from a named data set")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--journal", default=None, help="SQLite journal to resume from")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="attack setting")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="where to save the copy (.skops)")
    p.add_argument("--trust-type", action="append", default=[], help="trust a skops type")
    p.add_argument("--trust-pickle", action="store_true", help="allow a pickle file")
    p.set_defaults(func=cmd_attack)


def _add_reproduce(sub):
    p = sub.add_parser("reproduce", help="reproduce the papers' tables")
    p.add_argument("--quick", action="store_true", help="small sizes: a few minutes")
    p.add_argument("--only", nargs="*", help="run only these experiments")
    p.add_argument("--data-dir", default=None, help="folder with Steak, GSS, ...")
    p.add_argument("--out", default="reproduce-output", help="folder for tables and plots")
    p.add_argument("--jobs", type=int, default=1, help="parallel workers (joblib)")
    p.add_argument("--backend", default=None, help="joblib backend: loky, ray, dask")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_reproduce)


def _add_datasets(sub):
    p = sub.add_parser("datasets", help="list the data sets")
    p.set_defaults(func=cmd_datasets)


def _add_attacks(sub):
    def run(args):
        from . import attacks

        for name in attacks.available():
            cls = attacks.get(name)
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            print(f"{name:28s} {doc}")
        return 0

    p = sub.add_parser("attacks", help="list the registered attacks")
    p.set_defaults(func=run)


#: (name, adder) pairs; a module adds its sub-command by appending here.
COMMANDS = [
    ("datasets", _add_datasets),
    ("attacks", _add_attacks),
    ("attack", _add_attack),
    ("reproduce", _add_reproduce),
]


def _optional_commands():
    # Modules that bring their own sub-command expose `add_command(subparsers)`.
    import importlib

    for mod in ("mlextract.theory._cli", "mlextract.server._cli"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name and mod.startswith(exc.name):
                continue
            raise
        yield m.add_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlextract",
        description="Model extraction: steal a copy of a model through its prediction API.",
    )
    parser.add_argument("--version", action="version", version="mlextract 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _, add in COMMANDS:
        add(sub)
    for add in _optional_commands():
        add(sub)
    return parser


def main(argv=None) -> int:
    _threads_to_cores()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"mlextract {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
