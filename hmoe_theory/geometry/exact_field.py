"""Exact expressions as reduced rational functions over ``Q``: a canonical form that cancels as it goes.

Curvature formulas only add, multiply and divide the entries of ``J`` and ``H``. Written over a field of
rational functions ``Q(x_1, ..., x_k)`` in generators ``x_i`` that are *algebraically independent*, every
intermediate result has one canonical form (a fraction of coprime polynomials), so cancellation happens
per component and a curvature that equals ``6/R**2`` or ``-22500/58081`` comes out as exactly that.

Generators (chosen from all expressions at once, deterministically):

* free symbols (parameters and constants);
* ``E = exp(b * d)`` for each direction ``d`` of exponential arguments (``d`` a symbol, a product of
  symbols, or ``1`` for constant arguments) with ``b`` the gcd of the rational coefficients met, so that
  ``exp(sum_d m_d b_d d)`` is the monomial ``prod E_d**m_d``;
* ``T = tan(b * d / 2)`` for trigonometric arguments (half-angle substitution, no algebraic relation left):
  ``cos(m b d) + i sin(m b d) = ((1 + i T) / (1 - i T))**m``; hyperbolic functions are rewritten with exp;
* every other atom (``erf(u)``, ``log(2)``, ``sqrt(1 + u**2)``, ``Heaviside(u)``, ``pi``...) is its own generator.

Soundness: Lindemann-Weierstrass and Ax-Schanuel make ``u, exp(u), tan(u/2)`` (and constants ``exp(q)``,
``tan(q'/2)`` for rational ``q, q'``) algebraically independent, so no identity is invented; treating
dependent atoms (``erf`` and ``exp``, two unrelated rational angles with a huge common multiple) as
independent can only miss a cancellation, never produce a false one. Multiples above
:data:`MAX_MULTIPLE` get their own generator. Hypothesis: the expressions are real and finite where used.

Back to sympy (:meth:`ExactField.to_expr`): ``T`` becomes ``sin(t) / (1 + cos(t))`` (``t = b d``),
``sin(t)**2`` is reduced to ``1 - cos(t)**2`` and the denominator is rationalised by the conjugate
``sin(t) -> -sin(t)``: the result is ``(sum_I a_I prod_{j in I} sin(t_j)) / c`` with polynomials ``a_I, c`` in
the other generators, coprime -- canonical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import comb, gcd

import flint
import sympy as sp

from ..errors import ModelError

MAX_MULTIPLE = 1000  # exp(m b d), sin(m b d) with |m| above this: the atom gets a generator of its own

_HYPERBOLIC = (sp.tanh, sp.sinh, sp.cosh, sp.coth, sp.sech, sp.csch)
_TRIG = (sp.tan, sp.cot, sp.sec, sp.csc)


def _monic(num, den) -> "RationalFunction":
    lead = den.leading_coefficient()
    return RationalFunction(num / lead, den / lead) if lead != 1 else RationalFunction(num, den)


def _reduced(num, den) -> "RationalFunction":
    if num.is_zero():
        return RationalFunction(num, den.context().from_dict({(0,) * den.context().nvars(): 1}))
    common = num.gcd(den)
    if not common.is_one():
        num, den = num / common, den / common
    return _monic(num, den)


class RationalFunction:
    """A reduced fraction ``num / den`` of ``flint.fmpq_mpoly`` (``den`` with leading coefficient 1).

    Sums and products cancel as they go (Henrici's gcd tricks, so only gcds of the smaller pieces are
    taken); equal values have equal representations. Build with :func:`_reduced` or :func:`_monic`.
    """

    __slots__ = ("num", "den")

    def __init__(self, num, den):
        self.num, self.den = num, den

    def __add__(self, other: "RationalFunction") -> "RationalFunction":
        if other.num.is_zero():
            return self
        if self.num.is_zero():
            return other
        if self.den == other.den:
            return _reduced(self.num + other.num, self.den)
        common = self.den.gcd(other.den)
        if common.is_one():
            return _monic(self.num * other.den + other.num * self.den, self.den * other.den)
        left, right = self.den / common, other.den / common
        num = self.num * right + other.num * left
        if num.is_zero():
            return _reduced(num, common)
        second = num.gcd(common)
        if not second.is_one():
            num, common = num / second, common / second
        return _monic(num, common * left * right)

    def __neg__(self) -> "RationalFunction":
        return RationalFunction(-self.num, self.den)

    def __sub__(self, other: "RationalFunction") -> "RationalFunction":
        return self + (-other)

    def __mul__(self, other: "RationalFunction") -> "RationalFunction":
        if self.num.is_zero():
            return self
        if other.num.is_zero():
            return other
        g1, g2 = self.num.gcd(other.den), other.num.gcd(self.den)
        num = (self.num / g1) * (other.num / g2)
        return _monic(num, (self.den / g2) * (other.den / g1))

    def inverse(self) -> "RationalFunction":
        if self.num.is_zero():
            raise ModelError("division by zero in an exact expression")
        return _monic(self.den, self.num)

    def __truediv__(self, other: "RationalFunction") -> "RationalFunction":
        return self * other.inverse()

    def __pow__(self, k: int) -> "RationalFunction":
        if k < 0:
            return self.inverse() ** -k
        return RationalFunction(self.num**k, self.den**k)

    def is_zero(self) -> bool:
        return self.num.is_zero()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RationalFunction) and self.num == other.num and self.den == other.den

    def __repr__(self) -> str:
        return f"({self.num}) / ({self.den})"


def prepare(expr: sp.Expr) -> sp.Expr:
    """Rewrite hyperbolic functions with ``exp`` and ``tan, cot, sec, csc`` with ``sin, cos``."""
    expr = sp.sympify(expr)
    if expr.has(*_HYPERBOLIC):
        expr = expr.replace(lambda e: isinstance(e, _HYPERBOLIC), lambda e: e.rewrite(sp.exp))
    if expr.has(*_TRIG):
        table = {
            sp.tan: lambda x: sp.sin(x) / sp.cos(x),
            sp.cot: lambda x: sp.cos(x) / sp.sin(x),
            sp.sec: lambda x: 1 / sp.cos(x),
            sp.csc: lambda x: 1 / sp.sin(x),
        }
        expr = expr.replace(lambda e: isinstance(e, _TRIG), lambda e: table[type(e)](e.args[0]))
    return expr


def _linear_parts(argument: sp.Expr) -> dict[sp.Expr, Fraction] | None:
    """``argument = sum_d c_d d`` with rational ``c_d`` (``d = 1`` for the constant part), else None."""
    parts: dict[sp.Expr, Fraction] = {}
    for term in sp.Add.make_args(sp.expand(argument)):
        coefficient, rest = term.as_coeff_Mul()
        if not coefficient.is_Rational:
            return None
        if rest.has(sp.I):
            raise ModelError("the expression is complex-valued; the Fisher metric needs a real mean map")
        key = rest if rest != 1 else sp.S.One
        parts[key] = parts.get(key, Fraction(0)) + Fraction(int(coefficient.p), int(coefficient.q))
    return {d: c for d, c in parts.items() if c != 0}


def _fraction_gcd(values: Iterable[Fraction]) -> Fraction:
    numerator, denominator = 0, 1
    for v in values:
        numerator = gcd(numerator * v.denominator, abs(v.numerator) * denominator)
        denominator *= v.denominator
        common = gcd(numerator, denominator)
        numerator, denominator = numerator // common, denominator // common
    return Fraction(numerator, denominator)


@dataclass(frozen=True)
class _Base:
    """Generator ``exp(base * direction)`` or ``tan(base * direction / 2)``."""

    kind: str  # "exp" | "trig"
    direction: sp.Expr
    base: Fraction

    @property
    def angle(self) -> sp.Expr:
        return sp.Rational(self.base.numerator, self.base.denominator) * self.direction


class ExactField:
    """The field ``Q(generators)`` for a set of expressions; see the module docstring.

    ``to_field`` maps an expression (built from those given, by + - * / and integer powers) to a reduced
    fraction; ``to_expr`` maps a field element back to a canonical sympy expression.
    """

    def __init__(self, exprs: Iterable[sp.Expr]):
        exprs = [prepare(e) for e in exprs]
        self._symbols: set[sp.Symbol] = set()
        self._opaque: set[sp.Expr] = set()
        self._uses: dict[tuple[str, sp.Expr], set[Fraction]] = {}
        for e in exprs:
            self._collect(e)
        self._bases: dict[tuple[str, sp.Expr, Fraction], tuple[_Base, int]] = {}
        generators: list[tuple[sp.Expr, object]] = [(s, s) for s in sorted(self._symbols, key=sp.default_sort_key)]
        for (kind, direction), coefficients in sorted(self._uses.items(), key=lambda kv: (kv[0][0], sp.default_sort_key(kv[0][1]))):
            base = _fraction_gcd(coefficients)
            groups = [(base, coefficients)]
            if max(abs(c / base) for c in coefficients) > MAX_MULTIPLE:
                groups = [(c if c > 0 else -c, {c}) for c in sorted({abs(c) for c in coefficients})]
                groups = [(b, {c for c in coefficients if abs(c) == b}) for b, _ in groups]
            for b, members in groups:
                generator = _Base(kind, direction, b)
                generators.append((generator, generator))
                for c in members:
                    self._bases[kind, direction, c] = (generator, int(c / b))
        generators += [(a, a) for a in sorted(self._opaque, key=sp.default_sort_key)]
        self._values = [value for value, _ in generators]
        self.context = flint.fmpq_mpoly_ctx.get(tuple(f"x{k}" for k in range(max(1, len(generators)))), "lex")
        self._one = self.context.from_dict({(0,) * self.context.nvars(): 1})
        self.zero = RationalFunction(self._one * 0, self._one)
        self.one = RationalFunction(self._one, self._one)
        self._gen_of = {key: RationalFunction(g, self._one) for (key, _), g in zip(generators, self.context.gens())}
        self._memo: dict[sp.Expr, RationalFunction] = {}
        self._trig_memo: dict[tuple[_Base, int], tuple[object, object, object]] = {}

    # ------------------------------------------------------------ collection

    def _collect(self, expr: sp.Expr) -> None:
        stack = [expr]
        seen: set[sp.Expr] = set()
        while stack:
            e = stack.pop()
            if e in seen:
                continue
            seen.add(e)
            if e.is_Rational:
                continue
            if e.is_Symbol:
                self._symbols.add(e)
            elif e.is_Add or e.is_Mul:
                stack.extend(e.args)
            elif e.is_Pow and e.exp.is_Integer:
                stack.append(e.base)
            elif isinstance(e, (sp.exp, sp.sin, sp.cos)):
                kind = "exp" if isinstance(e, sp.exp) else "trig"
                parts = _linear_parts(e.args[0])
                if parts is None:
                    self._opaque.add(e)
                    continue
                for direction, c in parts.items():
                    self._uses.setdefault((kind, direction), set()).add(c)
            elif e.is_Float:
                continue
            elif e is sp.E:
                self._uses.setdefault(("exp", sp.S.One), set()).add(Fraction(1))
            elif e.is_Pow and e.exp.is_Rational:  # base**(p/q): a power of the generator base**(1/q)
                self._opaque.add(e.base ** sp.Rational(1, e.exp.q))
            elif e.has(sp.I) or e is sp.zoo or e is sp.nan or e.is_infinite:
                raise ModelError(f"the expression is not a finite real number ({e}); check the map and the point")
            else:
                self._opaque.add(e)

    # ------------------------------------------------------------ expression -> field

    def constant(self, value: object) -> RationalFunction:
        """A rational number as a field element."""
        value = sp.Rational(value)
        return RationalFunction(self._one * flint.fmpq(int(value.p), int(value.q)), self._one)

    def to_field(self, expr: sp.Expr) -> RationalFunction:
        """The reduced fraction representing ``expr`` (built from the expressions given at construction)."""
        return self._convert(prepare(expr))

    def _convert(self, e: sp.Expr) -> RationalFunction:
        cached = self._memo.get(e)
        if cached is not None:
            return cached
        if e.is_Rational:
            result = self.constant(e)
        elif e.is_Float:
            result = self.constant(sp.Rational(e))
        elif e.is_Symbol:
            result = self._gen_of[e]
        elif e.is_Add:
            result = self.zero
            for term in e.args:
                result = result + self._convert(term)
        elif e.is_Mul:
            result = self.one
            for factor in e.args:
                result = result * self._convert(factor)
        elif e.is_Pow and e.exp.is_Integer:
            result = self._convert(e.base) ** int(e.exp)
        elif e is sp.E:
            result = self._function(sp.exp(sp.S.One, evaluate=False))
        elif e.is_Pow and e.exp.is_Rational and e not in self._gen_of:
            result = self._gen_of[e.base ** sp.Rational(1, e.exp.q)] ** int(e.exp.p)
        elif isinstance(e, (sp.exp, sp.sin, sp.cos)) and e not in self._gen_of:
            result = self._function(e)
        else:
            result = self._gen_of[e]
        self._memo[e] = result
        return result

    def _function(self, e: sp.Expr) -> RationalFunction:
        kind = "exp" if isinstance(e, sp.exp) else "trig"
        parts = _linear_parts(e.args[0])
        if kind == "exp":
            result = self.one
            for direction, c in parts.items():
                generator, m = self._bases[kind, direction, c]
                result = result * self._gen_of[generator] ** m
            return result
        real, imaginary, denominator = self._one, self._one * 0, self._one
        for direction, c in parts.items():
            generator, m = self._bases[kind, direction, c]
            a, b, d = self._unit(generator, m)
            real, imaginary = real * a - imaginary * b, real * b + imaginary * a
            denominator = denominator * d
        return _reduced(real if isinstance(e, sp.cos) else imaginary, denominator)

    def _unit(self, generator: _Base, m: int) -> tuple[object, object, object]:
        """``cos(m t), sin(m t)`` as polynomials ``(a, b, d)`` with ``cos = a/d, sin = b/d``, ``T = tan(t/2)``:
        ``e^{i m t} = (1 + i T)^{2m} / (1 + T^2)^m`` (``(1 - i T)`` for ``m < 0``)."""
        key = (generator, m)
        if key not in self._trig_memo:
            T = self._gen_of[generator].num
            k, sign = 2 * abs(m), (1 if m > 0 else -1)
            real, imaginary = self._one * 0, self._one * 0
            for j in range(k + 1):
                term = T**j * comb(k, j)
                if j % 2 == 0:
                    real += term if j % 4 == 0 else -term
                else:
                    imaginary += sign * (term if j % 4 == 1 else -term)
            self._trig_memo[key] = (real, imaginary, (self._one + T**2) ** abs(m))
        return self._trig_memo[key]

    # ------------------------------------------------------------ field -> expression

    def _value(self, key: object) -> sp.Expr | _Exp:
        if isinstance(key, _Base):
            return _Exp(key.angle) if key.kind == "exp" else sp.tan(key.angle / 2)
        return key

    def to_expr(self, element: RationalFunction) -> sp.Expr:
        """Canonical sympy expression of a field element (see the module docstring)."""
        trig = [i for i, v in enumerate(self._values) if isinstance(v, _Base) and v.kind == "trig"]
        numer, denom = element.num.to_dict(), element.den.to_dict()
        used = [i for i in trig if any(m[i] for m in numer) or any(m[i] for m in denom)]
        if used:
            return self._trig_expr(numer, denom, used)
        values = [self._value(v) for v in self._values]
        return _fraction_expr(element.num, element.den, values)

    def _trig_expr(self, numer: dict, denom: dict, used: Sequence[int]) -> sp.Expr:
        """``T_j -> S_j / (1 + C_j)`` with ``S_j^2 = 1 - C_j^2``, rationalised by conjugates ``S_j -> -S_j``."""
        others = [i for i in range(len(self._values)) if i not in used]
        k = len(others)
        ctx = flint.fmpq_mpoly_ctx.get(tuple(f"y{j}" for j in range(k + 2 * len(used))), "lex")
        gens = ctx.gens()
        one = ctx.from_dict({(0,) * ctx.nvars(): 1})
        S = {i: k + 2 * j for j, i in enumerate(used)}  # S_j before C_j: lex order reduces S_j**2
        C = {i: k + 2 * j + 1 for j, i in enumerate(used)}
        degree = {i: max(max((m[i] for m in numer), default=0), max((m[i] for m in denom), default=0)) for i in used}
        # homogenise T_j = S_j / W_j (W_j = 1 + C_j, a variable in place of C_j), then compose W_j -> 1 + C_j
        images = list(gens)
        for i in used:
            images[C[i]] = one + gens[C[i]]

        def convert(p: dict):
            terms = {}
            for monomial, coefficient in p.items():
                exponents = [0] * ctx.nvars()
                for j, i in enumerate(others):
                    exponents[j] = monomial[i]
                for i in used:
                    exponents[S[i]] = monomial[i]
                    exponents[C[i]] = degree[i] - monomial[i]
                terms[tuple(exponents)] = coefficient
            return _reduce_squares(ctx.from_dict(terms).compose(*images), ctx, S, C, used)

        top, bottom = convert(numer), convert(denom)
        for i in used:
            if bottom.degrees()[S[i]] > 0:
                conjugate = _conjugate(bottom, ctx, S[i])
                top = _reduce_squares(top * conjugate, ctx, S, C, used)
                bottom = _reduce_squares(bottom * conjugate, ctx, S, C, used)
        fraction = _reduced(top, bottom)
        values = [self._value(self._values[i]) for i in others]
        for i in used:
            angle = self._values[i].angle
            values += [sp.sin(angle), sp.cos(angle)]

        def squares(expr: sp.Expr) -> sp.Expr:  # display: (cos t - 1)(cos t + 1) -> -sin(t)**2
            for i in used:
                t = self._values[i].angle
                expr = expr.subs((sp.cos(t) - 1) * (sp.cos(t) + 1), -sp.sin(t) ** 2)
            return expr

        return _fraction_expr(fraction.num, fraction.den, values, squares)


def _reduce_squares(p, ctx, S: dict[int, int], C: dict[int, int], used: Sequence[int]):
    """Normal form of ``p`` modulo ``S_j^2 = 1 - C_j^2``: every ``S_j`` of degree at most 1."""
    terms = p.to_dict()
    if all(m[S[i]] <= 1 for m in terms for i in used):
        return p
    # S_j^k = S_j^(k mod 2) Z_j^(k div 2) in a context with one more variable Z_j per pair, then Z_j -> 1 - C_j^2
    n = ctx.nvars()
    wide = flint.fmpq_mpoly_ctx.get(tuple(f"z{j}" for j in range(n + len(used))), "lex")
    reduced = {}
    for monomial, coefficient in terms.items():
        exponents = list(monomial) + [0] * len(used)
        for j, i in enumerate(used):
            exponents[S[i]], exponents[n + j] = monomial[S[i]] % 2, monomial[S[i]] // 2
        key = tuple(exponents)
        reduced[key] = reduced.get(key, 0) + coefficient
    one = ctx.from_dict({(0,) * n: 1})
    images = list(ctx.gens()) + [one - ctx.gens()[C[i]] ** 2 for i in used]
    return wide.from_dict(reduced).compose(*images)


def _conjugate(p, ctx, index: int):
    """``p`` with generator ``index`` negated."""
    return ctx.from_dict({m: (-c if m[index] % 2 else c) for m, c in p.to_dict().items()})


@dataclass(frozen=True)
class _Exp:
    """The value ``exp(angle)`` of a generator; powers in one monomial are combined into one ``exp``."""

    angle: sp.Expr


LARGE_TERMS = 200  # polynomials with more terms are written out without sympy's (slow) re-evaluation
FACTOR_MAX_TERMS = 400  # factor numerators/denominators (for display) only up to this many terms


def _fraction_expr(
    num, den, values: Sequence[sp.Expr | _Exp], rewrite: Callable[[sp.Expr], sp.Expr] | None = None
) -> sp.Expr:
    """``num / den`` as ``c * prod(factors of num) / prod(factors of den)``, factors primitive over ``Z``.

    Factorisation (flint) is skipped above :data:`FACTOR_MAX_TERMS` terms; the result is the same
    canonical fraction either way, only written differently."""
    top, top_content = _factors(num, values)
    bottom, bottom_content = _factors(den, values)
    if rewrite is not None and len(num.to_dict()) + len(den.to_dict()) <= LARGE_TERMS:
        top, bottom = rewrite(top), rewrite(bottom)
    number = sp.Rational(top_content.numerator * bottom_content.denominator, top_content.denominator * bottom_content.numerator)
    if len(num.to_dict()) + len(den.to_dict()) <= LARGE_TERMS:
        return number * top / bottom
    parts = ([] if number == 1 else [number]) + [top] + ([] if bottom == 1 else [sp.Pow(bottom, -1, evaluate=False)])
    return sp.Mul(*parts, evaluate=False) if len(parts) > 1 else parts[0]


def _factors(p, values: Sequence[sp.Expr | _Exp]) -> tuple[sp.Expr, Fraction]:
    """``p = content * expression`` with the expression a product of primitive integer polynomials."""
    terms = p.to_dict()
    if not terms:
        return sp.S.Zero, Fraction(1)
    if len(terms) <= FACTOR_MAX_TERMS and len(terms) > 1:
        content, factors = p.factor()
        pieces = [(factor.to_dict(), k) for factor, k in factors]
    else:
        content, pieces = flint.fmpq(1), [(terms, 1)]
    product, total = sp.S.One, Fraction(int(content.p), int(content.q))
    for piece, k in pieces:
        scale = _content(piece)
        total *= scale**k
        product *= _as_expr({m: Fraction(int(c.p), int(c.q)) / scale for m, c in piece.items()}, values) ** k
    return product, total


def _content(terms: dict) -> Fraction:
    """Positive rational ``c`` such that ``terms / c`` has coprime integer coefficients, sign of the leading term."""
    numerators = [int(c.p) for c in terms.values()]
    denominators = [int(c.q) for c in terms.values()]
    top = 0
    for x in numerators:
        top = gcd(top, abs(x))
    bottom = 1
    for q in denominators:
        bottom = bottom * q // gcd(bottom, q)
    leading = terms[max(terms)]
    return Fraction(top if leading > 0 else -top, bottom)


def _as_expr(terms: dict, values: Sequence[sp.Expr | _Exp]) -> sp.Expr:
    """The polynomial ``{monomial: coefficient}`` with its generators replaced by ``values``; the
    exponential generators of one monomial become a single ``exp`` of the summed angles (built without
    re-evaluation: ``exp`` of a real linear form has nothing to evaluate, and this is the slow step)."""
    exps = [i for i, value in enumerate(values) if isinstance(value, _Exp)]
    others = [i for i, value in enumerate(values) if not isinstance(value, _Exp)]
    result = []
    for monomial, coefficient in terms.items():
        factors = [values[i] ** monomial[i] for i in others if monomial[i]]
        angle = sp.Add(*(monomial[i] * values[i].angle for i in exps if monomial[i]))
        if angle != 0:
            factors.append(sp.exp(angle, evaluate=False))
        number = sp.Rational(coefficient.numerator, coefficient.denominator)
        if len(terms) <= LARGE_TERMS:
            result.append(sp.Mul(number, *factors))
        elif not factors:
            result.append(number)
        else:  # sympy's evaluation of Mul/Add costs ~1 ms a term here; the terms are already canonical
            head = [] if number == 1 else [number]
            result.append(sp.Mul(*head, *factors, evaluate=False) if len(head) + len(factors) > 1 else factors[0])
    return sp.Add(*result) if len(terms) <= LARGE_TERMS else sp.Add(*result, evaluate=False)
