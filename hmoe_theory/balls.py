"""Rigorous ball arithmetic for parsed expressions (python-flint ``arb`` / ``acb``).

Chosen by measurement (``benchmarks/bench_balls.py``): python-flint's Arb balls against ``mpmath.iv`` intervals on
the same expressions and determinants; Arb is faster and its radii are tighter (numbers in the benchmark).

* :func:`arb_function` -- ``f = arb_function(expr, symbols)``; ``f(*values)`` is a ball containing ``expr`` at the
  point, for exact values (int, ``Fraction``, sympy ``Rational``, ``fmpq``; floats are their exact binary values)
  or balls (``arb`` -> ``arb``; any ``acb`` -> ``acb``). Nodes: ``+ * **`` (integer and rational exponents), exp,
  log, sqrt, sin, cos, tan, sinh, cosh, tanh, atan, erf, the constants pi and E, and the non-analytic nodes Abs,
  Max, Min, Heaviside, sign and DiracDelta (what the parser's relu/abs and their derivatives become; sigmoid,
  gelu, silu and softplus are spelled with exp/erf/log by :mod:`hmoe_theory.expr`). ``f.kinks`` lists the
  expressions whose zero set contains every point where ``expr`` is not analytic; a complex (``acb``) evaluation
  whose ball meets such a zero set is refused with :class:`NotAnalytic` (the real function has no analytic
  continuation there), and sqrt/log/non-integer powers are evaluated on the principal branch with the cut refused.
* :func:`enclose_integral` -- ``∫_lo^hi expr dx`` as an ``arb`` ball (Arb's rigorous Gauss-Legendre
  ``acb.integral``), split at the given breakpoints and at the kinks, each piece integrated with its own analytic
  branch (Abs(u) -> ±u, Max(u, v) -> u or v, Heaviside(u) -> 0 or 1).
* :func:`enclose_l2_squared` -- ``∫ diff² dμ`` for μ uniform on a box, d = 1 (kinks allowed) and d = 2 (nested
  rigorous integration of an analytic integrand); anything else raises :class:`NotCovered`.
* :func:`certify_nonsingular` -- a :class:`NonsingularCertificate` for a square or tall matrix of balls or exact
  numbers: a square minor whose determinant is enclosed away from 0 (exact rank for exact entries), or above
  ``PRECONDITIONED_ABOVE`` columns a contraction ‖I − R·A·D‖_F < 1 (R a float inverse, D a power-of-two column
  scaling), with a rigorous lower bound on its least singular value.

This module holds the project's one sympy -> arb evaluator (:func:`arb_function`). It flattens the expression DAG
(:func:`distinct_subexpressions`: shared subtrees once) into one generated straight-line Python function, one ball
operation per node: building it for the 1225 derivatives of a 48-parameter attention family costs ~0.04 CPU s, and a
call costs its ball operations plus one Python assignment per node (``benchmarks/bench_balls.py --evaluators``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import flint
import mpmath
import numpy as np
import scipy.linalg
import sympy as sp
from flint import acb, arb, arb_mat, fmpq, fmpq_mat, fmpz
from threadpoolctl import threadpool_limits

from .errors import HmoeError

Ball = arb | acb
DEFAULT_PRECISION = 128  # bits


class NotAnalytic(HmoeError, ValueError):
    """A complex evaluation met a point where the real function is not analytic (a kink or a branch cut)."""


class NotCovered(HmoeError, ValueError):
    """The requested rigorous enclosure is outside what this module can prove (the message says what is missing)."""


@contextmanager
def working_precision(bits: int) -> Iterator[None]:
    """Set python-flint's working precision to ``bits`` inside the block (restored afterwards)."""
    saved = flint.ctx.prec
    flint.ctx.prec = int(bits)
    try:
        yield
    finally:
        flint.ctx.prec = saved


