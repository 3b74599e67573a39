"""Weight-line evidence for r̄(3) ≤ 6: the r-system P_1..P_6 (:func:`hmoe_theory.interactions.r_systems.system`)
for m = 3 has no real solution on sampled lines of positive weights.

Normalisations: some s1_i ≠ 0 (non-trivial solution); permute it to i = 1 and scale u -> u / s1_1, so a_1 = 1
(a_i = s1_i, b_i = s2_i); weights w = (1, t, k) (homogeneity in w). On the line w_3 = k (k > 0 rational) the
system is square in (a2, a3, b1, b2, b3, t). The shipped data (``hmoe_theory/data/r_systems/weight_lines.csv``,
computed once by ``benchmarks/r_bar3_weight_lines.py`` with Singular 4.3.1) hold, per line,

* the irreducible factors f(t) over Q of a generator E(t) of the elimination ideal <P_1..P_6> ∩ Q[t], and
* for each factor with a positive real root: the reduced lex Gröbner basis of <P_1..P_6, f>
  (a2 > a3 > b1 > b2 > b3 > t) in the shape f(t), b3² + B(t) b3 + C(t), b2 - β2(b3, t), b1 - β1(b3, t),
  a3 - α3(b3, t), a2 - α2(b3, t).

:func:`check_line` replays the real part of the argument: exact isolation of the positive roots of every
factor (sympy, exact rationals) and, for a factor with positive roots, an arb enclosure of the discriminant
B(t)² - 4 C(t) over each root's isolating interval. A negative enclosure means b3 is not real, so no real point
of the system lies over that weight (a real point would have real b3). Over factors without a positive root
there is nothing to show. The fibre points are also substituted back into P_1..P_6 in complex ball arithmetic
(a consistency check of the data: every ball contains 0).

What is *not* re-verified: that the shipped polynomials generate the elimination ideal / the Gröbner basis
(Singular's computation is trusted), and that the sampled lines stand for all weights. Status: supported.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

import flint
import sympy as sp

from hmoe_theory.balls import working_precision
from hmoe_theory.interactions.r_systems import evaluate_poly, system
from hmoe_theory.shipped import shipped_file

WEIGHT_LINES = "r_systems/weight_lines.csv"
VARIABLES = sp.symbols("a2 a3 b1 b2 b3 t")
_PRECISION_BITS = 1200
_ROOT_WIDTH = sp.Rational(1, 10**150)


@dataclass(frozen=True)
class LineVerdict:
    """Outcome of :func:`check_line` on the weight line w = (1, t, k)."""

    k: Fraction
    factor_degrees: tuple[int, ...]
    positive_roots: int  # positive real roots t of E(t), over all factors
    nonreal_fibres: int  # of those, how many have b3 enclosed non-real (discriminant enclosure < 0)
    max_residual: float  # largest |P_l| bound over the fibre points substituted back (ball radius + midpoint)

    @property
    def no_real_solution(self) -> bool:
        """Every positive weight t on this line has a non-real fibre."""
        return self.nonreal_fibres == self.positive_roots


def load_weight_lines() -> dict[Fraction, dict[int, list[sp.Poly]]]:
    """{k: {factor index: [polynomials]}} from the shipped CSV (exact rational coefficients)."""
    terms: dict[Fraction, dict[int, dict[int, dict]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    with shipped_file(WEIGHT_LINES).open(newline="") as handle:
        for row in csv.DictReader(handle):
            monomial = tuple(int(row[str(v)]) for v in VARIABLES)
            terms[Fraction(row["k"])][int(row["factor"])][int(row["polynomial"])][monomial] = sp.Rational(row["coefficient"])
    return {
        k: {index: [sp.Poly.from_dict(polys[i], *VARIABLES) for i in sorted(polys)] for index, polys in factors.items()}
        for k, factors in sorted(terms.items())
    }


def _univariate(poly: sp.Poly, variable: sp.Symbol) -> sp.Poly:
    if poly.free_symbols - {variable}:
        raise ValueError(f"expected a polynomial in {variable} alone, got {poly.free_symbols}")
    return sp.Poly(poly.as_expr(), variable)


def _arb_ball(low: sp.Rational, high: sp.Rational) -> flint.arb:
    mid = (low + high) / 2
    return flint.arb(flint.fmpq(int(mid.p), int(mid.q))).union(flint.arb(flint.fmpq(int(low.p), int(low.q)))).union(
        flint.arb(flint.fmpq(int(high.p), int(high.q))))


def _split_quadratic(q: sp.Poly) -> tuple[sp.Poly, sp.Poly]:
    """(B, C) with q = c (b3² + B(t) b3 + C(t)), c a rational constant; raises if the basis does not have the expected shape."""
    b3, t = VARIABLES[4], VARIABLES[5]
    as_b3 = sp.Poly(q.as_expr(), b3)
    if as_b3.degree() != 2 or not as_b3.LC().is_Rational:
        raise ValueError("the second basis element is not quadratic in b3 with a constant leading coefficient")
    leading, linear, constant = as_b3.all_coeffs()
    return sp.Poly(linear / leading, t), sp.Poly(constant / leading, t)


def _linear_solution(poly: sp.Poly, variable: sp.Symbol) -> sp.Poly:
    """β with poly = c (variable - β(b3, t)), c a rational constant; raises if the basis element is not of that shape."""
    in_variable = sp.Poly(poly.as_expr(), variable)
    leading, rest = (in_variable.all_coeffs() + [None])[:2] if in_variable.degree() == 1 else (None, None)
    if leading is None or not leading.is_Rational or sp.sympify(rest).free_symbols - set(VARIABLES[4:]):
        raise ValueError(f"basis element not of the shape c {variable} - (polynomial in b3, t)")
    return sp.Poly(-rest / leading, *VARIABLES)


def check_line(k: Fraction, factors: dict[int, list[sp.Poly]]) -> LineVerdict:
    """The replay described in the module docstring, on the line w = (1, t, k)."""
    with working_precision(_PRECISION_BITS):
        return _check_line(k, factors)


def _check_line(k: Fraction, factors: dict[int, list[sp.Poly]]) -> LineVerdict:
    a2, a3, b1, b2, b3, t = VARIABLES
    degrees, positive_roots, nonreal, residual = [], 0, 0, 0.0
    for index in sorted(factors):
        polys = factors[index]
        f = _univariate(polys[0], t)
        degrees.append(f.degree())
        roots = [(lo, hi) for (lo, hi), _ in f.intervals(eps=_ROOT_WIDTH) if hi > 0]
        if any(lo <= 0 for lo, _ in roots):
            raise ValueError(f"factor {index} on k = {k}: a root interval straddles 0")
        positive_roots += len(roots)
        if not roots:
            continue
        B, C = _split_quadratic(polys[1])
        solved = [_linear_solution(poly, variable) for poly, variable in zip(polys[2:], (b2, b1, a3, a2))]
        if len(solved) != 4:
            raise ValueError(f"factor {index} on k = {k}: the basis is not in the expected shape")
        for lo, hi in roots:
            ball = _arb_ball(lo, hi)
            B_t, C_t = evaluate_poly(B, {t: ball}), evaluate_poly(C, {t: ball})
            discriminant = B_t**2 - 4 * C_t
            if discriminant < 0:
                nonreal += 1
            residual = max(residual, _fibre_residual(k, ball, B_t, discriminant, solved))
    return LineVerdict(k, tuple(degrees), positive_roots, nonreal, residual)


def _fibre_residual(k: Fraction, t_ball: flint.arb, B_t: flint.arb, discriminant: flint.arb,
                    solved: list[sp.Poly]) -> float:
    """max |P_l| (upper bound) at the fibre point b3 = (-B + i sqrt(-Δ)) / 2 substituted back into P_1..P_6."""
    a2, a3, b1, b2, b3, t = VARIABLES
    b3_value = (-flint.acb(B_t) + flint.acb(0, 1) * (-discriminant).sqrt()) / 2
    values = {t: flint.acb(t_ball), b3: b3_value}
    for variable, beta in zip((b2, b1, a3, a2), solved):
        values[variable] = evaluate_poly(beta, values)
    equations = system(3, 6, [1, a2, a3], [b1, b2, b3], [1, t, sp.Rational(k.numerator, k.denominator)])
    worst = 0.0
    for equation in equations:
        worst = max(worst, float(abs(evaluate_poly(sp.Poly(equation, *VARIABLES), values)).upper()))
    return worst


def check_all() -> list[LineVerdict]:
    """:func:`check_line` on every shipped weight line."""
    return [check_line(k, factors) for k, factors in load_weight_lines().items()]
