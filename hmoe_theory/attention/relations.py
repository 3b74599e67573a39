"""Parameter relations (PDEs) of an attention entry, split into constant-coefficient and theta-dependent ones.

For F = entry (i, c) of attention with a gate at ``position`` (:func:`.families.attention_entry_function`)
and an order r, a relation is sum_kappa c_kappa d^kappa F(x~; theta) = 0 for all token matrices X, at a
generic rational point theta_0 (:func:`hmoe_theory.interactions.discover_relations`: found by the
float-first engine, each relation proved exactly or supported by 50-digit numerics). The relations are found
again at a second generic point theta_1 (numeric), and

* *constant-coefficient* relations (PDEs) = span N(theta_0) ∩ span N(theta_1) (exact rational algebra),
  among them the *vanishing* derivatives (one-term relations such as d2F/dV^2 = 0);
* *theta-dependent* relations = the rest of N(theta_0) (e.g. homogeneity F = sum_l w_l dF/dw_l).

Under the reconstructed strong-identifiability notion of :mod:`hmoe_theory.interactions.identifiability`
(F and its derivatives up to order r at k >= 1 distinct generic points linearly independent) any relation
at theta_0 already means *not strongly identifiable*. ``gate_relations`` are the relations with a term
that differentiates in a gate weight (``Wg_...``); ``temperature_relations`` those with a ``tau`` term.
Hypotheses: theta_0, theta_1 generic (a relation holding only on a measure-zero set is missed; a
theta-dependent relation whose coefficients coincide at both points would be counted as constant).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import flint
import sympy as sp

from ..families import ParametricFunction
from ..interactions import Discovery, Relation, discover_relations
from .families import attention_entry_function


@dataclass(frozen=True)
class AttentionRelations:
    """Relations of one attention entry family at theta_0, classified (see module docstring)."""

    position: str
    param: str
    function: ParametricFunction
    discovery: Discovery
    constant_count: int

    @property
    def relations(self) -> tuple[Relation, ...]:
        return self.discovery.relations

    @property
    def theta_dependent_count(self) -> int:
        return len(self.relations) - self.constant_count

    def _with(self, prefix: str) -> tuple[Relation, ...]:
        return tuple(r for r in self.relations if any(p.startswith(prefix) for t in r.terms for p in t.column.derivative.params))

    @property
    def vanishing_count(self) -> int:
        """One-term relations: derivatives that vanish identically (e.g. d2F/dV^2 = 0, F linear in V)."""
        return sum(len(r.terms) == 1 for r in self.relations)

    @property
    def gate_relations(self) -> tuple[Relation, ...]:
        """Relations with a derivative in a gate weight ``Wg_...``."""
        return self._with("Wg")

    @property
    def temperature_relations(self) -> tuple[Relation, ...]:
        """Relations with a derivative in the temperature ``tau``."""
        return self._with("tau")

    @property
    def strongly_identifiable(self) -> bool:
        """Reconstructed notion: no relation at all among F and its derivatives at theta_0."""
        return not self.relations

    def __str__(self) -> str:
        found = self.discovery
        verdict = "yes" if self.strongly_identifiable else f"no ({len(self.relations)} relation(s) at theta_0)"
        return "\n".join(
            [
                f"family   {self.function.name} [{self.param} parametrisation]",
                f"params   {', '.join(p.name for p in self.function.params)}",
                f"theta_0  {', '.join(f'{k}={v}' for k, v in found.point.items())}",
                f"{found.size} derivatives of order <= {found.order}, rank {found.rank}, {len(self.relations)} relation(s): "
                f"{self.constant_count} constant-coefficient, {self.theta_dependent_count} theta-dependent, "
                f"{len(self.gate_relations)} with a gate weight, {len(self.temperature_relations)} with tau",
                *(f"  [{r.status.value}] {r.text}" for r in self.relations),
                f"strongly identifiable (reconstructed notion, order {found.order}): {verdict}",
            ]
        )

    def row(self) -> dict:
        """One line of the relation table."""
        statuses = {r.status.value for r in self.relations}
        return {
            "position": self.position,
            "param": self.param,
            "params": len(self.function.params),
            "functions": self.discovery.size,
            "rank": self.discovery.rank,
            "relations": len(self.relations),
            "constant": self.constant_count,
            "vanishing": self.vanishing_count,
            "theta_dependent": self.theta_dependent_count,
            "with_gate": len(self.gate_relations),
            "with_tau": len(self.temperature_relations),
            "status": "/".join(sorted(statuses)) or "-",
            "strongly_identifiable": self.strongly_identifiable,
        }


def _rows(discovery: Discovery) -> list[list[sp.Rational]]:
    index = {c: i for i, c in enumerate(discovery.columns)}
    rows = []
    for r in discovery.relations:
        if not all(isinstance(t.coefficient, Fraction) for t in r.terms):
            continue
        row = [sp.Integer(0)] * len(discovery.columns)
        for t in r.terms:
            row[index[t.column]] = sp.Rational(t.coefficient.numerator, t.coefficient.denominator)
        rows.append(row)
    return rows


def common_dimension(first: list[list[sp.Rational]], second: list[list[sp.Rational]]) -> int:
    """dim(span(first) ∩ span(second)) = dim first + dim second - dim(first + second) (exact rational rank,
    python-flint; the rows of each argument are linearly independent)."""
    if not first or not second:
        return 0
    stacked = flint.fmpq_mat([[flint.fmpq(int(v.p), int(v.q)) for v in row] for row in (*first, *second)])
    return len(first) + len(second) - stacked.rank()


def attention_relations(
    position: str = "plain",
    n_tokens: int = 2,
    dim: int = 1,
    n_heads: int = 1,
    *,
    param: str = "hmoe",
    temperature: bool = False,
    order: int = 2,
    seed: int = 0,
    proof_budget_s: float | None = 10.0,
) -> AttentionRelations:
    """Relations of the attention entry family at a generic point, classified (see module docstring)."""
    F = attention_entry_function(position, n_tokens, dim, n_heads, param=param, temperature=temperature)
    at_theta0 = discover_relations(F, order, seed=seed, proof_budget_s=proof_budget_s)
    at_theta1 = discover_relations(F, order, seed=seed + 1, certify=False)
    constant = common_dimension(_rows(at_theta0), _rows(at_theta1))
    return AttentionRelations(position, param, F, at_theta0, constant)


__all__ = ["AttentionRelations", "attention_relations", "common_dimension"]
