"""Least squares with a verified status (converged / iteration-cap / diverged / failed), the box and its active
set, the scikit-learn style estimator, and the EM estimator's status."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.estimation import GaussianMoEEM, GaussianMoEParams, LeastSquaresMoE, SoftmaxMoE
from hmoe_theory.estimation.catalogue import SETTINGS
from hmoe_theory.estimation.least_squares import (ACCEPT_COS, _cosine, _stalled, damped_newton, fit_least_squares,
                                                 variable_projection)
from hmoe_theory.estimation.replicate import PairedSample, simulate

TRUTH = np.array([2.0, -1.0, 0.5, 2.0, -1.0, 0.5, 0.0, 0.0, 0.0, -1.0, 2.0, -0.5])  # softmax-linear x linear, k=2


def _exact_data(n=300, seed=0):
    model = SoftmaxMoE.from_names("softmax-linear", "linear", 2, 2)
    X = np.random.default_rng(seed).uniform(-1, 1, (n, 2))
    return model, model.prepare(X), model.predict(X, TRUTH)


def _quadratic_system(c):
    def residual(x):
        return x - c

    def system(x):
        r = x - c
        return r, np.ones_like(x), r, np.eye(len(x))

    return residual, system


def test_a_well_specified_exact_fit_converges_and_meets_the_kkt_conditions():
    model, data, y = _exact_data()
    start = TRUTH + 0.1 * np.random.default_rng(1).normal(size=TRUTH.size)
    fit = fit_least_squares(model, data, y, start)
    assert fit.status == "converged" and fit.reason in ("gtol", "ftol", "xtol") and 1 < fit.iterations < 50
    np.testing.assert_allclose(fit.theta, TRUTH, atol=1e-7)  # noiseless: the truth (already pinned) is the minimum
    assert fit.loss < 1e-20 and fit.grad_norm < 1e-10
    # KKT checked independently at the returned point: zero gradient and a PSD Hessian on the free coordinates
    free = model.free_mask
    r, _, g, H = model.system(data, y, fit.theta)
    assert np.abs(g[free]).max() < 1e-9
    assert np.linalg.eigvalsh(H[np.ix_(free, free)]).min() > 0
    assert not np.any(fit.theta[~free])  # component 2's gate and bias pinned at 0


def test_a_well_specified_noisy_fit_converges_near_the_truth():
    model, data, y = _exact_data(n=2000, seed=6)
    y = y + 0.1 * np.random.default_rng(7).normal(size=len(y))
    fit = fit_least_squares(model, data, y, TRUTH + 0.1)
    assert fit.status == "converged" and fit.iterations < 30
    assert fit.loss == pytest.approx(0.5 * 0.01, rel=0.1)  # (1/2n) ||noise||^2
    np.testing.assert_allclose(fit.theta, TRUTH, atol=0.5)
    _, norms, g, _ = model.system(data, y, fit.theta)
    r = model.predict(data, fit.theta) - y
    free = model.free_mask
    assert (np.abs(g[free]) / np.sqrt(norms[free] * (r @ r))).max() <= 1e-6  # the scale-free first-order test


def test_an_iteration_cap_of_two_is_reported_as_such():
    model, data, y = _exact_data()
    start = np.random.default_rng(2).normal(size=TRUTH.size)
    fit = fit_least_squares(model, data, y, start, max_iter=2, projection=False)
    assert (fit.status, fit.reason, fit.iterations) == ("iteration-cap", "max_iter", 2)
    projected = fit_least_squares(model, data, y, start, max_iter=2)  # both stages share the cap (+1 to verify)
    assert (projected.status, projected.reason, projected.iterations) == ("iteration-cap", "max_iter", 3)
    assert fit.loss > 1e-6 and np.isfinite(fit.grad_norm)


def test_non_finite_data_is_diverged():
    model, data, y = _exact_data()
    y = y.copy()
    y[5] = np.nan
    fit = fit_least_squares(model, data, y, TRUTH)
    assert fit.status == "diverged" and fit.reason == "non-finite"
    y[5] = np.inf
    assert fit_least_squares(model, data, y, TRUTH).status == "diverged"


def test_too_few_samples_is_an_error():
    model, data, y = _exact_data(n=8)
    with pytest.raises(ModelError, match="need at least 9 samples for 9 free parameters, got 8"):
        fit_least_squares(model, data, y, TRUTH)


def test_damped_newton_holds_coordinates_at_the_box_and_verifies_kkt_there():
    residual, system = _quadratic_system(np.array([3.0, -0.5, -7.0]))
    result = damped_newton(residual, system, np.zeros(3), bound=1.0)
    np.testing.assert_allclose(result.x, [1.0, -0.5, -1.0], atol=1e-12)
    assert result.status == "converged"  # gradient points out of the box on the held coordinates
    free = damped_newton(residual, system, np.zeros(3))
    np.testing.assert_allclose(free.x, [3.0, -0.5, -7.0], atol=1e-12)
    assert free.status == "converged"  # zero residual: passes on ||r||^2 <= 1e-24 ||r_0||^2, not on its cosine


def test_damped_newton_on_rosenbrock_residuals():
    def residual(x):
        return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])

    def system(x):
        r = residual(x)
        J = np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])
        H = J.T @ J + r[0] * np.array([[-20.0, 0.0], [0.0, 0.0]])
        return r, (J**2).sum(axis=0), J.T @ r, H

    result = damped_newton(residual, system, np.array([-1.2, 1.0]), max_iter=200)
    assert result.status == "converged"
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-8)
    capped = damped_newton(residual, system, np.array([-1.2, 1.0]), max_iter=3)
    assert capped.status == "iteration-cap" and capped.iterations == 3
    bad = damped_newton(lambda x: np.full(2, np.nan), lambda x: (np.full(2, np.nan),) * 3 + (np.eye(2),),
                        np.zeros(2))
    assert bad.status == "diverged"


def test_a_saddle_is_not_reported_as_converged():
    # ||r||^2/2 with r = (x0^2 - x1^2) has a stationary point at 0 where the Hessian is zero... use a strict saddle:
    # f(x) = (x0^2 - x1^2)/2 + const written as residual curvature: H = diag(1, -1), g = (x0, -x1)
    def residual(x):
        return np.array([np.sqrt(2 + x[0] ** 2 - x[1] ** 2)])

    def system(x):
        r = residual(x)
        J = np.array([[x[0], -x[1]]]) / r[0]
        g = np.array([x[0], -x[1]])
        return r, (J**2).sum(axis=0), g, np.diag([1.0, -1.0])

    at_saddle = damped_newton(residual, system, np.zeros(2), max_iter=5)
    assert at_saddle.status == "failed" and at_saddle.reason == "gtol"  # first order holds, second order does not


def test_estimator_tries_every_start_and_keeps_the_best():
    _, data, y = _exact_data(n=200, seed=3)
    X = data.X
    far = np.random.default_rng(4).normal(size=TRUTH.size)
    est = LeastSquaresMoE("softmax-linear", "linear", 2, random_restarts=1, random_state=5).fit(X, y, init=[TRUTH + 0.05, far])
    assert [f.start for f in est.fits_] == [0, 1, 2]
    assert est.best_ is min(est.fits_, key=lambda f: f.loss) and est.loss_ == est.best_.loss < 1e-18
    np.testing.assert_allclose(est.predict(X), y, atol=1e-8)
    with pytest.raises(ModelError, match="no starting point"):
        LeastSquaresMoE("softmax-linear", "linear", 2, random_restarts=0).fit(X, y)
    with pytest.raises(ModelError, match="call fit"):
        LeastSquaresMoE("softmax-linear", "linear", 2).predict(X)


def test_em_status_is_converged_or_iteration_cap():
    setting = SETTINGS["gaussian-moe/exact"]
    X, y = simulate(setting, PairedSample.draw(7, 4000, 2, "uniform"))
    rows = setting.true_theta.reshape(2, -1)
    start = np.concatenate([rows, setting.true_variances[:, None]], axis=1).ravel()
    sizes = setting.fit_model.sizes
    capped = GaussianMoEEM(2, max_iter=2, tol=1e-12).fit(X, y, init=GaussianMoEParams.from_flat(start, 2, 2, sizes))
    assert (capped.status_, capped.n_iter_, capped.converged_) == ("iteration-cap", 2, False)
    em = GaussianMoEEM(2, max_iter=500, tol=1e-10).fit(X, y, init=GaussianMoEParams.from_flat(start, 2, 2, sizes))
    assert em.status_ == "converged" and em.converged_ and 2 < em.n_iter_ < 500
    assert em.log_likelihood_ >= capped.log_likelihood_ - 1e-12  # more EM iterations never lose likelihood
    np.testing.assert_allclose(em.params_.variances, setting.true_variances, rtol=0.25)
    with pytest.raises(ModelError, match="linear in their parameters"):
        GaussianMoEEM(2, gate="laplace").fit(X, y)


def test_variable_projection_solves_linear_experts_exactly_given_the_gate():
    model, data, y = _exact_data(n=2000, seed=6)
    y = y + 0.1 * np.random.default_rng(7).normal(size=len(y))
    start = model.pin(TRUTH + 0.3 * np.random.default_rng(8).normal(size=TRUTH.size))
    theta, systems = variable_projection(model, data, y, start, 5.0, 100)
    linear = model.linear_indices
    design = model.linear_design(data, theta)
    np.testing.assert_allclose(theta[linear], np.linalg.lstsq(design.T, y, rcond=None)[0], rtol=0, atol=1e-12)
    r, norms, g, _ = model.system(data, y, theta)
    free = model.free_mask
    cosine = _cosine(g[free], norms[free], float(r @ r))
    assert cosine <= ACCEPT_COS and systems < 30  # the reduced (first) stage stops at the acceptance cosine
    projected = fit_least_squares(model, data, y, start)
    plain = fit_least_squares(model, data, y, start, projection=False)
    assert projected.status == plain.status == "converged"
    np.testing.assert_allclose(projected.theta, plain.theta, rtol=0, atol=1e-6)  # the same minimum (both cos <= 1e-6)
    assert projected.loss == pytest.approx(plain.loss, rel=1e-12)


def test_only_experts_linear_in_their_parameters_are_projected():
    assert SoftmaxMoE.from_names("softmax-linear", "linear", 3, 2).linear_indices.tolist() == [3, 4, 5, 9, 10, 11,
                                                                                                15, 16, 17]
    assert SoftmaxMoE.from_names("softmax-linear", "ridge-tanh", 2, 2).linear_indices.size == 0


def test_a_crawl_without_progress_on_the_cosine_is_stopped_as_stalled():
    flat, falling = [1.0] * 11, [1.0 - 1e-3 * i for i in range(11)]
    assert not _stalled([1e-2] * 10, flat[:10], 10, 1e-6)  # the window is not full yet
    assert _stalled([1e-2] * 11, flat, 10, 1e-6)  # a flat loss with a cosine above accept_cos
    assert not _stalled([1e-2] * 11, falling, 10, 1e-6)  # a slow descent is not a stall
    assert not _stalled([1e-2] * 10 + [1e-7], flat, 10, 1e-6)  # the window reached accept_cos
    assert not _stalled([1e-2] * 11, flat, None, 1e-6)

    # r(x) = (x^3, 1): Newton's steps x -> (4/5) x lower ||r||^2 = 1 + x^6 by about x^6 while the cosine
    # |g| / (||J|| ||r||) is x^3: the loss goes flat (to round-off: 1 + x^6 = 1) long before the cosine can
    # reach a strict accept_cos = 1e-12 (ftol off). The rule says so (stalled) instead of stepping on until
    # the steps vanish (xtol, a bare "failed")
    def residual(x):
        return np.array([x[0] ** 3, 1.0])

    def system(x):
        r = residual(x)
        J = np.array([[3 * x[0] ** 2], [0.0]])
        return r, (J**2).sum(axis=0), J.T @ r, J.T @ J + r[0] * np.array([[6 * x[0]]])

    strict = {"max_iter": 60, "accept_cos": 1e-12, "gtol": 1e-14, "ftol": 0.0}
    stopped = damped_newton(residual, system, np.array([0.1]), stall_window=10, **strict)
    unruled = damped_newton(residual, system, np.array([0.1]), stall_window=None, **strict)
    assert (stopped.status, stopped.reason, stopped.iterations) == ("stalled", "stall", 18)
    assert (unruled.status, unruled.reason, unruled.iterations) == ("failed", "xtol", 19)
    assert stopped.cosine > strict["accept_cos"]
