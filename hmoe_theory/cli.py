"""The ``hmoe`` command. Sub-commands live in :mod:`hmoe_theory.commands` (one module each, exposing
``register(subparsers)`` which adds a parser whose ``func(args) -> int`` runs it).

Errors meant for the user (:class:`~hmoe_theory.errors.HmoeError`) print one line
``hmoe: error: <message>`` and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from . import __version__, commands
from .errors import HmoeError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hmoe", description="Machine-checked theory of attention as a hierarchical mixture of experts."
    )
    parser.add_argument("--version", action="version", version=f"hmoe-theory {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HmoeError as exc:
        print(f"hmoe: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hmoe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
