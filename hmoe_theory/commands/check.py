"""``hmoe check``: run the claims ledger, the user's own claims, or both."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import HmoeError

EPILOG = """\
claims sources: the built-in ledger; --claims PATH (a .py file or a directory of them, repeatable);
installed packages publishing the entry point group 'hmoe.claims'. Without --claims all built-in and
installed claims run; with --claims only those files run unless --builtin / --plugins are added.

SECURITY: a claims file or an installed claims package is Python code and loading it RUNS it (as
pytest runs a test file): only load claims you trust. The toolkit itself never evaluates text; the
expressions a claim passes to the toolkit are read by its safe expression parser.

exit status: 0 every claim has its expected verdict, 1 some claim does not, 2 bad input or a claims
file that cannot be loaded (one line 'hmoe: error: ...').
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check",
        help="run the claims ledger and/or your own claims files (one line per claim)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--claims",
        action="append",
        default=[],
        metavar="PATH",
        help="load claims from a .py file or a directory of .py files (repeatable; RUNS that code)",
    )
    p.add_argument(
        "--builtin",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="include the built-in ledger (default: yes, unless --claims is given)",
    )
    p.add_argument(
        "--plugins",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="include claims of installed packages, entry point group hmoe.claims (default: yes, unless --claims)",
    )
    p.add_argument("--only", metavar="PATTERN", help="claims whose id matches this glob or contains it")
    p.add_argument(
        "--json", action="store_true", help="print machine-readable results (or, with --list, the claims) instead of lines"
    )
    p.add_argument(
        "--markdown", nargs="?", const="CLAIMS.md", metavar="PATH", help="also write the ledger (default CLAIMS.md)"
    )
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one test case per claim) for CI dashboards")
    p.add_argument("--html", metavar="DIR", help="also write a static HTML report with the dependency graph")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default 2)")
    p.add_argument("--list", action="store_true", help="list claim ids and titles without running them")
    p.set_defaults(func=run)


def _write(path: str, text: str, what: str) -> None:
    try:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise HmoeError(f"cannot write the {what} to {path}: {exc.strerror or exc}") from None


def reason_line(result) -> str:
    """Why a claim failed, on one indented line: its verdict's summary (first line)."""
    summary = (result.summary.strip().splitlines() or ["(no summary)"])[0]
    return f"      {result.claim.id}: {summary}"


def run(args: argparse.Namespace) -> int:
    from proofs_check.graph import check_dependencies
    from proofs_check.loading import Sources, load
    from proofs_check.registry import all_claims, is_builtin, isolated, select
    from proofs_check.runner import dependency_line, format_line, run_claims, to_json, to_markdown, totals_line

    if args.jobs < 1:
        raise HmoeError(f"--jobs must be at least 1, got {args.jobs}")
    builtin = not args.claims if args.builtin is None else args.builtin
    plugins = not args.claims if args.plugins is None else args.plugins
    sources = Sources(paths=tuple(args.claims), entry_points=plugins)
    with isolated():
        load(sources)
        known = all_claims()
        check_dependencies(known)
        chosen = [c for c in known if builtin or not is_builtin(c)]
        if not chosen:
            raise HmoeError("no claims to run (the built-in ledger is excluded and no other claims were loaded)")
        claims = select(args.only, chosen)
        if args.list:
            if args.json:
                print(json.dumps({"claims": [c.record() for c in claims]}, indent=2))
            else:
                for c in claims:
                    print(f"{c.id:<60} expected {c.expected.value:<10} {c.title}")
            return 0

        def show(result) -> None:
            print(format_line(result), flush=True)
            if not result.passed and not result.error:  # a broken check's reason is on its FAIL line already
                print(reason_line(result), flush=True)

        results = run_claims(claims, jobs=args.jobs, on_result=None if args.json else show, sources=sources)
    if not args.json:
        for r in results:
            line = dependency_line(r)
            if line:
                print(line)
    if args.markdown:
        _write(args.markdown, to_markdown(results), "ledger")
        if not args.json:
            print(f"ledger written to {args.markdown}", file=sys.stderr)
    if args.junit:
        from proofs_check.junit import to_junit

        _write(args.junit, to_junit(results), "JUnit XML")
    if args.html:
        from proofs_check.report_html import write_html

        try:
            index = write_html(results, args.html)
        except OSError as exc:
            raise HmoeError(f"cannot write the HTML report to {args.html}: {exc.strerror or exc}") from None
        if not args.json:
            print(f"HTML report written to {index}", file=sys.stderr)
    print(to_json(results) if args.json else totals_line(results))
    return 0 if all(r.passed for r in results) else 1
