"""Byte-stable diagnostics: floats in ledger text are shown to a fixed number of significant digits.

Float results computed in float64 or converted from high precision can differ in their last digits
across machines (BLAS, summation order, worker count). Every rendering of a verdict (CLAIMS.md,
the HTML report, JUnit, the JSON summary) therefore rounds each decimal number that has more than
:data:`SIGNIFICANT_DIGITS` significant digits to that many (``%.6g``). Integers, rationals such as
``1/16`` and numbers inside identifiers (``x_1``, ``G1``, ``v1.2.3``) are left alone. Quantities that
are pure round-off (|error| ~ 1e-16) must still be reported by the claim as a bound, not a value.
"""

from __future__ import annotations

import re
from typing import Any

SIGNIFICANT_DIGITS = 6

_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.\d*|\.\d+|\d+(?=[eE][-+]?\d))(?:[eE][-+]?\d+)?(?![\w.])")


def _significant(literal: str) -> int:
    mantissa = re.split(r"[eE]", literal)[0].replace(".", "").lstrip("0")
    return len(mantissa)


def round_float(x: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (non-finite values unchanged)."""
    return float(f"{x:.{digits}g}") if x == x and abs(x) != float("inf") else x


def stable_text(text: str, digits: int = SIGNIFICANT_DIGITS) -> str:
    """``text`` with every decimal number of more than ``digits`` significant digits rounded to ``digits``."""

    def shorten(match: re.Match[str]) -> str:
        literal = match.group(0)
        if _significant(literal) <= digits:
            return literal
        return f"{float(literal):.{digits}g}"

    return _NUMBER.sub(shorten, text)


def stable_value(value: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """A JSON-like value with floats rounded and strings passed through :func:`stable_text`."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return round_float(value, digits)
    if isinstance(value, str):
        return stable_text(value, digits)
    if isinstance(value, dict):
        return {str(k): stable_value(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [stable_value(v, digits) for v in value]
    return stable_text(str(value), digits)
