"""Zero decisions: proofs, counterexamples, numerical support and exact polynomial spans."""

import pytest
import sympy as sp

from hmoe_theory.certify import (
    Status,
    decide_equal,
    decide_zero,
    numeric_zero_probe,
    polynomial_span,
    prove_zero,
    weakest,
)
from hmoe_theory.errors import TimeLimitExceeded
from hmoe_theory.symbols import real_symbol
from hmoe_theory.timelimit import time_limit

x, beta, a, alpha = (real_symbol(n) for n in ("x", "beta", "a", "alpha"))


def test_true_identity_is_proved():
    F = sp.exp(beta * x) * (a * x + alpha)
    decision = decide_equal(sp.diff(F, beta, alpha), sp.diff(F, a))
    assert decision.status is Status.PROVED


def test_false_identity_is_refuted_with_a_replayable_counterexample():
    F = sp.exp(beta * x) * sp.tanh(a * x + alpha)
    lhs = sp.diff(F, beta)
    rhs = alpha * sp.diff(F, beta, alpha) + a * sp.diff(F, beta, a)
    decision = decide_equal(lhs, rhs)
    assert decision.status is Status.REFUTED
    point = {real_symbol(k): sp.Rational(v) for k, v in decision.counterexample.items()}
    assert abs(sp.N((lhs - rhs).subs(point), 30)) > 1e-10


def test_identity_sympy_cannot_rewrite_is_only_supported():
    # sin^2 + cos^2 - 1 of a nested argument: expand/cancel fail, simplify is denied time. The 50-digit
    # agreement at random points is numerical evidence (supported), neither a proof nor a certificate.
    e = sp.sin(sp.exp(x) * a) ** 2 + sp.cos(sp.exp(x) * a) ** 2 - 1
    decision = decide_zero(e, time_limit_s=1e-3)
    assert decision.status is Status.SUPPORTED and decision.is_zero
    assert decision.max_abs_value < 1e-25 and decision.points == 24
    # the same identity with the time to prove it is exact
    proved = decide_zero(e, time_limit_s=30)
    assert proved.status is Status.PROVED and proved.is_zero and proved.method == "simplify"


def test_weakest_orders_evidence_and_rejects_non_positive_statuses():
    assert weakest([Status.PROVED, Status.PROVED]) is Status.PROVED
    assert weakest([Status.PROVED, Status.CERTIFIED]) is Status.CERTIFIED
    assert weakest([Status.CERTIFIED, Status.SUPPORTED, Status.PROVED]) is Status.SUPPORTED
    assert weakest([]) is Status.PROVED
    with pytest.raises(ValueError):
        weakest([Status.PROVED, Status.REFUTED])


def test_time_limit_interrupts_and_restores():
    import time

    try:
        with time_limit(0.05):
            while True:
                time.sleep(0.001)
    except TimeLimitExceeded as exc:
        assert "0.05" in str(exc)
    else:
        raise AssertionError("time limit did not fire")


def test_polynomial_span_exact():
    result = polynomial_span(2 * a * x + alpha, [x, sp.Integer(1)], [x])
    assert result.in_span and result.coefficients == (2 * a, alpha)
    assert not polynomial_span(x**2, [x, x**3], [x]).in_span


def test_exponential_strategies_prove_sigmoid_and_softmax_identities():
    from hmoe_theory.certify import abstract_exponentials, prove_zero

    u = real_symbol("u")
    s = 1 / (1 + sp.exp(-u))
    assert prove_zero(s * (1 - s) - sp.exp(-u) / (1 + sp.exp(-u)) ** 2, 5.0, ("cancel after exp(p) -> positive symbol",))
    # softmax of two scores written in two ways: abstraction matches exp(x*y + x) with exp(x*(y + 1))
    y = real_symbol("y")
    lhs = sp.exp(x * y + x) / (sp.exp(x * y + x) + sp.exp(y))
    rhs = sp.exp(x * (y + 1)) / (sp.exp(y) + sp.exp(x * (y + 1)))  # same score, unexpanded
    (a, b), table = abstract_exponentials([lhs, rhs])
    assert len(table) == 2
    assert prove_zero(lhs - rhs, 5.0, ("exponentials abstracted (expand keys)",))
    assert prove_zero(lhs - rhs + x, 5.0, ("exponentials abstracted (expand keys)",)) is None


def test_complex_values_are_never_reduced_to_their_real_part():
    # sqrt(x - 2) is purely imaginary on the probe range [-3/2, 3/2]: its real part is 0 there, the value is not
    decision = decide_zero(sp.sqrt(x - 2), time_limit_s=0.5)
    assert decision.status is Status.REFUTED and decision.max_abs_value > 0.1


def test_certificate_over_complex_points_says_so():
    # sin^2 + cos^2 - 1 of log(x): zero everywhere, complex-valued (residuals) where x < 0
    decision = numeric_zero_probe(sp.sin(sp.log(x)) ** 2 + sp.cos(sp.log(x)) ** 2 - 1)
    assert decision.status is Status.SUPPORTED and decision.max_abs_value < 1e-40
    assert "complex-valued at" in decision.detail


def test_a_strategy_that_raises_proves_nothing_and_the_next_is_tried():
    # sympy's simplify raises OverflowError (in nsimplify) on this expression (found by the fuzz suite)
    e = -1 + 1 / (sp.exp(-sp.Integer(10) ** 300) + 1)
    assert prove_zero(e, time_limit_s=5, strategies=["simplify"]) is None
    # ... and the strategies after it still run: expand proves e*x + (x+1)^2 - x^2 - 2x - 1 - e*x = 0
    zero = sp.Add(e * x, (x + 1) ** 2, -(x**2), -2 * x, -1, -e * x, evaluate=False)
    assert prove_zero(zero, time_limit_s=5, strategies=["simplify", "expand"]) in ("expand", "simplify", "literally zero")
    assert decide_zero(e, time_limit_s=2).status in (Status.SUPPORTED, Status.REFUTED)
