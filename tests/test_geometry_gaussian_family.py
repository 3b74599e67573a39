"""Full Gaussian family N(mu(theta), Sigma(theta)): Fisher metric and Christoffel curvature."""

import pytest
import sympy as sp

from hmoe_theory.errors import ModelError
from hmoe_theory.geometry.gaussian_family import GaussianFamilyMetric, christoffel_symbols
from hmoe_theory.geometry.maps import round_sphere_map
from hmoe_theory.symbols import positive_symbol, real_symbol

mu, s = real_symbol("mu"), positive_symbol("s")


def test_univariate_normal_metric_and_constant_curvature_minus_one_half():
    family = GaussianFamilyMetric([mu], [[s**2]], [mu, s])
    assert family.metric == sp.diag(1 / s**2, 2 / s**2)
    assert family.gaussian_curvature() == sp.Rational(-1, 2)
    assert family.scalar_curvature() == -1


def test_normal_in_log_scale_coordinates_has_the_same_curvature():
    t = real_symbol("t")  # s = exp(t): curvature is a scalar, independent of coordinates
    family = GaussianFamilyMetric([mu], [[sp.exp(2 * t)]], [mu, t])
    assert family.metric == sp.diag(sp.exp(-2 * t), 2)
    assert family.gaussian_curvature() == sp.Rational(-1, 2)


def test_isotropic_bivariate_normal_is_hyperbolic_with_curvature_minus_one_quarter():
    m1, m2 = real_symbol("mu_1"), real_symbol("mu_2")
    family = GaussianFamilyMetric([m1, m2], sp.eye(2) * s**2, [m1, m2, s])
    assert family.metric == sp.diag(1 / s**2, 1 / s**2, 4 / s**2)
    for X, Y in (([1, 0, 0], [0, 0, 1]), ([1, 2, 0], [0, 1, 3]), ([1, 1, 1], [2, -1, 0])):
        assert family.sectional_curvature(X, Y) == sp.Rational(-1, 4)
    assert family.scalar_curvature() == sp.Rational(-3, 2)


def test_fixed_covariance_family_is_the_pullback_metric():
    sphere = round_sphere_map()
    family = GaussianFamilyMetric(sphere.exprs, sp.eye(3), sphere.params)
    assert sp.simplify(family.gaussian_curvature() - 1 / positive_symbol("R") ** 2) == 0


def test_christoffel_symbols_of_the_poincare_half_plane():
    x, y = real_symbol("x"), positive_symbol("y")
    G = christoffel_symbols(sp.diag(1 / y**2, 1 / y**2), [x, y])
    assert G[0][0][1] == -1 / y and G[1][0][0] == 1 / y and G[1][1][1] == -1 / y and G[0][0][0] == 0


def test_degenerate_or_ill_formed_families_are_model_errors():
    with pytest.raises(ModelError, match="degenerate"):
        GaussianFamilyMetric([mu + s], [[1]], [mu, s])
    with pytest.raises(ModelError, match="covariance must be 1x1"):
        GaussianFamilyMetric([mu], sp.eye(2), [mu, s])
    with pytest.raises(ModelError, match="not symmetric"):
        GaussianFamilyMetric([mu, s], [[1, mu], [0, 1]], [mu, s])