def exact_rational(value) -> fmpq:
    """``value`` (int, Fraction, sympy Rational/Integer/Float, fmpq, fmpz, float, mpmath mpf) as an exact ``fmpq``.

    Floats, mpmath numbers and sympy Floats are converted to the rational they store exactly (no decimal
    rounding)."""
    if isinstance(value, fmpq):
        return value
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise NotCovered(f"cannot use the non-finite number {value!r} as an exact rational")
        sign, mantissa, exponent, _ = value._mpf_
        numerator = -int(mantissa) if sign else int(mantissa)
        return fmpq(numerator * 2**exponent) if exponent >= 0 else fmpq(numerator, 2**-exponent)
    if isinstance(value, (bool, int, fmpz)):
        return fmpq(int(value))
    if isinstance(value, Fraction):
        return fmpq(value.numerator, value.denominator)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotCovered(f"cannot use the non-finite number {value!r} as an exact rational")
        numerator, denominator = value.as_integer_ratio()
        return fmpq(numerator, denominator)
    if isinstance(value, sp.Basic) and value.is_Number and value.is_finite:
        rational = sp.Rational(value)
        return fmpq(int(rational.p), int(rational.q))
    raise NotCovered(f"{value!r} is not an exact real number")


def to_ball(value) -> Ball:
    """An ``arb``/``acb`` ball containing ``value`` (balls are returned unchanged; exact numbers, including doubles
    and mpmath numbers, give the exact ball of radius 0)."""
    if isinstance(value, (arb, acb)):
        return value
    return arb(exact_rational(value))


_EXP = np.frompyfunc(lambda z: z.exp(), 1, 1)


def weighted_normal(weight, deviation, variance):
    """w N(d | 0, v) = (w / sqrt(2 pi v)) exp(-d^2 / (2 v)) in ball arithmetic (v > 0); ``deviation`` a ball or an
    object array of balls (the exponential is taken element-wise)."""
    scaled = deviation * deviation * (-1 / (2 * variance))
    return (weight / (2 * arb.pi() * variance).sqrt()) * (scaled.exp() if isinstance(scaled, arb) else _EXP(scaled))


# ---------------------------------------------------------------------------------------------------- evaluation

_ANALYTIC_UNARY = {
    sp.exp: "exp", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh",
    sp.atan: "atan", sp.erf: "erf",
}
_KINKED = (sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign, sp.DiracDelta)


def _kink_arguments(node: sp.Expr) -> list[sp.Expr]:
    """Expressions whose zero set contains the points where the node ``node`` is not analytic."""
    if isinstance(node, (sp.Max, sp.Min)):
        args = list(node.args)
        return [args[i] - args[j] for i in range(len(args)) for j in range(i + 1, len(args))]
    return [node.args[0]]


def _is_complex(value: Ball) -> bool:
    return isinstance(value, acb)


def _meets_zero(value: Ball) -> bool:
    return (value.real if _is_complex(value) else value).contains(0)


def _refuse_kink(node: sp.Expr, argument: Ball) -> None:
    if _is_complex(argument) and argument.real.contains(0):
        raise NotAnalytic(f"{node} is not analytic where {_kink_arguments(node)[0]} = 0 and the complex ball meets it")


def _abs(node, value: Ball) -> Ball:
    _refuse_kink(node, value)
    if _is_complex(value):
        return value if value.real > 0 else -value
    return abs(value)


def _sign(node, value: Ball) -> Ball:
    _refuse_kink(node, value)
    if _is_complex(value):
        return acb(1) if value.real > 0 else acb(-1)
    return value.sgn()


def _heaviside(node, value: Ball) -> Ball:
    _refuse_kink(node, value)
    real = value.real if _is_complex(value) else value
    if real > 0:
        return arb(1)
    if real < 0:
        return arb(0)
    return arb(fmpq(1, 2), fmpq(1, 2))  # [0, 1]: every convention for H(0)


def _dirac(node, value: Ball) -> Ball:
    if _meets_zero(value):
        raise NotAnalytic(f"{node} is a distribution, not a function, where {node.args[0]} = 0")
    return arb(0)


def _extremum(node, values: list[Ball], pick_max: bool) -> Ball:
    result = values[0]
    for value in values[1:]:
        if _is_complex(result) or _is_complex(value):
            difference = acb(result) - acb(value)
            if difference.real.contains(0):
                raise NotAnalytic(f"{node} is not analytic where its arguments are equal and the complex ball meets it")
            result = result if (difference.real > 0) == pick_max else value
        else:
            result = result.max(value) if pick_max else result.min(value)
    return result


