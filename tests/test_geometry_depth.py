"""Layer stacks: second-order forward mode against exact sympy curvature; affine stacks stay flat."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.expr import sigmoid
from hmoe_theory.geometry.depth import Jet, depth_study, growth_slope, random_planes, random_stack
from hmoe_theory.geometry.maps import softmax
from hmoe_theory.geometry.metric import PullbackMetric
from hmoe_theory.symbols import real_symbol

u, v = real_symbol("u"), real_symbol("v")


def symbolic_layer(layer, z):
    """The same layer written in sympy (exact floats -> rationals are not needed for a 1e-9 comparison)."""
    logits = [sum(layer.A[i, j] * z[j] for j in range(len(z))) + layer.a[i] for i in range(layer.A.shape[0])]
    p = softmax(logits)
    attended = [sum(p[i] * layer.V[i, k] for i in range(len(p))) for k in range(layer.V.shape[1])]
    if layer.kind == "ungated":
        return attended
    gate = [sigmoid(sum(layer.G[k, j] * z[j] for j in range(len(z))) + layer.c[k]) for k in range(len(z))]
    return [g * x for g, x in zip(gate, attended)]


@pytest.mark.parametrize("residual", [False, True])
def test_forward_mode_curvature_equals_exact_pullback_curvature(residual):
    stack = random_stack(1, 3, 3, "gated", residual, seed=7)
    origins, directions = random_planes(1, 3, seed=3)
    K, scaled = stack.curvature_on_planes(origins, directions)
    z = [origins[0, k] + u * directions[0, 0, k] + v * directions[0, 1, k] for k in range(3)]
    out = symbolic_layer(stack.layers[0], z)
    exact = PullbackMetric([a + b for a, b in zip(z, out)] if residual else out, [u, v])
    assert abs(K[0] - exact.gaussian_curvature([0, 0])) < 1e-9 * max(1, abs(K[0]))
    assert abs(scaled[0] - K[0] * np.trace(exact.metric([0, 0])) / 2) < 1e-9 * max(1, abs(scaled[0]))
    assert abs(K[0]) > 1e-6  # curved: the comparison is not between zeros


@pytest.mark.parametrize("kind, residual", [("ungated", True), ("gated", False), ("ungated", False)])
def test_forward_mode_derivatives_match_finite_differences_in_deep_stacks(kind, residual):
    stack = random_stack(3, 4, 3, kind, residual, seed=5)
    origins, directions = random_planes(6, 4, seed=2)
    jet = stack(Jet.plane(origins, directions))
    h = 1e-4

    def value(du, dv):
        shifted = origins + du * directions[:, 0] + dv * directions[:, 1]
        return stack(Jet.plane(shifted, directions)).value

    d_u = (value(h, 0) - value(-h, 0)) / (2 * h)
    d_uv = (value(h, h) - value(h, -h) - value(-h, h) + value(-h, -h)) / (4 * h * h)
    d_vv = (value(0, h) - 2 * value(0, 0) + value(0, -h)) / (h * h)
    scale = np.max(np.abs(jet.d1)) + np.max(np.abs(jet.d2))
    assert np.max(np.abs(jet.d1[:, 0] - d_u)) < 1e-6 * scale
    assert np.max(np.abs(jet.d2[:, 0, 1] - d_uv)) < 1e-5 * scale
    assert np.max(np.abs(jet.d2[:, 1, 1] - d_vv)) < 1e-5 * scale
    assert np.max(np.abs(jet.d2)) > 1e-3


def test_residual_stack_of_depth_one_is_input_plus_layer():
    stack = random_stack(1, 4, 3, "gated", True, seed=1)
    plain = random_stack(1, 4, 3, "gated", False, seed=1)
    origins, directions = random_planes(5, 4, seed=0)
    z = Jet.plane(origins, directions)
    np.testing.assert_allclose(stack(z).value, origins + plain(z).value, atol=1e-14)
    np.testing.assert_allclose(stack(z).d2, plain(z).d2, atol=1e-14)


@pytest.mark.parametrize("residual", [False, True])
def test_affine_stacks_map_planes_to_flat_surfaces(residual):
    stack = random_stack(4, 5, 2, "linear", residual, seed=2)
    origins, directions = random_planes(50, 5, seed=1)
    for depth in range(1, 5):
        K, _ = stack.curvature_on_planes(origins, directions, depth)
        assert np.max(np.abs(K)) < 1e-12


def test_study_rows_and_slope_are_consistent():
    rows = depth_study(depths=(1, 2, 3), kinds=("gated",), residuals=(True,), seeds=(0,), planes=20)
    assert [r.depth for r in rows] == [1, 2, 3] and all(r.samples == 20 for r in rows)
    slope = growth_slope(rows, "gated", True)
    values = np.log10([r.median_abs_scaled_K for r in rows])
    assert abs(slope - np.polyfit([1, 2, 3], values, 1)[0]) < 1e-12


def test_bad_stack_requests_are_model_errors():
    with pytest.raises(ModelError, match="unknown layer kind"):
        random_stack(2, 4, 3, "convolutional", False, seed=0)
    with pytest.raises(ModelError, match="width >= 3"):
        random_stack(2, 2, 3, "gated", False, seed=0)
    stack = random_stack(1, 3, 2, "linear", False, seed=0)
    with pytest.raises(ModelError, match="rank-deficient"):
        stack.curvature_on_planes(np.zeros((1, 3)), np.array([[[1.0, 0, 0], [2.0, 0, 0]]]))
