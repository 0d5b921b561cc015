"""``mlextract serve`` and ``mlextract keys``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_command", "build_oracle", "resolve_defense", "resolve_detector"]


def _parse_spec(spec: str):
    """``name:k=v,k=v`` → (name, {k: v}) with numbers parsed."""
    import ast

    name, _, rest = spec.partition(":")
    params = {}
    for item in filter(None, rest.split(",")):
        if "=" not in item:
            raise ValueError(f"{spec!r}: parameters are k=v pairs separated by commas.")
        k, v = item.split("=", 1)
        try:
            params[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            params[k] = v
    return name, params


def _registry(attr):
    from .. import defenses

    return getattr(defenses, attr, {})


def resolve_defense(spec: str):
    """A function ``oracle -> wrapped oracle`` for ``--defense name:k=v``."""
    from ..oracles import LabelOnly, Rounded, TopK

    builtins = {"rounded": Rounded, "top_k": TopK, "label_only": LabelOnly}
    name, params = _parse_spec(spec)
    table = {**builtins, **_registry("DEFENSES")}
    if name not in table:
        raise ValueError(f"unknown defense {name!r}; available: {sorted(table)}.")
    cls = table[name]
    return lambda oracle: cls(oracle, **params)


def resolve_detector(spec: str):
    """A factory of fresh detectors for ``--detector name:k=v``."""
    name, params = _parse_spec(spec)
    table = _registry("DETECTORS")
    if name not in table:
        raise ValueError(f"unknown detector {name!r}; available: {sorted(table) or 'none'}.")
    cls = table[name]
    return lambda: cls(**params)


def build_oracle(model, *, output=None, decimals=None, top_k=None, domain=None, defenses=()):
    from ..oracles import LocalOracle

    oracle = LocalOracle(model, output=output, decimals=decimals, top_k=top_k, domain=domain)
    for spec in defenses:
        oracle = resolve_defense(spec)(oracle)
    return oracle


def cmd_serve(args) -> int:
    from ..cli import load_domain, load_model
    from ._app import create_app
    from ._keys import KeyStore
    from ._run import serve
    from ._store import QueryStore

    model = load_model(args.model, trust_types=args.trust_type, trust_pickle=args.trust_pickle)
    domain = load_domain(args.domain, dataset=args.dataset, data_dir=args.data_dir)
    oracle = build_oracle(model, output=args.output, decimals=args.decimals, top_k=args.top_k,
                          domain=domain, defenses=args.defense or ())
    keys = KeyStore.load(args.keys) if args.keys else None
    monitor = resolve_detector(args.detector) if args.detector else None
    app = create_app(oracle, keys=keys, store=QueryStore(args.db), monitor=monitor,
                     monitor_action=args.monitor_action, max_rows=args.max_rows,
                     name=Path(args.model).stem)
    print(f"serving {args.model} on http://{args.host}:{args.port} "
          f"(output={oracle.output}, keys={'on' if keys else 'off'}, log={args.db})")
    serve(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_keys(args) -> int:
    from ._keys import KeyStore

    path = Path(args.keys)
    store = KeyStore.load(path) if path.exists() else KeyStore()
    key = store.add(args.name, budget=args.budget, rate=args.rate)
    store.save(path)
    print(f"key for {args.name} (shown once; only its hash is stored in {path}):\n{key}")
    return 0


def add_command(sub) -> None:
    p = sub.add_parser("serve", help="serve a model behind a prediction API")
    p.add_argument("model", help="the model, saved with skops (.skops)")
    p.add_argument("--output", choices=["label", "proba", "logit", "value"], default=None)
    p.add_argument("--decimals", type=int, default=None)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--defense", action="append", metavar="NAME[:k=v,...]",
                   help="answer perturbation, e.g. rounded:decimals=2 (repeatable)")
    p.add_argument("--detector", metavar="NAME[:k=v,...]", help="per-key monitor")
    p.add_argument("--monitor-action", choices=["flag", "throttle", "degrade"], default="flag")
    p.add_argument("--keys", help="keys.toml (see `mlextract keys`); omit for open access")
    p.add_argument("--db", default="mlextract-serve.sqlite", help="SQLite query log")
    p.add_argument("--domain", help="JSON file with the published domain")
    p.add_argument("--dataset", help="publish the domain of a named data set")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--max-rows", type=int, default=10_000, help="largest batch accepted")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.add_argument("--trust-type", action="append", default=[])
    p.add_argument("--trust-pickle", action="store_true")
    p.set_defaults(func=cmd_serve)

    k = sub.add_parser("keys", help="create an API key for `mlextract serve`")
    k.add_argument("name", help="the client's name")
    k.add_argument("--keys", required=True, help="keys.toml to add the key to")
    k.add_argument("--budget", type=int, default=None, help="lifetime cap on rows")
    k.add_argument("--rate", type=float, default=None, help="requests per second")
    k.set_defaults(func=cmd_keys)
