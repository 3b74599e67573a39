"""Rate fitting: synthetic slopes, power law vs 1/log n, and a real least-squares fit at the n^-1/2 rate."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.estimation.least_squares import LeastSquaresMoE
from hmoe_theory.estimation.model import SoftmaxMoE
from hmoe_theory.estimation.rates import fit_rate, power_law_vs_log_test
from hmoe_theory.estimation.sampling import sample_regression

SIZES = np.repeat(250 * 2 ** np.arange(8), 20)


def test_synthetic_power_law_slope_is_inside_the_bootstrap_ci():
    rng = np.random.default_rng(0)
    losses = 3.0 * SIZES**-0.5 * np.exp(rng.normal(0, 0.3, SIZES.size))
    rate = fit_rate(SIZES, losses, n_boot=500, seed=1)
    assert rate.contains(-0.5) and rate.ci_high - rate.ci_low < 0.1
    assert rate.slope == pytest.approx(-0.5, abs=0.05)
    assert power_law_vs_log_test(SIZES, losses).preferred == "power"


def test_one_over_log_n_decay_prefers_the_log_model():
    rng = np.random.default_rng(2)
    losses = 2.0 / np.log(SIZES) * np.exp(rng.normal(0, 0.05, SIZES.size))
    test = power_law_vs_log_test(SIZES, losses)
    assert test.preferred == "log" and test.z < 0 and test.p_value < 0.05
    assert test.log_exponent == pytest.approx(-1.0, abs=0.2)
    assert not fit_rate(SIZES, losses, n_boot=200).contains(-0.5)


def test_rate_input_errors():
    with pytest.raises(ModelError, match="3 distinct sample sizes"):
        fit_rate([10, 10, 20], [1.0, 2.0, 3.0])
    with pytest.raises(ModelError, match="losses > 0"):
        fit_rate([10, 20, 40], [1.0, 0.0, 3.0])
    with pytest.raises(ModelError, match="pair up"):
        power_law_vs_log_test([10, 20, 40], [1.0, 2.0])
    # non-finite losses are dropped with their size
    assert fit_rate([10, 20, 40, 80], [1.0, 0.5, np.nan, 0.25], n_boot=50).n_points == 3


def test_least_squares_l2_error_decays_like_n_to_the_minus_half():
    truth = SoftmaxMoE.from_names("softmax-linear", "linear", 2, 2)
    theta = np.array([2.0, -1.0, 0.5, 2.0, -1.0, 0.5, 0.0, 0.0, 0.0, -1.0, 2.0, -0.5])
    grid = np.random.default_rng(99).uniform(-1, 1, (2000, 2))
    ns, errors = [], []
    for n in (200, 400, 800, 1600, 3200):
        for rep in range(4):
            rng = np.random.default_rng(100 * rep + n)
            X, y = sample_regression(rng, truth, theta, n, 0.01)
            fit = LeastSquaresMoE("softmax-linear", "linear", 2, random_restarts=0).fit(X, y, init=[theta + 0.1])
            ns.append(n)
            errors.append(np.sqrt(np.mean((fit.predict(grid) - truth.predict(grid, theta)) ** 2)))
    rate = fit_rate(ns, errors, n_boot=300)
    assert rate.slope == pytest.approx(-0.5, abs=0.12), rate
