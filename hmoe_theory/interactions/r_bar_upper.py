"""r̄(m) ≤ 2m for the location-scale Gaussian r-systems, by counting sign changes (so r̄(3) = 6 and r̄(4) = 8).

The r-system (:func:`hmoe_theory.interactions.r_systems.system`) says that f(u) = Σ_{i=1}^m w_i exp(a_i u + b_i u²)
equals W = Σ_i w_i up to O(u^{r+1}). The argument (written out step by step in docs/r_bar.md):

1. **Shift to genuine Gaussians.** Take c > max_i(-2 b_i), c > 0, so s_i = 2 b_i + c > 0, and let
   g(x) = Σ_i w_i φ_{s_i}(x - a_i) - W φ_c(x), φ_s the N(0, s) density. Its ℓ-th moment is
   ℓ! Σ_{0 ≤ j < ℓ/2} (c/2)^j / j! · P_{ℓ-2j}   (ℓ ≥ 1; ∫ g = 0),
   because the moment generating function of g is e^{c u²/2} (f(u) - W). At a solution with r = 2m, the moments
   of g of orders 0..2m vanish. This identity is the algebraic step; :func:`check_shift_identity` re-verifies it
   exactly, coefficient by coefficient, per component (moments are linear in the weights).
2. **g ≠ 0** when some a_i ≠ 0 and every w_i > 0: otherwise f(u) = W for all real u, and the lexicographically
   largest pair (b_i, a_i) ≠ (0, 0) would dominate as u → +∞ (positive weights cannot cancel).
3. **At most 2m sign changes.** A real combination of n Gaussian densities has at most 2n - 2 sign changes
   (Kalai, Moitra & Valiant 2010, Prop. 7; proof in docs/r_bar.md by induction: deconvolve by the smallest
   variance, which turns those components into point masses, and use that the Gaussian kernel is totally
   positive, hence variation diminishing: Schoenberg 1951; Karlin 1968, Ch. 5). g has n = m + 1 terms.
4. **At least 2m + 1 sign changes.** A non-zero continuous function whose moments of orders 0..N vanish changes
   sign at least N + 1 times (else ∫ p g ≠ 0 for the polynomial p of degree ≤ N changing sign where g does).

Steps 3 and 4 contradict each other for N = 2m, so the r-system has no non-trivial real solution at r = 2m.
Together with the real solutions at r = 2m - 1 (m = 3: an exact witness; m = 4: a Krawczyk enclosure,
:mod:`hmoe_theory.interactions.r_bar_enclosure`) this gives r̄(3) = 6 and r̄(4) = 8; m = 2 recovers r̄(2) = 4.

Consistency with the counting lemmas: at those witnesses g has vanishing moments 0..2m-1, so by step 4 at least
2m sign changes, and by step 3 at most 2m. :func:`witness_sign_changes` certifies (arb signs at rational points,
:func:`certified_sign_changes` on :func:`gaussian_combination`) how many it has: exactly 2m for m = 2, 3, 4 --
the bound of step 3 is attained, and a count above 2m would refute it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import factorial

import flint
import sympy as sp

from hmoe_theory.balls import to_ball, weighted_normal, working_precision
from hmoe_theory.interactions.r_bar_enclosure import ENCLOSED_WITNESSES, WitnessCertificate
from hmoe_theory.interactions.r_systems import WITNESSES, system

_PRECISION_BITS = 300
#: rational abscissae x = i / 20, |x| <= 8, where the witnesses' sign changes are counted
GRID = tuple(Fraction(i, 20) for i in range(-160, 161))


def gaussian_moment(order: int, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    """E[X^order] for X ~ N(mean, variance): Σ_k C(order, 2k) mean^{order-2k} variance^k (2k-1)!!, expanded
    (a polynomial identity, so it holds for any real or complex 'variance')."""
    total = sp.Integer(0)
    for k in range(order // 2 + 1):
        total += sp.binomial(order, 2 * k) * mean ** (order - 2 * k) * variance**k * sp.factorial2(2 * k - 1)
    return sp.expand(total)


@dataclass(frozen=True)
class ShiftIdentity:
    """Outcome of :func:`check_shift_identity`: orders 0..max_order, and the first order where it failed."""

    max_order: int
    first_failure: int | None

    @property
    def holds(self) -> bool:
        return self.first_failure is None


def check_shift_identity(max_order: int) -> ShiftIdentity:
    """For symbolic a, b, c and ℓ = 0..max_order:
    E[N(a, 2b + c)^ℓ] = ℓ! Σ_{j ≤ ℓ/2} (c/2)^j / j! P_{ℓ-2j}(a, b), with P_0 = 1 and P_ℓ the one-component
    r-system polynomials (exact expansion in sympy).

    Summed over components with weights w_i, the j = ℓ/2 term gives W E[N(0, c)^ℓ], so the moments of
    g = Σ_i w_i φ_{2b_i+c}(· - a_i) - W φ_c are ℓ! Σ_{j < ℓ/2} (c/2)^j / j! P_{ℓ-2j}: step 1 of the module
    docstring."""
    a, b, c = sp.symbols("a b c")
    polynomials = [sp.Integer(1), *system(1, max_order, [a], [b], [1])] if max_order else [sp.Integer(1)]
    for order in range(max_order + 1):
        shifted = sum((c / 2) ** j / sp.factorial(j) * polynomials[order - 2 * j] for j in range(order // 2 + 1))
        if sp.expand(gaussian_moment(order, a, 2 * b + c) - factorial(order) * shifted) != 0:
            return ShiftIdentity(max_order, order)
    return ShiftIdentity(max_order, None)


def gaussian_combination(coefficients: Sequence, means: Sequence, variances: Sequence, x) -> flint.arb:
    """Σ_i c_i φ_{v_i}(x - μ_i) in arb, φ_v the N(0, v) density (entries exact rationals or arb balls, v_i > 0)."""
    x, total = to_ball(x), flint.arb(0)
    for coefficient, mean, variance in zip(coefficients, means, variances):
        total += weighted_normal(to_ball(coefficient), x - to_ball(mean), to_ball(variance))
    return total


def shifted_difference(weights: Sequence, means: Sequence, seconds: Sequence, c) -> tuple[list, list, list]:
    """(coefficients, means, variances) of g = Σ_i w_i φ_{2 b_i + c}(· - a_i) - W φ_c: m + 1 Gaussians."""
    weights = [to_ball(v) for v in weights]
    return ([*weights, -sum(weights)], [*means, 0], [*(2 * to_ball(b) + to_ball(c) for b in seconds), c])


def certified_sign_changes(coefficients: Sequence, means: Sequence, variances: Sequence,
                           grid: Sequence[Fraction] = GRID) -> tuple[int, int]:
    """(sign changes, undecided points) of Σ_i c_i φ_{v_i}(· - μ_i) along ``grid``: the sign of each value is taken
    only where its arb ball excludes 0, so the count is a rigorous lower bound on the function's sign changes."""
    signs, undecided = [], 0
    with working_precision(_PRECISION_BITS):
        for x in grid:
            value = gaussian_combination(coefficients, means, variances, x)
            if value > 0 or value < 0:
                signs.append(1 if value > 0 else -1)
            else:
                undecided += 1
    return sum(1 for left, right in zip(signs, signs[1:]) if left != right), undecided


