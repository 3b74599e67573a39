"""Deciding whether an expression is identically zero: proof, numerical support or counterexample.

:func:`decide_zero` answers for an expression ``e(v_1..v_m)`` (all free symbols are variables):

1. *probe*: evaluate ``e`` with mpmath at ``samples`` random rational points at ``digits`` digits.
   A value with ``|e| > 10^-(digits/2)`` that is stable when re-evaluated at twice the precision is a
   **counterexample** -> ``REFUTED`` (the rational point and the value are returned).
2. *proof*: otherwise try the rewriting strategies of :data:`STRATEGIES`, each under a wall-clock limit
   (``expand``; ``cancel`` with exp(p) as positive symbols; exponentials abstracted to fresh symbols;
   ``cancel(together(.))``; ``simplify``); reaching the literal 0 -> ``PROVED``.
3. If no strategy reaches 0 in time, the numeric evidence stands -> ``SUPPORTED`` (``max |e|`` over the
   points, all below ``10^-(digits/2)``): evidence, not a proof, and not a rigorous certificate either.

Random points: real symbols take rationals in [-3/2, 3/2] (denominator <= 16); symbols declared
positive take rationals in [1/8, 2]. Points where ``e`` is undefined are resampled.

:func:`polynomial_span` decides exactly whether a polynomial (in the given variables, coefficients
in any field of parameters) is a linear combination of others.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import mpmath
import sympy as sp

from .compile import compile_mpmath
from .errors import TimeLimitExceeded
from .timelimit import time_limit


class Status(str, enum.Enum):
    """Outcome of a check (also the vocabulary of the claims ledger)."""

    PROVED = "proved"  # exact symbolic argument or a rigorous (ball-arithmetic) enclosure
    CERTIFIED = "certified"  # a rigorous one-sided certificate (e.g. an enclosure bounding one side)
    SUPPORTED = "supported"  # numerical evidence only (50-digit agreement at random points, float ranks, MC CIs)
    REFUTED = "refuted"  # an explicit counterexample
    INCONCLUSIVE = "inconclusive"  # neither

    def __str__(self) -> str:
        return self.value


#: Positive statuses from the strongest to the weakest evidence.
EVIDENCE_ORDER = (Status.PROVED, Status.CERTIFIED, Status.SUPPORTED)


def weakest(statuses: Iterable[Status]) -> Status:
    """The weakest of positive statuses (``PROVED`` > ``CERTIFIED`` > ``SUPPORTED``); ``PROVED`` for none.

    A conjunction is only as strong as its weakest part: one numerically supported step makes the whole
    supported. ``REFUTED``/``INCONCLUSIVE`` are not positive: callers handle them before (ValueError here)."""
    ranks = [EVIDENCE_ORDER.index(s) if s in EVIDENCE_ORDER else None for s in statuses]
    if None in ranks:
        raise ValueError("weakest() orders proved, certified and supported only")
    return EVIDENCE_ORDER[max(ranks, default=0)]


@dataclass(frozen=True)
class ZeroDecision:
    """Result of :func:`decide_zero`."""

    status: Status
    method: str
    max_abs_value: float | None = None
    counterexample: dict[str, str] | None = None
    points: int = 0
    detail: str = ""

    @property
    def is_zero(self) -> bool:
        """Zero by proof or by numerical evidence (``PROVED``, ``CERTIFIED`` or ``SUPPORTED``)."""
        return self.status in (Status.PROVED, Status.CERTIFIED, Status.SUPPORTED)


def random_rational_point(symbols: Sequence[sp.Symbol], rng: random.Random) -> dict[sp.Symbol, sp.Rational]:
    """A random rational value per symbol (see module docstring for the ranges)."""
    point = {}
    for s in symbols:
        q = rng.randint(2, 16)
        if s.is_positive:
            point[s] = sp.Rational(rng.randint(max(1, q // 8), 2 * q), q)
        else:
            point[s] = sp.Rational(rng.randint(-(3 * q) // 2, (3 * q) // 2), q)
    return point


def _ordered_symbols(expr: sp.Expr, variables: Sequence[sp.Symbol] | None) -> list[sp.Symbol]:
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    if variables is None:
        return free
    extra = [s for s in free if s not in set(variables)]
    return list(variables) + extra


def _evaluator(
    expr: sp.Expr, symbols: Sequence[sp.Symbol]
) -> Callable[[Sequence[sp.Rational], int], mpmath.mpf | mpmath.mpc]:
    try:
        kernel = compile_mpmath([expr], symbols)
    except Exception:  # printer cannot express a function: fall back to sympy's own evalf
        kernel = None

    def evaluate(values: Sequence[sp.Rational], digits: int) -> mpmath.mpf | mpmath.mpc:
        """The value at a rational point, complex if the expression is complex there (never its real part)."""
        with mpmath.workdps(digits):
            if kernel is not None:
                try:
                    return mpmath.mpmathify(kernel(*(mpmath.mpf(v.p) / v.q for v in values))[0])
                except (TypeError, ValueError, ZeroDivisionError, AttributeError, NameError):
                    pass
            value = sp.N(expr, digits, subs=dict(zip(symbols, values)))
            if not value.is_number:
                raise ValueError("not a number at this point")
            real, imaginary = value.as_real_imag()
            return mpmath.mpc(mpmath.mpf(sp.Float(real, digits)), mpmath.mpf(sp.Float(imaginary, digits)))

    return evaluate


def numeric_zero_probe(
    expr: sp.Expr,
    variables: Sequence[sp.Symbol] | None = None,
    *,
    samples: int = 24,
    digits: int = 50,
    seed: int = 0,
) -> ZeroDecision:
    """Step 1 of :func:`decide_zero`: ``REFUTED`` with a counterexample, or ``SUPPORTED`` (numerical evidence)."""
    expr = sp.sympify(expr)
    symbols = _ordered_symbols(expr, variables)
    evaluate = _evaluator(expr, symbols)
    rng = random.Random(seed)
    threshold = mpmath.mpf(10) ** (-(digits // 2))
    largest = mpmath.mpf(0)
    evaluated = attempts = complex_points = 0
    while evaluated < samples and attempts < 20 * samples:
        attempts += 1
        point = random_rational_point(symbols, rng)
        values = [point[s] for s in symbols]
        try:
            value = evaluate(values, digits)
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            continue
        if not mpmath.isfinite(value):
            continue
        evaluated += 1
        complex_points += bool(mpmath.im(value) != 0)
        if abs(value) > threshold:
            again = evaluate(values, 2 * digits)
            if abs(again - value) <= abs(value) * mpmath.mpf(10) ** (-10):
                shown = {s.name: str(v) for s, v in zip(symbols, values)}
                return ZeroDecision(
                    Status.REFUTED,
                    f"mpmath evaluation at {digits} and {2 * digits} digits",
                    max_abs_value=float(abs(value)),
                    counterexample=shown,
                    points=evaluated,
                    detail=f"value {mpmath.nstr(value, 12)} at {shown}",
                )
        largest = max(largest, abs(value))
    if evaluated == 0:
        return ZeroDecision(Status.INCONCLUSIVE, "numeric probe", detail="no point where the expression is defined")
    flag = f"; complex-valued at {complex_points} of {evaluated} points" if complex_points else ""
    return ZeroDecision(
        Status.SUPPORTED,
        f"mpmath at {digits} digits, {evaluated} random rational points",
        max_abs_value=float(largest),
        points=evaluated,
        detail=f"max |value| = {mpmath.nstr(largest, 3)} over {evaluated} points{flag}",
    )


def rationalise_exponentials(expr: sp.Expr, symbols: Sequence[sp.Symbol] | None = None) -> sp.Expr:
    """``cancel`` with every ``exp(p)`` (p a free symbol) written as a positive symbol ``E_p``.

    After ``expand(power_exp=True)``, ``exp(2u - v)`` is ``E_u**2 / E_v``; the result is exactly 0 iff
    the rational function in the ``E_p`` cancels to 0 (p -> exp(p) is a bijection onto (0, inf), so no
    identity is lost and none is invented).
    """
    symbols = sorted(expr.free_symbols, key=lambda s: s.name) if symbols is None else symbols
    carriers = {p: sp.Symbol(f"E_{p.name}", positive=True) for p in symbols}
    expanded = sp.expand(expr, power_exp=True, mul=False, multinomial=False)
    rational = expanded.subs({sp.exp(p): c for p, c in carriers.items()})
    return sp.cancel(sp.together(rational)).subs({c: sp.exp(p) for p, c in carriers.items()})


def _canonical_cancel(argument: sp.Expr) -> sp.Expr:
    argument = sp.expand(argument)
    return argument if argument.is_polynomial() else sp.cancel(sp.together(argument))


def abstract_exponentials(
    exprs: Sequence[sp.Expr], canonical: Callable[[sp.Expr], sp.Expr] = sp.expand
) -> tuple[list[sp.Expr], dict[sp.Expr, sp.Symbol]]:
    """Replace exp atoms, innermost first, by one fresh symbol per ``canonical`` argument.

    Equal canonical arguments are equal functions, so identifying them is sound; distinct ones stay
    independent symbols, which can only make a remaining identity harder to prove, never false.
    Typical use: softmax expressions, where matching exponentials *is* the proof that scores agree.
    """
    exprs = [sp.sympify(e) for e in exprs]
    table: dict[sp.Expr, sp.Symbol] = {}
    while True:
        atoms = {a for e in exprs for a in e.atoms(sp.exp) if not a.args[0].has(sp.exp)}
        if not atoms:
            return exprs, table
        replacement = {atom: table.setdefault(canonical(atom.args[0]), sp.Dummy(f"t{len(table)}")) for atom in atoms}
        exprs = [e.xreplace(replacement) for e in exprs]


def _abstracted_numerator(canonical: Callable[[sp.Expr], sp.Expr]) -> Callable[[sp.Expr], sp.Expr]:
    def strategy(e: sp.Expr) -> sp.Expr:
        (abstracted,), _ = abstract_exponentials([e], canonical)
        return sp.expand(sp.fraction(sp.together(sp.expand(abstracted)))[0])

    return strategy


STRATEGIES: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "expand": lambda e: sp.expand(e, power_exp=True),
    "cancel after exp(p) -> positive symbol": rationalise_exponentials,
    "exponentials abstracted (expand keys)": _abstracted_numerator(sp.expand),
    "exponentials abstracted (cancel keys)": _abstracted_numerator(_canonical_cancel),
    "cancel(together(.))": lambda e: sp.cancel(sp.together(sp.expand(e, power_exp=True))),
    "simplify": sp.simplify,
}


def prove_zero(expr: sp.Expr, time_limit_s: float = 10.0, strategies: Sequence[str] | None = None) -> str | None:
    """Name of the first strategy (of :data:`STRATEGIES`, in order) rewriting ``expr`` to the literal 0
    within ``time_limit_s`` each, else None. Every strategy is a chain of identities, so 0 is a proof.
    A strategy that runs out of time or raises (sympy can, e.g. OverflowError in ``simplify`` of
    ``exp(-10**300)``) proves nothing, and the next one is tried."""
    expr = sp.sympify(expr)
    if expr == 0:
        return "literally zero"
    for name in strategies or STRATEGIES:
        try:
            with time_limit(time_limit_s, f"sympy {name}"):
                if STRATEGIES[name](expr) == 0:
                    return name
        except TimeLimitExceeded:
            continue
        except (ArithmeticError, ValueError, TypeError, NotImplementedError, RecursionError, sp.PolynomialError):
            continue
    return None


def decide_zero(
    expr: sp.Expr,
    variables: Sequence[sp.Symbol] | None = None,
    *,
    time_limit_s: float = 10.0,
    samples: int = 24,
    digits: int = 50,
    seed: int = 0,
    strategies: Sequence[str] | None = None,
) -> ZeroDecision:
    """Is ``expr`` identically zero in all its free symbols? See the module docstring."""
    expr = sp.sympify(expr)
    if expr == 0:
        return ZeroDecision(Status.PROVED, "literally zero")
    probe = numeric_zero_probe(expr, variables, samples=samples, digits=digits, seed=seed)
    if probe.status is Status.REFUTED:
        return probe
    method = prove_zero(expr, time_limit_s, strategies)
    if method is not None:
        return ZeroDecision(Status.PROVED, method, probe.max_abs_value, points=probe.points, detail=probe.detail)
    return probe


def decide_equal(lhs: sp.Expr, rhs: sp.Expr, **kwargs) -> ZeroDecision:
    """:func:`decide_zero` of ``lhs - rhs``."""
    return decide_zero(sp.sympify(lhs) - sp.sympify(rhs), **kwargs)


@dataclass(frozen=True)
class SpanResult:
    """Whether ``target`` lies in span(spanning); ``coefficients`` solve target = sum c_i spanning_i."""

    in_span: bool
    rank: int
    coefficients: tuple[sp.Expr, ...] | None = None
    monomials: int = 0


def polynomial_span(
    target: sp.Expr, spanning: Sequence[sp.Expr], variables: Sequence[sp.Symbol]
) -> SpanResult:
    """Exact test of ``target in span(spanning)`` for polynomials in ``variables``.

    Coefficients may involve other symbols (then the linear algebra is over their rational-function
    field, i.e. the answer holds for generic values of those symbols).
    """
    polys = [sp.Poly(sp.expand(e), *variables) for e in [*spanning, target]]
    monomials = sorted({m for p in polys for m in p.as_dict()})
    columns = [[p.as_dict().get(m, 0) for m in monomials] for p in polys]
    basis = sp.Matrix(columns[:-1]).T if spanning else sp.zeros(len(monomials), 0)
    augmented = sp.Matrix(columns).T
    rank = basis.rank(simplify=True) if spanning else 0
    in_span = augmented.rank(simplify=True) == rank
    coefficients = None
    if in_span and spanning:
        solution, params = basis.gauss_jordan_solve(sp.Matrix(columns[-1]))
        solution = solution.subs({p: 0 for p in params})
        coefficients = tuple(sp.simplify(c) for c in solution)
    return SpanResult(in_span, rank, coefficients, len(monomials))


def as_rational_point(point: Mapping[str, str]) -> dict[str, sp.Rational]:
    """Parse a counterexample back into rationals (for replaying it)."""
    return {name: sp.Rational(value) for name, value in point.items()}
