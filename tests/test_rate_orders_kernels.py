"""The compiled kernels of the rate-order search: coordinate map (LLVM vector + Jacobian, arb deviations) and the
ball-arithmetic residuals of Gaussian components agree with the plain evaluations of the same formulas."""

from __future__ import annotations

import flint
import numpy as np
import pytest
import sympy as sp

from hmoe_theory.balls import arb_function
from hmoe_theory.compile import compile_llvm_rows
from hmoe_theory.estimation.setting import setting_from_mapping
from hmoe_theory.rate_orders import resolve
from hmoe_theory.rate_orders.models import from_setting
from hmoe_theory.rate_orders.coordinates import Coordinates
from hmoe_theory.rate_orders.residuals import PRECISION, Residuals
from hmoe_theory.rate_orders.search import SEARCH_NODES, _nodes
from hmoe_theory.rate_orders.seeds import at_level, seeds

CASES = [  # (question, model, cells, loss): atom-wise, merged (spreads, aggregates) and a simplex model
    ("d1/softmax-linear/ridge-tanh/over", "regression", (2, 1), "atomwise"),
    ("d1/quadratic-polynomial/linear/over", "regression", (1, 2), "merged"),
    ("gaussian-location-scale/m3", None, (3,), "atomwise"),
]


def _coords(name, model, sizes, loss):
    rate_model, _ = resolve(name, model=model) if model else resolve(name)
    return Coordinates(rate_model, sizes, loss)


def _float_vector(coords, u, eps):
    dev = coords.deviations(u, eps)
    weights = (coords.true_w[coords.cell_of] + dev.dm[coords.cell_of]) * dev.pi
    return np.concatenate([weights, (coords.true_theta[coords.cell_of] + dev.delta).ravel()])


@pytest.mark.parametrize(("name", "model", "sizes", "loss"), CASES)
def test_compiled_coordinate_map_matches_the_numpy_map_and_its_differences(name, model, sizes, loss):
    coords = _coords(name, model, sizes, loss)
    u = np.random.default_rng(3).normal(size=len(coords.penalised) + len(coords.free)) * 0.4
    eps = 1e-3
    vector, jacobian = coords.vector_and_jacobian(u, eps)
    assert np.allclose(vector, _float_vector(coords, u, eps), rtol=1e-14, atol=1e-16)
    h = 1e-6
    central = np.array([(_float_vector(coords, u + h * e, eps) - _float_vector(coords, u - h * e, eps)) / (2 * h)
                        for e in np.eye(len(u))]).T
    assert np.allclose(jacobian, central, rtol=1e-6, atol=1e-9)
    assert np.abs(jacobian).max() > 1e-4  # the map moves with u (a zero Jacobian would pass the comparison)
    # ball arithmetic: the same point, exact to the double map's rounding, with radii near 2^-PRECISION
    old = flint.ctx.prec
    flint.ctx.prec = PRECISION
    try:
        exact = coords.arb_deviations([flint.arb(v) for v in u], flint.arb(eps))
    finally:
        flint.ctx.prec = old
    dev = coords.deviations(u, eps)
    assert np.allclose(np.asarray(exact.delta, dtype=float), dev.delta, rtol=1e-13, atol=1e-19)
    assert np.allclose(np.asarray(exact.pi, dtype=float), dev.pi, rtol=1e-14)
    assert all(float(v.rad()) < 1e-80 for v in exact.delta.ravel())


@pytest.mark.parametrize(("name", "model", "sizes"), [
    ("d1/softmax-linear/linear/over", "density", (1, 2)),
    ("gaussian-location-scale/m2", None, (2,)),
])
def test_gaussian_component_balls_equal_the_expression_at_every_node(name, model, sizes):
    """The component sum gate_i N(y | mean_i, var_i) used for density models is the model's expression: both in balls
    at a point near G*, on the search rule (12 x 40 nodes for the conditional density)."""
    coords = _coords(name, model, sizes, "atomwise")
    rule = coords.model.measure.rule(_nodes(coords.model, SEARCH_NODES))
    residuals = Residuals(coords, *rule)
    _, point = at_level(coords, seeds(coords)[0], 1e-3)
    balls = residuals._balls(point)
    built = coords.model.build(coords.k)
    direct = arb_function([built.expr], [*built.inputs, *residuals.args])
    old = flint.ctx.prec
    flint.ctx.prec = PRECISION
    try:
        weights, atoms = coords.exact_point(point)
        values = [flint.arb(flint.fmpq(v.numerator, v.denominator)) for v in [*weights, *np.ravel(atoms)]]
        expected = [direct(*(flint.arb(float(c)) for c in p), *values)[0] - t
                    for p, t in zip(rule[0], residuals.true_arb)]
    finally:
        flint.ctx.prec = old
    gaps = [abs(float((a - b).mid())) for a, b in zip(balls, expected)]
    assert max(gaps) < 1e-80 and max(abs(float(b.mid())) for b in balls) > 1e-15  # f_G - f* ~ 1e-13 (m2: s = 4)


