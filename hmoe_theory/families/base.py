"""A parametric function f(inputs; params) held as one sympy expression (the single source of truth)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import sympy as sp

from ..compile import Kernel, compile_expr
from ..errors import ModelError
from ..expr import parse_expression, parse_name
from ..newton_system import DerivedSystem
from ..symbols import indexed_name, input_symbols, real_symbol


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

    def newton_system(self, hessian: str = "exact") -> DerivedSystem:
        """The least-squares Newton system of f derived from ``expr`` (every parameter free)."""
        return DerivedSystem(self.expr, self.inputs, self.params, hessian)

    def with_params_fixed(self, values: dict[sp.Symbol, sp.Expr], name: str | None = None) -> "ParametricFunction":
        """Substitute values for some parameters (they disappear from ``params``)."""
        return ParametricFunction(
            name or self.name,
            self.expr.subs(values),
            self.inputs,
            tuple(p for p in self.params if p not in values),
            tuple(p for p in self.weight_params if p not in values),
        )


def is_linear_homogeneous(expr: sp.Expr, params: Sequence[sp.Symbol]) -> bool:
    """True when expr(x; p) = sum_m phi_m(x) p_m exactly: every dexpr/dp_m is free of the parameters and
    expr vanishes at p = 0 (then expr(x; p + t) = expr(x; p) + expr(x; t))."""
    params = tuple(params)
    if not params:
        return sp.simplify(expr) == 0
    if expr.xreplace({p: sp.Integer(0) for p in params}) != 0:
        return False
    return all(not (sp.diff(expr, p).free_symbols & set(params)) for p in params)


def identified_projection(
    expr: sp.Expr, inputs: Sequence[sp.Symbol], params: Sequence[sp.Symbol], points: int = 0, seed: int = 0
) -> np.ndarray:
    """Orthogonal projection P onto the identified directions of the parameters of ``expr``.

    If expr = phi(x) . p is linear in p (:func:`is_linear_homogeneous`), only the component of p in the row
    space of the feature matrix [phi_m(x_i)] is identified: p and p' give the same function iff
    P p = P p'. P = V_r V_r^T from the SVD of phi at generic inputs (rank r at relative tolerance 1e-9).
    For x^T A x, phi_{uv} = x_u x_v = phi_{vu}, so P p replaces A by sym(A). Otherwise (non-linear in p)
    the identity is returned: no redundancy is removed.
    """
    params = tuple(params)
    size = len(params)
    if not size or not is_linear_homogeneous(expr, params):
        return np.eye(size)
    features = [sp.diff(expr, p) for p in params]
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(points or 4 * size + 8, len(inputs)))
    phi = np.stack(
        [np.broadcast_to(compile_expr(f, list(inputs))(*X.T), (len(X),)) for f in features], axis=1
    )
    _, sing, vt = np.linalg.svd(phi, full_matrices=False)
    rank = int((sing > 1e-9 * max(sing.max(), 1e-300)).sum())
    basis = vt[:rank]
    projection = basis.T @ basis
    return np.where(np.abs(projection) < 1e-12, 0.0, projection)


def typed_term(text: str, inputs: Sequence[str], what: str) -> tuple[sp.Expr, tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """Parse ``text`` (safe parser) as a function of ``inputs``; parameters are the other names, sorted."""
    names = [parse_name(str(v)) for v in inputs]
    if len(set(names)) != len(names) or not names:
        raise ModelError(f"inputs must be distinct names, got {list(inputs)}")
    expr = parse_expression(text)
    x = tuple(real_symbol(v) for v in names)
    params = tuple(sorted(expr.free_symbols - set(x), key=lambda s: s.name))
    if not (expr.free_symbols & set(x)) and not params:
        raise ModelError(f"the {what} {text.strip()!r} is a constant: it has no input and no parameter")
    return expr, x, params


def typed_builder(expr: sp.Expr, inputs: tuple[sp.Symbol, ...], params: tuple[sp.Symbol, ...]) -> Callable:
    """Builder of a typed term: inputs renamed to the caller's x, parameters suffixed by the component."""

    def build(x: Sequence[sp.Symbol], component: int | None) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
        if len(x) != len(inputs):
            raise ModelError(f"this family has {len(inputs)} inputs, not {len(x)}")
        renamed = {p: real_symbol(indexed_name(p.name, component)) for p in params}
        return expr.xreplace({**dict(zip(inputs, x)), **renamed}), tuple(renamed[p] for p in params)

    return build


@cache
def builder_projection(builder: Callable, d: int) -> np.ndarray:
    """:func:`identified_projection` of a gate's or expert's unindexed term in dimension d (cached, read-only)."""
    x = input_symbols(d)
    expr, params = builder(x, None)
    projection = identified_projection(expr, x, params)
    projection.setflags(write=False)
    return projection


def dot(u: Sequence[sp.Expr], v: Sequence[sp.Expr]) -> sp.Expr:
    """Euclidean inner product sum_k u_k v_k."""
    if len(u) != len(v):
        raise ModelError(f"dimension mismatch: {len(u)} vs {len(v)}")
    return sp.Add(*(a * b for a, b in zip(u, v)))
