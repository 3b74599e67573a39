"""Size bounds on user input: one table, one way to raise each bound.

Every size a user controls (a flag such as ``--digits`` or ``--k``, or a property of a typed expression
such as its degree) has an upper bound here, chosen so that every documented use fits with room to spare
and so that the largest accepted input finishes within the default time limit on a laptop. A refusal is a
:class:`~hmoe_theory.errors.BoundError` naming the bound and how to raise it: the environment variable
``HMOE_MAX_<NAME>`` (e.g. ``HMOE_MAX_K=40 hmoe identifiability ...``). Bounds never change a result,
only whether an input is accepted, so results stay reproducible.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

from .errors import BoundError


@dataclass(frozen=True)
class Bound:
    """``name``: key of :data:`BOUNDS`; ``limit``: default largest accepted value; ``what``: shown in messages."""

    name: str
    limit: int
    what: str

    @property
    def variable(self) -> str:
        return f"HMOE_MAX_{self.name.upper()}"


BOUNDS: dict[str, Bound] = {
    b.name: b
    for b in (
        Bound("length", 20_000, "characters in one expression"),
        Bound("depth", 60, "nesting depth of an expression (operators, calls, parentheses)"),
        Bound("calls", 4, "nesting depth of function calls such as exp(exp(x))"),
        Bound("exponent", 64, "absolute value of a numeric exponent"),
        Bound("number_digits", 308, "decimal digits of a number (literal, or built by * and **)"),
        Bound("degree", 256, "total degree of an expression (x**a*y**b counts a + b)"),
        Bound("digits", 2000, "working precision in decimal digits (--digits)"),
        Bound("d", 6, "input dimension (--d)"),
        Bound("k", 12, "parameter points / mixture components (--k)"),
        Bound("columns", 1500, "functions in one derivative family (parameters x orders x points)"),
        Bound("seed", 2**63 - 1, "absolute value of a seed (--seed)"),
        Bound("jobs", 64, "local worker processes (--jobs, --workers)"),
        Bound("reps", 10_000, "replicates of a rate sweep (--reps)"),
        Bound("sample_size", 10_000_000, "sample size of a rate sweep (--n)"),
        Bound("sizes", 1000, "distinct sample sizes of a rate sweep (--n)"),
    )
}


def limit(name: str) -> int:
    """The bound ``name``, raised (or lowered) by ``HMOE_MAX_<NAME>`` when that is a positive integer.

    Raising ``number_digits`` above Python's limit on integer-string conversion (4300 digits by default,
    ``sys.set_int_max_str_digits``) raises that limit to match in this process, so every accepted number
    can be printed and parsed (otherwise the interpreter's ``ValueError`` would escape as a traceback).
    """
    bound = BOUNDS[name]
    raw = os.environ.get(bound.variable, "").strip()
    if not raw:
        return bound.limit
    if len(raw) > 30 or not raw.lstrip("+").isdigit():
        raise BoundError(f"{bound.variable}={raw[:40]!r} is not a positive integer of at most 30 digits")
    value = int(raw)
    if value < 1:
        raise BoundError(f"{bound.variable}={raw!r} must be positive")
    if name == "number_digits" and hasattr(sys, "set_int_max_str_digits"):
        current = sys.get_int_max_str_digits()
        if current and value + 2 > current:
            sys.set_int_max_str_digits(value + 2)  # the number, its sign and a digit of slack
    return value


def refusal(name: str, value: object, subject: str | None = None) -> BoundError:
    """The error for ``value`` exceeding bound ``name``: which bound, and how to raise it."""
    bound = BOUNDS[name]
    shown = subject if subject and str(value) in subject else (f"{subject} = {value}" if subject else str(value))
    return BoundError(
        f"{shown} exceeds the bound {limit(name)} on {bound.what} "
        f"(raise it with the environment variable {bound.variable}=N)"
    )


def check(name: str, value: int | float, subject: str | None = None, minimum: int | None = None) -> None:
    """Refuse ``value`` above the bound ``name`` (or below ``minimum``), naming ``subject`` (e.g. ``--k``)."""
    if minimum is not None and value < minimum:
        raise BoundError(f"{subject or BOUNDS[name].what} must be at least {minimum}, got {value}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BoundError(f"{subject or BOUNDS[name].what} must be finite, got {value}")
    if abs(value) > limit(name):
        raise refusal(name, value, subject)


__all__ = ["BOUNDS", "Bound", "check", "limit", "refusal"]