def _power(base: Ball, exponent: sp.Rational) -> Ball:
    if exponent.q == 1:
        return base ** int(exponent.p)
    if exponent.q == 2:
        root = base.sqrt(analytic=True) if _is_complex(base) else base.sqrt()
        return root ** int(exponent.p)
    if _is_complex(base):
        return base.pow(arb(exact_rational(exponent)), analytic=True)
    return base ** arb(exact_rational(exponent))


def _log(value: Ball) -> Ball:
    return value.log(analytic=True) if _is_complex(value) else value.log()


def _general_power(base: Ball, exponent: Ball) -> Ball:
    if _is_complex(base) or _is_complex(exponent):
        return acb(base).pow(acb(exponent), analytic=True)
    return (exponent * base.log()).exp()  # base > 0 required: a ball meeting 0 gives a non-finite result


def distinct_subexpressions(exprs: Sequence[sp.Expr]) -> list[sp.Expr]:
    """Every distinct subexpression of ``exprs``, each once, children before parents (a shared subtree is walked
    once: the cost is the size of the expression DAG, not of the trees)."""
    seen: dict[sp.Expr, None] = {}
    for root in exprs:
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in seen:
                continue
            if expanded or not node.args:
                seen[node] = None
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.args) if child not in seen)
    return list(seen)


