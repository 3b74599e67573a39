"""r-systems of location-scale Gaussian mixtures: exact witnesses (lower bounds) and the m = 2 non-existence proof."""

from __future__ import annotations

import pytest
import sympy as sp

from hmoe_theory.interactions.r_systems import WITNESSES, prove_no_solution_m2, system, witness_check


def test_the_system_is_the_taylor_coefficient_of_the_exponential_sum():
    u, s1, s2 = sp.symbols("u s1 s2")
    series = sp.series(sp.exp(s1 * u + s2 * u**2), u, 0, 5).removeO()
    assert [sp.expand(series.coeff(u, ell) - p) for ell, p in enumerate(system(1, 4, [s1], [s2], [1]), 1)] == [0] * 4


def test_witnesses_prove_rbar2_at_least_4_and_rbar3_at_least_6():
    two = witness_check(*WITNESSES[2])
    assert two.proves_lower_bound and two.next_value == sp.Rational(-1, 6)  # -a^4/6 at a = 1, as in the literature
    three = witness_check(*WITNESSES[3])
    assert three.proves_lower_bound and three.values[:5] == (0, 0, 0, 0, 0) and three.next_value == sp.Rational(-7, 1080)
    with pytest.raises(ValueError, match="w_i"):
        witness_check((0, 0), (1, 1), (1, 1), 3)  # trivial: every s1 is 0


def test_no_nontrivial_real_solution_at_r_4_for_two_components():
    proof = prove_no_solution_m2(4)
    assert proof.proved and proof.positive_roots == 0
    assert proof.eliminant == "t*(t + 1)*(t**2 + t + 1)"
    assert not prove_no_solution_m2(3).proved  # at r = 3 solutions exist (the witness), no finite eliminant
