"""Relations among the derivatives of a family and its identifiability (:func:`explore_family`).

With ``D_0 = F`` and ``D_k = d^|k| F / d theta^k`` (``1 <= |k| <= order``), a *relation* is
``sum_k c_k D_k(z; theta) = 0`` for all inputs ``z``. Relations at a generic rational point are found and
certified by :func:`hmoe_theory.interactions.discover_relations`; they are found at two independent generic
points ``theta_0, theta_1`` and split into

- *PDEs* (constant coefficients): ``span N(theta_0) ∩ span N(theta_1)`` (exact rational linear algebra),
  each certified with every parameter symbolic (:func:`~hmoe_theory.certify.decide_zero`). A one-term PDE is
  *trivial* (a derivative that vanishes identically, e.g. ``d2F/da^2 = 0`` for a linear expert); the others
  are *interactions*, e.g. ``dF/da - d2F/dbeta dalpha = 0`` for ``exp(beta x) (a x + alpha)``;
- *theta-dependent* relations: the canonical basis of ``N(theta_0)`` modulo the PDEs, e.g. the homogeneity
  ``F = a dF/da + alpha dF/dalpha``, with their coefficients reconstructed as expressions in theta and proved
  with theta symbolic (:mod:`.coefficients`).

Hypothesis: ``theta_0, theta_1`` are generic. A relation holding only on a measure-zero parameter set is
missed; at a *special* ``theta_0`` (one the user typed, e.g. ``a_1=0``) a theta-dependent relation can hold at
``theta_0`` only, or a relation's coefficients can coincide at both points so that it is taken for a PDE: the
certification with the parameters symbolic then reports ``refuted``, meaning *true at theta_0, false for
generic theta* (:func:`status_note` says so next to the result).

Identifiability: the Fisher information ``E[grad F grad F^T]`` of one component at ``theta_0`` is non-singular
iff the first-order derivatives are linearly independent functions of ``z`` (rank ``n``: *locally
identifiable*); *strong identifiability* (order ``r``, two components) is decided by
:func:`hmoe_theory.interactions.identifiability.check_family` with the ``strong`` preset.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..errors import ModelError
from ..expr import parse_name, parse_names
from ..families import ParametricFunction, gate_expert
from ..interactions import Column, Discovery, Relation, Term, discover_relations, function_from_text
from ..interactions.derivatives import check_order, derivative_table
from ..interactions.discovery import certify_relation, common_exponential_factor
from ..interactions.identifiability import IdentifiabilityResult, check_family, preset
from ..symbols import positive_symbol
from .coefficients import ParametricRelation, exact_row, parametric_relations, quotient_basis

MAX_DERIVATIVES = 90  # F and its derivatives; keeps one exploration within seconds
SPECIAL_POINT_NOTE = (
    "[refuted] = the relation holds at theta_0 but is false for generic theta (checked with the parameters "
    "symbolic): theta_0 is a special point (e.g. a parameter at 0); leave theta_0 empty, or change it, to see "
    "the generic relations"
)


@dataclass(frozen=True)
class FamilyReport:
    """Result of :func:`explore_family` (``print`` it for a readable summary).

    ``discovery``: every relation at ``theta_0`` (:func:`hmoe_theory.interactions.discover_relations`);
    ``pdes``: the relations with constant coefficients (they also hold at ``theta_1`` and are certified
    with all parameters symbolic) -- the one-term ones are *trivial* (a derivative that vanishes
    identically, :attr:`vanishing`), the others are *interactions* (:attr:`interactions`);
    ``pointwise``: the canonical basis of the remaining relations at ``theta_0`` (modulo the PDEs), whose
    coefficients depend on theta (values at ``theta_0``); ``parametric``: the same relations with their
    coefficients as expressions in theta (:mod:`hmoe_theory.explorer_parts.coefficients`; ``None`` where
    they could not be reconstructed); ``first_order_rank``: rank of the first-order derivatives at
    ``theta_0`` (the rank of the Fisher information of one component).
    """

    function: ParametricFunction
    discovery: Discovery
    pdes: tuple[Relation, ...]
    pointwise: tuple[Relation, ...]
    parametric: tuple[ParametricRelation | None, ...]
    first_order_rank: int
    strong: IdentifiabilityResult

    @property
    def point(self) -> dict[str, str]:
        """``theta_0`` as ``{name: "p/q"}``."""
        return self.discovery.point

    @property
    def vanishing(self) -> tuple[str, ...]:
        """Derivatives that are identically zero (trivial relations)."""
        return tuple(r.terms[0].column.label for r in self.pdes if len(r.terms) == 1)

    @property
    def interactions(self) -> tuple[Relation, ...]:
        """PDEs with two or more terms: genuine parameter interactions."""
        return tuple(r for r in self.pdes if len(r.terms) > 1)

    @property
    def locally_identifiable(self) -> bool:
        """First-order derivatives independent at theta_0 (non-singular Fisher information)."""
        return self.first_order_rank == len(self.function.params)

    @property
    def strongly_identifiable(self) -> bool:
        """F and its derivatives up to the order, at two distinct generic points, are linearly independent."""
        return self.strong.identifiable

    def relation_rows(self) -> list[tuple[str, str, str]]:
        """``(kind, status, relation)`` rows: interactions, trivial (vanishing), theta-dependent."""
        rows = [("interaction (PDE)", r.status.value, r.text) for r in self.interactions]
        rows += [("trivial: vanishes", r.status.value, r.text) for r in self.pdes if len(r.terms) == 1]
        for numeric, symbolic in zip(self.pointwise, self.parametric):
            if symbolic is None:
                rows.append(("theta-dependent (values at theta_0)", numeric.status.value, numeric.text))
            else:
                rows.append(("theta-dependent", symbolic.status.value, symbolic.text))
        return rows

    def __repr__(self) -> str:
        found, point = self.discovery, ", ".join(f"{k}={v}" for k, v in self.point.items())
        strong = "yes" if self.strongly_identifiable else "no"
        return (
            f"FamilyReport({self.function.name}: F = {found.expression} ({found.mode}) at theta_0 {point}; "
            f"{found.size} derivatives of order <= {found.order}, rank {found.rank}: {len(self.interactions)} interaction(s), "
            f"{len(self.vanishing)} trivial, {len(self.pointwise)} theta-dependent; Fisher rank {self.first_order_rank} "
            f"of {len(self.function.params)}; strongly identifiable: {strong}; print() it for the relations)"
        )

    def __str__(self) -> str:
        f, found = self.function, self.discovery
        n = len(f.params)
        weights = f"   (mixing weights factored out: {', '.join(map(str, f.weight_params))})" if f.weight_params else ""
        rows = self.relation_rows()
        width = max((len(k) for k, _, _ in rows), default=0)
        return "\n".join(
            [
                f"family   {f.name}",
                f"F        = {f.expr}",
                f"params   {', '.join(map(str, f.params))}{weights}",
                f"theta_0  {', '.join(f'{k}={v}' for k, v in self.point.items())}",
                f"{found.size} derivatives of order <= {found.order}, rank {found.rank}, {found.nullity} relation(s) at theta_0:",
                f"  {len(self.interactions)} interaction(s) (PDEs, constant coefficients), {len(self.vanishing)} trivial "
                f"(identically zero derivatives), {len(self.pointwise)} with theta-dependent coefficients",
                *(f"  {kind:<{width}}  [{status}] {text}" for kind, status, text in rows),
                f"Fisher information rank at theta_0: {self.first_order_rank} of {n} -> "
                + ("locally identifiable" if self.locally_identifiable else "NOT locally identifiable"),
                f"strongly identifiable (order {found.order}, 2 components): "
                + ("yes" if self.strongly_identifiable else f"no, {self.strong.discovery.nullity} relation(s)"),
                *(f"warning: {w}" for w in found.warnings),
                *([f"note: {SPECIAL_POINT_NOTE}"] if any(status == "refuted" for _, status, _ in rows) else []),
            ]
        )


def _user_function(
    function: str, inputs: str | Sequence[str], params: str | Sequence[str], positive: str | Sequence[str] | None
) -> ParametricFunction:
    """:func:`hmoe_theory.interactions.function_from_text`, with the ``positive`` parameters made positive."""
    f = function_from_text(function, inputs, params)
    if not positive:
        return f
    names = set(parse_names(positive) if isinstance(positive, str) else [parse_name(n) for n in positive])
    unknown = sorted(names - {p.name for p in f.params})
    if unknown:
        raise ModelError(f"positive name(s) {', '.join(unknown)} are not parameters")
    swap = {p: positive_symbol(p.name) for p in f.params if p.name in names}
    return ParametricFunction(f.name, f.expr.xreplace(swap), f.inputs, tuple(swap.get(p, p) for p in f.params))


def _exact_rows(relations: Sequence[Relation], columns: Sequence[Column]) -> list[list[sp.Rational]]:
    return [row for row in (exact_row(r, columns) for r in relations) if row is not None]


def _common_relations(first: list[list[sp.Rational]], second: list[list[sp.Rational]]) -> list[list[sp.Rational]]:
    """Reduced row echelon basis of span(first) ∩ span(second) (exact rational linear algebra)."""
    if not first or not second:
        return []
    A, B = sp.Matrix(first), sp.Matrix(second)
    kernel = sp.Matrix.hstack(A.T, -B.T).nullspace()
    if not kernel:
        return []
    vectors = sp.Matrix([list(sp.Matrix([v[: A.rows]]) * A) for v in kernel])
    reduced, pivots = vectors.rref()
    return [list(reduced.row(i)) for i in range(len(pivots))]


def _as_relation(row: Sequence[sp.Rational], columns: Sequence[Column], table: Sequence[sp.Expr], f: ParametricFunction) -> Relation:
    """A constant-coefficient relation, certified with every parameter symbolic (or, for a
    theta-dependent relation, with ``table`` the derivatives at ``theta_0``)."""
    used = [i for i, c in enumerate(row) if c != 0]
    coefficients = [Fraction(int(row[i].p), int(row[i].q)) for i in used]
    status, method = certify_relation(
        [table[i] for i in used], coefficients, [*f.inputs, *f.params], common_exponential_factor(f.expr), 3.0
    )
    return Relation(tuple(Term(columns[i], c) for i, c in zip(used, coefficients)), status, method)


def explore_family(
    gate: str | None = None,
    expert: str | None = None,
    *,
    function: str | None = None,
    inputs: str | Sequence[str] | None = None,
    params: str | Sequence[str] | None = None,
    positive: str | Sequence[str] | None = None,
    d: int = 1,
    order: int = 2,
    mode: str = "regression",
    seed: int = 0,
    point: str | Mapping[str, object] | None = None,
) -> FamilyReport:
    """Relations among the derivatives of a family and its identifiability (see module docstring).

    Either ``gate`` and ``expert`` (catalogue names; ``d`` and ``mode`` as in
    :func:`hmoe_theory.families.gate_expert`), or ``function`` (text, e.g. ``"exp(b*x)*(a*x + c)"``)
    with ``inputs`` and ``params`` (``"x"``, ``"a, b, c"``); ``positive`` names parameters that are
    positive (variances). ``point`` fixes ``theta_0`` (``"a=1/2, b=-3"``; rationals; parameters not
    given are random); ``seed`` picks the random generic points (``theta_1`` and those used to
    reconstruct theta-dependent coefficients).
    """
    if function is not None:
        if gate is not None or expert is not None:
            raise ModelError("give either gate and expert, or function with inputs and params, not both")
        if not inputs or not params:
            raise ModelError("a typed function needs inputs (e.g. 'x') and params (e.g. 'a, b, c')")
        if mode != "regression":
            raise ModelError("mode applies to catalogue families; write a density into the function, e.g. normal_pdf(y, m, v)")
        f = _user_function(function, inputs, params, positive)
    elif gate is not None and expert is not None:
        f = gate_expert(gate, expert, d, mode)
    else:
        raise ModelError("give a gate and an expert (catalogue names), or a function with inputs and params")
    check_order(order)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ModelError(f"seed must be a non-negative integer, got {seed!r}")
    size = math.comb(len(f.params) + order, order)
    if size > MAX_DERIVATIVES:
        raise ModelError(f"{f.name}: {size} derivatives of order <= {order} (limit {MAX_DERIVATIVES}); lower d or order")

    at_theta0 = discover_relations(f, order, point=point or None, seed=seed)
    at_theta1 = discover_relations(f, order, seed=seed + 1, certify=False)
    first_order = discover_relations(f, 1, point=point or None, min_order=1, seed=seed, certify=False)
    strong = check_family(f, preset("strong", order, k=2), seed=seed)

    columns = at_theta0.columns
    table = list(derivative_table(f, order).values())  # same graded order as the columns
    common = _common_relations(_exact_rows(at_theta0.relations, columns), _exact_rows(at_theta1.relations, columns))
    pdes = tuple(_as_relation(row, columns, table, f) for row in common)
    base = quotient_basis(at_theta0.relations, columns, common)
    if base is None:  # irrational coefficients at theta_0: keep the discovered relations as they are
        pointwise, parametric = tuple(at_theta0.relations[len(common):]), ()
    else:
        theta0 = {p: sp.Rational(at_theta0.point[p.name]) for p in f.params}
        at_point = [e.xreplace(theta0) for e in table]
        pointwise = tuple(_as_relation(row, columns, at_point, f) for row in base)
        parametric = parametric_relations(f, order, table, [at_theta0, at_theta1], common, seed)
    return FamilyReport(f, at_theta0, pdes, pointwise, parametric, first_order.rank, strong)