class ArbFunction:
    """Rigorous ball evaluator of one sympy expression (see :func:`arb_function`).

    The expression (or list of expressions, which then gives a list of balls) is flattened once into its
    distinct subexpressions in dependency order (common subexpressions are evaluated once per call) and turned into
    one straight-line Python function, one ball operation per node (``v7 = v3 * v5``, ``v8 = v7.exp()``, ...):
    the source is generated here from the sympy DAG (node classes, indices and integer exponents only; never user
    text) and compiled once. Numbers, pi and E are hoisted: made into balls once per working precision (rounded
    as at that precision, so the bits are those of a node-by-node evaluation)."""

    def __init__(self, expr: sp.Expr | Sequence[sp.Expr], symbols: Sequence[sp.Symbol]):
        self.scalar = not isinstance(expr, (list, tuple))
        self.exprs = tuple(sp.sympify(e) for e in ([expr] if self.scalar else expr))
        self.expr = self.exprs[0] if self.scalar else None
        self.symbols = tuple(symbols)
        nodes = distinct_subexpressions(self.exprs)
        missing = {node for node in nodes if isinstance(node, sp.Symbol)} - set(self.symbols)
        if missing:
            raise NotCovered(f"arb_function: {', '.join(sorted(map(str, missing)))} not among the given symbols")
        self._index: dict[sp.Expr, int] = {}
        self._constants: list[sp.Expr] = []  # hoisted numbers, pi and E (balls made per precision: _balls_at)
        self._helpers: list[Callable] = []  # non-inlined operations (kinks, branches, non-integer powers)
        self._balls_at: dict[int, tuple[Ball, ...]] = {}
        position = {symbol: i for i, symbol in enumerate(self.symbols)}
        lines, kinks = ["def evaluate(inputs, c, h):"], []
        for node in nodes:
            if isinstance(node, _KINKED):
                kinks.extend(_kink_arguments(node))
            self._index[node] = len(self._index)
            lines.append(f" v{self._index[node]} = {self._operation(node, position)}")
        self.kinks = tuple(dict.fromkeys(kinks))
        results = [f"v{self._index[e]}" for e in self.exprs]
        lines.append(f" return {results[0]}" if self.scalar else f" return [{', '.join(results)}]")
        namespace: dict = {}
        exec(compile("\n".join(lines), "<arb_function>", "exec"), namespace)  # generated from the DAG, not user text
        self._evaluate = namespace["evaluate"]

    def _operation(self, node: sp.Expr, position: dict) -> str:
        """The right-hand side of the node's line: one ball operation on earlier lines' values ``v<i>``."""
        if isinstance(node, sp.Symbol):
            return f"inputs[{position[node]}]"
        if node is sp.pi or node is sp.E or node.is_Number:
            if node.is_Number:
                exact_rational(node)  # refuse a non-finite number now
            self._constants.append(node)
            return f"c[{len(self._constants) - 1}]"
        children = [f"v{self._index[arg]}" for arg in node.args]
        if isinstance(node, sp.Add):
            return " + ".join(children)
        if isinstance(node, sp.Mul):
            return " * ".join(children)
        if isinstance(node, sp.Pow):
            exponent = node.exp
            if exponent.is_Rational and exponent.q == 1:
                return f"{children[0]} ** ({int(exponent.p)})"
            if exponent.is_Rational:
                return self._helper(lambda base: _power(base, exponent), children[:1])
            return self._helper(_general_power, children)
        if node.func in _ANALYTIC_UNARY:
            return f"{children[0]}.{_ANALYTIC_UNARY[node.func]}()"
        if isinstance(node, sp.log):
            return self._helper(_log, children)
        kinked = {sp.Abs: _abs, sp.sign: _sign, sp.Heaviside: _heaviside, sp.DiracDelta: _dirac}
        for kind, evaluate in kinked.items():
            if isinstance(node, kind) and (kind is not sp.DiracDelta or len(node.args) == 1):
                return self._helper(lambda value, evaluate=evaluate: evaluate(node, value), children[:1])
        if isinstance(node, (sp.Max, sp.Min)):
            pick_max = isinstance(node, sp.Max)
            return self._helper(lambda *values: _extremum(node, list(values), pick_max), children)
        raise NotCovered(f"arb_function: no rigorous ball evaluation of {node.func.__name__} (in {node})")

    def _helper(self, function: Callable[..., Ball], arguments: list[str]) -> str:
        self._helpers.append(function)
        return f"h[{len(self._helpers) - 1}]({', '.join(arguments)})"

    def _constant_balls(self) -> tuple[Ball, ...]:
        """The hoisted constants as balls at the working precision (made once per precision)."""
        bits = flint.ctx.prec
        if bits not in self._balls_at:
            self._balls_at[bits] = tuple(arb.pi() if node is sp.pi else arb.const_e() if node is sp.E
                                         else arb(exact_rational(node)) for node in self._constants)
        return self._balls_at[bits]

    def __call__(self, *values) -> Ball | list[Ball]:
        if len(values) != len(self.symbols):
            raise TypeError(f"expected {len(self.symbols)} values, got {len(values)}")
        inputs = [v if type(v) is arb else to_ball(v) for v in values]
        if any(type(b) is not arb for b in inputs):
            inputs = [acb(b) for b in inputs]
        return self._evaluate(inputs, self._constant_balls(), self._helpers)


def arb_function(expr: sp.Expr | Sequence[sp.Expr], symbols: Sequence[sp.Symbol]) -> ArbFunction:
    """A callable returning a rigorous ball of ``expr`` (a list of balls for a list of expressions, sharing their
    common subexpressions) at exact rationals or balls (see the module docstring)."""
    return ArbFunction(expr, symbols)


# ------------------------------------------------------------------------------------------------------ integrals

def _real_roots(kink: sp.Expr, x: sp.Symbol, lo: fmpq, hi: fmpq) -> list[fmpq]:
    """The zeros of ``kink`` (a polynomial in ``x`` with rational roots) strictly inside (lo, hi), exactly."""
    if kink.free_symbols - {x}:
        raise NotCovered(f"the kink {kink} = 0 depends on {', '.join(sorted(map(str, kink.free_symbols - {x})))}; "
                         "substitute the parameters first")
    if x not in kink.free_symbols:
        return []
    try:
        polynomial = sp.Poly(sp.together(kink).as_numer_denom()[0], x, domain="QQ")
    except (sp.PolynomialError, sp.CoercionFailed):
        raise NotCovered(f"cannot locate the zeros of {kink} exactly; pass them as breakpoints") from None
    roots = []
    for root in polynomial.real_roots():
        if not root.is_Rational:
            raise NotCovered(f"the kink {kink} = 0 has the irrational root {root}; not covered")
        value = exact_rational(root)
        if lo < value < hi:
            roots.append(value)
    return roots


