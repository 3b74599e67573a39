"""r̄(m) <= 2m by the sign-change count (hmoe_theory.interactions.r_bar_upper): the moment identity of the variance
shift, the moments and sign changes of g at the witnesses, and the claims r̄(3) = 6 and r̄(4) = 8."""

from __future__ import annotations

import mpmath
import sympy as sp

from hmoe_theory.certify import Status
from fractions import Fraction

import numpy as np

from hmoe_theory.interactions.r_bar_upper import (
    certified_sign_changes,
    check_shift_identity,
    gaussian_combination,
    gaussian_moment,
    shifted_difference,
    witness_sign_changes,
)
from hmoe_theory.interactions.r_systems import WITNESSES
from proofs_check.claims.r_bar import at_most_twice_m, four_equals_eight, three_equals_six


def test_gaussian_moments_are_the_textbook_ones():
    a, v = sp.symbols("a v")
    assert gaussian_moment(4, a, v) == sp.expand(a**4 + 6 * a**2 * v + 3 * v**2)
    assert gaussian_moment(6, 0, v) == 15 * v**3
    assert gaussian_moment(3, a, v) == sp.expand(a**3 + 3 * a * v)


def test_the_variance_shift_identity_holds_exactly_to_order_8():
    identity = check_shift_identity(8)
    assert identity.holds and identity.first_failure is None and identity.max_order == 8


def _moment(order, w, a, b, c):
    """∫ x^order g(x) dx by mpmath quadrature (an independent numeric check of the identity at a witness)."""
    def density(x, mean, variance):
        return mpmath.exp(-((x - mean) ** 2) / (2 * variance)) / mpmath.sqrt(2 * mpmath.pi * variance)

    g = lambda x: sum(wi * density(x, ai, 2 * bi + c) for wi, ai, bi in zip(w, a, b)) - sum(w) * density(x, 0, c)
    return mpmath.quad(lambda x: x**order * g(x), [-mpmath.inf, -3, 0, 3, mpmath.inf])


def test_moments_of_g_at_the_m3_witness_vanish_to_order_5_and_equal_720_p6_at_order_6():
    a, b, w, _ = WITNESSES[3]
    with mpmath.workdps(30):
        w, a, b = ([mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q for v in vector] for vector in (w, a, b))
        assert all(abs(_moment(order, w, a, b, mpmath.mpf(11) / 6)) < 1e-20 for order in range(6))
        for c in (mpmath.mpf(11) / 6, mpmath.mpf(3)):
            # the identity: moment 6 = 6! (P_6 + (c/2) P_4 + (c/2)^2/2 P_2) = 720 P_6 = 720 (-7/1080) = -14/3,
            # whatever c
            assert abs(_moment(6, w, a, b, c) + mpmath.mpf(14) / 3) < 1e-20


def test_g_is_a_signed_gaussian_combination_evaluated_in_arb():
    a, b, w, _ = WITNESSES[3]
    value = gaussian_combination(*shifted_difference(w, a, b, sp.Rational(11, 6)), 0)
    # at x = 0: 2 φ_{4/3}(1) + (6/5) φ_1(0) - (16/5) φ_{11/6}(0)
    phi = lambda x, s: mpmath.exp(-x**2 / (2 * s)) / mpmath.sqrt(2 * mpmath.pi * s)
    third = mpmath.mpf(1) / 3
    expected = 2 * phi(1, 4 * third) + mpmath.mpf(6) / 5 * phi(0, 1) - mpmath.mpf(16) / 5 * phi(0, 11 * third / 2)
    assert abs(float(value.mid()) - float(expected)) < 1e-14 and value.rad() < 1e-14


def test_the_witnesses_at_r_2m_minus_1_attain_exactly_2m_sign_changes():
    for m in (2, 3, 4):
        count = witness_sign_changes(m)
        assert (count.r, count.changes, count.undecided) == (2 * m - 1, 2 * m, 0)
        assert count.attains_bound


def test_random_combinations_of_n_gaussians_never_show_more_than_2n_minus_2_sign_changes():
    """A falsification attempt on Lemma A (Kalai, Moitra & Valiant 2010, Prop. 7) with rational parameters."""
    rng = np.random.default_rng(7)
    most = {}
    for n in (2, 3, 4):
        for _ in range(40):
            coefficients = [Fraction(int(v), 8) for v in rng.integers(-16, 17, n) if v] or [Fraction(1)]
            k = len(coefficients)
            means = [Fraction(int(v), 4) for v in rng.integers(-8, 9, k)]
            variances = [Fraction(int(v), 8) for v in rng.integers(2, 33, k)]
            changes, undecided = certified_sign_changes(coefficients, means, variances)
            assert changes <= 2 * k - 2
            most[n] = max(most.get(n, 0), changes)
    assert most[2] == 2  # the bound is reached by some random pair


def test_the_claims_prove_rbar3_six_and_rbar4_eight():
    assert at_most_twice_m().status is Status.PROVED
    assert three_equals_six().status is Status.PROVED
    assert four_equals_eight().status is Status.PROVED
