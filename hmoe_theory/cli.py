"""The ``hmoe`` command. Sub-commands live in :mod:`hmoe_theory.commands` (one module each, exposing
``register(subparsers)`` which adds a parser whose ``func(args) -> int`` runs it).

Errors meant for the user (:class:`~hmoe_theory.errors.HmoeError`, and argument errors) print one line
``hmoe: error: <message>`` and exit with status 2.

Time limits: the symbolic commands (:data:`TIME_LIMITED`) take ``--time-limit SECONDS`` (default
:data:`~hmoe_theory.timelimit.DEFAULT_TIME_LIMIT_S`) and run in a child process with a hard deadline
(:func:`~hmoe_theory.timelimit.run_captured`): past the limit they stop, within ``GRACE_S``, with one
line naming the limit. Size flags shared by several commands (:data:`FLAG_BOUNDS`) are checked against
:mod:`hmoe_theory.bounds` before any command runs.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__, bounds, commands
from .errors import HmoeError, TimeLimitExceeded
from .timelimit import DEFAULT_TIME_LIMIT_S, parse_time_limit, run_captured

TIME_LIMITED = ("interactions", "identifiability", "curvature", "inverse-bound")
# argparse dest -> (bound name, smallest accepted value or None)
FLAG_BOUNDS: dict[str, tuple[str, int | None]] = {
    "digits": ("digits", 0),
    "d": ("d", 1),
    "k": ("k", 1),
    "seed": ("seed", 0),
    "jobs": ("jobs", None),  # check treats jobs < 1 as 1
    "workers": ("jobs", None),
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``hmoe: error: ...``, exit 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        hint = f" (see hmoe {command} --help)" if command else " (see hmoe --help)"
        print(f"hmoe: error: {message}{hint}", file=sys.stderr)
        raise SystemExit(2)


def _add_time_limit(parser: argparse.ArgumentParser) -> None:
    help_text = (
        f"wall-clock limit of the command in seconds (default {DEFAULT_TIME_LIMIT_S:g}); "
        "past it the command stops with one line"
    )
    parser.add_argument("--time-limit", type=parse_time_limit, default=DEFAULT_TIME_LIMIT_S, metavar="SECONDS",
                        help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hmoe", description="Machine-checked theory of attention as a hierarchical mixture of experts."
    )
    parser.add_argument("--version", action="version", version=f"hmoe-theory {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(subparsers)
    for name in TIME_LIMITED:
        sub = subparsers.choices.get(name)
        if sub is not None and "--time-limit" not in sub._option_string_actions:
            _add_time_limit(sub)
    return parser


def check_flags(args: argparse.Namespace) -> None:
    """Refuse shared size flags outside their bounds (one line naming the bound and how to raise it)."""
    for dest, (bound, minimum) in FLAG_BOUNDS.items():
        value = getattr(args, dest, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            bounds.check(bound, value, f"--{dest.replace('_', '-')} {value}", minimum=minimum)


def _run(args: argparse.Namespace) -> int:
    if args.command not in TIME_LIMITED:
        return int(args.func(args) or 0)
    # the symbolic stack (sympy, scipy, the families: ~2 s) loads before the clock starts, so the limit
    # measures the work rather than the start-up, and an in-process caller pays for it once
    importlib.import_module(f"{__package__}.families")
    try:
        code, out, err = run_captured(args.func, args, seconds=args.time_limit, what=f"hmoe {args.command}")
    except TimeLimitExceeded as exc:
        raise TimeLimitExceeded(f"{exc}; raise it with --time-limit SECONDS") from None
    sys.stdout.write(out)
    sys.stderr.write(err)
    return int(code or 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a one-line argument error
        return exc.code if isinstance(exc.code, int) else 2
    try:
        check_flags(args)
        return _run(args)
    except HmoeError as exc:
        print(f"hmoe: error: {exc}", file=sys.stderr)
        return 2
    except (MemoryError, RecursionError) as exc:
        kind = "memory" if isinstance(exc, MemoryError) else "recursion depth"
        print(f"hmoe: error: the input is too large (ran out of {kind}); see docs/hardening.md", file=sys.stderr)
        return 2
    except OverflowError as exc:  # only reachable with HMOE_MAX_NUMBER_DIGITS above 308 (docs/hardening.md)
        print(f"hmoe: error: a number of the input exceeds double precision ({exc}); numbers above "
              "HMOE_MAX_NUMBER_DIGITS=308 digits do not fit a float: rescale the input", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hmoe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