def _branch_on(expr: sp.Expr, x: sp.Symbol, point: fmpq) -> sp.Expr:
    """``expr`` with each non-analytic node replaced by the analytic branch it takes at ``point`` (between kinks)."""
    def value_at(argument: sp.Expr) -> arb:
        value = ArbFunction(argument, [x])(point)
        if value.contains(0):
            raise NotCovered(f"cannot decide the analytic branch of {argument} at x = {point}")
        return value

    def resolve(node: sp.Expr) -> sp.Expr:
        if isinstance(node, (sp.Max, sp.Min)):
            values = [ArbFunction(argument, [x])(point) for argument in node.args]
            for kink in _kink_arguments(node):
                value_at(kink)
            best = 0
            for i in range(1, len(values)):
                better = values[i] > values[best] if isinstance(node, sp.Max) else values[i] < values[best]
                best = i if better else best
            return node.args[best]
        positive = value_at(node.args[0]) > 0
        if isinstance(node, sp.Abs):
            return node.args[0] if positive else -node.args[0]
        if isinstance(node, sp.sign):
            return sp.Integer(1 if positive else -1)
        if isinstance(node, sp.Heaviside):
            return sp.Integer(1 if positive else 0)
        return sp.Integer(0)  # DiracDelta away from its support

    return expr.replace(lambda node: isinstance(node, _KINKED), resolve)


def _integrate_piece(function: ArbFunction, lo: fmpq, hi: fmpq) -> arb:
    def integrand(z: acb, analytic: bool) -> acb:
        try:
            return acb(function(z))
        except NotAnalytic:
            return acb("nan")
    value = acb.integral(integrand, acb(arb(lo)), acb(arb(hi)))
    if not value.real.is_finite():
        raise NotCovered(f"the integrand {function.expr} has no finite rigorous enclosure on [{lo}, {hi}]")
    return value.real  # the integral of a real function is real: the real part of the enclosure contains it


def enclose_integral(expr: sp.Expr, x: sp.Symbol, lo, hi, breakpoints: Sequence = (),
                     precision: int = DEFAULT_PRECISION) -> arb:
    """A ball containing ``∫_lo^hi expr dx`` (``expr`` in ``x`` only; ``lo < hi`` exact rationals).

    The interval is split at ``breakpoints`` and at the zeros of the kink arguments (Abs, Max, Heaviside, ...;
    polynomial with rational roots, else :class:`NotCovered`); on each piece every non-analytic node is replaced
    by the analytic branch it takes there, and the piece is integrated by ``acb.integral`` (Arb's rigorous
    Gauss-Legendre quadrature with error bounds from analyticity on ellipses) at ``precision`` bits."""
    expr = sp.sympify(expr)
    lo, hi = exact_rational(lo), exact_rational(hi)
    if not lo < hi:
        raise NotCovered(f"enclose_integral needs lo < hi, got [{lo}, {hi}]")
    with working_precision(precision):
        kinks = ArbFunction(expr, [x]).kinks
        cuts = {exact_rational(b) for b in breakpoints}
        for kink in kinks:
            cuts.update(_real_roots(kink, x, lo, hi))
        edges = [lo, *sorted(c for c in cuts if lo < c < hi), hi]
        total = arb(0)
        for left, right in zip(edges, edges[1:]):
            piece = _branch_on(expr, x, (left + right) / 2) if kinks else expr
            total += _integrate_piece(ArbFunction(piece, [x]), left, right)
        return total


