"""The L-BFGS-B polish of least-squares fits that Newton left short of the KKT test (least_squares.polish) and its
use by the refit rule ``if-not-converged`` (replicate._polished, metric ``polished``)."""

from __future__ import annotations

import numpy as np
import pytest

from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.least_squares import fit_least_squares, polish
from hmoe_theory.estimation.quotient import quotient_acceptance, quotient_status

TWIN = "softmax-linear/linear/over/merged"
#: replicate 4 of the shipped decisive design (hmoe_theory/data/rates_v3/fits.csv) at n = 1,000: its warm fit and its
#: fresh rescue fit (3x the budget) both stopped at the iteration cap there, before the polish existed
SEED_REP4 = 2494635221133837528


def _twin_at_cap(max_iter: int):
    setting = replicate.get_setting(TWIN)
    X, y = replicate._Data(setting, SEED_REP4, 1000).at(setting, 1000)
    rng = np.random.default_rng(replicate.setting_seed(SEED_REP4, TWIN))
    start = replicate.near_truth_start(setting, rng, setting.protocol.start_perturbation.at(1000))
    accept = quotient_acceptance(setting, replicate.BOUND)
    fit = fit_least_squares(setting.fit_model, X, y, start, bound=replicate.BOUND, max_iter=max_iter, accept=accept)
    return setting, X, y, fit, accept


def test_polish_carries_a_capped_twin_fit_to_a_verified_minimum_and_never_raises_the_loss():
    setting, X, y, capped, accept = _twin_at_cap(replicate.MAX_ITER)
    assert capped.status == "iteration-cap"
    done = polish(setting.fit_model, X, y, capped, bound=replicate.BOUND, max_evals=20_000, accept=accept)
    assert (done.status, done.reason) == ("converged", "polish")
    assert quotient_status(setting, X, y, done, replicate.BOUND) == "converged"  # the same test, after the fact
    assert done.loss < capped.loss and done.iterations > capped.iterations
    assert np.abs(done.theta).max() <= replicate.BOUND
    assert done.loss == pytest.approx(0.5 * np.mean((setting.fit_model.predict(X, done.theta) - y) ** 2), rel=1e-12)
    short = polish(setting.fit_model, X, y, capped, bound=replicate.BOUND, max_evals=5, accept=accept)
    assert short.status == "iteration-cap" and short.loss <= capped.loss  # a short budget: not verified, kept status


def test_converged_and_diverged_fits_are_returned_as_they_are():
    setting, X, y, capped, accept = _twin_at_cap(replicate.MAX_ITER)
    for status in ("converged", "diverged"):
        fit = capped.__class__(capped.theta, status, "gtol", 3, capped.loss, capped.grad_norm, 0)
        assert polish(setting.fit_model, X, y, fit, bound=replicate.BOUND, accept=accept) is fit


def test_the_budget_is_a_fixed_amount_of_work_per_fit():
    assert replicate.polish_evals(1_000) == replicate.POLISH_MAX_EVALS == 20_000
    assert replicate.polish_evals(100_000) == 1_000
    assert replicate.polish_evals(13_895) == 100_000_000 // 13_895


def test_the_refit_rule_polishes_a_fit_that_neither_the_warm_nor_the_fresh_start_converged():
    row = replicate.run_path(TWIN, (1000,), 4, SEED_REP4)[0]
    assert row["status"] == "converged"
    assert row["metrics"]["refit_tried"] == 1.0 and row["metrics"]["polished"] == 1.0
    assert row["metrics"]["iterations"] > replicate.MAX_ITER  # the capped fit's systems plus the polish's gradients


def test_negative_controls_are_never_polished():
    row = replicate.run_path("softmax-linear/linear/over", (1000,), 0, SEED_REP4)[0]
    assert "polished" not in row["metrics"]
