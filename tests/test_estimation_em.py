"""EM for the softmax-gated Gaussian mixture of linear experts."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.estimation.model import SoftmaxMoE
from hmoe_theory.estimation.em import GaussianMoEEM, GaussianMoEParams, em_iteration, mean_log_likelihood, _Data, _log_softmax
from hmoe_theory.estimation.replicate import PairedSample, simulate
from hmoe_theory.estimation.setting import setting_from_mapping
from hmoe_theory.families import Mixture

TRUE = GaussianMoEParams(
    gate=np.array([[2.0, -1.0, 0.5], [-1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]),
    experts=np.array([[1.0, -0.5, 0.5], [-1.0, 1.0, -0.5], [0.5, 0.5, 1.5]]),
    variances=np.array([0.05, 0.1, 0.08]),
)
SETTING = setting_from_mapping({
    "name": "em-test", "inputs": ["x1", "x2"], "gate_family": "softmax-linear", "expert_family": "linear",
    "design": "uniform(-1, 1)", "k": 3, "estimator": "em",
    "truth": [
        {"weight": float(np.exp(g[2])), "beta_1": g[0], "beta_2": g[1], "a_1": e[0], "a_2": e[1], "alpha": e[2], "variance": v}
        for g, e, v in zip(TRUE.gate, TRUE.experts, TRUE.variances)
    ],
})


def sample_gaussian_moe(seed: int, n: int):
    """(X, Y) from the density setting built from TRUE (the replicate's own simulator)."""
    X, y = simulate(SETTING, PairedSample.draw(seed, n, 2, "uniform"))
    return X, y


def test_log_likelihood_matches_symbolic_density_mixture():
    X, y = sample_gaussian_moe(0, 8)
    mixture = Mixture.from_names("softmax-linear", "linear", 3, 2, mode="density")
    theta = TRUE.flat()
    assert [p.name for p in mixture.params][:7] == ["beta_1_1", "beta_1_2", "beta0_1", "a_1_1", "a_1_2", "alpha_1", "nu_1"]
    density = mixture.function.kernel(X[:, 0], X[:, 1], y, *theta)
    assert mean_log_likelihood(X, y, TRUE) == pytest.approx(np.log(density).mean(), rel=1e-12)
    np.testing.assert_allclose(GaussianMoEParams.from_flat(theta, 3, 2).flat(), theta)


def test_em_never_decreases_the_likelihood_and_recovers_the_truth():
    rng = np.random.default_rng(1)
    X, y = sample_gaussian_moe(1, 20000)
    start = GaussianMoEParams(TRUE.gate + 0.3 * rng.normal(size=(3, 3)), TRUE.experts + 0.3 * rng.normal(size=(3, 3)), 2 * TRUE.variances)
    data, params = _Data.build(SoftmaxMoE.from_names("softmax-linear", "linear", 3, 2), X, y), start.pinned()
    log_pi, values = _log_softmax(params.gate, data), []
    for _ in range(15):
        params, log_pi, value = em_iteration(data, params, log_pi, newton_steps=1, variance_floor=1e-8)
        values.append(value)
    assert np.all(np.diff(values) >= -1e-12)
    em = GaussianMoEEM(3).fit(X, y, init=start)
    assert em.converged_
    assert em.log_likelihood_ >= mean_log_likelihood(X, y, TRUE)  # the MLE beats the truth in-sample
    np.testing.assert_allclose(em.params_.experts, TRUE.experts, atol=0.03)
    np.testing.assert_allclose(em.params_.gate, TRUE.gate, atol=0.15)
    np.testing.assert_allclose(em.params_.variances, TRUE.variances, rtol=0.1)
    np.testing.assert_allclose(em.params_.gate[-1], 0.0)  # pinned component
    grid = np.random.default_rng(9).uniform(-1, 1, (500, 2))
    truth = GaussianMoEEM(3)
    truth.params_ = TRUE
    assert np.sqrt(np.mean((em.predict(grid) - truth.predict(grid)) ** 2)) < 0.03


def test_em_from_random_start_reaches_the_truth_likelihood():
    X, y = sample_gaussian_moe(2, 5000)
    em = GaussianMoEEM(3, random_state=0).fit(X, y)
    assert em.log_likelihood_ > mean_log_likelihood(X, y, TRUE) - 0.01


def test_em_input_errors():
    with pytest.raises(ModelError, match="n_components >= 2"):
        GaussianMoEEM(1).fit(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ModelError, match="shape"):
        GaussianMoEEM(2).fit(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ModelError, match="nu > 0"):
        GaussianMoEEM(3).fit(np.zeros((5, 2)), np.zeros(5), init=GaussianMoEParams(TRUE.gate, TRUE.experts, -TRUE.variances))
    with pytest.raises(ModelError, match="call fit"):
        GaussianMoEEM(2).predict(np.zeros((1, 2)))


def _scores(X, y, params):
    """Mean per-sample score of every parameter by central finite differences of the mean log-likelihood."""
    theta, out = params.flat(), []
    for a in range(theta.size):
        step = np.zeros_like(theta)
        step[a] = 1e-6
        plus, minus = (GaussianMoEParams.from_flat(theta + s, 3, 2) for s in (step, -step))
        out.append((mean_log_likelihood(X, y, plus) - mean_log_likelihood(X, y, minus)) / 2e-6)
    return np.array(out).reshape(3, -1)


def test_score_test_is_the_gradient_and_converged_fits_pass_it():
    from hmoe_theory.estimation.em import score_cosine

    X, y = sample_gaussian_moe(3, 4000)
    data = _Data.build(SoftmaxMoE.from_names("softmax-linear", "linear", 3, 2), X, y)
    gradient = _scores(X, y, TRUE)
    assert np.abs(gradient).max() > 1e-2  # the truth is not the in-sample MLE: the score is not zero there
    truth_cos = score_cosine(data, TRUE, _log_softmax(TRUE.gate, data))
    assert 0.1 / np.sqrt(4000) < truth_cos < 10 / np.sqrt(4000)  # ~ one sampling standard deviation
    em = GaussianMoEEM(3, max_iter=2000, tol=1e-8).fit(X, y, init=TRUE)
    assert em.status_ == "converged" and em.reason_ == "tol"
    assert em.score_cosine_ <= 0.1 / np.sqrt(4000)
    assert np.abs(_scores(X, y, em.params_)).max() < 1e-2 * np.abs(gradient).max()  # a stationary point


def test_blow_ups_are_diverged_with_a_reason_never_converged():
    X, y = sample_gaussian_moe(4, 2000)
    boxed = GaussianMoEEM(3, max_iter=200, tol=1e-8, bound=1.0).fit(X, y, init=TRUE)  # the truth has |gamma| = 2
    assert (boxed.status_, boxed.reason_, boxed.converged_) == ("diverged", "box", False)
    # a component sitting on two points with a tiny variance collapses onto them: the likelihood is unbounded
    collapsing = GaussianMoEParams(np.array([[0.0, 0.0, -8.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
                                   np.array([[0.0, 0.0, y[0]], *TRUE.experts[1:]]), np.array([1e-7, 0.1, 0.1]))
    collapsed = GaussianMoEEM(3, max_iter=200, tol=1e-8, variance_floor=1e-8).fit(X, y, init=collapsing)
    assert collapsed.status_ == "diverged" and collapsed.reason_ == "variance-floor"
    assert GaussianMoEEM(3, max_iter=3, tol=1e-8).fit(X, y, init=TRUE).status_ == "iteration-cap"


def test_the_gate_is_projected_on_the_box_and_held_coordinates_pass_the_kkt_test():
    X, y = sample_gaussian_moe(5, 4000)
    em = GaussianMoEEM(3, max_iter=2000, tol=1e-8, bound=1.9).fit(X, y, init=TRUE)  # the truth has gamma = 2.0
    assert em.status_ == "converged" and np.abs(em.params_.gate).max() == pytest.approx(1.9)
    free = GaussianMoEEM(3, max_iter=2000, tol=1e-8).fit(X, y, init=TRUE)
    assert free.log_likelihood_ > em.log_likelihood_  # the bound binds: the box MLE is below the free one