def enclose_l2_squared(diff_expr: sp.Expr, inputs: Sequence[sp.Symbol], box: Sequence[tuple],
                       precision: int = DEFAULT_PRECISION) -> arb:
    """A ball containing ``∫ diff² dμ`` for μ the uniform probability on ``box`` = [(lo_1, hi_1), ...].

    d = 1: :func:`enclose_integral` (kinks allowed). d = 2: nested rigorous integration (the inner ``acb.integral``
    evaluated on the outer variable's complex balls), for integrands without kinks. Otherwise :class:`NotCovered`."""
    inputs = list(inputs)
    if len(inputs) != len(box):
        raise NotCovered(f"enclose_l2_squared: {len(inputs)} inputs but {len(box)} box sides")
    square = sp.sympify(diff_expr) ** 2
    sides = [(exact_rational(lo), exact_rational(hi)) for lo, hi in box]
    volume = fmpq(1)
    for lo, hi in sides:
        volume *= hi - lo
    if len(inputs) == 1:
        with working_precision(precision):
            return enclose_integral(square, inputs[0], *sides[0], precision=precision) / arb(volume)
    if len(inputs) != 2:
        raise NotCovered(f"enclose_l2_squared covers d = 1 and d = 2 inputs, not d = {len(inputs)}")
    with working_precision(precision):
        function = ArbFunction(square, inputs)
        if function.kinks:
            raise NotCovered(f"enclose_l2_squared in d = 2 needs an analytic integrand; {diff_expr} has kinks at "
                             f"{', '.join(map(str, function.kinks))} = 0")
        (lo1, hi1), (lo2, hi2) = sides

        def inner(z: acb, analytic: bool) -> acb:
            def integrand(w: acb, inner_analytic: bool) -> acb:
                try:
                    return acb(function(z, w))
                except NotAnalytic:
                    return acb("nan")
            return acb.integral(integrand, acb(arb(lo2)), acb(arb(hi2)))

        value = acb.integral(inner, acb(arb(lo1)), acb(arb(hi1)))
        if not value.real.is_finite():
            raise NotCovered(f"no finite rigorous enclosure of ∫ ({diff_expr})² on the box")
        return value.real / arb(volume)


# ----------------------------------------------------------------------------------------------- non-singularity

@dataclass(frozen=True)
class NonsingularCertificate:
    """Outcome of :func:`certify_nonsingular`.

    ``proved``: the square minor A on ``rows`` (all columns) is non-singular, so the matrix has full column rank:
    its determinant is enclosed away from 0 (``determinant``: the enclosure as text, exact for exact entries), or,
    above ``PRECONDITIONED_ABOVE`` columns, ``contraction``: an enclosure of ‖I − R·A·D‖_F < 1 for D an exact
    power-of-two column scaling and R a float approximate inverse of A·D (then R·A·D, hence A, is invertible;
    ``determinant`` is empty). ``sigma_min_lower``: a rigorous lower bound on σ_min(A) (σ_min ≥ 1/‖A⁻¹‖_F, or
    ≥ (1 − ‖I − R·A·D‖_F)/‖R‖_F · min D⁻¹; rounded down to a float; 0.0 when not proved or below float range); ``precision``: bits used (0 = exact rational arithmetic);
    ``reason``: why not proved."""

    proved: bool
    rows: tuple[int, ...]
    columns: int
    determinant: str
    sigma_min_lower: float
    precision: int
    reason: str = ""
    contraction: str = ""


def _is_exact_entry(value) -> bool:
    return isinstance(value, (int, Fraction, fmpq, fmpz)) or (isinstance(value, sp.Basic) and value.is_Rational)


PRECONDITIONED_ABOVE = 256  # columns above which non-singularity is proved by ‖I − R·A·D‖_F < 1 (one arb product, ~7x
#                             cheaper than arb_mat.det + inv at 477 columns) instead of the determinant


def _binary_exponent(value: arb) -> int | None:
    """e with 2^(e-1) ≤ |mid(value)| < 2^e, None for a zero midpoint."""
    mantissa, exponent = value.mid().man_exp()
    return int(fmpz(mantissa).bit_length()) + int(exponent) if mantissa != 0 else None


def scaled_midpoints(balls: Sequence[Sequence[arb]]) -> np.ndarray:
    """Float midpoints of a matrix of real balls after scaling each column by a power of two (its largest midpoint
    into [1/2, 1)), entries more than 2^-1000 below that read as 0: for choosing minors only, never for proofs."""
    return _scaled(balls)[0]


