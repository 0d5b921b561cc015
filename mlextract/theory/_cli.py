"""``mlextract bounds``: the query-complexity bounds for a setting, side by side."""

from __future__ import annotations

__all__ = ["add_command"]


def _run(args) -> int:
    from ._compare import compare_bounds, plot_bounds

    table = compare_bounds(
        args.family, args.d, args.eps, args.delta, classes=args.classes, hidden=args.hidden,
        leaves=args.leaves, nu=args.nu, eta=args.eta, tau_ratio=args.tau_ratio,
    )
    print(table.to_text(), end="")
    if args.plot:
        kwargs = {"hidden": args.hidden, "leaves": args.leaves, "nu": args.nu,
                  "eta": args.eta, "tau_ratio": args.tau_ratio}
        fig = plot_bounds(args.family, args.d, args.eps, args.delta, classes=args.classes,
                          **kwargs)
        fig.savefig(args.plot, dpi=110, bbox_inches="tight")
        print(f"plot saved to {args.plot}")
    return 0


def add_command(subparsers) -> None:
    """Add the ``bounds`` sub-command to the ``mlextract`` parser."""
    from ._compare import FAMILIES

    p = subparsers.add_parser(
        "bounds", help="query-complexity bounds (passive, active, query synthesis) side by side"
    )
    p.add_argument("--family", choices=FAMILIES, default="logistic")
    p.add_argument("--d", type=int, required=True, help="input dimension")
    p.add_argument("--classes", type=int, default=2)
    p.add_argument("--eps", type=float, default=1e-2, help="target disagreement ε")
    p.add_argument("--delta", type=float, default=0.01, help="failure probability δ")
    p.add_argument("--hidden", type=int, default=20, help="hidden units (family mlp)")
    p.add_argument("--leaves", type=int, default=None, help="leaves (family tree)")
    p.add_argument("--nu", type=float, default=0.0, help="best error in class (agnostic)")
    p.add_argument("--eta", type=float, default=0.0, help="label-flip probability (noise)")
    p.add_argument("--tau-ratio", type=float, default=1e-3, help="Lowd–Meek τ/L")
    p.add_argument("--plot", default=None, help="save a plot against ε and d (PNG)")
    p.set_defaults(func=_run)
