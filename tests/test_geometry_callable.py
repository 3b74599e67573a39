"""Curvature of black-box numpy mean maps (finite differences) against exact values."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.geometry import sigmoid_gate_witness
from hmoe_theory.geometry.callable_map import CallableMeanMap


def sphere(R):
    return lambda t: R * np.array([np.cos(t[0]) * np.cos(t[1]), np.cos(t[0]) * np.sin(t[1]), np.sin(t[0])])


@pytest.mark.parametrize("R", [0.5, 2.0, 3.0])
def test_sphere_curvature_is_one_over_r_squared(R):
    m = CallableMeanMap(sphere(R), 2)
    assert m.gaussian_curvature([0.3, -0.7]) == pytest.approx(1 / R**2, rel=1e-7)
    assert m.scalar_curvature([0.3, -0.7]) == pytest.approx(2 / R**2, rel=1e-7)
    np.testing.assert_allclose(m.metric([0.3, -0.7]), np.diag([R**2, R**2 * np.cos(0.3) ** 2]), rtol=1e-9, atol=1e-9 * R**2)


def test_sigmoid_gate_witness_matches_exact_path():
    W, b = np.array([[-1.0, -1.0], [-1.0, 0.0], [0.0, -1.0]]), np.array([2.0, 0.0, -2.0])
    black_box = CallableMeanMap(lambda t: 1 / (1 + np.exp(-(W @ t + b))), 2)
    exact = sigmoid_gate_witness().metric().gaussian_curvature([0.0, 0.0])
    assert black_box.gaussian_curvature([0.0, 0.0]) == pytest.approx(1.959288346505795, rel=1e-6)
    assert exact == pytest.approx(1.959288346505795, rel=1e-12)


def test_flat_map_with_anisotropic_sigma_has_zero_curvature():
    m = CallableMeanMap(lambda t: np.array([t[0], t[1], 2 * t[0] - t[1]]), 2, sigma=[1.0, 4.0, 0.5])
    assert abs(m.gaussian_curvature([0.2, 0.1])) < 1e-8


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ModelError, match="not an immersion"):
        CallableMeanMap(lambda t: np.array([t[0], t[0], 0.0]), 2).curvature([0.0, 0.0])
    with pytest.raises(ModelError, match="positive definite"):
        CallableMeanMap(sphere(1.0), 2, sigma=[[1, 0, 0], [0, -1, 0], [0, 0, 1]]).curvature([0.1, 0.1])
    with pytest.raises(ModelError, match="finite 1-D array"):
        CallableMeanMap(lambda t: np.array([np.nan, 1.0, 2.0]), 2).curvature([0.1, 0.1])
    with pytest.raises(ModelError, match="2 coordinates"):
        CallableMeanMap(sphere(1.0), 2).curvature([0.1])
