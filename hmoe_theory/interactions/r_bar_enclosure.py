"""Rigorous real witnesses of the r-systems (lower bounds r̄(m) > r) by a Krawczyk enclosure in arb.

The r-system P_1..P_r of :func:`hmoe_theory.interactions.r_systems.system` has a non-trivial real solution iff
r̄(m) > r. When no rational solution is known, existence is proved as follows. Fix some coordinates to rationals
(here s1_1 = a_1 ≠ 0 and the weights w_i = s3_i² > 0, or all but some of them) so that the remaining unknowns x
(n of them) meet the n equations P_1..P_n (n = r): a square polynomial system F(x) = 0. For a box
X = x̃ + [-ρ, ρ]^n, a preconditioner Y ≈ F'(x̃)^{-1} and the Krawczyk operator

    K(X) = x̃ - Y F(x̃) + (I - Y F'(X)) (X - x̃),

K(X) ⊂ interior(X) implies that F has exactly one zero in X (Krawczyk 1969; Moore 1977, "A test for
existence of solutions to nonlinear systems", SIAM J. Numer. Anal. 14). F(x̃) and F'(X) are enclosed in arb ball
arithmetic (python-flint), so the inclusion test is rigorous. The zero is real (X is a real box), its weights
are the fixed positive rationals and a_1 ≠ 0, so it is a non-trivial real solution: r̄(m) ≥ r + 1 is proved.

:data:`ENCLOSED_WITNESSES` holds the certificates (fixed rationals and a 40-digit rational midpoint x̃) found by
``benchmarks/r_bar4_witness_search.py``: least squares from random starts, then Newton in 60-digit mpmath.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import flint
import sympy as sp

from hmoe_theory.balls import working_precision
from hmoe_theory.interactions.r_systems import evaluate_poly, system

_PRECISION_BITS = 300


@dataclass(frozen=True)
class WitnessCertificate:
    """A square subsystem of P_1..P_r for m components: a_1 and the listed weights fixed, the rest free.

    ``a1`` and ``weights`` are rationals (``None`` marks a free weight); ``midpoint`` lists the free unknowns
    in the order a_2..a_m, b_1..b_m, then the free weights; ``radius`` is the half-width of the box.
    """

    m: int
    r: int
    a1: sp.Rational
    weights: tuple[sp.Rational | None, ...]
    midpoint: tuple[sp.Rational, ...]
    radius: sp.Rational

    def symbols(self) -> tuple[list[sp.Symbol], list[sp.Expr], list[sp.Expr], list[sp.Expr]]:
        """(free unknowns, a, b, w) with the fixed values substituted."""
        a = [self.a1, *sp.symbols(f"a2:{self.m + 1}")]
        b = list(sp.symbols(f"b1:{self.m + 1}"))
        w = [value if value is not None else sp.Symbol(f"w{i + 1}") for i, value in enumerate(self.weights)]
        free = [*a[1:], *b, *[v for v in w if isinstance(v, sp.Symbol)]]
        return free, a, b, w


@dataclass(frozen=True)
class EnclosureResult:
    """Outcome of :func:`prove_witness`: Krawczyk inclusion, positivity of the weights, next equation."""

    m: int
    r: int
    contained: bool  # K(X) ⊂ interior(X): one real zero of P_1..P_r in the box
    weights_positive: bool  # every weight (fixed or enclosed) is > 0 on the box
    next_value: flint.arb  # enclosure of P_{r+1} over the box (excluding 0: the witness does not reach r + 1)

    @property
    def proves_lower_bound(self) -> bool:
        """r̄(m) > r: a real solution with positive weights and a_1 ≠ 0 exists."""
        return self.contained and self.weights_positive


def _ball(value: sp.Rational, radius: sp.Rational | None = None) -> flint.arb:
    centre = flint.arb(flint.fmpq(int(value.p), int(value.q)))
    return centre if radius is None else centre + flint.arb(0, flint.arb(flint.fmpq(int(radius.p), int(radius.q))))


def prove_witness(certificate: WitnessCertificate) -> EnclosureResult:
    """Krawczyk test (module docstring) on the box around ``certificate.midpoint``."""
    with working_precision(_PRECISION_BITS):
        return _prove_witness(certificate)


def _prove_witness(certificate: WitnessCertificate) -> EnclosureResult:
    free, a, b, w = certificate.symbols()
    if len(free) != certificate.r or len(certificate.midpoint) != len(free):
        raise ValueError(f"{len(free)} free unknowns and {len(certificate.midpoint)} midpoint entries for r = {certificate.r}")
    if certificate.a1 == 0 or any(v is not None and v <= 0 for v in certificate.weights):
        raise ValueError("a witness needs a_1 != 0 and positive fixed weights")
    equations = [sp.Poly(e, *free) for e in system(certificate.m, certificate.r + 1, a, b, w)]
    residuals, following = equations[:-1], equations[-1]
    jacobian = [[p.diff(v) for v in free] for p in residuals]
    centre = [_ball(v) for v in certificate.midpoint]
    box = [_ball(v, certificate.radius) for v in certificate.midpoint]
    n = len(free)
    value = flint.arb_mat([[evaluate_poly(p, dict(zip(free, centre)))] for p in residuals])
    preconditioner = flint.arb_mat([[evaluate_poly(d, dict(zip(free, centre))) for d in row] for row in jacobian]).mid().inv().mid()
    slope = flint.arb_mat([[evaluate_poly(d, dict(zip(free, box))) for d in row] for row in jacobian])
    identity = flint.arb_mat(n, n, [int(i == j) for i in range(n) for j in range(n)])
    offset = flint.arb_mat([[box[i] - centre[i]] for i in range(n)])
    krawczyk = flint.arb_mat([[c] for c in centre]) - preconditioner * value + (identity - preconditioner * slope) * offset
    contained = all(box[i].contains_interior(krawczyk[i, 0]) for i in range(n))
    enclosed = dict(zip(free, box))
    weights = [enclosed[v] if isinstance(v, sp.Symbol) else _ball(v) for v in w]
    return EnclosureResult(certificate.m, certificate.r, contained, all(x > 0 for x in weights),
                           evaluate_poly(following, enclosed))


def _rationals(*decimals: str) -> tuple[sp.Rational, ...]:
    return tuple(sp.Rational(d) for d in decimals)


#: (m, r) -> certificate of r̄(m) > r. (4, 7): a real solution of P_1..P_7 for m = 4 with a_1 = 1/2 and weights
#: (192, 213, 337, 258)/1000, so r̄(4) ≥ 8 (the literature has r̄(4) ≥ 7).
ENCLOSED_WITNESSES: dict[tuple[int, int], WitnessCertificate] = {
    (4, 7): WitnessCertificate(
        4, 7, sp.Rational(1, 2), _rationals("24/125", "213/1000", "337/1000", "129/500"),
        _rationals("-0.2172449376003112746965417855376171859288", "-0.3450346007817603633377878581137525873409",
                   "0.2579450859392230385860384050536708625454", "-0.04179311100441811574784866787541065521915",
                   "-0.08541542757013989420669339983531644063267", "-0.03004621591804709005536101043069072408221",
                   "-0.08265815756452515908824942566006717095234"),
        sp.Rational(1, 10**30)),
}
