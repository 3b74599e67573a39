"""Symbol conventions shared by every module.

All symbols are created *real* (``sympy.Symbol(name, real=True)``) so that expressions built by
different modules, or parsed from user text, refer to the same objects. Variances are *positive*.
Vector entries are named ``<base>_<k>`` (1-based) and, inside a mixture component ``j``,
``<base>_<j>_<k>``.
"""

from __future__ import annotations

import sympy as sp


def real_symbol(name: str) -> sp.Symbol:
    """The project's symbol for ``name`` (real-valued)."""
    return sp.Symbol(name, real=True)


def positive_symbol(name: str) -> sp.Symbol:
    """The project's symbol for a positive quantity such as a variance."""
    return sp.Symbol(name, positive=True)


def indexed_name(base: str, *indices: int | None) -> str:
    """``indexed_name("a", 2, 1) == "a_2_1"``; ``None`` indices are skipped."""
    return "_".join([base, *(str(i) for i in indices if i is not None)])


def vector_symbols(base: str, size: int, component: int | None = None) -> tuple[sp.Symbol, ...]:
    """Entries ``base_[component_]1 .. base_[component_]size`` of a real vector."""
    return tuple(real_symbol(indexed_name(base, component, k)) for k in range(1, size + 1))


def matrix_symbols(base: str, rows: int, cols: int, component: int | None = None) -> sp.Matrix:
    """A ``rows x cols`` matrix of independent real symbols ``base_[component_]u_v``."""
    return sp.Matrix(rows, cols, lambda u, v: real_symbol(indexed_name(base, component, u + 1, v + 1)))


def symmetric_matrix_symbols(base: str, size: int, component: int | None = None) -> sp.Matrix:
    """A symmetric matrix whose entry (u, v) with u <= v is the symbol ``base_[component_]u_v``.

    Off-diagonal symbols occur twice in ``x^T A x``, which is the source of the factor 2 in the
    symmetric form of the quadratic-gate PDE.
    """

    def entry(u: int, v: int) -> sp.Symbol:
        lo, hi = sorted((u, v))
        return real_symbol(indexed_name(base, component, lo + 1, hi + 1))

    return sp.Matrix(size, size, entry)


def input_symbols(d: int) -> tuple[sp.Symbol, ...]:
    """The input coordinates ``x_1 .. x_d``."""
    return vector_symbols("x", d)
