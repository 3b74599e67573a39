"""The numpy port of the research group's EM (benchmarks/crpe_sgame_their_em.py: meteoritsSim emNMoE + IRLS, as
CRPE-SGaME @53c4234 calls it) on a small CRPE-SGaME model-1 sample: it reaches our EM's optimum, its IRLS solves
the gate M-step, and its start is the group's (standard deviations passed as variances)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.em import GaussianMoEParams, mean_log_likelihood
from hmoe_theory.estimation.setting import load_setting_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def port():
    name = "crpe_sgame_their_em"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


@pytest.fixture(scope="module")
def sample(port):
    setting = load_setting_file(port.SPEC)
    n, seed = 200, 1920288277542950871  # replicate 0 of the stored exact_linspace run
    X, y = replicate._Data(setting, seed, n).at(setting.at(n), n)
    return setting, X, y, seed


def test_their_em_reaches_our_optimum_from_their_start(port, sample):
    setting, X, y, seed = sample
    n = len(y)
    start = port.their_start(n, np.random.default_rng([seed, n, 7]))
    out = port.their_em(X[:, 0], y, *start)
    theirs = port.to_flat(out["alpha"], out["beta"], out["sigma2"])
    ours = replicate._fit(setting.at(n), X, y, port.to_flat(*start))
    assert out["converged"] and out["iterations"] <= 10  # their relative-change rule, not the 2000 cap
    assert max(out["irls_steps"]) <= 10  # the 300-step IRLS cap is never near
    ll = lambda theta: mean_log_likelihood(X, y, GaussianMoEParams.from_flat(theta, 2, 1))  # noqa: E731
    assert ours.status == "converged"
    assert abs(ll(theirs) - ll(ours.theta)) * n < 1e-6  # the same maximum of the total log-likelihood
    spec = replicate.loss_spec(setting)
    d2_theirs = replicate.losses(setting.at(n), theirs, spec)["voronoi"]
    d2_ours = replicate.losses(setting.at(n), ours.theta, spec)["voronoi"]
    assert d2_theirs == pytest.approx(d2_ours, rel=1e-3)
    # the log-likelihood their EM records is the total at the parameters of its last E-step
    assert out["loglik"][-1] / n == pytest.approx(ll(theirs), abs=1e-6)


def test_irls_maximises_the_gate_objective(port):
    rng = np.random.default_rng(3)
    n = 500
    x = np.linspace(0, 1, n)
    Xw = np.stack([np.ones(n), x], axis=1)
    p1 = 1 / (1 + np.exp(-(-2 + 5 * x)))
    Tau = np.clip(p1 + rng.normal(0, 0.1, n), 0.01, 0.99)
    Tau = np.stack([Tau, 1 - Tau], axis=1)
    W0 = np.zeros((2, 1))
    W, piik, steps = port.irls(Xw, Tau, W0)
    gradient = Xw.T @ (Tau[:, 0] - piik[:, 0])
    assert np.max(np.abs(gradient)) < 1e-3  # the M-step's stationarity (|Q| ~ 300 here)
    assert port.multinomial_logit(W, Xw, Tau)[0] > port.multinomial_logit(W0, Xw, Tau)[0]
    assert 2 <= steps <= 10
    assert W[1, 0] == pytest.approx(5, abs=1.0) and W[0, 0] == pytest.approx(-2, abs=0.5)


def test_their_start_passes_standard_deviations_as_variances(port):
    n = 1000
    alpha, beta, sigma2 = port.their_start(n, np.random.default_rng(0))
    kick = sigma2[0] - np.array([0.3, 0.4])
    assert np.all(kick >= 0) and np.all(kick < 5 * 0.005 * n ** -0.25)  # 0.3, 0.4 plus |N(0, 0.005 n^-1/4)|
    # one draw per column: both gate coefficients move by the same amount, as do both of each expert's
    assert alpha[0, 0] + 8 == pytest.approx(alpha[1, 0] - 25, abs=1e-12)
    assert beta[0, 0] - 15 == pytest.approx(beta[1, 0] + 20, abs=1e-12)
