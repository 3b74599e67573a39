"""Exceptions that reach the user as one clear line (the CLI prints ``hmoe: error: <message>``)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class HmoeError(Exception):
    """Base class of every error meant for the user rather than a traceback."""


class ExpressionError(HmoeError, ValueError):
    """A user expression was rejected by the safe parser (never evaluated)."""


class UnknownNameError(HmoeError, KeyError):
    """A catalogue name (gate, expert, setting, claim pattern...) does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TimeLimitExceeded(HmoeError, TimeoutError):
    """A symbolic computation did not finish within its time limit."""


class BoundError(HmoeError, ValueError):
    """A size bound (digits, dimension, components, degree, ...) was exceeded; the message names the bound
    and how to raise it (see :mod:`hmoe_theory.bounds`)."""


class ModelError(HmoeError, ValueError):
    """A model or its parameters are ill-posed (wrong sizes, degenerate map, bad point...)."""


def lookup(catalog: Mapping[str, T], name: str, what: str) -> T:
    """``catalog[name]``, or an :class:`UnknownNameError` naming the closest entries and the known ones.

    With many entries only the closest matches are listed (``difflib``), so the message stays one line.
    """
    if name in catalog:
        return catalog[name]
    close = difflib.get_close_matches(str(name), list(catalog), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    known = ", ".join(catalog) if len(catalog) <= 12 else f"{len(catalog)} entries, see the docs or --list"
    raise UnknownNameError(f"unknown {what} {name!r} (known: {known}){hint}")
