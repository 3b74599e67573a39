"""Derivative tables of a parametric function, parameter points, and their validation.

For F(inputs; theta_1..theta_p) and an order r (1 <= r <= 4) the *derivative family* is

    { d^{|kappa|} F / d theta^kappa : kappa in N^p, min_order <= |kappa| <= r }

(kappa a multiset of parameters; |kappa| = 0 is F itself), listed in graded order: by |kappa|, then
lexicographically in the parameter order of F. Its size is sum_{s=min_order}^{r} C(p + s - 1, s).

A *parameter point* assigns a rational value to every parameter. The default point is random but
generic: non-zero values of distinct absolute value with small denominators (special points such as
a = 0 or a_1 = a_2 create extra relations); positive symbols (variances) get positive values.

Differentiability at the point is checked, never assumed: a derivative that is undefined there
(``zoo``/``nan`` after substitution), a ``sign``/``Heaviside``/``Abs``/``Max``/``Min`` whose argument
vanishes identically at the point, or a ``DiracDelta`` (F is not r times differentiable, e.g. relu
experts or the Laplace gate at r = 2) raise :class:`~hmoe_theory.errors.ModelError`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mpmath
import symengine
import sympy as sp

from .. import bounds
from ..balls import distinct_subexpressions
from ..compile import compile_mpmath
from ..errors import ModelError
from ..expr import parse_assignments, parse_expression, parse_names
from ..families import ParametricFunction, gate_expert
from ..symbols import real_symbol
from ..timelimit import time_limit

MAX_ORDER = 4
KINKS = (sp.sign, sp.Heaviside, sp.Abs, sp.Max, sp.Min)


@dataclass(frozen=True)
class Derivative:
    """d^{|kappa|} F / d theta^kappa; ``params`` is kappa as parameter names in graded/family order."""

    params: tuple[str, ...]

    @property
    def order(self) -> int:
        return len(self.params)

    @property
    def key(self) -> list[str]:
        """JSON form: parameter names sorted alphabetically, with repetition ([] is F itself)."""
        return sorted(self.params)

    @property
    def label(self) -> str:
        """``F``, ``dF/da``, ``d2F/db_1^2``, ``d2F/dbeta_1 dalpha``."""
        if not self.params:
            return "F"
        counts = {name: self.params.count(name) for name in dict.fromkeys(self.params)}
        parts = " ".join(f"d{n}" + (f"^{c}" if c > 1 else "") for n, c in counts.items())
        return f"d{self.order}F/{parts}" if self.order > 1 else f"dF/{parts}"


def check_order(order: int) -> None:
    """Orders 1..4 are supported (the family grows like p^r / r!)."""
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= MAX_ORDER:
        raise ModelError(f"derivative order must be an integer between 1 and {MAX_ORDER}, got {order!r}")


def derivative_multisets(params: Sequence[sp.Symbol], order: int, min_order: int = 0) -> list[tuple[sp.Symbol, ...]]:
    """All multisets kappa with min_order <= |kappa| <= order, in graded order."""
    return [c for s in range(min_order, order + 1) for c in itertools.combinations_with_replacement(params, s)]


def derivative_table(
    function: ParametricFunction, order: int, min_order: int = 0, time_limit_s: float = 60.0
) -> dict[tuple[sp.Symbol, ...], sp.Expr]:
    """{kappa: d^kappa F} for the family above (each derivative obtained from its parent by one diff)."""
    check_order(order)
    multisets = derivative_multisets(function.params, order, 1)
    bounds.check("columns", len(multisets) + 1, f"{function.name}: {len(multisets) + 1} derivatives up to order {order}")
    table: dict[tuple[sp.Symbol, ...], sp.Expr] = {(): function.expr}
    with time_limit(time_limit_s, f"derivatives of {function.name} up to order {order}"):
        for kappa in multisets:
            table[kappa] = sp.diff(table[kappa[:-1]], kappa[-1])
    return {k: v for k, v in table.items() if len(k) >= min_order}


#: functions symengine differentiates exactly like sympy (anything else: the sympy path)
SMOOTH_FUNCTIONS = (sp.exp, sp.log, sp.tanh, sp.sin, sp.cos, sp.erf)


def derivatives_at_point(
    function: ParametricFunction, order: int, point: Mapping[sp.Symbol, sp.Rational], min_order: int = 0
) -> dict[tuple[sp.Symbol, ...], sp.Expr]:
    """``at_point(derivative_table(function, order, min_order), point)``: the same exact derivatives at the
    point, computed with symengine (C++; ~100x faster on attention entries) when F is built from
    :data:`SMOOTH_FUNCTIONS`, powers and rationals only, then converted back to the project's symbols.
    Other functions (kinks, user specials) take the sympy path with its differentiability checks."""
    check_order(order)
    multisets = derivative_multisets(function.params, order, 1)
    bounds.check("columns", len(multisets) + 1, f"{function.name}: {len(multisets) + 1} derivatives up to order {order}")
    if not _symengine_safe(function.expr):
        return at_point(derivative_table(function, order, min_order), point)
    try:
        expr = symengine.sympify(function.expr)
        params = {p: symengine.sympify(p) for p in function.params}
        table = {(): expr}
        for kappa in multisets:
            table[kappa] = table[kappa[:-1]].diff(params[kappa[-1]])
        values = {symengine.sympify(p): symengine.sympify(v) for p, v in point.items()}
        names = {s.name: s for s in (*function.inputs, *function.params)}
        kappas = [k for k in table if len(k) >= min_order]
        converted = dict(zip(kappas, to_sympy([table[k].subs(values) for k in kappas], names)))
    except (symengine.SympifyError, sp.SympifyError, RuntimeError, TypeError, ValueError, NotImplementedError,
            AttributeError):
        return at_point(derivative_table(function, order, min_order), point)
    nodes = distinct_subexpressions(list(converted.values()))
    if any(isinstance(n, (sp.Derivative, sp.Subs)) or (isinstance(n, sp.Symbol) and n not in function.inputs)
           for n in nodes):
        return at_point(derivative_table(function, order, min_order), point)
    undefined = {n for n in nodes if n in (sp.zoo, sp.nan, sp.oo, -sp.oo)}
    for kappa, value in converted.items():
        if undefined and value.has(*undefined):
            what = Derivative(tuple(p.name for p in kappa)).label
            raise ModelError(f"F is not differentiable at the point: {what} is undefined there")
    return converted


def to_sympy(exprs: Sequence[symengine.Basic], names: Mapping[str, sp.Symbol]) -> list[sp.Expr]:
    """symengine expressions as sympy expressions, symbols named in ``names`` replaced by those (the project's
    symbols, with their assumptions); every distinct subexpression is converted once (by the sympy class of the
    same name, e.g. ``Add``, ``Pow``, ``tanh``), so the cost is the size of the expression DAG, not of the trees."""
    done: dict[symengine.Basic, sp.Expr] = {}
    for root in exprs:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in done:
                continue
            if not node.args:
                leaf = node._sympy_()
                done[node] = names.get(leaf.name, leaf) if isinstance(leaf, sp.Symbol) else leaf
            elif expanded:
                done[node] = getattr(sp, type(node).__name__)(*(done[child] for child in node.args))
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in node.args if child not in done)
    return [done[e] for e in exprs]


def _symengine_safe(expr: sp.Expr) -> bool:
    """Is ``expr`` built from sums, products, powers, symbols, numbers and :data:`SMOOTH_FUNCTIONS` only?"""
    plain = (sp.Add, sp.Mul, sp.Pow, sp.Symbol, sp.Number, sp.NumberSymbol)
    return all(isinstance(node, plain) or type(node) in SMOOTH_FUNCTIONS for node in sp.preorder_traversal(expr))


def resolve_function(
    function: ParametricFunction | tuple[str, str] | str, d: int = 1, mode: str = "regression"
) -> ParametricFunction:
    """A ParametricFunction, a (gate, expert) pair of catalogue names, or ``"gate x expert"``."""
    if isinstance(function, ParametricFunction):
        if mode != "regression":
            raise ModelError("mode applies to catalogue gate x expert families; write the density explicitly")
        return function
    if isinstance(function, str):
        parts = [p.strip() for p in function.split(" x ")]
        if len(parts) != 2:
            raise ModelError(f"expected 'gate x expert', got {function!r}")
        function = (parts[0], parts[1])
    gate, expert = function
    return gate_expert(gate, expert, d, mode)


def function_from_text(text: str, inputs: str | Sequence[str], params: str | Sequence[str]) -> ParametricFunction:
    """Parse a user function with the safe parser; every declared parameter must occur in it."""
    input_names = parse_names(inputs) if isinstance(inputs, str) else list(inputs)
    param_names = parse_names(params) if isinstance(params, str) else list(params)
    clash = sorted(set(input_names) & set(param_names))
    if clash:
        raise ModelError(f"names declared both as input and parameter: {', '.join(clash)}")
    expr = parse_expression(text, names=[*input_names, *param_names])
    input_symbols = tuple(real_symbol(n) for n in input_names)
    param_symbols = tuple(real_symbol(n) for n in param_names)
    absent = [p.name for p in param_symbols if p not in expr.free_symbols]
    if absent:
        raise ModelError(f"parameter(s) {', '.join(absent)} do not occur in the function {text!r}")
    if not any(x in expr.free_symbols for x in input_symbols):
        raise ModelError(f"the function {text!r} does not depend on the inputs {', '.join(input_names)}")
    return ParametricFunction("user function", expr, input_symbols, param_symbols)


def generic_point(params: Sequence[sp.Symbol], seed: int = 0) -> dict[sp.Symbol, sp.Rational]:
    """Random rational point: non-zero, distinct |values| in [1/11, 3/2]; positive symbols positive."""
    rng = random.Random(seed)
    used: set[sp.Rational] = set()
    point = {}
    for p in params:
        while True:
            q = rng.randint(3, 11)
            value = sp.Rational(rng.randint(1, (3 * q) // 2), q)
            if value not in used and value != 1:
                break
        used.add(value)
        point[p] = value if p.is_positive or rng.random() < 0.5 else -value
    return point


def distinct_generic_points(params: Sequence[sp.Symbol], k: int, seed: int = 0) -> list[dict[sp.Symbol, sp.Rational]]:
    """k pairwise distinct :func:`generic_point` s (seeds seed, seed + 1, ...; a repeat is skipped): the k
    distinct parameter tuples of an identifiability statement."""
    points: list[dict[sp.Symbol, sp.Rational]] = []
    offset = 0
    while len(points) < k:
        candidate = generic_point(params, seed + offset)
        offset += 1
        if all(candidate != p for p in points):
            points.append(candidate)
    return points


def _real_at_some_inputs(function: ParametricFunction, point: Mapping[sp.Symbol, sp.Rational], seed: int) -> bool:
    """Is F real and finite at all 8 random inputs in [-1.5, 1.5] (e.g. not sqrt of a negative variance)?"""
    kernel = compile_mpmath([function.expr.xreplace(dict(point))], function.inputs)
    rng = random.Random(seed)
    good = 0
    with mpmath.workdps(20):
        for _ in range(8):
            try:
                value = kernel(*(mpmath.mpf(rng.uniform(-1.5, 1.5)) for _ in function.inputs))[0]
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                continue
            good += bool(mpmath.isfinite(value) and mpmath.im(value) == 0)
    return good == 8


def parse_point(
    function: ParametricFunction, values: str | Mapping[str, object] | None, seed: int = 0
) -> dict[sp.Symbol, sp.Rational]:
    """Parameter point from ``"beta=0.3,a=-1/2"`` or a mapping; missing parameters get generic values.

    Generic values are redrawn (up to 20 times) while F is complex or undefined at some probe input, so a
    user function such as ``normal_pdf(y, m, nu)`` with a real symbol ``nu`` gets nu > 0; a point where F
    stays complex or undefined (given in full, or after 20 draws) is refused with a ModelError.
    """
    given = {} if values is None else (parse_assignments(values) if isinstance(values, str) else dict(values))
    by_name = {p.name: p for p in function.params}
    fixed: dict[sp.Symbol, sp.Rational] = {}
    for name, raw in given.items():
        if name not in by_name:
            raise ModelError(f"{function.name}: no parameter {name!r} (parameters: {', '.join(by_name)})")
        try:
            value = sp.Rational(raw) if not isinstance(raw, sp.Basic) else raw
        except (TypeError, ValueError):
            raise ModelError(f"value of {name!r} must be a rational number, got {raw!r}") from None
        if not (isinstance(value, sp.Basic) and value.is_Rational):
            raise ModelError(f"value of {name!r} must be rational (e.g. 0.3 or 3/10), got {raw}")
        if by_name[name].is_positive and value <= 0:
            raise ModelError(f"{name!r} is positive (a variance); got {value}")
        fixed[by_name[name]] = value
    for attempt in range(20):
        point = {**generic_point(function.params, seed + 1000 * attempt), **fixed}
        if _real_at_some_inputs(function, point, seed):
            return point
        if len(fixed) == len(function.params):
            break
    raise ModelError(
        f"{function.name} is complex-valued or undefined at some of 8 probe inputs in [-1.5, 1.5] at "
        f"{point_as_text(point)}; choose a point (--at) where it is real"
    )


def at_point(
    table: Mapping[tuple[sp.Symbol, ...], sp.Expr], point: Mapping[sp.Symbol, sp.Rational]
) -> dict[tuple[sp.Symbol, ...], sp.Expr]:
    """Substitute the point into every derivative, refusing points where F is not differentiable."""
    out = {}
    for kappa, expr in table.items():
        what = Derivative(tuple(p.name for p in kappa)).label
        if expr.has(sp.DiracDelta):
            raise ModelError(
                f"F is not {len(kappa)} times differentiable in the parameters ({what} contains a Dirac delta); "
                f"use a lower order"
            )
        for kink in (a for a in expr.atoms(*KINKS)):
            for arg in kink.args:
                value = arg.xreplace(point)
                if value.is_number and value == 0 and arg.free_symbols:
                    raise ModelError(f"F is not differentiable at the point: {kink} is singular there ({what})")
        value = expr.xreplace(dict(point))
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise ModelError(f"F is not differentiable at the point: {what} is undefined there")
        out[kappa] = value
    return out


def point_as_text(point: Mapping[sp.Symbol, sp.Rational]) -> str:
    """``beta=3/10,a=-1/2`` (re-usable as ``--at``)."""
    return ",".join(f"{p.name}={v}" for p, v in point.items())


__all__ = [
    "KINKS",
    "MAX_ORDER",
    "Derivative",
    "at_point",
    "check_order",
    "derivative_multisets",
    "derivative_table",
    "derivatives_at_point",
    "function_from_text",
    "generic_point",
    "parse_point",
    "point_as_text",
    "resolve_function",
]
