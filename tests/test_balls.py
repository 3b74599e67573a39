"""Rigorous balls: expression evaluation, integrals with kinks, L2 norms on boxes, non-singularity certificates."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp
from flint import acb, arb, fmpq

from hmoe_theory.balls import (NotAnalytic, NotCovered, arb_function, certify_nonsingular, enclose_integral,
                               enclose_l2_squared, working_precision)
from hmoe_theory.expr import parse_expression

x, y = sp.symbols("x y", real=True)


def test_integral_of_exp_contains_e_minus_one_with_a_tiny_radius():
    with working_precision(128):
        value = enclose_integral(sp.exp(x), x, 0, 1)
        assert (value - (arb.const_e() - 1)).contains(0)
        assert value.rad() < 1e-30


def test_arb_function_encloses_the_parsers_sigmoid_gelu_and_relu():
    expr = parse_expression("sigmoid(w*x+b)*relu(x-1/3)+gelu(x)")
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)  # b, w, x
    function = arb_function(expr, symbols)
    exact = sp.N(expr.subs(dict(zip(symbols, [sp.Rational(1, 2), 1, 2]))), 70)
    with working_precision(200):
        value = function(Fraction(1, 2), 1, sp.Rational(2))
        assert (value - arb(str(exact))).abs_upper() < 1e-55  # 3.4947361027349023336...
        assert value.rad() < 1e-50
    assert function.kinks == (sp.Rational(1, 3) - symbols[2],)


def test_complex_evaluation_across_a_kink_is_refused_and_allowed_away_from_it():
    function = arb_function(sp.Abs(x - 1) * sp.exp(x), [x])
    with pytest.raises(NotAnalytic, match="not analytic"):
        function(acb(1, 0.5))
    value = function(acb(3, 1))  # branch x - 1 on the right of the kink: analytic continuation (x - 1) e^x
    assert value.real.overlaps(((acb(3, 1) - 1) * acb(3, 1).exp()).real)


def test_integral_splits_at_kinks_exactly():
    with working_precision(128):
        value = enclose_integral(sp.Abs(x - sp.Rational(1, 3)), x, 0, 1)  # 1/18 + 2/9 = 5/18
        assert (value - arb(fmpq(5, 18))).contains(0)
        assert value.rad() < 1e-30
        relu = enclose_integral(sp.Max(0, 2 * x - 1) * sp.exp(x), x, -1, 1)  # ∫_{1/2}^1 (2x-1)e^x = 2√e - e
        assert (relu - (2 * arb(fmpq(1, 2)).exp() - arb(1).exp())).contains(0)
        assert relu.rad() < 1e-30


def test_l2_squared_in_one_and_two_dimensions():
    with working_precision(128):
        one = enclose_l2_squared(x, [x], [(0, 2)])  # (1/2) ∫_0^2 x^2 = 4/3
        assert (one - arb(fmpq(4, 3))).contains(0) and one.rad() < 1e-30
        two = enclose_l2_squared(x * y, [x, y], [(0, 1), (0, 3)])  # E[x^2] E[y^2] = (1/3)(3) = 1
        assert (two - 1).contains(0) and two.rad() < 1e-20
    with pytest.raises(NotCovered, match="d = 3"):
        enclose_l2_squared(x, [x, y, sp.Symbol("z")], [(0, 1)] * 3)
    with pytest.raises(NotCovered, match="kinks"):
        enclose_l2_squared(sp.Max(0, x - y), [x, y], [(0, 1), (0, 1)])


def test_a_singular_matrix_is_not_certified_and_a_vandermonde_matrix_is():
    singular = certify_nonsingular([[1, 2, 3], [2, 4, 6], [0, 1, 5]])
    assert not singular.proved and "rank 2" in singular.reason
    vandermonde = certify_nonsingular([[Fraction(i) ** j for j in range(4)] for i in range(1, 6)])
    assert vandermonde.proved and vandermonde.determinant == "12"  # rows 1..4: ∏(x_j - x_i) = 1·2·3·1·2·1
    assert 0 < vandermonde.sigma_min_lower
    with working_precision(128):
        balls = [[arb(fmpq(i, 3)) ** j for j in range(4)] for i in range(1, 5)]
    certificate = certify_nonsingular(balls)
    assert certificate.proved and certificate.precision == 128
    with working_precision(128):
        third = arb(1) / 3
        near = certify_nonsingular([[third, 2 * third], [arb(1), arb(2)]])  # singular up to rounding
    assert not near.proved and "contains 0" in near.reason


def test_tall_matrix_with_extreme_column_scales_gets_a_minor():
    with working_precision(128):
        tiny, huge = arb(10) ** -60, arb(10) ** 60
        rows = [[tiny * arb(fmpq(i, 5)), huge * arb(fmpq(i, 5)) ** 2] for i in range(1, 7)]
    certificate = certify_nonsingular(rows)
    assert certificate.proved and len(certificate.rows) == 2


def test_large_minors_are_proved_by_a_float_inverse_and_singular_ones_are_not():
    import numpy as np

    from hmoe_theory.balls import PRECONDITIONED_ABOVE, exact_rational, to_ball

    n = PRECONDITIONED_ABOVE + 8
    rng = np.random.default_rng(0)
    scales = [2.0 ** int(e) for e in rng.integers(-300, 300, n)]  # columns 1e-90 .. 1e90: scaled before inverting
    with working_precision(128):
        rows = [[arb(float(v) * s) for v, s in zip(row, scales)] for row in rng.standard_normal((n + 4, n))]
        certificate = certify_nonsingular(rows)
        assert certificate.proved and certificate.determinant == "" and float(certificate.contraction) < 1e-6
        smallest_column = min(np.linalg.norm(np.array([[float(r[j].mid()) for j in range(n)] for r in rows]), axis=0))
        assert len(certificate.rows) == n and 0 < certificate.sigma_min_lower <= smallest_column  # sigma_min <= |A e_j|
        rows = [row[:-1] + [row[0] * 3] for row in rows]  # a duplicated (scaled) column
        assert not certify_nonsingular(rows, max_precision=128).proved
    import mpmath
    tiny = to_ball(-mpmath.mpf(2) ** -70)
    assert exact_rational(mpmath.mpf(0.375)) == fmpq(3, 8) and tiny.rad() == 0 and tiny == arb((-1, -70))


def test_generated_evaluator_gives_the_balls_of_a_node_by_node_evaluation():
    """One ball operation per DAG node in dependency order: the same midpoints and radii as the operations done by
    hand (shared subexpression exp(x y) once, the rational 1/3 rounded at the working precision)."""
    shared = sp.exp(x * y)
    function = arb_function([shared / 3 + x, shared * y**2, sp.sqrt(x)], [x, y])
    with working_precision(96):
        a, b = arb(fmpq(5, 7)), arb(fmpq(-2, 3))
        values = function(a, b)
        e = (a * b).exp()
        expected = [a + arb(fmpq(1, 3)) * e, b**2 * e, a.sqrt()]  # sympy's argument order: x + (1/3) e, y^2 e
        assert [v.mid() == w.mid() and v.rad() == w.rad() for v, w in zip(values, expected)] == [True] * 3
        assert values[0].rad() > 0  # a rounded operation, not an exact value
    with working_precision(320):  # the hoisted constants are made again at each precision: 1/3 is not kept at 96 bits
        assert function(Fraction(5, 7), Fraction(-2, 3))[0].rad() < 2.0**-300 < values[0].rad()
    with pytest.raises(TypeError, match="expected 2 values"):
        function(a)
