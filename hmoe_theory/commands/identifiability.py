"""``hmoe identifiability``: derivative-family independence presets, the catalogue table, Fisher information."""

from __future__ import annotations

import argparse
import json

from hmoe_theory.jsonout import strict_dumps


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "identifiability",
        help="strong identifiability of gate x expert pairs, the catalogue table, Fisher information rank",
        description=(
            "--table: relations at orders 1, 2 and strong identifiability over the catalogue; --gate/--expert with "
            "--preset: one derivative family (index set printed); --fisher: Fisher information of a k-component "
            "Gaussian mixture and its rank."
        ),
    )
    p.add_argument("--table", action="store_true", help="table over catalogue gate x expert pairs")
    p.add_argument("--gate", help="catalogue gate (restricts the table when given with --table)")
    p.add_argument("--expert", help="catalogue expert (restricts the table when given with --table)")
    p.add_argument(
        "--preset",
        default="strong",
        help="strong | strong-expert | independence (reconstructed index sets) | definition-1 (arXiv 2505.10860 v1, "
        "Definition 1, with its density-level variant; over the catalogue experts and the attention positions, or "
        "one --expert) (default strong)",
    )
    p.add_argument("--order", type=int, default=2, help="derivative order r of the preset (default 2)")
    p.add_argument(
        "--k", type=int, default=2, help="number of distinct parameter points / mixture components (default 2)"
    )
    p.add_argument("--d", type=int, default=1, help="input dimension (default 1)")
    p.add_argument("--mode", choices=("regression", "density"), default="regression", help="default regression")
    p.add_argument("--certify", action="store_true", help="certify each relation exactly (slower)")
    p.add_argument("--fisher", action="store_true", help="Fisher information of the density-mode mixture")
    p.add_argument("--method", choices=("quadrature", "monte-carlo"), default="quadrature", help="Fisher integration")
    p.add_argument("--at", metavar="NAME=VALUE,...", help="mixture parameter point for --fisher (default generic)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    p.add_argument(
        "--no-attention", action="store_true", help="definition-1: leave out the attention positions (N = 2, d = 1)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hmoe_theory.errors import ModelError
    from hmoe_theory.families import Mixture, get_expert, get_gate
    from hmoe_theory.interactions.fisher import fisher_information
    from hmoe_theory.interactions.identifiability import check_family, identifiability_table, preset

    if args.at is not None and not args.fisher:
        raise ModelError("--at sets the mixture point of --fisher; the presets and --table use generic points (--seed)")
    if args.preset == "definition-1" and not args.fisher and not args.table:
        result = _definition_one(args)
    elif args.table:
        result = identifiability_table(
            gates=[get_gate(args.gate).name] if args.gate else None,
            experts=[get_expert(args.expert).name] if args.expert else None,
            d=args.d,
            mode=args.mode,
            strong_order=args.order,
            k=args.k,
            seed=args.seed,
        )
    elif args.gate and args.expert:
        if args.fisher:
            mixture = Mixture.from_names(args.gate, args.expert, args.k, args.d, "density")
            result = fisher_information(mixture, args.at, args.method, seed=args.seed)
        else:
            family = preset(args.preset, args.order, args.k)
            result = check_family(
                (args.gate, args.expert), family, args.d, args.mode, seed=args.seed, certify=args.certify
            )
    else:
        raise ModelError("give --table, or --gate and --expert (with --preset or --fisher)")
    print(strict_dumps(json.loads(result.to_json()), indent=2) if args.json else result.table())
    return 0


ATTENTION_POSITIONS = ("plain", "G1", "G2", "G3", "G4")


def _definition_one(args: argparse.Namespace):
    """Definition 1 of arXiv 2505.10860 v1 for one expert, or over the catalogue experts and the attention
    positions (entry (1, 1), hmoe free atoms, N = 2 tokens, d = 1, H = 1, as the expert h(x~; eta); expert level
    only, the density-level families of attention are large)."""
    from hmoe_theory.attention.families import attention_entry_function
    from hmoe_theory.errors import ModelError
    from hmoe_theory.families import get_expert
    from hmoe_theory.interactions.definition_one import check_definition_one, definition_one_table

    if args.gate:
        raise ModelError("definition-1 is about experts: give --expert (or nothing for the catalogue), not --gate")
    if args.expert:
        return check_definition_one(get_expert(args.expert).name, args.d, args.k, seed=args.seed)
    table = definition_one_table(d=args.d, k=args.k, seed=args.seed)
    if args.no_attention:
        return table
    attention = definition_one_table(
        [attention_entry_function(p, 2, 1, 1) for p in ATTENTION_POSITIONS], k=args.k, seed=args.seed, density=False
    )
    table.results += attention.results
    table.failures.update(attention.failures)
    table.seconds += attention.seconds
    return table
