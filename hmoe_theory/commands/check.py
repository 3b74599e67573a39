"""``hmoe check``: run the claims ledger."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("check", help="run the claims ledger (one line per claim)")
    p.add_argument("--only", metavar="PATTERN", help="claims whose id matches this glob or contains it")
    p.add_argument("--json", action="store_true", help="print machine-readable results instead of lines")
    p.add_argument(
        "--markdown", nargs="?", const="CLAIMS.md", metavar="PATH", help="also write the ledger (default CLAIMS.md)"
    )
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default 2)")
    p.add_argument("--list", action="store_true", help="list claim ids and titles without running them")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from proofs_check.registry import select
    from proofs_check.runner import format_line, run_claims, to_json, to_markdown, totals_line

    claims = select(args.only)
    if args.list:
        for c in claims:
            print(f"{c.id:<60} expected {c.expected.value:<10} {c.title}")
        return 0
    printer = None if args.json else (lambda r: print(format_line(r), flush=True))
    results = run_claims(claims, jobs=max(1, args.jobs), on_result=printer)
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(results))
        if not args.json:
            print(f"ledger written to {args.markdown}", file=sys.stderr)
    print(to_json(results) if args.json else totals_line(results))
    return 0 if all(r.passed for r in results) else 1
