"""A parametric function f(inputs; params) held as one sympy expression (the single source of truth)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from ..compile import Kernel, compile_expr
from ..errors import ModelError


@dataclass(frozen=True)
class ParametricFunction:
    """``expr`` as a function of ``inputs`` (data) and ``params`` (to be estimated).

    ``weight_params`` are parameters that only rescale the function (gate biases such as ``beta0`` in
    exp(beta.x + beta0)): identifiability theory treats them as mixing weights, so gate x expert
    products factor them out; they are listed for reference and never occur in ``expr``.
    """

    name: str
    expr: sp.Expr
    inputs: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    weight_params: tuple[sp.Symbol, ...] = ()

    def __post_init__(self) -> None:
        overlap = set(self.inputs) & set(self.params)
        if overlap:
            raise ModelError(f"{self.name}: symbols both input and parameter: {sorted(map(str, overlap))}")
        unknown = self.expr.free_symbols - set(self.inputs) - set(self.params)
        if unknown:
            raise ModelError(f"{self.name}: undeclared symbols {sorted(map(str, unknown))}")

    def param(self, name: str) -> sp.Symbol:
        """The parameter symbol called ``name``."""
        for p in (*self.params, *self.weight_params):
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params)
        raise ModelError(f"{self.name}: no parameter {name!r} (parameters: {known})")

    def derivative(self, *params: sp.Symbol | str) -> sp.Expr:
        """Mixed partial derivative d^r f / d params[0] ... d params[r-1]."""
        symbols = [self.param(p) if isinstance(p, str) else p for p in params]
        return sp.diff(self.expr, *symbols) if symbols else self.expr

    @cached_property
    def kernel(self) -> Kernel:
        """numpy kernel f(*inputs, *params) (see :func:`hmoe_theory.compile.compile_expr`)."""
        return compile_expr(self.expr, [*self.inputs, *self.params])

    def with_params_fixed(self, values: dict[sp.Symbol, sp.Expr], name: str | None = None) -> "ParametricFunction":
        """Substitute values for some parameters (they disappear from ``params``)."""
        return ParametricFunction(
            name or self.name,
            self.expr.subs(values),
            self.inputs,
            tuple(p for p in self.params if p not in values),
            tuple(p for p in self.weight_params if p not in values),
        )


def dot(u: Sequence[sp.Expr], v: Sequence[sp.Expr]) -> sp.Expr:
    """Euclidean inner product sum_k u_k v_k."""
    if len(u) != len(v):
        raise ModelError(f"dimension mismatch: {len(u)} vs {len(v)}")
    return sp.Add(*(a * b for a, b in zip(u, v)))