def test_float_and_ball_residuals_agree_where_both_hold():
    coords = _coords(*CASES[0])
    residuals = Residuals(coords, *coords.model.measure.rule(_nodes(coords.model, SEARCH_NODES)))
    _, point = at_level(coords, seeds(coords)[0], 1e-2)
    u = coords.coordinates(point)
    r = residuals.residual(u, 1e-2)  # phi ~ 1e-6 ||f*||: the float64 path
    assert np.linalg.norm(r) > 1e-8 * residuals.scale
    exact = residuals.extended(residuals.arb_deviations(u, 1e-2))
    assert np.allclose(r, exact, rtol=0, atol=1e-14 * residuals.scale)
    assert np.allclose(residuals.jacobian(u, 1e-2), residuals.jacobian(u.copy(), 1e-2))


def test_saturated_split_logits_stay_finite():
    """A logit far beyond exp's range (the LM can push a split atom onto its 2 % floor): the softmax is evaluated
    shifted by the cell's largest logit, as in the numpy map, so values and Jacobian stay finite."""
    coords = _coords(*CASES[0])
    u = np.random.default_rng(5).normal(size=len(coords.penalised) + len(coords.free)) * 0.4
    u[len(coords.penalised)] = 800.0  # the split logit of the two-atom cell
    vector, jacobian = coords.vector_and_jacobian(u, 1e-3)
    assert np.all(np.isfinite(vector)) and np.all(np.isfinite(jacobian))
    assert np.allclose(vector, _float_vector(coords, u, 1e-3), rtol=1e-14, atol=1e-16)
    assert np.allclose(np.sort(coords.deviations(u, 1e-3).pi[:2]), [0.02, 0.98])


def test_llvm_kernel_of_a_kinked_derivative_uses_the_step_convention_and_nan_for_dirac():
    """relu(x y) = Max(x y, 0): d/dx = y Heaviside(x y) is compiled as a Piecewise (symengine's LLVM backend has no
    Heaviside); it is y off the kink, 0 below it and y/2 on it (sympy's H(0) = 1/2: a convention, not a derivative);
    d2/dx2 = y^2 DiracDelta(x y) is 0 off the kink and NaN on it."""
    x, y = sp.symbols("x y", real=True)
    relu = sp.Max(x * y, 0)
    kernel = compile_llvm_rows([relu, sp.diff(relu, x), sp.diff(relu, x, 2)], [x, y])
    values = kernel(np.array([[-1.0, 2.0], [0.0, 2.0], [1.5, 2.0], [1.5, -3.0]]))
    assert np.array_equal(values[:, :2], [[0.0, 0.0], [0.0, 1.0], [3.0, 2.0], [0.0, 0.0]])
    assert values[0, 2] == 0.0 and np.isnan(values[1, 2]) and values[2, 2] == 0.0


def test_relu_experts_get_a_float_residual_and_jacobian():
    """The active-attention row with relu values (its gradient has Heaviside nodes) compiles and matches the balls."""
    truth = [{"weight": 1.5, "A_1_1": 2.0, "a_1": 2.0}, {"weight": 1.0, "A_1_1": 0.0, "a_1": -1.0}]
    setting = setting_from_mapping({
        "name": "relu-row", "description": "quadratic-monomial gate x relu values", "inputs": ["x1"],
        "gate_family": "quadratic-monomial", "expert_family": "value-relu", "design": "uniform(-1, 1)",
        "noise_variance": 0.25, "k": 3, "truth": truth})
    coords = Coordinates(from_setting(setting), (1, 2), "atomwise")
    residuals = Residuals(coords, *coords.model.measure.rule(_nodes(coords.model, SEARCH_NODES)))
    _, point = at_level(coords, seeds(coords)[0], 1e-2)
    u = coords.coordinates(point)
    r = residuals.residual(u, 1e-2)
    exact = residuals.extended(residuals.arb_deviations(u, 1e-2))
    assert np.allclose(r, exact, rtol=0, atol=1e-13 * residuals.scale)
    assert np.all(np.isfinite(residuals.jacobian(u, 1e-2)))
