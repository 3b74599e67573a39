"""High-precision null spaces: exact relations recovered, independence detected, canonical form."""

import random
from fractions import Fraction

import mpmath
import pytest

from hmoe_theory.interactions.linalg import null_space


def _rows(functions, count=40, seed=1, digits=50):
    rng = random.Random(seed)
    with mpmath.workdps(digits):
        xs = [mpmath.mpf(rng.randint(-(10**6), 10**6)) / 10**6 for _ in range(count)]
        return [[f(x) for f in functions] for x in xs]


def test_recovers_an_exact_rational_relation_and_its_rref():
    functions = [lambda x: mpmath.mpf(1), lambda x: x, lambda x: x**2, lambda x: 2 * x + 3 * x**2 / 7, mpmath.exp]
    result = null_space(_rows(functions), 50)
    assert (result.rank, result.size) == (4, 5)
    # RREF with the columns in the given order: the pivot is x, i.e. x + 3/14 x^2 - 1/2 (2x + 3x^2/7) = 0
    assert result.basis == ((0, 1, Fraction(3, 14), Fraction(-1, 2), 0),)
    assert result.pivots == (1,)
    assert result.residual < 1e-45 and result.decided and result.rational
    assert result.margin is not None and 1e-6 < result.margin < 1


def test_independent_family_has_no_relation_and_a_positive_margin():
    functions = [lambda x, k=k: x**k for k in range(6)] + [mpmath.exp]
    result = null_space(_rows(functions), 50)
    assert result.rank == 7 and result.basis == ()
    assert result.margin > 1e-12


def test_zero_function_and_duplicate_columns_are_relations():
    functions = [lambda x: x, lambda x: mpmath.mpf(0), lambda x: mpmath.sin(x), lambda x: 5 * x]
    result = null_space(_rows(functions), 50)
    assert result.rank == 2
    assert set(result.basis) == {(1, 0, 0, Fraction(-1, 5)), (0, 1, 0, 0)}


def test_basis_is_independent_of_column_scaling_and_row_order():
    functions = [lambda x: x, lambda x: 1000 * x**2, lambda x: x + x**2]
    a = null_space(_rows(functions, seed=2), 50)
    b = null_space(list(reversed(_rows(functions, seed=3))), 50)
    assert a.basis == b.basis == ((1, Fraction(1, 1000), -1),)


def test_irrational_coefficients_are_kept_as_decimals():
    with mpmath.workdps(60):
        root2 = mpmath.sqrt(2)
    result = null_space(_rows([lambda x: x, lambda x: root2 * x]), 50)
    assert result.rank == 1 and not result.rational
    with mpmath.workdps(50):
        assert abs(result.basis[0][1] + 1 / root2) < mpmath.mpf(10) ** -40


def test_empty_matrix_is_refused():
    with pytest.raises(ValueError):
        null_space([], 50)


# --- float64 first pass and the high-precision solve on the dependent subspace ---------------------

import numpy as np  # noqa: E402

from dataclasses import replace  # noqa: E402

from hmoe_theory.interactions.linalg import float_pass, solve_on_supports, solve_relations  # noqa: E402


def _float_matrix(functions, count=40, seed=1):
    rng = np.random.default_rng(seed)
    xs = rng.integers(-(2**20), 2**20, count) / 2**20
    return np.array([[float(f(mpmath.mpf(x))) for f in functions] for x in xs])


def test_float_pass_finds_rank_and_rref_pivots_and_the_solve_recovers_the_exact_relation():
    functions = [lambda x: mpmath.mpf(1), lambda x: x, lambda x: x**2, lambda x: 2 * x + 3 * x**2 / 7, mpmath.exp]
    first = float_pass(_float_matrix(functions))
    assert (first.rank, first.size, first.pivots, first.free) == (4, 5, (1,), (0, 2, 3, 4))
    assert first.residual < 1e-12 < 1e-9 < first.margin
    result = solve_relations(_rows(functions, count=4, seed=7), first, 50)
    exact = null_space(_rows(functions), 50)
    assert result.basis == exact.basis == ((0, 1, Fraction(3, 14), Fraction(-1, 2), 0),)
    assert result.rational and result.decided


def test_each_relation_solved_on_its_float_support_gives_the_same_rref_rows():
    functions = [lambda x: mpmath.mpf(1), lambda x: x, lambda x: x**2, lambda x: 2 * x + 3 * x**2 / 7, mpmath.exp,
                 lambda x: 5 * mpmath.exp(x), lambda x: x**3]
    first = float_pass(_float_matrix(functions))
    assert first.pivots == (1, 4) and first.supports == ((2, 3), (5,))  # x via x^2 and 2x + 3x^2/7; e^x via 5 e^x
    rows = _rows(functions, count=first.rank, seed=7)
    small = solve_on_supports(rows[:4], first, 50)  # |support| + 2 rows suffice
    assert small.basis == solve_relations(rows, first, 50).basis == null_space(_rows(functions), 50).basis
    # a support that misses a column of the true relation gives a different (wrong) row: the caller's confirmation at
    # fresh inputs rejects it and the full square system is solved instead
    missing = solve_on_supports(rows[:4], replace(first, supports=((2,), (5,))), 50)
    assert missing is None or missing.basis != small.basis


def test_float_pass_handles_zero_and_duplicate_columns_like_the_exact_engine():
    functions = [lambda x: x, lambda x: mpmath.mpf(0), lambda x: mpmath.sin(x), lambda x: 5 * x]
    first = float_pass(_float_matrix(functions))
    result = solve_relations(_rows(functions, count=first.rank, seed=9), first, 50)
    assert set(result.basis) == set(null_space(_rows(functions), 50).basis) == {(1, 0, 0, Fraction(-1, 5)), (0, 1, 0, 0)}


def test_float_pass_is_undecided_inside_the_gap_and_on_non_finite_values():
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((30, 4)))
    v, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    assert float_pass(u @ np.diag([1.0, 0.5, 0.1, 1e-16]) @ v.T).rank == 3
    assert float_pass(u @ np.diag([1.0, 0.5, 0.1, 1e-10]) @ v.T) is None  # between 1e-12 and 1e-9
    assert float_pass(np.array([[1.0, np.inf], [0.0, 1.0]])) is None


def test_irrational_coefficients_are_left_to_the_full_engine():
    with mpmath.workdps(60):
        root2 = mpmath.sqrt(2)
    functions = [lambda x: x, lambda x: root2 * x]
    first = float_pass(_float_matrix(functions))
    assert first.rank == 1 and first.pivots == (0,)
    assert solve_relations(_rows(functions, count=1), first, 50) is None  # -sqrt(2) does not rationalise