@dataclass(frozen=True)
class SignChanges:
    """Sign changes of g at a witness, certified on a grid: ``changes`` among the grid points whose sign is
    decided (a lower bound on the sign changes of g); ``undecided`` grid points whose ball contains 0."""

    m: int
    r: int
    c: Fraction
    changes: int
    undecided: int

    @property
    def attains_bound(self) -> bool:
        """Exactly 2m certified sign changes: the count forced by r = 2m - 1 vanishing moments, and the
        largest that m + 1 Gaussians allow."""
        return self.changes == 2 * self.m


def _rational(value) -> Fraction:
    value = sp.Rational(value)
    return Fraction(int(value.p), int(value.q))


def _witness_parameters(m: int) -> tuple[list, list, list, list[Fraction], int]:
    """(w, a, b, midpoints of b, r) of the shipped witness at r = 2m - 1: exact for m = 2, 3; the Krawczyk box
    (arb balls) for m = 4."""
    if m in WITNESSES:
        a, b, w, r = WITNESSES[m]
        seconds = [_rational(v) for v in b]
        return [_rational(v) for v in w], [_rational(v) for v in a], seconds, seconds, r
    certificate: WitnessCertificate = ENCLOSED_WITNESSES[(m, 2 * m - 1)]
    radius = to_ball(_rational(certificate.radius))
    box = [to_ball(_rational(v)) + flint.arb(0, 2 * radius.mid()) for v in certificate.midpoint]  # ⊇ the Krawczyk box
    free, *_ = certificate.symbols()
    values = dict(zip(map(str, free), box))
    means = [to_ball(_rational(certificate.a1)), *(values[f"a{i}"] for i in range(2, m + 1))]
    seconds = [values[f"b{i}"] for i in range(1, m + 1)]
    midpoints = [_rational(v) for name, v in zip(map(str, free), certificate.midpoint) if name.startswith("b")]
    weights = [to_ball(_rational(v)) if v is not None else values[f"w{i + 1}"]
               for i, v in enumerate(certificate.weights)]
    return weights, means, seconds, midpoints, certificate.r


def witness_sign_changes(m: int) -> SignChanges:
    """Certified sign changes of g at the shipped witness for m components (m = 2, 3, 4), with c = 1 - 2 min b_i
    (rational, from the midpoints) and the points of :data:`GRID`."""
    with working_precision(_PRECISION_BITS):
        weights, means, seconds, midpoints, r = _witness_parameters(m)
        c = (1 - 2 * min(midpoints)).limit_denominator(10**6)
        coefficients, centres, variances = shifted_difference(weights, means, seconds, c)
        if not all(to_ball(v) > 0 for v in variances):
            raise ValueError("c does not make every variance 2 b_i + c positive")
        changes, undecided = certified_sign_changes(coefficients, centres, variances)
    return SignChanges(m, r, c, changes, undecided)
