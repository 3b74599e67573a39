"""Strict JSON for every ``--json`` output: RFC 8259 only, so any JSON parser reads it.

Python's ``json.dumps`` writes ``NaN``, ``Infinity`` and ``-Infinity`` for non-finite floats, which are
not JSON (``jq``, JavaScript's ``JSON.parse`` and Go reject them). :func:`strict_dumps` writes ``null``
for every non-finite float (and numpy float), at any depth, and fails loudly (``allow_nan=False``) if one
slipped through; tuples become lists, other unknown objects their ``str``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None``, recursively (mappings, lists, tuples);
    numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key if isinstance(key, str) else str(key): finite_or_none(v) for key, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [finite_or_none(v) for v in items]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return finite_or_none(value.tolist())
    return str(value)


def strict_dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` of ``value`` with non-finite floats as ``null`` (see module docstring)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)


__all__ = ["finite_or_none", "strict_dumps"]
