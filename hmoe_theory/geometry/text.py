"""The text boundary of the geometry layer: a mean map, its coordinates and a covariance as a user types them.

``hmoe curvature --map/--coords/--sigma``, the explorer and :meth:`.metric.PullbackMetric.from_text` read text
here, once, with the safe parser :mod:`hmoe_theory.expr` (a whitelist; nothing is evaluated). The geometry
classes themselves take sympy objects and numbers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sympy as sp

from ..errors import ModelError
from ..expr import parse_name, parse_names, parse_vector
from ..symbols import real_symbol


def parse_coordinates(text: str | Sequence[str]) -> tuple[sp.Symbol, ...]:
    """``"u, v"`` (or ``["u", "v"]``) -> the real symbols ``(u, v)``: validated names, no duplicates in text."""
    names = parse_names(text) if isinstance(text, str) else [parse_name(name) for name in text]
    return tuple(real_symbol(name) for name in names)


def parse_mean_map(text: str, coords: Sequence[sp.Symbol], constants: Iterable[str] | None = None) -> list[sp.Expr]:
    """``"[Y_1, ..., Y_D]"`` -> sympy expressions in the symbols ``coords``.

    ``constants``: the only other names allowed (``None``: any other name is a real constant, to be assigned
    later with :meth:`.metric.PullbackMetric.subs` or kept symbolic)."""
    if constants is not None:
        return parse_vector(text, names=[*coords, *constants])
    by_name = {c.name: c for c in coords}
    return [e.xreplace({s: by_name[s.name] for s in e.free_symbols if s.name in by_name}) for e in parse_vector(text)]


def parse_covariance(text: str, size: int, label: str = "Sigma") -> list:
    """Covariance text: ``size`` variances (``"1, 2, 1/2"``, brackets optional) -> a diagonal; ``size**2``
    entries -> the matrix, row-major. Constant entries only; :func:`.metric.covariance_matrix` checks symmetry
    and positive definiteness."""
    entries = parse_vector(text if text.strip().startswith("[") else f"[{text}]", names=[])
    if len(entries) == size:
        return entries
    if len(entries) == size * size:
        return [entries[i * size : (i + 1) * size] for i in range(size)]
    raise ModelError(f"{label}: expected {size} variances or {size * size} entries, got {len(entries)}")
