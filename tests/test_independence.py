"""Independence certificates (ball arithmetic at rational points) and the engine's soundness at extreme scales."""

from __future__ import annotations

import sympy as sp

from hmoe_theory.certify import Status
from hmoe_theory.expr import normal_pdf
from hmoe_theory.interactions import discover_relations, function_from_text
from hmoe_theory.interactions.independence import (certify_independence, certify_local_inverse_bound,
                                                   certify_rank)

x, y, a, b = sp.symbols("x y a b", real=True)
v = sp.Symbol("v", positive=True)


def test_independent_functions_get_a_proof_and_dependent_ones_do_not():
    proved = certify_independence([sp.exp(x), x * sp.exp(x), sp.Integer(1), sp.sin(x)], [x])
    assert proved.proved and proved.size == 4 and len(proved.points) == 4
    assert "non-singular 4x4" in proved.method
    dependent = certify_independence([sp.exp(x), sp.exp(x) * (1 + x), x * sp.exp(x)], [x], max_precision=256)
    assert not dependent.proved and "contains 0" in dependent.reason


def test_a_tiny_coefficient_is_seen_and_a_huge_exponent_gets_scaled_points():
    tiny = sp.Rational(1, 10**30)
    assert certify_independence([sp.exp(x * 3 / 10) * (tiny * x + sp.Rational(7, 10)), sp.exp(x * 3 / 10)], [x]).proved
    huge = sp.Integer(10) ** 300
    family = [sp.exp(huge * x) + huge, x * sp.exp(huge * x), sp.Integer(1), x**2 * sp.exp(huge * x)]
    certificate = certify_independence(family, [x])
    assert certificate.proved and "below float range" in certificate.method


def test_rank_bounds_combine_independent_columns_and_proved_relations():
    exprs = [sp.exp(x), x * sp.exp(x), 2 * sp.exp(x)]
    assert certify_rank(exprs, [x], [0, 1], proved_relations=1).proved
    partial = certify_rank(exprs, [x], [0, 1], proved_relations=0)
    assert (partial.lower, partial.upper, partial.proved) == (2, 3, False)
    assert "numerical rank 2; proved 2 <= rank <= 3" in partial.describe()


def _discover(text, params, at):
    return discover_relations(function_from_text(text, "x", params), order=2, point=at)


def test_extreme_scale_examples_give_the_true_rank_with_proofs():
    """Before: rank 3 / 7 relations (a false 'certified' relation F - 7/10 dF/db = 0)."""
    result = _discover("exp(beta*x)*(a*x+b)", "beta,a,b", "beta=3/10,a=1e-30,b=7/10")
    assert (result.rank, result.nullity, result.rank_proved) == (4, 6, True)
    assert all(r.status is Status.PROVED for r in result.relations)
    assert not result.implies({(): 1, ("b",): sp.Rational(-7, 10)})  # the old false relation
    huge = _discover("exp(a*x)+b", "a,b", "a=1e300,b=1e300")  # before: rank 3 and a refuted 'dF/db = 0'
    assert (huge.rank, huge.nullity, huge.rank_proved) == (4, 2, True)


def test_sigmoid_at_a_tiny_slope_keeps_only_the_true_relations():
    for tiny in ("1e-30", "1e-60"):
        result = _discover("sigmoid(w*x+w0)*(a*x+c)", "w,w0,a,c", f"w=3/2,w0=1/3,a={tiny},c=7/10")
        assert (result.rank, result.nullity, result.rank_proved) == (8, 7, True)
        # Euler's identity in (a, c) is true; the old 'F - 7/10 dF/dc = 0' (dropping a dF/da) is not
        assert result.implies({(): 1, ("a",): -sp.Rational(tiny), ("c",): sp.Rational(-7, 10)})
        assert not result.implies({(): 1, ("c",): sp.Rational(-7, 10)})


def test_local_inverse_bound_is_proved_at_order_one_and_fails_at_order_two_for_gaussians():
    density = normal_pdf(y, a * x + b, v)
    atoms = [{a: 1, b: 0, v: 1}, {a: -1, b: sp.Rational(1, 2), v: 2}]
    first = certify_local_inverse_bound(density, [x, y], [a, b, v], atoms, order=1)
    assert first.proved and len(first.functions) == 8 and "s = 1" in first.statement
    second = certify_local_inverse_bound(density, [x, y], [a, b, v], atoms, order=2)
    assert not second.proved  # d^2 f / db^2 = 2 df/dv: the order-2 family is dependent