def _scaled(balls: Sequence[Sequence[arb]]) -> tuple[np.ndarray, list[int]]:
    """(:func:`scaled_midpoints`, the column exponents e_j: column j was multiplied by 2^-e_j). Exponents are
    Python integers: a ball may lie far outside the double range (e.g. exp(1e300 x))."""
    parts = []  # per entry: (mantissa in [1/2, 1) as a float, binary exponent) or None for a zero midpoint
    for row in balls:
        line = []
        for value in row:
            approx = float(value.mid())
            if 1e-300 < abs(approx) < 1e300:
                line.append(math.frexp(approx))
                continue
            exponent = _binary_exponent(value)
            if exponent is None:
                line.append(None)
                continue
            mantissa, _ = value.mid().man_exp()
            top = int(fmpz(mantissa).bit_length())
            line.append(((int(mantissa) >> max(top - 60, 0)) / 2 ** min(top, 60), exponent))
        parts.append(line)
    shifts = [max((line[j][1] for line in parts if line[j] is not None), default=0) for j in range(len(balls[0]))]
    table = np.zeros((len(balls), len(shifts)))
    for i, line in enumerate(parts):
        for j, part in enumerate(line):
            if part is not None and part[1] - shifts[j] > -1000:
                table[i, j] = math.ldexp(part[0], part[1] - shifts[j])
    return table, shifts


def _preconditioned(balls: Sequence[Sequence[arb]], table: np.ndarray, shifts: Sequence[int]) -> tuple[arb, float] | None:
    """(‖I − R·A_s‖_F enclosure, σ_min(A) lower bound) for the square ball matrix A (rows ``balls``): A_s = A·D with
    D = diag(2^-shifts[j]) (exact in arb), ``table`` its float midpoints, R the float64 inverse of ``table``; None
    when that float inverse does not exist. All products and norms are in ball arithmetic: a bound below 1 proves
    R·A_s, hence A_s and A, invertible, and σ_min(A) ≥ σ_min(A_s)·min_j 2^shifts[j] with
    σ_min(A_s) = 1/‖A_s⁻¹‖_2 ≥ (1 − ‖I − R·A_s‖_2)/‖R‖_2 ≥ (1 − ‖I − R·A_s‖_F)/‖R‖_F. (The scaling matters: without
    it the float errors of R are multiplied by ratios of column scales.)"""
    n = len(table)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            inverse = np.linalg.inv(table)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(inverse)):
        return None
    powers = [arb((1, -shift)) for shift in shifts]  # exact powers of two
    scaled = arb_mat([[value * power for value, power in zip(row, powers)] for row in balls])
    R = arb_mat([[arb(float(v)) for v in row] for row in inverse])
    product = R * scaled
    residual, size = arb(0), arb(0)
    for i in range(n):
        for j in range(n):
            entry = product[i, j] - (1 if i == j else 0)
            residual += entry * entry
            size += R[i, j] * R[i, j]
    contraction = residual.sqrt()
    bound = (1 - contraction) / size.sqrt() * arb((1, min(shifts)))
    sigma = 0.0
    if bound.is_finite() and bound.lower() > 0:
        sigma = math.nextafter(float(bound.lower().mid()), 0.0) * (1 - 2**-40)
    return contraction, sigma


def well_conditioned_rows(table: np.ndarray) -> tuple[int, ...]:
    """Rows of a well-conditioned square minor of the m x n float ``table`` (m >= n; e.g. :func:`scaled_midpoints`):
    QR with column pivoting of the transpose (a heuristic choice: it never affects soundness)."""
    rows, columns = table.shape
    if rows == columns:
        return tuple(range(rows))
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads cost more CPU than they save
        _, _, pivots = scipy.linalg.qr(table.T, pivoting=True, mode="economic", check_finite=False)
    return tuple(sorted(int(p) for p in pivots[:columns]))


def _sigma_lower(minor: arb_mat) -> float:
    """A float ≤ σ_min(minor), from σ_min ≥ 1/‖minor⁻¹‖_F (0.0 when the inverse is not enclosed)."""
    try:
        inverse = minor.inv()
    except ZeroDivisionError:
        return 0.0
    squares = arb(0)
    for entry in inverse.entries():
        squares += entry * entry
    bound = 1 / squares.sqrt()
    if not bound.is_finite() or not bound.lower() > 0:
        return 0.0
    return math.nextafter(float(bound.lower().mid()), 0.0) * (1 - 2**-40)


