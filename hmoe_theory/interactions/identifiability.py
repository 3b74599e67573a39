"""Identifiability as linear independence of configurable derivative families.

A :class:`DerivativeFamily` describes the set of functions of x

    S = { x^nu d^{|kappa|} G / d eta^kappa (x; eta_j) : j = 1..k, min_order <= |kappa| <= order,
          nu in N^d, |nu| <= multiplier_degree [and |nu| + |kappa| <= order if coupled] }

where G is either the gate x expert function F of :func:`hmoe_theory.families.gate_expert` (``target =
"function"``) or the expert E alone (``target = "expert"``), and eta_1..eta_k are k distinct generic
rational parameter points. G is *identifiable in the sense of the family* when S is linearly independent;
every linear relation is reported (the null space, canonical RREF basis, see :mod:`.discovery`).

Presets (the papers' full texts are unavailable: the index sets below are RECONSTRUCTED from the
project brief and stated exactly):

* ``strong`` (strong identifiability of gate x expert, order r in {1, 2}):
  S = { d^{|kappa|} F / d eta^kappa (x; eta_j) : 0 <= |kappa| <= r, j = 1..k }, with eta all parameters of
  F (softmax bias factored out as a mixing weight), kappa a multiset of parameters.
* ``strong-expert`` (strong identifiability of the expert, least-squares MoE literature, order r):
  S = { x^nu d^{|tau|} E / d eta^tau (x; eta_j) : nu in N^d, 0 <= |nu| + |tau| <= r, j = 1..k }; the monomials
  x^nu are the factors that derivatives in the softmax gate's slope bring down.
* ``independence`` (the family of :func:`.discovery.discover_relations`): k = 1, 0 <= |kappa| <= r.

:func:`identifiability_table` tabulates, over catalogue gate x expert pairs, the number of relations at
orders 1 and 2 and strong identifiability (r = 2, k = 2). Relation counts are numeric (50-digit null space); a
"yes" is marked "(proved)" when the family's independence is proved by a non-singular evaluation minor in ball
arithmetic (:mod:`.independence`); relations of single families are certified exactly by
:func:`.discovery.discover_relations`. Definition 1 of arXiv 2505.10860 v1 has its own module,
:mod:`.definition_one`.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from .. import bounds
from ..errors import ModelError, UnknownNameError
from ..families import EXPERTS, GATES, ParametricFunction, gate_expert, get_expert
from ..symbols import input_symbols
from .derivatives import Derivative, at_point, check_order, derivative_table, distinct_generic_points
from .discovery import MIN_DIGITS, Column, Discovery, common_exponential_factor, solve_family


@dataclass(frozen=True)
class DerivativeFamily:
    """Which functions enter the independence test (see module docstring for the index set)."""

    order: int = 2
    k: int = 1
    min_order: int = 0
    multiplier_degree: int = 0
    coupled: bool = True
    target: str = "function"  # "function" (gate x expert F) or "expert" (E alone)
    name: str = "custom"

    def __post_init__(self) -> None:
        check_order(self.order)
        if not isinstance(self.k, int) or isinstance(self.k, bool) or self.k < 1:
            raise ModelError(f"number of parameter points k must be a positive integer, got {self.k!r}")
        bounds.check("k", self.k, f"k = {self.k} parameter points")
        if self.min_order not in (0, 1) or self.min_order > self.order:
            raise ModelError(f"min_order must be 0 or 1 (and <= order), got {self.min_order!r}")
        if not isinstance(self.multiplier_degree, int) or not 0 <= self.multiplier_degree <= 4:
            raise ModelError(f"multiplier_degree must be an integer in 0..4, got {self.multiplier_degree!r}")
        if self.target not in ("function", "expert"):
            raise ModelError(f"target must be 'function' or 'expert', got {self.target!r}")

    @property
    def index_set(self) -> str:
        """The exact index set, written out."""
        g = "F" if self.target == "function" else "E"
        if self.multiplier_degree == 0:
            member = f"d^|kappa| {g}/d eta^kappa (x; eta_j)"
            bound = f"{self.min_order} <= |kappa| <= {self.order}"
        else:
            member = f"x^nu d^|kappa| {g}/d eta^kappa (x; eta_j)"
            bound = (
                f"{self.min_order} <= |kappa|, |nu| + |kappa| <= {self.order}"
                if self.coupled
                else f"{self.min_order} <= |kappa| <= {self.order}, |nu| <= {self.multiplier_degree}"
            )
        return f"{{ {member} : {bound}, j = 1..{self.k} }}"


PRESET_NAMES = ("strong", "strong-expert", "independence")


def preset(name: str, order: int = 2, k: int = 2) -> DerivativeFamily:
    """A literature preset (reconstructed index sets, see module docstring)."""
    if name == "strong":
        return DerivativeFamily(order=order, k=k, name="strong identifiability of gate x expert (reconstructed)")
    if name == "strong-expert":
        return DerivativeFamily(
            order=order,
            k=k,
            multiplier_degree=order,
            target="expert",
            name="strong identifiability of the expert (reconstructed)",
        )
    if name == "independence":
        return DerivativeFamily(order=order, k=1, name="linear independence of the derivative family")
    raise UnknownNameError(f"unknown identifiability preset {name!r} (known: {', '.join(PRESET_NAMES)})")


@dataclass
class IdentifiabilityResult:
    """A family, the function it was applied to, and the relations found (``discovery``)."""

    family: DerivativeFamily
    discovery: Discovery

    @property
    def identifiable(self) -> bool:
        return not self.discovery.relations

    @property
    def proved(self) -> bool:
        """The verdict is a proof: independence by a non-singular evaluation minor (rank proved), or dependence by
        an exactly proved relation."""
        if self.identifiable:
            return self.discovery.rank_proved
        return any(r.status.value == "proved" for r in self.discovery.relations)

    def __repr__(self) -> str:
        verdict = "identifiable" if self.identifiable else f"NOT identifiable, {self.discovery.nullity} relation(s)"
        return (
            f"IdentifiabilityResult({verdict} under {self.family.name}: {self.family.index_set}; "
            f"F = {self.discovery.expression} ({self.discovery.mode}); .table() for the report)"
        )

    def to_dict(self) -> dict:
        return {
            "family": self.family.name,
            "index_set": self.family.index_set,
            "reconstructed": self.family.name != "custom",
            "identifiable": self.identifiable,
            "proved": self.proved,
            **self.discovery.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        verdict = (
            "IDENTIFIABLE (independent family)"
            if self.identifiable
            else f"NOT identifiable: {self.discovery.nullity} relation(s)"
        ) + (" [proved]" if self.proved else " [numerical evidence only]")
        return "\n".join(
            [
                f"family      {self.family.name}",
                f"index set   {self.family.index_set}",
                f"verdict     {verdict}",
                self.discovery.table(),
            ]
        )


def _expert_function(expert: str, d: int) -> ParametricFunction:
    x = input_symbols(d)
    expr, params = get_expert(expert).term(x)
    return ParametricFunction(f"expert {expert}", expr, x, params)


def _monomials(inputs: Sequence[sp.Symbol], degree: int) -> list[tuple[str, sp.Expr]]:
    out = []
    for s in range(degree + 1):
        for combo in itertools.combinations_with_replacement(inputs, s):
            m = sp.Mul(*combo)
            out.append((str(m), m))
    return out


def check_family(
    function: ParametricFunction | tuple[str, str],
    family: DerivativeFamily,
    d: int = 1,
    mode: str = "regression",
    *,
    points: Sequence[dict] | None = None,
    digits: int = MIN_DIGITS,
    seed: int = 0,
    certify: bool = False,
    time_limit_s: float = 3.0,
) -> IdentifiabilityResult:
    """Linear independence of ``family`` for a gate x expert pair (or a ParametricFunction).

    With ``family.target == "expert"`` only the expert of the (gate, expert) pair is used.
    ``points``: k parameter points {symbol: rational}; default k distinct generic points.
    """
    started = time.perf_counter()
    if family.target == "expert":
        if isinstance(function, ParametricFunction):
            raise ModelError("target 'expert' needs a catalogue (gate, expert) pair")
        G = _expert_function(function[1], d)
    elif isinstance(function, ParametricFunction):
        G = function
    else:
        G = gate_expert(function[0], function[1], d, mode)
    chosen = list(points) if points is not None else distinct_generic_points(G.params, family.k, seed)
    if len(chosen) != family.k:
        raise ModelError(f"expected {family.k} parameter points, got {len(chosen)}")
    table = derivative_table(G, family.order, family.min_order)
    monomials = _monomials(G.inputs, family.multiplier_degree)
    size = family.k * len(table) * len(monomials)
    bounds.check("columns", size, f"{G.name}: family of up to {size} functions ({family.k} points)")
    columns: list[Column] = []
    exprs: list[sp.Expr] = []
    for j, theta in enumerate(chosen):
        values = at_point(table, theta)
        for kappa, value in values.items():
            for label, m in monomials:
                if (
                    family.coupled
                    and family.multiplier_degree
                    and sp.Poly(m, *G.inputs).total_degree() + len(kappa) > family.order
                ):
                    continue
                columns.append(Column(Derivative(tuple(p.name for p in kappa)), j, label))
                exprs.append(m * value)
    discovery = solve_family(
        G,
        columns,
        exprs,
        order=family.order,
        mode=mode if family.target == "function" else "regression",
        point={
            (p.name if family.k == 1 else f"{p.name}[eta_{j + 1}]"): str(v)
            for j, theta in enumerate(chosen)
            for p, v in theta.items()
        },
        factor=common_exponential_factor(G.expr.xreplace(chosen[0])) if family.k == 1 else sp.Integer(1),
        digits=digits,
        seed=seed,
        certify=certify,
        time_limit_s=time_limit_s,
        started=started,
    )
    return IdentifiabilityResult(family, discovery)


@dataclass(frozen=True)
class TableRow:
    """One gate x expert pair: relations at orders 1 and 2 (None: not differentiable) and strong identifiability."""

    gate: str
    expert: str
    relations: dict[int, int | None]
    strong: bool | None
    note: str = ""
    strong_proved: bool = False

    def to_dict(self) -> dict:
        return {
            "gate": self.gate,
            "expert": self.expert,
            **{f"relations_order_{r}": n for r, n in self.relations.items()},
            "strongly_identifiable": self.strong,
            "strong_proved": self.strong_proved,
            "note": self.note,
        }


@dataclass
class IdentifiabilityTable:
    """Rows over catalogue gate x expert pairs (see :func:`identifiability_table`)."""

    rows: tuple[TableRow, ...]
    d: int
    mode: str
    strong_family: DerivativeFamily
    seconds: float

    def to_dict(self) -> dict:
        return {
            "d": self.d,
            "mode": self.mode,
            "strong_family": self.strong_family.name,
            "strong_index_set": self.strong_family.index_set,
            "method": f"numeric null space at {MIN_DIGITS} digits, generic rational points",
            "rows": [r.to_dict() for r in self.rows],
            "seconds": round(self.seconds, 2),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        orders = sorted(self.rows[0].relations) if self.rows else []
        show = lambda v: "n/a" if v is None else ("yes" if v is True else "no" if v is False else str(v))  # noqa: E731
        header = [
            "gate",
            "expert",
            *(f"relations r={r}" for r in orders),
            f"strong (r={self.strong_family.order}, k={self.strong_family.k})",
        ]
        body = [
            [
                r.gate,
                r.expert,
                *(show(r.relations[o]) for o in orders),
                show(r.strong) + (" (proved)" if r.strong_proved else "") + (f"  ({r.note})" if r.note else ""),
            ]
            for r in self.rows
        ]
        widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
        fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
        lines = [fmt(header), fmt(["-" * w for w in widths])] + [fmt(b) for b in body]
        lines.append(f"strong family: {self.strong_family.index_set} [{self.strong_family.name}]")
        lines.append(
            f"d = {self.d}, {self.mode} mode; numeric null spaces at {MIN_DIGITS} digits; {self.seconds:.1f} s"
        )
        return "\n".join(lines)


def identifiability_table(
    gates: Sequence[str] | None = None,
    experts: Sequence[str] | None = None,
    d: int = 1,
    mode: str = "regression",
    orders: Sequence[int] = (1, 2),
    strong_order: int = 2,
    k: int = 2,
    seed: int = 0,
) -> IdentifiabilityTable:
    """Relations at each order (k = 1) and strong identifiability, over catalogue gate x expert pairs.

    A pair whose function is not differentiable enough (relu experts, the Laplace gate at order 2) gets
    ``None`` ("n/a") with the reason in ``note``.
    """
    started = time.perf_counter()
    strong = preset("strong", strong_order, k)
    rows = []
    for gate in gates or list(GATES):
        for expert in experts or list(EXPERTS):
            counts: dict[int, int | None] = {}
            notes = []
            for r in orders:
                try:
                    counts[r] = check_family(
                        (gate, expert), DerivativeFamily(order=r), d, mode, seed=seed
                    ).discovery.nullity
                except ModelError as exc:
                    counts[r] = None
                    notes.append(f"r={r}: {exc}".split(";")[0])
            strong_proved = False
            try:
                checked = check_family((gate, expert), strong, d, mode, seed=seed)
                is_strong: bool | None = checked.identifiable
                strong_proved = checked.identifiable and checked.proved
            except ModelError as exc:
                is_strong = None
                notes.append(str(exc).split(";")[0])
            rows.append(TableRow(gate, expert, counts, is_strong, notes[0] if notes else "", strong_proved))
    return IdentifiabilityTable(tuple(rows), d, mode, strong, time.perf_counter() - started)


__all__ = [
    "PRESET_NAMES",
    "DerivativeFamily",
    "IdentifiabilityResult",
    "IdentifiabilityTable",
    "TableRow",
    "check_family",
    "identifiability_table",
    "preset",
]
