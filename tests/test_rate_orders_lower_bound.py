"""Identically zero mixed derivatives in the independence route, and the 2-input enclosures of the certificates."""

from fractions import Fraction

import pytest
import sympy as sp
from flint import arb, fmpq

from hmoe_theory.balls import NotCovered, working_precision
from hmoe_theory.rate_orders import rate_order
from hmoe_theory.rate_orders.certificates import _enclose_l2_squared_2d
from hmoe_theory.rate_orders.lower_bound import _without_zero_mixed, certify_lower_bound
from hmoe_theory.rate_orders.models import attention_entry

GRID = (1e-2, 10**-2.5, 1e-3, 10**-3.5)
x1, x2, p, q = sp.symbols("x1 x2 p q")


def test_zero_mixed_derivative_is_dropped_only_with_both_pure_squares():
    kept = [(0, (), x1), (0, (p, p), x1**2), (0, (p, q), sp.Integer(0)), (0, (q, q), x2**2)]
    exprs, dropped = _without_zero_mixed(kept)
    assert exprs == [x1, x1**2, x2**2] and dropped == ["d2/dpdq at atom 1"]
    without_square = [item for item in kept if item[1] != (q, q)]
    exprs, dropped = _without_zero_mixed(without_square)
    assert sp.Integer(0) in exprs and dropped == []  # kept: the independence proof then fails, as it must


def test_hmoe_entry_lower_bound_drops_the_value_cross_derivative():
    model = attention_entry("plain", 2, 2, 1, "hmoe", activation="tanh")
    lower = certify_lower_bound(model, 2, "atomwise", 2)
    assert lower["proved"] and lower["zero_mixed_dropped"] == ["d2/dV_1_1_1dV_1_2_1 at atom 1"]
    assert [c["size"] for c in lower["certificates"]] == [14]  # 1 + 4 + 10 derivatives, one dropped
    assert "identically 0 (sympy)" in lower["statement"]


def test_enclosure_in_two_inputs_contains_the_exact_integral():
    c = Fraction(1, 3)
    ball = _enclose_l2_squared_2d(x1 * x2 + sp.Rational(1, 3), [x1, x2], [(-1, 1), (-1, 1)])
    exact = fmpq(1, 9) + fmpq(c.numerator, c.denominator) ** 2  # mean of (x1 x2 + c)^2 on [-1, 1]^2
    shifted = _enclose_l2_squared_2d(x1 + x2, [x1, x2], [(0, 1), (0, 2)])  # E(x1 + x2)^2 = 1/3 + 4/3 + 2*1/2*1
    with working_precision(256):  # the exact values as balls far tighter than the enclosures
        assert ball.contains(arb(exact)) and ball.rad() < 1e-9
        assert shifted.contains(arb(fmpq(8, 3))) and shifted.rad() < 1e-9  # relative tolerance 2^-30


def test_enclosure_in_two_inputs_refuses_a_kink():
    with pytest.raises(NotCovered, match="analytic integrand"):
        _enclose_l2_squared_2d(sp.Max(x1, 0) * x2, [x1, x2], [(-1, 1), (-1, 1)])


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_hmoe_entry_order_two_is_proved_from_both_halves(activation):
    result = rate_order(attention_entry("plain", 2, 2, 1, "hmoe", activation=activation), 2, "atomwise", GRID)
    assert result.status == "proved" and result.lower_bound["proved"], result.text()
    certificate = result.certificate
    assert certificate["agrees_with_search"] and len(certificate["enclosures"]) == 4
    assert all(abs(lo - 2) < 1e-3 and abs(hi - 2) < 1e-3 for lo, hi in certificate["slope_bounds"])
    for row in result.table:  # tight rigorous balls at every eps <= 1e-2 of the grid
        lo, hi = row["enclosure"]
        assert 0 < lo <= hi < lo * (1 + 1e-6)