def certify_nonsingular(rows: Sequence[Sequence], precision: int = DEFAULT_PRECISION,
                        max_precision: int = 4 * DEFAULT_PRECISION) -> NonsingularCertificate:
    """Certify full column rank of an m × n matrix (m ≥ n) of balls or exact numbers.

    Exact entries (int, Fraction, sympy Rational, fmpq): exact rank, and the exact determinant of a non-singular
    n × n minor. Otherwise a square minor is chosen (all rows when square; else by QR with column pivoting of the
    column-scaled float midpoints, a heuristic that never affects soundness), and its determinant is enclosed with
    ``arb_mat.det`` at ``precision`` bits, doubling up to ``max_precision`` while the enclosure contains 0. Proved
    iff 0 is excluded. Above ``PRECONDITIONED_ABOVE`` columns the contraction ‖I − R·A·D‖_F < 1 is tried first
    (R a float inverse; see :class:`NonsingularCertificate`), the determinant only when it fails. The entries' own radii are kept: precision cannot make a wide ball narrower (re-evaluate the
    entries at a higher precision for that)."""
    matrix = [list(row) for row in rows]
    if not matrix or not matrix[0]:
        raise NotCovered("certify_nonsingular needs a non-empty matrix")
    m, n = len(matrix), len(matrix[0])
    if any(len(row) != n for row in matrix):
        raise NotCovered("certify_nonsingular: rows of different lengths")
    if m < n:
        return NonsingularCertificate(False, (), n, "", 0.0, 0, f"{m} rows cannot have rank {n}")
    if all(_is_exact_entry(value) for row in matrix for value in row):
        exact = fmpq_mat([[exact_rational(v) for v in row] for row in matrix])
        rank = exact.rank()
        if rank < n:
            return NonsingularCertificate(False, (), n, "0", 0.0, 0, f"exact rank {rank} < {n}")
        chosen = _exact_minor(exact, n)
        minor = fmpq_mat([[exact[i, j] for j in range(n)] for i in chosen])
        with working_precision(precision):
            sigma = _sigma_lower(arb_mat(minor))
        return NonsingularCertificate(True, chosen, n, str(minor.det()), sigma, 0)
    bits = precision
    while True:
        with working_precision(bits):
            balls = [[to_ball(v) for v in row] for row in matrix]
            if any(isinstance(v, acb) for row in balls for v in row):
                raise NotCovered("certify_nonsingular takes real entries")
            table, shifts = _scaled(balls)
            chosen = well_conditioned_rows(table)
            minor = arb_mat([balls[i] for i in chosen])
            if n > PRECONDITIONED_ABOVE:
                preconditioned = _preconditioned([balls[i] for i in chosen], table[list(chosen)], shifts)
                if preconditioned is not None and preconditioned[0] < 1:
                    contraction, sigma = preconditioned
                    return NonsingularCertificate(True, chosen, n, "", sigma, bits,
                                                  contraction=contraction.str(3, radius=False))
            determinant = minor.det()
            if not determinant.contains(0):
                return NonsingularCertificate(True, chosen, n, determinant.str(radius=True), _sigma_lower(minor), bits)
        if bits >= max_precision:
            return NonsingularCertificate(False, chosen, n, determinant.str(radius=True), 0.0, bits,
                                          "the determinant enclosure of the chosen minor contains 0")
        bits *= 2


def _exact_minor(matrix: fmpq_mat, n: int) -> tuple[int, ...]:
    """Rows of a non-singular n × n minor of an exact matrix of rank n (greedy: keep a row if it raises the rank)."""
    chosen: list[int] = []
    for i in range(matrix.nrows()):
        trial = fmpq_mat([[matrix[r, j] for j in range(n)] for r in [*chosen, i]])
        if trial.rank() == len(chosen) + 1:
            chosen.append(i)
        if len(chosen) == n:
            break
    return tuple(chosen)
