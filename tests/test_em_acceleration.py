"""SQUAREM-accelerated EM (estimation/em.py): same optimum as plain EM in fewer EM-map evaluations, monotone,
deterministic, blow-ups still diverged."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.em import GaussianMoEEM, GaussianMoEParams

OVER = replicate.get_setting("gaussian-moe/over")  # 3 components fitted to a 2-component truth


def over_specified(n: int, start_seed: int) -> tuple[np.ndarray, np.ndarray, GaussianMoEParams]:
    """A sample of the over-specified catalogue setting and a near-truth start (split atom, N(0, 0.1^2))."""
    X, y = replicate._Data(OVER, 5, n).at(OVER, n)
    start = replicate.near_truth_start(OVER, np.random.default_rng(start_seed), 0.1)
    return X, y, GaussianMoEParams.from_flat(start, OVER.k, OVER.d, OVER.fit_model.sizes)


def fit(X, y, init, acceleration: str, **options) -> GaussianMoEEM:
    options = {"max_iter": 2000, "tol": 1e-8, **options}
    return GaussianMoEEM(OVER.k, OVER.gate, OVER.expert, acceleration=acceleration, **options).fit(X, y, init=init)


@pytest.mark.parametrize("start_seed", [0, 2])
def test_squarem_reaches_the_plain_optimum_with_fewer_em_maps(start_seed):
    X, y, init = over_specified(1000, start_seed)
    plain, fast = fit(X, y, init, "none"), fit(X, y, init, "squarem")
    assert plain.status_ == fast.status_ == "converged"
    # over-specified: the sub-linear EM phase; measured 731-791 maps plain, 116-139 accelerated
    assert fast.n_iter_ < plain.n_iter_ / 3
    # the same optimum: mean log-likelihoods within 1e-5 (the statistical resolution is 1/n = 1e-3)
    assert fast.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-5)
    assert fast.score_cosine_ <= 0.1 / np.sqrt(1000)


def test_accelerated_log_likelihood_never_decreases():
    """The point returned after m EM-map evaluations, m = 1..60: its log-likelihood is non-decreasing in m (each
    accepted extrapolation beats the plain two-step point, which beats the cycle's start)."""
    X, y, init = over_specified(500, 0)
    values = [fit(X, y, init, "squarem", max_iter=m).log_likelihood_ for m in range(1, 61)]
    assert np.all(np.diff(values) >= -1e-13)
    plain = [fit(X, y, init, "none", max_iter=m).log_likelihood_ for m in (3, 30, 60)]
    assert values[59] > plain[2] and values[29] > plain[1]  # the extrapolations are taken: ahead of plain EM


def test_accelerated_fit_is_deterministic():
    X, y, init = over_specified(800, 0)
    first, second = fit(X, y, init, "squarem", max_iter=300), fit(X, y, init, "squarem", max_iter=300)
    assert first.n_iter_ == second.n_iter_ and first.status_ == second.status_
    assert np.array_equal(first.theta_, second.theta_) and first.log_likelihood_ == second.log_likelihood_


def test_accelerated_blow_ups_are_diverged():
    X, y, init = over_specified(1000, 0)
    boxed = fit(X, y, init, "squarem", bound=1.0)  # the truth has |eta| = 2: the first EM map leaves the box
    assert (boxed.status_, boxed.reason_, boxed.converged_) == ("diverged", "box", False)
    # twelve points, three components from random starts: one component collapses onto a point (the likelihood is
    # unbounded there) after 7-13 EM maps, i.e. after at least one SQUAREM cycle
    X, y, _ = over_specified(12, 0)
    for random_state in range(4):
        collapsed = GaussianMoEEM(OVER.k, OVER.gate, OVER.expert, max_iter=2000, tol=1e-8, acceleration="squarem",
                                  random_state=random_state).fit(X, y)
        assert (collapsed.status_, collapsed.reason_) == ("diverged", "variance-floor") and collapsed.n_iter_ > 3
        assert collapsed.params_.variances.min() <= collapsed.variance_floor
    with pytest.raises(ModelError, match="unknown acceleration"):
        fit(X, y, init, "anderson")
