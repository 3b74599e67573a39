"""``hmoe interactions``: discover every linear relation (PDE) among the parameter derivatives of F."""

from __future__ import annotations

import argparse
import json

from hmoe_theory.jsonout import strict_dumps


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "interactions",
        help="discover and certify the parameter interactions (PDEs) of a gate x expert or user function",
        description=(
            "Find every linear relation sum_kappa c_kappa d^kappa F = 0 among the partial derivatives of F "
            "(orders 0..r) at a parameter point: 50-digit null space, canonical RREF basis over Q, exact certification."
        ),
    )
    source = p.add_argument_group("family (catalogue names, or a user function)")
    source.add_argument("--gate", help="catalogue gate, e.g. quadratic-polynomial")
    source.add_argument("--expert", help="catalogue expert, e.g. linear")
    source.add_argument("--d", type=int, default=1, help="input dimension for catalogue families (default 1)")
    source.add_argument("--mode", choices=("regression", "density"), default="regression", help="default regression")
    source.add_argument("--function", help='user function, e.g. "exp(beta*x)*(a*x+b)" (safe parser)')
    source.add_argument("--inputs", help="input names of --function, e.g. x or x,y")
    source.add_argument("--params", help="parameter names of --function, e.g. beta,a,b")
    attention = p.add_argument_group("attention entry (i, c) = (1, 1) as the family (instead of --gate/--function)")
    attention.add_argument(
        "--attention", metavar="POSITION", help="plain, G1, G1-headwise, G2, G3, G4 or G5 (gate position)"
    )
    attention.add_argument("--tokens", type=int, default=2, help="number of tokens N (default 2)")
    attention.add_argument("--dim", type=int, default=1, help="token dimension d = d_k = d_v (default 1)")
    attention.add_argument("--heads", type=int, default=1, help="number of heads H (default 1)")
    attention.add_argument(
        "--param", choices=("hmoe", "attention"), default="hmoe", help="free HMoE atoms or W_Q/W_K/W_V/W_O (default hmoe)"
    )
    attention.add_argument("--temperature", action="store_true", help="free temperature tau instead of sqrt(d_k)")
    p.add_argument("--order", type=int, default=2, help="highest derivative order r, 1..4 (default 2)")
    p.add_argument(
        "--at", metavar="NAME=VALUE,...", help="parameter point (rationals; default: generic random, printed)"
    )
    p.add_argument("--without-function", action="store_true", help="leave F itself (order 0) out of the family")
    p.add_argument("--digits", type=int, default=50, help="working precision, >= 50 (default 50)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random point and inputs (default 0)")
    p.add_argument("--no-certify", action="store_true", help="skip the exact sympy certification (numeric only)")
    p.add_argument(
        "--proof-budget", type=float,
        help="total seconds of exact proofs; later relations stay supported (numeric evidence only)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def family_from_args(args: argparse.Namespace) -> object:
    """(gate, expert) pair or user ParametricFunction from the parsed arguments."""
    from hmoe_theory.errors import ModelError
    from hmoe_theory.interactions import function_from_text

    if args.attention is not None:
        from hmoe_theory.attention.families import attention_entry_function

        if args.gate or args.expert or args.function:
            raise ModelError("give one family: --attention, --gate/--expert or --function")
        if args.mode != "regression":
            raise ModelError("--mode density applies to catalogue families, not --attention")
        return attention_entry_function(
            args.attention, args.tokens, args.dim, args.heads, param=args.param, temperature=args.temperature
        )
    if args.function is not None:
        if args.gate or args.expert:
            raise ModelError("give either --gate/--expert or --function, not both")
        if not args.inputs or not args.params:
            raise ModelError("--function needs --inputs and --params (comma-separated names)")
        if args.mode != "regression":
            raise ModelError(
                "--mode density applies to catalogue families; write normal_pdf(y, mean, nu) in --function"
            )
        return function_from_text(args.function, args.inputs, args.params)
    if not (args.gate and args.expert):
        raise ModelError(
            "give --gate and --expert (catalogue names), --function with --inputs and --params, or --attention POSITION"
        )
    return (args.gate, args.expert)


def run(args: argparse.Namespace) -> int:
    from hmoe_theory.expr import parse_assignments
    from hmoe_theory.interactions import discover_relations

    family = family_from_args(args)
    result = discover_relations(
        family,
        order=args.order,
        point=args.at,
        mode=args.mode if args.function is None and args.attention is None else "regression",
        d=args.d,
        min_order=1 if args.without_function else 0,
        digits=args.digits,
        seed=args.seed,
        certify=not args.no_certify,
        time_limit_s=min(args.time_limit, 3.0),  # per sympy strategy; the command stops at --time-limit (cli)
        proof_budget_s=args.proof_budget,
    )
    if args.json:
        print(strict_dumps(json.loads(result.to_json()), indent=2))
        return 0
    given = set() if args.at is None else set(parse_assignments(args.at))
    drawn = [name for name in result.point if name not in given]
    if drawn:
        print(
            f"(generic random values for {', '.join(drawn)}; reproduce with --at "
            + ",".join(f"{k}={v}" for k, v in result.point.items())
            + ")"
        )
    print(result.table())
    return 0
