"""r̄ bounds beyond the exact witnesses: the Krawczyk-enclosed witness r̄(4) >= 8 and the weight-line evidence for r̄(3) <= 6."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import flint
import pytest
import sympy as sp

from hmoe_theory.interactions.r_bar_enclosure import ENCLOSED_WITNESSES, WitnessCertificate, prove_witness
from hmoe_theory.interactions.r_bar_lines import check_all, load_weight_lines
from hmoe_theory.interactions.r_systems import evaluate_poly, system


def test_evaluate_poly_encloses_the_exact_value():
    x, y = sp.symbols("x y")
    poly = sp.Poly(sp.Rational(1, 3) * x**3 * y - 7 * y**2 + 2, x, y)
    ball = evaluate_poly(poly, {x: flint.arb(flint.fmpq(1, 7)), y: flint.arb(-2)})
    exact = poly.as_expr().subs({x: sp.Rational(1, 7), y: -2})
    assert ball.contains(flint.arb(flint.fmpq(int(exact.p), int(exact.q)))) and exact == sp.Rational(-2, 1029) - 26


def test_krawczyk_proves_a_real_solution_of_the_m4_r7_system():
    certificate = ENCLOSED_WITNESSES[(4, 7)]
    result = prove_witness(certificate)
    assert result.contained and result.weights_positive and result.proves_lower_bound
    assert result.next_value < 0  # P_8 != 0 at the zero: the witness stops at r = 7
    assert float(result.next_value.mid()) == pytest.approx(-1.3016200093e-7, rel=1e-9)
    # the midpoint solves P_1..P_7 to its 40 digits, and not P_8
    free, a, b, w = certificate.symbols()
    values = dict(zip(free, certificate.midpoint))
    residuals = [abs(sp.N(e.subs(values), 50)) for e in system(4, 7, a, b, w)]
    assert max(residuals) < 1e-38


def test_krawczyk_rejects_a_box_that_misses_the_zero_and_reproduces_the_m2_witness():
    certificate = ENCLOSED_WITNESSES[(4, 7)]
    shifted = replace(certificate, midpoint=(certificate.midpoint[0] + sp.Rational(1, 10**6), *certificate.midpoint[1:]))
    assert not prove_witness(shifted).contained
    # the exact m = 2 witness s1 = (1, -1), s2 = (-1/2, -1/2), w = (1, 1), rescaled to a_1 = 1/2
    two = WitnessCertificate(2, 3, sp.Rational(1, 2), (sp.Integer(1), sp.Integer(1)),
                             (sp.Rational(-1, 2), sp.Rational(-1, 8), sp.Rational(-1, 8)), sp.Rational(1, 10**20))
    result = prove_witness(two)
    assert result.proves_lower_bound and result.next_value < 0
    assert float(result.next_value.mid()) == pytest.approx(-1 / 96, rel=1e-12)  # -1/6 at a = (1, -1), times (1/2)^4
    with pytest.raises(ValueError, match="free unknowns"):
        prove_witness(replace(two, midpoint=two.midpoint[:2]))
    with pytest.raises(ValueError, match="positive fixed weights"):
        prove_witness(replace(two, weights=(sp.Integer(1), sp.Integer(-1))))


def test_weight_lines_have_no_real_solution_with_positive_weights():
    lines = load_weight_lines()
    assert Fraction(1) in lines
    verdicts = {v.k: v for v in check_all()}
    assert all(v.no_real_solution for v in verdicts.values()) and set(verdicts) == {Fraction(1, 4), Fraction(1, 2), Fraction(1), Fraction(2)}
    one = verdicts[Fraction(1)]
    assert one.factor_degrees == (1, 1, 2, 26) and one.positive_roots == 2  # factors t + 1, t + 2, t^2 + 2t + 25, ...
    assert one.max_residual < 1e-50  # the fibre points solve P_1..P_6 (consistency of the shipped bases)
    two = verdicts[Fraction(2)]
    assert two.factor_degrees == (1, 1, 54) and two.positive_roots == 0  # no complex point over positive t at all
