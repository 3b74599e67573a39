"""Pullback Fisher metric and curvature: sign convention, witnesses, three paths, clear errors."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from hmoe_theory.errors import ModelError
from hmoe_theory.geometry.gaussian_family import GaussianFamilyMetric
from hmoe_theory.geometry.maps import (
    axis_aligned_gate_map,
    cylinder_gate_map,
    cylinder_map,
    deficient_attention_witness,
    flat_attention_witness,
    input_dependent_values_witness,
    round_sphere_map,
    sigmoid_gate_witness,
    sphere_witness,
    ungated_attention_map,
)
from hmoe_theory.geometry.metric import PullbackMetric
from hmoe_theory.symbols import positive_symbol, real_symbol

U, V = real_symbol("u"), real_symbol("v")
SIGMOID_K00 = "1.959288346505794791036702888030466325597"  # K(0,0) of the sigmoid-gate witness, 40 digits
RNG = np.random.default_rng(1)


def test_sphere_has_curvature_plus_one_over_r_squared_and_cylinder_zero():
    points = RNG.uniform(-1.2, 1.2, size=(200, 2))
    sphere = round_sphere_map(3).metric()
    np.testing.assert_allclose(sphere.gaussian_curvature(points), 1 / 9, atol=1e-12)
    np.testing.assert_allclose(sphere.scalar_curvature(points), 2 / 9, atol=1e-12)
    np.testing.assert_allclose(cylinder_map(2).metric().gaussian_curvature(points), 0, atol=1e-12)
    R = positive_symbol("R")
    assert round_sphere_map().metric().exact_gaussian_curvature() == 1 / R**2


def test_scalar_gate_witness_is_a_sphere_of_radius_r():
    assert sphere_witness().metric().exact_gaussian_curvature() == 1 / positive_symbol("R") ** 2
    points = RNG.uniform(-3, 3, size=(100, 2))
    np.testing.assert_allclose(sphere_witness(2).metric().gaussian_curvature(points), 0.25, rtol=1e-10)


def test_issue_witness_values_are_reproduced_exactly():
    origin = {"u": 0, "v": 0}
    assert deficient_attention_witness().metric().exact_gaussian_curvature(origin) == -4
    assert input_dependent_values_witness().metric().exact_gaussian_curvature(origin) == sp.Rational(1, 16)
    gated = sigmoid_gate_witness().metric()
    exact = gated.exact_gaussian_curvature(origin)
    assert abs(sp.N(exact, 40) - sp.Float(SIGMOID_K00, 40)) < 1e-35
    assert abs(gated.gaussian_curvature([0, 0]) - float(SIGMOID_K00)) < 1e-12


def test_numeric_path_matches_mpmath_reference_to_1e_10_with_general_sigma():
    sigma = [[2, 1, 0], [1, 2, sp.Rational(1, 2)], [0, sp.Rational(1, 2), 1]]
    metric = sigmoid_gate_witness().metric(sigma)
    for point in RNG.uniform(-1, 1, size=(2, 2)):
        point = [float(sp.Rational(str(round(x, 3)))) for x in point]
        reference = metric.reference_gaussian_curvature(point, digits=40)
        assert abs(metric.gaussian_curvature(point) - float(reference)) < 1e-10 * max(1, abs(float(reference)))
        exact = metric.exact_gaussian_curvature({"u": point[0], "v": point[1]}, simplify=False)  # 0.527 -> 527/1000
        assert abs(sp.N(exact, 30) - sp.Float(mpmath.nstr(reference, 35), 30)) < 1e-25


def test_covariance_acts_like_whitening():
    # N(Y, L L^T) has the Fisher geometry of N(L^-1 Y, I)
    L = sp.Matrix([[1, 0, 0], [2, 1, 0], [-1, 3, 2]])
    mm = input_dependent_values_witness()
    whitened = list(L.inv() * sp.Matrix(mm.exprs))
    points = RNG.uniform(-1, 1, size=(50, 2))
    with_sigma = mm.metric(L * L.T).gaussian_curvature(points)
    plain = PullbackMetric(whitened, mm.params).gaussian_curvature(points)
    np.testing.assert_allclose(with_sigma, plain, rtol=1e-9, atol=1e-12)
    assert np.ptp(plain) > 1e-3  # a curved, non-constant case


def test_flat_and_degenerate_gate_maps_have_zero_curvature_everywhere():
    points = RNG.uniform(-2, 2, size=(300, 2))
    sigma = [[2, 1, 0, 0], [1, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 3]]
    generic = ungated_attention_map([[1, 2], [-1, 1], [0, 3]], [[1, 0, 2, 0], [0, 1, 1, 1], [2, 1, 0, -1]])
    for metric in (
        flat_attention_witness().metric(),
        generic.metric(sigma),
        cylinder_gate_map().metric(),
        axis_aligned_gate_map().metric(),
    ):
        assert np.max(np.abs(metric.gaussian_curvature(points))) < 1e-9
    # ... while the hull-deficient one is curved at generic points
    assert np.min(np.abs(deficient_attention_witness().metric().gaussian_curvature(points))) > 1e-3


def test_gauss_equation_agrees_with_christoffel_path_in_three_dimensions():
    x, y, z = (real_symbol(n) for n in "xyz")
    mean = [x, y, z, x * y + z**2]
    point = {x: 1, y: 2, z: sp.Rational(1, 2)}
    pullback = PullbackMetric(mean, [x, y, z])
    g, R = pullback.exact_riemann(point)
    christoffel = GaussianFamilyMetric(mean, sp.eye(4), [x, y, z]).riemann()
    for key, value in R.items():
        assert sp.simplify(value - christoffel[key].subs(point)) == 0
    X, Y = [1, 0, 0], [0, 1, 1]
    numeric = pullback.sectional_curvature([1, 2, 0.5], X, Y)
    reference = pullback.reference_sectional_curvature(point, X, Y, digits=30)
    assert abs(numeric - float(reference)) < 1e-12
    assert abs(numeric) > 1e-3
    ricci = pullback.ricci([1, 2, 0.5])
    np.testing.assert_allclose(ricci, ricci.T, atol=1e-12)
    assert abs(np.trace(np.linalg.solve(pullback.metric([1, 2, 0.5]), ricci)) - pullback.scalar_curvature([1, 2, 0.5])) < 1e-12


def test_symbolic_curvature_of_gated_map_is_exact():
    # speed is measured in benchmarks/bench_curvature.py, never asserted here
    metric = sigmoid_gate_witness().metric()
    K = metric.exact_gaussian_curvature(None, time_limit_s=60)
    u, v = metric.params
    assert abs(sp.N(K.subs({u: 0, v: 0}), 30) - sp.Float(SIGMOID_K00, 30)) < 1e-25
    assert abs(float(K.subs({u: 0.3, v: -0.7})) - metric.gaussian_curvature([0.3, -0.7])) < 1e-10


def test_field_is_vectorised_over_a_grid():
    U, V = np.meshgrid(np.linspace(-1, 1, 40), np.linspace(-1, 1, 30))
    K = sigmoid_gate_witness().metric().gaussian_curvature_field(U, V)
    assert K.shape == (30, 40)
    assert abs(K[15, 20] - sigmoid_gate_witness().metric().gaussian_curvature([U[15, 20], V[15, 20]])) < 1e-12


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: PullbackMetric([U, U, U], [U, V]).gaussian_curvature([0, 0]), "rank-deficient"),
        (lambda: PullbackMetric([U + V, U + V, U * V], [U, V]).gaussian_curvature([0, 0]), "not an immersion"),
        (lambda: PullbackMetric([U + V, U + V, U * V], [U, V]).exact_gaussian_curvature([0, 0]), "singular"),
        (lambda: PullbackMetric([U * V], [U, V]), "cannot be an immersion"),
        (lambda: PullbackMetric([U, V], [U, V], [[1, 2], [2, 1]]), "not positive definite"),
        (lambda: PullbackMetric([U, V], [U, V], [[1, 0], [1, 1]]), "not symmetric"),
        (lambda: PullbackMetric([U, V], [U, V], [1, 2, 3]), "expected 2 variances"),
        (lambda: PullbackMetric("[u, v, u*v]", [U, V]), "from_text reads text"),  # text only at the boundary
        (lambda: PullbackMetric(["u", "v", "u*v"], [U, V]), "from_text reads text"),
        (lambda: PullbackMetric([U, V, U * V], "u, v"), "expected sympy symbols"),
        (lambda: PullbackMetric([U, V, U * V], ["u", "v"]), "expected sympy symbols"),
        (lambda: PullbackMetric([U, V], [U, V], ["1", "2"]), "got the text '1'"),
        (lambda: PullbackMetric([U, V, U * V], [U, V]).exact_gaussian_curvature({"u": "1/2", "v": 0}), "got the text"),
        (lambda: round_sphere_map().metric().gaussian_curvature([0, 0]), "assign the constant"),
        (lambda: round_sphere_map(1).metric().gaussian_curvature([0, 0, 0]), "needs 2 coordinates"),
        (lambda: round_sphere_map(1).metric().sectional_curvature([0, 0], [1, 0], [2, 0]), "linearly dependent"),
        (lambda: round_sphere_map().metric().subs({"Q": 1}), "not a constant"),
    ],
)
def test_bad_input_is_a_one_line_model_error(build, message):
    with pytest.raises(ModelError, match=message) as info:
        build()
    assert "\n" not in str(info.value)
