"""The r-systems of location-scale Gaussian mixtures (Ho and Nguyen 2016, Prop. 2.1; arXiv 2505.10860 v1,
Appendix B): exact witnesses and exact non-existence proofs.

r̄(m) is the least r such that the system, for ℓ = 1..r,

    P_ℓ = Σ_{i=1}^m w_i Σ_{n1 + 2 n2 = ℓ} s1_i^{n1} s2_i^{n2} / (n1! n2!) = 0,       w_i = s3_i² > 0,

has no non-trivial real solution (all s3_i ≠ 0, some s1_i ≠ 0). P_ℓ is the coefficient of u^ℓ in
Σ_i w_i exp(s1_i u + s2_i u²), so P_ℓ is weighted-homogeneous of degree ℓ (s1 of weight 1, s2 of weight 2) and
linear homogeneous in w.

* :func:`witness_check` -- exact verification that a given real point solves P_1..P_{r} (rational s1, s2 and
  rational weights w = s3², so s3 = sqrt(w) is real) and is non-trivial: a proof of r̄(m) > r.
* :func:`prove_no_solution_m2` -- r̄(2) ≤ 4: with the scalings w_1 = 1, w_2 = t > 0 (homogeneity in w) and
  s1_2 = 1 (weighted homogeneity; s1_2 = 0 forces s1_1 = -t s1_2 = 0 by P_1, a trivial solution), P_1 gives
  s1_1 = -t; the lex Gröbner basis of P_2, P_3, P_4 in (s2_1, s2_2, t) contains a polynomial in t alone whose
  real roots are isolated exactly; none is positive, so there is no non-trivial real solution.
* :data:`WITNESSES` -- the witnesses r̄(2) > 3 (from arXiv 2505.10860 v1's reading of Ho-Nguyen) and r̄(3) > 5
  (a symmetric one: s1 = (-1, 0, 1), s2 = (-1/4, -5/12, -1/4), w = (1, 6/5, 1); odd P_ℓ vanish by symmetry and
  P_2 = P_4 = 0 fixes w_2 and s2_2).
* :func:`evaluate_poly` -- a rational polynomial at python-flint balls (arb/acb), used by the enclosures.

Beyond exact witnesses: :mod:`hmoe_theory.interactions.r_bar_enclosure` proves r̄(4) ≥ 8 (a real solution at
r = 7 enclosed by a Krawczyk test; the literature has r̄(4) ≥ 7), and :mod:`hmoe_theory.interactions.r_bar_lines`
replays weight-line evidence for r̄(3) ≤ 6.

The upper bound r̄(m) ≤ 2m (so r̄(3) = 6 and r̄(4) = 8) is proved in
:mod:`hmoe_theory.interactions.r_bar_upper` by a sign-change count, not by elimination: after the two scalings,
P_1..P_6 for m = 3 cut out a one-dimensional complex variety that does lie over positive weights (e.g.
w = (1, 0.2413, 1)), with non-real points there, and its full elimination (sympy, python-flint resultants,
Singular) did not finish in 5-15 min.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from math import factorial

import flint
import sympy as sp


def system(m: int, r: int, s1: Sequence, s2: Sequence, w: Sequence) -> list[sp.Expr]:
    """[P_1, ..., P_r] (see the module docstring), expanded."""
    s1, s2, w = ([sp.sympify(v) for v in vector] for vector in (s1, s2, w))
    equations = []
    for ell in range(1, r + 1):
        total = sp.Integer(0)
        for i in range(m):
            for n2 in range(ell // 2 + 1):
                n1 = ell - 2 * n2
                total += w[i] * s1[i] ** n1 * s2[i] ** n2 / sp.Integer(factorial(n1) * factorial(n2))
        equations.append(sp.expand(total))
    return equations


def evaluate_poly(poly: sp.Poly, values: dict) -> flint.arb | flint.acb:
    """poly at ball values (python-flint arb or acb, keyed by the poly's generators): Σ_α c_α Π x_i^{α_i} with
    each rational coefficient c_α exact, so the result encloses the value at every point of the balls."""
    total = flint.arb(0)
    for monomial, coefficient in poly.terms():
        term = flint.arb(flint.fmpq(int(coefficient.p), int(coefficient.q)))
        for variable, exponent in zip(poly.gens, monomial):
            if exponent:
                term = term * values[variable] ** exponent
        total = total + term
    return total


@dataclass(frozen=True)
class WitnessCheck:
    """Exact check of a candidate witness: the values of P_1..P_{r+1} at it."""

    m: int
    r: int
    values: tuple[sp.Rational, ...]

    @property
    def proves_lower_bound(self) -> bool:
        """P_1..P_r vanish exactly at a non-trivial real point: r̄(m) > r."""
        return all(v == 0 for v in self.values[: self.r])

    @property
    def next_value(self) -> sp.Rational:
        """P_{r+1} at the witness (non-zero: the witness does not reach r + 1)."""
        return self.values[self.r]


def witness_check(s1: Sequence, s2: Sequence, w: Sequence, r: int) -> WitnessCheck:
    """P_1..P_{r+1} at (s1, s2, w) in exact rationals; refuses a trivial or non-real point."""
    s1, s2, w = ([sp.Rational(v) for v in vector] for vector in (s1, s2, w))
    if not (len(s1) == len(s2) == len(w)):
        raise ValueError("s1, s2 and w need one entry per component")
    if any(v <= 0 for v in w) or all(v == 0 for v in s1):
        raise ValueError("a witness needs w_i = s3_i^2 > 0 and some s1_i != 0")
    values = system(len(s1), r + 1, s1, s2, w)
    return WitnessCheck(len(s1), r, tuple(sp.Rational(v) for v in values))


WITNESSES = {
    2: ((1, -1), (sp.Rational(-1, 2), sp.Rational(-1, 2)), (1, 1), 3),
    3: ((-1, 0, 1), (sp.Rational(-1, 4), sp.Rational(-5, 12), sp.Rational(-1, 4)), (1, sp.Rational(6, 5), 1), 5),
}


@dataclass(frozen=True)
class NonExistenceProof:
    """Outcome of an exact non-existence argument at (m, r)."""

    m: int
    r: int
    proved: bool
    eliminant: str
    positive_roots: int
    method: str
    seconds: float


def prove_no_solution_m2(r: int = 4) -> NonExistenceProof:
    """No non-trivial real solution of P_1..P_r for m = 2 (see the module docstring; r >= 4 needed)."""
    started = time.perf_counter()
    t, a, b = sp.symbols("t a b")
    equations = system(2, r, [-t, sp.Integer(1)], [a, b], [sp.Integer(1), t])
    if equations[0] != 0:
        raise AssertionError("P_1 must vanish identically after s1_1 = -t s1_2")
    basis = sp.groebner(equations[1:], a, b, t, order="lex")
    eliminant = [g for g in basis.exprs if g.free_symbols <= {t}]
    if not eliminant:
        return NonExistenceProof(2, r, False, "", -1, "the ideal has no polynomial in t alone (positive dimension)",
                                 time.perf_counter() - started)
    polynomial = sp.Poly(eliminant[0], t)
    positive = [root for root in polynomial.real_roots() if root > 0]
    return NonExistenceProof(
        2, r, not positive, str(sp.factor(eliminant[0])), len(positive),
        "lex Groebner basis of P_2..P_r after w = (1, t), s1 = (-t, 1); exact real root isolation of the eliminant",
        time.perf_counter() - started)
