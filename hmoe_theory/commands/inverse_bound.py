"""``hmoe inverse-bound``: the rate order phi(eps) ~ eps^s of a setting from the inverse bound, with certificates."""

from __future__ import annotations

import argparse

from hmoe_theory.errors import ModelError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "inverse-bound",
        help="rate order from the inverse bound: phi(eps) = min ||f_G - f_G*|| over D1(G, G*) = eps",
        description=(
            "phi(eps) = min { ||f_G - f_G*||_L2(mu) : G with k atoms, D1(G, G*) ~ eps } on a half-decade grid; "
            "phi ~ eps^s gives the D1 rate n^-1/(2s). Exact degeneracy scan (sympy), seeded continuation search, "
            "ball-arithmetic certificates (d = 1). Give one of --setting, --spec, --gaussian, --attention."
        ),
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--setting", help="named question: gaussian-location/m2, gaussian-location-scale/m2|m3, "
                                          "d1/<gate>/<expert>/<exact|over>, or an hmoe rates catalogue name")
    source.add_argument("--spec", metavar="FILE.toml", help="a setting in the hmoe rates --spec schema (k, [[truth]])")
    source.add_argument("--gaussian", choices=("location", "location-scale"),
                        help="N(0, 1) fitted by a Gaussian mixture with --atoms atoms")
    source.add_argument("--attention", metavar="POSITION",
                        help="entry (1,1) of attention with a gate at POSITION (plain, G1, G2, ...): atoms = heads")
    source.add_argument("--list", action="store_true", help="list the named questions")
    p.add_argument("--atoms", type=int, default=2, help="fitted atoms of --gaussian (default 2)")
    p.add_argument("--tokens", type=int, default=2, help="attention: tokens N (default 2)")
    p.add_argument("--dim", type=int, default=1,
                   help="attention: token dimension d (default 1; key width d, value width 1: one output weight per head)")
    p.add_argument("--heads", type=int, default=2, help="attention: fitted heads H (default 2)")
    p.add_argument("--true-heads", type=int, default=1, help="attention: true heads H* (default 1)")
    p.add_argument("--param", choices=("tied", "tied-scores", "hmoe"), default="hmoe",
                   help="attention parametrisation: the tied layer weights, the tied layer through its scores "
                   "W_Q W_K^T / sqrt(d_k) (no query-key redundancy), or the free-atom HMoE (default hmoe)")
    p.add_argument("--temperature", nargs="?", const="free", choices=("free", "held"),
                   help="attention: scores divided by one temperature tau shared by the heads, tau* = 2; free (the "
                   "default of the flag): tau is a coordinate, D1 + |tau - tau*|; held: tau = tau* (absorbed into the "
                   "scores)")
    p.add_argument("--activation", metavar="PHI",
                   help="attention: active-attention values phi(V . x_j), PHI in relu, gelu, silu, tanh, sigmoid "
                   "(plain position only)")
    p.add_argument("--model", choices=("regression", "density"), default="regression",
                   help="least-squares regression function or Gaussian conditional density (default regression)")
    p.add_argument("--loss", choices=("atomwise", "merged"), default="atomwise", help="D1 convention (default atomwise)")
    p.add_argument("--eps", metavar="E1,E2,...", help="eps grid (default 10^-1 .. 10^-4 in half decades)")
    p.add_argument("--no-certificates", action="store_true", help="skip the ball-arithmetic enclosures")
    p.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _grid(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ModelError(f"--eps: expected numbers separated by commas, got {text!r}") from None
    if len(values) < 2 or any(not 0 < v < 1 for v in values):
        raise ModelError(f"--eps: give at least two numbers in (0, 1), got {text!r}")
    return values


def run(args: argparse.Namespace) -> int:
    from hmoe_theory.rate_orders import DEFAULT_GRID, question, question_names, rate_order

    if args.list:
        print("\n".join(question_names()))
        return 0
    model, k, name = question(setting=args.setting, spec=args.spec, gaussian=args.gaussian, atoms=args.atoms,
                              model=args.model, attention=args.attention, tokens=args.tokens, heads=args.heads,
                              true_heads=args.true_heads, param=args.param,
                              temperature=args.temperature, dim=args.dim, activation=args.activation)
    result = rate_order(model, k, args.loss, _grid(args.eps) or DEFAULT_GRID, seed=args.seed,
                        certify=not args.no_certificates, name=name)
    print(result.to_json() if args.json else result.text())
    return 0
