"""Relations with theta-dependent coefficients, reconstructed as expressions in theta.

Setting: ``D_k(z; theta)`` are ``F`` and its partial derivatives (graded order) and ``N(theta)`` the
space of relations ``sum_k c_k D_k(.; theta) = 0`` at a parameter point; ``P`` the space of PDEs
(constant coefficients, in ``N(theta)`` for every theta). A canonical representative of
``N(theta) / P``: reduce every relation modulo the reduced row echelon basis of ``P`` (zero in the
pivot columns of ``P``) and take the reduced row echelon form of the result. Its entries
``c_k(theta)`` are functions of theta; for the families of the catalogue they are rational functions
of low degree (the homogeneity ``F = a dF/da + alpha dF/dalpha`` has ``c = -a, -alpha``).

Method: the exact rational basis at ``m = 2n + 3`` generic points (``n`` parameters) by
:func:`hmoe_theory.interactions.discover_relations`; each entry is fitted, exactly over Q, first as a
constant, then as an affine polynomial, then as a ratio of affine polynomials ``p(theta) / q(theta)``
(a one-dimensional null space of the ``m`` equations ``p(theta_s) - c_s q(theta_s) = 0``: the fit is
over-determined, so a wrong model is rejected). Each reconstructed relation is then decided with every
parameter symbolic (:func:`hmoe_theory.certify.decide_zero`, after dividing by the exponential factor
common to ``F``).

Hypotheses: the points are generic (same pivot structure as ``theta_0``; points that differ are
skipped); when an entry is not of these forms the relation is returned with ``expressions=None``
and shown with its values at ``theta_0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..certify import Status, decide_zero
from ..errors import TimeLimitExceeded
from ..families import ParametricFunction
from ..interactions import Column, Discovery, Relation, discover_relations
from ..interactions.discovery import common_exponential_factor
from ..timelimit import time_limit

Row = list[sp.Rational]


@dataclass(frozen=True)
class ParametricRelation:
    """``sum_k c_k(theta) D_k = 0``: ``terms`` pairs each column with its coefficient expression."""

    terms: tuple[tuple[Column, sp.Expr], ...]
    status: Status
    method: str

    @property
    def text(self) -> str:
        """``F - alpha dF/dalpha - a_1 d2F/dbeta_1 dalpha = 0``."""
        parts = []
        for column, c in self.terms:
            negative = c.could_extract_minus_sign()
            magnitude = -c if negative else c
            if magnitude == 1:
                shown = ""
            elif magnitude.is_Atom:
                shown = f"{magnitude} "
            else:
                shown = f"({magnitude}) "
            parts.append(f"{'-' if negative else '+'} {shown}{column.label}")
        text = " ".join(parts)
        return (text[2:] if text.startswith("+ ") else "-" + text[2:]) + " = 0"


def exact_row(relation: Relation, columns: Sequence[Column]) -> Row | None:
    """The coefficient vector of ``relation`` over ``columns``, or None if a coefficient is not rational."""
    if not all(isinstance(t.coefficient, Fraction) for t in relation.terms):
        return None
    row = [sp.Integer(0)] * len(columns)
    index = {c: i for i, c in enumerate(columns)}
    for t in relation.terms:
        row[index[t.column]] = sp.Rational(t.coefficient.numerator, t.coefficient.denominator)
    return row


def quotient_basis(relations: Sequence[Relation], columns: Sequence[Column], pdes: Sequence[Row]) -> list[Row] | None:
    """Canonical basis of ``span(relations) / span(pdes)`` (see the module docstring); None if not rational."""
    rows = [exact_row(r, columns) for r in relations]
    if any(r is None for r in rows):
        return None
    reduced_pdes, pde_pivots = (sp.Matrix(pdes).rref() if pdes else (sp.zeros(0, len(columns)), ()))
    reduced = []
    for row in rows:
        vector = sp.Matrix([row])
        for i, pivot in enumerate(pde_pivots):
            vector -= vector[pivot] * reduced_pdes.row(i)
        reduced.append(list(vector))
    if not reduced:
        return []
    echelon, pivots = sp.Matrix(reduced).rref()
    return [list(echelon.row(i)) for i in range(len(pivots))]


def _monomials(params: Sequence[sp.Symbol]) -> list[sp.Expr]:
    return [sp.Integer(1), *params]


def fit_entry(values: Sequence[sp.Rational], points: Sequence[dict[sp.Symbol, sp.Rational]], params: Sequence[sp.Symbol]) -> sp.Expr | None:
    """Exact fit of ``values[s] = c(points[s])``: constant, affine, or affine / affine; None otherwise."""
    if len(set(values)) == 1:
        return values[0]
    basis = _monomials(params)
    design = sp.Matrix([[b.xreplace(p) for b in basis] for p in points])
    rhs = sp.Matrix(values)
    if len(points) > len(basis):  # affine polynomial: over-determined exact solve
        augmented = design.row_join(rhs)
        if design.rank() == augmented.rank():
            solution = design.gauss_jordan_solve(rhs)[0]
            if not solution.free_symbols:
                return sp.expand(sum(c * b for c, b in zip(solution, basis)))
    if len(points) <= 2 * len(basis):
        return None
    system = design.row_join(-sp.diag(*values) * design)  # p(theta_s) - c_s q(theta_s) = 0
    kernel = system.nullspace()
    if len(kernel) != 1:
        return None
    vector = kernel[0]
    p = sum(c * b for c, b in zip(vector[: len(basis)], basis))
    q = sum(c * b for c, b in zip(vector[len(basis) :], basis))
    return sp.factor(sp.cancel(p / q)) if q != 0 else None


def decide_relation(f: ParametricFunction, table: Sequence[sp.Expr], coefficients: Sequence[sp.Expr], time_limit_s: float = 3.0) -> tuple[Status, str]:
    """Is ``sum_k c_k(theta) D_k(z; theta)`` identically zero in ``z`` and ``theta``?"""
    denominator = sp.lcm([sp.fraction(sp.together(c))[1] for c in coefficients if c != 0])
    combination = sp.Add(*(sp.cancel(c * denominator) * d for c, d in zip(coefficients, table) if c != 0))
    reduced = combination / common_exponential_factor(f.expr)
    try:
        with time_limit(time_limit_s, "expanding the relation"):
            reduced = sp.expand(reduced, power_exp=True)
    except TimeLimitExceeded:
        pass
    if reduced == 0:
        return Status.PROVED, "exact: expands to 0 with theta symbolic (after dividing by the exponential factor)"
    decision = decide_zero(reduced, [*f.inputs, *f.params], time_limit_s=time_limit_s, seed=1)
    return decision.status, decision.method


def parametric_relations(
    f: ParametricFunction,
    order: int,
    table: Sequence[sp.Expr],
    at_points: Sequence[Discovery],
    pdes: Sequence[Row],
    seed: int,
) -> tuple[ParametricRelation | None, ...]:
    """The theta-dependent relations (canonical quotient basis at ``at_points[0]``) with coefficient
    expressions; an entry is None where the coefficients could not be reconstructed."""
    columns = at_points[0].columns
    base = quotient_basis(at_points[0].relations, columns, pdes)
    if not base:
        return ()
    pivots = [next(i for i, c in enumerate(row) if c != 0) for row in base]
    wanted = 2 * len(f.params) + 3
    discoveries = list(at_points)
    extra_seed = seed + 1000
    while len(discoveries) < wanted:
        discoveries.append(discover_relations(f, order, seed=extra_seed, certify=False))
        extra_seed += 1
    points, bases = [], []
    for found in discoveries:
        rows = quotient_basis(found.relations, columns, pdes)
        if rows is None or [next(i for i, c in enumerate(r) if c != 0) for r in rows] != pivots:
            continue  # not generic for this family: skip the point
        points.append({p: sp.Rational(found.point[p.name]) for p in f.params})
        bases.append(rows)
    out: list[ParametricRelation | None] = []
    for k, row in enumerate(base):
        coefficients: list[sp.Expr] = []
        for j in range(len(columns)):
            values = [rows[k][j] for rows in bases]
            fitted = fit_entry(values, points, f.params) if any(values) else sp.Integer(0)
            if fitted is None:
                break
            coefficients.append(fitted)
        else:
            status, method = decide_relation(f, table, coefficients)
            terms = tuple((columns[j], c) for j, c in enumerate(coefficients) if c != 0)
            out.append(ParametricRelation(terms, status, method))
            continue
        out.append(None)
    return tuple(out)
